#!/bin/sh
# Two agents feed one store at the same time; each one's rows are exact.
. "$(dirname "$0")/lib.sh"

start_store || { not_ok "store starts"; done_testing; exit 1; }
for a in one two; do
	mkdir -p "$WORK/$a"
	seed=31; [ $a = two ] && seed=32
	"$NT_GEN" -o "$WORK/$a/in.pcap" -e "$WORK/$a" --packets 200000 --mix \
	    --seed $seed >/dev/null
done
nets=$(local_nets "$WORK/one")
# shellcheck disable=SC2086
agent -r "$WORK/one/in.pcap" $nets --name one --flush 50 2>"$WORK/one/err" &
p1=$!
# shellcheck disable=SC2086
agent -r "$WORK/two/in.pcap" $nets --name two --flush 50 2>"$WORK/two/err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "both agents exit 0" test $r1 -eq 0 -a $r2 -eq 0
for a in one two; do
	db_hosts $a >"$WORK/$a/h"
	check "$a: host_traffic exact" same_rows "$WORK/$a/hosts.csv" "$WORK/$a/h"
	db_ports $a >"$WORK/$a/o"
	check "$a: port_traffic exact" same_rows "$WORK/$a/ports.csv" "$WORK/$a/o"
	db_peers $a >"$WORK/$a/p"
	check "$a: peer_traffic exact" same_rows "$WORK/$a/peers.csv" "$WORK/$a/p"
done
n=$(sql "SELECT count(DISTINCT agent_id) FROM batch")
check "batches from two agents recorded" test "$n" = 2
check "store stops cleanly on SIGTERM" stop_store
done_testing
