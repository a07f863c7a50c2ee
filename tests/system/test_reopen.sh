#!/bin/sh
# A live agent reopens a deleted interface in place.  On a veth pair
# between two network namespaces that this script creates and removes, an
# agent started as deployed (root dropping to an unprivileged user, or a
# user with ambient CAP_NET_RAW as its systemd unit starts it; seccomp on)
# counts one send (the frames still in the kernel ring as the link goes
# too), loses its interface to `ip link del`, logs that once
# and stays up, finds the interface again when a pair of the same name is
# made, and counts a second send: the database holds exactly both sends
# under the one interface name, with no drop invented by the new handle's
# counters starting at 0.  Then with --threads 2 (each thread reopens its
# own handle into the fanout group) and a BPF filter, and a SIGTERM while
# the interface is missing, which must still end the agent at once with
# everything delivered.  Last, kernel drops: a stopped agent with a small
# ring loses most of a send, and frames plus recorded drops must equal
# what was sent across a reopen too.
. "$(dirname "$0")/lib.sh"

if ! netns_usable; then
	cannot_run_all "reopening a deleted interface" "needs root and ip netns"
fi
if ! command -v setpriv >/dev/null; then
	cannot_run_all "reopening a deleted interface" "setpriv missing"
fi

RUN_USER=nobody
RUN_UID=$(id -u $RUN_USER)
RUN_GID=$(id -g $RUN_USER)
NSA=nt-ra-$$ NSB=nt-rb-$$ VA=ntra$$ VB=ntrb$$
AGENT_PID=

pair() {
	veth_pair "$NSA" "$VA" "$NSB" "$VB"
}
if ! netns_quiet "$NSA" "$NSB" || ! pair; then
	not_ok "veth pair between two namespaces set up"
	done_testing; exit 1
fi
ok "veth pair between two namespaces set up"
STORE_ARGS="--allow-uid $RUN_USER"
start_store || { not_ok "store starts"; done_testing; exit 1; }

GEN_OPTS="--mix --size imix --flows 500"
# merge OUT A B: the rows of two expected CSV files of one kind added up,
# keyed on every column but the counters (the last K; all for interface).
merge() {
	k=3
	case $1 in *interface.csv) k=7 ;; esac
	awk -F, -v OFS=, -v k=$k '
	    FNR == 1 { if (NR == 1) print; next }
	    { key = ""; for (i = 1; i <= NF - k; i++) key = key $i ","
	      keys[key] = 1
	      for (i = 1; i <= k; i++) sum[key, i] += $(NF - k + i) }
	    END { for (key in keys) { line = key
	      for (i = 1; i <= k; i++) line = line sum[key, i] (i < k ? "," : "")
	      print line } }' "$2" "$3" >"$1"
}
gen_expect e1 41 3000
gen_expect e2 42 2000
gen_expect e3 43 8000
mkdir -p "$WORK/both"
for f in hosts ports peers interface; do
	merge "$WORK/both/$f.csv" "$WORK/e1/$f.csv" "$WORK/e2/$f.csv"
done
NETS=$(local_nets "$WORK/e1")
want1=$(tail -n 1 "$WORK/e1/interface.csv" | cut -d, -f1)
want2=$(tail -n 1 "$WORK/both/interface.csv" | cut -d, -f1)

