/*
 * decode.c - classify one captured frame per the accounting rules.
 *
 * Every packet byte is read through struct cur, a cursor that knows how
 * many bytes were captured and refuses (returns -1) any read past them; no
 * packet byte is ever reached through a cast to a header struct.  A link
 * handler from the static dlt table moves the cursor over the link framing
 * and says which IP version, if any, follows; the IP decoders then apply
 * DESIGN.md "Accounting semantics" rules 2-5.
 *
 * The common frame, Ethernet II carrying IPv4 without options, takes a
 * shortcut (decode_en10mb_ipv4): one bounds check for the fixed-size
 * headers, then reads at fixed offsets, with the same result as the
 * general path (fuzz_decode holds the two to that).
 *
 * Invariants: nothing here allocates, logs or writes any global; every
 * pass of the tag, label and IPv6 extension header loops, and of the
 * IPv4 option walks (ip4opt.c), consumes captured bytes, so the work per
 * frame is at most linear in caplen; the only output is *out and the
 * return value.  The cursor may end before caplen where a length field
 * (PPPoE's) ends the payload, never after it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode.h"
#include "ip4opt.h"

/* Ethertypes (IEEE 802 numbers registry). */
#define ET_IPV4		0x0800
#define ET_IPV6		0x86dd
#define ET_VLAN		0x8100	/* IEEE 802.1Q C-tag */
#define ET_QINQ		0x88a8	/* IEEE 802.1ad S-tag */
#define ET_QINQ_OLD	0x9100	/* pre-802.1ad vendor QinQ tag */
#define ET_PPPOE_SESS	0x8864	/* RFC 2516 session stage */
#define ET_MPLS_UC	0x8847	/* RFC 3032 */
#define ET_MPLS_MC	0x8848
#define ET_TEB		0x6558	/* transparent Ethernet bridging */
#define ET_ACI_GLEAN	0xfff2	/* Cisco ACI ARP gleaning: an IPv4 packet */

/* Linux cooked protocol values that are not ethertypes (if_ether.h). */
#define SLL_P_ETHERNET	0x0003	/* a whole Ethernet frame */
#define SLL_P_PPPHDLC	0x0007	/* PPP in HDLC-like framing */

/* PPP protocol numbers (RFC 1332, RFC 5072, RFC 3032 section 5). */
#define PPP_IPV4	0x0021
#define PPP_IPV6	0x0057
#define PPP_MPLS_UC	0x0281
#define PPP_MPLS_MC	0x0283
#define PPP_HDLC_START	0xff03	/* RFC 1662 all-stations address, UI */

/* Address families seen in DLT_NULL / DLT_LOOP headers. */
#define AF_BSD_INET	2
#define AF_BSD_INET6	24	/* NetBSD, OpenBSD, BSD/OS */
#define AF_FBSD_INET6	28	/* FreeBSD, DragonFly */
#define AF_DARWIN_INET6	30	/* macOS, iOS */

#define ARPHRD_NETLINK	824	/* SLL frames that carry netlink, not IP */
#define ARPHRD_IPGRE	778	/* SLL protocol: a GRE protocol type */
#define ARPHRD_FRAD	770	/* Frame Relay access device */
#define ARPHRD_RADIOTAP	803	/* 802.11 frames behind a radiotap header */

/* GRE protocol types (IANA) with a meaning of their own under GRE. */
#define GRE_ETHERNET_OLD 0x6400	/* an Ethernet frame (pre-0x6558) */
#define GRE_PPP		0x880b
#define GRE_WCCP	0x883e	/* web cache redirection: IPv4 follows */

/* MPLS labels that announce something other than a payload (RFC 7274). */
#define MPLS_GAL	13	/* generic associated channel, RFC 5586 */
#define MPLS_OAM_ALERT	14	/* ITU-T Y.1711 */

/* IPv4 (RFC 791) and IPv6 (RFC 8200) constants. */
#define IP4_HDR_MIN	20
#define IP4_OFFMASK	0x1fff		/* fragment offset, in 8-byte units */
#define IP6_HDR_LEN	40
#define NH_HOPOPTS	0
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_NONE		59
#define NH_DSTOPTS	60
#define L4_TCP		6
#define L4_UDP		17
#define L4_SCTP		132
#define OPT_PAD1	0
#define OPT_JUMBO	0xc2		/* RFC 2675 Jumbo Payload option */

/* A read-only view of the captured bytes and the next one to read. */
struct cur {
	const uint8_t	*p;
	uint32_t	 len;		/* readable bytes: captured, or fewer
					   where a length field ends them */
	uint32_t	 off;		/* next byte to read, <= len */
	uint32_t	 wire;		/* bytes on the wire, or fewer where
					   a length field ends them */
};

/* What the link framing says comes next. */
enum l3 {
	L3_NONE = 0,		/* not IP */
	L3_IPV4,		/* IPv4 by link type or ethertype */
	L3_IPV6,
};

