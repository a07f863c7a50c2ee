/*
 * intern.c - address -> address.id: a set-associative cache in front of
 * the address table.
 *
 * Address ids are the store's most frequent question: a peer record
 * needs two, a host or port record one.  The cache has INTERN_SETS sets
 * of INTERN_WAYS entries (4 MiB), kept in the order they came in, newest
 * first (a hit does not move an entry, so a lookup only reads).  Four
 * ways, because the direct-mapped cache before it (65,536 slots, 2 MiB)
 * missed on 18 % of lookups on the bench's 1-agent ingest, 110,000
 * misses for 64,000 addresses: two addresses sharing a slot evicted each
 * other on every record.  Twice as many sets (8 MiB) bought no speed
 * on the bench's captures, 75,000 and 97,000 addresses (interleaved
 * replays: the same CPU on the 200k-flow capture, 2 % less at most on
 * the 1M-flow one), and cost 3 to 4 MiB of the store's peak RSS, which
 * then passed 64 MiB in some replays.
 *
 * What the cache does not know is queued and answered per batch, not
 * per record: sorted by key, each distinct address once however many
 * records name it.  A miss is mostly a new address, so INTERN_ROWS of
 * them go to one INSERT OR IGNORE with the ids given (the next ones after
 * the table's largest); when it inserted them all, those are their ids,
 * otherwise each is found by its key.  In key order the table's key index
 * is walked in order, not at random.  75,000 new addresses in one
 * transaction: 0.54 us each, against 0.87 with RETURNING id instead of
 * given ids, 1.20 one INSERT each, 1.53 unsorted.  After a restart or a
 * rollback the misses are mostly known addresses instead: once a chunk
 * inserts none, chunks are looked up key by key first (intern_find),
 * until half of one turns out new again.
 *
 * Committed ids never change (address rows are never deleted or
 * renumbered), so a cached id stays true until a rollback, after which
 * intern_forget empties the cache.
 *
 * The cache is read only in blocks a put has written (a bit each): a
 * read of a page never written maps the kernel's shared zero page, and
 * the first write to it then faults again, copies it and flushes the
 * TLB of every CPU the store's threads run on.  On a fresh store those
 * second faults were 3 % of the writer thread's time (perf, the 8-agent
 * ingest).  A block is zeroed at its first put, so forgetting the cache
 * is clearing the bits.
 */

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "addrtext.h"
#include "intern.h"
#include "msort.h"
#include "schema.h"

#define INTERN_SETS	32768		/* a power of two */
#define INTERN_WAYS	4
#define INTERN_BLOCK	32		/* sets a block */
#define INTERN_BLOCKS	(INTERN_SETS / INTERN_BLOCK)
/* A block is a page, the cache page-aligned: no page holds two blocks. */
#define INTERN_BLOCK_BYTES	4096
#define INTERN_KEY	17		/* family byte + up to 16 address bytes */
_Static_assert(INTERN_KEY == 8 + 8 + 1, "intern_want_less's words");
_Static_assert(INTERN_BLOCKS % 64 == 0, "whole words of block bits");
#define INTERN_ROWS	SCHEMA_UPSERT_ROWS	/* addresses per INSERT */
#define ROW_4		"(?,?,?,?)"

static const char sql_get[] =
    "SELECT id FROM address WHERE addr = ?1";
static const char sql_add[] =
    "INSERT INTO address (addr, family, text) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (addr) DO NOTHING";
static const char sql_next[] =
    "SELECT coalesce(max(id), 0) + 1 FROM address";
/* Row j's id, key, family and text are parameters 4j+1 to 4j+4. */
static const char sql_add_rows[] =
    "INSERT OR IGNORE INTO address (id, addr, family, text) VALUES "
    SCHEMA_ROWS(ROW_4);

struct intern_entry {
	uint8_t		 key[INTERN_KEY];
	uint8_t		 len;		/* 0: empty; a key's length tells
					   an overflow key (all zero) from
					   an empty entry's */
	int64_t		 id;
};
_Static_assert(INTERN_BLOCK * INTERN_WAYS * sizeof(struct intern_entry) ==
    INTERN_BLOCK_BYTES, "a block of sets is a page");

/*
 * A question intern_resolve answers: the key, and where the id goes (the
 * first question of a run of one key holds the answer for the run).
 */
struct intern_want {
	uint8_t		 key[INTERN_KEY];
	uint8_t		 len;
	int64_t		*id;
};

