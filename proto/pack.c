/*
 * pack.c - encoders: each appends one whole frame to a struct proto_buf.
 *
 * msgpack-c's packer writes through a callback; ours appends to the
 * buffer and, when memory runs out, latches e->failed and refuses every
 * later write.  So the msgpack_pack_* results are not checked one by one:
 * proto_frame_end() looks at the latch once and cuts the partial frame
 * off.  Values are checked before anything is written, with the same
 * rules the decoders apply (record.c), so an encoder never produces a
 * frame its peer must refuse.
 *
 * Integers that the decoders accept as "int >= 0" are written with
 * msgpack_pack_uint64, so every value has one encoding, the shortest.
 *
 * BATCH records, up to 1.7 per packet of a busy capture, are the one hot
 * path: each whole record is written into a small array with the same
 * shortest encodings msgpack-c chooses (put_uint, put_bin) and appended
 * once, where the packer's callback appended every field on its own.
 * Host, port and peer records are written field by field (put_key), the
 * others by walking their field table (enc_rec).  test_proto holds the
 * bytes to msgpack-c's at every encoding boundary, and the records
 * refused to the decoder's answers.
 */
#include <string.h>

#include <msgpack.h>

#include "proto.h"
#include "internal.h"

static int	enc_write_cb(void *, const char *, size_t);
static int	enc_open(struct proto_batch_enc *, struct proto_buf *,
		    uint32_t type, uint64_t seq, size_t nkeys,
		    msgpack_packer *);
static void	enc_key(msgpack_packer *, const char *);
static int	enc_rec_open(struct proto_batch_enc *, enum proto_rec_kind);
static void	enc_rec_close(struct proto_batch_enc *, enum proto_rec_kind,
		    const uint8_t *, const uint8_t *);
static void	enc_rec(struct proto_batch_enc *, enum proto_rec_kind,
		    const void *);
static uint8_t	*put_key(uint8_t *, const struct proto_key *);
static uint8_t	*put_count(uint8_t *, const struct proto_count *);
static uint8_t	*put_uint(uint8_t *, uint64_t);
static uint8_t	*put_bin(uint8_t *, const uint8_t *, uint8_t);

/* The largest field: bin 8 of a 16-byte address (a uint64 takes 9). */
#define ENC_FIELD_MAX	(2 + 16)
#define ENC_FIXARRAY_MAX 15	/* records are msgpack fixarrays */

static int
enc_write_cb(void *data, const char *p, size_t n)
{
	struct proto_batch_enc *e = data;

	if (e->failed)
		return -1;
	if (proto_buf_append(e->buf, p, n) == -1) {
		e->failed = 1;
		return -1;
	}
	return 0;
}

/*
 * Starts a frame and writes [version, type, seq, { with nkeys entries.
 * *e must be zeroed by the caller, who may have set its counts already.
 */
static int
enc_open(struct proto_batch_enc *e, struct proto_buf *b, uint32_t type,
    uint64_t seq, size_t nkeys, msgpack_packer *pk)
{
	e->buf = b;
	if (proto_frame_begin(b, &e->start) == -1) {
		e->failed = 1;
		return -1;
	}
	msgpack_packer_init(pk, e, enc_write_cb);
	msgpack_pack_array(pk, PROTO_ENVELOPE_LEN);
	msgpack_pack_uint32(pk, PROTO_VERSION);
	msgpack_pack_uint32(pk, type);
	msgpack_pack_uint64(pk, seq);
	msgpack_pack_map(pk, nkeys);
	return 0;
}

static void
enc_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
}

int
proto_encode_hello(struct proto_buf *b, const struct proto_hello *h)
{
	struct proto_batch_enc e;
	msgpack_packer pk;
	uint32_t i;

	if (!proto_hello_valid(h))
		return -1;
	memset(&e, 0, sizeof(e));
	if (enc_open(&e, b, PROTO_HELLO, 0, 4, &pk) == -1)
		return proto_frame_end(b, e.start, 1);
	enc_key(&pk, PROTO_K_NAME);
	msgpack_pack_str_with_body(&pk, h->name, strlen(h->name));
	enc_key(&pk, PROTO_K_IFACES);
	msgpack_pack_array(&pk, h->niface);
	for (i = 0; i < h->niface; i++)
		msgpack_pack_str_with_body(&pk, h->iface[i],
		    strlen(h->iface[i]));
	enc_key(&pk, PROTO_K_RES);
	msgpack_pack_uint32(&pk, h->resolution);
	enc_key(&pk, PROTO_K_START);
	msgpack_pack_uint64(&pk, (uint64_t)h->start_time);
	return proto_frame_end(b, e.start, e.failed);
}

