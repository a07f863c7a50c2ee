#!/bin/sh
# test_status.sh - nettally status reflects an agent connecting, sending
# and leaving, each within a second, and its numbers match the store's.
#
# The agent replays a pcap from a FIFO that this script holds open, so it
# stays connected after the last packet until the FIFO is closed.  Every
# check polls (0.05 s steps) with a deadline of one second after the event
# it waits for; nothing sleeps and then asserts.
. "$(dirname "$0")/lib.sh"

# The client asking may be the optimised build: its start-up time is not
# what is measured.  The store is the one under test.
NT=$NT_BIN/nettally
[ -x "${NT_REL:-}/nettally" ] && NT=$NT_REL/nettally
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
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# within_1s COND: polls COND (a shell expression) until one second of
# wall-clock time has passed since $t0 (milliseconds, set by the caller at
# the event); true as soon as COND is.
within_1s() {
	while ! eval "$1"; do
		[ $(( $(now_ms) - t0 )) -ge 1000 ] && return 1
		sleep 0.02
	done
	echo "# seen after $(( $(now_ms) - t0 )) ms"
}

status_json "$WORK/s0.json"
check "status with no agent: exit 0, valid JSON, no agents" \
    test "$(status_get "$WORK/s0.json" 'len(d["agents"])')" = 0
vers=$("$NT_BIN/nettally-stored" --version | sed -n \
    's/.*protocol \([0-9]*\).*schema \([0-9]*\).*/\1 \2/p')
check "status JSON names the store's protocol and schema versions ($vers)" \
    test -n "$vers" -a "$(status_get "$WORK/s0.json" \
    'str(d["protocol"]) + " " + str(d["schema"])')" = "$vers"
"$NT" status --socket "$SOCK" > "$WORK/s0.txt" 2>&1
check "status table: the store line with versions" \
    grep -q "^store: up .*, protocol ${vers% *}, schema ${vers#* }, 0 agents" \
    "$WORK/s0.txt"
check "status table: the store line and the agent header" \
    grep -q '^store: up .* 0 agents, database .* 0 batches committed' \
    "$WORK/s0.txt"

"$NT_GEN" -o "$WORK/in.pcap" -e "$WORK/exp" --packets 60000 --size 128 --seed 7 \
    > /dev/null || { not_ok "generate a capture"; done_testing; exit 1; }
nets=$(local_nets "$WORK/exp")
mkfifo "$WORK/fifo"
# shellcheck disable=SC2086
agent -r - $nets --name status-a --flush 100 < "$WORK/fifo" \
    2> "$WORK/agent.err" &
apid=$!
# The feeder writes the capture's header, then whole records (144 bytes:
# 16 of record header, 128 of frame) 450 at a time, 50 times a second, so
# the agent, which looks at its flush clock after every 4096 packets of a
# file, ships batch after batch; it stops early once $WORK/leave exists,
# then holds the FIFO open until $WORK/close does.
head -c 24 "$WORK/in.pcap" > "$WORK/hdr"
tail -c +25 "$WORK/in.pcap" | split -b 64800 - "$WORK/chunk."
(
	cat "$WORK/hdr"
	for f in "$WORK"/chunk.*; do
		[ -e "$WORK/leave" ] && break
		cat "$f"
		sleep 0.02
	done
	while [ ! -e "$WORK/close" ]; do sleep 0.02; done
) > "$WORK/fifo" &
fpid=$!

# Connecting: from the moment the store has the agent's HELLO (it logs
# "agent status-a (pid ...)" as it sends WELCOME), status lists it within
# a second.
wait_for 'grep -q "agent status-a (pid" "$WORK/store.log"' 200
t0=$(now_ms)
listed() {
	status_json "$WORK/s1.json" &&
	    [ "$(status_get "$WORK/s1.json" '"status-a" in a')" = True ]
}
check "status lists the agent within a second of its start" within_1s listed
# Sending: the agent ships a batch about every 0.1 s while the feeder
# writes; the count of batches the store has seen grows within a second.
batches() { status_get "$1" 'a["status-a"]["batches"]'; }
b1=$(batches "$WORK/s1.json")
t0=$(now_ms)
more() {
	status_json "$WORK/s2.json" &&
	    [ "$(batches "$WORK/s2.json")" -gt "${b1:-0}" ] 2>/dev/null
}
check "status shows new batches within a second" within_1s more
check "last_batch set, its age at most 1 s, records > 0, no drops" test \
    "$(status_get "$WORK/s2.json" 'a["status-a"]["last_batch_age"] <= 1 and a["status-a"]["records"] > 0 and a["status-a"]["kernel_drops"] == 0 and a["status-a"]["last_batch_epoch"] >= a["status-a"]["connected_epoch"]')" = True

