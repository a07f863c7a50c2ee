#!/bin/sh
# Crash safety of the store: SIGKILL it five times while an agent replays
# a million generated packets in many small batches, restart it each time
# on the same database, and require every view to equal the generator's
# independent count exactly (no loss, no double count), every batch to be
# recorded once, and PRAGMA integrity_check to say ok.
#
# The kill moments come from a fixed seed and are tied to progress, not to
# the clock: kill k happens once the store has committed a seeded number
# of further batches, after a seeded pause of 0..250 ms, so it lands in
# varied places (mid-transaction, between commits, while acks are in
# flight).  The agent's small tables (--max-*) make a file replay flush
# whenever they are nearly full, so the number of batches (over 200) does
# not depend on timing, and the five kills always fall inside the run.
. "$(dirname "$0")/lib.sh"
# The generated captures are from 2023: keep their raw buckets, which the
# checks compare, out of retention's roll-ups.

SEED=${NT_CRASH_SEED:-4242}
NAME=crash
dir=$WORK/gen
mkdir -p "$dir"
if ! "$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 1000000 \
    --mix --seed 21 --local-hosts 500 --remote-hosts 5000 --flows 20000 \
    --size 64 --duration 1200; then
	not_ok "generator ran"
	done_testing
	exit 1
fi

# restart_store: a store on the same database, as lib.sh starts it, over
# the socket file the killed one left behind (the probe removes it).
restart_store() {
	start_store "$DB"
}

committed() {
	sql "SELECT count(*) FROM batch JOIN agent ON agent.id = batch.agent_id
	    WHERE agent.name = '$NAME'" 2>/dev/null || echo 0
}

start_store || { not_ok "store starts"; done_testing; exit 1; }
nets=$(local_nets "$dir")
# shellcheck disable=SC2086
agent -r "$dir/in.pcap" $nets --name "$NAME" --resolution 60 --flush 10 \
    --max-hosts 2048 --max-ports 4096 --max-peers 4096 \
    2>"$WORK/agent.err" &
AGENT_PID=$!

# Five (batches to wait for, pause in ms) pairs from the seed.
plan=$(awk -v s="$SEED" 'BEGIN { srand(s); for (i = 0; i < 5; i++)
    printf "%d:%d ", 5 + int(rand() * 20), int(rand() * 250) }')
nkill=0
for step in $plan; do
	want=$(( $(committed) + ${step%%:*} ))
	pause=${step#*:}
	i=0
	while [ "$(committed)" -lt "$want" ] && kill -0 "$AGENT_PID" 2>/dev/null
	do
		i=$((i + 1))
		[ $i -gt 1200 ] && break
		sleep 0.05
	done
	kill -0 "$AGENT_PID" 2>/dev/null || break
	sleep "$(awk -v p="$pause" 'BEGIN { printf "%.3f", p / 1000 }')"
	kill -KILL "$STORE_PID"
	wait "$STORE_PID" 2>/dev/null
	nkill=$((nkill + 1))
	echo "# kill $nkill after $(committed) batches committed"
	restart_store || break
done
check "the store was killed five times during the replay" test "$nkill" -eq 5

reap_agent
if [ "$rc" -eq 0 ]; then
	ok "agent delivers everything and exits 0"
else
	not_ok "agent delivers everything and exits 0 (status $rc)"
	tail -n 5 "$WORK/agent.err" | sed 's/^/# /'
fi

views_equal "$NAME" "$dir"
frames=$(tail -n 1 "$dir/interface.csv" | cut -d, -f1)
captured=$(sql "SELECT sum(captured) FROM agent_health WHERE agent = '$NAME'")
check "agent_health.captured counts every frame once ($frames)" \
    test "$captured" = "$frames"
batches_once "$NAME"
# A resend after a kill is the frame sent before: the store must not
# take it for another batch under a committed seq (db.c, db_resend).
check "every resend is the batch committed under its seq" \
    test "$(grep -c 'resent with other content\|arrived after a later' \
    "$WORK/store.log")" -eq 0
check "integrity_check is ok" test "$(sql 'PRAGMA integrity_check')" = ok
check "store stops cleanly on SIGTERM" stop_store
done_testing
