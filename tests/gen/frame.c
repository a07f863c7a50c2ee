/*
 * frame.c - writes one struct gen_pkt as frame bytes.
 *
 * The frame is exactly p->frame_len bytes of headers and zero payload; on
 * an Ethernet link it is followed by zero padding up to the 60-byte
 * minimum (so a short IP packet has bytes_l3 < bytes_wire, as on a real
 * link).  Header layouts: Ethernet II, 802.1Q and 802.1ad tags (and the
 * old 0x9100 QinQ tag); Cisco ACI's gleaning ethertype 0xfff2 in front of
 * IPv4; MPLS label stacks (RFC 3032, RFC 3032 section 5 under PPP);
 * PPPoE session (RFC 2516) and PPP in HDLC-like framing (RFC 1662), also
 * behind pppd's direction byte; Cisco HDLC; Linux cooked capture v1 and
 * v2 of any device type, with an ethertype, a kernel protocol value
 * (0x0003, 0x0007) or a GRE type in the protocol field, and BSD and
 * OpenBSD loopback (as libpcap's link-layer header types page describes
 * them); IPv4 (RFC 791), IPv6 (RFC 8200) with hop-by-hop
 * and fragment headers; TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792),
 * ICMPv6 (RFC 4443), SCTP with one DATA chunk (RFC 9260), GRE (RFC 2784)
 * carrying IPv4/UDP, ARP (RFC 826).  Checksums are correct, so the frames
 * also survive a real receiver; payload bytes are zero.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_PPPOE	0x8864
#define ETHERTYPE_MPLS	0x8847
#define ETHERTYPE_ACI	0xfff2	/* Cisco ACI ARP gleaning: IPv4 */
#define ETHERTYPE_TEB	0x6558	/* transparent Ethernet bridging */
#define VLAN_ID		100	/* the outer tag's; each inner one's is 1 more */
#define MPLS_LABEL	1000	/* the top label; each lower one's is 1 more */
#define MPLS_TTL	64
#define PPP_IPV4	0x0021
#define PPP_IPV6	0x0057
#define PPP_MPLS	0x0281
#define PPP_LCP		0xc021
#define PPPOE_SESSION	0x4e54
#define ARP_LEN		28	/* the ARP message frame_build writes */
#define CHDLC_UNICAST	0x0f
#define SLL_HOST	0	/* packet type: to this host */
#define SLL_OUTGOING	4	/* packet type: sent by this host */
#define SLL_IFINDEX	2
#define SLL_P_ETHERNET	0x0003	/* the kernel's: a whole Ethernet frame */
#define SLL_P_PPPHDLC	0x0007	/* the kernel's: PPP in HDLC framing */
#define GRE_ETHERNET	0x6400	/* GRE type: an Ethernet frame (old) */
#define GRE_PPP		0x880b
#define GRE_WCCP	0x883e	/* web cache redirection: IPv4 follows */
#define ARPHRD_FRAD	770	/* Frame Relay */
#define ARPHRD_IPGRE	778	/* cooked protocol is a GRE type */
#define ARPHRD_RADIOTAP	803	/* 802.11 behind a radiotap header */
#define ARPHRD_NETLINK	824
/*
 * BSD loopback families: IPv4, IPv6 as macOS and OpenBSD write it (Net-
 * and FreeBSD's come from --inet6-family), OSI
 */
#define NULL_AF_INET	2
#define NULL_AF_INET6	30
#define LOOP_AF_INET6	24
#define NULL_AF_OTHER	7

/* What follows a link's own header: the type field that says "IP". */
enum inner {
	INNER_NONE = 0,		/* the header itself says IPv4 or IPv6 */
	INNER_ETHERTYPE,	/* an ethertype, so tags, MPLS, ACI */
	INNER_PPP,		/* a PPP protocol, so MPLS */
	INNER_CHDLC,		/* an ethertype that is no tag: MPLS */
};

