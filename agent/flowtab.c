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
 */
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"

#define FT_EMPTY_ALL	8	/* reset clears the whole index past cap/8 */

static int	flowtab_init(struct flowtab *, size_t, size_t, size_t,
		    const char **);
static void	flowtab_free(struct flowtab *);
static void	flowtab_reset(struct flowtab *);
static uint64_t	ft_word(const void *, size_t);
static uint64_t	flowtab_hash(const struct ft_key *, size_t);
static int	ft_key_eq(const uint8_t *, const struct ft_key *, size_t);
static void	*flowtab_get(struct flowtab *, const struct ft_key *, int);
static void	 count_add(struct tabset *, struct flowtab *, struct ft_key *,
		    unsigned int, const struct decoded *, uint32_t);
static void	 account_host(struct tabset *, unsigned int, int64_t, int,
		    const uint8_t *, const uint8_t *, int,
		    const struct decoded *, uint32_t);

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
	t->cap = cap;
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
 * A multilinear hash: each key word times its own odd constant, summed,
 * then a multiply-xorshift finaliser that carries every bit of the sum
 * into the low bits the index uses.  The products do not depend on each
 * other, so the CPU computes them side by side; two keys differing in one
 * word always hash apart before the (bijective) finaliser.  Keys are built
 * by the agent itself, so there is no adversary-chosen collision flood
 * beyond what the entry caps already bound.
 */
static uint64_t
flowtab_hash(const struct ft_key *k, size_t ksize)
{
	static const uint64_t mul[FT_KEY_LONG / 8] = {
		0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full,
		0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
		0xa0761d6478bd642full, 0xe7037ed1a0b428dbull,
	};
	uint64_t h;
	size_t i;

	h = ft_word(k, 0) * mul[0] + ft_word(k, 1) * mul[1] +
	    ft_word(k, 2) * mul[2] + ft_word(k, 3) * mul[3];
	for (i = 4; i < ksize / 8; i++)
		h += ft_word(k, i) * mul[i];
	h ^= h >> 32;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	return h;
}

/* 1 when the entry at e holds key k: whole words, no call to memcmp. */
static inline int
ft_key_eq(const uint8_t *e, const struct ft_key *k, size_t ksize)
{
	uint64_t d;
	size_t i;

	d = (ft_word(e, 0) ^ ft_word(k, 0)) | (ft_word(e, 1) ^ ft_word(k, 1)) |
	    (ft_word(e, 2) ^ ft_word(k, 2)) | (ft_word(e, 3) ^ ft_word(k, 3));
	for (i = 4; i < ksize / 8; i++)
		d |= ft_word(e, i) ^ ft_word(k, i);
	return d == 0;
}

/*
 * Returns the counters of key *k, inserting it when absent and allowed:
 * ordinary keys while n < max, overflow keys (overflow != 0) while
 * n < hard.  Returns NULL when the key may not be inserted.
 */
static void *
flowtab_get(struct flowtab *t, const struct ft_key *k, int overflow)
{
	uint64_t h = flowtab_hash(k, t->ksize);
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
		if (ft_key_eq(e, k, t->ksize))
			return e + t->ksize;
	}
	if (t->n >= (overflow ? t->hard : t->max))
		return NULL;
	e = t->ents + t->n * t->esize;
	memcpy(e, k, t->ksize);
	memset(e + t->ksize, 0, t->esize - t->ksize);
	slot->tag = tag;
	slot->ent = (uint32_t)t->n;
	t->where[t->n++] = (uint32_t)idx;
	return e + t->ksize;
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
}

int
tabset_nearly_full(const struct tabset *s)
{
	/* One packet adds at most two keys per table (both ends local). */
	return s->hosts.n + 2 > s->hosts.max ||
	    s->ports.n + 2 > s->ports.max ||
	    s->peers.n + 2 > s->peers.max ||
	    s->ifaces.n + 1 > s->ifaces.max;
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
 * Adds the packet to key *k of table t, or to the overflow row of its
 * (bucket, iface, direction) when the table is at its cap.
 */
static void
count_add(struct tabset *s, struct flowtab *t, struct ft_key *k,
    unsigned int iface, const struct decoded *d, uint32_t wirelen)
{
	struct proto_count *c;
	struct ft_key o;

	c = flowtab_get(t, k, 0);
	if (c == NULL) {
		memset(&o, 0, sizeof(o));
		o.iface = k->iface;
		o.dir = k->dir;
		o.bucket = k->bucket;
		o.family = PROTO_AF_NONE;
		c = flowtab_get(t, &o, 1);
		s->health[iface].overflow++;
		/*
		 * The table is past 7/8 full of overflow rows alone: only a
		 * flush interval spanning thousands of buckets gets here.
		 * The interface totals still hold the packet.
		 */
		if (c == NULL)
			return;
	}
	c->packets++;
	c->bytes += d->ip_bytes;
	c->frame_bytes += wirelen;
}

static void
account_host(struct tabset *s, unsigned int iface, int64_t bucket, int af,
    const uint8_t *host, const uint8_t *peer, int dir,
    const struct decoded *d, uint32_t wirelen)
{
	struct ft_key k;

	memset(&k, 0, sizeof(k));
	k.iface = (uint16_t)iface;
	k.family = (uint8_t)af;
	k.proto = d->proto;
	k.dir = (uint8_t)dir;
	k.bucket = bucket;
	memcpy(k.host, host, 16);
	count_add(s, &s->hosts, &k, iface, d, wirelen);
	if (d->has_ports) {
		k.port = d->sport < d->dport ? d->sport : d->dport;
		count_add(s, &s->ports, &k, iface, d, wirelen);
		k.port = 0;
	}
	memcpy(k.peer, peer, 16);
	count_add(s, &s->peers, &k, iface, d, wirelen);
}

void
tabset_account(struct tabset *s, const struct localnets *ln,
    unsigned int iface, int64_t ts, int64_t bucket, enum decode_kind kind,
    const struct decoded *d, uint32_t wirelen)
{
	struct ft_iface_count *ic;
	struct ft_key k;
	int af, src_local, dst_local;

	if (iface >= FLOWTAB_IFACES_MAX)
		return;
	memset(&k, 0, sizeof(k));
	k.iface = (uint16_t)iface;
	k.bucket = bucket;
	ic = flowtab_get(&s->ifaces, &k, 1);
	s->npackets++;
	if (ts < s->first_ts)
		s->first_ts = ts;
	if (ts > s->last_ts)
		s->last_ts = ts;
	s->health[iface].captured++;
	if (ic == NULL)
		return;		/* cannot happen: the capture loop flushes first */
	ic->frames++;
	ic->frame_bytes += wirelen;
	switch (kind) {
	case DECODE_NON_IP:
		ic->non_ip_frames++;
		return;
	case DECODE_MALFORMED:
		ic->malformed_frames++;
		s->health[iface].malformed++;
		return;
	case DECODE_IPV4:
		ic->ipv4_packets++;
		af = PROTO_AF_INET;
		break;
	case DECODE_IPV6:
		ic->ipv6_packets++;
		af = PROTO_AF_INET6;
		break;
	default:
		return;
	}
	src_local = localnet_contains(ln, af, d->src);
	dst_local = localnet_contains(ln, af, d->dst);
	if (!src_local && !dst_local) {
		ic->transit_packets++;
		return;
	}
	if (src_local)
		account_host(s, iface, bucket, af, d->src, d->dst,
		    PROTO_DIR_OUT, d, wirelen);
	if (dst_local)
		account_host(s, iface, bucket, af, d->dst, d->src,
		    PROTO_DIR_IN, d, wirelen);
}