struct intern {
	sqlite3		*db;
	sqlite3_stmt	*get;		/* sql_get */
	sqlite3_stmt	*add;		/* sql_add */
	sqlite3_stmt	*add_rows;	/* sql_add_rows */
	sqlite3_stmt	*next;		/* sql_next */
	int64_t		 next_id;	/* the next free id, if next_known */
	int		 next_known;
	int		 known_first;	/* misses are mostly known addresses */
	struct intern_entry *cache;	/* INTERN_SETS * INTERN_WAYS */
	uint64_t	 written[INTERN_BLOCKS / 64];	/* a bit a block */
	struct intern_want *want;
	struct intern_want *want_tmp;	/* half as many, for the sort */
	size_t		 nwant;
	int		 sorted;	/* want[] is in key order already */
	size_t		 wantcap;
};

static int	intern_key(const struct proto_addr *, uint8_t *, uint8_t *);
static size_t	intern_set(const uint8_t *, size_t);
static int	intern_written(const struct intern *, size_t);
static void	intern_put(struct intern *, const uint8_t *, size_t, int64_t);
static int	intern_want_less(const struct intern_want *,
		    const struct intern_want *);
static int	intern_same(const struct intern_want *,
		    const struct intern_want *);
static void	intern_want_sort(struct intern_want *, struct intern_want *,
		    size_t);
static int	intern_find(struct intern *, const struct intern_want *,
		    sqlite3_stmt **);
static int	intern_add(struct intern *, const struct intern_want *,
		    sqlite3_stmt **, const char **);
static int	intern_rows(struct intern *, const size_t *, size_t,
		    sqlite3_stmt **, const char **);
static int	intern_chunk(struct intern *, const size_t *, size_t,
		    sqlite3_stmt **, const char **);

struct intern *
intern_new(sqlite3 *db, const char **errstr)
{
	struct intern *in;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->cache = aligned_alloc(INTERN_BLOCK_BYTES, INTERN_SETS *
	    INTERN_WAYS * sizeof(*in->cache))) == NULL) {
		free(in);
		*errstr = "out of memory";
		return NULL;
	}
	in->db = db;
	in->known_first = 1;	/* the table may hold addresses already */
	if (sqlite3_prepare_v3(db, sql_get, -1, SQLITE_PREPARE_PERSISTENT,
	    &in->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, sql_add, -1, SQLITE_PREPARE_PERSISTENT,
	    &in->add, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, sql_add_rows, -1,
	    SQLITE_PREPARE_PERSISTENT, &in->add_rows, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, sql_next, -1, SQLITE_PREPARE_PERSISTENT,
	    &in->next, NULL) != SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		intern_free(in);
		return NULL;
	}
	if (sqlite3_bind_parameter_count(in->add_rows) != 4 * INTERN_ROWS) {
		*errstr = "the multi-row address insert does not hold "
		    "INTERN_ROWS rows";
		intern_free(in);
		return NULL;
	}
	return in;
}

void
intern_free(struct intern *in)
{
	if (in == NULL)
		return;
	sqlite3_finalize(in->get);
	sqlite3_finalize(in->add);
	sqlite3_finalize(in->add_rows);
	sqlite3_finalize(in->next);
	free(in->cache);
	free(in->want);
	free(in->want_tmp);
	free(in);
}

void
intern_forget(struct intern *in)
{
	memset(in->written, 0, sizeof(in->written));
	in->nwant = 0;
	in->sorted = 0;
	in->next_known = 0;
	in->known_first = 1;	/* what the cache held is in the table */
}

int
intern_reserve(struct intern *in, size_t n)
{
	struct intern_want *p;

	if (n <= in->wantcap)
		return 0;
	if ((p = reallocarray(in->want, n, sizeof(*p))) == NULL)
		return -1;
	in->want = p;
	if ((p = reallocarray(in->want_tmp, (n + 1) / 2, sizeof(*p))) ==
	    NULL)
		return -1;
	in->want_tmp = p;
	in->wantcap = n;
	return 0;
}

/*
 * a's key (family byte, then the address, zero to INTERN_KEY bytes) and
 * its length.
 */
static int
intern_key(const struct proto_addr *a, uint8_t *key, uint8_t *len)
{
	memset(key, 0, INTERN_KEY);
	key[0] = a->family;
	switch (a->family) {
	case PROTO_AF_INET:
		memcpy(key + 1, a->a, 4);
		*len = 5;
		return 0;
	case PROTO_AF_INET6:
		memcpy(key + 1, a->a, 16);
		*len = 17;
		return 0;
	case PROTO_AF_NONE:
		*len = 1;
		return 0;
	default:
		return -1;
	}
}

/* Bytes p[0..7] as a number, p[0] the most significant. */
static inline uint64_t
intern_word(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* Whether two zero-padded keys are the same: two words and a byte. */
static inline int
intern_key_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, sizeof(a0));
	memcpy(&a1, a + 8, sizeof(a1));
	memcpy(&b0, b, sizeof(b0));
	memcpy(&b1, b + 8, sizeof(b1));
	return ((a0 ^ b0) | (a1 ^ b1) | (uint64_t)(a[16] ^ b[16])) == 0;
}

