/*
 * sqlfloor.c - the bare SQLite upsert loop: the floor for store ingest.
 *
 * Opens a fresh database with the store's own schema (stored/schema.c) and
 * pragmas (WAL, synchronous=NORMAL, 16 MiB page cache), then upserts the
 * given numbers of host, port and peer rows with the store's own upsert
 * statements (schema_upsert_*), prepared once, in transactions of the given
 * size.  What it leaves out is exactly what the store adds on top: the
 * socket, msgpack decoding, validation, address interning and the batch
 * bookkeeping, and its sort of each batch into key order.  Keys are
 * distinct; within a bucket they arrive in scattered order, as rows
 * drained from the agent's hash tables do, and buckets advance.  (Sorting
 * them here too was measured: no change, 1.27-1.33 s CPU either way for
 * 514,627 rows, since fresh keys of one bucket fit the page cache; the
 * store's gain from it comes from rows it updates.)  schema_migrate also
 * drops the indexes the store dropped.  Prints "rows seconds".
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "schema.h"


static int	upsert(sqlite3 *, sqlite3_stmt *, uint64_t, uint64_t, int,
		    uint64_t);
static double	now_s(void);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Binds and steps one upsert of row i of n; extra is the port or peer
 * column.  Buckets advance with i, as a capture's time does.
 */
static int
upsert(sqlite3 *db, sqlite3_stmt *st, uint64_t i, uint64_t n, int extra,
    uint64_t batch)
{
	/* A multiplicative permutation scatters the keys over the b-tree. */
	uint64_t h = (i * 2654435761u) & 0xffffffffu;

	if (sqlite3_bind_int64(st, 1, 1700000000 + 60 * (int64_t)(i * 11 / n)) ||
	    sqlite3_bind_int64(st, 2, 60) ||
	    sqlite3_bind_int64(st, 3, 1) ||
	    sqlite3_bind_int64(st, 4, extra ? (int64_t)(h % 1000) + 1 :
	    (int64_t)h + 1) ||
	    sqlite3_bind_int(st, 5, 17) ||
	    sqlite3_bind_int(st, 6, (int)(i & 1)) ||
	    sqlite3_bind_int64(st, 7, 1) ||
	    sqlite3_bind_int64(st, 8, 50) ||
	    sqlite3_bind_int64(st, 9, 64) ||
	    sqlite3_bind_int64(st, 10, (int64_t)batch) ||
	    (extra && sqlite3_bind_int64(st, 11, (int64_t)(h / 1000) + 1)))
		return -1;
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
	sqlite3 *db = NULL;
	sqlite3_stmt *st[3] = { NULL, NULL, NULL };
	const char *errstr;
	uint64_t n[3], per_txn, i, done = 0, batch = 0, rows;
	double t0, t1;
	int k, rc = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: sqlfloor DB HOSTS PORTS PEERS "
		    "ROWS_PER_TRANSACTION\n");
		return 2;
	}
	n[0] = strtoull(argv[2], NULL, 10);
	n[1] = strtoull(argv[3], NULL, 10);
	n[2] = strtoull(argv[4], NULL, 10);
	per_txn = strtoull(argv[5], NULL, 10);
	if (per_txn == 0)
		per_txn = 1;
	rows = n[0] + n[1] + n[2];
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA cache_size = -16384", NULL, NULL, NULL))
		goto fail;
	if (schema_migrate(db, &errstr) == -1) {
		fprintf(stderr, "sqlfloor: schema: %s\n", errstr);
		goto out;
	}
	if (sqlite3_prepare_v3(db, schema_upsert_host, -1, SQLITE_PREPARE_PERSISTENT,
	    &st[0], NULL) || sqlite3_prepare_v3(db, schema_upsert_port, -1,
	    SQLITE_PREPARE_PERSISTENT, &st[1], NULL) ||
	    sqlite3_prepare_v3(db, schema_upsert_peer, -1, SQLITE_PREPARE_PERSISTENT,
	    &st[2], NULL))
		goto fail;

	t0 = now_s();
	while (done < rows) {
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
			goto fail;
		batch++;
		/* Each transaction carries the three kinds in proportion. */
		for (k = 0; k < 3; k++) {
			uint64_t from = n[k] * done / rows;
			uint64_t to = n[k] * (done + per_txn < rows ?
			    done + per_txn : rows) / rows;

			for (i = from; i < to; i++)
				if (upsert(db, st[k], i, n[k], k != 0,
				    batch) == -1)
					goto out;
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL))
			goto fail;
		done = done + per_txn < rows ? done + per_txn : rows;
	}
	t1 = now_s();
	printf("%llu %.6f\n", (unsigned long long)rows, t1 - t0);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "sqlfloor: %s\n", db ? sqlite3_errmsg(db) : "open");
out:
	for (k = 0; k < 3; k++)
		sqlite3_finalize(st[k]);
	sqlite3_close(db);
	return rc;
}