struct link {
	int		 dlt;
	enum l3		 (*decode)(struct cur *);
};

static int	 cur_peek_u8(const struct cur *, uint8_t *);
static int	 cur_u8(struct cur *, uint8_t *);
static int	 cur_u16(struct cur *, uint16_t *);
static int	 cur_u32(struct cur *, uint32_t *);
static int	 cur_skip(struct cur *, uint32_t);
static int	 cur_copy(struct cur *, uint8_t *, uint32_t);
static uint32_t	 cur_left(const struct cur *);

static enum l3	 l3_ethertype(struct cur *, uint16_t);
static enum l3	 l3_ppp_proto(struct cur *);
static enum l3	 l3_mpls(struct cur *);
static enum l3	 l3_version(struct cur *);
static int	 sll_own_framing(uint16_t);
static enum l3	 l3_sll_proto(struct cur *, uint16_t, uint16_t);
static enum l3	 l3_tunnel_type(struct cur *, uint16_t);
static enum l3	 l3_gre_proto(struct cur *, uint16_t);

static enum l3	 link_en10mb(struct cur *);
static enum l3	 link_sll(struct cur *);
static enum l3	 link_sll2(struct cur *);
static enum l3	 link_raw(struct cur *);
static enum l3	 link_ipv4(struct cur *);
static enum l3	 link_ipv6(struct cur *);
static enum l3	 link_null(struct cur *);
static enum l3	 link_loop(struct cur *);
static enum l3	 link_ppp(struct cur *);
static enum l3	 link_chdlc(struct cur *);
static enum l3	 link_pppoe(struct cur *);
static enum l3	 link_ppp_dir(struct cur *);

static const struct link *link_find(int);
static uint64_t	 wire_l3(uint32_t, uint32_t);
static uint32_t	 ports_need(uint8_t);
static int	 ip_fit(const struct cur *, uint32_t, uint64_t, uint32_t);
static int	 read_ports(struct cur *, struct decoded *);
static enum decode_kind decode_ipv4(struct cur *, struct decoded *);
static enum decode_kind decode_ipv6(struct cur *, struct decoded *);
static int	 ipv6_jumbo(struct cur, uint32_t *);
static enum decode_kind decode_en10mb_ipv4(const uint8_t *, uint32_t,
		    uint32_t, struct decoded *);

/*
 * The link types decode_frame understands.  DLT_RAW is 12 on most systems
 * and 14 on OpenBSD; libpcap maps LINKTYPE_RAW (101) in a file to the local
 * DLT_RAW, but files written on OpenBSD may still carry 14, so 14 is raw
 * too wherever it means nothing else (it is DLT_PPP_BSDOS on Net/FreeBSD).
 */
static const struct link links[] = {
	{ DLT_EN10MB,		link_en10mb },
	{ DLT_LINUX_SLL,	link_sll },
	{ DLT_LINUX_SLL2,	link_sll2 },
	{ DLT_RAW,		link_raw },
#if DLT_RAW != 14 && !defined(__NetBSD__) && !defined(__FreeBSD__)
	{ 14,			link_raw },
#endif
	{ DLT_IPV4,		link_ipv4 },
	{ DLT_IPV6,		link_ipv6 },
	{ DLT_NULL,		link_null },
	{ DLT_LOOP,		link_loop },
	{ DLT_PPP,		link_ppp },
	{ DLT_PPP_SERIAL,	link_ppp },
	{ DLT_C_HDLC,		link_chdlc },
	{ DLT_PPP_ETHER,	link_pppoe },
	{ DLT_PPP_WITH_DIR,	link_ppp_dir },
};

/* Looks at the next byte without moving; -1 when it was not captured. */
static int
cur_peek_u8(const struct cur *c, uint8_t *v)
{
	if (c->len - c->off < 1)
		return -1;
	*v = c->p[c->off];
	return 0;
}

/* Reads one byte; -1 when it was not captured. */
static int
cur_u8(struct cur *c, uint8_t *v)
{
	if (c->len - c->off < 1)
		return -1;
	*v = c->p[c->off];
	c->off += 1;
	return 0;
}

