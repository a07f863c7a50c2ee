#!/bin/sh
# test_status.sh - nettally status reflects an agent connecting, sending
# and leaving, each within a second, and its numbers match the store's.
#
# The agent replays a pcap from a FIFO that this script holds open, so it
# stays connected after the last packet until the FIFO is closed.  Every
# check polls (0.05 s steps) with a deadline of one second after the event
# it waits for; nothing sleeps and then asserts.
. "$(dirname "$0")/lib.sh"

NT=$NT_BIN/nettally
start_store || { not_ok "store starts"; done_testing; exit 1; }

# status_json FILE: one answer from the store as JSON into FILE.
status_json() {
	"$NT" status --socket "$SOCK" --format json > "$1" 2> "$WORK/st.err"
}
# jq-free field access with python3: status_get FILE EXPR
status_get() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
a = {x["agent"]: x for x in d["agents"]}
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}
# within_1s COND: polls COND (a shell expression) for up to one second.
within_1s() {
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -ge 20 ] && return 1
		sleep 0.05
	done
}

status_json "$WORK/s0.json"
check "status with no agent: exit 0, valid JSON, no agents" \
    test "$(status_get "$WORK/s0.json" 'len(d["agents"])')" = 0
"$NT" status --socket "$SOCK" > "$WORK/s0.txt" 2>&1
check "status table: the store line and the agent header" \
    grep -q '^store: up .* 0 agents, database .* 0 batches committed' \
    "$WORK/s0.txt"

"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/exp" --packets 20000 --seed 7 \
    > /dev/null || { not_ok "generate a capture"; done_testing; exit 1; }
nets=""
while read -r c; do nets="$nets -n $c"; done < "$WORK/exp/cidrs.txt"
mkfifo "$WORK/fifo"
# shellcheck disable=SC2086
agent -r - $nets --name status-a --flush 100 < "$WORK/fifo" \
    2> "$WORK/agent.err" &
apid=$!
# The feeder writes the capture in 16 KiB pieces, 20 a second, so the
# agent (which checks its flush clock as packets come) ships batch after
# batch; then it holds the FIFO open until $WORK/leave exists.
nchunks=$(( ($(stat -c %s "$WORK/in.pcap") + 16383) / 16384 ))
(
	i=0
	while [ $i -lt "$nchunks" ]; do
		dd if="$WORK/in.pcap" bs=16384 skip=$i count=1 2>/dev/null
		i=$((i + 1))
		sleep 0.05
	done
	while [ ! -e "$WORK/leave" ]; do sleep 0.05; done
) > "$WORK/fifo" &
fpid=$!

# Connecting and sending: the agent is listed with batches and records.
seen() {
	status_json "$WORK/s1.json" &&
	    [ "$(status_get "$WORK/s1.json" \
	    'a["status-a"]["batches"] > 0 and a["status-a"]["records"] > 0')" = True ]
}
check "status shows the agent and its first batches within a second" \
    within_1s seen
check "last_batch is set, its age at most 1 s, drops are 0" test \
    "$(status_get "$WORK/s1.json" 'a["status-a"]["last_batch_age"] <= 1 and a["status-a"]["kernel_drops"] == 0 and a["status-a"]["last_batch_epoch"] >= a["status-a"]["connected_epoch"]')" = True

# Leaving: the feeder closes the FIFO once it has written everything;
# the agent flushes what is left, says goodbye and exits.
: > "$WORK/leave"
wait "$fpid"
gone() {
	status_json "$WORK/s2.json" &&
	    [ "$(status_get "$WORK/s2.json" '"status-a" in a')" = False ]
}
check "status drops the agent within a second of its leaving" within_1s gone
wait "$apid"
check "the agent exits 0" test $? -eq 0

# The store's counters against the database: committed batches, and the
# size of the database files when nothing is being written.
status_json "$WORK/s3.json"
nb=$(sql "SELECT count(*) FROM batch")

check "batches committed ($nb) == rows of the batch table" test \
    "$(status_get "$WORK/s3.json" 'd["batches"]')" = "$nb"
size=$(( $(stat -c %s "$DB") + $( [ -f "$DB-wal" ] && stat -c %s "$DB-wal" || echo 0) ))
check "db_bytes ($size) == database + WAL size" test \
    "$(status_get "$WORK/s3.json" 'd["db_bytes"]')" = "$size"
check "uptime and times are consistent" test \
    "$(status_get "$WORK/s3.json" 'd["uptime"] == d["time_epoch"] - d["start_epoch"] and d["uptime"] >= 0 and d["time"].endswith("Z")')" = True

# --watch: two answers with --count 2 and a 1 s interval, csv.
"$NT" status --socket "$SOCK" --watch --interval 1s --count 2 \
    --format csv > "$WORK/w.csv" 2>&1
check "--watch --count 2 prints two answers" \
    test "$(grep -c '^agent,connected,' "$WORK/w.csv")" = 2

# Failures: one line, what to do.
"$NT" status --socket "$WORK/nosock" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "no store: exit 1, one line naming the socket and what to do" \
    test $rc -eq 1 -a ! -s "$WORK/out" -a "$(wc -l < "$WORK/err")" -eq 1
check "  ... that says to start the store or give --socket" \
    grep -q "nosock: cannot connect: .*; is nettally-stored running? give its socket with --socket PATH" "$WORK/err"
"$NT" status --socket "$SOCK" --interval 0s > "$WORK/out" 2> "$WORK/err"
check "bad --interval: exit 2" test $? -eq 2
check "store stops cleanly" stop_store
done_testing
