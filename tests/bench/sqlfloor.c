/*
 * sqlfloor.c - the bare SQLite upsert loop: the floor for store ingest.
 *
 * Reads the host, port and peer rows a store wrote (STORE_DB, opened read
 * only) and upserts exactly those rows, key for key and counter for
 * counter, into a fresh database opened as the store opens its own (no
 * mutexes) with its schema (stored/schema.c) and pragmas (its page size,
 * auto_vacuum INCREMENTAL, WAL, synchronous=NORMAL, 16 MiB page cache,
 * temp_store=MEMORY), in transactions of the given size, at the SQL level
 * as the store's writer (stored/db.c) does: the store's own statements,
 * prepared once; each kind's rows of a transaction sorted into primary key
 * order; each bucket of them listed in stat_bucket (schema_bucket_add);
 * SCHEMA_UPSERT_ROWS rows a step (schema_upsert_*_rows) while that many
 * are left, then one by one (schema_upsert_*).  What it leaves out is
 * exactly what the store adds on top: the socket, msgpack decoding,
 * validation, address interning and the batch bookkeeping.
 *
 * The rows come in the order the store committed them (by the batch that
 * last changed each), so the floor's b-tree sees the store's keys: how
 * many agents' interfaces and buckets they spread over decides where in
 * the tree each insert lands, and synthetic keys (one interface, buckets
 * advancing) made a floor up to 1.6x faster than the same SQL over the
 * store's own keys (docs/performance-history.md).  The sort matters since
 * the multi-row statements: a statement keeps each page it changes in a
 * statement journal, and 64 scattered rows change 64 pages.
 *
 * UPDATES (optional) is how many of the store's records updated a row
 * rather than inserting one (an agent flushes a bucket more than once):
 * the floor then sends that many again of the rows it inserted just before
 * each transaction, so it does as many inserts and as many updates as the
 * store did.  schema_migrate also drops the indexes the store dropped.
 * Prints "records seconds".
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"

/* A row's columns, in the single-row statement's parameter order. */
enum {
	C_BUCKET, C_RES, C_IFACE, C_HOST, C_PROTO, C_DIR, C_PACKETS, C_BYTES,
	C_FRAME_BYTES, C_BATCH, C_EXTRA,	/* port or peer_id; hosts none */
	C_N
};

struct frow {
	int64_t		 col[C_N];
};

/* Each table's primary key, as columns above, in its declared order. */
static const int host_key[] = { C_BUCKET, C_IFACE, C_HOST, C_PROTO, C_DIR,
	C_RES, -1 };
static const int port_key[] = { C_BUCKET, C_IFACE, C_HOST, C_PROTO,
	C_EXTRA, C_DIR, C_RES, -1 };
static const int peer_key[] = { C_BUCKET, C_IFACE, C_HOST, C_EXTRA,
	C_PROTO, C_DIR, C_RES, -1 };

/* The store's rows of one kind, loaded before the clock starts. */
struct kind {
	const char	*select;	/* from the store's database */
	const char	*one;		/* the store's upserts */
	const char	*many;
	int		 (*cmp)(const void *, const void *);
	int		 ncol;		/* parameters a row */
	struct frow	*rows;
	uint64_t	 n;
	sqlite3_stmt	*st;
	sqlite3_stmt	*stm;
};

static int	key_cmp(const struct frow *, const struct frow *,
		    const int *);
static int	host_cmp(const void *, const void *);
static int	port_cmp(const void *, const void *);
static int	peer_cmp(const void *, const void *);
static int	load(sqlite3 *, struct kind *);
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

static int
key_cmp(const struct frow *a, const struct frow *b, const int *key)
{
	for (; *key >= 0; key++)
		if (a->col[*key] != b->col[*key])
			return a->col[*key] < b->col[*key] ? -1 : 1;
	return 0;
}

static int
host_cmp(const void *a, const void *b)
{
	return key_cmp(a, b, host_key);
}

static int
port_cmp(const void *a, const void *b)
{
	return key_cmp(a, b, port_key);
}

static int
peer_cmp(const void *a, const void *b)
{
	return key_cmp(a, b, peer_key);
}