/* The set where key may be. */
static size_t
intern_set(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h & (INTERN_SETS - 1);
}

/* Whether set s's block has been written since the cache was emptied. */
static int
intern_written(const struct intern *in, size_t s)
{
	size_t b = s / INTERN_BLOCK;

	return (int)(in->written[b / 64] >> (b % 64) & 1);
}

/*
 * Caches key (zero-padded) -> id as the newest of its set; the oldest
 * leaves.
 */
static void
intern_put(struct intern *in, const uint8_t *key, size_t len, int64_t id)
{
	size_t s = intern_set(key, len), b = s / INTERN_BLOCK;
	struct intern_entry *set = &in->cache[s * INTERN_WAYS];

	if (!intern_written(in, s)) {
		memset(&in->cache[b * INTERN_BLOCK * INTERN_WAYS], 0,
		    INTERN_BLOCK * INTERN_WAYS * sizeof(*set));
		in->written[b / 64] |= (uint64_t)1 << (b % 64);
	}
	memmove(&set[1], &set[0], (INTERN_WAYS - 1) * sizeof(*set));
	memcpy(set[0].key, key, INTERN_KEY);
	set[0].len = (uint8_t)len;
	set[0].id = id;
}

int
intern_id(struct intern *in, const struct proto_addr *a, int64_t *id)
{
	struct intern_entry *set;
	struct intern_want *w;
	uint8_t key[INTERN_KEY], len;
	size_t s, i;

	if (intern_key(a, key, &len) == -1)
		return -1;
	s = intern_set(key, len);
	set = &in->cache[s * INTERN_WAYS];
	if (intern_written(in, s))
		for (i = 0; i < INTERN_WAYS; i++)
			if (set[i].len == len &&
			    intern_key_eq(set[i].key, key)) {
				*id = set[i].id;
				return 0;
			}
	/* The caller reserved room for every question; never write past. */
	if (in->nwant >= in->wantcap)
		return -2;
	in->sorted = 0;
	w = &in->want[in->nwant++];
	memcpy(w->key, key, INTERN_KEY);
	w->len = len;
	w->id = id;
	return 1;
}

/*
 * Key order, the address index's (a blob's bytes; the family byte first
 * decides the length): the zero-padded keys compared a word at a time,
 * not by memcmp, a call for 5 bytes and half of this sort's time.
 */
static inline int
intern_want_less(const struct intern_want *a, const struct intern_want *b)
{
	uint64_t x = intern_word(a->key), y = intern_word(b->key);

	if (x != y)
		return x < y;
	x = intern_word(a->key + 8);
	y = intern_word(b->key + 8);
	if (x != y)
		return x < y;
	return a->key[16] < b->key[16];
}

static inline int
intern_same(const struct intern_want *a, const struct intern_want *b)
{
	return intern_key_eq(a->key, b->key);
}

MSORT_DEFINE(intern_want_sort, struct intern_want, intern_want_less)

/*
 * Finds w's address in the table: 1 with the id in *w->id, 0 when it is
 * not there, -1 on error.
 */
static int
intern_find(struct intern *in, const struct intern_want *w,
    sqlite3_stmt **failed)
{
	sqlite3_stmt *st = in->get;
	int rc;

	if (sqlite3_bind_blob(st, 1, w->key, w->len, SQLITE_STATIC) !=
	    SQLITE_OK) {
		*failed = st;
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*w->id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*failed = st;
		return -1;
	}
	return rc == SQLITE_ROW;
}

/*
 * w's address into *w->id: inserted with an id SQLite picks, or, when
 * the insert finds it there, found.
 */
