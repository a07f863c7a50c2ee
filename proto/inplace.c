/*
 * inplace.c - the envelope and BATCH decoders, reading the msgpack bytes
 * in place instead of through msgpack-c's object tree.
 *
 * A BATCH is the one large message: tens of thousands of records, each a
 * small array.  msgpack-c would first build a tree of 24-byte objects for
 * every field of every record (about ten times the frame's size, all
 * live at once) only for the decoder to copy the values out of it.  Here
 * a cursor reads each value straight into the record struct.  Every
 * envelope is read the same way, since the store peeks at one per frame.
 *
 * The rules are those of unpack.c, checked in the same order so each bad
 * input maps to the same enum proto_err: proto_skim() first (so counts
 * are bounded by the bytes left and nesting by PROTO_DEPTH_MAX), then the
 * envelope [version, type, seq, payload], then the payload's keys (a key
 * that is not a string, or a known key given twice, is refused; unknown
 * keys are skipped), then first and last, then the record sections in
 * kind order, each record field by field from the tables of record.c.
 * An integer is "positive" when its value is >= 0 whatever its msgpack
 * format (int8..int64 included), as msgpack-c classifies it.
 *
 * Invariants: every read checks the bytes left, although skim has already
 * proved the body well formed; skipping a value is iterative, so nesting
 * cannot grow the C stack; on any error the output is zeroed (a batch is
 * also freed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "internal.h"

/* BATCH payload keys: first, last, the record sections, spooled. */
#define BATCH_NKEYS	(3 + PROTO_REC__COUNT)

/* A read position in one body. */
struct cur {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	proto_recs_alloc alloc;		/* a BATCH's record arrays */
	void		*alloc_arg;
};

/* What one msgpack header says. */
enum val_type {
	VAL_UINT,		/* any integer format, value >= 0 */
	VAL_NINT,		/* any integer format, value < 0 */
	VAL_STR,
	VAL_BIN,
	VAL_ARRAY,
	VAL_MAP,
	VAL_OTHER		/* nil, bool, float, ext */
};

struct val {
	enum val_type	 type;
	uint64_t	 u;		/* VAL_UINT */
	const uint8_t	*ptr;		/* VAL_STR, VAL_BIN: the bytes */
	uint64_t	 n;		/* their length; elements; map pairs */
};

static int		cur_be(struct cur *, size_t, uint64_t *);
static int		cur_data(struct cur *, uint64_t, const uint8_t **);
static int		cur_val(struct cur *, struct val *);
static int		cur_skip(struct cur *);
static enum proto_err	env_open(struct cur *, const uint8_t *, size_t,
			    uint32_t want, uint32_t *, uint32_t *, uint64_t *,
			    uint64_t *);
static enum proto_err	val_uint(struct cur *, uint64_t max, uint64_t *);
static enum proto_err	val_time(struct cur *, int64_t *);
static enum proto_err	val_addr(struct cur *, struct proto_addr *);
static enum proto_err	read_rec(struct cur *, enum proto_rec_kind,
			    unsigned char *);
static enum proto_err	read_section(struct cur *, enum proto_rec_kind,
			    struct proto_batch *);
static size_t		batch_key(const char *const *, const struct val *);
static enum proto_err	batch_one_pass(struct cur *, uint64_t,
			    const char *const *, struct proto_batch *);

/* A big-endian unsigned integer of width bytes; -1 if short. */
static int
cur_be(struct cur *c, size_t width, uint64_t *v)
{
	size_t i;

	if (c->len - c->off < width)
		return -1;
	*v = 0;
	for (i = 0; i < width; i++)
		*v = *v << 8 | c->p[c->off + i];
	c->off += width;
	return 0;
}

/* n data bytes at the cursor, stepped over; -1 if short. */
static int
cur_data(struct cur *c, uint64_t n, const uint8_t **ptr)
{
	if (c->len - c->off < n)
		return -1;
	*ptr = c->p + c->off;
	c->off += (size_t)n;
	return 0;
}

