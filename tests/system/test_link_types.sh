#!/bin/sh
# Every framing under IP and every file format that the generator writes,
# end to end: the same traffic model (--mix: ARP or its link's own non-IP
# frame, transit, malformed, fragments, IPv6 hop-by-hop, IPv4 source
# routes, local to local) as PPPoE, Linux cooked v1 and v2, BSD loopback,
# raw IP and PPP, with and without an 802.1Q tag where the link carries an
# ethertype, and as nanosecond pcap and pcapng files.  The agent replays
# each file, and every view in the database equals the generator's own
# count: the frames differ only below IP, or only in the file around
# them, so a difference is the link decoder's or the file reading's.
. "$(dirname "$0")/lib.sh"

start_store || { not_ok "store starts"; done_testing; exit 1; }
# Recent times, as in test_capture_file.sh: nothing is rolled up yet.
T0=$(($(date +%s) / 60 * 60 - 7200))

# header_u32 FILE OFFSET FMT: the 32-bit little-endian word at OFFSET of
# FILE, printed by od as FMT (u4: decimal, x4: hex).
header_u32() {
	od -An -t"$3" -j"$2" -N4 "$1" | tr -d ' '
}

# replay_gen NAME OFFSET FMT WANT GEN_ARGS...: the generator's file NAME
# (20,000 --mix frames), its header word at OFFSET equal to WANT, replayed
# by the agent, every view equal to the generator's count.
replay_gen() {
	rg_name=$1 rg_off=$2 rg_fmt=$3 rg_want=$4
	shift 4
	if ! "$NT_GEN" -o "$WORK/$rg_name.cap" -e "$WORK/$rg_name" "$@" \
	    --packets 20000 --mix --size imix --interval 60 --start "$T0" \
	    >/dev/null; then
		not_ok "$rg_name: the generator writes the file"
		return
	fi
	check "$rg_name: the file's header says $rg_want" \
	    test "$(header_u32 "$WORK/$rg_name.cap" "$rg_off" "$rg_fmt")" = \
	    "$rg_want"
	replay_views "$rg_name"
}

# The links, by the LINKTYPE_ number in the pcap header (offset 20).
for spec in pppoe:1 sll:113 sll2:276 null:0 raw:101 ppp:9 \
    pppoe:1:vlan sll:113:vlan sll2:276:vlan; do
	link=${spec%%:*}
	lt=${spec#*:}
	lt=${lt%%:*}
	vlan=
	case $spec in *:vlan) vlan=--vlan ;; esac
	# shellcheck disable=SC2086
	replay_gen "$link${vlan:+_vlan}" 20 u4 "$lt" --link "$link" $vlan \
	    --seed 61
done

# The file formats, by their magic, each with a framing and a snapshot
# length of its own.
replay_gen pcap-ns_en10mb 0 x4 a1b23c4d --format pcap-ns --link en10mb \
    --seed 62
replay_gen pcapng_sll2 0 x4 0a0d0d0a --format pcapng --link sll2 --vlan \
    --seed 62
replay_gen pcapng_en10mb 0 x4 0a0d0d0a --format pcapng --link en10mb \
    --snaplen 96 --seed 62

# The generator refuses what a link cannot carry, naming the way out.
"$NT_GEN" -o "$WORK/x.pcap" --link raw --vlan 2>"$WORK/x.err"
rc=$?
check "generator: --link raw --vlan is refused ($rc)" test $rc -eq 2
check "generator: the message names the links that take a tag" \
    grep -q "use --link en10mb, pppoe, sll or sll2" "$WORK/x.err"

stop_store
done_testing