/* Per enum gen_link: name, LINKTYPE_ number, Ethernet, inner framing. */
static const struct {
	const char	*name;
	uint32_t	 linktype;
	int		 ethernet;
	int		 inner;		/* enum inner */
} links[] = {
	[GEN_LINK_EN10MB] =	{ "en10mb",	1,	1, INNER_ETHERTYPE },
	[GEN_LINK_PPPOE] =	{ "pppoe",	1,	1, INNER_PPP },
	[GEN_LINK_SLL] =	{ "sll",	113,	0, INNER_ETHERTYPE },
	[GEN_LINK_SLL2] =	{ "sll2",	276,	0, INNER_ETHERTYPE },
	[GEN_LINK_NULL] =	{ "null",	0,	0, INNER_NONE },
	[GEN_LINK_RAW] =	{ "raw",	101,	0, INNER_NONE },
	[GEN_LINK_PPP] =	{ "ppp",	9,	0, INNER_PPP },
	[GEN_LINK_PPP_SERIAL] =	{ "ppp-serial",	50,	0, INNER_PPP },
	[GEN_LINK_PPP_DIR] =	{ "ppp-dir",	204,	0, INNER_PPP },
	[GEN_LINK_PPP_ETHER] =	{ "ppp-ether",	51,	0, INNER_PPP },
	[GEN_LINK_CHDLC] =	{ "chdlc",	104,	0, INNER_CHDLC },
	[GEN_LINK_NULL_BE] =	{ "null-be",	0,	0, INNER_NONE },
	[GEN_LINK_LOOP] =	{ "loop",	108,	0, INNER_NONE },
	[GEN_LINK_RAW_PPP] =	{ "raw-ppp",	101,	0, INNER_PPP },
	[GEN_LINK_IPV4] =	{ "ipv4",	228,	0, INNER_NONE },
	[GEN_LINK_IPV6] =	{ "ipv6",	229,	0, INNER_NONE },
	[GEN_LINK_NULL_PPP] =	{ "null-ppp",	0,	0, INNER_PPP },
	[GEN_LINK_PPP_CHDLC] =	{ "ppp-chdlc",	9,	0, INNER_CHDLC },
	[GEN_LINK_NULL_ETHERTYPE] = { "null-ethertype", 0, 0, INNER_ETHERTYPE },
	[GEN_LINK_RAW_ISDN] =	{ "raw-isdn",	101,	0, INNER_PPP },
};

static const char *const sll_protos[] = {
	[GEN_SLL_ETHERTYPE] =		"ethertype",
	[GEN_SLL_ETHERNET] =		"ethernet",
	[GEN_SLL_PPP] =			"ppp",
	[GEN_SLL_GRE_ETHERNET] =	"gre-ethernet",
	[GEN_SLL_GRE_PPP] =		"gre-ppp",
	[GEN_SLL_PPPOE] =		"pppoe",
	[GEN_SLL_GRE_WCCP] =		"gre-wccp",
};

static void	 put16(uint8_t *, uint32_t);
static void	 put32(uint8_t *, uint32_t);
static uint32_t	 sum16(const uint8_t *, size_t, uint32_t);
static uint16_t	 fold(uint32_t);
static uint32_t	 pseudo_sum(const struct gen_pkt *, uint8_t proto, size_t len);
static uint32_t	 crc32c(const uint8_t *, size_t);
static void	 l4_build(const struct gen_pkt *, uint8_t *l4, size_t len);

