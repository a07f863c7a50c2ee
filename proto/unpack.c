/*
 * unpack.c - decoders: one frame body in, one checked C struct out.
 *
 * Every decoder runs proto_skim() before msgpack-c sees the bytes (see
 * skim.c for why), lets msgpack_unpack_next() build the object tree, then
 * checks the envelope and every field it uses: msgpack type, range, count,
 * record arity.  Unknown payload keys are ignored so that a newer agent
 * can talk to an older store; a known key given twice is refused, since
 * two readers could otherwise disagree on which value counts.  The
 * envelope alone and BATCH, the one large message, are read in place by
 * inplace.c under the same rules.
 *
 * Invariants: nothing is read from the object tree before its type is
 * checked; on any error the output is zeroed (a batch is also freed), so
 * a caller can never act on half a message; the checks run in a fixed
 * order so each bad input maps to one enum proto_err.
 */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "proto.h"
#include "internal.h"

/* One decoded body: msgpack-c's tree and the envelope read from it. */
struct msg {
	msgpack_unpacked	 up;
	uint32_t		 version;
	uint32_t		 type;
	uint64_t		 seq;
	const msgpack_object	*payload;
};

static enum proto_err	msg_open(struct msg *, const uint8_t *, size_t,
			    uint32_t want);
static void		msg_close(struct msg *);
static enum proto_err	payload_get(const msgpack_object *, const char *const *,
			    size_t, size_t nrequired, const msgpack_object **);
static enum proto_err	get_uint(const msgpack_object *, uint64_t max,
			    uint64_t *);
static enum proto_err	get_time(const msgpack_object *, int64_t *);
static enum proto_err	get_name(const msgpack_object *, size_t max, char *);
static enum proto_err	get_status_agent(const msgpack_object *,
			    struct proto_status_agent *);

/*
 * Unpacks a body into m and checks its envelope.  want is the expected
 * message type, or 0 for any known type.  m->up must be released with
 * msg_close() whatever this returns.
 */
static enum proto_err
msg_open(struct msg *m, const uint8_t *p, size_t len, uint32_t want)
{
	const msgpack_object *root, *el;
	enum proto_err err;
	size_t off = 0;

	memset(m, 0, sizeof(*m));
	msgpack_unpacked_init(&m->up);
	if ((err = proto_skim(p, len)) != PROTO_OK)
		return err;
	switch (msgpack_unpack_next(&m->up, (const char *)p, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_CONTINUE:
		return PROTO_E_SHORT;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return PROTO_E_NOMEM;
	default:
		return PROTO_E_MSGPACK;
	}
	/* skim proved exactly one object; this guards against disagreement. */
	if (off != len)
		return PROTO_E_TRAILING;

	root = &m->up.data;
	if (root->type != MSGPACK_OBJECT_ARRAY ||
	    root->via.array.size != PROTO_ENVELOPE_LEN)
		return PROTO_E_ENVELOPE;
	el = root->via.array.ptr;
	if (el[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    el[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    el[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    el[3].type != MSGPACK_OBJECT_MAP)
		return PROTO_E_ENVELOPE;
	m->version = el[0].via.u64 > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)el[0].via.u64;
	if (el[0].via.u64 != PROTO_VERSION)
		return PROTO_E_VERSION;
	if (el[1].via.u64 < PROTO_HELLO || el[1].via.u64 > PROTO_STATUS_REPLY)
		return PROTO_E_TYPE;
	m->type = (uint32_t)el[1].via.u64;
	if (want != 0 && m->type != want)
		return PROTO_E_TYPE;
	m->seq = el[2].via.u64;
	/* BATCH and ACK are numbered from 1; the others carry no number. */
	if (m->type == PROTO_BATCH || m->type == PROTO_ACK) {
		if (m->seq == 0)
			return PROTO_E_RANGE;
	} else if (m->seq != 0)
		return PROTO_E_RANGE;
	m->payload = &el[3];
	return PROTO_OK;
}

static void
msg_close(struct msg *m)
{
	msgpack_unpacked_destroy(&m->up);
}

/*
 * Finds the known keys of a payload map: vals[i] is the value of key[i],
 * or NULL.  The first nrequired keys must be present.
 */
static enum proto_err
payload_get(const msgpack_object *map, const char *const *key, size_t nkey,
    size_t nrequired, const msgpack_object **vals)
{
	const msgpack_object_kv *kv;
	uint32_t i;
	size_t j;

	for (j = 0; j < nkey; j++)
		vals[j] = NULL;
	for (i = 0; i < map->via.map.size; i++) {
		kv = &map->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return PROTO_E_FIELD_TYPE;
		for (j = 0; j < nkey; j++) {
			if (kv->key.via.str.size != strlen(key[j]) ||
			    memcmp(kv->key.via.str.ptr, key[j],
			    kv->key.via.str.size) != 0)
				continue;
			if (vals[j] != NULL)
				return PROTO_E_FIELD_TYPE;
			vals[j] = &kv->val;
		}
	}
	for (j = 0; j < nrequired; j++)
		if (vals[j] == NULL)
			return PROTO_E_MISSING;
	return PROTO_OK;
}

/* An unsigned integer <= max; a negative integer is out of range. */
static enum proto_err
get_uint(const msgpack_object *o, uint64_t max, uint64_t *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > max)
			return PROTO_E_RANGE;
		*v = o->via.u64;
		return PROTO_OK;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return PROTO_E_RANGE;
	default:
		return PROTO_E_FIELD_TYPE;
	}
}

/* Epoch seconds: an integer in 0..INT64_MAX. */
static enum proto_err
get_time(const msgpack_object *o, int64_t *v)
{
	enum proto_err err;
	uint64_t u;

	if ((err = get_uint(o, INT64_MAX, &u)) != PROTO_OK)
		return err;
	*v = (int64_t)u;
	return PROTO_OK;
}

/* A name of 1..max bytes into dst, which holds max + 1 bytes. */
static enum proto_err
get_name(const msgpack_object *o, size_t max, char *dst)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return PROTO_E_FIELD_TYPE;
	if (!proto_name_valid(o->via.str.ptr, o->via.str.size, max))
		return PROTO_E_RANGE;
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = '\0';
	return PROTO_OK;
}

