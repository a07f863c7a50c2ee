/*
 * flowtab.c - fixed-capacity hash tables for per-packet counting.
 *
 * A table is two arrays.  Entries (key, then counters) are appended in
 * insertion order, so the keys of one flush sit together in as few cache
 * lines and pages as they need, the sender walks them in order, and
 * memory that a quiet link never needed is never made resident.  Above
 * them an index of 8-byte slots (hash tag, entry number), linear probing,
 * capacity a power of two at least twice the key cap, so probes stay
 * short even when full and a probe reads an entry only when its tag
 * matches.  The index is the only part reached at random, and at 8 bytes
 * a slot it is 7 to 11 times smaller than the entries: with the default
 * caps a tabset's index is 1.7 MiB where slots holding the whole entry
 * took 20 MiB, and the entries of a few hundred hot keys fill a few
 * pages wherever their hashes land.  Keys past max go to overflow rows;
 * overflow rows themselves are admitted up to `hard` (7/8 of capacity).
 * where[] remembers the index slot of each entry, so a reset clears only
 * what was used.
 *
 * The index is allocated at its full capacity but used from FT_CAP_START
 * slots up, doubling (every entry placed again) whenever it would pass
 * half full, so a table holds its keys in as many slots as they need: the
 * 256 hosts of a small site probe 4 KiB instead of 128 KiB, which stays
 * in the cache and the TLB, and a short replay does not fault in pages of
 * slots it never needed.  It keeps its size across resets: the next
 * interval has about as many keys.
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#include "flowtab.h"

#define FT_EMPTY_ALL	8	/* reset clears the whole index past cap/8 */
#define FT_CAP_START	16	/* index slots in use at first */
#define FT_NONE		UINT32_MAX	/* no entry */

/*
 * GCC counts a prefetch as no effect at all, so it deems a function that
 * only prefetches pure and drops the calls to it (before deciding to
 * inline it): the prefetching functions are always inlined.  So are the
 * steps every packet takes, which GCC keeps as calls when a function
 * calls them twice: the calls and the registers they saved were about 34
 * instructions a packet.
 */
#if defined(__GNUC__)
#define FT_PREFETCH(a, rw)	__builtin_prefetch((a), (rw), 3)
#define FT_INLINE		inline __attribute__((always_inline))
#else
#define FT_PREFETCH(a, rw)	((void)(a))
#define FT_INLINE		inline
#endif

static int	flowtab_init(struct flowtab *, size_t, size_t, size_t,
		    const char **);
static void	flowtab_free(struct flowtab *);
static void	flowtab_reset(struct flowtab *);
static void	flowtab_grow(struct flowtab *);
static size_t	ft_free_slot(const struct flowtab *, uint64_t);
static void	ft_place(struct flowtab *, size_t, uint64_t, size_t);
static uint64_t	ft_word(const void *, size_t);
static uint64_t	ft_w0(unsigned int, unsigned int, unsigned int,
		    unsigned int, unsigned int);
static uint64_t	ft_final(uint64_t);
static uint64_t	flowtab_hash(const struct ft_key *, size_t);
static int	ft_key_eq(const uint8_t *, uint64_t, const struct ft_key *,
		    size_t);
static uint32_t	flowtab_find(struct flowtab *, uint64_t,
		    const struct ft_key *, uint64_t, int);
static void	*ft_counts(const struct flowtab *, uint32_t);
static void	*flowtab_get(struct flowtab *, const struct ft_key *, int);
static void	 ft_end(struct ft_pkt *, unsigned int, int, const uint8_t *,
		    const uint8_t *, int, const struct decoded *);
static void	 ft_hash_tables(struct ft_pkt *, unsigned int);
static void	 ft_prepare(struct ft_pkt *, const struct localnets *,
		    unsigned int, int64_t, int64_t, enum decode_kind,
		    const struct decoded *, uint32_t);
static struct ft_flow *ft_flow_set(const struct tabset *, uint64_t);
static int	 ft_flow_is(const struct tabset *, const struct ft_flow *,
		    const struct ft_pkt *, unsigned int);
static void	 ft_flow_look(const struct tabset *, struct ft_pkt *,
		    unsigned int);
static void	 ft_prefetch_flows(const struct tabset *,
		    const struct ft_pkt *);
static void	 ft_prefetch_slots(struct tabset *, const struct ft_pkt *,
		    unsigned int);
static void	 ft_prefetch_ahead(struct tabset *, struct ft_pkt *);
static void	 ft_pass(struct tabset *, struct ft_pkt *);
static void	 ft_prefetch_ents(struct tabset *, const struct ft_pkt *);
static struct ft_iface_count *ft_iface_row(struct tabset *,
		    const struct ft_pkt *);
