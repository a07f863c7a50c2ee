/*
 * skim.c - a non-allocating walk over one msgpack body, run before
 * msgpack-c is allowed to see it.
 *
 * msgpack-c allocates count * sizeof(msgpack_object) as soon as it reads an
 * array or map header, so a 5-byte body declaring an array32 of 4 billion
 * elements would ask for about 100 GB.  Since every element takes at least
 * one byte, a count larger than the bytes left is a lie and is refused
 * here.  Once the walk has succeeded the body holds at most one object per
 * byte, which bounds what msgpack-c will allocate by the frame size.
 *
 * Invariants: every read is preceded by a check against the bytes left;
 * the container stack is a fixed array of PROTO_DEPTH_MAX entries; the
 * walk is iterative, so hostile nesting cannot grow the C stack.
 * Format reference: the MessagePack specification (msgpack/spec.md).
 */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct skim {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

static int	skim_uint(struct skim *, size_t width, uint64_t *);
static int	skim_skip(struct skim *, uint64_t n);

/* Reads a big-endian unsigned integer of width bytes; -1 if short. */
static int
skim_uint(struct skim *s, size_t width, uint64_t *v)
{
	size_t i;

	if (s->len - s->off < width)
		return -1;
	*v = 0;
	for (i = 0; i < width; i++)
		*v = *v << 8 | s->p[s->off + i];
	s->off += width;
	return 0;
}

/* Skips n payload bytes (str, bin, ext data, numbers); -1 if short. */
static int
skim_skip(struct skim *s, uint64_t n)
{
	if (s->len - s->off < n)
		return -1;
	s->off += n;
	return 0;
}

enum proto_err
proto_skim(const uint8_t *p, size_t len)
{
	/*
	 * rem: elements still expected by the open container at depth;
	 * left[d]: those of the container at depth d < depth, set aside.
	 * rem lives in a register: a count stored and loaded back for every
	 * object cost half the walk.
	 */
	uint64_t left[PROTO_DEPTH_MAX];
	struct skim s = { p, len, 0 };
	uint64_t n, elems, rem;
	size_t depth;
	uint8_t c;
	int cont;

	/* Depth 0 is a pseudo-container holding exactly the one root object. */
	depth = 0;
	rem = 1;
	while (rem > 0 || depth > 0) {
		if (rem == 0) {
			rem = left[--depth];
			continue;
		}
		if (s.off >= s.len)
			return PROTO_E_SHORT;
		c = s.p[s.off++];
		elems = 0;
		cont = (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
		if (c <= 0x7f || c >= 0xe0) {
			/* positive / negative fixint */
		} else if (c <= 0x8f) {
			elems = 2 * (uint64_t)(c & 0x0f);
		} else if (c <= 0x9f) {
			elems = c & 0x0f;
		} else if (c <= 0xbf) {
			if (skim_skip(&s, c & 0x1f) == -1)
				return PROTO_E_SHORT;
		} else {
			switch (c) {
			case 0xc0:	/* nil */
			case 0xc2:	/* false */
			case 0xc3:	/* true */
				break;
			case 0xc4:	/* bin 8, 16, 32 */
			case 0xd9:	/* str 8, 16, 32 */
				if (skim_uint(&s, 1, &n) == -1 ||
				    skim_skip(&s, n) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xc5:
			case 0xda:
				if (skim_uint(&s, 2, &n) == -1 ||
				    skim_skip(&s, n) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xc6:
			case 0xdb:
				if (skim_uint(&s, 4, &n) == -1 ||
				    skim_skip(&s, n) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xc7:	/* ext 8, 16, 32: length, type, data */
			case 0xc8:
			case 0xc9:
				if (skim_uint(&s, (size_t)1 << (c - 0xc7),
				    &n) == -1 || skim_skip(&s, 1 + n) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xca:	/* float 32, 64 */
				if (skim_skip(&s, 4) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xcb:
				if (skim_skip(&s, 8) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xcc:	/* uint 8..64 */
			case 0xcd:
			case 0xce:
			case 0xcf:
			case 0xd0:	/* int 8..64 */
			case 0xd1:
			case 0xd2:
			case 0xd3:
				/* Low two bits: width 1, 2, 4 or 8. */
				n = (uint64_t)1 << (c & 0x03);
				if (skim_skip(&s, n) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xd4:	/* fixext 1..16: type, data */
			case 0xd5:
			case 0xd6:
			case 0xd7:
			case 0xd8:
				n = (uint64_t)1 << (c - 0xd4);
				if (skim_skip(&s, 1 + n) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xdc:	/* array 16, 32 */
				if (skim_uint(&s, 2, &elems) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xdd:
				if (skim_uint(&s, 4, &elems) == -1)
					return PROTO_E_SHORT;
				break;
			case 0xde:	/* map 16, 32: two objects per entry */
				if (skim_uint(&s, 2, &n) == -1)
					return PROTO_E_SHORT;
				elems = 2 * n;
				break;
			case 0xdf:
				if (skim_uint(&s, 4, &n) == -1)
					return PROTO_E_SHORT;
				elems = 2 * n;
				break;
			default:	/* 0xc1: never used */
				return PROTO_E_MSGPACK;
			}
		}

		/* This object fills one slot of the container it is in. */
		rem--;
		if (cont) {
			/* A container, even empty, counts towards the depth. */
			if (depth + 1 > PROTO_DEPTH_MAX)
				return PROTO_E_DEPTH;
			if (elems > s.len - s.off)
				return PROTO_E_COUNT;
			if (elems > 0) {
				left[depth++] = rem;
				rem = elems;
			}
		}
	}
	if (s.off != s.len)
		return PROTO_E_TRAILING;
	return PROTO_OK;
}