enum proto_err
proto_decode_hello(const uint8_t *p, size_t len, struct proto_hello *h)
{
	static const char *const key[] = {
		PROTO_K_NAME, PROTO_K_IFACES, PROTO_K_RES, PROTO_K_START
	};
	const msgpack_object *v[4], *ifs;
	enum proto_err err;
	struct msg m;
	uint64_t res;
	uint32_t i;

	memset(h, 0, sizeof(*h));
	if ((err = msg_open(&m, p, len, PROTO_HELLO)) != PROTO_OK)
		goto fail;
	if ((err = payload_get(m.payload, key, 4, 4, v)) != PROTO_OK)
		goto fail;
	h->version = m.version;
	if ((err = get_name(v[0], PROTO_NAME_MAX, h->name)) != PROTO_OK)
		goto fail;
	ifs = v[1];
	err = PROTO_E_FIELD_TYPE;
	if (ifs->type != MSGPACK_OBJECT_ARRAY)
		goto fail;
	err = PROTO_E_TOO_MANY;
	if (ifs->via.array.size > PROTO_IFACES_MAX)
		goto fail;
	err = PROTO_E_RANGE;
	if (ifs->via.array.size == 0)
		goto fail;
	h->niface = ifs->via.array.size;
	for (i = 0; i < h->niface; i++) {
		err = get_name(&ifs->via.array.ptr[i], PROTO_IFNAME_MAX,
		    h->iface[i]);
		if (err != PROTO_OK)
			goto fail;
	}
	if ((err = get_uint(v[2], PROTO_RES_MAX, &res)) != PROTO_OK)
		goto fail;
	h->resolution = (uint32_t)res;
	if ((err = get_time(v[3], &h->start_time)) != PROTO_OK)
		goto fail;
	/* What is left: resolution 0 and duplicate interface names. */
	err = PROTO_E_RANGE;
	if (!proto_hello_valid(h))
		goto fail;
	msg_close(&m);
	return PROTO_OK;
fail:
	msg_close(&m);
	memset(h, 0, sizeof(*h));
	return err;
}

enum proto_err
proto_decode_welcome(const uint8_t *p, size_t len, struct proto_welcome *w)
{
	static const char *const key[] = { PROTO_K_LAST_SEQ };
	const msgpack_object *v[1];
	enum proto_err err;
	struct msg m;

	memset(w, 0, sizeof(*w));
	if ((err = msg_open(&m, p, len, PROTO_WELCOME)) == PROTO_OK &&
	    (err = payload_get(m.payload, key, 1, 1, v)) == PROTO_OK)
		err = get_uint(v[0], UINT64_MAX, &w->last_seq);
	msg_close(&m);
	if (err != PROTO_OK)
		memset(w, 0, sizeof(*w));
	return err;
}

enum proto_err
proto_decode_ack(const uint8_t *p, size_t len, struct proto_ack *a)
{
	enum proto_err err;
	struct msg m;

	/* The acknowledged seq is the envelope's; the payload has no keys. */
	memset(a, 0, sizeof(*a));
	if ((err = msg_open(&m, p, len, PROTO_ACK)) == PROTO_OK)
		a->seq = m.seq;
	msg_close(&m);
	return err;
}

enum proto_err
proto_decode_error(const uint8_t *p, size_t len, struct proto_error *e)
{
	static const char *const key[] = { PROTO_K_CODE, PROTO_K_TEXT };
	const msgpack_object *v[2];
	enum proto_err err;
	struct msg m;
	uint64_t code;

	memset(e, 0, sizeof(*e));
	if ((err = msg_open(&m, p, len, PROTO_ERROR)) != PROTO_OK)
		goto fail;
	if ((err = payload_get(m.payload, key, 2, 2, v)) != PROTO_OK)
		goto fail;
	if ((err = get_uint(v[0], UINT32_MAX, &code)) != PROTO_OK)
		goto fail;
	err = PROTO_E_RANGE;
	if (code == 0)
		goto fail;
	e->code = (uint32_t)code;
	err = PROTO_E_FIELD_TYPE;
	if (v[1]->type != MSGPACK_OBJECT_STR)
		goto fail;
	err = PROTO_E_RANGE;
	if (!proto_text_valid(v[1]->via.str.ptr, v[1]->via.str.size))
		goto fail;
	memcpy(e->text, v[1]->via.str.ptr, v[1]->via.str.size);
	e->text[v[1]->via.str.size] = '\0';
	msg_close(&m);
	return PROTO_OK;
fail:
	msg_close(&m);
	memset(e, 0, sizeof(*e));
	return err;
}

