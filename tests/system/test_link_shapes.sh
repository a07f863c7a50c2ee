#!/bin/sh
# The link and encapsulation shapes the decoder reads beyond the plain
# framings of test_link_types.sh, each written by the generator and
# replayed end to end: tag stacks (802.1ad, old QinQ), MPLS label stacks
# behind an ethertype, PPP and Cisco HDLC, Cisco ACI's ethertype 0xfff2
# bare, tagged and cooked; Linux cooked headers of devices that are not
# Ethernet (PPP, loopback, tunnels, GRE, Frame Relay, radiotap, netlink)
# with an ethertype or the kernel's own protocol values (0x0003 a whole
# Ethernet frame, 0x0007 PPP) or GRE types; and the PPP, Cisco HDLC and
# loopback link types the generator had no framing for; bridged
# Ethernet (0x6558); PPP with compressed headers, and in a raw-IP file;
# IPv4-only and IPv6-only link types; every BSD's IPv6 loopback family.  Each capture
# holds the --mix traffic (ARP or the link's own non-IP frame, transit,
# malformed, fragments, hop-by-hop, source routes, local to local), and
# every view in the database must equal the generator's own count, which
# comes from its model, not from reading the frames back.
. "$(dirname "$0")/lib.sh"

start_store || { not_ok "store starts"; done_testing; exit 1; }
# Recent times, as in test_capture_file.sh: nothing is rolled up yet.
T0=$(($(date +%s) / 60 * 60 - 7200))