/* Reads a big-endian (network order) 16-bit value; -1 when short. */
static int
cur_u16(struct cur *c, uint16_t *v)
{
	if (c->len - c->off < 2)
		return -1;
	*v = (uint16_t)((unsigned)c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return 0;
}

/* Reads a big-endian 32-bit value; -1 when short. */
static int
cur_u32(struct cur *c, uint32_t *v)
{
	if (c->len - c->off < 4)
		return -1;
	*v = (uint32_t)c->p[c->off] << 24 | (uint32_t)c->p[c->off + 1] << 16 |
	    (uint32_t)c->p[c->off + 2] << 8 | (uint32_t)c->p[c->off + 3];
	c->off += 4;
	return 0;
}

/* Moves over n bytes; -1 (cursor unchanged) when fewer were captured. */
static int
cur_skip(struct cur *c, uint32_t n)
{
	if (c->len - c->off < n)
		return -1;
	c->off += n;
	return 0;
}

/* Copies n bytes out; -1 (nothing copied) when fewer were captured. */
static int
cur_copy(struct cur *c, uint8_t *dst, uint32_t n)
{
	if (c->len - c->off < n)
		return -1;
	memcpy(dst, c->p + c->off, n);
	c->off += n;
	return 0;
}

/* Returns how many captured bytes remain. */
static uint32_t
cur_left(const struct cur *c)
{
	return c->len - c->off;
}

/*
 * Follows an ethertype through VLAN tags, a PPPoE session header or an MPLS
 * stack to the IP header.  The cursor sits just after the type field.
 */
static enum l3
l3_ethertype(struct cur *c, uint16_t type)
{
	uint16_t	 tci;

	/*
	 * DESIGN rule 2 takes any stack of tags, as tshark does: each one
	 * consumes 4 captured bytes, so the capture bounds the loop.
	 */
	for (;;) {
		switch (type) {
		case ET_IPV4:
			return L3_IPV4;
		case ET_IPV6:
			return L3_IPV6;
		case ET_ACI_GLEAN:
			/*
			 * An ACI leaf switch sends an IPv4 packet whose
			 * destination it must resolve (ARP gleaning) under
			 * this type.  tshark reads it as IPv4 when the
			 * version nibble says 4, else as data.
			 */
			return l3_version(c) == L3_IPV4 ? L3_IPV4 : L3_NONE;
		case ET_VLAN:
		case ET_QINQ:
		case ET_QINQ_OLD:
			/*
			 * IEEE 802.1Q: a 2-byte TCI, then the next type.
			 * A type <= 1500 is an 802.3 length (LLC follows),
			 * which falls to the default case: not IP.
			 */
			if (cur_u16(c, &tci) == -1 || cur_u16(c, &type) == -1)
				return L3_NONE;
			break;
		case ET_PPPOE_SESS:
			return link_pppoe(c);
		case ET_MPLS_UC:
		case ET_MPLS_MC:
			return l3_mpls(c);
		case ET_TEB:
			/* A whole Ethernet frame (a gretap's, say). */
			if (cur_skip(c, 12) == -1 || cur_u16(c, &type) == -1)
				return L3_NONE;
			break;
		default:
			return L3_NONE;
		}
	}
}

/*
 * A PPPoE session header (RFC 2516 section 4: version/type, code, session
 * id, length), then the PPP protocol field.  As tshark does, nothing past
 * the length is read (and the wire length ends there too), and the code
 * is not looked at.
 */
static enum l3
link_pppoe(struct cur *c)
{
	uint16_t	 len;

	/*
	 * tshark first reads two bytes behind the header, whatever the
	 * length says, and stops if they were not captured.
	 */
	if (cur_skip(c, 4) == -1 || cur_u16(c, &len) == -1 ||
	    cur_left(c) < 2)
		return L3_NONE;
	if (cur_left(c) > len)
		c->len = c->off + len;
	if (c->wire > c->off && c->wire - c->off > len)
		c->wire = c->off + len;
	return l3_ppp_proto(c);
}

/*
 * Reads a PPP protocol field and maps it.  RFC 1661 section 6.5 (protocol
 * field compression): a first byte with its low bit set is the whole,
 * one-byte field.
 */
static enum l3
l3_ppp_proto(struct cur *c)
{
	uint8_t		 b0, b1;
	uint16_t	 proto;

	if (cur_u8(c, &b0) == -1)
		return L3_NONE;
	if (b0 & 1)
		proto = b0;
	else {
		if (cur_u8(c, &b1) == -1)
			return L3_NONE;
		proto = (uint16_t)(b0 << 8 | b1);
	}
	/* tshark's PPP table holds the IP ethertypes as well. */
	switch (proto) {
	case PPP_IPV4:
	case ET_IPV4:
		return L3_IPV4;
	case PPP_IPV6:
	case ET_IPV6:
		return L3_IPV6;
	case PPP_MPLS_UC:
	case PPP_MPLS_MC:
		return l3_mpls(c);
	default:
		return L3_NONE;
	}
}

/*
 * Walks an MPLS label stack (RFC 3032 section 2.1: 4-byte entries, bit 8
 * the bottom-of-stack flag).  MPLS does not say what is below the stack;
 * like every LSR that looks, we use the IP version nibble (RFC 4928
 * explains why a 4 or 6 there means IP).  Anything else (pseudowire
 * control words, Ethernet PWs) is not IP.
 */
static enum l3
l3_mpls(struct cur *c)
{
	uint32_t	 lse;

	/* Any depth, as for VLAN tags: 4 captured bytes a label. */
	for (;;) {
		if (cur_u32(c, &lse) == -1)
			return L3_NONE;
		if (!(lse & 0x100))
			continue;
		/* Under a GAL or an OAM alert is a channel, not IP. */
		if (lse >> 12 == MPLS_GAL || lse >> 12 == MPLS_OAM_ALERT)
			return L3_NONE;
		return l3_version(c);
	}
}

/*
 * Peeks at the version nibble of what follows.  Nothing captured means no
 * evidence of IP at all: not IP.
 */
static enum l3
l3_version(struct cur *c)
{
	uint8_t		 b0;

	if (cur_peek_u8(c, &b0) == -1)
		return L3_NONE;
	switch (b0 >> 4) {
	case 4:
		return L3_IPV4;
	case 6:
		return L3_IPV6;
	default:
		return L3_NONE;
	}
}

/* Ethernet II (IEEE 802.3 with a type field): 6 + 6 + 2 bytes. */
static enum l3
link_en10mb(struct cur *c)
{
	uint16_t	 type;

	if (cur_skip(c, 12) == -1 || cur_u16(c, &type) == -1)
		return L3_NONE;
	return l3_ethertype(c, type);
}

/*
 * The ethertype-space values a Cisco HDLC or GRE type field shares with
 * Ethernet, as tshark's tables for both list them: IP, MPLS and bridged
 * Ethernet, but no VLAN tag or PPPoE header.
 */
static enum l3
l3_tunnel_type(struct cur *c, uint16_t type)
{
	switch (type) {
	case ET_IPV4:
	case ET_IPV6:
	case ET_MPLS_UC:
	case ET_MPLS_MC:
	case ET_TEB:
		return l3_ethertype(c, type);
	default:
		return L3_NONE;
	}
}

/*
 * A GRE interface's cooked protocol field is a GRE protocol type, read as
 * tshark reads it from its GRE table: l3_tunnel_type's, and PPP, WCCP and
 * the old Ethernet value besides.
 */
static enum l3
l3_gre_proto(struct cur *c, uint16_t proto)
{
	switch (proto) {
	case GRE_ETHERNET_OLD:
		return link_en10mb(c);
	case GRE_PPP:
		return link_ppp(c);
	case GRE_WCCP:
		/* IPv4 only, as tshark reads it: another version is damage. */
		return L3_IPV4;
	default:
		return l3_tunnel_type(c, proto);
	}
}

/*
 * Returns 1 for the device types whose frames a Linux cooked header
 * marked with a kernel protocol value (not an ethertype) carries in their
 * own framing: Frame Relay, and 802.11 behind a radiotap header.
 */
static int
sll_own_framing(uint16_t hatype)
{
	return hatype == ARPHRD_FRAD || hatype == ARPHRD_RADIOTAP;
}

/*
 * The payload of a Linux cooked header by its protocol field: an
 * ethertype (a GRE protocol type on a GRE interface), or one of the
 * kernel's own values for a whole Ethernet or PPP frame (others, such as
 * 802.2 LLC and CAN, are not IP).  Under a kernel value, a Frame Relay
 * or 802.11 monitor device's frame is in that device's own framing, as
 * tshark reads it too, and not IP here: read as Ethernet, a radiotap
 * header's bytes could pass for an ethertype.
 */
static enum l3
l3_sll_proto(struct cur *c, uint16_t hatype, uint16_t proto)
{
	if (hatype == ARPHRD_NETLINK)
		return L3_NONE;
	switch (proto) {
	case SLL_P_ETHERNET:
		return sll_own_framing(hatype) ? L3_NONE : link_en10mb(c);
	case SLL_P_PPPHDLC:
		return sll_own_framing(hatype) ? L3_NONE : link_ppp(c);
	default:
		if (hatype == ARPHRD_IPGRE)
			return l3_gre_proto(c, proto);
		return l3_ethertype(c, proto);
	}
}

/*
 * Linux cooked v1: packet type, ARPHRD type, address length, 8 address
 * bytes, protocol.
 */
static enum l3
link_sll(struct cur *c)
{
	uint16_t	 hatype, proto;

	if (cur_skip(c, 2) == -1 || cur_u16(c, &hatype) == -1 ||
	    cur_skip(c, 10) == -1 || cur_u16(c, &proto) == -1)
		return L3_NONE;
	return l3_sll_proto(c, hatype, proto);
}

/*
 * Linux cooked v2: protocol, reserved, interface index, ARPHRD type,
 * packet type, address length, 8 address bytes: 20 bytes.
 */
static enum l3
link_sll2(struct cur *c)
{
	uint16_t	 proto, hatype;

	if (cur_u16(c, &proto) == -1 || cur_skip(c, 6) == -1 ||
	    cur_u16(c, &hatype) == -1 || cur_skip(c, 10) == -1)
		return L3_NONE;
	return l3_sll_proto(c, hatype, proto);
}

/*
 * DLT_RAW: no header; the version nibble tells IPv4 from IPv6.  tshark
 * first looks for PPP framing (ff 03) at the start, and then at byte 6,
 * where a Linux ISDN driver put it behind a fake address; a frame too
 * short for those looks is not IP to it.
 */
static enum l3
link_raw(struct cur *c)
{
	struct cur	 peek = *c;
	uint16_t	 w;

	if (cur_u16(&peek, &w) == -1)
		return L3_NONE;
	if (w == PPP_HDLC_START)
		return link_ppp(c);
	if (cur_skip(&peek, 4) == -1 || cur_u16(&peek, &w) == -1)
		return L3_NONE;
	if (w == PPP_HDLC_START)
		return cur_skip(c, 6) == -1 ? L3_NONE : link_ppp(c);
	return l3_version(c);
}

/* DLT_IPV4: no header and always IPv4, so a bad version is malformed. */
static enum l3
link_ipv4(struct cur *c)
{
	(void)c;
	return L3_IPV4;
}

/* DLT_IPV6: no header and always IPv6. */
static enum l3
link_ipv6(struct cur *c)
{
	(void)c;
	return L3_IPV6;
}

/* Maps a BSD address family to what follows it. */
static enum l3
l3_bsd_af(uint32_t af)
{
	switch (af) {
	case AF_BSD_INET:
		return L3_IPV4;
	case AF_BSD_INET6:
	case AF_FBSD_INET6:
	case AF_DARWIN_INET6:
		return L3_IPV6;
	default:
		return L3_NONE;
	}
}

/*
 * DLT_NULL holds a 4-byte address family in the byte order of the host
 * that captured, and a file may come from any host.  tshark, the
 * reference for what counts, reads the 4 bytes in its own (little-endian)
 * order and then guesses: upper 16 bits set means the other byte order,
 * or IRIX's 16-bit family in the first two bytes; a low byte of zero with
 * a small second byte means that 16-bit family byte-swapped.  A result
 * past the 802.3 length range is an ethertype (its low 16 bits).  IPv6 is
 * the BSDs' families only: Linux never writes these headers, and tshark
 * reads its AF_INET6 (10) here as data.
 */
static enum l3
link_null(struct cur *c)
{
	struct cur	 peek = *c;
	uint32_t	 v;
	uint16_t	 w;
	uint8_t		 b[4];

	/*
	 * Some BSD point-to-point links write PPP framing (ff 03) under
	 * DLT_NULL; tshark recognises it by these first bytes.  (Cisco HDLC
	 * there, 0f/8f 00 and a type, comes out of the guesses below as the
	 * same ethertype.)
	 */
	if (cur_u16(&peek, &w) == 0 && w == PPP_HDLC_START)
		return link_ppp(c);
	if (cur_copy(c, b, 4) == -1)
		return L3_NONE;
	v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	if (v & 0xffff0000u) {
		if (!(v & 0xff000000u) && (v & 0x00ff0000u) < 0x00060000u)
			v >>= 16;
		else
			v = (uint32_t)b[3] | (uint32_t)b[2] << 8 |
			    (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
	} else if (!(v & 0xff) && (v & 0xff00) < 0x0600)
		v >>= 8;
	/*
	 * ACI's gleaning type is IPv4 to tshark behind Ethernet, a tag or
	 * a cooked header, but not here: its loopback reading hands the
	 * value to no dissector.
	 */
	if (v == ET_ACI_GLEAN)
		return L3_NONE;
	if (v > 1500)
		return l3_ethertype(c, (uint16_t)v);
	return l3_bsd_af(v);
}

/*
 * DLT_LOOP (OpenBSD's loopback) holds the address family in network order
 * and nothing else: tshark reads no ethertype and no other framing here.
 */
static enum l3
link_loop(struct cur *c)
{
	uint32_t	 af;

	if (cur_u32(c, &af) == -1)
		return L3_NONE;
	return l3_bsd_af(af);
}

/*
 * DLT_PPP and DLT_PPP_SERIAL: PPP in HDLC-like framing (RFC 1662).  The
 * address/control bytes ff 03 may be elided (RFC 1661 section 6.6,
 * address-and-control-field compression).  Cisco HDLC frames (address 0x0f
 * unicast, 0x8f broadcast) turn up on the same links and are recognised
 * by that first byte, which no PPP protocol carrying IP or MPLS begins with.
 */
static enum l3
link_ppp(struct cur *c)
{
	uint8_t		 b0;

	if (cur_peek_u8(c, &b0) == -1)
		return L3_NONE;
	if (b0 == 0x0f || b0 == 0x8f)
		return link_chdlc(c);
	if (b0 == 0xff && cur_skip(c, 2) == -1)
		return L3_NONE;
	return l3_ppp_proto(c);
}

/* DLT_PPP_WITH_DIR: a direction byte (0 in, 1 out), then PPP. */
static enum l3
link_ppp_dir(struct cur *c)
{
	if (cur_skip(c, 1) == -1)
		return L3_NONE;
	return link_ppp(c);
}

/*
 * Cisco HDLC: address, control, then a type (l3_tunnel_type's).  tshark
 * hands on nothing when no byte behind the header was captured.
 */
static enum l3
link_chdlc(struct cur *c)
{
	uint16_t	 type;

	if (cur_skip(c, 2) == -1 || cur_u16(c, &type) == -1 ||
	    cur_left(c) == 0)
		return L3_NONE;
	return l3_tunnel_type(c, type);
}

/* Returns the table entry for dlt, or NULL. */
static const struct link *
link_find(int dlt)
{
	size_t		 i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (links[i].dlt == dlt)
			return &links[i];
	return NULL;
}

/*
 * Returns the IP length on the wire: the frame's wire length minus the link
 * header that precedes the IP header at offset l3off.
 */
static uint64_t
wire_l3(uint32_t wirelen, uint32_t l3off)
{
	return wirelen > l3off ? wirelen - l3off : 0;
}

/*
 * The bytes of a proto header that must be there for its ports to count:
 * the port fields of TCP and UDP, SCTP's whole 12-byte common header
 * (tshark, the reference count, reads no SCTP port from less).
 */
static uint32_t
ports_need(uint8_t proto)
{
	return proto == L4_SCTP ? 12 : 4;
}

/*
 * Returns 1 when n bytes at the cursor were captured and lie inside the IP
 * packet (ip_bytes long from l3off): bytes past its declared end are link
 * padding, not transport or extension header.
 */
static int
ip_fit(const struct cur *c, uint32_t l3off, uint64_t ip_bytes, uint32_t n)
{
	uint64_t	 end = (uint64_t)l3off + ip_bytes;

	return cur_left(c) >= n && (uint64_t)c->off + n <= end;
}

/*
 * Reads source and destination port: TCP (RFC 9293), UDP (RFC 768) and
 * SCTP (RFC 9260) all begin with them, in that order.
 */
static int
read_ports(struct cur *c, struct decoded *out)
{
	if (cur_u16(c, &out->sport) == -1 || cur_u16(c, &out->dport) == -1)
		return -1;
	out->has_ports = 1;
	return 0;
}

/*
 * Decodes the IPv4 header (RFC 791 section 3.1) at the cursor.  The fixed
 * 20 bytes must have been captured.  Options are read as tshark reads them
 * (ip4opt.c): a source route may name the destination, and options it
 * cannot read, or that were cut off, leave the packet without ports.
 */
static enum decode_kind
decode_ipv4(struct cur *c, struct decoded *out)
{
	struct ip4opt	 opt;
	uint32_t	 l3off = c->off;
	uint32_t	 hlen, avail;
	uint16_t	 totlen, frag;
	uint8_t		 vihl, proto;

	if (cur_u8(c, &vihl) == -1 || vihl >> 4 != 4)
		return DECODE_MALFORMED;
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < IP4_HDR_MIN)
		return DECODE_MALFORMED;
	if (cur_skip(c, 1) == -1 || cur_u16(c, &totlen) == -1 ||
	    cur_skip(c, 2) == -1 || cur_u16(c, &frag) == -1 ||
	    cur_skip(c, 1) == -1 || cur_u8(c, &proto) == -1 ||
	    cur_skip(c, 2) == -1 || cur_copy(c, out->src, 4) == -1 ||
	    cur_copy(c, out->dst, 4) == -1)
		return DECODE_MALFORMED;
	/*
	 * Total length 0 is what TCP segmentation offload (and BIG TCP,
	 * above 64 KiB) leaves in captured super-packets: the length on
	 * the wire is the only truth left.
	 */
	out->ip_bytes = totlen != 0 ? totlen : wire_l3(c->wire, l3off);
	/* tshark holds the wire's length to no header length. */
	if (out->ip_bytes < (totlen != 0 ? hlen : IP4_HDR_MIN))
		return DECODE_MALFORMED;
	out->proto = proto;
	if (hlen > IP4_HDR_MIN) {
		avail = cur_left(c);
		if (avail > out->ip_bytes - IP4_HDR_MIN)
			avail = (uint32_t)(out->ip_bytes - IP4_HDR_MIN);
		ip4opt_read(c->p + c->off, hlen - IP4_HDR_MIN, avail, &opt);
		if (opt.dst == IP4OPT_DST_NONE)
			return DECODE_MALFORMED;
		if (opt.dst == IP4OPT_DST_ROUTE)
			memcpy(out->dst, c->p + c->off + opt.dst_at, 4);
		if (!opt.transport ||
		    cur_skip(c, hlen - IP4_HDR_MIN) == -1)
			return DECODE_IPV4;
	}
	/* Only an offset-0 fragment holds the transport header. */
	if ((frag & IP4_OFFMASK) == 0 &&
	    (proto == L4_TCP || proto == L4_UDP ||
	    proto == L4_SCTP) &&
	    ip_fit(c, l3off, out->ip_bytes, ports_need(proto)))
		(void)read_ports(c, out);
	return DECODE_IPV4;
}

/*
 * Looks for a Jumbo Payload option (RFC 2675) in the Hop-by-Hop header at
 * the cursor (a copy: the caller's cursor does not move).  Options are
 * TLVs (RFC 8200 section 4.2) except Pad1, a single zero byte.  Returns 0
 * with *jumbo set when found, -1 otherwise.
 */
static int
ipv6_jumbo(struct cur c, uint32_t *jumbo)
{
	uint32_t	 end;
	uint8_t		 nh, hlen, type, olen;

	if (cur_u8(&c, &nh) == -1 || cur_u8(&c, &hlen) == -1)
		return -1;
	end = c.off - 2 + ((uint32_t)hlen + 1) * 8;
	while (c.off < end) {
		if (cur_u8(&c, &type) == -1)
			return -1;
		if (type == OPT_PAD1)
			continue;
		if (cur_u8(&c, &olen) == -1)
			return -1;
		if (type == OPT_JUMBO && olen == 4)
			return cur_u32(&c, jumbo);
		if (cur_skip(&c, olen) == -1)
			return -1;
	}
	return -1;
}

/*
 * Returns 1 for the extension headers skipped to find the upper-layer
 * protocol (DESIGN rule 4), else 0.
 */
static int
ipv6_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_FRAGMENT ||
	    nh == NH_DSTOPTS;
}