enum proto_err
proto_decode_status(const uint8_t *p, size_t len)
{
	enum proto_err err;
	struct msg m;

	/* No keys: a newer peer's extra ones are ignored like any others. */
	err = msg_open(&m, p, len, PROTO_STATUS);
	msg_close(&m);
	return err;
}

/* One agent record of a STATUS_REPLY into a, zeroed by the caller. */
static enum proto_err
get_status_agent(const msgpack_object *o, struct proto_status_agent *a)
{
	const msgpack_object *el;
	uint64_t *const cnt[] = { &a->batches, &a->records, &a->kernel_drops,
	    &a->iface_drops, &a->dropped, &a->queued };
	enum proto_err err;
	size_t i;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return PROTO_E_FIELD_TYPE;
	if (o->via.array.size != PROTO_STATUS_AGENT_LEN)
		return PROTO_E_ARITY;
	el = o->via.array.ptr;
	if ((err = get_name(&el[0], PROTO_NAME_MAX, a->name)) != PROTO_OK ||
	    (err = get_time(&el[1], &a->connected)) != PROTO_OK ||
	    (err = get_time(&el[2], &a->last_batch)) != PROTO_OK)
		return err;
	for (i = 0; i < sizeof(cnt) / sizeof(cnt[0]); i++)
		if ((err = get_uint(&el[3 + i], UINT64_MAX, cnt[i])) !=
		    PROTO_OK)
			return err;
	return PROTO_OK;
}

enum proto_err
proto_decode_status_reply(const uint8_t *p, size_t len,
    struct proto_status *st)
{
	static const char *const key[] = {
		PROTO_K_TIME, PROTO_K_START, PROTO_K_DB_BYTES, PROTO_K_QUEUED,
		PROTO_K_PENDING, PROTO_K_BATCHES, PROTO_K_DUPLICATES,
		PROTO_K_REJECTED, PROTO_K_AGENTS, PROTO_K_SCHEMA,
		PROTO_K_WAL_BYTES
	};
	uint64_t *const cnt[] = { &st->db_bytes, &st->queued, &st->pending,
	    &st->batches, &st->duplicates, &st->rejected };
	const msgpack_object *v[11], *ag;
	enum proto_err err;
	struct msg m;
	uint64_t schema = 0;
	uint32_t i;

	memset(st, 0, sizeof(*st));
	if ((err = msg_open(&m, p, len, PROTO_STATUS_REPLY)) != PROTO_OK ||
	    (err = payload_get(m.payload, key, 11, 9, v)) != PROTO_OK ||
	    (err = get_time(v[0], &st->time)) != PROTO_OK ||
	    (err = get_time(v[1], &st->start)) != PROTO_OK)
		goto fail;
	/* schema came after the first STATUS_REPLY: optional, 0 if absent. */
	if (v[9] != NULL &&
	    (err = get_uint(v[9], UINT32_MAX, &schema)) != PROTO_OK)
		goto fail;
	st->schema = (uint32_t)schema;
	st->version = m.version;
	for (i = 0; i < sizeof(cnt) / sizeof(cnt[0]); i++)
		if ((err = get_uint(v[2 + i], UINT64_MAX, cnt[i])) != PROTO_OK)
			goto fail;
	/* wal_bytes too, a part of db_bytes; older stores sent no such key. */
	if (v[10] != NULL) {
		if ((err = get_uint(v[10], st->db_bytes, &st->wal_bytes)) !=
		    PROTO_OK)
			goto fail;
		st->has_wal_bytes = 1;
	}
	ag = v[8];
	err = PROTO_E_FIELD_TYPE;
	if (ag->type != MSGPACK_OBJECT_ARRAY)
		goto fail;
	err = PROTO_E_TOO_MANY;
	if (ag->via.array.size > PROTO_STATUS_AGENTS_MAX)
		goto fail;
	st->nagents = ag->via.array.size;
	for (i = 0; i < st->nagents; i++)
		if ((err = get_status_agent(&ag->via.array.ptr[i],
		    &st->agent[i])) != PROTO_OK)
			goto fail;
	msg_close(&m);
	return PROTO_OK;
fail:
	msg_close(&m);
	memset(st, 0, sizeof(*st));
	return err;
}

void
proto_batch_clear(struct proto_batch *b)
{
	if (b == NULL)
		return;
	free(b->hosts);
	free(b->ports);
	free(b->peers);
	free(b->ifaces);
	free(b->health);
	memset(b, 0, sizeof(*b));
}