int
proto_encode_welcome(struct proto_buf *b, const struct proto_welcome *w)
{
	struct proto_batch_enc e;
	msgpack_packer pk;

	memset(&e, 0, sizeof(e));
	if (enc_open(&e, b, PROTO_WELCOME, 0, 1, &pk) == -1)
		return proto_frame_end(b, e.start, 1);
	enc_key(&pk, PROTO_K_LAST_SEQ);
	msgpack_pack_uint64(&pk, w->last_seq);
	return proto_frame_end(b, e.start, e.failed);
}

int
proto_encode_ack(struct proto_buf *b, const struct proto_ack *a)
{
	struct proto_batch_enc e;
	msgpack_packer pk;

	/* Batches are numbered from 1: an ACK of 0 acknowledges nothing. */
	if (a->seq == 0)
		return -1;
	memset(&e, 0, sizeof(e));
	if (enc_open(&e, b, PROTO_ACK, a->seq, 0, &pk) == -1)
		return proto_frame_end(b, e.start, 1);
	return proto_frame_end(b, e.start, e.failed);
}

int
proto_encode_error(struct proto_buf *b, const struct proto_error *er)
{
	struct proto_batch_enc e;
	msgpack_packer pk;
	size_t len;

	len = strnlen(er->text, sizeof(er->text));
	if (er->code == 0 || !proto_text_valid(er->text, len))
		return -1;
	memset(&e, 0, sizeof(e));
	if (enc_open(&e, b, PROTO_ERROR, 0, 2, &pk) == -1)
		return proto_frame_end(b, e.start, 1);
	enc_key(&pk, PROTO_K_CODE);
	msgpack_pack_uint32(&pk, er->code);
	enc_key(&pk, PROTO_K_TEXT);
	msgpack_pack_str_with_body(&pk, er->text, len);
	return proto_frame_end(b, e.start, e.failed);
}

int
proto_encode_status(struct proto_buf *b)
{
	struct proto_batch_enc e;
	msgpack_packer pk;

	memset(&e, 0, sizeof(e));
	if (enc_open(&e, b, PROTO_STATUS, 0, 0, &pk) == -1)
		return proto_frame_end(b, e.start, 1);
	return proto_frame_end(b, e.start, e.failed);
}

int
proto_encode_status_reply(struct proto_buf *b, const struct proto_status *st)
{
	const struct proto_status_agent *a;
	struct proto_batch_enc e;
	msgpack_packer pk;
	uint32_t i;

	/*
	 * The decoder's rules: times >= 0, the WAL within db_bytes (a size
	 * not known is not sent, so it reads back as 0), a bounded count,
	 * valid names.
	 */
	if (st->time < 0 || st->start < 0 || (st->has_wal_bytes ?
	    st->wal_bytes > st->db_bytes : st->wal_bytes != 0) ||
	    st->nagents > PROTO_STATUS_AGENTS_MAX)
		return -1;
	for (i = 0; i < st->nagents; i++) {
		a = &st->agent[i];
		if (a->connected < 0 || a->last_batch < 0 ||
		    !proto_name_valid(a->name, strnlen(a->name,
		    sizeof(a->name)), PROTO_NAME_MAX))
			return -1;
	}
	memset(&e, 0, sizeof(e));
	if (enc_open(&e, b, PROTO_STATUS_REPLY, 0,
	    st->has_wal_bytes ? 11 : 10, &pk) == -1)
		return proto_frame_end(b, e.start, 1);
	enc_key(&pk, PROTO_K_TIME);
	msgpack_pack_uint64(&pk, (uint64_t)st->time);
	enc_key(&pk, PROTO_K_START);
	msgpack_pack_uint64(&pk, (uint64_t)st->start);
	enc_key(&pk, PROTO_K_DB_BYTES);
	msgpack_pack_uint64(&pk, st->db_bytes);
	enc_key(&pk, PROTO_K_QUEUED);
	msgpack_pack_uint64(&pk, st->queued);
	enc_key(&pk, PROTO_K_PENDING);
	msgpack_pack_uint64(&pk, st->pending);
	enc_key(&pk, PROTO_K_BATCHES);
	msgpack_pack_uint64(&pk, st->batches);
	enc_key(&pk, PROTO_K_DUPLICATES);
	msgpack_pack_uint64(&pk, st->duplicates);
	enc_key(&pk, PROTO_K_REJECTED);
	msgpack_pack_uint64(&pk, st->rejected);
	enc_key(&pk, PROTO_K_SCHEMA);
	msgpack_pack_uint32(&pk, st->schema);
	if (st->has_wal_bytes) {
		enc_key(&pk, PROTO_K_WAL_BYTES);
		msgpack_pack_uint64(&pk, st->wal_bytes);
	}
	enc_key(&pk, PROTO_K_AGENTS);
	msgpack_pack_array(&pk, st->nagents);
	for (i = 0; i < st->nagents; i++) {
		a = &st->agent[i];
		msgpack_pack_array(&pk, PROTO_STATUS_AGENT_LEN);
		msgpack_pack_str_with_body(&pk, a->name, strlen(a->name));
		msgpack_pack_uint64(&pk, (uint64_t)a->connected);
		msgpack_pack_uint64(&pk, (uint64_t)a->last_batch);
		msgpack_pack_uint64(&pk, a->batches);
		msgpack_pack_uint64(&pk, a->records);
		msgpack_pack_uint64(&pk, a->kernel_drops);
		msgpack_pack_uint64(&pk, a->iface_drops);
		msgpack_pack_uint64(&pk, a->dropped);
		msgpack_pack_uint64(&pk, a->queued);
	}
	return proto_frame_end(b, e.start, e.failed);
}

