/*
 * sqlfloor.c - the bare SQLite upsert loop: the floor for store ingest.
 *
 * Opens a fresh database as the store does (no mutexes) with its own
 * schema (stored/schema.c) and pragmas (its page size, auto_vacuum
 * INCREMENTAL, WAL, synchronous=NORMAL, 16 MiB page cache,
 * temp_store=MEMORY), then upserts the given numbers of host, port and
 * peer rows in transactions of the given size, at the SQL level exactly as
 * the store's writer (stored/db.c) does: the store's own statements,
 * prepared once; each kind's rows of a transaction sorted into primary key
 * order; each bucket of them listed in stat_bucket (schema_bucket_add);
 * SCHEMA_UPSERT_ROWS rows a step (schema_upsert_*_rows) while that many
 * are left, then one by one (schema_upsert_*).  What it leaves out is
 * exactly what the store adds on top: the socket, msgpack decoding,
 * validation, address interning and the batch bookkeeping.  Keys are
 * generated in scattered order, as rows drained from the agent's hash
 * tables are, and buckets advance.  UPDATES (optional) is how many of the
 * store's records updated a row rather than inserting one (an agent
 * flushes a bucket more than once): the floor then sends that many again
 * of the keys it inserted just before each transaction, so it does the
 * same number of inserts and of updates as the store did.  (The sort
 * matters since the multi-row statements: a statement keeps each page it
 * changes in a statement journal, and 64 scattered rows change 64
 * pages.)
 * schema_migrate also drops the indexes the store dropped.  Prints "rows
 * seconds".
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "schema.h"

/* One row's key; the other columns are constants. */
struct frow {
	int64_t		 bucket;
	int64_t		 host;
	int64_t		 extra;		/* port or peer_id; 0 for hosts */
	int		 dir;
};

static void	make_row(struct frow *, uint64_t, uint64_t, int);
static int	frow_cmp(const void *, const void *);
static int	bind_row(sqlite3_stmt *, int, const struct frow *, int,
		    uint64_t);
static int	step(sqlite3 *, sqlite3_stmt *);
static double	now_s(void);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Row i of n; extra says whether it has a port or peer column.  Buckets
 * advance with i, as a capture's time does.
 */
static void
make_row(struct frow *r, uint64_t i, uint64_t n, int extra)
{
	/* A multiplicative permutation scatters the keys over the b-tree. */
	uint64_t h = (i * 2654435761u) & 0xffffffffu;

	r->bucket = 1700000000 + 60 * (int64_t)(i * 11 / n);
	r->host = extra ? (int64_t)(h % 1000) + 1 : (int64_t)h + 1;
	r->extra = extra ? (int64_t)(h / 1000) + 1 : 0;
	r->dir = (int)(i & 1);
}

/*
 * Primary key order of all three tables for these rows: iface, proto and
 * resolution are the same in every row, so (bucket, host, extra, dir).
 */
static int
frow_cmp(const void *pa, const void *pb)
{
	const struct frow *a = pa, *b = pb;

	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	if (a->extra != b->extra)
		return a->extra < b->extra ? -1 : 1;
	return a->dir - b->dir;
}

/*
 * Binds r to st, its parameters from number first on (the single-row
 * statement's ?1 is first).
 */
static int
bind_row(sqlite3_stmt *st, int first, const struct frow *r, int extra,
    uint64_t batch)
{
	if (sqlite3_bind_int64(st, first, r->bucket) ||
	    sqlite3_bind_int64(st, first + 1, 60) ||
	    sqlite3_bind_int64(st, first + 2, 1) ||
	    sqlite3_bind_int64(st, first + 3, r->host) ||
	    sqlite3_bind_int(st, first + 4, 17) ||
	    sqlite3_bind_int(st, first + 5, r->dir) ||
	    sqlite3_bind_int64(st, first + 6, 1) ||
	    sqlite3_bind_int64(st, first + 7, 50) ||
	    sqlite3_bind_int64(st, first + 8, 64) ||
	    sqlite3_bind_int64(st, first + 9, (int64_t)batch) ||
	    (extra && sqlite3_bind_int64(st, first + 10, r->extra)))
		return -1;
	return 0;
}

