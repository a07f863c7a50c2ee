/*
 * frame.c - writes one struct gen_pkt as frame bytes.
 *
 * The frame is exactly p->frame_len bytes of headers and zero payload; on
 * an Ethernet link it is followed by zero padding up to the 60-byte
 * minimum (so a short IP packet has bytes_l3 < bytes_wire, as on a real
 * link).  Header layouts: Ethernet II and 802.1Q; PPPoE session (RFC
 * 2516) and PPP in HDLC-like framing (RFC 1662); Linux cooked capture v1
 * and v2 and BSD loopback (as libpcap's link-layer header types page
 * describes them); IPv4 (RFC 791), IPv6 (RFC 8200) with hop-by-hop
 * and fragment headers; TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792),
 * ICMPv6 (RFC 4443), SCTP with one DATA chunk (RFC 9260), GRE (RFC 2784)
 * carrying IPv4/UDP, ARP (RFC 826).  Checksums are correct, so the frames
 * also survive a real receiver; payload bytes are zero.
 */
#include <string.h>

#include "gen.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_PPPOE	0x8864
#define VLAN_ID		100
#define PPP_IPV4	0x0021
#define PPP_IPV6	0x0057
#define PPP_LCP		0xc021
#define PPPOE_SESSION	0x4e54
#define SLL_HOST	0	/* packet type: to this host */
#define SLL_OUTGOING	4	/* packet type: sent by this host */
#define SLL_IFINDEX	2
#define ARPHRD_ETHER	1
/* BSD loopback families: IPv4, IPv6 as macOS writes it, and OSI */
#define NULL_AF_INET	2
#define NULL_AF_INET6	30
#define NULL_AF_OTHER	7

/* Per enum gen_link: name, LINKTYPE_ number, header bytes, Ethernet. */
static const struct {
	const char	*name;
	uint32_t	 linktype;
	uint32_t	 len;		/* without an 802.1Q tag */
	int		 ethernet;
	int		 tags;		/* carries an ethertype, so a tag */
} links[] = {
	[GEN_LINK_EN10MB] =	{ "en10mb",	1,	14,	1, 1 },
	[GEN_LINK_PPPOE] =	{ "pppoe",	1,	22,	1, 1 },
	[GEN_LINK_SLL] =	{ "sll",	113,	16,	0, 1 },
	[GEN_LINK_SLL2] =	{ "sll2",	276,	20,	0, 1 },
	[GEN_LINK_NULL] =	{ "null",	0,	4,	0, 0 },
	[GEN_LINK_RAW] =	{ "raw",	101,	0,	0, 0 },
	[GEN_LINK_PPP] =	{ "ppp",	9,	4,	0, 0 },
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

size_t
frame_link_len(int link, int vlan)
{
	return links[link].len + (vlan && links[link].tags ? 4 : 0);
}

/* ARP has no PPPoE session to go in: a PPPoE link sends it as Ethernet. */
size_t
frame_arp_link_len(int link, int vlan)
{
	return frame_link_len(link == GEN_LINK_PPPOE ? GEN_LINK_EN10MB : link,
	    vlan);
}

int
frame_link_padded(int link)
{
	return links[link].ethernet;
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

/*
 * Writes ethertype at b, behind an 802.1Q tag when vlan; returns the
 * bytes written.
 */
static size_t
put_ethertype(uint8_t *b, int vlan, uint32_t ethertype)
{
	if (!vlan) {
		put16(b, ethertype);
		return 2;
	}
	put16(b, ETHERTYPE_VLAN);
	put16(b + 2, VLAN_ID);
	put16(b + 4, ethertype);
	return 6;
}

/*
 * Writes p's link header at buf; returns where its IP header (or ARP
 * message) starts.  An ARP request on a PPPoE link is plain Ethernet, as
 * it is before a session starts; links without ethertypes say "not IP"
 * their own way (a loopback family, PPP's LCP, a raw version nibble 0).
 */
static uint8_t *
link_build(const struct gen_pkt *p, int link, int vlan, uint8_t *buf)
{
	uint32_t type, ppp, af;
	uint8_t *b = buf;

	type = p->kind == GEN_KIND_NON_IP ? ETHERTYPE_ARP :
	    p->kind == GEN_KIND_IPV6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
	ppp = p->kind == GEN_KIND_NON_IP ? PPP_LCP :
	    p->kind == GEN_KIND_IPV6 ? PPP_IPV6 : PPP_IPV4;
	switch (link) {
	case GEN_LINK_EN10MB:
	case GEN_LINK_PPPOE:
		memcpy(b, p->dst_mac, 6);
		memcpy(b + 6, p->src_mac, 6);
		b += 12;
		if (link == GEN_LINK_EN10MB || p->kind == GEN_KIND_NON_IP)
			return b + put_ethertype(b, vlan, type);
		b += put_ethertype(b, vlan, ETHERTYPE_PPPOE);
		b[0] = 0x11;				/* version 1, type 1 */
		put16(b + 2, PPPOE_SESSION);
		put16(b + 4, p->l3_len + 2);		/* PPP protocol + IP */
		put16(b + 6, ppp);
		return b + 8;
	case GEN_LINK_SLL:
		put16(b, p->src_local ? SLL_OUTGOING : SLL_HOST);
		put16(b + 2, ARPHRD_ETHER);
		put16(b + 4, 6);
		memcpy(b + 6, p->src_mac, 6);
		return b + 14 + put_ethertype(b + 14, vlan, type);
	case GEN_LINK_SLL2:
		put16(b, vlan ? ETHERTYPE_VLAN : type);
		put32(b + 4, SLL_IFINDEX);
		put16(b + 8, ARPHRD_ETHER);
		b[10] = p->src_local ? SLL_OUTGOING : SLL_HOST;
		b[11] = 6;
		memcpy(b + 12, p->src_mac, 6);
		if (!vlan)
			return b + 20;
		put16(b + 20, VLAN_ID);
		put16(b + 22, type);
		return b + 24;
	case GEN_LINK_NULL:
		af = p->kind == GEN_KIND_NON_IP ? NULL_AF_OTHER :
		    p->kind == GEN_KIND_IPV6 ? NULL_AF_INET6 : NULL_AF_INET;
		b[0] = (uint8_t)af;			/* little-endian */
		return b + 4;
	case GEN_LINK_PPP:
		b[0] = 0xff;
		b[1] = 0x03;
		put16(b + 2, ppp);
		return b + 4;
	default:
		return b;				/* raw */
	}
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
frame_build(const struct gen_pkt *p, int link, int vlan, uint8_t *buf)
{
	uint8_t *ip, *l4;
	size_t l3hdr;
	uint8_t nh;

	memset(buf, 0, p->wire_len);
	ip = link_build(p, link, vlan, buf);
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
