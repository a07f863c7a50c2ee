/*
 * test_rowsort.c - unit tests of rowsort.c: the packed radix sort and the
 * merge sort for wide keys both give the key order of a plain comparison
 * sort (ties in their original order), move every row exactly once, and
 * each is taken where it should be, at the edge of 64 bits too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rowsort.h"

#define T_RES	60

struct sorted {
	struct db_row	*rows;		/* sorted by rowsort */
	struct db_row	*want;		/* sorted by qsort, ties by position */
	struct db_row	*tmp;
	uint64_t	*order;
	struct proto_count *c;		/* row i's counters: c[i] */
	size_t		 n;
	int64_t		 res;		/* the resolution */
};

/* A 64-bit xorshift: the same rows every run. */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Key order, then the original position (alloc_rows's packets). */
static int
cmp_row(const void *pa, const void *pb)
{
	const struct db_row *a = pa, *b = pb;
	const int64_t ka[6] = { a->bucket, a->iface, a->host, a->mid, a->low,
	    (int64_t)a->c->packets };
	const int64_t kb[6] = { b->bucket, b->iface, b->host, b->mid, b->low,
	    (int64_t)b->c->packets };
	int i;

	for (i = 0; i < 6; i++)
		if (ka[i] != kb[i])
			return ka[i] < kb[i] ? -1 : 1;
	return 0;
}

static void
alloc_rows(struct sorted *t, size_t n)
{
	size_t i;

	t->n = n;
	t->res = T_RES;
	t->rows = calloc(n + 1, sizeof(*t->rows));
	t->want = calloc(n + 1, sizeof(*t->want));
	t->tmp = calloc((n + 1) / 2 + 1, sizeof(*t->tmp));
	t->order = calloc(n + 1, sizeof(*t->order));
	t->c = calloc(n + 1, sizeof(*t->c));
	assert_non_null(t->rows);
	assert_non_null(t->want);
	assert_non_null(t->tmp);
	assert_non_null(t->order);
	assert_non_null(t->c);
	for (i = 0; i < n; i++) {
		t->c[i].packets = i;
		t->rows[i].c = &t->c[i];
	}
}

/*
 * Sorts t's rows both ways and compares; returns rowsort's answer.  Each
 * row's counters still say which row it was: every one is there once.
 */
static int
sort_and_check(struct sorted *t)
{
	unsigned char *seen;
	size_t i;
	int packed;

	memcpy(t->want, t->rows, t->n * sizeof(*t->rows));
	qsort(t->want, t->n, sizeof(*t->want), cmp_row);
	packed = rowsort(t->rows, t->n, t->res, t->tmp, t->order);
	seen = calloc(t->n + 1, 1);
	assert_non_null(seen);
	for (i = 0; i < t->n; i++) {
		assert_memory_equal(&t->rows[i], &t->want[i],
		    sizeof(t->rows[i]));
		assert_int_equal(seen[t->rows[i].c->packets], 0);
		seen[t->rows[i].c->packets] = 1;
	}
	free(seen);
	return packed;
}

static void
free_rows(struct sorted *t)
{
	free(t->rows);
	free(t->want);
	free(t->tmp);
	free(t->order);
	free(t->c);
}

/*
 * n rows as a batch section has them: two buckets, one or two
 * interfaces, ids of a database of ids_max addresses, ports or peers.
 */
static void
fill(struct sorted *t, size_t n, int64_t ids_max, int peers, uint64_t seed)
{
	size_t i;

	alloc_rows(t, n);
	for (i = 0; i < n; i++) {
		t->rows[i].bucket = 1700000040 +
		    T_RES * (int64_t)(next(&seed) % 2);
		t->rows[i].iface = 1 + (int64_t)(next(&seed) % 2);
		t->rows[i].host = 1 + (int64_t)(next(&seed) % 1000);
		if (peers) {
			t->rows[i].mid = 1 + (int64_t)(next(&seed) %
			    (uint64_t)ids_max);
			t->rows[i].low = (next(&seed) % 2 ? 6 : 17) << 1 |
			    (int64_t)(next(&seed) % 2);
		} else {
			t->rows[i].mid = next(&seed) % 2 ? 6 : 17;
			t->rows[i].low = (int64_t)(next(&seed) % 65536) << 1 |
			    (int64_t)(next(&seed) % 2);
		}
	}
}

/* Sections as the bench's replays send them take the radix sort. */
static void
test_batch_sections(void **state)
{
	static const size_t sizes[] = { 2, 3, 17, 255, 256, 257, 5000,
	    65536, 1u << 18 };
	struct sorted t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(&t, sizes[i], 75000, 1, 1 + i);
		assert_int_equal(sort_and_check(&t), 1);
		free_rows(&t);
		fill(&t, sizes[i], 75000, 0, 100 + i);
		assert_int_equal(sort_and_check(&t), 1);
		free_rows(&t);
	}
}