int
proto_batch_begin(struct proto_batch_enc *e, struct proto_buf *b,
    const struct proto_batch *head)
{
	msgpack_packer pk;
	size_t nkeys, n;
	int k;

	memset(e, 0, sizeof(*e));
	e->buf = b;
	e->start = b->len;
	nkeys = 2;
	for (k = 0; k < PROTO_REC__COUNT; k++) {
		(void)proto_batch_get(head, k, &n);
		e->want[k] = n;
		if (n > PROTO_RECORDS_MAX)
			e->failed = 1;
		if (n > 0)
			nkeys++;
	}
	if (head->seq == 0 || head->first_ts < 0 ||
	    head->last_ts < head->first_ts || head->spooled > INT64_MAX)
		e->failed = 1;
	if (e->failed)
		return -1;
	if (head->spooled > 0)
		nkeys++;	/* optional: older stores skip it */
	if (enc_open(e, b, PROTO_BATCH, head->seq, nkeys, &pk) == -1)
		return -1;
	enc_key(&pk, PROTO_K_FIRST);
	msgpack_pack_uint64(&pk, (uint64_t)head->first_ts);
	enc_key(&pk, PROTO_K_LAST);
	msgpack_pack_uint64(&pk, (uint64_t)head->last_ts);
	if (head->spooled > 0) {
		enc_key(&pk, PROTO_K_SPOOLED);
		msgpack_pack_uint64(&pk, head->spooled);
	}
	return e->failed ? -1 : 0;
}

/*
 * Writes v as msgpack writes an unsigned integer: in the fewest bytes
 * (positive fixint, uint 8, 16, 32 or 64, big-endian).  Returns the end.
 */
static uint8_t *
put_uint(uint8_t *o, uint64_t v)
{
	int n, i;

	if (v < 0x80) {
		*o++ = (uint8_t)v;
		return o;
	}
	if (v <= 0xff) {
		*o++ = 0xcc;
		n = 1;
	} else if (v <= 0xffff) {
		*o++ = 0xcd;
		n = 2;
	} else if (v <= 0xffffffffu) {
		*o++ = 0xce;
		n = 4;
	} else {
		*o++ = 0xcf;
		n = 8;
	}
	for (i = n - 1; i >= 0; i--)
		*o++ = (uint8_t)(v >> (8 * i));
	return o;
}

/* Writes len bytes of p as msgpack bin 8.  Returns the end. */
static uint8_t *
put_bin(uint8_t *o, const uint8_t *p, uint8_t len)
{
	*o++ = 0xc4;
	*o++ = len;
	memcpy(o, p, len);
	return o + len;
}

