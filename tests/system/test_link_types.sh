#!/bin/sh
# Every framing under IP and every file format that the generator writes,
# end to end: the same
# traffic model (--mix: ARP or its link's own non-IP frame, transit,
# malformed, fragments, IPv6 hop-by-hop, IPv4 source routes, local to
# local) as PPPoE, Linux cooked v1 and v2, BSD loopback, raw IP and PPP,
# with and without an 802.1Q tag where the link carries an ethertype, and
# as nanosecond pcap and pcapng files.  The agent replays each file, and
# every view in the database equals the generator's own count: the frames
# differ only below IP, or only in the file around them, so a difference
# is the link decoder's or the file reading's.
. "$(dirname "$0")/lib.sh"

start_store || { not_ok "store starts"; done_testing; exit 1; }
# Recent times, as in test_capture_file.sh: nothing is rolled up yet.
T0=$(($(date +%s) / 60 * 60 - 7200))

# link_type FILE: the LINKTYPE_ number in a little-endian pcap's header.
link_type() {
	od -An -tu4 -j20 -N4 "$1" | tr -d ' '
}

for spec in pppoe:1 sll:113 sll2:276 null:0 raw:101 ppp:9 \
    pppoe:1:vlan sll:113:vlan sll2:276:vlan; do
	link=${spec%%:*}
	lt=${spec#*:}
	lt=${lt%%:*}
	vlan=
	case $spec in *:vlan) vlan=--vlan ;; esac
	name=$link${vlan:+_vlan}
	# shellcheck disable=SC2086
	if ! "$NT_GEN" -o "$WORK/$name.pcap" -e "$WORK/$name" --link "$link" \
	    $vlan --packets 20000 --mix --size imix --seed 61 --interval 60 \
	    --start "$T0" >/dev/null; then
		not_ok "$name: the generator writes the file"
		continue
	fi
	check "$name: the file's link type is $lt" \
	    test "$(link_type "$WORK/$name.pcap")" = "$lt"
	# shellcheck disable=SC2046
	agent -r "$WORK/$name.pcap" $(local_nets "$WORK/$name") --name "$name" \
	    --resolution 60 2>"$WORK/$name.err"
	check "$name: the agent exits 0" test $? -eq 0
	views_equal "$name" "$WORK/$name" "$name"
done

# file_magic FILE: the first 4 bytes of FILE, as a little-endian number
# in hex.
file_magic() {
	od -An -tx4 -N4 "$1" | tr -d ' '
}

# The file formats, each with a framing and a snapshot length of its own.
for spec in pcap-ns:a1b23c4d:en10mb: pcapng:0a0d0d0a:sll2:--vlan \
    pcapng:0a0d0d0a:en10mb:--snaplen=96; do
	fmt=${spec%%:*}
	rest=${spec#*:}
	magic=${rest%%:*}
	rest=${rest#*:}
	link=${rest%%:*}
	extra=${rest#*:}
	name=${fmt}_$link
	# shellcheck disable=SC2086
	if ! "$NT_GEN" -o "$WORK/$name" -e "$WORK/$name.exp" --format "$fmt" \
	    --link "$link" $extra --packets 20000 --mix --size imix --seed 62 \
	    --interval 60 --start "$T0" >/dev/null; then
		not_ok "$name: the generator writes the file"
		continue
	fi
	check "$name: the file starts with the $fmt magic" \
	    test "$(file_magic "$WORK/$name")" = "$magic"
	# shellcheck disable=SC2046
	agent -r "$WORK/$name" $(local_nets "$WORK/$name.exp") --name "$name" \
	    --resolution 60 2>"$WORK/$name.err"
	check "$name: the agent exits 0" test $? -eq 0
	views_equal "$name" "$WORK/$name.exp" "$name"
done

# The generator refuses what a link cannot carry, naming the way out.
"$NT_GEN" -o "$WORK/x.pcap" --link raw --vlan 2>"$WORK/x.err"
rc=$?
check "generator: --link raw --vlan is refused ($rc)" test $rc -eq 2
check "generator: the message names the links that take a tag" \
    grep -q "use --link en10mb, pppoe, sll or sll2" "$WORK/x.err"

stop_store
done_testing