static void	 ft_add_n(struct proto_count *, uint64_t, uint64_t, uint64_t);
static void	 ft_add(struct proto_count *, const struct ft_pkt *);
static void	 ft_rows_add(struct tabset *, const uint32_t *, uint64_t,
		    uint64_t, uint64_t);
static void	 ft_flow_fold(struct tabset *, struct ft_flow *);
static void	 ft_flow_add(struct tabset *, struct ft_flow *,
		    const struct ft_pkt *);
static void	 ft_flow_fill(struct tabset *, const struct ft_pkt *,
		    unsigned int, const uint32_t *);
static uint32_t	 count_add(struct tabset *, struct flowtab *, uint64_t,
		    const struct ft_key *, uint64_t, const struct ft_pkt *);
static void	 ft_count_miss(struct tabset *, const struct ft_pkt *,
		    unsigned int, int);
static void	 ft_count(struct tabset *, struct ft_pkt *);
static size_t	 ft_left(const struct flowtab *);
static void	 ft_room(struct tabset *);

static int
flowtab_init(struct flowtab *t, size_t ksize, size_t countsize, size_t max,
    const char **errstr)
{
	size_t cap = 64;

	memset(t, 0, sizeof(*t));
	if (max == 0 || max > (1u << 28)) {
		*errstr = "table cap out of range (1..268435456)";
		return -1;
	}
	while (cap < 2 * max)
		cap *= 2;
	t->ksize = ksize;
	t->esize = (ksize + countsize + 7) & ~(size_t)7;
	t->cap_max = cap;
	t->cap = cap < FT_CAP_START ? cap : FT_CAP_START;
	t->max = max;
	t->hard = cap - cap / 8;
	/* calloc'd pages stay untouched, and so not resident, until used. */
	t->index = calloc(cap, sizeof(*t->index));
	t->ents = calloc(t->hard, t->esize);
	t->where = calloc(t->hard, sizeof(*t->where));
	if (t->index == NULL || t->ents == NULL || t->where == NULL) {
		flowtab_free(t);
		*errstr = "out of memory for the counting tables; "
		    "lower --max-hosts/--max-ports/--max-peers";
		return -1;
	}
	return 0;
}

static void
flowtab_free(struct flowtab *t)
{
	free(t->index);
	free(t->ents);
	free(t->where);
	t->index = NULL;
	t->ents = NULL;
	t->where = NULL;
}

/* Entries need no clearing: an insert writes its key and zero counters. */
static void
flowtab_reset(struct flowtab *t)
{
	size_t i;

	/* Past cap/8 keys every page of the index is resident anyway. */
	if (t->n > t->cap / FT_EMPTY_ALL)
		memset(t->index, 0, t->cap * sizeof(*t->index));
	else
		for (i = 0; i < t->n; i++)
			t->index[t->where[i]].tag = 0;
	t->n = 0;
}

/* The i-th 64-bit word at p (memcpy: keys are bytes, not uint64_t). */
static inline uint64_t
ft_word(const void *p, size_t i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)p + 8 * i, 8);
	return w;
}

/*
 * The first word of a key (iface, port, family, proto, dir, pad) as it
 * lies in memory, computed in registers: the capture path writes keys a
 * word at a time, because reading a word back from the narrow stores
 * that built it waits until all of them reach the cache.
 */
static inline uint64_t
ft_w0(unsigned int iface, unsigned int port, unsigned int family,
    unsigned int proto, unsigned int dir)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint64_t)(iface & 0xffff) | (uint64_t)(port & 0xffff) << 16 |
	    (uint64_t)(family & 0xff) << 32 | (uint64_t)(proto & 0xff) << 40 |
	    (uint64_t)(dir & 0xff) << 48;
#else
	struct ft_key k;

	memset(&k, 0, FT_KEY_SHORT);
	k.iface = (uint16_t)iface;
	k.port = (uint16_t)port;
	k.family = (uint8_t)family;
	k.proto = (uint8_t)proto;
	k.dir = (uint8_t)dir;
	return ft_word(&k, 0);
#endif
}

/*
 * A multilinear hash: each key word times its own odd constant, summed,
 * then a multiply-xorshift finaliser that carries every bit of the sum
 * into the low bits the index uses.  The products do not depend on each
 * other, so the CPU computes them side by side; two keys differing in one
 * word always hash apart before the (bijective) finaliser.  Keys are built
 * by the agent itself, so there is no adversary-chosen collision flood
 * beyond what the entry caps already bound.
 */
#define FT_M0	0x9e3779b97f4a7c15ull
#define FT_M1	0xc2b2ae3d27d4eb4full
#define FT_M2	0x165667b19e3779f9ull
#define FT_M3	0xd6e8feb86659fd93ull
#define FT_M4	0xa0761d6478bd642full
#define FT_M5	0xe7037ed1a0b428dbull

static inline uint64_t
ft_final(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	return h;
}