/*
 * Reads one header into v and steps over it: a scalar, string or binary
 * whole, a container's header only (its elements follow).  -1 if short
 * or 0xc1.
 */
static int
cur_val(struct cur *c, struct val *v)
{
	const uint8_t *skip;
	uint64_t u;
	int64_t i;
	uint8_t b;

	memset(v, 0, sizeof(*v));
	if (c->off >= c->len)
		return -1;
	b = c->p[c->off++];
	if (b <= 0x7f) {
		v->type = VAL_UINT;
		v->u = b;
		return 0;
	}
	if (b >= 0xe0) {
		v->type = VAL_NINT;
		return 0;
	}
	if (b <= 0x8f) {
		v->type = VAL_MAP;
		v->n = b & 0x0f;
		return 0;
	}
	if (b <= 0x9f) {
		v->type = VAL_ARRAY;
		v->n = b & 0x0f;
		return 0;
	}
	if (b <= 0xbf) {
		v->type = VAL_STR;
		v->n = b & 0x1f;
		return cur_data(c, v->n, &v->ptr);
	}
	switch (b) {
	case 0xc0:	/* nil, false, true */
	case 0xc2:
	case 0xc3:
		v->type = VAL_OTHER;
		return 0;
	case 0xc4:	/* bin 8, 16, 32 */
	case 0xc5:
	case 0xc6:
		v->type = VAL_BIN;
		if (cur_be(c, (size_t)1 << (b - 0xc4), &v->n) == -1)
			return -1;
		return cur_data(c, v->n, &v->ptr);
	case 0xd9:	/* str 8, 16, 32 */
	case 0xda:
	case 0xdb:
		v->type = VAL_STR;
		if (cur_be(c, (size_t)1 << (b - 0xd9), &v->n) == -1)
			return -1;
		return cur_data(c, v->n, &v->ptr);
	case 0xc7:	/* ext 8, 16, 32: length, type, data */
	case 0xc8:
	case 0xc9:
		v->type = VAL_OTHER;
		if (cur_be(c, (size_t)1 << (b - 0xc7), &u) == -1 ||
		    u > UINT64_MAX - 1)
			return -1;
		return cur_data(c, u + 1, &skip);
	case 0xca:	/* float 32, 64 */
		v->type = VAL_OTHER;
		return cur_data(c, 4, &skip);
	case 0xcb:
		v->type = VAL_OTHER;
		return cur_data(c, 8, &skip);
	case 0xcc:	/* uint 8..64 */
	case 0xcd:
	case 0xce:
	case 0xcf:
		v->type = VAL_UINT;
		return cur_be(c, (size_t)1 << (b & 0x03), &v->u);
	case 0xd0:	/* int 8..64: the sign decides, as in msgpack-c */
	case 0xd1:
	case 0xd2:
	case 0xd3:
		if (cur_be(c, (size_t)1 << (b & 0x03), &u) == -1)
			return -1;
		switch (b) {
		case 0xd0:
			i = (int8_t)(uint8_t)u;
			break;
		case 0xd1:
			i = (int16_t)(uint16_t)u;
			break;
		case 0xd2:
			i = (int32_t)(uint32_t)u;
			break;
		default:
			/* Two's complement, without an out-of-range cast. */
			i = u <= INT64_MAX ? (int64_t)u : -1;
			break;
		}
		v->type = i < 0 ? VAL_NINT : VAL_UINT;
		v->u = i < 0 ? 0 : (uint64_t)i;
		return 0;
	case 0xd4:	/* fixext 1..16: type, data */
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		v->type = VAL_OTHER;
		return cur_data(c, 1 + ((uint64_t)1 << (b - 0xd4)), &skip);
	case 0xdc:	/* array 16, 32 */
	case 0xdd:
		v->type = VAL_ARRAY;
		return cur_be(c, b == 0xdc ? 2 : 4, &v->n);
	case 0xde:	/* map 16, 32 */
	case 0xdf:
		v->type = VAL_MAP;
		return cur_be(c, b == 0xde ? 2 : 4, &v->n);
	default:	/* 0xc1: never used */
		return -1;
	}
}