static void
put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* RFC 1071 ones' complement sum, unfolded; an odd tail is padded. */
static uint32_t
sum16(const uint8_t *b, size_t len, uint32_t acc)
{
	uint64_t s = acc;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t
pseudo_sum(const struct gen_pkt *p, uint8_t proto, size_t len)
{
	size_t alen = p->kind == GEN_KIND_IPV6 ? 16 : 4;
	uint32_t s;

	s = sum16(p->src, alen, 0);
	s = sum16(p->dst, alen, s);
	return s + proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
}

/* CRC-32C (Castagnoli, reflected 0x82f63b78), for the SCTP checksum. */
static uint32_t
crc32c(const uint8_t *b, size_t len)
{
	static uint32_t table[256];
	uint32_t c;
	size_t i;
	int k;

	if (table[1] == 0) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	}
	c = 0xffffffff;
	for (i = 0; i < len; i++)
		c = table[(c ^ b[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

/*
 * The framing inside the link header: a cooked header's protocol field
 * decides it, the link type everywhere else.
 */
static int
inner_of(const struct gen_opts *o)
{
	if (o->link != GEN_LINK_SLL && o->link != GEN_LINK_SLL2)
		return links[o->link].inner;
	switch (o->sll_proto) {
	case GEN_SLL_PPP:
	case GEN_SLL_GRE_PPP:
	case GEN_SLL_PPPOE:
		return INNER_PPP;
	case GEN_SLL_GRE_WCCP:
		return INNER_NONE;
	default:
		return INNER_ETHERTYPE;
	}
}

/*
 * 1 when the cooked protocol field is itself the type in front of IP on a
 * GRE device: a GRE protocol type, which names no tag and no ACI packet.
 */
static int
gre_typed(const struct gen_opts *o)
{
	return (o->link == GEN_LINK_SLL || o->link == GEN_LINK_SLL2) &&
	    o->sll_type == ARPHRD_IPGRE && o->sll_proto == GEN_SLL_ETHERTYPE;
}

int
frame_check(const struct gen_opts *o, const char **errstr)
{
	static char msg[256];
	const char *name = links[o->link].name;
	int inner = inner_of(o), cooked;

	cooked = o->link == GEN_LINK_SLL || o->link == GEN_LINK_SLL2;
	*errstr = msg;
	if (!cooked && (o->sll_type != 1 || o->sll_proto != GEN_SLL_ETHERTYPE)) {
		snprintf(msg, sizeof(msg), "--sll-type, --sll-proto: a %s link "
		    "has no cooked header; use --link sll or sll2", name);
		return -1;
	}
	if ((o->sll_proto == GEN_SLL_GRE_ETHERNET ||
	    o->sll_proto == GEN_SLL_GRE_PPP ||
	    o->sll_proto == GEN_SLL_GRE_WCCP) && o->sll_type != ARPHRD_IPGRE) {
		snprintf(msg, sizeof(msg), "--sll-proto %s: a GRE protocol "
		    "type; use --sll-type %u (a GRE device)",
		    sll_protos[o->sll_proto], ARPHRD_IPGRE);
		return -1;
	}
	if (o->sll_proto == GEN_SLL_PPPOE && o->sll_type == ARPHRD_IPGRE) {
		snprintf(msg, sizeof(msg), "--sll-proto pppoe: no GRE type; "
		    "use another --sll-type than %u", ARPHRD_IPGRE);
		return -1;
	}
	/* PPPoE's ethertype can be tagged; its PPP cannot. */
	if (o->ntags != 0 && o->link != GEN_LINK_PPPOE &&
	    o->sll_proto != GEN_SLL_PPPOE &&
	    (inner != INNER_ETHERTYPE || gre_typed(o))) {
		snprintf(msg, sizeof(msg), "--vlan, --tags: a %s link%s has no "
		    "ethertype to tag; use --link en10mb, pppoe, sll or sll2",
		    name, !cooked ? "" : gre_typed(o) ?
		    " on a GRE device" : " with that --sll-proto");
		return -1;
	}
	if (o->mpls != 0 && inner == INNER_NONE) {
		snprintf(msg, sizeof(msg), "--mpls: a %s link has no type "
		    "field to announce MPLS", name);
		return -1;
	}
	/* A loopback header's 0xfff2 is no ACI packet to a reader. */
	if (o->aci && (inner != INNER_ETHERTYPE || gre_typed(o) ||
	    o->mpls != 0 || o->link == GEN_LINK_NULL_ETHERTYPE)) {
		snprintf(msg, sizeof(msg), "--aci: an ethertype in front of "
		    "IPv4 is needed (not a %s link%s, nor --mpls); use --link "
		    "en10mb, sll or sll2", name, o->link == GEN_LINK_PPPOE ?
		    ", which has PPP there" : gre_typed(o) ?
		    " on a GRE device" : "");
		return -1;
	}
	if (o->teb && (inner == INNER_NONE || inner == INNER_PPP)) {
		snprintf(msg, sizeof(msg), "--teb: a %s link%s has no "
		    "ethertype to bridge under; use --link en10mb, sll, sll2 "
		    "or chdlc", name, cooked ? " with that --sll-proto" : "");
		return -1;
	}
	/* raw-*, null-ppp are PPP to a reader only by their ff 03. */
	if (o->ppp_compress && (inner != INNER_PPP ||
	    o->link == GEN_LINK_RAW_PPP || o->link == GEN_LINK_NULL_PPP ||
	    o->link == GEN_LINK_RAW_ISDN)) {
		snprintf(msg, sizeof(msg), "--ppp-compress: a %s link%s has "
		    "no PPP header to compress; use --link ppp, ppp-serial, "
		    "ppp-dir, ppp-ether or pppoe, or --sll-proto ppp", name,
		    cooked ? " with that --sll-proto" : "");
		return -1;
	}
	if (o->sll_proto == GEN_SLL_GRE_WCCP && o->ipv6_pct != 0 &&
	    (o->link == GEN_LINK_SLL || o->link == GEN_LINK_SLL2)) {
		snprintf(msg, sizeof(msg), "--sll-proto gre-wccp: carries "
		    "IPv4 only; use --ipv6-share 0");
		return -1;
	}
	if ((o->link == GEN_LINK_IPV4 && o->ipv6_pct != 0) ||
	    (o->link == GEN_LINK_IPV6 && o->ipv6_pct != 100)) {
		snprintf(msg, sizeof(msg), "--link %s: carries IPv%d only; "
		    "use --ipv6-share %d", name, frame_link_only(o->link),
		    o->link == GEN_LINK_IPV4 ? 0 : 100);
		return -1;
	}
	if (o->inet6_af != 0 && o->link != GEN_LINK_NULL &&
	    o->link != GEN_LINK_NULL_BE && o->link != GEN_LINK_LOOP) {
		snprintf(msg, sizeof(msg), "--inet6-family: a %s link has no "
		    "address family; use --link null, null-be or loop", name);
		return -1;
	}
	*errstr = NULL;
	return 0;
}

int
frame_link_only(int link)
{
	return link == GEN_LINK_IPV4 ? 4 : link == GEN_LINK_IPV6 ? 6 : 0;
}

int
frame_opaque(const struct gen_opts *o)
{
	if (o->link != GEN_LINK_SLL && o->link != GEN_LINK_SLL2)
		return 0;
	if (o->sll_type == ARPHRD_NETLINK)
		return 1;
	return (o->sll_type == ARPHRD_FRAD || o->sll_type == ARPHRD_RADIOTAP) &&
	    (o->sll_proto == GEN_SLL_ETHERNET || o->sll_proto == GEN_SLL_PPP);
}

int
frame_link_padded(int link)
{
	return links[link].ethernet;
}

uint32_t
frame_link_pseudo(int link)
{
	return link == GEN_LINK_PPP_DIR ? 1 : 0;
}

uint32_t
frame_linktype(int link)
{
	return links[link].linktype;
}

const char *
frame_link_name(int link)
{
	return links[link].name;
}

int
frame_link_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (strcmp(name, links[i].name) == 0)
			return (int)i;
	return -1;
}

int
frame_sll_proto_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sll_protos) / sizeof(sll_protos[0]); i++)
		if (strcmp(name, sll_protos[i]) == 0)
			return (int)i;
	return -1;
}

