/*
 * rowsort.h - a batch's host, port or peer rows in the primary key order
 * of their table, the order the writer upserts them in (db.c).
 */
#ifndef NETTALLY_ROWSORT_H
#define NETTALLY_ROWSORT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * One host, port or peer record of a batch, ids resolved, for sorting:
 * (bucket, iface, host, mid, low) is the primary key order of its table
 * (whose resolution, last, is the same in every row of a batch).
 */
struct db_row {
	int64_t		 bucket;	/* a multiple of the resolution */
	int64_t		 iface;		/* iface.id */
	int64_t		 host;		/* address.id */
	int64_t		 mid;		/* hosts, ports: proto; peers: the
					   peer's address.id */
	int64_t		 low;		/* hosts: dir; ports: port << 1 | dir;
					   peers: proto << 1 | dir */
	const struct proto_count *c;	/* the record's counters */
};

/*
 * Sorts rows[0..n) by (bucket, iface, host, mid, low); resolution > 0
 * divides every bucket.  tmp is room for (n + 1) / 2 rows, order for n
 * words.  Returns 1 when the keys packed into words and were radix
 * sorted, 0 when they were too wide and merge sorted (the same order:
 * rows with equal keys keep theirs in both).
 */
int	rowsort(struct db_row *rows, size_t n, int64_t resolution,
	    struct db_row *tmp, uint64_t *order);

#endif