/* Steps over one whole value, containers and all; -1 if short. */
static int
cur_skip(struct cur *c)
{
	struct val v;
	uint64_t pending = 1;

	/* skim bounded every count by the bytes left: no overflow here. */
	while (pending > 0) {
		if (cur_val(c, &v) == -1)
			return -1;
		pending--;
		if (v.type == VAL_ARRAY)
			pending += v.n;
		else if (v.type == VAL_MAP)
			pending += 2 * v.n;
	}
	return 0;
}

/*
 * skim, then the envelope of one body; on success the cursor is at the
 * first pair of the payload map, *seq is the envelope's and *npairs the
 * map's pair count.  want is the expected message type, or 0 for any
 * known type.  *version is set
 * once the four envelope fields have their types, even on
 * PROTO_E_VERSION.
 */
static enum proto_err
env_open(struct cur *c, const uint8_t *p, size_t len, uint32_t want,
    uint32_t *version, uint32_t *type, uint64_t *seq, uint64_t *npairs)
{
	struct val v, el[3];
	enum proto_err err;
	int i;

	*version = 0;
	c->p = p;
	c->len = len;
	c->off = 0;
	if ((err = proto_skim(p, len)) != PROTO_OK)
		return err;
	if (cur_val(c, &v) == -1)
		return PROTO_E_MSGPACK;
	if (v.type != VAL_ARRAY || v.n != PROTO_ENVELOPE_LEN)
		return PROTO_E_ENVELOPE;
	for (i = 0; i < 3; i++) {
		if (cur_val(c, &el[i]) == -1)
			return PROTO_E_MSGPACK;
		if (el[i].type != VAL_UINT)
			return PROTO_E_ENVELOPE;
	}
	if (cur_val(c, &v) == -1)
		return PROTO_E_MSGPACK;
	if (v.type != VAL_MAP)
		return PROTO_E_ENVELOPE;
	*version = el[0].u > UINT32_MAX ? UINT32_MAX : (uint32_t)el[0].u;
	if (el[0].u != PROTO_VERSION)
		return PROTO_E_VERSION;
	if (el[1].u < PROTO_HELLO || el[1].u > PROTO_STATUS_REPLY)
		return PROTO_E_TYPE;
	*type = (uint32_t)el[1].u;
	if (want != 0 && *type != want)
		return PROTO_E_TYPE;
	/* BATCH and ACK are numbered from 1; the others carry no number. */
	if (*type == PROTO_BATCH || *type == PROTO_ACK) {
		if (el[2].u == 0)
			return PROTO_E_RANGE;
	} else if (el[2].u != 0)
		return PROTO_E_RANGE;
	*seq = el[2].u;
	*npairs = v.n;
	return PROTO_OK;
}

/* An unsigned integer <= max; a negative integer is out of range. */
static enum proto_err
val_uint(struct cur *c, uint64_t max, uint64_t *u)
{
	struct val v;

	if (cur_val(c, &v) == -1)
		return PROTO_E_MSGPACK;
	switch (v.type) {
	case VAL_UINT:
		if (v.u > max)
			return PROTO_E_RANGE;
		*u = v.u;
		return PROTO_OK;
	case VAL_NINT:
		return PROTO_E_RANGE;
	default:
		return PROTO_E_FIELD_TYPE;
	}
}

/* Epoch seconds: an integer in 0..INT64_MAX. */
static enum proto_err
val_time(struct cur *c, int64_t *t)
{
	enum proto_err err;
	uint64_t u;

	if ((err = val_uint(c, INT64_MAX, &u)) != PROTO_OK)
		return err;
	*t = (int64_t)u;
	return PROTO_OK;
}