/* Writes an MPLS label stack (RFC 3032) of n entries; returns its bytes. */
static size_t
put_labels(uint8_t *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put32(b + 4 * i, (MPLS_LABEL + i) << 12 |
		    (i + 1 == n ? 0x100u : 0) | MPLS_TTL);
	return 4 * (size_t)n;
}

/* Ethernet addresses: destination, then source. */
static size_t
put_macs(uint8_t *b, const struct gen_pkt *p)
{
	memcpy(b, p->dst_mac, 6);
	memcpy(b + 6, p->src_mac, 6);
	return 12;
}

/* Writes the tags of --tags (outer first); returns the bytes written. */
static size_t
put_tags(uint8_t *b, const struct gen_opts *o)
{
	uint32_t i;

	for (i = 0; i < o->ntags; i++) {
		put16(b + 4 * i, o->tags[i]);
		put16(b + 4 * i + 2, VLAN_ID + i);
	}
	return 4 * (size_t)o->ntags;
}

/*
 * Writes what an ethertype says in front of a packet of p's kind: the
 * tags of --tags; under --teb a bridged frame's type and addresses (RFC
 * 1701 type 0x6558, as a gretap device sends it); then the ethertype,
 * which for an IP packet is MPLS's with its labels under --mpls, or ACI's
 * for IPv4 under --aci (the malformed kind is an IPv4 header too).  ARP
 * is never labelled.  Returns the bytes written.
 */
