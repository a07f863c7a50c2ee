#!/bin/sh
# SIGHUP stops the store as SIGTERM does (nettally-stored(8), SIGNALS).
#
# The store had no SIGHUP handler: a hangup (its terminal closed, or a
# kill -HUP meant as a reload, which it has none of) killed it mid-ingest
# with status 129, leaving its socket file and the database's -wal and
# -shm behind.  Here a store is sent SIGHUP while an agent replays a file
# in many small batches: it must exit 0, remove its socket and leave no
# -wal; a store started again on that database must take the agent's
# resends, and every view must then equal the generator's independent
# count: a batch the stopped store acknowledged but lost would be missing
# (the agent forgets a batch once acknowledged), one counted twice would
# show too.  A store started with SIGHUP ignored (nohup) keeps it so.
. "$(dirname "$0")/lib.sh"

NAME=hup
dir=$WORK/gen
mkdir -p "$dir"
if ! "$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 50000 \
    --mix --seed 64 --local-hosts 200 --remote-hosts 2000 --flows 5000 \
    --size 64 --duration 300 >/dev/null; then
	not_ok "generator ran"
	done_testing
	exit 1
fi

frames=$(tail -n 1 "$dir/interface.csv" | cut -d, -f1)

committed() {
	sql "SELECT count(*) FROM batch JOIN agent ON agent.id = batch.agent_id
	    WHERE agent.name = '$NAME'" 2>/dev/null || echo 0
}

start_store || { not_ok "store starts"; done_testing; exit 1; }
# Small tables: the replay flushes whenever they are nearly full, so it
# ships many batches whatever the machine's speed.
# Through a FIFO whose writer then holds it open: the agent runs on
# after the last frame, waiting for more, until the writer goes.
mkfifo "$WORK/in.fifo"
(cat "$dir/in.pcap"; exec sleep 120) >"$WORK/in.fifo" &
FEED_PID=$!
# shellcheck disable=SC2046
agent -r "$WORK/in.fifo" $(local_nets "$dir") --name "$NAME" \
    --resolution 60 --flush 10 --max-hosts 512 --max-ports 1024 \
    --max-peers 1024 2>"$WORK/agent.err" &
AGENT_PID=$!

wait_for "[ \$(committed) -ge 5 ]" 100 ||
    not_ok "the agent's first batches are committed"
before=$(committed)
kill -HUP "$STORE_PID"
wait "$STORE_PID"
rc=$?
STORE_PID=
check "SIGHUP mid-ingest ($before batches committed): the store exits 0 ($rc)" \
    test "$rc" = 0
check "  ... by its own shutdown, which logs the signal" \
    grep -q 'signal 1: shutting down' "$WORK/store.log"
check "  ... removes its socket" test ! -e "$SOCK"
check "  ... and leaves no -wal" test ! -e "$DB-wal"
stopped=$(sed -n 's/.*store: stopped: \([0-9]*\) batches committed.*/\1/p' \
    "$WORK/store.log")
check "  ... the batches it says it committed ($stopped) are in the database" \
    test "$stopped" = "$(committed)"
check "  ... still running, the agent waits for a store" \
    kill -0 "$AGENT_PID"

check "the next store starts on that database" start_store "$DB"
wait_for "[ \"\$(sql \"SELECT coalesce(sum(frames), 0) FROM interface_traffic
    WHERE agent = '$NAME'\")\" = $frames ]" 100
kill -TERM "$FEED_PID"
wait "$FEED_PID" 2>/dev/null
FEED_PID=
reap_agent
check "the agent delivers the rest and exits 0 ($rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 5 "$WORK/agent.err" | sed 's/^/# /'
views_equal "$NAME" "$dir"
batches_once "$NAME"
kill -HUP "$STORE_PID"
wait "$STORE_PID"
rc=$?
STORE_PID=
check "the second store stops on SIGHUP too, exit 0 ($rc)" test "$rc" = 0

# --- nohup: an ignored SIGHUP stays ignored -----------------------------
: >"$WORK/nohup.log"
(trap '' HUP; exec "$NT_BIN/nettally-stored" -s "$SOCK" -d "$DB" \
    --allow-root 2>>"$WORK/nohup.log") &
STORE_PID=$!
wait_for "grep -q 'store: listening on' '$WORK/nohup.log'" 100 ||
    not_ok "a store started with SIGHUP ignored listens"
kill -HUP "$STORE_PID"
sleep 0.3
check "started with SIGHUP ignored (nohup), the store ignores it" \
    kill -0 "$STORE_PID"
check "  ... and stops on SIGTERM, exit 0" stop_store
done_testing