/* The family is implied by the length: 0 overflow, 4 IPv4, 16 IPv6. */
static enum proto_err
val_addr(struct cur *c, struct proto_addr *a)
{
	struct val v;

	if (cur_val(c, &v) == -1)
		return PROTO_E_MSGPACK;
	if (v.type != VAL_BIN)
		return PROTO_E_FIELD_TYPE;
	memset(a, 0, sizeof(*a));
	switch (v.n) {
	case 0:
		a->family = PROTO_AF_NONE;
		return PROTO_OK;
	case 4:
		a->family = PROTO_AF_INET;
		break;
	case 16:
		a->family = PROTO_AF_INET6;
		break;
	default:
		return PROTO_E_RANGE;
	}
	memcpy(a->a, v.ptr, (size_t)v.n);
	return PROTO_OK;
}

/* Decodes one record array of kind into rec, zeroed by the caller. */
static enum proto_err
read_rec(struct cur *c, enum proto_rec_kind kind, unsigned char *rec)
{
	const struct proto_rec_desc *d = &proto_recs[kind];
	struct proto_addr addr;
	enum proto_err err;
	struct val v;
	uint64_t u;
	uint32_t u32;
	uint16_t u16;
	int64_t i64;
	uint8_t u8;
	size_t i;

	if (cur_val(c, &v) == -1)
		return PROTO_E_MSGPACK;
	if (v.type != VAL_ARRAY)
		return PROTO_E_FIELD_TYPE;
	if (v.n != d->nfield)
		return PROTO_E_ARITY;
	for (i = 0; i < d->nfield; i++) {
		unsigned char *p = rec + d->field[i].off;

		switch (d->field[i].kind) {
		case PROTO_F_IFACE:
			/* Below niface is the store's check: it knows HELLO. */
			if ((err = val_uint(c, PROTO_IFACES_MAX - 1, &u)) !=
			    PROTO_OK)
				return err;
			u32 = (uint32_t)u;
			memcpy(p, &u32, sizeof(u32));
			break;
		case PROTO_F_BUCKET:
			if ((err = val_time(c, &i64)) != PROTO_OK)
				return err;
			memcpy(p, &i64, sizeof(i64));
			break;
		case PROTO_F_ADDR:
			if ((err = val_addr(c, &addr)) != PROTO_OK)
				return err;
			memcpy(p, &addr, sizeof(addr));
			break;
		case PROTO_F_PROTO:
		case PROTO_F_DIR:
			if ((err = val_uint(c, d->field[i].kind == PROTO_F_DIR ?
			    PROTO_DIR_OUT : UINT8_MAX, &u)) != PROTO_OK)
				return err;
			u8 = (uint8_t)u;
			memcpy(p, &u8, sizeof(u8));
			break;
		case PROTO_F_PORT:
			if ((err = val_uint(c, UINT16_MAX, &u)) != PROTO_OK)
				return err;
			u16 = (uint16_t)u;
			memcpy(p, &u16, sizeof(u16));
			break;
		case PROTO_F_U64:
			if ((err = val_uint(c, UINT64_MAX, &u)) != PROTO_OK)
				return err;
			memcpy(p, &u, sizeof(u));
			break;
		}
	}
	/* Rules across fields: host and peer address families agree. */
	if (!proto_rec_valid(kind, rec))
		return PROTO_E_RANGE;
	return PROTO_OK;
}

