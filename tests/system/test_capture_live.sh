#!/bin/sh
# Live capture on several interfaces: two veth pairs between two network
# namespaces that this script creates and removes.  One agent counts both
# interfaces (each row named by its interface), then the same with
# --threads 2 (PACKET_FANOUT), then -i any; then the faults: an interface
# set down and up, one deleted under an agent with --exit-on-error, one
# missing at start, and --exit-on-error on one set down.  (A deleted
# interface reopened in place is test_reopen.sh's.)  Every count is
# compared with the generator's own.
. "$(dirname "$0")/lib.sh"

if ! netns_usable; then
	cannot_run_all "live capture in network namespaces" "needs root and ip netns"
fi

NSA=nt-ca-$$ NSB=nt-cb-$$
A1=nca1$$ B1=ncb1$$ A2=nca2$$ B2=ncb2$$ A3=nca3$$ B3=ncb3$$
AGENT_PID=

# pair A B: a veth pair, A in NSA, B in NSB, both up.
pair() {
	veth_pair "$NSA" "$1" "$NSB" "$2"
}
setup() {
	netns_quiet "$NSA" "$NSB" && pair "$A1" "$B1" && pair "$A2" "$B2"
}
if ! setup; then
	not_ok "two veth pairs between two namespaces set up"
	done_testing; exit 1
fi
ok "two veth pairs between two namespaces set up"
start_store || { not_ok "store starts"; done_testing; exit 1; }

GEN_OPTS="--mix --size imix --flows 2000"
gen_expect e1 31 5000
gen_expect e2 32 4000
NETS=$(local_nets "$WORK/e1")

# start_agent NAME ARGS...: an agent in NSB, its stderr in $WORK/NAME.err.
start_agent() {
	name=$1; shift
	# shellcheck disable=SC2086
	ip netns exec "$NSB" "$NT_BIN/nettally-agent" -s "$SOCK" $NETS \
	    --name "$name" --flush 200 "$@" 2>"$WORK/$name.err" &
	AGENT_PID=$!
	wait_for "[ \"\$(sql \"SELECT count(*) FROM agent WHERE name = '$name'\")\" = 1 ]" 100
}
frames() {
	sql "SELECT COALESCE(sum(frames), 0) FROM interface_traffic
	    WHERE agent = '$1' AND iface = '$2'"
}
want_frames() { tail -n 1 "$WORK/$1/interface.csv" | cut -d, -f1; }

# compare AGENT IFACE EXPDIR: every view of one interface, whole run.
compare() {
	a=$1 i=$2 e=$WORK/$3 o=$WORK/$1.$2
	w="agent = '$a' AND iface = '$i'"
	sql "SELECT host, family, $PROTO_CLASS AS pc, direction, sum(packets),
	    sum(bytes), sum(frame_bytes) FROM host_traffic WHERE $w
	    GROUP BY host, family, pc, direction" >"$o.h"
	check "$a/$i: host rows equal what was sent" same_rows "$e/hosts.csv" "$o.h"
	sql "SELECT host, family, $PROTO_CLASS AS pc, port, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM port_traffic
	    WHERE $w GROUP BY host, family, pc, port, direction" >"$o.o"
	check "$a/$i: port rows equal what was sent" same_rows "$e/ports.csv" "$o.o"
	sql "SELECT host, peer, family, $PROTO_CLASS AS pc, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM peer_traffic
	    WHERE $w GROUP BY host, peer, family, pc, direction" >"$o.p"
	check "$a/$i: peer rows equal what was sent" same_rows "$e/peers.csv" "$o.p"
	sql "SELECT $IFACE_SUMS FROM interface_traffic WHERE $w" >"$o.i"
	check "$a/$i: interface totals equal what was sent" same_rows "$e/interface.csv" "$o.i"
}

# --- two interfaces, one agent, one thread ---
check "agent on two interfaces registers" start_agent multi -i "$B1" -i "$B2"
send_mix "$A1" 31 5000 & s1=$!
send_mix "$A2" 32 4000
wait $s1
check "all frames of both interfaces counted within 10 s" \
    wait_for "[ \$(frames multi $B1) = $(want_frames e1) ] && [ \$(frames multi $B2) = $(want_frames e2) ]" 100
check "agent exits 0 on SIGTERM" term_agent
compare multi "$B1" e1
compare multi "$B2" e2

# --- the same with two capture threads per interface ---
gen_expect e3 33 20000
check "agent with --threads 2 registers" start_agent fan --threads 2 -i "$B1" -i "$B2"
send_mix "$A1" 33 20000 & s1=$!
send_mix "$A2" 32 4000
wait $s1
check "--threads 2: all frames counted within 10 s" \
    wait_for "[ \$(frames fan $B1) = $(want_frames e3) ] && [ \$(frames fan $B2) = $(want_frames e2) ]" 100