/* Ids of a large database and buckets far apart: the merge sort. */
static void
test_wide_keys(void **state)
{
	struct sorted t;
	size_t i;

	(void)state;
	fill(&t, 20000, (int64_t)1 << 40, 1, 7);
	for (i = 0; i < t.n; i += 3)
		t.rows[i].bucket = 253402300740;	/* 9999-12-31 */
	assert_int_equal(sort_and_check(&t), 0);
	free_rows(&t);
}

/* Equal keys keep their order, in both sorts. */
static void
test_ties(void **state)
{
	struct sorted t;
	size_t i;

	(void)state;
	fill(&t, 4096, 8, 1, 9);
	for (i = 0; i < t.n; i++)
		t.rows[i].iface = 1;
	assert_int_equal(sort_and_check(&t), 1);
	free_rows(&t);
	fill(&t, 4096, 8, 1, 9);
	for (i = 0; i < t.n; i += 2)
		t.rows[i].host = INT64_MAX - (int64_t)(i % 3);
	assert_int_equal(sort_and_check(&t), 0);
	free_rows(&t);
}

/*
 * Exactly 64 bits packs; 65 does not; buckets take their bits divided by
 * the resolution; negative fields sort as signed.
 */
static void
test_edges(void **state)
{
	struct sorted t;

	(void)state;
	alloc_rows(&t, 2);		/* one index bit */
	t.rows[0].host = (int64_t)1 << 62;	/* 63 bits of spread */
	t.rows[1].host = 0;
	assert_int_equal(sort_and_check(&t), 1);
	free_rows(&t);
	alloc_rows(&t, 3);		/* two index bits */
	t.rows[0].host = (int64_t)1 << 62;
	t.rows[1].host = 0;
	t.rows[2].host = 5;
	assert_int_equal(sort_and_check(&t), 0);
	free_rows(&t);
	alloc_rows(&t, 4);
	t.rows[0].mid = -3;
	t.rows[1].mid = 2;
	t.rows[2].mid = INT64_MIN;
	t.rows[3].mid = -1;
	assert_int_equal(sort_and_check(&t), 0);	/* 64 bits + 2 */
	free_rows(&t);
	alloc_rows(&t, 2);		/* buckets pack as bucket / resolution */
	t.res = 86400;
	t.rows[0].host = (int64_t)1 << 55;
	t.rows[0].bucket = 86400 * 100;
	assert_int_equal(sort_and_check(&t), 1);
	free_rows(&t);
	alloc_rows(&t, 4);
	t.rows[0].low = -3;
	t.rows[1].low = 2;
	t.rows[2].low = -100;
	t.rows[3].low = -1;
	assert_int_equal(sort_and_check(&t), 1);
	free_rows(&t);
	alloc_rows(&t, 1);
	assert_int_equal(rowsort(t.rows, 0, T_RES, t.tmp, t.order), 1);
	assert_int_equal(sort_and_check(&t), 1);
	free_rows(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_sections),
		cmocka_unit_test(test_wide_keys),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
