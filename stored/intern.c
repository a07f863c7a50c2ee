/*
 * intern.c - address -> address.id: a set-associative cache in front of
 * the address table.
 *
 * Address ids are the store's most frequent question: a peer record
 * needs two, a host or port record one.  The cache has INTERN_SETS sets
 * of INTERN_WAYS entries (4 MiB), the newest entry of a set first.  Four
 * ways, because a direct-mapped cache of the same size sent one lookup
 * in five to SQLite on 51,000 addresses: two addresses sharing a slot
 * evicted each other on every record.
 *
 * What the cache does not know is queued and answered per batch, not
 * per record: sorted by key, so each distinct address costs one SELECT
 * (and one INSERT when new) however many records name it, and the
 * address table's key index is walked in order rather than at random.
 *
 * Committed ids never change (address rows are never deleted or
 * renumbered), so a cached id stays true until a rollback, after which
 * intern_forget empties the cache.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"

#define INTERN_SETS	32768		/* a power of two */
#define INTERN_WAYS	4
#define INTERN_KEY	17		/* family byte + up to 16 address bytes */

struct intern_entry {
	uint8_t		 key[INTERN_KEY];
	uint8_t		 len;		/* 0: empty */
	int64_t		 id;
};

/* A question intern_resolve answers: the key, and where the id goes. */
struct intern_want {
	uint8_t		 key[INTERN_KEY];
	uint8_t		 len;
	int64_t		*id;
};

struct intern {
	struct intern_entry *cache;	/* INTERN_SETS * INTERN_WAYS */
	struct intern_want *want;
	size_t		 nwant;
	size_t		 wantcap;
};

static int	intern_key(const struct proto_addr *, uint8_t *, uint8_t *);
static struct intern_entry *intern_set(struct intern *, const uint8_t *,
		    size_t);
static void	intern_put(struct intern *, const uint8_t *, size_t, int64_t);
static int	intern_want_cmp(const void *, const void *);
static int	intern_lookup(sqlite3 *, sqlite3_stmt *, sqlite3_stmt *,
		    const struct intern_want *, int64_t *, sqlite3_stmt **);

struct intern *
intern_new(void)
{
	struct intern *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	if ((in->cache = calloc(INTERN_SETS * INTERN_WAYS,
	    sizeof(*in->cache))) == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

void
intern_free(struct intern *in)
{
	if (in == NULL)
		return;
	free(in->cache);
	free(in->want);
	free(in);
}

void
intern_forget(struct intern *in)
{
	memset(in->cache, 0, INTERN_SETS * INTERN_WAYS * sizeof(*in->cache));
	in->nwant = 0;
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
	in->wantcap = n;
	return 0;
}

/* a's key (family byte, then the address) and its length. */
static int
intern_key(const struct proto_addr *a, uint8_t *key, uint8_t *len)
{
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

/* The first of the INTERN_WAYS entries where key may be. */
static struct intern_entry *
intern_set(struct intern *in, const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return &in->cache[(h & (INTERN_SETS - 1)) * INTERN_WAYS];
}

/* Caches key -> id as the newest of its set; the oldest leaves. */
static void
intern_put(struct intern *in, const uint8_t *key, size_t len, int64_t id)
{
	struct intern_entry *set = intern_set(in, key, len);

	memmove(&set[1], &set[0], (INTERN_WAYS - 1) * sizeof(*set));
	memcpy(set[0].key, key, len);
	set[0].len = (uint8_t)len;
	set[0].id = id;
}

int
intern_id(struct intern *in, const struct proto_addr *a, int64_t *id)
{
	struct intern_entry *set;
	struct intern_want *w;
	uint8_t key[INTERN_KEY], len;
	size_t i;

	if (intern_key(a, key, &len) == -1)
		return -1;
	set = intern_set(in, key, len);
	for (i = 0; i < INTERN_WAYS; i++)
		if (set[i].len == len && memcmp(set[i].key, key, len) == 0) {
			*id = set[i].id;
			return 0;
		}
	w = &in->want[in->nwant++];
	memcpy(w->key, key, len);
	w->len = len;
	w->id = id;
	return 1;
}

/* Key order: by length (so by family), then by the bytes. */
static int
intern_want_cmp(const void *pa, const void *pb)
{
	const struct intern_want *a = pa, *b = pb;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->key, b->key, a->len);
}

/*
 * w's address.id in *id: inserted by add, or, when add finds it there,
 * found by get.  Insert first: an address the cache does not know is
 * mostly a new one (the cache holds the recent ones), and a new one then
 * costs one statement, not a SELECT that finds nothing and an INSERT.
 */
static int
intern_lookup(sqlite3 *db, sqlite3_stmt *get, sqlite3_stmt *add,
    const struct intern_want *w, int64_t *id, sqlite3_stmt **failed)
{
	char text[INET6_ADDRSTRLEN];

	/* The text is for the views; lookups go by the key. */
	if (w->key[0] == PROTO_AF_NONE)
		strcpy(text, "overflow");
	else if (inet_ntop(w->key[0] == PROTO_AF_INET ? AF_INET : AF_INET6,
	    w->key + 1, text, sizeof(text)) == NULL) {
		*failed = NULL;
		return -1;
	}
	if (sqlite3_bind_blob(add, 1, w->key, w->len, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(add, 2, w->key[0]) != SQLITE_OK ||
	    sqlite3_bind_text(add, 3, text, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(add) != SQLITE_DONE) {
		sqlite3_reset(add);
		*failed = add;
		return -1;
	}
	sqlite3_reset(add);
	if (sqlite3_changes(db) == 1) {
		*id = sqlite3_last_insert_rowid(db);
		return 0;
	}
	if (sqlite3_bind_blob(get, 1, w->key, w->len, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_step(get) != SQLITE_ROW) {
		/* Not there after the insert found it: an error. */
		sqlite3_reset(get);
		*failed = get;
		return -1;
	}
	*id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	return 0;
}

int
intern_resolve(struct intern *in, sqlite3 *db, sqlite3_stmt *get,
    sqlite3_stmt *add, sqlite3_stmt **failed)
{
	size_t i, j, n = in->nwant;
	int64_t id;

	in->nwant = 0;
	qsort(in->want, n, sizeof(*in->want), intern_want_cmp);
	for (i = 0; i < n; i = j) {
		if (intern_lookup(db, get, add, &in->want[i], &id,
		    failed) == -1)
			return -1;
		intern_put(in, in->want[i].key, in->want[i].len, id);
		for (j = i; j < n && intern_want_cmp(&in->want[i],
		    &in->want[j]) == 0; j++)
			*in->want[j].id = id;
	}
	return 0;
}
