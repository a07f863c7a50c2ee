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

# --- the open files limit ------------------------------------------------
# Each connection is a descriptor.  With none left, libuv accepted each
# new connection and closed it at once: the agent's HELLO went unanswered
# ("cannot send HELLO") and the store logged nothing.  The store raises a
# low soft limit itself, and under a low hard limit serves fewer
# connections, refusing the rest in words.
command -v python3 >/dev/null ||
    cannot_run_all "idle connections against a low open files limit" \
    "no python3"
HOLD_PID=
stop_hold() { [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_hold"
# hold N: N connections to the store, held open and silent, in the
# background; returns once they are all made.
hold() {
	rm -f "$WORK/held"
	python3 -c 'import socket, sys, time
held = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
open(sys.argv[3], "w").close()
time.sleep(60)' "$SOCK" "$1" "$WORK/held" &
	HOLD_PID=$!
	i=0
	while [ ! -e "$WORK/held" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
"$NT_GEN" -o "$WORK/lim.pcap" --packets 200 --seed 7 >/dev/null
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 400 ]; then
	cannot_run "a low soft limit is raised" "hard limit $(ulimit -Hn)"
else
	soft=$(ulimit -Sn)
	ulimit -Sn 64
	start_store "$WORK/lim.db"
	ulimit -Sn "$soft"
	hold 80
	agent -r "$WORK/lim.pcap" --name lim1 2>"$WORK/lim1.err"
	rc=$?
	check "soft limit 64, 80 idle connections: an agent delivers (exit $rc)" \
	    test $rc = 0 -a "$(sql "SELECT sum(frames) FROM interface_traffic
	    WHERE agent = 'lim1'")" = 200
	stop_hold
	HOLD_PID=
	stop_store
fi
# A hard limit of 64: a subshell, which this script's limit outlives.
: >"$WORK/store.log"
(ulimit -n 64 && exec "$NT_BIN/nettally-stored" -s "$SOCK" -d "$WORK/lim.db" \
    --socket-mode 0666 --allow-root --keep-raw 100y 2>>"$WORK/store.log") &
STORE_PID=$!
i=0
while ! grep -q 'store: listening on' "$WORK/store.log" && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
check "hard limit 64: the store says how many connections that leaves" \
    grep -q "open files limit (64) leaves room for 32 connections, not 256.*LimitNOFILE" \
    "$WORK/store.log"
hold 40
agent -r "$WORK/lim.pcap" --name lim2 2>"$WORK/lim2.err"
rc=$?
check "  ... 40 idle connections: a new agent is refused in words (exit $rc)" \
    sh -c "test $rc = 1 && grep -q 'store refused HELLO: more than 32 connections' '$WORK/lim2.err'"
check "  ... and the store logs the refusal" \
    grep -q ": more than 32 connections" "$WORK/store.log"
stop_hold
HOLD_PID=
check "  ... and stops cleanly" stop_store
done_testing
