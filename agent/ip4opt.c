/*
 * ip4opt.c - what accounting takes from IPv4 options, read as tshark
 * (Wireshark 4.0) reads them; see ip4opt.h for why it matters.
 *
 * tshark reads options twice.  First it scans them for a source route:
 * the first loose or strict source route with a valid pointer says where
 * the destination address is, and a byte the scan needs that was not
 * captured leaves the packet without a destination.  Then, if the whole
 * option list was captured, it dissects each option: one too short for
 * its own fields stops the dissection there, before the transport header,
 * while a bad length byte only ends the list.  When a source route placed
 * the destination, only that option's dissection reports it, so a stop
 * before it, or a list not captured whole, leaves no destination either.
 *
 * The scan's reads are checked against avail, the readable bytes from the
 * first option on; the dissection runs only when avail covers the list,
 * and checks each option's fields against the option's own length.
 */
#include <stddef.h>
#include <stdint.h>

#include "ip4opt.h"

/* Option types (IANA "IP Option Numbers"; the values tshark dissects). */
#define OPT_EOL		0
#define OPT_NOP		1
#define OPT_RR		7	/* record route */
#define OPT_MTUP	11	/* MTU probe, RFC 1063 */
#define OPT_MTUR	12	/* MTU reply */
#define OPT_QS		25	/* quick-start, RFC 4782 */
#define OPT_TS		68	/* timestamp */
#define OPT_TR		82	/* traceroute, RFC 1393 */
#define OPT_SEC		130	/* security, RFC 791 / RFC 1108 */
#define OPT_LSRR	131	/* loose source route */
#define OPT_ESEC	133	/* extended security, RFC 1108 */
#define OPT_CIPSO	134	/* commercial security */
#define OPT_SID		136	/* stream identifier */
#define OPT_SSRR	137	/* strict source route */
#define OPT_RA		148	/* router alert, RFC 2113 */
#define OPT_SDB		149	/* selective directed broadcast, RFC 1770 */

/* Timestamp flags whose entries carry an address (RFC 791). */
#define TS_TSANDADDR	1
#define TS_PRESPEC	3

/* Quick-Start functions with a nonce (RFC 4782 section 4.1). */
#define QS_REQUEST	0
#define QS_REPORT	8

/* Longest CIPSO tag tshark accepts: 60 - 20 - 6 option bytes. */
#define CIPSO_TAG_MAX	34

/* One option's bytes, all captured, and its declared length. */
struct opt {
	const uint8_t	*p;
	uint32_t	 len;
};

/* Returns 1 when bytes [0, end) lie inside the option, else 0. */
static int
opt_has(const struct opt *o, uint32_t end)
{
	return end <= o->len;
}

/*
 * RFC 791's sixteen security levels; an 11-byte security option starting
 * with one of them is read as RFC 791's, anything else as RFC 1108's.
 */
static int
sec_rfc791(uint16_t level)
{
	static const uint16_t levels[] = {
		0x0000, 0xf135, 0x789a, 0xbc4d, 0x5e26, 0xaf13, 0xd788,
		0x6bc5, 0x35e2, 0x9af1, 0x4d78, 0x24bd, 0x135e, 0x89af,
		0xc4d6, 0xe26b,
	};
	size_t	 i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (levels[i] == level)
			return 1;
	return 0;
}

/* Security: level and compartments, or RFC 1108's flag bytes. */
static int
opt_sec(const struct opt *o)
{
	uint32_t	 at;
	uint8_t		 flags;

	if (o->len == 11) {
		if (!opt_has(o, 4))
			return 0;
		if (sec_rfc791((uint16_t)(o->p[2] << 8 | o->p[3])))
			return opt_has(o, 11);
	}
	if (!opt_has(o, 3))
		return 0;
	if (o->len <= 3)
		return 1;
	if (!opt_has(o, 4))
		return 0;
	flags = o->p[3];
	/* Each flag byte with its low bit set announces another. */
	for (at = 4; flags & 1 && at != o->len; at++) {
		if (!opt_has(o, at + 1))
			return 0;
		flags = o->p[at];
	}
	return 1;
}

/*
 * Record and source routes: a pointer, then 4-byte addresses while 4 bytes
 * remain.  In a source route whose pointer has not run past its end, the
 * address ending exactly at the option's end is the final destination:
 * *dst_at is set to its offset in the option, else left alone.
 */
static int
opt_route(const struct opt *o, int source, uint32_t *dst_at)
{
	uint32_t	 at;
	uint8_t		 ptr;

	if (!opt_has(o, 3))
		return 0;
	ptr = o->p[2];
	if (ptr < 4 || ptr & 3)
		return 1;
	for (at = 3; at + 4 <= o->len; at += 4) {
		if (!opt_has(o, at + 4))
			return 0;
		if (source && ptr <= o->len && at + 4 == o->len)
			*dst_at = at;
	}
	return 1;
}

/* Timestamp: pointer, flags, then 4- or 8-byte entries while they fit. */
static int
opt_ts(const struct opt *o)
{
	uint32_t	 step, at;
	uint8_t		 flag;

	if (!opt_has(o, 4))
		return 0;
	flag = o->p[3] & 0x0f;
	step = flag == TS_TSANDADDR || flag == TS_PRESPEC ? 8 : 4;
	for (at = 4; at + step <= o->len; at += step)
		if (!opt_has(o, at + step))
			return 0;
	return 1;
}

/*
 * CIPSO: a 4-byte domain, then tags.  tshark's bound on a tag lets it end
 * one byte past the option, and reading that byte stops the dissection.
 * A tag it finds bad ends the option quietly.
 */