static size_t
put_etypes(uint8_t *b, const struct gen_opts *o, const struct gen_pkt *p)
{
	int kind = p->kind;
	size_t n = put_tags(b, o);
	uint32_t type;

	if (o->teb) {
		put16(b + n, ETHERTYPE_TEB);
		n += 2 + put_macs(b + n + 2, p);
	}
	if (kind == GEN_KIND_NON_IP)
		type = ETHERTYPE_ARP;
	else if (o->mpls != 0)
		type = ETHERTYPE_MPLS;
	else if (kind == GEN_KIND_IPV6)
		type = ETHERTYPE_IPV6;
	else
		type = o->aci ? ETHERTYPE_ACI : ETHERTYPE_IPV4;
	put16(b + n, type);
	n += 2;
	if (type == ETHERTYPE_MPLS)
		n += put_labels(b + n, o->mpls);
	return n;
}

/*
 * The PPP protocol field for kind (LCP stands for a link's non-IP frame),
 * or under --mpls, MPLS's and the labels.  Returns the bytes written.
 */
static size_t
put_ppp(uint8_t *b, const struct gen_opts *o, int kind)
{
	if (kind == GEN_KIND_NON_IP) {
		put16(b, PPP_LCP);
		return 2;
	}
	if (o->mpls != 0) {
		put16(b, PPP_MPLS);
		return 2 + put_labels(b + 2, o->mpls);
	}
	/* RFC 1661 section 6.5: only protocols below 0x0100 compress. */
	if (o->ppp_compress) {
		b[0] = kind == GEN_KIND_IPV6 ? PPP_IPV6 : PPP_IPV4;
		return 1;
	}
	put16(b, kind == GEN_KIND_IPV6 ? PPP_IPV6 : PPP_IPV4);
	return 2;
}

/*
 * The HDLC-like address and control bytes (RFC 1662) and the protocol
 * field; --ppp-compress leaves the two bytes out (RFC 1661 section 6.6)
 * except in front of LCP, which never goes without them.
 */
static size_t
put_hdlc_ppp(uint8_t *b, const struct gen_opts *o, int kind)
{
	if (o->ppp_compress && kind != GEN_KIND_NON_IP)
		return put_ppp(b, o, kind);
	b[0] = 0xff;
	b[1] = 0x03;
	return 2 + put_ppp(b + 2, o, kind);
}

/*
 * A PPPoE session header (RFC 2516) at b and the PPP protocol: its length
 * covers the protocol and the payload (the IP packet, or the ARP message
 * a non-IP frame holds).  Returns the bytes written.
 */
static size_t
put_pppoe(const struct gen_pkt *p, const struct gen_opts *o, uint8_t *b)
{
	size_t n;

	b[0] = 0x11;					/* version 1, type 1 */
	put16(b + 2, PPPOE_SESSION);
	n = put_ppp(b + 6, o, p->kind);
	put16(b + 4, (uint32_t)n + (p->kind == GEN_KIND_NON_IP ? ARP_LEN :
	    p->l3_len));
	return 6 + n;
}