/* The hash of a key in memory; ft_end computes the same as it builds. */
static uint64_t
flowtab_hash(const struct ft_key *k, size_t ksize)
{
	uint64_t h;

	h = ft_word(k, 0) * FT_M0 + ft_word(k, 1) * FT_M1 +
	    ft_word(k, 2) * FT_M2 + ft_word(k, 3) * FT_M3;
	if (ksize == FT_KEY_LONG)
		h += ft_word(k, 4) * FT_M4 + ft_word(k, 5) * FT_M5;
	return ft_final(h);
}

/*
 * 1 when the entry at e holds the key whose first word is w0 and whose
 * other words are k's: whole words, no call to memcmp.
 */
static inline int
ft_key_eq(const uint8_t *e, uint64_t w0, const struct ft_key *k,
    size_t ksize)
{
	uint64_t d;

	d = (ft_word(e, 0) ^ w0) | (ft_word(e, 1) ^ ft_word(k, 1)) |
	    (ft_word(e, 2) ^ ft_word(k, 2)) | (ft_word(e, 3) ^ ft_word(k, 3));
	if (ksize == FT_KEY_LONG)
		d |= (ft_word(e, 4) ^ ft_word(k, 4)) |
		    (ft_word(e, 5) ^ ft_word(k, 5));
	return d == 0;
}

/* The first empty slot on the probe path of hash h. */
static size_t
ft_free_slot(const struct flowtab *t, uint64_t h)
{
	size_t mask = t->cap - 1, idx = (size_t)h & mask;

	while (t->index[idx].tag != 0)
		idx = (idx + 1) & mask;
	return idx;
}

/* Index slot idx names entry i, whose key hashes to h. */
static inline void
ft_place(struct flowtab *t, size_t idx, uint64_t h, size_t i)
{
	t->index[idx].tag = (uint32_t)(h >> 32) | 1u;
	t->index[idx].ent = (uint32_t)i;
	t->where[i] = (uint32_t)idx;
}

/*
 * Doubles the index in use and places every entry again.  The slots past
 * the old capacity were never written, so they are empty already.
 */
static void
flowtab_grow(struct flowtab *t)
{
	size_t i;
	uint64_t h;

	memset(t->index, 0, t->cap * sizeof(*t->index));
	t->cap *= 2;
	for (i = 0; i < t->n; i++) {
		h = flowtab_hash(flowtab_key(t, i), t->ksize);
		ft_place(t, ft_free_slot(t, h), h, i);
	}
}

/*
 * Returns the entry number of the key whose first word is w0 and whose
 * other words are *k's, of hash h, inserting it when absent and allowed:
 * ordinary keys while n < max, overflow keys (overflow != 0) while
 * n < hard.  Returns FT_NONE when the key may not be inserted.
 */
static uint32_t
flowtab_find(struct flowtab *t, uint64_t w0, const struct ft_key *k,
    uint64_t h, int overflow)
{
	uint32_t tag = (uint32_t)(h >> 32) | 1u;
	size_t mask = t->cap - 1, idx = (size_t)h & mask;
	struct ft_slot *slot;
	uint8_t *e;

	for (;; idx = (idx + 1) & mask) {
		slot = &t->index[idx];
		if (slot->tag == 0)
			break;
		if (slot->tag != tag)
			continue;
		e = t->ents + (size_t)slot->ent * t->esize;
		if (ft_key_eq(e, w0, k, t->ksize))
			return slot->ent;
	}
	if (t->n >= (overflow ? t->hard : t->max))
		return FT_NONE;
	if (2 * (t->n + 1) > t->cap && t->cap < t->cap_max) {
		flowtab_grow(t);
		idx = ft_free_slot(t, h);
	}
	e = t->ents + t->n * t->esize;
	memcpy(e, k, t->ksize);
	memcpy(e, &w0, sizeof(w0));
	memset(e + t->ksize, 0, t->esize - t->ksize);
	ft_place(t, idx, h, t->n);
	return (uint32_t)t->n++;
}

/* The counters of entry i. */
static inline void *
ft_counts(const struct flowtab *t, uint32_t i)
{
	return t->ents + (size_t)i * t->esize + t->ksize;
}

static void *
flowtab_get(struct flowtab *t, const struct ft_key *k, int overflow)
{
	uint32_t i;

	i = flowtab_find(t, ft_word(k, 0), k, flowtab_hash(k, t->ksize),
	    overflow);
	return i == FT_NONE ? NULL : ft_counts(t, i);
}

