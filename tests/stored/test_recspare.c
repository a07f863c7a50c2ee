/*
 * test_recspare.c - unit tests of recspare.c: a committed batch's record
 * arrays are decoded into again when they are big enough, zeroed first;
 * at most the largest of each kind is kept; and a BATCH decoded through
 * it reads as proto_decode_batch reads it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recspare.h"

/*
 * A batch holding n peer records, every byte of them set, its array from
 * recspare_alloc as a decoded batch's are (with nothing kept: calloc's).
 */
static void
peers(struct proto_batch *b, size_t n)
{
	struct recspare none;

	memset(&none, 0, sizeof(none));
	memset(b, 0, sizeof(*b));
	assert_non_null(b->peers = recspare_alloc(&none, 2, n,
	    sizeof(*b->peers)));
	memset(b->peers, 0xa5, n * sizeof(*b->peers));
	b->npeers = n;
}

static int
all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

static void
test_reused_zeroed(void **state)
{
	struct recspare s;
	struct proto_batch b;
	void *kept, *p;

	(void)state;
	memset(&s, 0, sizeof(s));
	peers(&b, 5000);
	kept = b.peers;
	recspare_put(&s, &b);
	assert_null(b.peers);
	assert_int_equal(b.npeers, 0);
	/* Smaller, the same kind: the kept array, zeroed as calloc's. */
	p = recspare_alloc(&s, 2, 4000, sizeof(struct proto_peer_rec));
	assert_ptr_equal(p, kept);
	assert_true(all_zero(p, 4000 * sizeof(struct proto_peer_rec)));
	assert_null(s.p[2]);
	free(p);
	/* Nothing kept for hosts: a fresh zeroed array. */
	p = recspare_alloc(&s, 0, 10, sizeof(struct proto_host_rec));
	assert_non_null(p);
	assert_true(all_zero(p, 10 * sizeof(struct proto_host_rec)));
	free(p);
	recspare_free(&s);
}

static void
test_too_small_freed(void **state)
{
	struct recspare s;
	struct proto_batch b;
	void *p;

	(void)state;
	memset(&s, 0, sizeof(s));
	peers(&b, 100);
	recspare_put(&s, &b);
	assert_non_null(s.p[2]);
	/* Bigger than what is kept: that one goes, a new one comes. */
	p = recspare_alloc(&s, 2, 9000, sizeof(struct proto_peer_rec));
	assert_non_null(p);
	assert_null(s.p[2]);
	assert_int_equal(s.cap[2], 0);
	assert_true(all_zero(p, 9000 * sizeof(struct proto_peer_rec)));
	free(p);
	recspare_free(&s);
}

static void
test_largest_kept(void **state)
{
	struct recspare s;
	struct proto_batch b;
	void *big, *p;

	(void)state;
	memset(&s, 0, sizeof(s));
	peers(&b, 9000);
	big = b.peers;
	recspare_put(&s, &b);
	/* A smaller one put after it is freed (ASan: no leak), not kept. */
	peers(&b, 50);
	recspare_put(&s, &b);
	assert_ptr_equal(s.p[2], big);
	/* Allocated in steps of 4,096 records: 9,000 leaves room for 12,288. */
	assert_int_equal(s.cap[2], 12288 * sizeof(struct proto_peer_rec));
	p = recspare_alloc(&s, 2, 12288, sizeof(struct proto_peer_rec));
	assert_ptr_equal(p, big);
	free(p);
	recspare_free(&s);
	assert_null(s.p[2]);
}

/* Through the decoder: the same records as proto_decode_batch's. */
static void
test_decode_through(void **state)
{
	struct proto_host_rec h[3];
	struct proto_batch in, out, again;
	struct proto_buf buf;
	struct recspare s;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(h, 0, sizeof(h));
	memset(&in, 0, sizeof(in));
	for (i = 0; i < 3; i++) {
		h[i].k.bucket = 1700000040;
		h[i].k.iface = 0;
		h[i].k.proto = 6;
		h[i].k.host.family = 4;
		h[i].k.host.a[3] = (uint8_t)(i + 1);
		h[i].k.host.a[0] = 10;
		h[i].c.packets = i + 1;
		h[i].c.bytes = 100 * (i + 1);
		h[i].c.frame_bytes = 114 * (i + 1);
	}
	in.seq = 1;
	in.first_ts = 1700000040;
	in.last_ts = 1700000099;
	in.hosts = h;
	in.nhosts = 3;
	proto_buf_init(&buf);
	assert_int_equal(proto_encode_batch(&buf, &in), 0);
	/* Twice: the second time into the arrays the first one gave back. */
	assert_int_equal(proto_decode_batch_with(buf.data + PROTO_HDR_LEN,
	    buf.len - PROTO_HDR_LEN, &out, recspare_alloc, &s), PROTO_OK);
	recspare_put(&s, &out);
	assert_non_null(s.p[0]);
	assert_int_equal(proto_decode_batch_with(buf.data + PROTO_HDR_LEN,
	    buf.len - PROTO_HDR_LEN, &out, recspare_alloc, &s), PROTO_OK);
	assert_null(s.p[0]);
	assert_int_equal(proto_decode_batch(buf.data + PROTO_HDR_LEN,
	    buf.len - PROTO_HDR_LEN, &again), PROTO_OK);
	assert_int_equal(out.nhosts, 3);
	assert_memory_equal(out.hosts, again.hosts, 3 * sizeof(*out.hosts));
	proto_batch_clear(&out);
	proto_batch_clear(&again);
	proto_buf_clear(&buf);
	recspare_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reused_zeroed),
		cmocka_unit_test(test_too_small_freed),
		cmocka_unit_test(test_largest_kept),
		cmocka_unit_test(test_decode_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
