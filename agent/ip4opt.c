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
 * Record and source routes: a pointer, then 4-byte addresses.  In a source
 * route whose pointer lies inside a list of whole addresses, the last
 * address is the final destination: *dst_at is set to its offset in the
 * option, else left alone.
 */
static int
opt_route(const struct opt *o, int source, uint32_t *dst_at)
{
	uint8_t		 ptr;

	if (!opt_has(o, 3))
		return 0;
	ptr = o->p[2];
	if (source && ptr >= 4 && !(ptr & 3) && ptr <= o->len &&
	    o->len >= 7 && (o->len - 3) % 4 == 0)
		*dst_at = o->len - 4;
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
	case OPT_ESEC:
		/* A level (RFC 791's take all 11 bytes) or a format code. */
		return opt_has(o, 3);
	case OPT_LSRR:
	case OPT_SSRR:
		return opt_route(o, 1, dst_at);
	case OPT_RR:
		return opt_route(o, 0, dst_at);
	case OPT_TS:
		/* A pointer and flags; then entries only while they fit. */
		return opt_has(o, 4);
	case OPT_CIPSO:
		return opt_cipso(o);
	case OPT_SID:
	case OPT_MTUP:
	case OPT_MTUR:
	case OPT_RA:
		return opt_has(o, 4);
	case OPT_TR:
		return opt_has(o, 12);
	case OPT_QS:
		if (!opt_has(o, 3))
			return 0;
		func = o->p[2] >> 4;
		return func != QS_REQUEST && func != QS_REPORT ?
		    1 : opt_has(o, 8);
	default:
		/* Fields that fit whatever the length (SDB), or none. */
		return 1;
	}
}

/* A walk over an option list: the next option, its length, what is left. */
struct opt_iter {
	const uint8_t	*p;
	uint32_t	 at;	/* offset of the next option */
	uint32_t	 left;	/* declared option bytes not yet passed */
	uint32_t	 avail;	/* readable bytes from p on */
};

enum opt_step {
	STEP_OPTION,		/* *o is the next option; it->at is at it */
	STEP_END,		/* the list ends (EOL, or a bad length byte) */
	STEP_CUT,		/* a byte needed to go on was not captured */
};

/*
 * Moves to the next option with a length byte, passing NOPs, and checks
 * that length as tshark does; advancing past the option is the caller's
 * opt_pass.
 */
static enum opt_step
opt_next(struct opt_iter *it, struct opt *o, uint8_t *type)
{
	uint32_t	 olen;

	for (;;) {
		if (it->left == 0)
			return STEP_END;
		if (it->at >= it->avail)
			return STEP_CUT;
		*type = it->p[it->at];
		it->left--;
		if (*type == OPT_EOL)
			return STEP_END;
		if (*type != OPT_NOP)
			break;
		it->at++;
	}
	if (it->left == 0)
		return STEP_END;
	if (it->at + 1 >= it->avail)
		return STEP_CUT;
	olen = it->p[it->at + 1];
	it->left--;
	if (olen < 2 || olen - 2 > it->left)
		return STEP_END;
	o->p = it->p + it->at;
	o->len = olen;
	return STEP_OPTION;
}

/* Moves past the option opt_next returned. */
static void
opt_pass(struct opt_iter *it, const struct opt *o)
{
	it->at += o->len;
	it->left -= o->len - 2;
}

/*
 * The first pass: the offset past the first source route option with a
 * valid pointer (0 for none, which means the header's address), or -1
 * when a byte the scan needs was not captured.
 */
static int64_t
dst_scan(const uint8_t *p, uint32_t len, uint32_t avail)
{
	struct opt_iter	 it = { p, 0, len, avail };
	struct opt	 o;
	enum opt_step	 step;
	uint8_t		 type, ptr;

	while ((step = opt_next(&it, &o, &type)) == STEP_OPTION) {
		if (type == OPT_LSRR || type == OPT_SSRR) {
			if (it.at + 2 >= avail)
				return -1;
			ptr = p[it.at + 2];
			if (ptr < 4 || ptr & 3 || ptr > o.len)
				return 0;
			return (int64_t)it.at + o.len;
		}
		opt_pass(&it, &o);
	}
	return step == STEP_CUT ? -1 : 0;
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
	struct opt_iter	 it = { p, 0, len, avail };
	struct opt	 o;
	enum opt_step	 step;
	uint32_t	 here;
	uint8_t		 type;

	while ((step = opt_next(&it, &o, &type)) == STEP_OPTION) {
		here = UINT32_MAX;
		if (!opt_readable(type, &o, &here))
			return 0;
		if (here != UINT32_MAX && *dst_at == UINT32_MAX)
			*dst_at = it.at + here;
		opt_pass(&it, &o);
	}
	return step == STEP_END;
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