/* Steps st, which returns no row, then resets it. */
static int
step(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "sqlfloor: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const one[3] = { schema_upsert_host,
	    schema_upsert_port, schema_upsert_peer };
	static const char *const many[3] = { schema_upsert_host_rows,
	    schema_upsert_port_rows, schema_upsert_peer_rows };
	sqlite3 *db = NULL;
	sqlite3_stmt *st[3] = { NULL, NULL, NULL };
	sqlite3_stmt *stm[3] = { NULL, NULL, NULL };
	sqlite3_stmt *sb = NULL;
	struct frow *rows = NULL;
	const char *errstr;
	uint64_t n[3], per_txn, i, j, m, u, done = 0, batch = 0, nrows;
	uint64_t updates = 0, nupd = 0, owed[3] = { 0, 0, 0 };
	double t0, t1;
	int k, ncol, rc = 1, code;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: sqlfloor DB HOSTS PORTS PEERS "
		    "ROWS_PER_TRANSACTION [UPDATES]\n");
		return 2;
	}
	if (argc == 7)
		updates = strtoull(argv[6], NULL, 10);
	n[0] = strtoull(argv[2], NULL, 10);
	n[1] = strtoull(argv[3], NULL, 10);
	n[2] = strtoull(argv[4], NULL, 10);
	per_txn = strtoull(argv[5], NULL, 10);
	if (per_txn == 0)
		per_txn = 1;
	nrows = n[0] + n[1] + n[2];
	/*
	 * A transaction holds at most per_txn new rows of one kind, and its
	 * share of the updates: the same number again at the most.
	 */
	if ((rows = calloc(2 * per_txn + 1, sizeof(*rows))) == NULL) {
		fprintf(stderr, "sqlfloor: out of memory\n");
		return 1;
	}
	/* The store's connection: no mutexes, auto_vacuum after the page size. */
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, schema_page_size, NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL,
	    NULL) ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA cache_size = -16384", NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL))
		goto fail;
	if (schema_migrate(db, &code, &errstr) == -1) {
		fprintf(stderr, "sqlfloor: schema: %s\n", errstr);
		goto out;
	}
	for (k = 0; k < 3; k++)
		if (sqlite3_prepare_v3(db, one[k], -1,
		    SQLITE_PREPARE_PERSISTENT, &st[k], NULL) ||
		    sqlite3_prepare_v3(db, many[k], -1,
		    SQLITE_PREPARE_PERSISTENT, &stm[k], NULL))
			goto fail;
	if (sqlite3_prepare_v3(db, schema_bucket_add, -1,
	    SQLITE_PREPARE_PERSISTENT, &sb, NULL))
		goto fail;

	t0 = now_s();
	while (done < nrows) {
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
			goto fail;
		batch++;
		/* Each transaction carries the three kinds in proportion. */
		for (k = 0; k < 3; k++) {
			uint64_t from = n[k] * done / nrows;
			uint64_t to = n[k] * (done + per_txn < nrows ?
			    done + per_txn : nrows) / nrows;

			m = to - from;
			for (i = 0; i < m; i++)
				make_row(&rows[i], from + i, n[k], k != 0);
			/*
			 * Updates: the keys inserted just before this
			 * transaction come again, as the store's records of
			 * a bucket flushed once more do.
			 */
			owed[k] += updates * m / nrows;
			u = owed[k] < from ? owed[k] : from;
			if (u > per_txn)
				u = per_txn;
			owed[k] -= u;
			for (i = 0; i < u; i++)
				make_row(&rows[m + i], from - u + i, n[k],
				    k != 0);
			m += u;
			nupd += u;
			qsort(rows, m, sizeof(*rows), frow_cmp);
			for (i = 0; i < m; i++) {
				if (i > 0 && rows[i].bucket == rows[i - 1].bucket)
					continue;
				if (sqlite3_bind_int(sb, 1, k + 1) ||
				    sqlite3_bind_int64(sb, 2, 60) ||
				    sqlite3_bind_int64(sb, 3, rows[i].bucket))
					goto fail;
				if (step(db, sb) == -1)
					goto out;
			}
			ncol = k == 0 ? 10 : 11;
			for (i = 0; m - i >= SCHEMA_UPSERT_ROWS;
			    i += SCHEMA_UPSERT_ROWS) {
				for (j = 0; j < SCHEMA_UPSERT_ROWS; j++)
					if (bind_row(stm[k], (int)j * ncol + 1,
					    &rows[i + j], k != 0, batch) == -1)
						goto fail;
				if (step(db, stm[k]) == -1)
					goto out;
			}
			for (; i < m; i++) {
				if (bind_row(st[k], 1, &rows[i], k != 0,
				    batch) == -1)
					goto fail;
				if (step(db, st[k]) == -1)
					goto out;
			}
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL))
			goto fail;
		done = done + per_txn < nrows ? done + per_txn : nrows;
	}
	t1 = now_s();
	printf("%llu %.6f\n", (unsigned long long)(nrows + nupd), t1 - t0);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "sqlfloor: %s\n", db ? sqlite3_errmsg(db) : "open");
out:
	for (k = 0; k < 3; k++) {
		sqlite3_finalize(st[k]);
		sqlite3_finalize(stm[k]);
	}
	sqlite3_finalize(sb);
	sqlite3_close(db);
	free(rows);
	return rc;
}
