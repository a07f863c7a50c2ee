/*
 * rowsort.c - a batch's rows in the primary key order of their table.
 *
 * Over one batch each key field spans little: a few buckets, the ids of
 * one database, a few protocols.  So a row's key, each field less its
 * minimum over the batch, usually packs into one 64-bit word with the
 * row's index below it; those words are radix sorted a byte at a time
 * and the rows then moved into their order in place.  On a 65,536-row
 * section that takes a third of the time of the merge sort of the 48-byte
 * rows themselves, which is what keys too wide to pack get.
 */
#include <string.h>

#include "msort.h"
#include "rowsort.h"

#define ROWSORT_FIELDS	5	/* bucket, iface, host, mid, low */
#define ROWSORT_MOVED	UINT64_MAX

static void	rowsort_key(const struct db_row *, int64_t, int64_t *);
static int	rowsort_less(const struct db_row *, const struct db_row *);
static void	rowsort_merge(struct db_row *, struct db_row *, size_t);
static unsigned	rowsort_bits(uint64_t);
static uint64_t	*rowsort_radix(uint64_t *, uint64_t *, size_t, unsigned,
		    unsigned);
static void	rowsort_move(struct db_row *, uint64_t *, size_t);

/* r's key fields into v, most significant first. */
static inline void
rowsort_key(const struct db_row *r, int64_t resolution, int64_t *v)
{
	v[0] = r->bucket / resolution;
	v[1] = r->iface;
	v[2] = r->host;
	v[3] = r->mid;
	v[4] = r->low;
}

/* Whether a comes before b. */
static inline int
rowsort_less(const struct db_row *a, const struct db_row *b)
{
	if (a->bucket != b->bucket)
		return a->bucket < b->bucket;
	if (a->iface != b->iface)
		return a->iface < b->iface;
	if (a->host != b->host)
		return a->host < b->host;
	if (a->mid != b->mid)
		return a->mid < b->mid;
	return a->low < b->low;
}

MSORT_DEFINE(rowsort_merge, struct db_row, rowsort_less)

/* Bits of v: 0 for 0. */
static unsigned
rowsort_bits(uint64_t v)
{
	return v == 0 ? 0 : 64 - (unsigned)__builtin_clzll(v);
}

/*
 * LSD radix sort of w[0..n) on bits [first * 8, total), a byte a pass,
 * with t as much room again; a pass whose byte is the same in every word
 * is skipped.  Returns whichever of w and t holds the result.
 */
static uint64_t *
rowsort_radix(uint64_t *w, uint64_t *t, size_t n, unsigned first,
    unsigned total)
{
	size_t count[256], i, c, sum, k;
	unsigned byte, sh;
	uint64_t *x;

	for (byte = first; byte * 8 < total; byte++) {
		sh = byte * 8;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(w[i] >> sh) & 0xff]++;
		if (count[(w[0] >> sh) & 0xff] == n)
			continue;
		for (sum = 0, c = 0; c < 256; c++) {
			k = count[c];
			count[c] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			t[count[(w[i] >> sh) & 0xff]++] = w[i];
		x = w;
		w = t;
		t = x;
	}
	return w;
}

/*
 * Moves rows[from[j]] to rows[j] for every j, in place, a cycle of the
 * permutation at a time; from[] is overwritten.
 */
static void
rowsort_move(struct db_row *rows, uint64_t *from, size_t n)
{
	struct db_row r;
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		if (from[i] == ROWSORT_MOVED)
			continue;
		r = rows[i];
		for (j = i;; j = k) {
			k = (size_t)from[j];
			from[j] = ROWSORT_MOVED;
			if (k == i) {
				rows[j] = r;
				break;
			}
			rows[j] = rows[k];
		}
	}
}

int
rowsort(struct db_row *rows, size_t n, int64_t resolution,
    struct db_row *tmp, uint64_t *order)
{
	int64_t lo[ROWSORT_FIELDS], hi[ROWSORT_FIELDS], v[ROWSORT_FIELDS];
	unsigned bits[ROWSORT_FIELDS], total, ibits, f;
	uint64_t w, mask, *sorted;
	size_t i;

	if (n < 2)
		return 1;
	for (f = 0; f < ROWSORT_FIELDS; f++) {
		lo[f] = INT64_MAX;
		hi[f] = INT64_MIN;
	}
	for (i = 0; i < n; i++) {
		rowsort_key(&rows[i], resolution, v);
		for (f = 0; f < ROWSORT_FIELDS; f++) {
			lo[f] = v[f] < lo[f] ? v[f] : lo[f];
			hi[f] = v[f] > hi[f] ? v[f] : hi[f];
		}
	}
	total = ibits = rowsort_bits(n - 1);
	for (f = 0; f < ROWSORT_FIELDS; f++)
		total += bits[f] = rowsort_bits((uint64_t)hi[f] -
		    (uint64_t)lo[f]);
	if (total > 64 || ibits == 64) {
		rowsort_merge(rows, tmp, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		rowsort_key(&rows[i], resolution, v);
		for (w = 0, f = 0; f < ROWSORT_FIELDS; f++)
			w = (bits[f] > 0 ? w << bits[f] : w) |
			    ((uint64_t)v[f] - (uint64_t)lo[f]);
		order[i] = (ibits > 0 ? w << ibits : w) | i;
	}
	/*
	 * tmp's (n + 1) / 2 rows are 24 bytes a word.  The index's own
	 * bytes need no pass: the words start in index order.
	 */
	sorted = rowsort_radix(order, (uint64_t *)(void *)tmp, n, ibits / 8,
	    total);
	mask = ((uint64_t)1 << ibits) - 1;
	for (i = 0; i < n; i++)
		sorted[i] &= mask;
	rowsort_move(rows, sorted, n);
	return 1;
}