int
tabset_init(struct tabset *s, const struct tabset_limits *lim,
    const char **errstr)
{
	memset(s, 0, sizeof(*s));
	if (flowtab_init(&s->hosts, FT_KEY_SHORT, sizeof(struct proto_count),
	    lim->max_hosts, errstr) == -1 ||
	    flowtab_init(&s->ports, FT_KEY_SHORT, sizeof(struct proto_count),
	    lim->max_ports, errstr) == -1 ||
	    flowtab_init(&s->peers, FT_KEY_LONG, sizeof(struct proto_count),
	    lim->max_peers, errstr) == -1 ||
	    flowtab_init(&s->ifaces, FT_KEY_SHORT,
	    sizeof(struct ft_iface_count), lim->max_buckets, errstr) == -1) {
		tabset_clear(s);
		return -1;
	}
	/*
	 * A line to a cache line, and empty (epoch 0) without a write: the
	 * kernel's pages are zero and page-aligned, and stay unmapped until
	 * a flow lands in them.  Clearing them here made all 64 pages of
	 * each tabset's cache resident at start: an idle live agent's RSS
	 * 37.3 -> 36.6 MiB without it.
	 */
	s->flows = mmap(NULL, FT_FLOW_LINES * sizeof(*s->flows),
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->flows == MAP_FAILED)
		s->flows = NULL;
	s->flow_ents = calloc(FT_FLOW_LINES, sizeof(*s->flow_ents));
	s->flow_sets = calloc(FT_FLOW_SETS, sizeof(*s->flow_sets));
	if (s->flows == NULL || s->flow_ents == NULL || s->flow_sets == NULL) {
		tabset_clear(s);
		*errstr = "out of memory for the flow cache";
		return -1;
	}
	s->few_keys = lim->few_keys;
	tabset_reset(s);
	return 0;
}

void
tabset_clear(struct tabset *s)
{
	if (s == NULL)
		return;
	flowtab_free(&s->hosts);
	flowtab_free(&s->ports);
	flowtab_free(&s->peers);
	flowtab_free(&s->ifaces);
	if (s->flows != NULL)
		(void)munmap(s->flows, FT_FLOW_LINES * sizeof(*s->flows));
	free(s->flow_ents);
	free(s->flow_sets);
	s->flows = NULL;
	s->flow_ents = NULL;
	s->flow_sets = NULL;
}

/* Keys table t can still take before its cap. */
static inline size_t
ft_left(const struct flowtab *t)
{
	return t->n >= t->max ? 0 : t->max - t->n;
}

/*
 * Keys the fullest of the host, port and peer tables can still take, and
 * whether their rows are few.
 */
static void
ft_room(struct tabset *s)
{
	size_t h = ft_left(&s->hosts), p = ft_left(&s->ports),
	    q = ft_left(&s->peers);

	s->rows = s->hosts.n + s->ports.n + s->peers.n;
	h = h < p ? h : p;
	s->room = h < q ? h : q;
	s->few = s->rows < s->few_keys;
}

void
tabset_reset(struct tabset *s)
{
	flowtab_reset(&s->hosts);
	flowtab_reset(&s->ports);
	flowtab_reset(&s->peers);
	flowtab_reset(&s->ifaces);
	memset(s->health, 0, sizeof(s->health));
	s->first_ts = INT64_MAX;
	s->last_ts = INT64_MIN;
	s->npackets = 0;
	s->ic_last = NULL;
	s->npending = 0;
	s->nflow_sets = 0;
	ft_room(s);
	/* Lines of an older epoch are empty; one that came round again is
	 * not, so the wrap empties them all. */
	if (++s->epoch == 0) {
		memset(s->flows, 0, FT_FLOW_LINES * sizeof(*s->flows));
		s->epoch = 1;
	}
}

int
tabset_empty(const struct tabset *s)
{
	return s->npackets == 0;
}

const struct ft_key *
flowtab_key(const struct flowtab *t, size_t i)
{
	return (const struct ft_key *)(const void *)(t->ents + i * t->esize);
}

const struct proto_count *
flowtab_count(const struct flowtab *t, const struct ft_key *k)
{
	return (const struct proto_count *)(const void *)
	    ((const uint8_t *)k + t->ksize);
}

const struct ft_iface_count *
flowtab_iface_count(const struct flowtab *t, const struct ft_key *k)
{
	return (const struct ft_iface_count *)(const void *)
	    ((const uint8_t *)k + t->ksize);
}

/*
 * Keys of local end `end` of an IP packet: the peer table's, whose first
 * FT_KEY_SHORT bytes are the host table's; the port table's first word
 * (when the packet has ports; the service port is the smaller of the
 * two); the flow cache's first word and hash.  Words are computed, then
 * stored whole.  The tables' own hashes wait for a flow cache miss
 * (ft_hash_tables).
 */