# shape NAME LINKTYPE AT HEX GEN_ARGS...: the generator's capture of 5,000
# --mix frames with GEN_ARGS; the link type in its pcap header is
# LINKTYPE, and the first frame's bytes from offset AT are HEX (a part of
# the link header every frame carries, ARP and IP alike; "-" checks
# none); replayed, every view equals the generator's count.
shape() {
	sh_name=$1 sh_lt=$2 sh_at=$3 sh_hex=$4
	shift 4
	if ! "$NT_GEN" -o "$WORK/$sh_name.cap" -e "$WORK/$sh_name" "$@" \
	    --packets 5000 --mix --size imix --duration 300 \
	    --start "$T0" >/dev/null; then
		not_ok "$sh_name: the generator writes the file"
		return
	fi
	sh_got=$(od -An -tu4 -j20 -N4 "$WORK/$sh_name.cap" | tr -d ' ')
	sh_bytes=
	if [ "$sh_hex" != - ]; then
		# A classic pcap's first frame follows 24 + 16 header bytes.
		sh_bytes=$(od -An -tx1 -j$((40 + sh_at)) \
		    -N$((${#sh_hex} / 2)) "$WORK/$sh_name.cap" | tr -d ' \n')
	fi
	check "$sh_name: link type $sh_lt${sh_bytes:+, bytes $sh_bytes at $sh_at}" \
	    test "$sh_got" = "$sh_lt" -a "$sh_bytes" = "${sh_hex#-}"
	replay_views "$sh_name"
}

# nonip NAME: every frame of NAME's capture was counted, none as IP: the
# generator's model says that framing hides the packets.
nonip() {
	check "$1: every frame counted as non-IP" \
	    test "$(sql "SELECT sum(frames) = sum(non_ip_frames) AND
	    sum(frames) = 5000 FROM interface_traffic WHERE agent = '$1'")" = 1
}

# Tag stacks: 802.1ad and the old 0x9100 outside 802.1Q, any depth.
shape qinq 1 12 88a800648100 --tags 88a8,8100 --seed 71
shape tags_9100_4 1 12 910000648100006581000066 --tags 9100,8100,8100,8100 \
    --ipv6-share 50 --seed 72
shape pppoe_qinq 1 12 88a800648100 --link pppoe --tags 88a8,8100 --seed 73
shape sll2_qinq 276 0 88a8 --link sll2 --tags 88a8,8100 --seed 74

# MPLS label stacks over each type field that can announce them.
shape mpls 1 - - --mpls 1 --seed 75
shape mpls3_vlan 1 12 8100 --mpls 3 --vlan --ipv6-share 50 --seed 76
shape pppoe_mpls 1 - - --link pppoe --mpls 2 --seed 77
shape ppp_mpls 9 0 ff03 --link ppp --mpls 2 --seed 78
shape sll_mpls 113 - - --link sll --mpls 2 --seed 79

# Cisco ACI gleaning: IPv4 as ethertype 0xfff2, bare, tagged, cooked.
shape aci 1 - - --aci --seed 80
shape aci_vlan 1 12 81000064 --aci --vlan --seed 81
shape aci_qinq 1 12 88a800648100 --aci --tags 88a8,8100 --seed 82
shape sll_aci 113 2 0001 --link sll --aci --seed 83
shape sll2_aci_vlan 276 0 8100 --link sll2 --aci --vlan --seed 84
shape sll_ethernet_aci 113 14 0003 --link sll --sll-proto ethernet --aci \
    --seed 85

# Cooked headers of devices that are not Ethernet, with an ethertype:
# PPP (512), IPIP tunnel (768), loopback (772), tun (65534), and an
# ethertype on Frame Relay and radiotap devices, which is still one.
shape sll_ppp_dev 113 2 0200 --link sll --sll-type 512 --seed 86
shape sll2_tunnel 276 8 0300 --link sll2 --sll-type 768 --seed 87
shape sll_loopback 113 2 0304 --link sll --sll-type 772 --vlan --seed 88
shape sll2_tun 276 8 fffe --link sll2 --sll-type 65534 --seed 89
shape sll_frad_ethertype 113 2 0302 --link sll --sll-type 770 --seed 90
shape sll2_radiotap_ethertype 276 8 0323 --link sll2 --sll-type 803 \
    --seed 91

# The kernel's own protocol values: a whole Ethernet frame (0x0003) or
# PPP in HDLC framing (0x0007) behind the cooked header.
shape sll_ethernet 113 14 0003 --link sll --sll-proto ethernet --seed 92
shape sll2_ethernet_qinq 276 0 0003 --link sll2 --sll-proto ethernet \
    --tags 88a8,8100 --sll-type 772 --seed 93
shape sll_ppp 113 14 0007ff03 --link sll --sll-proto ppp --sll-type 512 \
    --seed 94
shape sll2_ppp_mpls 276 0 0007 --link sll2 --sll-proto ppp --sll-type 512 \
    --mpls 1 --seed 95

# The same on Frame Relay (770) and radiotap (803) devices, and anything
# on a netlink device (824): the device's own framing, not IP.
shape sll_frad_ethernet 113 2 0302 --link sll --sll-type 770 \
    --sll-proto ethernet --seed 96
nonip sll_frad_ethernet
shape sll2_frad_ppp 276 8 0302 --link sll2 --sll-type 770 --sll-proto ppp \
    --seed 97
nonip sll2_frad_ppp
shape sll_radiotap_ppp 113 2 0323 --link sll --sll-type 803 \
    --sll-proto ppp --seed 98
nonip sll_radiotap_ppp
shape sll2_radiotap_ethernet 276 8 0323 --link sll2 --sll-type 803 \
    --sll-proto ethernet --seed 99
nonip sll2_radiotap_ethernet
shape sll_netlink 113 2 0338 --link sll --sll-type 824 --seed 100
nonip sll_netlink

# PPPoE behind a cooked header, as `-i any` sees a PPPoE client's link.
shape sll_pppoe 113 14 8864 --link sll --sll-proto pppoe --ipv6-share 50 \
    --seed 129
shape sll2_pppoe_qinq_mpls 276 0 88a8 --link sll2 --sll-proto pppoe \
    --tags 88a8,8100 --mpls 2 --seed 130
shape sll_pppoe_compress 113 2 0200 --link sll --sll-type 512 \
    --sll-proto pppoe --ppp-compress --seed 131

# A GRE device (778): the protocol field is a GRE type.
shape sll_gre 113 2 030a --link sll --sll-type 778 --seed 101
shape sll2_gre_mpls 276 8 030a --link sll2 --sll-type 778 --mpls 2 \
    --seed 102
shape sll_gre_ppp 113 14 880bff03 --link sll --sll-type 778 \
    --sll-proto gre-ppp --seed 103
shape sll2_gre_ethernet_vlan 276 0 6400 --link sll2 --sll-type 778 \
    --sll-proto gre-ethernet --vlan --seed 104
shape sll_gre_wccp 113 2 030a --link sll --sll-type 778 \
    --sll-proto gre-wccp --ipv6-share 0 --seed 132

# PPP, Cisco HDLC and loopback link types, and each one's framing under
# another's link type.
shape ppp_serial 50 0 ff03 --link ppp-serial --seed 105
shape ppp_dir 204 1 ff03 --link ppp-dir --seed 106
shape ppp_ether 51 0 11004e54 --link ppp-ether --seed 107
shape ppp_ether_mpls 51 0 11004e54 --link ppp-ether --mpls 1 --seed 108
shape chdlc 104 0 0f00 --link chdlc --seed 109
shape chdlc_mpls 104 0 0f00 --link chdlc --mpls 2 --seed 110
shape null_ppp 0 0 ff03 --link null-ppp --ipv6-share 50 --seed 133
shape ppp_chdlc 9 0 0f00 --link ppp-chdlc --mpls 1 --seed 134
shape null_ethertype 0 - - --link null-ethertype --ipv6-share 50 --seed 135
shape null_ethertype_qinq_teb 0 0 a8880000 --link null-ethertype \
    --tags 88a8,8100 --teb --mpls 1 --seed 136
shape null_be 0 0 000000 --link null-be --ipv6-share 50 --seed 111
shape loop 108 0 000000 --link loop --ipv6-share 50 --seed 112

# Bridged Ethernet (0x6558, a gretap's frames) bare, tagged, cooked on a
# GRE device, under Cisco HDLC, with ACI's type inside.
shape teb 1 12 6558 --teb --seed 113
shape teb_vlan_mpls 1 12 810000646558 --teb --vlan --mpls 1 --seed 114
shape sll_gre_teb 113 14 6558 --link sll --sll-type 778 --teb --seed 115
shape chdlc_teb 104 0 0f006558 --link chdlc --teb --seed 116
shape sll2_teb_aci 276 0 6558 --link sll2 --teb --aci --seed 117

# PPP with address/control and protocol field compression (RFC 1661),
# and PPP framing in a raw-IP file, bare or behind a Linux ISDN header.
shape ppp_compress 9 - - --link ppp --ppp-compress --seed 118
shape ppp_dir_compress 204 - - --link ppp-dir --ppp-compress \
    --ipv6-share 50 --seed 119
shape pppoe_compress 1 - - --link pppoe --ppp-compress --seed 120
shape sll_ppp_compress 113 14 0007 --link sll --sll-proto ppp \
    --ppp-compress --seed 121
shape raw_ppp 101 0 ff03 --link raw-ppp --ipv6-share 50 --seed 122
shape raw_ppp_mpls 101 0 ff03 --link raw-ppp --mpls 2 --seed 123
shape raw_isdn 101 0 000000000000ff03 --link raw-isdn --ipv6-share 50 \
    --seed 137

# Link types that carry one IP version and nothing else, and the other
# BSDs' IPv6 loopback families (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
shape ipv4 228 - - --link ipv4 --ipv6-share 0 --seed 124
shape ipv6 229 0 60 --link ipv6 --ipv6-share 100 --seed 125
shape null_af24 0 - - --link null --inet6-family 24 --ipv6-share 50 \
    --seed 126
shape null_be_af28 0 0 000000 --link null-be --inet6-family 28 \
    --ipv6-share 50 --seed 127
shape loop_af30 108 0 000000 --link loop --inet6-family 30 \
    --ipv6-share 50 --seed 128

# Same options, same bytes, for the new framings too.
"$NT_GEN" -o "$WORK/again.cap" --packets 5000 --mix --size imix \
    --duration 300 --start "$T0" --link sll2 --sll-type 778 \
    --sll-proto gre-ethernet --vlan --seed 104 -e "$WORK/again" >/dev/null
check "generator: the same options give the same bytes" \
    cmp -s "$WORK/again.cap" "$WORK/sll2_gre_ethernet_vlan.cap"

# The generator refuses what a framing cannot carry, naming the way out.
refused() {
	rf_want=$1
	shift
	"$NT_GEN" -o "$WORK/x.pcap" --packets 1 "$@" 2>"$WORK/x.err"
	rf_rc=$?
	check "generator: $* is refused ($rf_rc): $(head -n 1 "$WORK/x.err")" \
	    test $rf_rc -eq 2 -a -n "$(grep -F -- "$rf_want" "$WORK/x.err")"
}
refused "use --link en10mb, sll or sll2" --link pppoe --aci
refused "nor --mpls" --aci --mpls 1
refused "use --link en10mb, sll or sll2" --link null-ethertype --aci
refused "use --link en10mb, sll or sll2" --link sll --sll-type 778 --aci
refused "use --link en10mb, pppoe, sll or sll2" --link sll --sll-proto ppp \
    --vlan
refused "use --link en10mb, pppoe, sll or sll2" --link chdlc --vlan
refused "use --sll-type 778" --link sll2 --sll-proto gre-ppp
refused "use another --sll-type than 778" --link sll --sll-type 778 \
    --sll-proto pppoe
refused "use --link sll or sll2" --sll-type 512
refused "no type field" --link loop --mpls 1
refused "use --link en10mb, sll, sll2 or chdlc" --link pppoe --teb
refused "no PPP header to compress" --link raw-ppp --ppp-compress
refused "no PPP header to compress" --link null-ppp --ppp-compress
refused "no PPP header to compress" --link raw-isdn --ppp-compress
refused "use --ipv6-share 0" --link sll --sll-type 778 --sll-proto gre-wccp
refused "no PPP header to compress" --link sll --ppp-compress
refused "use --ipv6-share 0" --link ipv4
refused "use --ipv6-share 100" --link ipv6 --ipv6-share 99
refused "use --link null, null-be or loop" --inet6-family 28
refused "bad value" --link null --inet6-family 29
refused "bad value" --tags 8100,0800
refused "bad value" --tags 8100,8100,8100,8100,8100
refused "bad value" --mpls 9

stop_store
done_testing