frames() {
	sql "SELECT COALESCE(sum(frames), 0) FROM interface_traffic
	    WHERE agent = '$1' AND iface = '$VB'"
}
registered() {
	wait_for "[ \"\$(sql \"SELECT count(*) FROM agent WHERE name = '$1'\")\" = 1 ]" 100
}
field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}
# compare AGENT: every view of the interface, whole run, against both sends.
compare() {
	a=$1 e=$WORK/both o=$WORK/$1
	w="agent = '$a' AND iface = '$VB'"
	sql "SELECT host, family, $PROTO_CLASS AS pc, direction, sum(packets),
	    sum(bytes), sum(frame_bytes) FROM host_traffic WHERE $w
	    GROUP BY host, family, pc, direction" >"$o.h"
	check "$a: host rows equal both sends" same_rows "$e/hosts.csv" "$o.h"
	sql "SELECT host, family, $PROTO_CLASS AS pc, port, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM port_traffic
	    WHERE $w GROUP BY host, family, pc, port, direction" >"$o.o"
	check "$a: port rows equal both sends" same_rows "$e/ports.csv" "$o.o"
	sql "SELECT host, peer, family, $PROTO_CLASS AS pc, direction,
	    sum(packets), sum(bytes), sum(frame_bytes) FROM peer_traffic
	    WHERE $w GROUP BY host, peer, family, pc, direction" >"$o.p"
	check "$a: peer rows equal both sends" same_rows "$e/peers.csv" "$o.p"
	sql "SELECT $IFACE_SUMS FROM interface_traffic WHERE $w" >"$o.i"
	check "$a: interface totals equal both sends" \
	    same_rows "$e/interface.csv" "$o.i"
	check "$a: one interface name in every row" test \
	    "$(sql "SELECT count(DISTINCT iface) FROM interface_traffic WHERE agent = '$a'")" = 1
	# Each handle's pcap_stats start at 0: a delta taken across the
	# reopen the wrong way round would show up as billions here.
	d=$(sql "SELECT COALESCE(sum(kernel_drops), 0) + COALESCE(sum(iface_drops), 0)
	    FROM agent_health WHERE agent = '$a'")
	check "$a: no kernel or interface drop recorded across the reopen ($d)" \
	    test "$d" = 0
}
# wait_lines FILE PATTERN N: N lines of FILE match PATTERN within 10 s.
wait_lines() {
	wait_for "[ \$(grep -c \"$2\" '$1') -ge $3 ]" 100
}

# --- root dropping to a user, one thread ---------------------------------
# shellcheck disable=SC2086
ip netns exec "$NSB" "$NT_BIN/nettally-agent" -i "$VB" -s "$SOCK" $NETS \
    --user $RUN_USER --name ro-root --flush 200 2>"$WORK/root.err" &
AGENT_PID=$!
check "root agent registers" registered ro-root
check "it runs as $RUN_USER with CAP_NET_RAW alone, under seccomp" test \
    "$(field "$AGENT_PID" Uid | tr -s '\t ' ' ')" = "$RUN_UID $RUN_UID $RUN_UID $RUN_UID" -a \
    "$(field "$AGENT_PID" CapEff)" = 0000000000002000 -a \
    "$(field "$AGENT_PID" Seccomp)" = 2
check "first send" send_mix "$VA" 41 3000
# At once: the last frames are still in the ring's unfinished block.
ip -n "$NSB" link del "$VB"
check "first send, link deleted right after it: all $want1 frames counted" \
    wait_for "[ \$(frames ro-root) = $want1 ]" 100
check "deletion is logged: went away, reopening every 1 s" \
    wait_lines "$WORK/root.err" "interface $VB went away; reopening every 1 s (--exit-on-error to stop instead)" 1
# Long enough for a reopen or two to find nothing.
sleep 2.5
check "the agent is still running without its interface" \
    kill -0 "$AGENT_PID"
check "the loss is logged once, not at every attempt" \
    test "$(grep -c "went away" "$WORK/root.err")" = 1
pair || not_ok "veth pair made again"
check "the interface is found again: is back" \
    wait_lines "$WORK/root.err" "interface $VB is back" 1
check "second send" send_mix "$VA" 42 2000
check "both sends: all $want2 frames counted" \
    wait_for "[ \$(frames ro-root) = $want2 ]" 100
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "root agent exits 0 on SIGTERM ($rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$WORK/root.err"
compare ro-root

# --- ambient CAP_NET_RAW as the unit gives it, --threads 2, a filter ------
# The default 1 s flush: a thread may see the deletion up to a flush after
# the other, whose reopen then finds the old fanout group still held and
# must try again rather than fail.
# shellcheck disable=SC2086
ip netns exec "$NSB" setpriv --reuid="$RUN_UID" --regid="$RUN_GID" \
    --clear-groups --inh-caps=+net_raw --ambient-caps=+net_raw -- \
    "$NT_BIN/nettally-agent" -i "$VB" -s "$SOCK" $NETS --name ro-amb \
    --threads 2 not host 127.0.0.1 2>"$WORK/amb.err" &
AGENT_PID=$!
check "ambient-capability agent with --threads 2 registers" registered ro-amb
check "it keeps CAP_NET_RAW permitted and effective, nothing ambient" test \
    "$(field "$AGENT_PID" CapPrm)" = 0000000000002000 -a \
    "$(field "$AGENT_PID" CapEff)" = 0000000000002000 -a \
    "$(field "$AGENT_PID" CapAmb)" = 0000000000000000
check "first send" send_mix "$VA" 41 3000
check "--threads 2, first send: all $want1 frames counted" \
    wait_for "[ \$(frames ro-amb) = $want1 ]" 100
ip -n "$NSB" link del "$VB"
check "--threads 2: both threads log the loss" \
    wait_lines "$WORK/amb.err" "interface $VB went away" 2
pair || not_ok "veth pair made again"
# Both threads must be back before traffic: a handle counts every frame
# between its activation and joining the fanout group.
check "--threads 2: both threads reopen their handles" \
    wait_lines "$WORK/amb.err" "interface $VB is back" 2
check "second send" send_mix "$VA" 42 2000
check "--threads 2, both sends: all $want2 frames counted" \
    wait_for "[ \$(frames ro-amb) = $want2 ]" 100
t1=$(sed -n 's/.*capture thread 1: interface .* is back.*/x/p' "$WORK/amb.err")
check "--threads 2: thread 1 reopened its own handle" test -n "$t1"

# --- SIGTERM while the interface is missing ----------------------------
ip -n "$NSB" link del "$VB"
wait_lines "$WORK/amb.err" "interface $VB went away" 4
kill -TERM "$AGENT_PID"
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
check "SIGTERM while waiting for the interface: the agent ends within 5 s" \
    test $i -lt 50
wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "SIGTERM while waiting: exit 0 ($rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/# /' "$WORK/amb.err"
check "SIGTERM while waiting: every frame delivered" \
    grep -q "$want2 frames counted and delivered" "$WORK/amb.err"
compare ro-amb

# --- kernel drops across a reopen ---------------------------------------
# A stopped agent with a 1 MiB ring misses most of a send: the kernel
# counts those frames as drops on the socket.  The interface is then
# deleted (the old handle's last drops are read as it closes) and made
# again (the new handle's counters start at 0): frames counted plus drops
# recorded must still equal the frames sent, exactly.
want3=$(tail -n 1 "$WORK/e3/interface.csv" | cut -d, -f1)
drops() {
	sql "SELECT COALESCE(sum(kernel_drops), 0) FROM agent_health
	    WHERE agent = '$1'"
}
seen() { echo $(($(frames "$1") + $(drops "$1"))); }
pair || not_ok "veth pair made again"
# shellcheck disable=SC2086
ip netns exec "$NSB" "$NT_BIN/nettally-agent" -i "$VB" -s "$SOCK" $NETS \
    --user $RUN_USER --name ro-drop --flush 200 --buffer-mb 1 \
    2>"$WORK/drop.err" &
AGENT_PID=$!
check "agent with a 1 MiB ring registers" registered ro-drop
kill -STOP "$AGENT_PID"
check "send $want3 frames to the stopped agent" send_mix "$VA" 43 8000
kill -CONT "$AGENT_PID"
check "stopped agent: frames counted plus kernel drops equal $want3" \
    wait_for "[ \$(seen ro-drop) = $want3 ]" 100
d1=$(drops ro-drop)
check "stopped agent: the kernel dropped frames ($d1)" test "$d1" -gt 0
ip -n "$NSB" link del "$VB"
wait_lines "$WORK/drop.err" "interface $VB went away" 1
pair || not_ok "veth pair made again"
check "1 MiB ring: the interface is back" \
    wait_lines "$WORK/drop.err" "interface $VB is back" 1
check "second send" send_mix "$VA" 42 2000
want=$((want3 + $(tail -n 1 "$WORK/e2/interface.csv" | cut -d, -f1)))
check "after the reopen: frames plus drops equal all $want sent" \
    wait_for "[ \$(seen ro-drop) = $want ]" 100
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "1 MiB ring agent exits 0 on SIGTERM ($rc)" test $rc = 0
d2=$(drops ro-drop)
check "no drop invented by the reopen: still $d1 ($d2)" test "$d2" = "$d1"

check "store stops cleanly on SIGTERM" stop_store
done_testing