static FT_INLINE void
ft_end(struct ft_pkt *p, unsigned int end, int af, const uint8_t *host,
    const uint8_t *peer, int dir, const struct decoded *d)
{
	struct ft_key *k = &p->key[end];
	uint64_t w[FT_KEY_LONG / 8], fw0;
	unsigned int port;

	w[0] = ft_w0(p->iface, 0, (unsigned int)af, d->proto,
	    (unsigned int)dir);
	w[1] = (uint64_t)p->bucket;
	w[2] = ft_word(host, 0);
	w[3] = ft_word(host, 1);
	w[4] = ft_word(peer, 0);
	w[5] = ft_word(peer, 1);
	memcpy(k, w, sizeof(w));
	p->base[end] = w[1] * FT_M1 + w[2] * FT_M2 + w[3] * FT_M3;
	/*
	 * A flow with ports keys on its port word, one without on the
	 * complement of its plain word: the pad byte, 0 in every port word
	 * and 0xff in every complement, keeps the two apart even at port 0
	 * (a TCP fragment beside a TCP flow on port 0).
	 */
	if (d->has_ports) {
		port = d->sport < d->dport ? d->sport : d->dport;
		p->port_w0[end] = ft_w0(p->iface, port, (unsigned int)af,
		    d->proto, (unsigned int)dir);
		fw0 = p->port_w0[end];
	} else
		fw0 = ~w[0];
	p->flow_w0[end] = fw0;
	p->flow_hash[end] = ft_final(p->base[end] + fw0 * FT_M0 +
	    w[4] * FT_M4 + w[5] * FT_M5);
	p->flow[end] = FT_FLOW_UNSEEN;
}

/* The host, port and peer tables' hashes of local end `end` of p. */
static void
ft_hash_tables(struct ft_pkt *p, unsigned int end)
{
	const struct ft_key *k = &p->key[end];
	uint64_t base = p->base[end], w0 = ft_word(k, 0);

	p->hash[end][FT_HOST] = ft_final(base + w0 * FT_M0);
	p->hash[end][FT_PEER] = ft_final(base + w0 * FT_M0 +
	    ft_word(k, 4) * FT_M4 + ft_word(k, 5) * FT_M5);
	if (p->has_ports)
		p->hash[end][FT_PORT] = ft_final(base +
		    p->port_w0[end] * FT_M0);
}

/* Everything of one packet that counting needs, keys made. */
static FT_INLINE void
ft_prepare(struct ft_pkt *p, const struct localnets *ln, unsigned int iface,
    int64_t ts, int64_t bucket, enum decode_kind kind,
    const struct decoded *d, uint32_t wirelen)
{
	int af;

	p->ts = ts;
	p->bucket = bucket;
	p->wirelen = wirelen;
	p->iface = (uint16_t)iface;
	p->kind = (uint8_t)kind;
	p->nend = 0;
	p->has_ports = 0;
	p->ip_bytes = 0;
	if (kind == DECODE_IPV4)
		af = PROTO_AF_INET;
	else if (kind == DECODE_IPV6)
		af = PROTO_AF_INET6;
	else
		return;
	p->ip_bytes = d->ip_bytes;
	p->has_ports = d->has_ports;
	if (localnet_contains(ln, af, d->src))
		ft_end(p, p->nend++, af, d->src, d->dst, PROTO_DIR_OUT, d);
	if (localnet_contains(ln, af, d->dst))
		ft_end(p, p->nend++, af, d->dst, d->src, PROTO_DIR_IN, d);
}

/* The first line of the set of flow hash h. */
static inline struct ft_flow *
ft_flow_set(const struct tabset *s, uint64_t h)
{
	return &s->flows[h & (FT_FLOW_SETS - 1)];
}

/* 1 when line f holds local end `end` of p's flow. */
static inline int
ft_flow_is(const struct tabset *s, const struct ft_flow *f,
    const struct ft_pkt *p, unsigned int end)
{
	return f->epoch == s->epoch && ft_key_eq((const uint8_t *)f->key,
	    p->flow_w0[end], &p->key[end], FT_KEY_LONG);
}

/*
 * Asks the flow cache about local end `end` of p: on a hit, takes the
 * line that counts its flow; on a miss, makes the tables' hashes.
 */
static FT_INLINE void
ft_flow_look(const struct tabset *s, struct ft_pkt *p, unsigned int end)
{
	struct ft_flow *f = ft_flow_set(s, p->flow_hash[end]);

	if (ft_flow_is(s, f, p, end) ||
	    ft_flow_is(s, f += FT_FLOW_SETS, p, end)) {
		p->line[end] = f;
		p->fills[end] = s->flow_fills;
		p->flow[end] = FT_FLOW_HIT;
	} else {
		ft_hash_tables(p, end);
		p->flow[end] = FT_FLOW_MISS;
	}
}

/* Starts loading the flow sets of p's ends. */
static FT_INLINE void
ft_prefetch_flows(const struct tabset *s, const struct ft_pkt *p)
{
	const struct ft_flow *f;
	unsigned int e;

	for (e = 0; e < p->nend; e++) {
		f = ft_flow_set(s, p->flow_hash[e]);
		FT_PREFETCH(f, 0);
		FT_PREFETCH(f + FT_FLOW_SETS, 0);
	}
}