static int
opt_cipso(const struct opt *o)
{
	uint32_t	 at, tag_len, end;
	uint8_t		 type;

	if (!opt_has(o, 6))
		return 0;
	for (at = 6; at < o->len;) {
		if (!opt_has(o, at + 1))
			return 0;
		type = o->p[at];
		tag_len = 1;
		if (at + 1 < o->len) {
			if (!opt_has(o, at + 2))
				return 0;
			tag_len = o->p[at + 1];
		}
		switch (type) {
		case 0:
			at += 1;
			continue;
		case 1:
		case 2:
		case 5:
		case 6:
		case 7:
			if (tag_len < (type == 7 ? 2u : 4u) ||
			    tag_len > CIPSO_TAG_MAX ||
			    at + tag_len > o->len + 1)
				return 1;
			break;
		default:
			/* tshark reads an unknown tag's length, then stops. */
			return opt_has(o, at + 2);
		}
		/*
		 * Enumerated and ranged categories are read 2 bytes at a
		 * time, so an odd last byte is left for the next tag.
		 */
		end = at + tag_len;
		if (type == 2 || type == 5)
			end = at + 4 + ((tag_len - 4) & ~1u);
		if (!opt_has(o, end))
			return 0;
		at = end;
	}
	return 1;
}

/* Returns 1 when tshark reads option o whole, else 0. */
static int
opt_readable(uint8_t type, const struct opt *o, uint32_t *dst_at)
{
	uint8_t		 func;

	switch (type) {
	case OPT_SEC:
		return opt_sec(o);
	case OPT_LSRR:
	case OPT_SSRR:
		return opt_route(o, 1, dst_at);
	case OPT_RR:
		return opt_route(o, 0, dst_at);
	case OPT_TS:
		return opt_ts(o);
	case OPT_ESEC:
		return opt_has(o, o->len > 3 ? o->len : 3);
	case OPT_CIPSO:
		return opt_cipso(o);
	case OPT_SID:
	case OPT_MTUP:
	case OPT_MTUR:
	case OPT_RA:
		return opt_has(o, 4);
	case OPT_TR:
		return opt_has(o, 12);
	case OPT_SDB:
		return opt_has(o, o->len);
	case OPT_QS:
		if (!opt_has(o, 3))
			return 0;
		func = o->p[2] >> 4;
		return func != QS_REQUEST && func != QS_REPORT ?
		    1 : opt_has(o, 8);
	default:
		/* No fields of its own. */
		return 1;
	}
}

/*
 * The first pass: the offset past the first source route option with a
 * valid pointer (0 for none, which means the header's address), or -1
 * when a byte the scan needs was not captured.
 */
static int64_t
dst_scan(const uint8_t *p, uint32_t len, uint32_t avail)
{
	uint32_t	 at = 0, left = len, olen;
	uint8_t		 type, ptr;

	while (left > 0) {
		if (at >= avail)
			return -1;
		type = p[at];
		left--;
		if (type == OPT_EOL)
			return 0;
		if (type == OPT_NOP) {
			at++;
			continue;
		}
		if (left == 0)
			return 0;
		if (at + 1 >= avail)
			return -1;
		olen = p[at + 1];
		left--;
		if (olen < 2 || olen - 2 > left)
			return 0;
		if (type == OPT_LSRR || type == OPT_SSRR) {
			if (at + 2 >= avail)
				return -1;
			ptr = p[at + 2];
			if (ptr < 4 || ptr & 3 || ptr > olen)
				return 0;
			return (int64_t)at + olen;
		}
		at += olen;
		left -= olen - 2;
	}
	return 0;
}

/*
 * The second pass, over options captured whole: returns 1 when every
 * option was read (the transport header follows), else 0.  *dst_at gets
 * the offset of the first final destination a source route names, and is
 * left alone if none does.
 */
static int
opt_walk(const uint8_t *p, uint32_t len, uint32_t avail, uint32_t *dst_at)
{
	struct opt	 o;
	uint32_t	 at = 0, left = len, olen, here;
	uint8_t		 type;

	while (left > 0) {
		if (at >= avail)
			return 0;
		type = p[at];
		left--;
		if (type == OPT_EOL)
			return 1;
		if (type == OPT_NOP) {
			at++;
			continue;
		}
		if (left == 0)
			return 1;
		if (at + 1 >= avail)
			return 0;
		olen = p[at + 1];
		left--;
		if (olen < 2 || olen - 2 > left)
			return 1;
		o.p = p + at;
		o.len = olen;
		here = UINT32_MAX;
		if (!opt_readable(type, &o, &here))
			return 0;
		if (here != UINT32_MAX && *dst_at == UINT32_MAX)
			*dst_at = at + here;
		at += olen;
		left -= olen - 2;
	}
	return 1;
}

void
ip4opt_read(const uint8_t *opts, uint32_t len, uint32_t avail,
    struct ip4opt *out)
{
	int64_t		 route_end;
	uint32_t	 dst_at = UINT32_MAX;

	out->dst = IP4OPT_DST_HEADER;
	out->dst_at = 0;
	out->transport = 0;
	route_end = dst_scan(opts, len, avail);
	/* tshark reads the address the scan points at before going on. */
	if (route_end < 0 || route_end > avail) {
		out->dst = IP4OPT_DST_NONE;
		return;
	}
	/* It dissects no option of a list that was not captured whole. */
	if (avail >= len)
		out->transport = opt_walk(opts, len, avail, &dst_at);
	if (route_end == 0)
		return;
	if (dst_at == UINT32_MAX) {
		out->dst = IP4OPT_DST_NONE;
		return;
	}
	out->dst = IP4OPT_DST_ROUTE;
	out->dst_at = dst_at;
}