/* Decodes the IPv6 header (RFC 8200 section 3) and its extension chain. */
static enum decode_kind
decode_ipv6(struct cur *c, struct decoded *out)
{
	struct cur	 h;
	uint32_t	 l3off = c->off;
	uint32_t	 vtf, jumbo, elen;
	uint16_t	 plen, fragoff;
	uint8_t		 nh, next, hlen;
	int		 first = 1, no_payload = 0;

	/*
	 * tshark's IPv6 dissector refuses a packet whose version is not 6
	 * and leaves it as data: labelled IPv6 by its link, it is not IP.
	 * Only a label with nothing at all behind it is a broken IPv6 header.
	 */
	if (cur_peek_u8(c, &nh) == 0 && nh >> 4 != 6)
		return DECODE_NON_IP;
	if (cur_left(c) < IP6_HDR_LEN)
		return DECODE_MALFORMED;
	if (cur_u32(c, &vtf) == -1 ||
	    cur_u16(c, &plen) == -1 || cur_u8(c, &nh) == -1 ||
	    cur_skip(c, 1) == -1 || cur_copy(c, out->src, 16) == -1 ||
	    cur_copy(c, out->dst, 16) == -1)
		return DECODE_MALFORMED;

	/*
	 * Payload length 0 with a next header is either a jumbogram (RFC
	 * 2675: the length is in a Hop-by-Hop option) or a segmentation
	 * offload super-packet (Linux BIG TCP), whose length is the wire's.
	 */
	if (plen != 0 || nh == NH_NONE)
		out->ip_bytes = IP6_HDR_LEN + (uint64_t)plen;
	else if (nh == NH_HOPOPTS && ipv6_jumbo(*c, &jumbo) == 0 &&
	    jumbo > 0xffff)
		out->ip_bytes = IP6_HDR_LEN + (uint64_t)jumbo;
	else {
		out->ip_bytes = wire_l3(c->wire, l3off);
		no_payload = 1;
	}
	/* Only a record claiming fewer wire bytes than it captured gets here. */
	if (out->ip_bytes < IP6_HDR_LEN)
		return DECODE_MALFORMED;
	/*
	 * Without a usable Jumbo option (RFC 2675: over 65,535), payload
	 * length 0 leaves tshark no payload in which to read extension
	 * headers: the chain stops at the first one.  A transport header
	 * right after the fixed header (BIG TCP's super-packets) still gives
	 * its ports here, where it was captured.
	 */
	if (no_payload && ipv6_ext(nh)) {
		out->proto = nh;
		return DECODE_IPV6;
	}

	/*
	 * RFC 8200 section 4: skip Hop-by-Hop, Routing, Fragment and
	 * Destination Options to find the upper-layer protocol.  AH, ESP,
	 * Mobility and the rest are counted as what they are.  Only bytes
	 * both captured and inside the payload length are read (past it is
	 * padding).  A header is passed when all of it is there.  When the
	 * chain runs out first, the packet counts under the last
	 * next-header value reached (DESIGN rule 4): that of the header the
	 * cut falls in if its next-header and length bytes are there (the
	 * next header alone for Routing, all 8 bytes for a Fragment header,
	 * whose offset decides what follows), as tshark reads it; else the
	 * value that led to it.  A cut chain has no ports.  RFC 8200 sets
	 * no limit on the number of headers and real stacks (tshark too)
	 * follow long chains, so neither do we: each pass consumes at least
	 * 8 bytes.
	 */
	for (;;) {
		if (!ipv6_ext(nh))
			break;
		/* Read on a copy: c moves only past a whole header. */
		h = *c;
		/* tshark takes a Routing header's next header alone. */
		if (nh == NH_ROUTING && ip_fit(c, l3off, out->ip_bytes, 1) &&
		    !ip_fit(c, l3off, out->ip_bytes, 2)) {
			if (cur_u8(&h, &next) == 0)
				nh = next;
			goto cut;
		}
		if (!ip_fit(c, l3off, out->ip_bytes,
		    nh == NH_FRAGMENT ? 8 : 2) ||
		    cur_u8(&h, &next) == -1 || cur_u8(&h, &hlen) == -1)
			goto cut;
		if (nh == NH_FRAGMENT) {
			/* RFC 8200 section 4.5: fixed 8 bytes. */
			if (cur_u16(&h, &fragoff) == -1)
				goto cut;
			elen = 8;
			if (fragoff >> 3 != 0)
				first = 0;
		} else {
			/* Length in 8-octet units, not counting the first. */
			elen = ((uint32_t)hlen + 1) * 8;
			if (!ip_fit(c, l3off, out->ip_bytes, elen)) {
				nh = next;
				goto cut;
			}
		}
		if (cur_skip(c, elen) == -1)
			goto cut;
		nh = next;
		/* Past a non-first fragment is payload, not headers. */
		if (!first)
			break;
	}
	out->proto = nh;
	if (first && (nh == L4_TCP || nh == L4_UDP || nh == L4_SCTP) &&
	    ip_fit(c, l3off, out->ip_bytes, ports_need(nh)))
		(void)read_ports(c, out);
	return DECODE_IPV6;
cut:
	out->proto = nh;
	return DECODE_IPV6;
}

