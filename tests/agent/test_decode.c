/*
 * test_decode.c - table-driven tests of agent/decode.c.
 *
 * Each case is a hand-built frame (hex, spaces ignored) with the exact
 * struct decoded it must produce.  Every case is also run at every
 * truncation length 0..caplen from a heap buffer of exactly that size, so
 * the sanitizers see any read past the capture; the truncated results must
 * keep the decoder's invariants.
 *
 * Addresses: IPv4 192.0.2.1 -> 198.51.100.2 (RFC 5737), IPv6 2001:db8::1 ->
 * 2001:db8::2 (RFC 3849) in every outermost header; inner (tunnelled or
 * quoted) headers use other addresses, so a wrong layer shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode.h"

/* Link headers. */
#define MACS		"020000000002" "020000000001"
#define ETH(t)		MACS t
#define TAG(tpid, t)	tpid "0064" t		/* VLAN 100, then type t */
#define PPPOE_L(l, p)	"8864" "1100" "1234" l p /* session, length l */
#define PPPOE(proto)	PPPOE_L("05dc", proto)	/* past the frame's end */
#define LSE(label_bos)	label_bos		/* one MPLS label stack entry */
#define SLL(proto)	"0000" "0001" "0006" "0200000000010000" proto
#define SLL_HA(ha, p)	"0000" ha "0006" "0200000000010000" p
#define SLL2(proto)	proto "0000" "00000002" "0001" "00" "06" \
			"0200000000010000"
#define SLL2_HA(p, ha)	p "0000" "00000002" ha "00" "06" "0200000000010000"

/* IPv4 (RFC 791): version/IHL, TOS, total length, id, frag, TTL, proto. */
#define A4		"c0000201" "c6336402"
#define IP4X(vihl, tot, frag, p) vihl "00" tot "1234" frag "40" p "0000" A4
#define IP4(tot, p)	IP4X("45", tot, "0000", p)
#define IP4F(tot, frag, p) IP4X("45", tot, frag, p)

/* IPv6 (RFC 8200). */
#define A6		"20010db8000000000000000000000001" \
			"20010db8000000000000000000000002"
#define IP6(plen, nh)	"60000000" plen nh "40" A6

/* Transport headers: UDP 49152 -> 53, TCP 49152 -> 80, SCTP 5000 -> 2905. */
#define UDP		"c000" "0035" "0008" "0000"
#define TCP		"c000" "0050" "00000001" "00000000" "5002" "ffff" \
			"0000" "0000"
#define SCTP		"1388" "0b59" "00000000" "00000000"

/* Expectations. */
#define V4(p, len)		DECODE_IPV4, p, len, 0, 0, 0
#define V4P(p, len, s, d)	DECODE_IPV4, p, len, 1, s, d
#define V6(p, len)		DECODE_IPV6, p, len, 0, 0, 0
#define V6P(p, len, s, d)	DECODE_IPV6, p, len, 1, s, d
#define NONIP			DECODE_NON_IP, 0, 0, 0, 0, 0
#define BAD			DECODE_MALFORMED, 0, 0, 0, 0, 0
#define ALL			(-1)	/* caplen: the whole frame */
#define SAME			0	/* wirelen: the whole frame */

struct tcase {
	const char	*name;
	int		 dlt;
	const char	*hex;
	int		 caplen;
	uint32_t	 wirelen;
	enum decode_kind kind;
	uint8_t		 proto;
	uint64_t	 ip_bytes;
	uint8_t		 has_ports;
	uint16_t	 sport;
	uint16_t	 dport;
};

static struct tcase cases[] = {
	/* Ethernet and ethertypes. */
	{ "eth_ipv4_tcp", DLT_EN10MB, ETH("0800") IP4("0028", "06") TCP,
	    ALL, SAME, V4P(6, 40, 49152, 80) },
	{ "eth_ipv4_udp_padded", DLT_EN10MB, ETH("0800") IP4("001c", "11") UDP
	    "000000000000000000000000000000000000", ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "eth_ipv4_icmp", DLT_EN10MB, ETH("0800") IP4("001c", "01")
	    "0800f7ff00000000", ALL, SAME, V4(1, 28) },
	{ "eth_ipv6_udp", DLT_EN10MB, ETH("86dd") IP6("0008", "11") UDP,
	    ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "eth_ipv6_tcp", DLT_EN10MB, ETH("86dd") IP6("0014", "06") TCP,
	    ALL, SAME, V6P(6, 60, 49152, 80) },
	{ "eth_arp", DLT_EN10MB, ETH("0806") "0001080006040001"
	    "020000000001c0000201" "000000000000c6336402", ALL, SAME, NONIP },
	{ "eth_llc_snap_ip", DLT_EN10MB, ETH("0030") "aaaa03" "000000" "0800"
	    IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "eth_empty", DLT_EN10MB, "", ALL, SAME, NONIP },
	{ "eth_ipv4_nothing_captured", DLT_EN10MB, ETH("0800"), ALL, 60, BAD },
	/* Cisco ACI ARP gleaning: an IPv4 packet under its own ethertype. */
	{ "eth_aci_glean_ipv4", DLT_EN10MB, ETH("fff2") IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "eth_vlan_aci_glean_ipv4", DLT_EN10MB, ETH(TAG("8100", "fff2"))
	    IP4("0028", "06") TCP, ALL, SAME, V4P(6, 40, 49152, 80) },
	{ "eth_aci_glean_ipv6", DLT_EN10MB, ETH("fff2") IP6("0008", "11") UDP,
	    ALL, SAME, NONIP },
	{ "eth_aci_glean_nothing_captured", DLT_EN10MB, ETH("fff2"), ALL, 60,
	    NONIP },

