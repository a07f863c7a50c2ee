#!/bin/sh
# Live capture with a spool while the store is down.  On a veth pair
# between two network namespaces that this script creates and removes, an
# agent started as deployed (root dropping to the nettally user, the
# default seccomp filter) captures -i with --spool DIR; the store is not
# running.  The generator sends a known set of frames from the other end.
#  1. SIGTERM: the agent ships its last counts into the spool and, the
#     store being away, does not wait for it: it says how many batches it
#     kept in the spool and exits 0 on the one signal.
#  2. SIGKILL, once the spool holds the batches of the send.
# After each, the store is started and an agent of the same name is
# started live again on the same interface: it replays the spooled run
# first, and once it is stopped (SIGTERM, the store up) every view holds
# the send exactly once and the spool directory is empty.
. "$(dirname "$0")/lib.sh"

if ! netns_usable; then
	cannot_run_all "live capture with a spool" "needs root and ip netns"
fi
if ! id nettally >/dev/null 2>&1; then
	cannot_run_all "live capture with a spool" "no nettally user for the agent to drop to"
fi

NSA=nt-sa-$$ NSB=nt-sb-$$ VA=ntsa$$ VB=ntsb$$
AGENT_PID=
if ! netns_quiet "$NSA" "$NSB" || ! veth_pair "$NSA" "$VA" "$NSB" "$VB"
then
	not_ok "veth pair between two namespaces set up"
	done_testing; exit 1
fi
ok "veth pair between two namespaces set up"
DB=$WORK/db.sqlite
SOCK=$WORK/sock

GEN_OPTS="--mix --size imix --flows 2000"
gen_expect e1 61 5000
gen_expect e2 62 4000
NETS=$(local_nets "$WORK/e1")

# spool_dir NAME: a fresh spool directory the agent's user owns.
# start_agent NAME SPOOL LOG: a live agent in NSB on VB; returns once it
# counts (its start line is logged after the capture is open).
start_agent() {
	: >"$3"
	# shellcheck disable=SC2086
	ip netns exec "$NSB" "$NT_BIN/nettally-agent" -s "$SOCK" $NETS \
	    --name "$1" --flush 200 -i "$VB" --spool "$2" 2>"$3" &
	AGENT_PID=$!
	wait_for "grep -q 'counting as' '$3'" 100
}
fsize() { cat "$1"/*.spool 2>/dev/null | wc -c; }

# compare AGENT EXPDIR: every view of the agent, all its runs, exact.
compare() {
	a=$1 e=$WORK/$2
	db_hosts "$a" >"$WORK/$a.h"
	check "$a: host rows equal what was sent" same_rows "$e/hosts.csv" "$WORK/$a.h"
	db_ports "$a" >"$WORK/$a.o"
	check "$a: port rows equal what was sent" same_rows "$e/ports.csv" "$WORK/$a.o"
	db_peers "$a" >"$WORK/$a.p"
	check "$a: peer rows equal what was sent" same_rows "$e/peers.csv" "$WORK/$a.p"
	db_iface "$a" >"$WORK/$a.i"
	check "$a: interface totals equal what was sent" same_rows "$e/interface.csv" "$WORK/$a.i"
	bad=$(sql "SELECT count(*) FROM (SELECT b.epoch FROM batch b
	    JOIN agent ON agent.id = b.agent_id WHERE agent.name = '$a'
	    GROUP BY b.epoch HAVING count(*) != max(seq)
	    OR count(DISTINCT seq) != count(*))")
	check "$a: each epoch's batches recorded once, none missing" test "$bad" = 0
}

# restart NAME SPOOL: the store up, the same name live again: it replays
# the spooled run, then stops with everything acknowledged.
restart() {
	start_store "$DB" || { not_ok "store starts"; return 1; }
	start_agent "$1" "$2" "$WORK/$1.b.log" ||
	    not_ok "$1: the restarted agent counts"
	check "$1: the restart replays the spooled run" \
	    wait_for "grep -q 'replayed: [1-9][0-9]* batch(es) sent' '$WORK/$1.b.log'" 300
	check "$1: the restarted agent exits 0 on SIGTERM" term_agent
	stop_store
	check "$1: the spool directory is empty afterwards" \
	    test -z "$(ls -A "$2")"
	grep "replayed:" "$WORK/$1.b.log" | sed 's/^/# /'
}

# 1. SIGTERM with the store down.
sp=$(spool_dir sp1) || { not_ok "spool directory"; done_testing; exit 1; }
check "live1: the agent captures with the store down" \
    start_agent live1 "$sp" "$WORK/live1.a.log"
check "live1: it says the batches wait in the spool" \
    wait_for "grep -q 'batches wait in the spool' '$WORK/live1.a.log'" 100
send_mix "$VA" 61 5000
check "live1: one SIGTERM, the store away: exit 0" term_agent
check "live1: it says the store is away and every batch is in the spool" \
    grep -q "the store is away; every batch is in $sp" "$WORK/live1.a.log"
check "live1: it did not wait for the store" \
    test -z "$(grep 'waiting for the store' "$WORK/live1.a.log")"
kept=$(sed -n 's/.*: \([0-9]*\) batch(es) not acknowledged by the store kept in spool.*/\1/p' \
    "$WORK/live1.a.log")
check "live1: it says ${kept:-no} batch(es) kept in the spool" \
    test "${kept:-0}" -gt 0
check "live1: one spool file is left" \
    test "$(ls "$sp" | grep -c '^live1\.[0-9]*\.spool$')" = 1
restart live1 "$sp"
compare live1 e1

# 2. SIGKILL once the spool holds the send.
sp=$(spool_dir sp2) || { not_ok "spool directory"; done_testing; exit 1; }
check "live2: the agent captures with the store down" \
    start_agent live2 "$sp" "$WORK/live2.a.log"
before=$(fsize "$sp")
send_mix "$VA" 62 4000
# The ring hands a block over within 100 ms and the agent flushes (and
# syncs the spool) every 200 ms.  Heartbeat batches keep coming, so the
# file is never still: wait until the send's kilobytes are in and what
# grows in 0.6 s is heartbeats' hundreds of bytes (at most 10 s).
sleep 1
after=$(fsize "$sp")
i=0
while [ $i -lt 16 ]; do
	sleep 0.6
	now=$(fsize "$sp")
	[ "$now" -gt $((before + 16384)) ] &&
	    [ "$now" -lt $((after + 4096)) ] && break
	after=$now
	i=$((i + 1))
done
after=$(fsize "$sp")
check "live2: the spool holds the send's batches ($before -> $after bytes)" \
    test "$after" -gt $((before + 16384))
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
restart live2 "$sp"
compare live2 e2
done_testing