/*
 * Before a record of kind is written: 1, with the section opened if this
 * is its first record; 0 (e->failed latched) when the record may not come
 * now.  Sections only move forward, so one left short can never be
 * completed and proto_batch_end will fail on its count.
 */
static int
enc_rec_open(struct proto_batch_enc *e, enum proto_rec_kind kind)
{
	const struct proto_rec_desc *d = &proto_recs[kind];
	msgpack_packer pk;

	if (e->failed)
		return 0;
	if ((int)kind < e->section || e->have[kind] >= e->want[kind] ||
	    d->nfield > ENC_FIXARRAY_MAX) {
		e->failed = 1;
		return 0;
	}
	if (e->have[kind] == 0) {
		msgpack_packer_init(&pk, e, enc_write_cb);
		e->section = kind;
		enc_key(&pk, d->key);
		msgpack_pack_array(&pk, e->want[kind]);
	}
	return 1;
}

/* Appends the record written to out[0..end) and counts it. */
static void
enc_rec_close(struct proto_batch_enc *e, enum proto_rec_kind kind,
    const uint8_t *out, const uint8_t *end)
{
	if (enc_write_cb(e, (const char *)out, (size_t)(end - out)) == -1)
		return;
	e->have[kind]++;
}

/*
 * Appends one record of kind, walking its field table: the interface and
 * health records.  Any misuse latches e->failed.
 */
static void
enc_rec(struct proto_batch_enc *e, enum proto_rec_kind kind, const void *rec)
{
	const struct proto_rec_desc *d = &proto_recs[kind];
	const unsigned char *base = rec;
	uint8_t out[1 + ENC_FIXARRAY_MAX * ENC_FIELD_MAX], *o = out;
	struct proto_addr addr;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	int64_t i64;
	uint8_t u8;
	size_t i;

	if (!proto_rec_valid(kind, rec)) {
		e->failed = 1;
		return;
	}
	if (!enc_rec_open(e, kind))
		return;
	*o++ = (uint8_t)(0x90 | d->nfield);	/* fixarray */
	for (i = 0; i < d->nfield; i++) {
		const unsigned char *p = base + d->field[i].off;

		switch (d->field[i].kind) {
		case PROTO_F_IFACE:
			memcpy(&u32, p, sizeof(u32));
			o = put_uint(o, u32);
			break;
		case PROTO_F_BUCKET:
			memcpy(&i64, p, sizeof(i64));
			o = put_uint(o, (uint64_t)i64);
			break;
		case PROTO_F_ADDR:
			/* proto_rec_valid checked the family: 0, 4 or 16. */
			memcpy(&addr, p, sizeof(addr));
			o = put_bin(o, addr.a,
			    (uint8_t)proto_addr_len(addr.family));
			break;
		case PROTO_F_PROTO:
		case PROTO_F_DIR:
			memcpy(&u8, p, sizeof(u8));
			o = put_uint(o, u8);
			break;
		case PROTO_F_PORT:
			memcpy(&u16, p, sizeof(u16));
			o = put_uint(o, u16);
			break;
		case PROTO_F_U64:
			memcpy(&u64, p, sizeof(u64));
			o = put_uint(o, u64);
			break;
		}
	}
	enc_rec_close(e, kind, out, o);
}

/*
 * The traffic records, up to 1.7 a packet, are written field by field
 * in record.c's wire order instead: walking the table, with a switch a
 * field and the rules checked in a second walk, was most of the agent's
 * encoding time.  The rules are record.c's (test_proto holds the two to
 * the same answers): put_key returns NULL for a key they refuse.
 */
static uint8_t *
put_key(uint8_t *o, const struct proto_key *k)
{
	int len = proto_addr_len(k->host.family);

	if (k->iface >= PROTO_IFACES_MAX || k->bucket < 0 || len < 0 ||
	    k->dir > PROTO_DIR_OUT)
		return NULL;
	o = put_uint(o, k->iface);
	o = put_uint(o, (uint64_t)k->bucket);
	o = put_bin(o, k->host.a, (uint8_t)len);
	o = put_uint(o, k->proto);
	return put_uint(o, k->dir);
}

static uint8_t *
put_count(uint8_t *o, const struct proto_count *c)
{
	o = put_uint(o, c->packets);
	o = put_uint(o, c->bytes);
	return put_uint(o, c->frame_bytes);
}

