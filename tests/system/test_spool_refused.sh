#!/bin/sh
# A batch the database refuses is dropped by the agent and its drop
# counted by the next batch; the dropped batch stays in the spool (it was
# never acknowledged).  Killed (SIGKILL) after that next batch was
# spooled but before the store acknowledged it, the agent must not count
# the drop a second time when the next start replays the spool: the
# refused batch is offered again and refused again, and the batch that
# counts it is delivered too.  agent_health.dropped then adds up to the
# batches the database lost, exactly (it said one more before the drop
# notes of spool version 3: the first drop counted twice).
#
# The moment is made, not hoped for.  A trigger refuses every host row
# of part A's buckets for agent "refused".  The agent reads a pipe (the
# writer is `cat`, then a wait for a flag file, then part B's packets,
# then `exec sleep`), with small tables, so part A is many batches, and
# starts with the store down: all of them wait in the spool.  The store
# comes up, A's first batch is refused twice and dropped, and the store
# is killed at once, with A's other batches still queued: nothing of the
# epoch was committed after the refused batch, and the file is not cut
# back.  Then part B goes in: its batch, encoded after the drop, counts
# it, and goes to the spool only (no store).  The agent is killed.  The
# store comes back, the trigger still there, and the agent starts again
# on part C: it replays the killed run's file (A's batches refused twice
# each, B's stored), then sends C.
#
# Expected: agent_health.dropped sums to the number of distinct batches
# the store refused (its log names each), B's and C's traffic equals the
# generator's, none of A's is stored, and the spool is empty afterwards.
. "$(dirname "$0")/lib.sh"

NAME=refused
dir=$WORK/gen
mkdir -p "$dir/a" "$dir/b" "$dir/c"
# A: many hosts, so 64-row tables give many batches; B and C: one or two.
"$NT_GEN" -o "$dir/a.pcap" -e "$dir/a" --packets 3000 --seed 61 \
    --local-hosts 200 --remote-hosts 2000 --flows 2000 \
    --start 1700000000 --duration 50 >/dev/null &&
"$NT_GEN" -o "$dir/b.pcap" -e "$dir/b" --packets 300 --seed 62 \
    --local-hosts 20 --remote-hosts 40 --flows 40 \
    --start 1700007200 --duration 50 >/dev/null &&
"$NT_GEN" -o "$dir/c.pcap" -e "$dir/c" --packets 300 --seed 63 \
    --local-hosts 20 --remote-hosts 40 --flows 40 \
    --start 1700014400 --duration 50 >/dev/null ||
    { not_ok "generator ran"; done_testing; exit 1; }
nets=$(local_nets "$dir/a")

start_store && stop_store || { not_ok "store creates its database"; done_testing; exit 1; }
sql "CREATE TRIGGER poison_a BEFORE INSERT ON host_stat
    WHEN NEW.bucket < 1700003600 AND NEW.iface_id IN (SELECT iface.id
    FROM iface JOIN agent ON agent.id = iface.agent_id
    WHERE agent.name = '$NAME')
    BEGIN SELECT RAISE(ABORT, 'test poison'); END"
sp=$(spool_dir spool) || { not_ok "spool directory"; done_testing; exit 1; }