/*
 * A cooked header's protocol field at proto and what follows it from
 * rest on (for SLL v1 they are adjacent; SLL2 has the field first and the
 * rest after its 20 bytes): per --sll-proto, an ethertype and what it
 * says, a kernel value or GRE type and a whole Ethernet or PPP frame, or
 * PPPoE's ethertype and session.  Returns where the payload starts.
 */
static uint8_t *
put_cooked(const struct gen_pkt *p, const struct gen_opts *o, uint8_t *proto,
    uint8_t *rest)
{
	/* The longest: a kernel value, a tagged, bridged, labelled frame. */
	uint8_t t[2 + 14 + 4 * GEN_TAGS_MAX + 14 + 4 * GEN_MPLS_MAX];
	size_t n;

	switch (o->sll_proto) {
	case GEN_SLL_ETHERNET:
	case GEN_SLL_GRE_ETHERNET:
		put16(t, o->sll_proto == GEN_SLL_ETHERNET ? SLL_P_ETHERNET :
		    GRE_ETHERNET);
		n = 2 + put_macs(t + 2, p);
		n += put_etypes(t + n, o, p);
		break;
	case GEN_SLL_PPP:
	case GEN_SLL_GRE_PPP:
		put16(t, o->sll_proto == GEN_SLL_PPP ? SLL_P_PPPHDLC : GRE_PPP);
		n = 2 + put_hdlc_ppp(t + 2, o, p->kind);
		break;
	case GEN_SLL_GRE_WCCP:
		/* The type says IPv4; ARP has a GRE type of its own. */
		if (p->kind == GEN_KIND_NON_IP)
			n = put_etypes(t, o, p);
		else {
			put16(t, GRE_WCCP);
			n = 2;
		}
		break;
	case GEN_SLL_PPPOE:
		/* ARP goes outside the session, as on Ethernet. */
		if (p->kind == GEN_KIND_NON_IP) {
			n = put_etypes(t, o, p);
			break;
		}
		n = put_tags(t, o);
		put16(t + n, ETHERTYPE_PPPOE);
		n += 2 + put_pppoe(p, o, t + n + 2);
		break;
	default:
		n = put_etypes(t, o, p);
		break;
	}
	memcpy(proto, t, 2);
	memcpy(rest, t + 2, n - 2);
	return rest + n - 2;
}

/*
 * Writes p's link header at buf; returns where its IP header (or ARP
 * message) starts.  An ARP request on a PPPoE link is plain Ethernet, as
 * it is before a session starts; links without ethertypes say "not IP"
 * their own way (a loopback family, PPP's LCP, a raw version nibble 0).
 */