# Still connected while nothing comes: the agent stays listed.
: > "$WORK/leave"
sleep 0.3
status_json "$WORK/s3.json"
check "an idle agent stays listed" test \
    "$(status_get "$WORK/s3.json" '"status-a" in a')" = True
# Leaving: the FIFO closes; the agent flushes what is left, waits for the
# store's acknowledgement and exits; from its exit, the store drops it
# from the list within a second.
: > "$WORK/close"
wait "$fpid"
wait "$apid"
arc=$?
t0=$(now_ms)
gone() {
	status_json "$WORK/s4.json" &&
	    [ "$(status_get "$WORK/s4.json" '"status-a" in a')" = False ]
}
check "status drops the agent within a second of its exit" within_1s gone
check "the agent exits 0" test $arc -eq 0

# The store's counters against the database: committed batches, and the
# size of the database files when nothing is being written.
status_json "$WORK/s5.json"
nb=$(sql "SELECT count(*) FROM batch")

check "batches committed ($nb) == rows of the batch table" test \
    "$(status_get "$WORK/s5.json" 'd["batches"]')" = "$nb"
# The store's writer may still be rolling up in the background: take the
# size before and after the question, and retry until they agree.
walsize() { [ -f "$DB-wal" ] && stat -c %s "$DB-wal" || echo 0; }
dbsize() { echo "$(( $(stat -c %s "$DB") + $(walsize) )) $(walsize)"; }
same_size() {
	before=$(dbsize)
	status_json "$WORK/s4.json"
	after=$(dbsize)
	got=$(status_get "$WORK/s4.json" 'str(d["db_bytes"]) + " " + str(d["wal_bytes"])')
	[ "$before" = "$after" ] && [ "$got" = "$before" ]
}
check "db_bytes == database + WAL size, wal_bytes == WAL size" \
    wait_for same_size 20
echo "# db_bytes wal_bytes $got, files $before .. $after"
# The table shows the file and its WAL apart, as the README says.
"$NT" status --socket "$SOCK" > "$WORK/s6.txt" 2>&1
check "status table: the database and its WAL apart" grep -q \
    '^store: up .*, database [0-9.]* [KMGT]*i*B, WAL [0-9.]* [KMGT]*i*B, queue ' \
    "$WORK/s6.txt"
check "uptime and times are consistent" test \
    "$(status_get "$WORK/s5.json" 'd["uptime"] == d["time_epoch"] - d["start_epoch"] and d["uptime"] >= 0 and d["time"].endswith("Z")')" = True

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

# A user the store refuses (uid 65534 through the 0666 socket; root is
# always allowed) gets the store's reason, not "Broken pipe": the store
# answers ERROR and closes at once, so status's send may fail after the
# reason arrived.  strace holds the send back 0.3 s so that it always
# does (without strace, 20 tries make it likely); LeakSanitizer cannot
# run under ptrace.
REFUSED="$SOCK: the store refused: peer pid [0-9]* uid 65534 gid 65534 is not allowed: .*--allow-uid"
# as_refused: one status as uid 65534; 0 when it printed the reason.
as_refused() {
	if [ -n "$STRACE" ]; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		    strace -f -qq -o /dev/null -e trace=sendto \
		    -e inject=sendto:delay_enter=300000 \
		    setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$NT" status --socket "$SOCK" > "$WORK/out" 2> "$WORK/err"
	else
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$NT" status --socket "$SOCK" > "$WORK/out" 2> "$WORK/err"
	fi
	rc=$?
	[ $rc -eq 1 ] && [ ! -s "$WORK/out" ] &&
	    [ "$(wc -l < "$WORK/err")" -eq 1 ] &&
	    grep -q "^nettally: status: $REFUSED" "$WORK/err"
}
if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	cannot_run "status as a refused user" "needs root and setpriv"
else
	STRACE=
	strace -qq -o /dev/null true 2> /dev/null && STRACE=1
	tries=$([ -n "$STRACE" ] && echo 3 || echo 20)
	refused_ok=1
	for i in $(seq "$tries"); do
		as_refused && continue
		refused_ok=0
		echo "# exit $rc; stderr: $(cat "$WORK/err")"
		break
	done
	check "status as a refused user: exit 1, the store's reason (${STRACE:+strace, }$tries tries)" \
	    test $refused_ok = 1
	# A socket the user may not open: the mode, not a store away.
	chmod 0660 "$SOCK"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$NT" status --socket "$SOCK" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	chmod 0666 "$SOCK"
	check "status on a socket it may not open: exit 1 ($rc)" test $rc -eq 1
	check "  ... naming the socket's group, not a store away" \
	    grep -q "cannot connect: Permission denied; only the socket's owner and group may (ls -l $SOCK): join its group, or run as root" \
	    "$WORK/err"
fi
check "store stops cleanly" stop_store
done_testing