/*
 * Ethernet II (14 bytes), type 0x0800, then an IPv4 header of 20 bytes
 * (version 4, IHL 5): the caller has checked those bytes are captured,
 * so every read below is inside the 34 bytes but the ports, which are
 * checked on their own, as ip_fit does.  Rules as decode_ipv4.
 */
#define EN_IP4_OFF	14
#define EN_IP4_END	(EN_IP4_OFF + IP4_HDR_MIN)

static enum decode_kind
decode_en10mb_ipv4(const uint8_t *b, uint32_t caplen, uint32_t wirelen,
    struct decoded *out)
{
	const uint8_t	*ip = b + EN_IP4_OFF;
	uint64_t	 ip_bytes;
	uint16_t	 totlen, frag;
	uint8_t		 proto;

	totlen = (uint16_t)(ip[2] << 8 | ip[3]);
	ip_bytes = totlen != 0 ? totlen : wire_l3(wirelen, EN_IP4_OFF);
	if (ip_bytes < IP4_HDR_MIN)
		return DECODE_MALFORMED;
	frag = (uint16_t)(ip[6] << 8 | ip[7]);
	proto = ip[9];
	memset(out, 0, sizeof(*out));
	memcpy(out->src, ip + 12, 4);
	memcpy(out->dst, ip + 16, 4);
	out->ip_bytes = ip_bytes;
	out->proto = proto;
	if ((frag & IP4_OFFMASK) == 0 &&
	    (proto == L4_TCP || proto == L4_UDP || proto == L4_SCTP) &&
	    caplen - EN_IP4_END >= ports_need(proto) &&
	    IP4_HDR_MIN + ports_need(proto) <= ip_bytes) {
		out->sport = (uint16_t)(b[EN_IP4_END] << 8 |
		    b[EN_IP4_END + 1]);
		out->dport = (uint16_t)(b[EN_IP4_END + 2] << 8 |
		    b[EN_IP4_END + 3]);
		out->has_ports = 1;
	}
	return DECODE_IPV4;
}