/* Decodes one record section; b owns the array as soon as it exists. */
static enum proto_err
read_section(struct cur *c, enum proto_rec_kind kind, struct proto_batch *b)
{
	const struct proto_rec_desc *d = &proto_recs[kind];
	enum proto_err err;
	unsigned char *recs;
	struct val v;
	uint64_t i;

	if (cur_val(c, &v) == -1)
		return PROTO_E_MSGPACK;
	if (v.type != VAL_ARRAY)
		return PROTO_E_FIELD_TYPE;
	if (v.n > PROTO_RECORDS_MAX)
		return PROTO_E_TOO_MANY;
	if (v.n == 0)
		return PROTO_OK;
	if ((recs = c->alloc(c->alloc_arg, (unsigned int)kind, (size_t)v.n,
	    d->size)) == NULL)
		return PROTO_E_NOMEM;
	proto_batch_set(b, kind, recs, (size_t)v.n);
	for (i = 0; i < v.n; i++)
		if ((err = read_rec(c, kind, recs + (size_t)i * d->size)) !=
		    PROTO_OK)
			return err;
	return PROTO_OK;
}

/* Index of key k in key[BATCH_NKEYS]; BATCH_NKEYS when unknown. */
static size_t
batch_key(const char *const *key, const struct val *k)
{
	size_t j;

	for (j = 0; j < BATCH_NKEYS; j++)
		if (k->n == strlen(key[j]) &&
		    memcmp(k->ptr, key[j], (size_t)k->n) == 0)
			break;
	return j;
}

/*
 * A well-formed batch in one walk: the payload's pairs in their order,
 * each known value read where it stands.  Any problem only returns an
 * error: which one counts is for the checks in their fixed order.
 */
static enum proto_err
batch_one_pass(struct cur *c, uint64_t npairs, const char *const *key,
    struct proto_batch *b)
{
	int seen[BATCH_NKEYS] = { 0 };
	enum proto_err err;
	struct val k;
	uint64_t i;
	size_t j;

	for (i = 0; i < npairs; i++) {
		if (cur_val(c, &k) == -1 || k.type != VAL_STR)
			return PROTO_E_FIELD_TYPE;
		if ((j = batch_key(key, &k)) == BATCH_NKEYS) {
			if (cur_skip(c) == -1)
				return PROTO_E_MSGPACK;
			continue;
		}
		if (seen[j]++)
			return PROTO_E_FIELD_TYPE;
		if (j == 0)
			err = val_time(c, &b->first_ts);
		else if (j == 1)
			err = val_time(c, &b->last_ts);
		else if (j == BATCH_NKEYS - 1)
			err = val_uint(c, INT64_MAX, &b->spooled);
		else
			err = read_section(c, (enum proto_rec_kind)(j - 2), b);
		if (err != PROTO_OK)
			return err;
	}
	if (!seen[0] || !seen[1] || b->first_ts > b->last_ts)
		return PROTO_E_MISSING;
	return PROTO_OK;
}

uint32_t
proto_peek_type(const uint8_t *p, size_t len)
{
	struct cur c = { p, len, 0, NULL, NULL };
	struct val v;

	if (cur_val(&c, &v) == -1 || v.type != VAL_ARRAY ||
	    v.n != PROTO_ENVELOPE_LEN ||
	    cur_val(&c, &v) == -1 || v.type != VAL_UINT ||
	    v.u != PROTO_VERSION ||
	    cur_val(&c, &v) == -1 || v.type != VAL_UINT ||
	    v.u < PROTO_HELLO || v.u > PROTO_STATUS_REPLY)
		return 0;
	return (uint32_t)v.u;
}

enum proto_err
proto_decode_envelope(const uint8_t *p, size_t len, uint32_t *version,
    uint32_t *type, uint64_t *seq)
{
	struct cur c;
	enum proto_err err;
	uint32_t v, t = 0;
	uint64_t s = 0, npairs;

	err = env_open(&c, p, len, 0, &v, &t, &s, &npairs);
	/* The version is kept on PROTO_E_VERSION, for the log line. */
	if (version != NULL)
		*version = v;
	if (type != NULL)
		*type = err == PROTO_OK ? t : 0;
	if (seq != NULL)
		*seq = err == PROTO_OK ? s : 0;
	return err;
}

