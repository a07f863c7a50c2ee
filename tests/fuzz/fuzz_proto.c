/*
 * fuzz_proto.c - libFuzzer target for the wire protocol decoders.
 *
 * The input is taken as a frame when its header fits it, else as a bare
 * body.  The body is copied to a heap block of exactly its size, so ASan
 * reports any read past it.  Every decoder runs over it; each must agree
 * with proto_skim on bytes skim refuses, and whatever a decoder accepts
 * must encode again and decode to the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t	*reframe(struct proto_buf *, size_t *);
static void		 batch_check(const struct proto_batch *,
			    const struct proto_batch *);

/* The body of the one frame an encoder just wrote into b. */
static const uint8_t *
reframe(struct proto_buf *b, size_t *len)
{
	CHECK(proto_frame_check(b->data, b->len, PROTO_FRAME_MAX, len) ==
	    PROTO_OK);
	CHECK(*len + PROTO_HDR_LEN == b->len);
	return b->data + PROTO_HDR_LEN;
}

static void
batch_check(const struct proto_batch *x, const struct proto_batch *y)
{
	CHECK(x->seq == y->seq && x->first_ts == y->first_ts &&
	    x->last_ts == y->last_ts && x->spooled == y->spooled);
	CHECK(x->nhosts == y->nhosts && x->nports == y->nports &&
	    x->npeers == y->npeers && x->nifaces == y->nifaces &&
	    x->nhealth == y->nhealth);
	/* Decoders calloc records and set fields: padding compares too. */
	CHECK(x->nhosts == 0 || memcmp(x->hosts, y->hosts,
	    x->nhosts * sizeof(*x->hosts)) == 0);
	CHECK(x->nports == 0 || memcmp(x->ports, y->ports,
	    x->nports * sizeof(*x->ports)) == 0);
	CHECK(x->npeers == 0 || memcmp(x->peers, y->peers,
	    x->npeers * sizeof(*x->peers)) == 0);
	CHECK(x->nifaces == 0 || memcmp(x->ifaces, y->ifaces,
	    x->nifaces * sizeof(*x->ifaces)) == 0);
	CHECK(x->nhealth == 0 || memcmp(x->health, y->health,
	    x->nhealth * sizeof(*x->health)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_hello h, h2;
	struct proto_welcome w, w2;
	struct proto_ack a, a2;
	struct proto_error e, e2;
	struct proto_batch bt, bt2;
	struct proto_status *st = NULL, *st2 = NULL;
	struct proto_buf out;
	enum proto_err skim, err;
	const uint8_t *p;
	uint8_t *body;
	uint32_t version, type, peek;
	uint64_t seq;
	size_t len, len2;

	if (proto_frame_check(data, size, PROTO_FRAME_MAX, &len) == PROTO_OK) {
		data += PROTO_HDR_LEN;
	} else
		len = size;
	if ((body = malloc(len == 0 ? 1 : len)) == NULL)
		return 0;
	memcpy(body, data, len);
	proto_buf_init(&out);

	skim = proto_skim(body, len);
	err = proto_decode_envelope(body, len, &version, &type, &seq);
	CHECK(skim == PROTO_OK || err == skim);
	if (err == PROTO_OK)
		CHECK(version == PROTO_VERSION && type >= PROTO_HELLO &&
		    type <= PROTO_STATUS_REPLY);
	/* The peek reads any bytes safely and agrees with a whole envelope. */
	peek = proto_peek_type(body, len);
	if (err == PROTO_OK)
		CHECK(peek == type);

	err = proto_decode_hello(body, len, &h);
	CHECK(skim == PROTO_OK || err == skim);
	if (err == PROTO_OK) {
		CHECK(proto_encode_hello(&out, &h) == 0);
		p = reframe(&out, &len2);
		CHECK(proto_decode_hello(p, len2, &h2) == PROTO_OK);
		CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
		proto_buf_consume(&out, out.len);
	}

	err = proto_decode_welcome(body, len, &w);
	CHECK(skim == PROTO_OK || err == skim);
	if (err == PROTO_OK) {
		CHECK(proto_encode_welcome(&out, &w) == 0);
		p = reframe(&out, &len2);
		CHECK(proto_decode_welcome(p, len2, &w2) == PROTO_OK);
		CHECK(w.last_seq == w2.last_seq);
		proto_buf_consume(&out, out.len);
	}

	err = proto_decode_ack(body, len, &a);
	CHECK(skim == PROTO_OK || err == skim);
	if (err == PROTO_OK) {
		CHECK(proto_encode_ack(&out, &a) == 0);
		p = reframe(&out, &len2);
		CHECK(proto_decode_ack(p, len2, &a2) == PROTO_OK);
		CHECK(a.seq == a2.seq);
		proto_buf_consume(&out, out.len);
	}

	err = proto_decode_error(body, len, &e);
	CHECK(skim == PROTO_OK || err == skim);
	if (err == PROTO_OK) {
		CHECK(proto_encode_error(&out, &e) == 0);
		p = reframe(&out, &len2);
		CHECK(proto_decode_error(p, len2, &e2) == PROTO_OK);
		CHECK(memcmp(&e, &e2, sizeof(e)) == 0);
		proto_buf_consume(&out, out.len);
	}

	err = proto_decode_status(body, len);
	CHECK(skim == PROTO_OK || err == skim);

	if ((st = malloc(sizeof(*st))) != NULL &&
	    (st2 = malloc(sizeof(*st2))) != NULL) {
		err = proto_decode_status_reply(body, len, st);
		CHECK(skim == PROTO_OK || err == skim);
		if (err == PROTO_OK) {
			CHECK(proto_encode_status_reply(&out, st) == 0);
			p = reframe(&out, &len2);
			CHECK(proto_decode_status_reply(p, len2, st2) ==
			    PROTO_OK);
			CHECK(memcmp(st, st2, sizeof(*st)) == 0);
			proto_buf_consume(&out, out.len);
		}
	}
	free(st);
	free(st2);

	err = proto_decode_batch(body, len, &bt);
	CHECK(skim == PROTO_OK || err == skim);
	if (err == PROTO_OK) {
		CHECK(proto_encode_batch(&out, &bt) == 0);
		p = reframe(&out, &len2);
		CHECK(proto_decode_batch(p, len2, &bt2) == PROTO_OK);
		batch_check(&bt, &bt2);
		proto_batch_clear(&bt2);
	} else
		CHECK(bt.hosts == NULL && bt.nhosts == 0 && bt.health == NULL);
	proto_batch_clear(&bt);

	proto_buf_clear(&out);
	free(body);
	return 0;
}