static uint8_t *
link_build(const struct gen_pkt *p, const struct gen_opts *o, uint8_t *buf)
{
	uint8_t t[4 * GEN_TAGS_MAX + 14 + 2 + 4 * GEN_MPLS_MAX];
	uint32_t af;
	uint8_t *b = buf;
	size_t n;

	switch (o->link) {
	case GEN_LINK_EN10MB:
	case GEN_LINK_PPPOE:
		b += put_macs(b, p);
		if (o->link == GEN_LINK_EN10MB || p->kind == GEN_KIND_NON_IP)
			return b + put_etypes(b, o, p);
		b += put_tags(b, o);
		put16(b, ETHERTYPE_PPPOE);
		return b + 2 + put_pppoe(p, o, b + 2);
	case GEN_LINK_SLL:
		put16(b, p->src_local ? SLL_OUTGOING : SLL_HOST);
		put16(b + 2, o->sll_type);
		put16(b + 4, 6);
		memcpy(b + 6, p->src_mac, 6);
		return put_cooked(p, o, b + 14, b + 16);
	case GEN_LINK_SLL2:
		put32(b + 4, SLL_IFINDEX);
		put16(b + 8, o->sll_type);
		b[10] = p->src_local ? SLL_OUTGOING : SLL_HOST;
		b[11] = 6;
		memcpy(b + 12, p->src_mac, 6);
		return put_cooked(p, o, b, b + 20);
	case GEN_LINK_NULL:
	case GEN_LINK_NULL_BE:
	case GEN_LINK_LOOP:
		af = p->kind == GEN_KIND_NON_IP ? NULL_AF_OTHER :
		    p->kind != GEN_KIND_IPV6 ? NULL_AF_INET :
		    o->inet6_af != 0 ? o->inet6_af :
		    o->link == GEN_LINK_LOOP ? LOOP_AF_INET6 : NULL_AF_INET6;
		if (o->link == GEN_LINK_NULL)
			b[0] = (uint8_t)af;		/* little-endian */
		else
			put32(b, af);
		return b + 4;
	case GEN_LINK_RAW_ISDN:
		/* A Linux ISDN driver's 6-byte fake header (zeros), PPP. */
		return b + 6 + put_hdlc_ppp(b + 6, o, p->kind);
	case GEN_LINK_PPP_DIR:
		*b++ = p->src_local;			/* 1: sent, 0: received */
		/* FALLTHROUGH */
	case GEN_LINK_PPP:
	case GEN_LINK_PPP_SERIAL:
	case GEN_LINK_RAW_PPP:
	case GEN_LINK_NULL_PPP:
		return b + put_hdlc_ppp(b, o, p->kind);
	case GEN_LINK_PPP_ETHER:
		return b + put_pppoe(p, o, b);
	case GEN_LINK_NULL_ETHERTYPE:
		/*
		 * The ethertype (or the first tag's TPID) as a little-endian
		 * 32-bit family, past 1500 as no family is; the rest after.
		 */
		n = put_etypes(t, o, p);
		b[0] = t[1];
		b[1] = t[0];
		memcpy(b + 4, t + 2, n - 2);
		return b + 4 + n - 2;
	case GEN_LINK_CHDLC:
	case GEN_LINK_PPP_CHDLC:
		b[0] = CHDLC_UNICAST;
		return b + 2 + put_etypes(b + 2, o, p);
	default:
		return b;				/* raw, ipv4, ipv6 */
	}
}

size_t
frame_link_len(const struct gen_opts *o, int kind)
{
	static uint8_t scratch[GEN_FRAME_MAX + 64];
	struct gen_pkt p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	return (size_t)(link_build(&p, o, scratch) - scratch);
}

/* The transport header at l4, len bytes of transport segment. */
static void
l4_build(const struct gen_pkt *p, uint8_t *l4, size_t len)
{
	uint32_t c;
	uint8_t *in;

	switch (p->proto) {
	case 6:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put32(l4 + 4, p->seq);
		put32(l4 + 8, p->ack);
		l4[12] = 5 << 4;
		l4[13] = p->tcp_flags;
		put16(l4 + 14, 64240);
		put16(l4 + 16, fold(sum16(l4, len, pseudo_sum(p, 6, len))));
		break;
	case 17:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put16(l4 + 4, (uint32_t)len);
		c = fold(sum16(l4, len, pseudo_sum(p, 17, len)));
		put16(l4 + 6, c == 0 ? 0xffff : c);
		break;
	case 1:
	case 58:
		l4[0] = p->icmp_type;
		put16(l4 + 4, 0x4e54);				/* identifier */
		put16(l4 + 6, p->ip_id);			/* sequence */
		c = p->proto == 58 ? pseudo_sum(p, 58, len) : 0;
		put16(l4 + 2, fold(sum16(l4, len, c)));
		break;
	case 132:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put32(l4 + 4, 0x6e74616c);			/* verification tag */
		l4[12] = 0;					/* DATA */
		l4[13] = 0x03;					/* B and E */
		put16(l4 + 14, (uint32_t)(len - 12));
		put32(l4 + 16, p->ip_id);			/* TSN */
		put32(l4 + 8, 0);
		c = crc32c(l4, len);
		/* the CRC goes into the packet in little-endian byte order */
		l4[8] = (uint8_t)c;
		l4[9] = (uint8_t)(c >> 8);
		l4[10] = (uint8_t)(c >> 16);
		l4[11] = (uint8_t)(c >> 24);
		break;
	case 47:
		put16(l4 + 2, 0x0800);
		in = l4 + 4;
		in[0] = 0x45;
		put16(in + 2, (uint32_t)(len - 4));
		in[8] = 64;
		in[9] = 17;
		memcpy(in + 12, p->inner, 8);
		put16(in + 10, fold(sum16(in, 20, 0)));
		put16(in + 20, 40000);
		put16(in + 22, 7);		/* echo: nothing tshark decodes far */
		put16(in + 24, (uint32_t)(len - 24));
		break;
	default:
		break;
	}
}