check "--threads 2: agent exits 0 on SIGTERM" term_agent
compare fan "$B1" e3
compare fan "$B2" e2
t0=$(sed -n 's/.*capture thread 0: \([0-9]*\) frames.*/\1/p' "$WORK/fan.err")
t1=$(sed -n 's/.*capture thread 1: \([0-9]*\) frames.*/\1/p' "$WORK/fan.err")
check "--threads 2: the kernel spread the frames over both threads ($t0 + $t1)" \
    test "${t0:-0}" -gt 0 -a "${t1:-0}" -gt 0 -a $((${t0:-0} + ${t1:-0})) -eq $(($(want_frames e3) + $(want_frames e2)))

# --- -i any ---
check "agent on -i any registers" start_agent anyif -i any
send_mix "$A1" 31 5000
check "-i any: all frames counted within 10 s" \
    wait_for "[ \$(frames anyif any) = $(want_frames e1) ]" 100
check "-i any: agent exits 0 on SIGTERM" term_agent
# A cooked (SLL2) frame's pcap length is 6 bytes over the Ethernet one
# (a 20-byte header for a 14-byte one), as tshark's frame.len: every
# frame_bytes is the generator's plus 6 per packet; the rest is the same.
mkdir -p "$WORK/e1any"
for f in hosts ports peers; do
	awk -F, -v OFS=, 'NR > 1 { $NF += 6 * $(NF - 2) } { print }' 	    "$WORK/e1/$f.csv" >"$WORK/e1any/$f.csv"
done
awk -F, -v OFS=, 'NR > 1 { $2 += 6 * $1 } { print }' "$WORK/e1/interface.csv"     >"$WORK/e1any/interface.csv"
compare anyif any e1any

# --- down and up: the socket stays, counting resumes ---
check "agent for down/up registers" start_agent updown -i "$B1" -i "$B2"
ip -n "$NSB" link set "$B1" down
check "interface down is reported" \
    wait_for "grep -q '$B1: interface went down' '$WORK/updown.err'" 50
ip -n "$NSB" link set "$B1" up
check "interface up again is reported" \
    wait_for "grep -q '$B1: interface is up again' '$WORK/updown.err'" 50
wait_for "ip -n $NSA link show $A1 | grep -q 'state UP'" 50
send_mix "$A1" 31 5000
check "after down/up: all frames counted within 10 s" \
    wait_for "[ \$(frames updown $B1) = $(want_frames e1) ]" 100
check "after down/up: agent exits 0 on SIGTERM" term_agent
compare updown "$B1" e1

# --- deleted under an agent with --exit-on-error: exit 1, what was
# counted is kept ---
check "agent for deletion registers" start_agent gone --exit-on-error \
    -i "$B1" -i "$B2"
send_mix "$A2" 32 4000
wait_for "[ \$(frames gone $B2) = $(want_frames e2) ]" 100
ip -n "$NSB" link del "$B1"
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "deleted interface, --exit-on-error: agent exits 1 ($rc)" test $rc -eq 1
check "deleted interface, --exit-on-error: the message names it and why" \
    grep -q "$B1: capture failed: the interface went away; exiting (--exit-on-error)" "$WORK/gone.err"
compare gone "$B2" e2

# --- missing at start: the agent waits for it ---
ip netns exec "$NSB" "$NT_BIN/nettally-agent" -s "$SOCK" $NETS --name late \
    --flush 200 -i "$B3" 2>"$WORK/late.err" &
AGENT_PID=$!
check "missing interface at start: waiting is reported" \
    wait_for "grep -q '$B3: no such interface.*waiting for it' '$WORK/late.err'" 50
pair "$A3" "$B3"
check "missing interface at start: counting once it exists" \
    wait_for "[ \"\$(sql \"SELECT count(*) FROM agent WHERE name = 'late'\")\" = 1 ]" 100
send_mix "$A3" 31 5000
check "late interface: all frames counted within 10 s" \
    wait_for "[ \$(frames late $B3) = $(want_frames e1) ]" 100
check "late interface: agent exits 0 on SIGTERM" term_agent
compare late "$B3" e1

# --- --exit-on-error ---
ip netns exec "$NSB" "$NT_BIN/nettally-agent" -s "$SOCK" $NETS --name eoe \
    --flush 200 --exit-on-error -i "$B2" 2>"$WORK/eoe.err" &
AGENT_PID=$!
wait_for "[ \"\$(sql \"SELECT count(*) FROM agent WHERE name = 'eoe'\")\" = 1 ]" 100
ip -n "$NSB" link set "$B2" down
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "--exit-on-error: interface down ends the agent with 1 ($rc)" test $rc -eq 1
check "--exit-on-error: the message says the interface went down" \
    grep -q "$B2: interface went down" "$WORK/eoe.err"

check "store stops cleanly on SIGTERM" stop_store
done_testing
