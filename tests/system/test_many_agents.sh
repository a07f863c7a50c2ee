#!/bin/sh
# 32 agents delivering at once to one store: every batch committed exactly
# once (one batch row per seq of each epoch, none missing) and every
# agent's totals equal to its own capture's independent count.
. "$(dirname "$0")/lib.sh"
# The generated captures are from 2023: keep their raw buckets, which the
# checks compare, out of retention's roll-ups.

N=32
start_store || { not_ok "store starts"; done_testing; exit 1; }
i=1
while [ $i -le $N ]; do
	mkdir -p "$WORK/a$i"
	"$NT_GEN" -o "$WORK/a$i/in.pcap" -e "$WORK/a$i" --interval 60 \
	    --packets 5000 --mix --seed $((100 + i)) --flows 2000 \
	    >/dev/null || not_ok "generator ran for agent $i"
	i=$((i + 1))
done

pids=
i=1
while [ $i -le $N ]; do
	nets=$(local_nets "$WORK/a$i")
	# Small tables and a short flush: several batches per agent.
	# shellcheck disable=SC2086
	agent -r "$WORK/a$i/in.pcap" $nets --name "agent$i" --resolution 60 \
	    --flush 10 --max-hosts 64 --max-ports 128 --max-peers 128 \
	    2>"$WORK/a$i/agent.err" &
	pids="$pids $!"
	i=$((i + 1))
done
nfail=0
i=1
for p in $pids; do
	if ! wait "$p"; then
		nfail=$((nfail + 1))
		echo "# agent$i failed:"
		tail -n 3 "$WORK/a$i/agent.err" | sed 's/^/#   /'
	fi
	i=$((i + 1))
done
check "all $N agents deliver and exit 0" test "$nfail" -eq 0

bad=
i=1
while [ $i -le $N ]; do
	d=$WORK/a$i
	db_hosts "agent$i" >"$d/db_hosts"
	db_peers "agent$i" >"$d/db_peers"
	db_iface_by_interval "agent$i" >"$d/db_iface_i"
	if ! same_rows "$d/hosts.csv" "$d/db_hosts" ||
	    ! same_rows "$d/peers.csv" "$d/db_peers" ||
	    ! same_rows "$d/interface_by_interval.csv" "$d/db_iface_i"; then
		bad="$bad agent$i"
	fi
	i=$((i + 1))
done
check "every agent's totals equal its capture's count${bad:+ (wrong:$bad)}" \
    test -z "$bad"
sql "SELECT a.name FROM agent a JOIN batch b ON b.agent_id = a.id
    GROUP BY a.id HAVING count(*) <> count(DISTINCT b.seq)
    OR count(*) <> max(b.seq)" >"$WORK/dups"
check "every batch committed exactly once, none missing" \
    test ! -s "$WORK/dups"
check "$N agents, each with batches" test "$(sql "SELECT count(DISTINCT
    agent_id) FROM batch")" -eq $N
nb=$(sql "SELECT count(*) FROM batch")
echo "# $nb batches from $N agents"
check "store stops cleanly on SIGTERM" stop_store
done_testing
