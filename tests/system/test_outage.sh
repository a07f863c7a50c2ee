#!/bin/sh
# The store away under steady traffic: a capture trickles into the agent
# through a pipe (for ~25 s, unless cut short) while the store is stopped
# for $NT_OUTAGE seconds (default 10; the issue's 60 s variant:
# NT_OUTAGE=60); once the store is back, the rest comes at once.  Nothing
# may be lost or counted twice, the agent's memory must not grow with the
# outage (it holds counts aggregated in its tables), and the backlog is
# committed once the store is back (the time it takes is printed).
. "$(dirname "$0")/lib.sh"
STORE_ARGS="${STORE_ARGS:-} --keep-raw 100y"

OUTAGE=${NT_OUTAGE:-10}
NAME=outage
dir=$WORK/gen
mkdir -p "$dir"
"$NT_GEN" -o "$dir/in.pcap" -e "$dir" --interval 60 --packets 100000 --mix \
    --seed 13 --local-hosts 200 --remote-hosts 5000 --flows 20000 \
    --duration 600 >/dev/null || { not_ok "generator ran"; done_testing; exit 1; }
size=$(stat -c %s "$dir/in.pcap")
# Chunks so the feed lasts the outage plus ~15 s at 20 chunks a second.
chunks=$(( (OUTAGE + 15) * 20 ))
bs=$(( size / chunks + 1 ))

start_store || { not_ok "store starts"; done_testing; exit 1; }
mkfifo "$WORK/feed"
(
	i=0
	while [ $i -le $chunks ]; do
		if [ -e "$WORK/feed.rest" ]; then
			# The store is back: the rest at once.
			dd if="$dir/in.pcap" bs=$bs skip=$i 2>/dev/null
			break
		fi
		dd if="$dir/in.pcap" bs=$bs skip=$i count=1 2>/dev/null
		sleep 0.05
		i=$((i + 1))
	done
) >"$WORK/feed" &
FEED_PID=$!
nets=$(local_nets "$dir")
# shellcheck disable=SC2086
"$NT_BIN/nettally-agent" -s "$SOCK" -r - $nets --name "$NAME" \
    --resolution 60 --flush 100 --max-queue-mb 4 <"$WORK/feed" \
    2>"$WORK/agent.err" &
AGENT_PID=$!

kb() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# Let traffic flow, then take the store away.
wait_for "[ \$(sql 'SELECT count(*) FROM batch') -ge 3 ]" 300 ||
    echo "# fewer than 3 batches before the outage"
before=$(kb "$AGENT_PID" VmRSS)
check "store stops on SIGTERM" stop_store
down_batches=$(sql "SELECT count(*) FROM batch")
peak=$before
t=0
while [ $t -lt $((OUTAGE * 4)) ]; do
	sleep 0.25
	r=$(kb "$AGENT_PID" VmRSS)
	[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
	t=$((t + 1))
done
check "the agent keeps running while the store is away" kill -0 "$AGENT_PID"
check "  ... and said which store went and why" \
    grep -Eq "store $SOCK: [a-z][^;]*; [0-9]+ batch\(es\) kept for resend" \
    "$WORK/agent.err"
echo "# agent VmRSS ${before} kB before the ${OUTAGE} s outage, peak ${peak} kB during it"
check "agent memory grows by less than 8 MB during the outage" \
    test $((peak - before)) -lt 8192

t0=$(date +%s.%N)
start_store "$DB" || { not_ok "store restarts"; done_testing; exit 1; }
# The backlog: everything the agent kept or held when the store came back.
wait_for "[ \$(sql 'SELECT count(*) FROM batch') -gt $down_batches ]" 300
t1=$(date +%s.%N)
echo "# first backlog batch committed $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%.2f", b - a }') s after the store's restart"
# The outage is over: the feed need not trickle on (the rest of its
# ~25 s, or far more where each chunk costs a process or two).
: >"$WORK/feed.rest"
reap_agent
wait "$FEED_PID" 2>/dev/null
FEED_PID=
check "the agent delivers everything and exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 5 "$WORK/agent.err" | sed 's/^/# /'

views_equal "$NAME" "$dir"
check "nothing dropped" test "$(sql "SELECT coalesce(sum(dropped), 0) FROM
    agent_health WHERE agent = '$NAME'")" = 0
check "store stops cleanly on SIGTERM" stop_store
done_testing