static int
intern_add(struct intern *in, const struct intern_want *w,
    sqlite3_stmt **failed, const char **why)
{
	char text[ADDRTEXT_MAX];
	sqlite3_stmt *st = in->add;
	int rc;

	if (addrtext(w->key[0], w->key + 1, text, sizeof(text)) == -1) {
		*failed = NULL;
		*why = "an address of no family addrtext knows";
		return -1;
	}
	if (sqlite3_bind_blob(st, 1, w->key, w->len, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(st, 2, w->key[0]) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		*failed = st;
		return -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);	/* text is on this stack */
	if (sqlite3_changes(in->db) == 1) {
		*w->id = sqlite3_last_insert_rowid(in->db);
		in->next_known = 0;
		return 0;
	}
	if ((rc = intern_find(in, w, failed)) == 1)
		return 0;
	if (rc == 0) {
		*failed = NULL;
		*why = "an address the table both had and had not";
	}
	return -1;
}

/*
 * The INTERN_ROWS wants numbered in rep[], distinct and in key order:
 * one multi-row INSERT OR IGNORE giving them the next free ids.  Returns
 * 1 when it inserted them all (their ids set), 0 when not (none set), -1
 * on error.
 */
static int
intern_rows(struct intern *in, const size_t *rep, size_t nrep,
    sqlite3_stmt **failed, const char **why)
{
	char text[INTERN_ROWS][ADDRTEXT_MAX];
	const struct intern_want *w;
	sqlite3_stmt *st;
	size_t j;
	int p, n;

	if (!in->next_known) {
		st = in->next;
		if (sqlite3_step(st) != SQLITE_ROW)
			goto fail;
		in->next_id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		in->next_known = 1;
	}
	/* Ids near the end of int64 (another writer's): SQLite picks. */
	if (in->next_id < 1 || in->next_id > INT64_MAX - INTERN_ROWS)
		return 0;
	st = in->add_rows;
	for (j = 0; j < nrep; j++) {
		w = &in->want[rep[j]];
		if (addrtext(w->key[0], w->key + 1, text[j],
		    sizeof(text[j])) == -1) {
			*failed = NULL;
			*why = "an address of no family addrtext knows";
			return -1;
		}
		p = 4 * (int)j;
		if (sqlite3_bind_int64(st, p + 1, in->next_id + (int64_t)j) !=
		    SQLITE_OK ||
		    sqlite3_bind_blob(st, p + 2, w->key, w->len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int(st, p + 3, w->key[0]) != SQLITE_OK ||
		    sqlite3_bind_text(st, p + 4, text[j], -1, SQLITE_STATIC) !=
		    SQLITE_OK)
			goto fail;
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);	/* text is on this stack */
	n = sqlite3_changes(in->db);
	if (n == (int)nrep) {
		for (j = 0; j < nrep; j++)
			*in->want[rep[j]].id = in->next_id + (int64_t)j;
		in->next_id += (int64_t)nrep;
		return 1;
	}
	in->next_known = 0;
	if (n == 0)
		in->known_first = 1;
	return 0;
fail:
	sqlite3_reset(st);
	*failed = st;
	return -1;
}

/*
 * The wants numbered in rep[] (nrep, distinct, in key order) into their
 * *id: INTERN_ROWS at once when they are likely new, else each found by
 * its key (with the id intern_rows gave it, or the one it had) and added
 * when absent.
 */
static int
intern_chunk(struct intern *in, const size_t *rep, size_t nrep,
    sqlite3_stmt **failed, const char **why)
{
	size_t j, nfound = 0;
	int rc;

	if (nrep == INTERN_ROWS && !in->known_first) {
		if ((rc = intern_rows(in, rep, nrep, failed, why)) != 0)
			return rc == 1 ? 0 : -1;
	}
	for (j = 0; j < nrep; j++) {
		if ((rc = intern_find(in, &in->want[rep[j]], failed)) == -1)
			return -1;
		if (rc == 1)
			nfound++;
		else if (intern_add(in, &in->want[rep[j]], failed, why) == -1)
			return -1;
	}
	if (nrep == INTERN_ROWS && nfound < nrep / 2)
		in->known_first = 0;
	return 0;
}

size_t
intern_sort(struct intern *in)
{
	if (in->nwant > 0 && !in->sorted)
		intern_want_sort(in->want, in->want_tmp, in->nwant);
	in->sorted = 1;
	return in->nwant;
}

int
intern_resolve(struct intern *in, sqlite3_stmt **failed, const char **why)
{
	size_t rep[INTERN_ROWS];
	size_t i, j, k, nrep, n = in->nwant;

	in->nwant = 0;
	if (n == 0)
		return 0;
	if (!in->sorted)
		intern_want_sort(in->want, in->want_tmp, n);
	in->sorted = 0;
	/* The first want of each run of one key stands for the run. */
	for (i = 0; i < n; ) {
		for (nrep = 0; i < n && nrep < INTERN_ROWS; nrep++) {
			rep[nrep] = i;
			for (i++; i < n && intern_same(&in->want[i],
			    &in->want[rep[nrep]]); i++)
				;
		}
		if (intern_chunk(in, rep, nrep, failed, why) == -1)
			return -1;
		for (k = 0; k < nrep; k++) {
			const struct intern_want *r = &in->want[rep[k]];

			intern_put(in, r->key, r->len, *r->id);
			for (j = rep[k] + 1; j < n &&
			    intern_same(&in->want[j], r); j++)
				*in->want[j].id = *r->id;
		}
	}
	return 0;
}