size_t
frame_build(const struct gen_pkt *p, const struct gen_opts *o, uint8_t *buf)
{
	uint8_t *ip, *l4;
	size_t l3hdr;
	uint8_t nh;

	memset(buf, 0, p->wire_len);
	ip = link_build(p, o, buf);
	if (p->kind == GEN_KIND_NON_IP) {
		put16(ip, 1);				/* Ethernet */
		put16(ip + 2, ETHERTYPE_IPV4);
		ip[4] = 6;
		ip[5] = 4;
		put16(ip + 6, 1);			/* request */
		memcpy(ip + 8, p->src_mac, 6);
		memcpy(ip + 14, p->src, 4);
		memcpy(ip + 24, p->dst, 4);
		return p->wire_len;
	}
	if (p->kind == GEN_KIND_IPV6) {
		ip[0] = 0x60;
		put16(ip + 4, p->l3_len - 40);
		ip[7] = 64;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
		l3hdr = 40;
		nh = p->proto;
		if (p->v6_hbh) {
			ip[6] = 0;			/* hop-by-hop */
			ip[l3hdr] = nh;
			ip[l3hdr + 2] = 1;		/* PadN, 4 bytes */
			ip[l3hdr + 3] = 4;
			l3hdr += 8;
		} else if (p->v6_frag) {
			ip[6] = 44;
			ip[l3hdr] = nh;
			put16(ip + l3hdr + 2,
			    (uint32_t)p->frag_off << 3 | p->more_frags);
			put32(ip + l3hdr + 4, 0x10000u + p->ip_id);
			l3hdr += 8;
		} else
			ip[6] = nh;
	} else {
		ip[0] = p->kind == GEN_KIND_MALFORMED ? 0x40 | p->bad_ihl : 0x45;
		put16(ip + 2, p->l3_len);
		put16(ip + 4, p->ip_id);
		if (p->frag_off || p->more_frags)
			put16(ip + 6, (uint32_t)p->more_frags << 13 | p->frag_off);
		else if (p->proto == 6)
			put16(ip + 6, 0x4000);		/* DF */
		ip[8] = 64;
		ip[9] = p->proto;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
		l3hdr = 20;
		if (p->v4_lsrr) {
			/*
			 * RFC 791 loose source route: the header holds the
			 * next hop, the route's last address the final
			 * destination, which is what counts.
			 */
			ip[0] = 0x40 | (20 + GEN_LSRR_LEN) / 4;
			memcpy(ip + 16, p->hop, 4);
			ip[20] = 0x83;
			ip[21] = 11;
			ip[22] = 4;
			memcpy(ip + 23, p->hop, 4);
			memcpy(ip + 27, p->dst, 4);
			l3hdr += GEN_LSRR_LEN;
		}
		if (p->kind != GEN_KIND_MALFORMED)
			put16(ip + 10, fold(sum16(ip, l3hdr, 0)));
	}
	if (p->kind == GEN_KIND_IPV6 ? !p->v6_frag || p->frag_off == 0 :
	    p->frag_off == 0 && p->kind != GEN_KIND_MALFORMED) {
		l4 = ip + l3hdr;
		l4_build(p, l4, p->l3_len - l3hdr);
	}
	return p->wire_len;
}
