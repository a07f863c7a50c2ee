#!/bin/sh
# Live capture: two network namespaces joined by a veth pair that this
# script creates and removes.  The generator sends a known set of IPv4 and
# IPv6 frames out of one end; the agent captures on the other; the
# database must hold exactly what was sent.  No traffic leaves the pair.
. "$(dirname "$0")/lib.sh"

if ! netns_usable; then
	cannot_run_all "live capture in network namespaces" "needs root and ip netns"
fi

NSA=nt-a-$$ NSB=nt-b-$$ VA=nta$$ VB=ntb$$
AGENT_PID=

if ! netns_quiet "$NSA" "$NSB" || ! veth_pair "$NSA" "$VA" "$NSB" "$VB"; then
	not_ok "veth pair between two namespaces set up"
	done_testing; exit 1
fi
ok "veth pair between two namespaces set up"
start_store || { not_ok "store starts"; done_testing; exit 1; }

dir=$WORK/live
mkdir -p "$dir"
"$NT_GEN" -o "$dir/ref.pcap" -e "$dir" --packets 6000 --mix --seed 21 \
    --size imix >/dev/null
nets=$(local_nets "$dir")
# shellcheck disable=SC2086
ip netns exec "$NSB" "$NT_BIN/nettally-agent" -i "$VB" -s "$SOCK" $nets \
    --name live --flush 200 2>"$dir/agent.err" &
AGENT_PID=$!
check "agent registers with the store" \
    wait_for "[ \"\$(sql \"SELECT count(*) FROM agent WHERE name = 'live'\")\" = 1 ]" 100
check "generator sends the frames from the other namespace" \
    ip netns exec "$NSA" "$NT_GEN" --send "$VA" --packets 6000 --mix \
    --seed 21 --size imix --rate 20000
want=$(tail -n 1 "$dir/interface.csv" | cut -d, -f1)
check "all $want frames counted in the database within 10 s" \
    wait_for "[ \"\$(sql \"SELECT sum(frames) FROM interface_traffic WHERE agent = 'live'\")\" = $want ]" 100
term_agent
check "agent exits 0 on SIGTERM after its last ACK" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$dir/agent.err"

db_hosts live >"$dir/h"; check "live: host_traffic equals what was sent" same_rows "$dir/hosts.csv" "$dir/h"
db_ports live >"$dir/o"; check "live: port_traffic equals what was sent" same_rows "$dir/ports.csv" "$dir/o"
db_peers live >"$dir/p"; check "live: peer_traffic equals what was sent" same_rows "$dir/peers.csv" "$dir/p"
db_iface live >"$dir/i"
check "live: interface_traffic equals what was sent" same_rows "$dir/interface.csv" "$dir/i"
drops=$(sql "SELECT sum(kernel_drops) FROM agent_health WHERE agent = 'live'")
check "live: no kernel drops reported ($drops)" test "$drops" = 0
check "store stops cleanly on SIGTERM" stop_store
done_testing