/* Starts loading the index slots where end e of p is probed first. */
static FT_INLINE void
ft_prefetch_slots(struct tabset *s, const struct ft_pkt *p, unsigned int e)
{
	FT_PREFETCH(&s->hosts.index[p->hash[e][FT_HOST] &
	    (s->hosts.cap - 1)], 0);
	if (p->has_ports)
		FT_PREFETCH(&s->ports.index[p->hash[e][FT_PORT] &
		    (s->ports.cap - 1)], 0);
	FT_PREFETCH(&s->peers.index[p->hash[e][FT_PEER] &
	    (s->peers.cap - 1)], 0);
}

/*
 * Asks the flow cache about the ends of p not asked yet, whose lines
 * should be in the cache by now; on a miss starts loading the index
 * slots where the tables are probed first.  Every FT_FLOW_WINDOW looks,
 * turns the cache off when it hit fewer than 1 in 8.
 */
static FT_INLINE void
ft_prefetch_ahead(struct tabset *s, struct ft_pkt *p)
{
	unsigned int e;

	for (e = 0; e < p->nend; e++) {
		if (p->flow[e] != FT_FLOW_UNSEEN)
			continue;
		ft_flow_look(s, p, e);
		s->flow_looks++;
		if (p->flow[e] == FT_FLOW_HIT)
			s->flow_hits++;
		else
			ft_prefetch_slots(s, p, e);
	}
	if (s->flow_looks >= FT_FLOW_WINDOW) {
		if (s->flow_hits < s->flow_looks / 8)
			s->flow_off = FT_FLOW_OFF;
		s->flow_looks = 0;
		s->flow_hits = 0;
	}
}

/*
 * The flow cache is off: hashes p's keys for the tables and starts
 * loading their index slots.
 */
static FT_INLINE void
ft_pass(struct tabset *s, struct ft_pkt *p)
{
	unsigned int e;

	for (e = 0; e < p->nend; e++) {
		ft_hash_tables(p, e);
		p->flow[e] = FT_FLOW_PASS;
		ft_prefetch_slots(s, p, e);
	}
}

/*
 * Starts loading the entries that the first index slots of p's ends that
 * passed the flow cache by name, when the tag is their key's: by now
 * those slots should be in the cache.  A hint only; the count probes as
 * ever.
 */
static FT_INLINE void
ft_prefetch_ents(struct tabset *s, const struct ft_pkt *p)
{
	struct flowtab *t;
	const struct ft_slot *slot;
	const uint8_t *e;
	unsigned int end, i;
	uint64_t h;

	for (end = 0; end < p->nend; end++) {
		if (p->flow[end] != FT_FLOW_PASS)
			continue;
		for (i = FT_HOST; i <= FT_PEER; i++) {
			if (i == FT_PORT && !p->has_ports)
				continue;
			t = i == FT_HOST ? &s->hosts : i == FT_PORT ?
			    &s->ports : &s->peers;
			h = p->hash[end][i];
			slot = &t->index[h & (t->cap - 1)];
			if (slot->tag != ((uint32_t)(h >> 32) | 1u))
				continue;
			e = t->ents + (size_t)slot->ent * t->esize;
			FT_PREFETCH(e, 1);
			FT_PREFETCH(e + t->esize - 1, 1);
		}
	}
}

/* The interface row of p, from the one-row cache or the table. */
static struct ft_iface_count *
ft_iface_row(struct tabset *s, const struct ft_pkt *p)
{
	struct ft_key k;

	if (s->ic_last != NULL && s->ic_bucket == p->bucket &&
	    s->ic_iface == p->iface)
		return s->ic_last;
	memset(&k, 0, sizeof(k));
	k.iface = p->iface;
	k.bucket = p->bucket;
	s->ic_last = flowtab_get(&s->ifaces, &k, 1);
	s->ic_bucket = p->bucket;
	s->ic_iface = p->iface;
	return s->ic_last;
}

/* Adds packets, bytes and frame bytes to row counters c. */
static inline void
ft_add_n(struct proto_count *c, uint64_t packets, uint64_t bytes,
    uint64_t frame_bytes)
{
	c->packets += packets;
	c->bytes += bytes;
	c->frame_bytes += frame_bytes;
}

static inline void
ft_add(struct proto_count *c, const struct ft_pkt *p)
{
	ft_add_n(c, 1, p->ip_bytes, p->wirelen);
}

/*
 * Adds packet p to the key of table t with first word w0 and the rest
 * *k's (hash h), and returns its entry number; or, when the table is at
 * its cap, to the overflow row of its (bucket, iface, direction), and
 * returns FT_NONE.
 */