/* A key, a port or peer, and the counters: the most a record takes. */
#define ENC_TRAFFIC_MAX	(1 + 9 + 9 + ENC_FIELD_MAX + 2 + 2 + 3 + \
			    ENC_FIELD_MAX + 3 * 9)

void
proto_batch_add_host(struct proto_batch_enc *e, const struct proto_host_rec *r)
{
	uint8_t out[ENC_TRAFFIC_MAX], *o = out;

	*o++ = (uint8_t)(0x90 | proto_recs[PROTO_REC_HOST].nfield);
	if ((o = put_key(o, &r->k)) == NULL) {
		e->failed = 1;
		return;
	}
	o = put_count(o, &r->c);
	if (enc_rec_open(e, PROTO_REC_HOST))
		enc_rec_close(e, PROTO_REC_HOST, out, o);
}

void
proto_batch_add_port(struct proto_batch_enc *e, const struct proto_port_rec *r)
{
	uint8_t out[ENC_TRAFFIC_MAX], *o = out;

	*o++ = (uint8_t)(0x90 | proto_recs[PROTO_REC_PORT].nfield);
	if ((o = put_key(o, &r->k)) == NULL) {
		e->failed = 1;
		return;
	}
	o = put_uint(o, r->port);
	o = put_count(o, &r->c);
	if (enc_rec_open(e, PROTO_REC_PORT))
		enc_rec_close(e, PROTO_REC_PORT, out, o);
}

void
proto_batch_add_peer(struct proto_batch_enc *e, const struct proto_peer_rec *r)
{
	uint8_t out[ENC_TRAFFIC_MAX], *o = out;
	int len = proto_addr_len(r->peer.family);

	/* One packet's two sides share its IP version, or one overflowed. */
	if (len < 0 || (r->k.host.family != PROTO_AF_NONE &&
	    r->peer.family != PROTO_AF_NONE &&
	    r->k.host.family != r->peer.family)) {
		e->failed = 1;
		return;
	}
	*o++ = (uint8_t)(0x90 | proto_recs[PROTO_REC_PEER].nfield);
	if ((o = put_key(o, &r->k)) == NULL) {
		e->failed = 1;
		return;
	}
	o = put_bin(o, r->peer.a, (uint8_t)len);
	o = put_count(o, &r->c);
	if (enc_rec_open(e, PROTO_REC_PEER))
		enc_rec_close(e, PROTO_REC_PEER, out, o);
}

void
proto_batch_add_iface(struct proto_batch_enc *e,
    const struct proto_iface_rec *r)
{
	enc_rec(e, PROTO_REC_IFACE, r);
}

void
proto_batch_add_health(struct proto_batch_enc *e,
    const struct proto_health_rec *r)
{
	enc_rec(e, PROTO_REC_HEALTH, r);
}

int
proto_batch_end(struct proto_batch_enc *e)
{
	int k;

	for (k = 0; k < PROTO_REC__COUNT; k++)
		if (e->have[k] != e->want[k])
			e->failed = 1;
	if (proto_frame_end(e->buf, e->start, e->failed) == -1) {
		e->failed = 1;
		return -1;
	}
	return 0;
}

/* A record of kind k, by the encoder the streaming API has for it. */
static void
enc_any(struct proto_batch_enc *e, int k, const void *rec)
{
	switch (k) {
	case PROTO_REC_HOST:
		proto_batch_add_host(e, rec);
		break;
	case PROTO_REC_PORT:
		proto_batch_add_port(e, rec);
		break;
	case PROTO_REC_PEER:
		proto_batch_add_peer(e, rec);
		break;
	default:
		enc_rec(e, (enum proto_rec_kind)k, rec);
		break;
	}
}

int
proto_encode_batch(struct proto_buf *b, const struct proto_batch *batch)
{
	struct proto_batch_enc e;
	const unsigned char *recs;
	size_t i, n;
	int k;

	/* Built on the streaming encoder, so both write the same bytes. */
	if (proto_batch_begin(&e, b, batch) == -1)
		return proto_batch_end(&e);
	for (k = 0; k < PROTO_REC__COUNT; k++) {
		recs = proto_batch_get(batch, k, &n);
		if (n > 0 && recs == NULL)
			e.failed = 1;
		for (i = 0; i < n && !e.failed; i++)
			enc_any(&e, k, recs + i * proto_recs[k].size);
	}
	return proto_batch_end(&e);
}