_Static_assert(PROTO_REC_HOST == 0 && PROTO_REC_PORT == 1 &&
    PROTO_REC_PEER == 2 && PROTO_REC_IFACE == 3 && PROTO_REC_HEALTH == 4,
    "proto_recs_alloc's kinds, as proto.h numbers them");

static void *
recs_calloc(void *arg, unsigned int kind, size_t n, size_t size)
{
	(void)arg;
	(void)kind;
	return calloc(n, size);
}

enum proto_err
proto_decode_batch(const uint8_t *p, size_t len, struct proto_batch *b)
{
	return proto_decode_batch_with(p, len, b, recs_calloc, NULL);
}

enum proto_err
proto_decode_batch_with(const uint8_t *p, size_t len, struct proto_batch *b,
    proto_recs_alloc alloc, void *arg)
{
	const char *key[BATCH_NKEYS];
	size_t at[BATCH_NKEYS];	/* value offsets; 0: absent */
	enum proto_err err;
	struct cur c;
	struct val k;
	uint64_t npairs, i, seq;
	uint32_t version, type;
	size_t j, pairs_at;
	int kind;

	memset(b, 0, sizeof(*b));
	key[0] = PROTO_K_FIRST;
	key[1] = PROTO_K_LAST;
	for (kind = 0; kind < PROTO_REC__COUNT; kind++)
		key[2 + kind] = proto_recs[kind].key;
	key[BATCH_NKEYS - 1] = PROTO_K_SPOOLED;
	for (j = 0; j < BATCH_NKEYS; j++)
		at[j] = 0;
	c.alloc = alloc;
	c.alloc_arg = arg;
	if ((err = env_open(&c, p, len, PROTO_BATCH, &version, &type, &b->seq,
	    &npairs)) != PROTO_OK)
		goto fail;
	/*
	 * The walk below reads every record twice (keys, then values) so
	 * that each bad input gets the one error its first fault in that
	 * order gives; a good batch, nearly every one, needs a single walk.
	 */
	pairs_at = c.off;
	if (batch_one_pass(&c, npairs, key, b) == PROTO_OK)
		return PROTO_OK;
	seq = b->seq;
	proto_batch_clear(b);
	b->seq = seq;
	c.off = pairs_at;

	/* Every key first, as unpack.c's payload_get does: same errors. */
	for (i = 0; i < npairs; i++) {
		err = PROTO_E_MSGPACK;
		if (cur_val(&c, &k) == -1)
			goto fail;
		err = PROTO_E_FIELD_TYPE;
		if (k.type != VAL_STR)
			goto fail;
		if ((j = batch_key(key, &k)) < BATCH_NKEYS) {
			if (at[j] != 0)
				goto fail;
			at[j] = c.off;	/* > 0: the envelope came before */
		}
		err = PROTO_E_MSGPACK;
		if (cur_skip(&c) == -1)
			goto fail;
	}
	/* Only first and last are required: an absent section is empty. */
	err = PROTO_E_MISSING;
	if (at[0] == 0 || at[1] == 0)
		goto fail;
	c.off = at[0];
	if ((err = val_time(&c, &b->first_ts)) != PROTO_OK)
		goto fail;
	c.off = at[1];
	if ((err = val_time(&c, &b->last_ts)) != PROTO_OK)
		goto fail;
	err = PROTO_E_RANGE;
	if (b->first_ts > b->last_ts)
		goto fail;
	/* Optional gauge; SQLite's integers are signed. */
	c.off = at[BATCH_NKEYS - 1];
	if (c.off != 0 && (err = val_uint(&c, INT64_MAX, &b->spooled)) !=
	    PROTO_OK)
		goto fail;
	for (kind = 0; kind < PROTO_REC__COUNT; kind++) {
		if (at[2 + kind] == 0)
			continue;
		c.off = at[2 + kind];
		if ((err = read_section(&c, kind, b)) != PROTO_OK)
			goto fail;
	}
	return PROTO_OK;
fail:
	proto_batch_clear(b);
	return err;
}