static uint32_t
count_add(struct tabset *s, struct flowtab *t, uint64_t w0,
    const struct ft_key *k, uint64_t h, const struct ft_pkt *p)
{
	struct proto_count *c;
	struct ft_key o;
	uint32_t i;

	i = flowtab_find(t, w0, k, h, 0);
	if (i != FT_NONE) {
		ft_add(ft_counts(t, i), p);
		return i;
	}
	memset(&o, 0, sizeof(o));
	o.iface = k->iface;
	o.dir = k->dir;
	o.bucket = k->bucket;
	o.family = PROTO_AF_NONE;
	c = flowtab_get(t, &o, 1);
	s->health[p->iface].overflow++;
	/*
	 * NULL: no room left for overflow rows either.  The capture hands a
	 * tabset over before that (tabset_overflow_full); should it come,
	 * the interface totals and the health row still hold the packet.
	 */
	if (c != NULL)
		ft_add(c, p);
	return FT_NONE;
}

/*
 * Adds packets, bytes and frame bytes to the rows whose entry numbers
 * ent holds (FT_HOST, FT_PORT, FT_PEER; FT_NONE: no port row).
 */
static void
ft_rows_add(struct tabset *s, const uint32_t *ent, uint64_t packets,
    uint64_t bytes, uint64_t frame_bytes)
{
	ft_add_n(ft_counts(&s->hosts, ent[FT_HOST]), packets, bytes,
	    frame_bytes);
	if (ent[FT_PORT] != FT_NONE)
		ft_add_n(ft_counts(&s->ports, ent[FT_PORT]), packets, bytes,
		    frame_bytes);
	ft_add_n(ft_counts(&s->peers, ent[FT_PEER]), packets, bytes,
	    frame_bytes);
}

/* Moves what line f counted to its rows. */
static void
ft_flow_fold(struct tabset *s, struct ft_flow *f)
{
	if (f->packets == 0)
		return;
	ft_rows_add(s, s->flow_ents[f - s->flows], f->packets, f->bytes,
	    f->frame_bytes);
	f->packets = 0;
	f->bytes = 0;
	f->frame_bytes = 0;
}

/*
 * Counts p in line f, which holds the flow of one of its local ends; when
 * a count would pass 32 bits, the line's counts and p go to the rows.
 */
static inline void
ft_flow_add(struct tabset *s, struct ft_flow *f, const struct ft_pkt *p)
{
	uint64_t bytes = f->bytes + p->ip_bytes,
	    frame_bytes = (uint64_t)f->frame_bytes + p->wirelen;

	if (((bytes | frame_bytes) >> 32) == 0 && f->packets < UINT32_MAX) {
		f->packets++;
		f->bytes = (uint32_t)bytes;
		f->frame_bytes = (uint32_t)frame_bytes;
		return;
	}
	ft_flow_fold(s, f);
	ft_rows_add(s, s->flow_ents[f - s->flows], 1, p->ip_bytes,
	    p->wirelen);
}

/*
 * Puts the flow of local end `end` of p, whose rows ent names, in its
 * set: in an empty line, the first one first, or else in place of the
 * flow that counted fewer packets since its line was last folded, the
 * second on a tie; that flow's counts go to its rows.  Lines never move:
 * a flow seen once (a scan, a DNS query's port) replaces another such
 * flow and leaves a busy one where its packets find it.
 */
static void
ft_flow_fill(struct tabset *s, const struct ft_pkt *p, unsigned int end,
    const uint32_t *ent)
{
	struct ft_flow *f = ft_flow_set(s, p->flow_hash[end]),
	    *g = f + FT_FLOW_SETS;

	if (f->epoch != s->epoch)
		s->flow_sets[s->nflow_sets++] = (uint16_t)(f - s->flows);
	else if (g->epoch != s->epoch)
		f = g;
	else {
		if (g->packets <= f->packets)
			f = g;
		ft_flow_fold(s, f);
	}
	memcpy(f->key, &p->key[end], sizeof(f->key));
	f->key[0] = p->flow_w0[end];
	f->packets = 0;
	f->bytes = 0;
	f->frame_bytes = 0;
	f->epoch = s->epoch;
	memcpy(s->flow_ents[f - s->flows], ent, sizeof(s->flow_ents[0]));
	s->flow_fills++;
}

/*
 * Counts local end `end` of p through the tables and, when fill is set
 * and none of its rows is an overflow row, remembers them in the flow
 * cache.
 */