	/* 802.1Q / 802.1ad / 0x9100 tag stacks. */
	{ "vlan_ipv4", DLT_EN10MB, ETH(TAG("8100", "0800")) IP4("001c", "11")
	    UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "vlan0_ipv6", DLT_EN10MB, ETH("8100" "0000" "86dd") IP6("0008", "11")
	    UDP, ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "qinq_88a8_8100_ipv6", DLT_EN10MB,
	    ETH(TAG("88a8", TAG("8100", "86dd"))) IP6("0014", "06") TCP,
	    ALL, SAME, V6P(6, 60, 49152, 80) },
	{ "qinq_9100_triple", DLT_EN10MB,
	    ETH(TAG("9100", TAG("8100", TAG("8100", "0800")))) IP4("0028", "06")
	    TCP, ALL, SAME, V4P(6, 40, 49152, 80) },
	{ "vlan_depth_8", DLT_EN10MB, ETH(TAG("88a8", TAG("8100", TAG("8100",
	    TAG("8100", TAG("8100", TAG("8100", TAG("8100", TAG("8100",
	    "0800"))))))))) IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	/* DESIGN rule 2: any stack of tags, as tshark reads it. */
	{ "vlan_depth_12", DLT_EN10MB, ETH(TAG("88a8", TAG("8100", TAG("8100",
	    TAG("8100", TAG("8100", TAG("8100", TAG("8100", TAG("8100",
	    TAG("8100", TAG("8100", TAG("8100", TAG("8100", "0800")))))))))))))
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "vlan_tags_to_the_end", DLT_EN10MB, ETH(TAG("8100", TAG("8100",
	    "8100"))), ALL, SAME, NONIP },
	{ "vlan_llc", DLT_EN10MB, ETH(TAG("8100", "0030")) "aaaa03000000"
	    "0800" IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "vlan_arp", DLT_EN10MB, ETH(TAG("8100", "0806")) "0001080006040001",
	    ALL, SAME, NONIP },
	{ "vlan_totlen0", DLT_EN10MB, ETH(TAG("8100", "0800")) IP4("0000", "06")
	    TCP, ALL, 1518, V4P(6, 1500, 49152, 80) },

	/* PPPoE session (RFC 2516). */
	{ "pppoe_ipv4", DLT_EN10MB, ETH(PPPOE("0021")) IP4("0028", "06") TCP,
	    ALL, SAME, V4P(6, 40, 49152, 80) },
	{ "pppoe_ipv6", DLT_EN10MB, ETH(PPPOE("0057")) IP6("0008", "11") UDP,
	    ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "pppoe_in_vlan", DLT_EN10MB, ETH(TAG("8100", PPPOE("0021")))
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "pppoe_mpls_ipv4", DLT_EN10MB, ETH(PPPOE("0281")) LSE("00010140")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	/* tshark reads nothing past the PPPoE length. */
	{ "pppoe_length_ends_at_ip_header", DLT_EN10MB, ETH(PPPOE_L("0016",
	    "0021")) IP4("001c", "11") UDP, ALL, SAME, V4(17, 28) },
	{ "pppoe_length_in_ip_header", DLT_EN10MB, ETH(PPPOE_L("0015",
	    "0021")) IP4("001c", "11") UDP, ALL, SAME, BAD },
	{ "pppoe_length_no_protocol", DLT_EN10MB, ETH(PPPOE_L("0001",
	    "0021")) IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "pppoe_length_exact", DLT_EN10MB, ETH(PPPOE_L("001e", "0021"))
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "pppoe_one_byte_behind", DLT_EN10MB, ETH(PPPOE_L("0025", "57")), ALL,
	    60, NONIP },
	{ "pppoe_totlen0_wire_ends_at_length", DLT_EN10MB, ETH(PPPOE_L("001e",
	    "0021")) IP4("0000", "11") UDP, ALL, 1514, V4P(17, 28, 49152, 53) },
	{ "pppoe_lcp", DLT_EN10MB, ETH(PPPOE("c021")) "0101000a0506", ALL,
	    SAME, NONIP },
	{ "pppoe_discovery", DLT_EN10MB, ETH("8863") "1109000000000000",
	    ALL, SAME, NONIP },
	{ "pppoe_ipv6_plen0", DLT_EN10MB, ETH(PPPOE("0057")) IP6("0000", "06")
	    TCP, ALL, 1514, V6P(6, 1492, 49152, 80) },

	/* MPLS label stacks (RFC 3032). */
	{ "mpls_two_labels_ipv4", DLT_EN10MB, ETH("8847") LSE("00010040")
	    LSE("00020140") IP4("0028", "06") TCP, ALL, SAME,
	    V4P(6, 40, 49152, 80) },
	{ "mpls_multicast_ipv6", DLT_EN10MB, ETH("8848") LSE("00010140")
	    IP6("0008", "11") UDP, ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "mpls_in_vlan", DLT_EN10MB, ETH(TAG("8100", "8847")) LSE("00010140")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "mpls_pw_control_word", DLT_EN10MB, ETH("8847") LSE("00010140")
	    "00000000" ETH("0800") IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "mpls_17_labels", DLT_EN10MB, ETH("8847") "00010040" "00010040"
	    "00010040" "00010040" "00010040" "00010040" "00010040" "00010040"
	    "00010040" "00010040" "00010040" "00010040" "00010040" "00010040"
	    "00010040" "00010040" "00010140" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "mpls_no_bottom", DLT_EN10MB, ETH("8847") "00010040" "00010040"
	    "00010040", ALL, SAME, NONIP },
	/* A GAL (13) or OAM alert (14) at the bottom: a channel, not IP. */
	{ "mpls_gal_bottom", DLT_EN10MB, ETH("8847") LSE("00010040")
	    LSE("0000d140") IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "mpls_oam_alert_bottom", DLT_EN10MB, ETH("8847") LSE("0000e140")
	    IP6("0008", "11") UDP, ALL, SAME, NONIP },
	{ "mpls_gal_above_bottom", DLT_EN10MB, ETH("8847") LSE("0000d040")
	    LSE("00010140") IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "mpls_totlen0", DLT_EN10MB, ETH("8847") LSE("00010040")
	    LSE("00020140") IP4("0000", "06") TCP, ALL, 1000,
	    V4P(6, 978, 49152, 80) },

	/* Linux cooked capture v1 and v2. */
	{ "sll_ipv4", DLT_LINUX_SLL, SLL("0800") IP4("001c", "11") UDP, ALL,
	    SAME, V4P(17, 28, 49152, 53) },
	{ "sll_ipv6", DLT_LINUX_SLL, SLL("86dd") IP6("0014", "06") TCP, ALL,
	    SAME, V6P(6, 60, 49152, 80) },
	{ "sll_vlan_ipv4", DLT_LINUX_SLL, SLL(TAG("8100", "0800"))
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll_arp", DLT_LINUX_SLL, SLL("0806") "0001080006040001", ALL, SAME,
	    NONIP },
	{ "sll_llc", DLT_LINUX_SLL, SLL("0004") "424203", ALL, SAME, NONIP },
	/* The kernel's own values: a whole Ethernet frame, PPP in HDLC. */
	{ "sll_ethernet", DLT_LINUX_SLL, SLL("0003") ETH("0800")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll_ppp_hdlc", DLT_LINUX_SLL, SLL("0007") "ff03" "0021"
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll2_ppp_hdlc", DLT_LINUX_SLL2, SLL2("0007") "ff03" "0057"
	    IP6("0008", "11") UDP, ALL, SAME, V6P(17, 48, 49152, 53) },
	/* Transparent Ethernet bridging: the inner frame's IP counts. */
	/* On a GRE interface (ARPHRD_IPGRE) the field is a GRE type. */
	{ "sll_gre_ipv4", DLT_LINUX_SLL, SLL_HA("030a", "0800")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll_gre_ppp", DLT_LINUX_SLL, SLL_HA("030a", "880b") "ff03" "0021"
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll_gre_old_ethernet", DLT_LINUX_SLL, SLL_HA("030a", "6400")
	    ETH("0800") IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "sll_gre_wccp", DLT_LINUX_SLL, SLL_HA("030a", "883e")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll_gre_wccp_ipv6", DLT_LINUX_SLL, SLL_HA("030a", "883e")
	    IP6("0008", "11") UDP, ALL, SAME, BAD },
	{ "sll_gre_vlan", DLT_LINUX_SLL, SLL_HA("030a", TAG("8100", "0800"))
	    IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "sll2_gre_pppoe", DLT_LINUX_SLL2, SLL2_HA("8864", "030a")
	    "1100" "1234" "0000" "0021" IP4("001c", "11") UDP, ALL, SAME,
	    NONIP },
	{ "sll2_pppoe", DLT_LINUX_SLL2, SLL2_HA("8864", "0001")
	    "1100" "1234" "001e" "0021" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "sll_teb", DLT_LINUX_SLL, SLL("6558") ETH("0800") IP4("001c", "11")
	    UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "eth_teb_vlan", DLT_EN10MB, ETH("6558") ETH(TAG("8100", "86dd"))
	    IP6("0008", "11") UDP, ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "sll_netlink", DLT_LINUX_SLL, SLL_HA("0338", "0800")
	    IP4("001c", "11") UDP, ALL, SAME, NONIP },
	/*
	 * The kernel's own values on a Frame Relay (ARPHRD_FRAD) or 802.11
	 * monitor (ARPHRD_IEEE80211_RADIOTAP) device: the payload is that
	 * device's framing, not Ethernet or PPP.  An ethertype is still one.
	 */
	{ "sll_frad_ethernet", DLT_LINUX_SLL, SLL_HA("0302", "0003")
	    ETH("0800") IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "sll_radiotap_ethernet", DLT_LINUX_SLL, SLL_HA("0323", "0003")
	    ETH("0800") IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "sll2_radiotap_ppp_hdlc", DLT_LINUX_SLL2, SLL2_HA("0007", "0323")
	    "ff03" "0021" IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "sll2_frad_ppp_hdlc", DLT_LINUX_SLL2, SLL2_HA("0007", "0302")
	    "ff03" "0021" IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "sll_radiotap_ipv4", DLT_LINUX_SLL, SLL_HA("0323", "0800")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "sll_ipv6_plen0", DLT_LINUX_SLL, SLL("86dd") IP6("0000", "06") TCP,
	    ALL, 9016, V6P(6, 9000, 49152, 80) },
	{ "sll2_ipv4", DLT_LINUX_SLL2, SLL2("0800") IP4("0028", "06") TCP, ALL,
	    SAME, V4P(6, 40, 49152, 80) },
	{ "sll2_ipv6", DLT_LINUX_SLL2, SLL2("86dd") IP6("0008", "11") UDP, ALL,
	    SAME, V6P(17, 48, 49152, 53) },
	{ "sll2_arp", DLT_LINUX_SLL2, SLL2("0806") "0001080006040001", ALL,
	    SAME, NONIP },
	{ "sll2_netlink", DLT_LINUX_SLL2, SLL2_HA("0800", "0338")
	    IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "sll2_ipv6_plen0", DLT_LINUX_SLL2, SLL2("86dd") IP6("0000", "06")
	    TCP, ALL, 9020, V6P(6, 9000, 49152, 80) },

	/* Raw IP: version nibble (DLT_RAW) or fixed (DLT_IPV4, DLT_IPV6). */
	{ "raw_ipv4", DLT_RAW, IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "raw_ipv6", DLT_RAW, IP6("0014", "06") TCP, ALL, SAME,
	    V6P(6, 60, 49152, 80) },
	{ "raw_version5", DLT_RAW, "55000014" "00000000" "40060000" A4, ALL,
	    SAME, NONIP },
	{ "raw_empty", DLT_RAW, "", ALL, SAME, NONIP },
	{ "raw_ipv4_totlen0", DLT_RAW, IP4("0000", "06") TCP, ALL, 65000,
	    V4P(6, 65000, 49152, 80) },
	/* tshark looks for PPP at byte 0, then at byte 6 (an ISDN header). */
	{ "raw_ppp", DLT_RAW, "ff03" "0021" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "raw_isdn_ppp", DLT_RAW, "000102030405" "ff03" "0057"
	    IP6("0008", "11") UDP, ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "raw_ff03_at_byte_6", DLT_RAW, IP4F("001c", "ff03", "11") UDP, ALL,
	    SAME, NONIP },
	{ "raw_shorter_than_8", DLT_RAW, IP4("001c", "11"), 7, 28, NONIP },
	{ "raw_8_bytes", DLT_RAW, IP4("001c", "11"), 8, 28, BAD },
	{ "dlt_ipv4", DLT_IPV4, IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "dlt_ipv4_holding_ipv6", DLT_IPV4, IP6("0008", "11") UDP, ALL, SAME,
	    BAD },
	{ "dlt_ipv6", DLT_IPV6, IP6("0008", "11") UDP, ALL, SAME,
	    V6P(17, 48, 49152, 53) },
	/* tshark's IPv6 dissector leaves another version as data. */
	{ "dlt_ipv6_holding_ipv4", DLT_IPV6, IP4("001c", "11") UDP
	    "0000000000000000000000000000", ALL, SAME, NONIP },

	/* BSD loopback: host order (DLT_NULL), network order (DLT_LOOP). */
	{ "null_le_af2", DLT_NULL, "02000000" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "null_be_af2", DLT_NULL, "00000002" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "null_le_af24", DLT_NULL, "18000000" IP6("0008", "11") UDP, ALL,
	    SAME, V6P(17, 48, 49152, 53) },
	{ "null_le_af28", DLT_NULL, "1c000000" IP6("0008", "11") UDP, ALL,
	    SAME, V6P(17, 48, 49152, 53) },
	{ "null_le_af30", DLT_NULL, "1e000000" IP6("0014", "06") TCP, ALL,
	    SAME, V6P(6, 60, 49152, 80) },
	{ "null_be_af30", DLT_NULL, "0000001e" IP6("0014", "06") TCP, ALL,
	    SAME, V6P(6, 60, 49152, 80) },
	/* Linux's AF_INET6: tshark reads it as data. */
	{ "null_le_af10", DLT_NULL, "0a000000" IP6("0008", "11") UDP, ALL,
	    SAME, NONIP },
	{ "null_af7", DLT_NULL, "07000000" IP4("001c", "11") UDP, ALL, SAME,
	    NONIP },
	/* Cisco HDLC (its type read as an ethertype) and PPP under DLT_NULL */
	{ "null_chdlc", DLT_NULL, "0f000800" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "null_chdlc_bcast_v6", DLT_NULL, "8f0086dd" IP6("0008", "11") UDP,
	    ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "null_ppp", DLT_NULL, "ff030021" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	/* a value past 1500 is an ethertype, in either byte order */
	{ "null_ethertype_be", DLT_NULL, "00000800" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "null_ethertype_le", DLT_NULL, "dd860000" IP6("0008", "11") UDP,
	    ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "null_ethertype_arp", DLT_NULL, "06080000" "0001080006040001",
	    ALL, SAME, NONIP },
	/* ...but not ACI's gleaning type, unless behind a tag. */
	{ "null_ethertype_aci_glean", DLT_NULL, "f2ff0000" IP4("001c", "11")
	    UDP, ALL, SAME, NONIP },
	{ "null_vlan_aci_glean", DLT_NULL, "00810000" "0064" "fff2"
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "null_ipv6_plen0", DLT_NULL, "1e000000" IP6("0000", "11") UDP, ALL,
	    1004, V6P(17, 1000, 49152, 53) },
	{ "loop_be_af2", DLT_LOOP, "00000002" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "loop_be_af24", DLT_LOOP, "00000018" IP6("0008", "11") UDP, ALL,
	    SAME, V6P(17, 48, 49152, 53) },
	/*
	 * tshark reads DLT_NULL in its own (little-endian) order and guesses
	 * at IRIX's 16-bit family in either half; DLT_LOOP it takes as it is.
	 */
	{ "null_irix_af2_first", DLT_NULL, "00020000" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "null_irix_af2_last", DLT_NULL, "00000200" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "null_af2_both_halves", DLT_NULL, "02000200" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "null_ethertype_low_half", DLT_NULL, "02000800" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "loop_le_af2", DLT_LOOP, "02000000" IP4("001c", "11") UDP, ALL, SAME,
	    NONIP },
	{ "loop_ethertype", DLT_LOOP, "00000800" IP4("001c", "11") UDP, ALL,
	    SAME, NONIP },
	{ "loop_ppp", DLT_LOOP, "ff030021" IP4("001c", "11") UDP, ALL, SAME,
	    NONIP },

	/* PPP (RFC 1661, RFC 1662) and Cisco HDLC. */
	{ "ppp_ff03_ipv4", DLT_PPP, "ff03" "0021" IP4("001c", "11") UDP, ALL,
	    SAME, V4P(17, 28, 49152, 53) },
	{ "ppp_acfc_ipv4", DLT_PPP, "0021" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "ppp_acfc_pfc_ipv4", DLT_PPP, "21" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "ppp_ff03_ipv6", DLT_PPP, "ff03" "0057" IP6("0008", "11") UDP, ALL,
	    SAME, V6P(17, 48, 49152, 53) },
	{ "ppp_mpls_ipv4", DLT_PPP, "ff03" "0281" LSE("00010040")
	    LSE("00020140") IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "ppp_lcp", DLT_PPP, "ff03" "c021" "0101000a", ALL, SAME, NONIP },
	{ "ppp_ipv4_totlen0", DLT_PPP, "ff03" "0021" IP4("0000", "06") TCP,
	    ALL, 1504, V4P(6, 1500, 49152, 80) },
	{ "ppp_chdlc", DLT_PPP, "0f00" "0800" IP4("001c", "11") UDP, ALL, SAME,
	    V4P(17, 28, 49152, 53) },
	{ "ppp_serial_ipv4", DLT_PPP_SERIAL, "ff03" "0021" IP4("001c", "11")
	    UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "chdlc_ipv4", DLT_C_HDLC, "0f00" "0800" IP4("0028", "06") TCP, ALL,
	    SAME, V4P(6, 40, 49152, 80) },
	{ "chdlc_ipv6", DLT_C_HDLC, "8f00" "86dd" IP6("0008", "11") UDP, ALL,
	    SAME, V6P(17, 48, 49152, 53) },
	/* No VLAN tag or PPPoE under Cisco HDLC (tshark: data). */
	{ "chdlc_vlan", DLT_C_HDLC, "0f00" TAG("8100", "0800")
	    IP4("001c", "11") UDP, ALL, SAME, NONIP },
	{ "chdlc_pppoe", DLT_C_HDLC, "0f00" PPPOE("0021") IP4("001c", "11")
	    UDP, ALL, SAME, NONIP },
	{ "chdlc_teb", DLT_C_HDLC, "0f00" "6558" ETH("0800") IP4("001c", "11")
	    UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "chdlc_mpls", DLT_C_HDLC, "0f00" "8847" LSE("00010140")
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "chdlc_slarp", DLT_C_HDLC, "8f00" "8035" "00000000", ALL, SAME,
	    NONIP },
	{ "chdlc_nothing_behind", DLT_C_HDLC, "0f00" "0800", ALL, 60, NONIP },
	{ "ppp_ethertype_ipv4", DLT_PPP, "ff03" "0800" IP4("001c", "11") UDP,
	    ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "ppp_ethertype_ipv6", DLT_PPP, "ff03" "86dd" IP6("0008", "11") UDP,
	    ALL, SAME, V6P(17, 48, 49152, 53) },
	/* PPPoE without Ethernet (BSD), and Linux pppd's direction byte. */
	{ "ppp_ether_ipv4", DLT_PPP_ETHER, "1100" "1234" "001e" "0021"
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "ppp_ether_code_not_read", DLT_PPP_ETHER, "1109" "1234" "001e" "21"
	    IP4("001c", "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "ppp_with_dir_ipv6", DLT_PPP_WITH_DIR, "01" "ff03" "0057"
	    IP6("0008", "11") UDP, ALL, SAME, V6P(17, 48, 49152, 53) },
	{ "ppp_with_dir_acfc", DLT_PPP_WITH_DIR, "00" "0021" IP4("001c", "11")
	    UDP, ALL, SAME, V4P(17, 28, 49152, 53) },

	/* IPv4 header rules (RFC 791, DESIGN rule 3). */
	{ "ipv4_ihl4", DLT_EN10MB, ETH("0800") IP4X("44", "001c", "0000", "11")
	    UDP, ALL, SAME, BAD },
	{ "ipv4_ihl0", DLT_EN10MB, ETH("0800") IP4X("40", "001c", "0000", "11")
	    UDP, ALL, SAME, BAD },
	{ "ipv4_totlen_lt_hdr", DLT_EN10MB, ETH("0800") IP4("0013", "11") UDP,
	    ALL, SAME, BAD },
	{ "ipv4_version6", DLT_EN10MB, ETH("0800") IP4X("65", "001c", "0000",
	    "11") UDP, ALL, SAME, BAD },
	{ "ipv4_header_cut", DLT_EN10MB, ETH("0800") IP4("001c", "11") UDP,
	    14 + 19, 14 + 28, BAD },
	{ "ipv4_options_cut", DLT_EN10MB, ETH("0800") IP4X("46", "0020", "0000",
	    "11") "01010101" UDP, 14 + 22, 14 + 32, BAD },
	{ "ipv4_options_ports", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "94040000" UDP, ALL, SAME, V4P(17, 32, 49152, 53) },
	/*
	 * What tshark makes of options (agent/ip4opt.c): the destination
	 * stands once the scan for a source route is done, even if later
	 * option bytes were not captured; an option too short for its own
	 * fields ends the dissection before the transport; a bad length byte
	 * ends only the option list.
	 */
	{ "ipv4_options_cut_after_scan", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "94040000" UDP, 14 + 22, 14 + 32,
	    V4(17, 32) },
	{ "ipv4_options_none_captured", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "94040000" UDP, 14 + 20, 14 + 32,
	    BAD },
	{ "ipv4_option_too_short", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "94030000" UDP, ALL, SAME, V4(17, 32) },
	{ "ipv4_option_len_below_2", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "55010000" UDP, ALL, SAME, V4P(17, 32, 49152, 53) },
	{ "ipv4_option_past_header", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "55080000" UDP, ALL, SAME, V4P(17, 32, 49152, 53) },
	{ "ipv4_option_length_byte_missing", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "01010155" UDP, ALL, SAME,
	    V4P(17, 32, 49152, 53) },
	{ "ipv4_option_unknown", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "55020000" UDP, ALL, SAME, V4P(17, 32, 49152, 53) },
	{ "ipv4_option_eol_first", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "00940300" UDP, ALL, SAME, V4P(17, 32, 49152, 53) },
	{ "ipv4_timestamp_too_short", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "44030500" UDP, ALL, SAME,
	    V4(17, 32) },
	{ "ipv4_record_route_no_pointer", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "07020000" UDP, ALL, SAME,
	    V4(17, 32) },
	{ "ipv4_traceroute_too_short", DLT_EN10MB, ETH("0800")
	    IP4X("47", "0024", "0000", "11") "52080000" "00000000" UDP, ALL,
	    SAME, V4(17, 36) },
	{ "ipv4_quick_start_request_short", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "19040000" UDP, ALL, SAME,
	    V4(17, 32) },
	{ "ipv4_quick_start_other_function", DLT_EN10MB, ETH("0800")
	    IP4X("46", "0020", "0000", "11") "19041000" UDP, ALL, SAME,
	    V4P(17, 32, 49152, 53) },
	{ "ipv4_security_rfc1108", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "82043d00" UDP, ALL, SAME, V4P(17, 32, 49152, 53) },
	{ "ipv4_security_too_short", DLT_EN10MB, ETH("0800") IP4X("46", "0020",
	    "0000", "11") "82020000" UDP, ALL, SAME, V4(17, 32) },
	{ "ipv4_cipso_too_short", DLT_EN10MB, ETH("0800") IP4X("47", "0024",
	    "0000", "11") "8605000000000000" UDP, ALL, SAME, V4(17, 36) },
	{ "ipv4_cipso_tag_one_past", DLT_EN10MB, ETH("0800") IP4X("4a",
	    "0030", "0000", "11") "860c00000001" "010700000000"
	    "0000000000000000" UDP, ALL, SAME, V4(17, 48) },
	{ "ipv4_cipso_tag_fits", DLT_EN10MB, ETH("0800") IP4X("4a", "0030",
	    "0000", "11") "860c00000001" "010600000000" "0000000000000000" UDP,
	    ALL, SAME, V4P(17, 48, 49152, 53) },
	/*
	 * A source route's final address is the destination
	 * (test_source_route_dst), when tshark can tell which it is.
	 */
	{ "ipv4_lsrr_misaligned", DLT_EN10MB, ETH("0800") IP4X("47", "0024",
	    "0000", "11") "830804" "0a000003" "0b" UDP, ALL, SAME, BAD },
	{ "ipv4_lsrr_after_bad_option", DLT_EN10MB, ETH("0800") IP4X("48",
	    "0028", "0000", "11") "940300" "830704" "0a000003" "0000" UDP, ALL,
	    SAME, BAD },
	{ "ipv4_lsrr_address_cut", DLT_EN10MB, ETH("0800") IP4X("48", "0028",
	    "0000", "11") "830b04" "0a000003" "0a000004" "00" UDP, 14 + 20 + 9,
	    14 + 40, BAD },
	{ "ipv4_header_only_captured", DLT_EN10MB, ETH("0800")
	    IP4("05dc", "06") TCP, 14 + 20, 1514, V4(6, 1500) },
	{ "ipv4_totlen0", DLT_EN10MB, ETH("0800") IP4("0000", "06") TCP,
	    14 + 40, 65550, V4P(6, 65536, 49152, 80) },
	{ "ipv4_totlen0_wire_lt_hdr", DLT_EN10MB, ETH("0800") IP4("0000", "06")
	    TCP, ALL, 30, BAD },
	{ "ipv4_totlen_gt_wire", DLT_EN10MB, ETH("0800") IP4("ffff", "11") UDP,
	    ALL, SAME, V4P(17, 65535, 49152, 53) },
	{ "ipv4_ports_exactly_captured", DLT_EN10MB, ETH("0800")
	    IP4("001c", "11") UDP, 14 + 24, 14 + 28, V4P(17, 28, 49152, 53) },
	{ "ipv4_ports_half_captured", DLT_EN10MB, ETH("0800")
	    IP4("001c", "11") UDP, 14 + 23, 14 + 28, V4(17, 28) },
	{ "ipv4_ports_beyond_totlen", DLT_EN10MB, ETH("0800")
	    IP4("0016", "11") UDP, ALL, SAME, V4(17, 22) },
	{ "ipv4_first_fragment", DLT_EN10MB, ETH("0800") IP4F("001c", "2000",
	    "11") UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "ipv4_df_set", DLT_EN10MB, ETH("0800") IP4F("001c", "4000", "11")
	    UDP, ALL, SAME, V4P(17, 28, 49152, 53) },
	{ "ipv4_nonfirst_fragment", DLT_EN10MB, ETH("0800") IP4F("001c", "00b9",
	    "11") UDP, ALL, SAME, V4(17, 28) },
	{ "ipv4_last_fragment", DLT_EN10MB, ETH("0800") IP4F("001c", "20b9",
	    "06") UDP, ALL, SAME, V4(6, 28) },
	{ "ipv4_sctp", DLT_EN10MB, ETH("0800") IP4("0020", "84") SCTP, ALL,
	    SAME, V4P(132, 32, 5000, 2905) },
	/* SCTP ports only with the whole 12-byte common header. */
	{ "ipv4_sctp_header_cut", DLT_EN10MB, ETH("0800") IP4("0020", "84")
	    SCTP, 14 + 20 + 11, 14 + 32, V4(132, 32) },
	{ "ipv4_sctp_beyond_totlen", DLT_EN10MB, ETH("0800") IP4("001c", "84")
	    SCTP, ALL, SAME, V4(132, 28) },
	{ "vlan_sctp_header_cut", DLT_EN10MB, ETH(TAG("8100", "0800"))
	    IP4("0020", "84") SCTP, 18 + 20 + 8, 18 + 32, V4(132, 32) },
	{ "vlan_sctp_header_exactly", DLT_EN10MB, ETH(TAG("8100", "0800"))
	    IP4("0020", "84") SCTP, 18 + 20 + 12, 18 + 32,
	    V4P(132, 32, 5000, 2905) },
	{ "ipv4_other_proto", DLT_EN10MB, ETH("0800") IP4("0020", "59")
	    "0201002c0a000001", ALL, SAME, V4(89, 32) },
	{ "ipv4_gre_tunnel", DLT_EN10MB, ETH("0800") IP4("0034", "2f")
	    "00000800" "4500001c00000000401100000a0000010a000002" UDP, ALL,
	    SAME, V4(47, 52) },
	{ "ipv4_6in4", DLT_EN10MB, ETH("0800") IP4("0044", "29")
	    "6000000000081140" "fd000000000000000000000000000001"
	    "fd000000000000000000000000000002" UDP, ALL, SAME, V4(41, 68) },
	{ "ipv4_icmp_error_quoting_udp", DLT_EN10MB, ETH("0800")
	    IP4("0038", "01") "0303fcfc00000000"
	    "4500001c00000000401100000a0000010a000002" UDP, ALL, SAME,
	    V4(1, 56) },

	/* IPv6 extension headers and lengths (RFC 8200, DESIGN rule 4). */
	{ "ipv6_chain_hbh_rt_frag_dst_tcp", DLT_EN10MB, ETH("86dd")
	    IP6("0034", "00") "2b00010400000000" "2c00000000000000"
	    "3c00000000000001" "0600010400000000" TCP, ALL, SAME,
	    V6P(6, 92, 49152, 80) },
	{ "ipv6_chain_past_capture", DLT_EN10MB, ETH("86dd")
	    IP6("0020", "00") "2b00010400000000" "1101000000000000"
	    "0000000000000000" UDP, 14 + 40 + 8 + 12, 14 + 40 + 32, V6(17, 72) },
	/*
	 * A header the cut falls in: its next header counts once that and
	 * its length are captured (tshark reads them), and no ports.
	 */
	{ "ipv6_hbh_cut", DLT_EN10MB, ETH("86dd") IP6("0010", "00")
	    "1100010400000000" UDP, 14 + 40 + 7, 14 + 56, V6(17, 56) },
	{ "ipv6_hbh_cut_at_2", DLT_EN10MB, ETH("86dd") IP6("0010", "00")
	    "1100010400000000" UDP, 14 + 40 + 2, 14 + 56, V6(17, 56) },
	{ "ipv6_routing_cut_at_1", DLT_EN10MB, ETH("86dd") IP6("0010", "2b")
	    "1100000000000000" UDP, 14 + 40 + 1, 14 + 56, V6(17, 56) },
	{ "ipv6_routing_next_only_in_plen", DLT_EN10MB, ETH("86dd")
	    IP6("0001", "2b") "1100000000000000" UDP, ALL, SAME, V6(17, 41) },
	{ "ipv6_hbh_cut_at_1", DLT_EN10MB, ETH("86dd") IP6("0010", "00")
	    "1100010400000000" UDP, 14 + 40 + 1, 14 + 56, V6(0, 56) },
	{ "ipv6_hbh_then_dstopts_cut_at_1", DLT_EN10MB, ETH("86dd")
	    IP6("002c", "00") "3c00010400000000" "0601000000000000"
	    "0000000000000000" TCP, 14 + 40 + 9, SAME, V6(60, 84) },
	{ "ipv6_frag_cut", DLT_EN10MB, ETH("86dd") IP6("0010", "2c")
	    "1100000000000001" UDP, 14 + 40 + 7, 14 + 56, V6(44, 56) },
	/* The payload length ends the chain as the capture does. */
	{ "ipv6_dstopts_beyond_plen", DLT_EN10MB, ETH("86dd") IP6("0002", "3c")
	    "0601000000000000" "0000000000000000" TCP, ALL, SAME, V6(6, 42) },
	{ "ipv6_dstopts_next_beyond_plen", DLT_EN10MB, ETH("86dd")
	    IP6("0001", "3c") "0601000000000000" "0000000000000000" TCP, ALL,
	    SAME, V6(60, 41) },
	{ "ipv6_frag_beyond_plen", DLT_EN10MB, ETH("86dd") IP6("0007", "2c")
	    "1100000000000001" UDP, ALL, SAME, V6(44, 47) },
	{ "ipv6_frag_exactly_plen", DLT_EN10MB, ETH("86dd") IP6("0008", "2c")
	    "1100000000000001" UDP, ALL, SAME, V6(17, 48) },
	{ "ipv6_long_chain", DLT_EN10MB, ETH("86dd") IP6("0050", "3c")
	    "3c00010400000000" "3c00010400000000" "3c00010400000000"
	    "3c00010400000000" "3c00010400000000" "3c00010400000000"
	    "3c00010400000000" "3c00010400000000" "1100010400000000" UDP,
	    ALL, SAME, V6P(17, 120, 49152, 53) },
	{ "ipv6_ah_not_skipped", DLT_EN10MB, ETH("86dd") IP6("0020", "33")
	    "1104" "0000" "00000100" "00000001" "000000000000000000000000" UDP,
	    ALL, SAME, V6(51, 72) },
	{ "ipv6_esp", DLT_EN10MB, ETH("86dd") IP6("0010", "32")
	    "0000010000000001" "0000000000000000", ALL, SAME, V6(50, 56) },
	{ "ipv6_mobility", DLT_EN10MB, ETH("86dd") IP6("0008", "87")
	    "3b00000000000000", ALL, SAME, V6(135, 48) },
	{ "ipv6_jumbo", DLT_EN10MB, ETH("86dd") IP6("0000", "00")
	    "1100c20400010000" UDP, ALL, 14 + 40 + 65536, V6P(17, 65576,
	    49152, 53) },
	{ "ipv6_jumbo_after_pad", DLT_EN10MB, ETH("86dd") IP6("0000", "00")
	    "1101000001000000" "c204000200000000" UDP, ALL, 14 + 40 + 131072,
	    V6P(17, 131112, 49152, 53) },
	{ "ipv6_plen0_no_jumbo", DLT_EN10MB, ETH("86dd") IP6("0000", "06") TCP,
	    14 + 60, 14 + 80000, V6P(6, 80000, 49152, 80) },
	/*
	 * Payload length 0 without a usable Jumbo option: tshark reads no
	 * extension header, so the chain stops at the first.
	 */
	{ "ipv6_plen0_hbh_no_jumbo", DLT_EN10MB, ETH("86dd") IP6("0000", "00")
	    "0600010400000000" TCP, ALL, 14 + 9000, V6(0, 9000) },
	{ "ipv6_plen0_jumbo_too_small", DLT_EN10MB, ETH("86dd")
	    IP6("0000", "00") "1100c2040000ffff" UDP, ALL, 14 + 9000,
	    V6(0, 9000) },
	{ "ipv6_plen0_jumbo_zero", DLT_EN10MB, ETH("86dd") IP6("0000", "00")
	    "1100c20400000000" UDP, ALL, 14 + 9000, V6(0, 9000) },
	{ "ipv6_plen0_jumbo_cut", DLT_EN10MB, ETH("86dd") IP6("0000", "00")
	    "1100c20400010000" UDP, 14 + 40 + 7, 14 + 40 + 65536,
	    V6(0, 65576) },
	{ "ipv6_plen0_dstopts", DLT_EN10MB, ETH("86dd") IP6("0000", "3c")
	    "1100010400000000" UDP, ALL, 14 + 9000, V6(60, 9000) },
	{ "ipv6_plen0_nonext", DLT_EN10MB, ETH("86dd") IP6("0000", "3b"), ALL,
	    SAME, V6(59, 40) },
	{ "ipv6_first_fragment", DLT_EN10MB, ETH("86dd") IP6("0010", "2c")
	    "1100000100000001" UDP, ALL, SAME, V6P(17, 56, 49152, 53) },
	{ "ipv6_atomic_fragment", DLT_EN10MB, ETH("86dd") IP6("0010", "2c")
	    "1100000000000001" UDP, ALL, SAME, V6P(17, 56, 49152, 53) },
	{ "ipv6_nonfirst_fragment", DLT_EN10MB, ETH("86dd") IP6("0010", "2c")
	    "110005a800000001" UDP, ALL, SAME, V6(17, 56) },
	{ "ipv6_nonfirst_fragment_dstopts", DLT_EN10MB, ETH("86dd")
	    IP6("0018", "2c") "3c0005a800000001" "1100010400000000" UDP, ALL,
	    SAME, V6(60, 64) },
	{ "ipv6_ports_beyond_plen", DLT_EN10MB, ETH("86dd") IP6("0002", "11")
	    UDP, ALL, SAME, V6(17, 42) },
	{ "ipv6_ports_half_captured", DLT_EN10MB, ETH("86dd") IP6("0008", "11")
	    UDP, 14 + 42, 14 + 48, V6(17, 48) },
	{ "ipv6_39_bytes", DLT_EN10MB, ETH("86dd") IP6("0008", "11") UDP,
	    14 + 39, 14 + 48, BAD },
	{ "ipv6_version4", DLT_EN10MB, ETH("86dd") "40000000" "000811" "40" A6
	    UDP, ALL, SAME, NONIP },
	{ "ipv6_version4_one_byte", DLT_EN10MB, ETH("86dd") "40", ALL, 60,
	    NONIP },
	{ "ipv6_label_nothing_behind", DLT_EN10MB, ETH("86dd"), ALL, 60, BAD },
	{ "ipv6_icmpv6_error_quoting", DLT_EN10MB, ETH("86dd")
	    IP6("0038", "3a") "0104fbfb00000000" "6000000000081140"
	    "fd000000000000000000000000000001"
	    "fd000000000000000000000000000002" UDP, ALL, SAME, V6(58, 96) },
	{ "ipv6_sctp", DLT_EN10MB, ETH("86dd") IP6("000c", "84") SCTP, ALL,
	    SAME, V6P(132, 52, 5000, 2905) },
	{ "ipv6_sctp_header_cut", DLT_EN10MB, ETH("86dd") IP6("000c", "84")
	    SCTP, 14 + 40 + 8, 14 + 52, V6(132, 52) },
	{ "ipv6_sctp_beyond_plen", DLT_EN10MB, ETH("86dd") IP6("0008", "84")
	    SCTP, ALL, SAME, V6(132, 48) },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static const uint8_t zero[12];
static const uint8_t a4[8] = { 192, 0, 2, 1, 198, 51, 100, 2 };
static const uint8_t a6[32] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
};

static int	 hexval(char);
static size_t	 unhex(const char *, uint8_t *, size_t);
static void	 check_invariants(enum decode_kind, const struct decoded *);
static void	 test_case(void **);
static void	 test_dlt_supported(void **);
static void	 test_unsupported_dlt(void **);
static void	 test_null_bytes(void **);
static void	 test_out_untouched(void **);
static void	 test_source_route_dst(void **);

/* Returns the value of one hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Fills buf from the hex string (spaces ignored); returns the length. */
static size_t
unhex(const char *hex, uint8_t *buf, size_t cap)
{
	size_t		 n = 0;
	int		 hi = -1, v;

	for (; *hex != '\0'; hex++) {
		if (*hex == ' ')
			continue;
		v = hexval(*hex);
		assert_true(v >= 0);
		if (hi < 0)
			hi = v;
		else {
			assert_true(n < cap);
			buf[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	return n;
}

/* What any result must satisfy, whatever the input. */
static void
check_invariants(enum decode_kind k, const struct decoded *d)
{
	assert_true(k == DECODE_IPV4 || k == DECODE_IPV6 ||
	    k == DECODE_NON_IP || k == DECODE_MALFORMED);
	if (k != DECODE_IPV4 && k != DECODE_IPV6)
		return;
	if (d->has_ports)
		assert_true(d->proto == 6 || d->proto == 17 || d->proto == 132);
	else
		assert_true(d->sport == 0 && d->dport == 0);
	if (k == DECODE_IPV4) {
		assert_true(d->ip_bytes >= 20);
		assert_memory_equal(d->src + 4, zero, 12);
		assert_memory_equal(d->dst + 4, zero, 12);
	} else
		assert_true(d->ip_bytes >= 40);
}

/* One table row: exact result, then every truncation of the frame. */
static void
test_case(void **state)
{
	const struct tcase	*t = *state;
	uint8_t			 frame[2048], *copy;
	struct decoded		 d;
	enum decode_kind	 k;
	size_t			 n, caplen, len;
	uint32_t		 wirelen;

	n = unhex(t->hex, frame, sizeof(frame));
	caplen = t->caplen == ALL ? n : (size_t)t->caplen;
	assert_true(caplen <= n);
	wirelen = t->wirelen == SAME ? (uint32_t)n : t->wirelen;

	/* An exact-size heap copy, so any over-read is an ASan error. */
	copy = malloc(caplen > 0 ? caplen : 1);
	assert_non_null(copy);
	memcpy(copy, frame, caplen);
	memset(&d, 0xa5, sizeof(d));
	k = decode_frame(t->dlt, copy, (uint32_t)caplen, wirelen, &d);
	free(copy);
	assert_int_equal(k, t->kind);
	if (k == DECODE_IPV4) {
		assert_memory_equal(d.src, a4, 4);
		assert_memory_equal(d.dst, a4 + 4, 4);
	} else if (k == DECODE_IPV6) {
		assert_memory_equal(d.src, a6, 16);
		assert_memory_equal(d.dst, a6 + 16, 16);
	}
	if (k == DECODE_IPV4 || k == DECODE_IPV6) {
		assert_int_equal(d.proto, t->proto);
		assert_int_equal(d.ip_bytes, t->ip_bytes);
		assert_int_equal(d.has_ports, t->has_ports);
		assert_int_equal(d.sport, t->sport);
		assert_int_equal(d.dport, t->dport);
		check_invariants(k, &d);
	}

	for (len = 0; len <= caplen; len++) {
		copy = malloc(len > 0 ? len : 1);
		assert_non_null(copy);
		memcpy(copy, frame, len);
		memset(&d, 0, sizeof(d));
		k = decode_frame(t->dlt, copy, (uint32_t)len, wirelen, &d);
		check_invariants(k, &d);
		free(copy);
	}
}

static void
test_dlt_supported(void **state)
{
	static const int dlts[] = {
		DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4,
		DLT_IPV6, DLT_NULL, DLT_LOOP, DLT_PPP, DLT_PPP_SERIAL,
		DLT_C_HDLC, DLT_PPP_ETHER, DLT_PPP_WITH_DIR,
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++)
		assert_int_equal(decode_dlt_supported(dlts[i]), 1);
}

/* A link type the decoder does not know: said so, and no IP found. */
static void
test_unsupported_dlt(void **state)
{
	uint8_t		 frame[64];
	struct decoded	 d;
	size_t		 n;

	(void)state;
	assert_int_equal(decode_dlt_supported(DLT_IEEE802_11), 0);
	assert_int_equal(decode_dlt_supported(DLT_IEEE802_11_RADIO), 0);
	assert_int_equal(decode_dlt_supported(-1), 0);
	assert_int_equal(decode_dlt_supported(100000), 0);
	n = unhex(IP4("001c", "11") UDP, frame, sizeof(frame));
	assert_int_equal(decode_frame(DLT_IEEE802_11, frame, (uint32_t)n,
	    (uint32_t)n, &d), DECODE_NON_IP);
}

/* A zero-length capture may come with no buffer at all. */
static void
test_null_bytes(void **state)
{
	struct decoded	 d;

	(void)state;
	assert_int_equal(decode_frame(DLT_EN10MB, NULL, 0, 60, &d),
	    DECODE_NON_IP);
	assert_int_equal(decode_frame(DLT_IPV4, NULL, 0, 60, &d),
	    DECODE_MALFORMED);
}

/* *out is written for IP results only (decode.h). */
static void
test_out_untouched(void **state)
{
	uint8_t		 frame[128];
	struct decoded	 d, before;
	size_t		 n;

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	n = unhex(ETH("0806") "0001080006040001", frame, sizeof(frame));
	d = before;
	assert_int_equal(decode_frame(DLT_EN10MB, frame, (uint32_t)n,
	    (uint32_t)n, &d), DECODE_NON_IP);
	assert_memory_equal(&d, &before, sizeof(d));
	n = unhex(ETH("0800") IP4("0013", "11") UDP, frame, sizeof(frame));
	assert_int_equal(decode_frame(DLT_EN10MB, frame, (uint32_t)n,
	    (uint32_t)n, &d), DECODE_MALFORMED);
	assert_memory_equal(&d, &before, sizeof(d));
}

/*
 * A loose or strict source route with a valid pointer names the final
 * destination, as tshark reports it; an exhausted one leaves the header's.
 */
static void
test_source_route_dst(void **state)
{
	static const struct {
		const char	*hex;
		uint8_t		 dst[4];
	} rows[] = {
		{ ETH("0800") IP4X("48", "0028", "0000", "11")
		    "830b04" "0a000003" "0a000004" "00" UDP, { 10, 0, 0, 4 } },
		{ ETH("0800") IP4X("48", "0028", "0000", "11")
		    "890b08" "0a000005" "0a000006" "00" UDP, { 10, 0, 0, 6 } },
		{ ETH("0800") IP4X("48", "0028", "0000", "11")
		    "0101" "830704" "0a000007" "000000" UDP,
		    { 10, 0, 0, 7 } },
		{ ETH("0800") IP4X("48", "0028", "0000", "11")
		    "830b0c" "0a000003" "0a000004" "00" UDP,
		    { 198, 51, 100, 2 } },
		{ ETH("0800") IP4X("48", "0028", "0000", "11")
		    "830b05" "0a000003" "0a000004" "00" UDP,
		    { 198, 51, 100, 2 } },
		{ ETH("0800") IP4X("48", "0028", "0000", "11")
		    "00" "830b04" "0a000003" "0a000004" UDP,
		    { 198, 51, 100, 2 } },
	};
	uint8_t		 frame[128];
	struct decoded	 d;
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = unhex(rows[i].hex, frame, sizeof(frame));
		assert_int_equal(decode_frame(DLT_EN10MB, frame, (uint32_t)n,
		    (uint32_t)n, &d), DECODE_IPV4);
		assert_memory_equal(d.dst, rows[i].dst, 4);
		assert_true(d.has_ports);
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_dlt_supported),
		cmocka_unit_test(test_unsupported_dlt),
		cmocka_unit_test(test_null_bytes),
		cmocka_unit_test(test_out_untouched),
		cmocka_unit_test(test_source_route_dst),
	};
	struct CMUnitTest	 tests[NCASES + sizeof(fixed) / sizeof(fixed[0])];
	size_t			 i, n = 0;

	for (i = 0; i < NCASES; i++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = cases[i].name;
		tests[n].test_func = test_case;
		tests[n].initial_state = &cases[i];
		n++;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("decode", tests, n, NULL, NULL);
}