AGENT_PID=
FEED_PID=
stop_feed() { [ -n "${FEED_PID:-}" ] && kill -KILL "$FEED_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_feed"
spool_bytes() { cat "$1"/* 2>/dev/null | wc -c; }
ndropped() { grep -c "refuses batch [0-9]* as invalid; dropped" "$1"; }
SMALL="--max-hosts 64 --max-ports 64 --max-peers 64"

# Run 1: part A through a pipe, the store down.  B's packets follow A's
# in the same stream: its pcap header (24 bytes) left out.
mkfifo "$WORK/in.fifo"
(cat "$dir/a.pcap"; while [ ! -e "$WORK/go" ]; do sleep 0.05; done
    tail -c +25 "$dir/b.pcap"; exec sleep 300) >"$WORK/in.fifo" &
FEED_PID=$!
# shellcheck disable=SC2086
"$NT_BIN/nettally-agent" -s "$WORK/sock" -r - $nets --name "$NAME" \
    --resolution 60 --flush 1000 $SMALL --spool "$sp" \
    <"$WORK/in.fifo" 2>"$WORK/agent.0" &
AGENT_PID=$!
# A's last, partial tabset goes at the first flush deadline, 1 s on.
sleep 2.5
check "run 1: part A waits in the spool, the store down ($(spool_bytes "$sp") bytes)" \
    test "$(spool_bytes "$sp")" -gt 10000
start_store || { not_ok "store starts"; done_testing; exit 1; }
# The first drop: refused twice.  Then no store, at once.
wait_for "[ \$(ndropped '$WORK/agent.0') -ge 1 ]" 200
kill -KILL "$STORE_PID"
wait "$STORE_PID" 2>/dev/null
STORE_PID=
rm -f "$WORK/sock"
check "run 1: a batch of part A was dropped before the store went ($(ndropped "$WORK/agent.0"))" \
    test "$(ndropped "$WORK/agent.0")" -ge 1
# Part B: its batch counts the drop, into the spool only.
before=$(spool_bytes "$sp")
touch "$WORK/go"
if wait_for "[ \$(spool_bytes '$sp') -gt $before ]" 100; then
	ok "run 1: part B's batch, encoded after the drop, is spooled"
else
	not_ok "run 1: part B's batch, encoded after the drop, is spooled"
fi
sleep 0.3
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
stop_feed
wait "$FEED_PID" 2>/dev/null
FEED_PID=
check "run 1: killed, it left its spool file" test -n "$(ls "$sp")"

# Run 2: the store back, poison and all; the agent on part C.
start_store "$DB" || { not_ok "store starts again"; done_testing; exit 1; }
# shellcheck disable=SC2086
"$NT_BIN/nettally-agent" -s "$WORK/sock" -r "$dir/c.pcap" $nets \
    --name "$NAME" --resolution 60 --flush 1000 $SMALL --spool "$sp" \
    2>"$WORK/agent.1" &
AGENT_PID=$!
if wait_for "! kill -0 $AGENT_PID 2>/dev/null" 600; then
	reap_agent
	ok "run 2 finishes (status $rc)"
else
	not_ok "run 2 finishes"
	tail -n 5 "$WORK/agent.1" | sed 's/^/# /'
fi
check "run 2: it replayed the killed run's file" \
    grep -q "replaying [1-9][0-9]* batch(es) of epoch" "$WORK/agent.1"
check "run 2: the batch dropped by run 1 is skipped, its drop already counted" \
    grep -q "refuses batch [0-9]* as invalid again; skipped, its drop already counted" \
    "$WORK/agent.1"

# Each batch the store refused, once: epoch and seq from its log.
refused=$(sed -n 's/.*BATCH \([0-9]*\) of epoch \([0-9]*\) refused by the database.*/\2 \1/p' \
    "$WORK/store.log" | sort -u | wc -l)
dropped=$(sql "SELECT coalesce(sum(dropped), 0) FROM agent_health
    WHERE agent = '$NAME'")
check "the store refused batches of part A ($refused)" test "$refused" -gt 1
check "agent_health.dropped counts each refused batch once ($dropped for $refused)" \
    test "$dropped" = "$refused"
check "none of part A's host rows is stored" \
    test "$(sql "SELECT count(*) FROM host_traffic WHERE agent = '$NAME'
    AND bucket < 1700003600")" = 0
iface_counted "part b counted once, exactly" "$NAME" \
    "bucket >= 1700007000 AND bucket < 1700014000" "$dir/b/interface.csv"
iface_counted "part c counted once, exactly" "$NAME" \
    "bucket >= 1700014000" "$dir/c/interface.csv"
check "the spool directory is empty afterwards" test -z "$(ls -A "$sp")"
check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
check "store stops cleanly on SIGTERM" stop_store
done_testing