static void
ft_count_miss(struct tabset *s, const struct ft_pkt *p, unsigned int end,
    int fill)
{
	const struct ft_key *k = &p->key[end];
	uint64_t w0 = ft_word(k, 0);
	uint32_t ent[3] = { FT_NONE, FT_NONE, FT_NONE };
	int overflow;

	ent[FT_HOST] = count_add(s, &s->hosts, w0, k, p->hash[end][FT_HOST],
	    p);
	overflow = ent[FT_HOST] == FT_NONE;
	if (p->has_ports) {
		ent[FT_PORT] = count_add(s, &s->ports, p->port_w0[end], k,
		    p->hash[end][FT_PORT], p);
		overflow |= ent[FT_PORT] == FT_NONE;
	}
	ent[FT_PEER] = count_add(s, &s->peers, w0, k, p->hash[end][FT_PEER],
	    p);
	overflow |= ent[FT_PEER] == FT_NONE;
	if (s->hosts.n + s->ports.n + s->peers.n != s->rows)
		ft_room(s);
	if (fill && !overflow)
		ft_flow_fill(s, p, end, ent);
}

static void
ft_count(struct tabset *s, struct ft_pkt *p)
{
	struct ft_iface_count *ic;
	unsigned int e;

	s->npackets++;
	if (p->ts < s->first_ts)
		s->first_ts = p->ts;
	if (p->ts > s->last_ts)
		s->last_ts = p->ts;
	s->health[p->iface].captured++;
	if ((ic = ft_iface_row(s, p)) == NULL)
		return;		/* cannot happen: the capture loop flushes first */
	ic->frames++;
	ic->frame_bytes += p->wirelen;
	switch (p->kind) {
	case DECODE_NON_IP:
		ic->non_ip_frames++;
		return;
	case DECODE_MALFORMED:
		ic->malformed_frames++;
		s->health[p->iface].malformed++;
		return;
	case DECODE_IPV4:
		ic->ipv4_packets++;
		break;
	case DECODE_IPV6:
		ic->ipv6_packets++;
		break;
	default:
		return;
	}
	if (p->nend == 0) {
		ic->transit_packets++;
		s->ntransit_run++;
		return;
	}
	s->nlocal_run++;
	for (e = 0; e < p->nend; e++) {
		/* A line found before a fill may hold another flow now. */
		if (p->flow[e] == FT_FLOW_HIT && p->fills[e] != s->flow_fills)
			p->flow[e] = FT_FLOW_UNSEEN;
		if (p->flow[e] == FT_FLOW_UNSEEN)
			ft_flow_look(s, p, e);
		if (p->flow[e] == FT_FLOW_HIT)
			ft_flow_add(s, p->line[e], p);
		else
			ft_count_miss(s, p, e, p->flow[e] == FT_FLOW_MISS);
	}
}

void
tabset_account(struct tabset *s, const struct localnets *ln,
    unsigned int iface, int64_t ts, int64_t bucket, enum decode_kind kind,
    const struct decoded *d, uint32_t wirelen)
{
	struct ft_pkt p;

	if (iface >= FLOWTAB_IFACES_MAX)
		return;
	ft_prepare(&p, ln, iface, ts, bucket, kind, d, wirelen);
	ft_count(s, &p);
}

void
tabset_push(struct tabset *s, const struct localnets *ln,
    unsigned int iface, int64_t ts, int64_t bucket, enum decode_kind kind,
    const struct decoded *d, uint32_t wirelen)
{
	struct ft_pkt *p, *q;

	if (iface >= FLOWTAB_IFACES_MAX)
		return;
	/* few turns on only at a reset, when nothing is pending. */
	if (s->few) {
		tabset_account(s, ln, iface, ts, bucket, kind, d, wirelen);
		return;
	}
	if (s->npending == FT_AHEAD) {
		ft_count(s, &s->ring[(s->head - FT_AHEAD) % FT_RING]);
		s->npending--;
	}
	p = &s->ring[s->head % FT_RING];
	ft_prepare(p, ln, iface, ts, bucket, kind, d, wirelen);
	q = &s->ring[(s->head - FT_AHEAD / 2) % FT_RING];
	if (s->flow_off > 0) {
		s->flow_off--;
		ft_pass(s, p);
		if (s->npending >= FT_AHEAD / 2)
			ft_prefetch_ents(s, q);
	} else {
		ft_prefetch_flows(s, p);
		if (s->npending >= FT_AHEAD / 2)
			ft_prefetch_ahead(s, q);
	}
	s->head++;
	s->npending++;
}

void
tabset_drain(struct tabset *s)
{
	struct ft_flow *f;
	unsigned int i, w;

	for (; s->npending > 0; s->npending--)
		ft_count(s, &s->ring[(s->head - s->npending) % FT_RING]);
	for (i = 0; i < s->nflow_sets; i++) {
		f = &s->flows[s->flow_sets[i]];
		for (w = 0; w < FT_FLOW_WAYS; w++)
			if (f[w * FT_FLOW_SETS].epoch == s->epoch)
				ft_flow_fold(s, &f[w * FT_FLOW_SETS]);
	}
}
