/*
 * flowtab.c - fixed-capacity hash tables for per-packet counting.
 *
 * Linear probing over slots of esize bytes; capacity is a power of two at
 * least twice the key cap, so probes stay short even when full.  Keys past
 * max go to overflow rows; overflow rows themselves are admitted up to
 * `hard` (7/8 of capacity).  Every insert appends the slot index to used[],
 * so a reset or an encode touches only what was used: memory that a quiet
 * link never needed is never made resident.
 */
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"

static int	flowtab_init(struct flowtab *, size_t, size_t, size_t,
		    const char **);
static void	flowtab_free(struct flowtab *);
static void	flowtab_reset(struct flowtab *);
static uint32_t	flowtab_hash(const struct ft_key *, size_t);
static void	*flowtab_get(struct flowtab *, struct ft_key *, int);
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
	t->esize = ksize + countsize;
	t->cap = cap;
	t->max = max;
	t->hard = cap - cap / 8;
	/* calloc'd pages stay untouched, and so not resident, until used. */
	t->slots = calloc(cap, t->esize);
	t->used = calloc(t->hard, sizeof(*t->used));
	if (t->slots == NULL || t->used == NULL) {
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
	free(t->slots);
	free(t->used);
	t->slots = NULL;
	t->used = NULL;
}

static void
flowtab_reset(struct flowtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		memset(t->slots + (size_t)t->used[i] * t->esize, 0, t->esize);
	t->n = 0;
}

/*
 * A multiply-xorshift over the key's 64-bit words.  Keys are built by the
 * agent itself, so there is no adversary-chosen collision flood beyond
 * what the entry caps already bound.
 */
static uint32_t
flowtab_hash(const struct ft_key *k, size_t ksize)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0x9e3779b97f4a7c15ull, w;
	size_t i;

	/* Word 0 holds the tag itself: hash only its other 4 bytes. */
	memcpy(&w, p, 8);
	w &= ~(uint64_t)0xffffffffu;
	for (i = 8;; i += 8) {
		h ^= w;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		if (i >= ksize)
			break;
		memcpy(&w, p + i, 8);
	}
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return (uint32_t)h | 1u;
}

/*
 * Returns the counters of key *k, inserting it when absent and allowed:
 * ordinary keys while n < max, overflow keys (overflow != 0) while
 * n < hard.  Returns NULL when the key may not be inserted.
 */
static void *
flowtab_get(struct flowtab *t, struct ft_key *k, int overflow)
{
	size_t mask = t->cap - 1, idx;
	uint8_t *slot;

	k->tag = flowtab_hash(k, t->ksize);
	idx = k->tag & mask;
	for (;;) {
		slot = t->slots + idx * t->esize;
		if (*(const uint32_t *)(const void *)slot == 0)
			break;
		if (memcmp(slot, k, t->ksize) == 0)
			return slot + t->ksize;
		idx = (idx + 1) & mask;
	}
	if (t->n >= (overflow ? t->hard : t->max))
		return NULL;
	memcpy(slot, k, t->ksize);
	t->used[t->n++] = (uint32_t)idx;
	return slot + t->ksize;
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
	return (const struct ft_key *)(const void *)
	    (t->slots + (size_t)t->used[i] * t->esize);
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