/* Reads k's rows from the store's database into k->rows. */
static int
load(sqlite3 *src, struct kind *k)
{
	sqlite3_stmt *st;
	uint64_t cap = 0;
	int rc, c;

	if (sqlite3_prepare_v2(src, k->select, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k->n == cap) {
			struct frow *r;

			cap = cap ? 2 * cap : 65536;
			if ((r = realloc(k->rows, cap * sizeof(*r))) == NULL) {
				sqlite3_finalize(st);
				return -1;
			}
			k->rows = r;
		}
		for (c = 0; c < C_N; c++)
			k->rows[k->n].col[c] = sqlite3_column_int64(st, c);
		k->n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Binds r to st, its parameters from number first on (the single-row
 * statement's ?1 is first); batch is the floor's transaction.
 */
static int
bind_row(sqlite3_stmt *st, int first, const struct frow *r, int ncol,
    uint64_t batch)
{
	int c;

	for (c = 0; c < ncol; c++)
		if (sqlite3_bind_int64(st, first + c, c == C_BATCH ?
		    (int64_t)batch : r->col[c]) != SQLITE_OK)
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

#define COLS	"bucket, resolution, iface_id, host_id, proto, direction," \
		" packets, bytes, frame_bytes, batch_id"

int
main(int argc, char **argv)
{
	struct kind kinds[3] = {
		{ "SELECT " COLS ", 0 FROM host_stat ORDER BY batch_id",
		    schema_upsert_host, schema_upsert_host_rows, host_cmp, 10,
		    NULL, 0, NULL, NULL },
		{ "SELECT " COLS ", port FROM port_stat ORDER BY batch_id",
		    schema_upsert_port, schema_upsert_port_rows, port_cmp, 11,
		    NULL, 0, NULL, NULL },
		{ "SELECT " COLS ", peer_id FROM peer_stat ORDER BY batch_id",
		    schema_upsert_peer, schema_upsert_peer_rows, peer_cmp, 11,
		    NULL, 0, NULL, NULL },
	};
	sqlite3 *db = NULL, *src = NULL;
	sqlite3_stmt *sb = NULL;
	struct frow *rows = NULL;
	struct kind *kd;
	const char *errstr;
	uint64_t per_txn, i, j, m, u, done = 0, batch = 0, nrows;
	uint64_t updates = 0, nupd = 0, owed[3] = { 0, 0, 0 };
	double t0, t1;
	int k, rc = 1, code;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: sqlfloor FLOOR_DB STORE_DB "
		    "ROWS_PER_TRANSACTION [UPDATES]\n");
		return 2;
	}
	per_txn = strtoull(argv[3], NULL, 10);
	if (per_txn == 0)
		per_txn = 1;
	if (argc == 5)
		updates = strtoull(argv[4], NULL, 10);
	if (sqlite3_open_v2(argv[2], &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "sqlfloor: %s: %s\n", argv[2],
		    src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	for (k = 0; k < 3; k++)
		if (load(src, &kinds[k]) == -1) {
			fprintf(stderr, "sqlfloor: %s: %s\n", argv[2],
			    sqlite3_errmsg(src));
			goto out;
		}
	nrows = kinds[0].n + kinds[1].n + kinds[2].n;
	/*
	 * A transaction holds at most per_txn rows of one kind, and its
	 * share of the updates: the same number again at the most.
	 */
	if ((rows = calloc(2 * per_txn + 1, sizeof(*rows))) == NULL) {
		fprintf(stderr, "sqlfloor: out of memory\n");
		goto out;
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
		if (sqlite3_prepare_v3(db, kinds[k].one, -1,
		    SQLITE_PREPARE_PERSISTENT, &kinds[k].st, NULL) ||
		    sqlite3_prepare_v3(db, kinds[k].many, -1,
		    SQLITE_PREPARE_PERSISTENT, &kinds[k].stm, NULL))
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
			uint64_t from, to;

			kd = &kinds[k];
			from = kd->n * done / nrows;
			to = kd->n * (done + per_txn < nrows ?
			    done + per_txn : nrows) / nrows;
			m = to - from;
			memcpy(rows, kd->rows + from, m * sizeof(*rows));
			/*
			 * Updates: the rows inserted just before this
			 * transaction come again, as the store's records of
			 * a bucket flushed once more do.
			 */
			owed[k] += updates * m / nrows;
			u = owed[k] < from ? owed[k] : from;
			if (u > per_txn)
				u = per_txn;
			owed[k] -= u;
			memcpy(rows + m, kd->rows + from - u, u * sizeof(*rows));
			m += u;
			nupd += u;
			qsort(rows, m, sizeof(*rows), kd->cmp);
			for (i = 0; i < m; i++) {
				if (i > 0 && rows[i].col[C_BUCKET] ==
				    rows[i - 1].col[C_BUCKET] &&
				    rows[i].col[C_RES] == rows[i - 1].col[C_RES])
					continue;
				if (sqlite3_bind_int(sb, 1, k + 1) ||
				    sqlite3_bind_int64(sb, 2, rows[i].col[C_RES]) ||
				    sqlite3_bind_int64(sb, 3,
				    rows[i].col[C_BUCKET]))
					goto fail;
				if (step(db, sb) == -1)
					goto out;
			}
			for (i = 0; m - i >= SCHEMA_UPSERT_ROWS;
			    i += SCHEMA_UPSERT_ROWS) {
				for (j = 0; j < SCHEMA_UPSERT_ROWS; j++)
					if (bind_row(kd->stm,
					    (int)j * kd->ncol + 1, &rows[i + j],
					    kd->ncol, batch) == -1)
						goto fail;
				if (step(db, kd->stm) == -1)
					goto out;
			}
			for (; i < m; i++) {
				if (bind_row(kd->st, 1, &rows[i], kd->ncol,
				    batch) == -1)
					goto fail;
				if (step(db, kd->st) == -1)
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
	fprintf(stderr, "sqlfloor: %s\n", db ? sqlite3_errmsg(db) :
	    "out of memory");
out:
	for (k = 0; k < 3; k++) {
		sqlite3_finalize(kinds[k].st);
		sqlite3_finalize(kinds[k].stm);
		free(kinds[k].rows);
	}
	sqlite3_finalize(sb);
	sqlite3_close(db);
	sqlite3_close(src);
	free(rows);
	return rc;
}