int
decode_dlt_supported(int dlt)
{
	return link_find(dlt) != NULL;
}

uint32_t
decode_pseudo_len(int dlt)
{
	return dlt == DLT_PPP_WITH_DIR ? 1 : 0;
}

enum decode_kind
decode_frame(int dlt, const uint8_t *bytes, uint32_t caplen,
    uint32_t wirelen, struct decoded *out)
{
	const struct link	*l;
	struct cur		 c;
	struct decoded		 d;
	enum decode_kind	 k;

	if (dlt == DLT_EN10MB && bytes != NULL && caplen >= EN_IP4_END &&
	    bytes[12] == 0x08 && bytes[13] == 0x00 &&
	    bytes[EN_IP4_OFF] == 0x45)
		return decode_en10mb_ipv4(bytes, caplen, wirelen, out);
	if ((l = link_find(dlt)) == NULL)
		return DECODE_NON_IP;
	c.p = bytes;
	c.len = bytes != NULL ? caplen : 0;
	c.off = 0;
	c.wire = wirelen;
	memset(&d, 0, sizeof(d));
	switch (l->decode(&c)) {
	case L3_IPV4:
		k = decode_ipv4(&c, &d);
		break;
	case L3_IPV6:
		k = decode_ipv6(&c, &d);
		break;
	default:
		return DECODE_NON_IP;
	}
	if (k == DECODE_IPV4 || k == DECODE_IPV6)
		*out = d;
	return k;
}
