/*
 * test_flowtab.c - the counting tables: direction, overflow, reset, and
 * the conservation law (interface frames = host rows + transit + non-IP +
 * malformed, both-local packets counted on both sides).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flowtab.h"

static struct localnets ln;

static void
make_v4(struct decoded *d, uint32_t src, uint32_t dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint64_t bytes)
{
	memset(d, 0, sizeof(*d));
	d->src[0] = src >> 24; d->src[1] = src >> 16;
	d->src[2] = src >> 8; d->src[3] = src;
	d->dst[0] = dst >> 24; d->dst[1] = dst >> 16;
	d->dst[2] = dst >> 8; d->dst[3] = dst;
	d->proto = proto;
	d->sport = sport;
	d->dport = dport;
	d->has_ports = proto == 6 || proto == 17;
	d->ip_bytes = bytes;
}

static int
setup(void **state)
{
	const char *errstr;

	(void)state;
	memset(&ln, 0, sizeof(ln));
	assert_int_equal(localnet_add_cidr(&ln, "10.0.0.0/8", &errstr), 0);
	return 0;
}

static uint64_t
sum_packets(const struct flowtab *t, int dir)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct ft_key *k = flowtab_key(t, i);

		if (dir < 0 || k->dir == dir)
			n += flowtab_count(t, k)->packets;
	}
	return n;
}

static void
test_directions(void **state)
{
	struct tabset_limits lim = { 64, 64, 64, 16, 0 };
	struct tabset s;
	struct decoded d;
	const struct ft_key *k;
	const struct ft_iface_count *ic;
	const char *errstr;

	(void)state;
	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	/* out: local source */
	make_v4(&d, 0x0a000001, 0xc6120001, 6, 40000, 443, 100);
	tabset_account(&s, &ln, 0, 1000, 960, DECODE_IPV4, &d, 114);
	/* in: local destination */
	make_v4(&d, 0xc6120001, 0x0a000001, 17, 53, 5353, 80);
	tabset_account(&s, &ln, 0, 1001, 960, DECODE_IPV4, &d, 94);
	/* both local: two host rows */
	make_v4(&d, 0x0a000001, 0x0a000002, 1, 0, 0, 84);
	tabset_account(&s, &ln, 0, 1002, 960, DECODE_IPV4, &d, 98);
	/* transit */
	make_v4(&d, 0xc6120001, 0xc6120002, 6, 1, 2, 60);
	tabset_account(&s, &ln, 0, 1003, 960, DECODE_IPV4, &d, 74);
	tabset_account(&s, &ln, 0, 1004, 960, DECODE_NON_IP, NULL, 42);
	tabset_account(&s, &ln, 0, 1005, 960, DECODE_MALFORMED, NULL, 60);
	tabset_drain(&s);

	assert_int_equal(s.hosts.n, 4);
	assert_int_equal(sum_packets(&s.hosts, PROTO_DIR_OUT), 2);
	assert_int_equal(sum_packets(&s.hosts, PROTO_DIR_IN), 2);
	assert_int_equal(s.ports.n, 2);
	k = flowtab_key(&s.ports, 0);
	assert_int_equal(k->port, 443);		/* service port = min */
	k = flowtab_key(&s.ports, 1);
	assert_int_equal(k->port, 53);
	assert_int_equal(s.peers.n, 4);
	assert_int_equal(s.ifaces.n, 1);
	ic = flowtab_iface_count(&s.ifaces, flowtab_key(&s.ifaces, 0));
	assert_int_equal(ic->frames, 6);
	assert_int_equal(ic->frame_bytes, 114 + 94 + 98 + 74 + 42 + 60);
	assert_int_equal(ic->ipv4_packets, 4);
	assert_int_equal(ic->transit_packets, 1);
	assert_int_equal(ic->non_ip_frames, 1);
	assert_int_equal(ic->malformed_frames, 1);
	/* conservation: host rows = IP - transit + both-local */
	assert_int_equal(sum_packets(&s.hosts, -1),
	    ic->ipv4_packets + ic->ipv6_packets - ic->transit_packets + 1);
	assert_int_equal(s.first_ts, 1000);
	assert_int_equal(s.last_ts, 1005);
	assert_int_equal(s.health[0].captured, 6);
	assert_int_equal(s.health[0].malformed, 1);
	/* The run's counts: IP packets with a local end, and transit. */
	assert_int_equal(s.nlocal_run, 3);
	assert_int_equal(s.ntransit_run, 1);

	tabset_reset(&s);
	assert_true(tabset_empty(&s));
	assert_int_equal(s.hosts.n + s.ports.n + s.peers.n + s.ifaces.n, 0);
	/* ... outlive the reset that each hand-over makes. */
	make_v4(&d, 0xc6120001, 0xc6120002, 6, 1, 2, 60);
	tabset_account(&s, &ln, 0, 1006, 960, DECODE_IPV4, &d, 74);
	tabset_drain(&s);
	assert_int_equal(s.nlocal_run, 3);
	assert_int_equal(s.ntransit_run, 2);
	tabset_clear(&s);
}

static void
test_overflow_keeps_totals(void **state)
{
	struct tabset_limits lim = { 16, 16, 16, 16, 0 };
	struct tabset s;
	struct decoded d;
	const struct ft_key *k;
	const char *errstr;
	uint64_t bytes = 0, overflow_pk = 0;
	size_t i;
	uint32_t n;

	(void)state;
	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	for (n = 0; n < 1000; n++) {
		make_v4(&d, 0xc6120000 + n, 0x0a000000 + n, 17, 1000 + n, 2000,
		    50 + n);
		tabset_account(&s, &ln, 0, 5, 0, DECODE_IPV4, &d, 64 + n);
	}
	tabset_drain(&s);
	assert_true(s.hosts.n <= lim.max_hosts + 1);
	assert_int_equal(sum_packets(&s.hosts, -1), 1000);
	assert_int_equal(sum_packets(&s.ports, -1), 1000);
	assert_int_equal(sum_packets(&s.peers, -1), 1000);
	for (i = 0; i < s.hosts.n; i++) {
		k = flowtab_key(&s.hosts, i);
		bytes += flowtab_count(&s.hosts, k)->bytes;
		if (k->family == PROTO_AF_NONE)
			overflow_pk += flowtab_count(&s.hosts, k)->packets;
	}
	assert_int_equal(bytes, 1000 * 50 + 999 * 1000 / 2);
	assert_int_equal(overflow_pk, 1000 - lim.max_hosts);
	assert_true(s.health[0].overflow >= overflow_pk);
	assert_true(tabset_nearly_full(&s));
	tabset_clear(&s);
}

static uint64_t
sum_bytes(const struct flowtab *t)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		n += flowtab_count(t, flowtab_key(t, i))->bytes;
	return n;
}

/*
 * Overflow rows are one per (bucket, interface, direction): a tabset kept
 * across many buckets (a sender that refuses it) runs out of room for
 * them, and tabset_overflow_full must say so before a packet's bytes miss
 * the host rows.  Pushing on regardless shows the loss it guards against.
 */
static void
test_overflow_rows_room(void **state)
{
	struct tabset_limits lim = { 16, 64, 64, 4096, 0 };
	struct tabset s;
	struct decoded d;
	const char *errstr;
	uint64_t sent = 0;
	uint32_t n, full_at = 0;
	int64_t b;

	(void)state;
	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	for (n = 0; n < lim.max_hosts; n++) {
		make_v4(&d, 0x0a000001 + n, 0xc6120001, 17, 5353, 53, 80);
		tabset_push(&s, &ln, 0, 0, 0, DECODE_IPV4, &d, 94);
		sent += 80;
	}
	/* A new local host each way in every bucket: two overflow rows. */
	for (n = 1; n < 1000 && full_at == 0; n++) {
		b = (int64_t)n * 60;
		make_v4(&d, 0x0a010000 + n, 0xc6120001, 17, 5353, 53, 100);
		if (tabset_overflow_full(&s)) {
			full_at = n;
			break;
		}
		tabset_push(&s, &ln, 0, b, b, DECODE_IPV4, &d, 114);
		sent += 100;
		make_v4(&d, 0xc6120001, 0x0a020000 + n, 17, 53, 5353, 120);
		if (tabset_overflow_full(&s)) {
			full_at = n;
			break;
		}
		tabset_push(&s, &ln, 0, b, b, DECODE_IPV4, &d, 134);
		sent += 120;
	}
	assert_true(full_at > 1);
	assert_true(full_at < 1000);
	tabset_drain(&s);
	assert_int_equal(sum_bytes(&s.hosts), sent);
	for (n = full_at; n < full_at + 100; n++) {
		b = (int64_t)n * 60;
		make_v4(&d, 0x0a010000 + n, 0xc6120001, 17, 5353, 53, 100);
		tabset_push(&s, &ln, 0, b, b, DECODE_IPV4, &d, 114);
		sent += 100;
	}
	tabset_drain(&s);
	assert_true(sum_bytes(&s.hosts) < sent);
	tabset_clear(&s);
}

static void
test_buckets_are_keys(void **state)
{
	struct tabset_limits lim = { 64, 64, 64, 16, 0 };
	struct tabset s;
	struct decoded d;
	const char *errstr;

	(void)state;
	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	make_v4(&d, 0x0a000001, 0xc6120001, 6, 40000, 80, 40);
	tabset_account(&s, &ln, 0, 59, 0, DECODE_IPV4, &d, 60);
	tabset_account(&s, &ln, 0, 60, 60, DECODE_IPV4, &d, 60);
	tabset_account(&s, &ln, 0, 61, 60, DECODE_IPV4, &d, 60);
	assert_int_equal(s.hosts.n, 2);
	assert_int_equal(s.ifaces.n, 2);
	tabset_clear(&s);
}

/* 1 when two tables hold the same entries, keys and counters, in order. */
static int
same_table(const struct flowtab *a, const struct flowtab *b)
{
	size_t i;

	if (a->n != b->n || a->esize != b->esize)
		return 0;
	for (i = 0; i < a->n; i++)
		if (memcmp(flowtab_key(a, i), flowtab_key(b, i), a->esize) != 0)
			return 0;
	return 1;
}

/*
 * tabset_push counts FT_AHEAD packets late, prefetching in between, or
 * at once while the rows are few, and turns from one to the other as
 * they grow: the tables must end up exactly as tabset_account leaves
 * them, overflow rows included, for a mix of directions, families, kinds
 * and buckets.
 */
static void
test_push_equals_account(void **state)
{
	struct tabset_limits lim = { 64, 256, 128, 16, 0 },
	    lim_few = { 64, 256, 128, 16, 100 };
	struct tabset a, b, c;
	struct decoded d;
	const char *errstr;
	enum decode_kind kind;
	uint32_t x = 12345, src, dst;
	int64_t ts;
	int n;

	(void)state;
	assert_int_equal(tabset_init(&a, &lim, &errstr), 0);
	assert_int_equal(tabset_init(&b, &lim, &errstr), 0);
	assert_int_equal(tabset_init(&c, &lim_few, &errstr), 0);
	for (n = 0; n < 5000; n++) {
		x = x * 1103515245u + 12345u;
		src = (x >> 8 & 1 ? 0x0a000000 : 0xc6120000) + (x >> 9 & 0xff);
		dst = (x >> 17 & 1 ? 0x0a000000 : 0xc6120000) + (x >> 18 & 0x3f);
		make_v4(&d, src, dst, x >> 24 & 1 ? 6 : x >> 25 & 1 ? 17 : 1,
		    (uint16_t)(x >> 4), (uint16_t)(x >> 12 & 0x3ff), 40 + n % 1400);
		kind = DECODE_IPV4;
		if (n % 10 == 3) {
			/* IPv6: fe80::/10 is not local here, fc00::/7 not either */
			memset(d.src, 0, 16);
			d.src[0] = 0x20; d.src[1] = 0x01; d.src[15] = (uint8_t)x;
			kind = DECODE_IPV6;
		} else if (n % 20 == 7) {
			kind = DECODE_NON_IP;
		} else if (n % 20 == 11) {
			kind = DECODE_MALFORMED;
		}
		ts = 1000 + n / 100;
		tabset_account(&a, &ln, n % 3 == 0 ? 1 : 0, ts, ts - ts % 60,
		    kind, &d, 60 + n % 1400);
		tabset_push(&b, &ln, n % 3 == 0 ? 1 : 0, ts, ts - ts % 60,
		    kind, &d, 60 + n % 1400);
		tabset_push(&c, &ln, n % 3 == 0 ? 1 : 0, ts, ts - ts % 60,
		    kind, &d, 60 + n % 1400);
		if (n == 0)
			assert_int_equal(c.few, 1);
	}
	assert_int_equal(c.few, 0);
	tabset_drain(&a);
	tabset_drain(&c);
	assert_true(same_table(&a.hosts, &c.hosts));
	assert_true(same_table(&a.ports, &c.ports));
	assert_true(same_table(&a.peers, &c.peers));
	assert_true(same_table(&a.ifaces, &c.ifaces));
	assert_memory_equal(a.health, c.health, sizeof(a.health));
	tabset_clear(&c);
	assert_true(b.npending > 0);
	tabset_drain(&b);
	assert_int_equal(b.npending, 0);
	assert_true(a.health[0].overflow > 0);
	assert_true(same_table(&a.hosts, &b.hosts));
	assert_true(same_table(&a.ports, &b.ports));
	assert_true(same_table(&a.peers, &b.peers));
	assert_true(same_table(&a.ifaces, &b.ifaces));
	assert_memory_equal(a.health, b.health, sizeof(a.health));
	assert_int_equal(a.npackets, 5000);
	assert_int_equal(b.npackets, 5000);
	assert_int_equal(a.first_ts, b.first_ts);
	assert_int_equal(a.last_ts, b.last_ts);
	tabset_clear(&a);
	tabset_clear(&b);
}

/*
 * The flow cache (flowtab.c) names rows for the packets of flows it has
 * seen: with three flows to each of its lines, evictions and collisions
 * on every line, each row must still hold exactly the packets of its own
 * key, counted here independently, before and after a reset.  Each round
 * starts with every flow new, which turns the cache off for a while (the
 * keys then go to the tables straight), and goes on at random, where a
 * third of the looks hit.  Flow i has peer 198.18.i/16 (its own peer
 * row), host i % FC_HOSTS, and protocol and service port from
 * q = i / FC_HOSTS: flows that differ only in the peer share host and
 * port rows.  Flow FC_FRAG is TCP on port 0, and a
 * flow of non-first fragments (no ports) shares its host, peer and
 * protocol: only the first may count in the port 0 row.
 */
#define FC_FLOWS	(3 * FT_FLOW_LINES)
#define FC_HOSTS	1000
#define FC_FRAG		7
/* IP bytes of a packet of flow i (each frame is FC_FRAME bytes). */
#define FC_IP_BYTES(i)	(100 + (i) % 7)
#define FC_FRAME	100

static uint32_t fc_want[FC_FLOWS];

static void
fc_flow(struct decoded *d, uint32_t i)
{
	uint32_t q = i / FC_HOSTS;

	make_v4(d, 0x0a000000 + i % FC_HOSTS, 0xc6120000 + i,
	    q / 2 % 2 == 0 ? 6 : 17, 40000, (uint16_t)(q % 2), FC_IP_BYTES(i));
}

/* Packets and IP bytes a row should hold. */
struct fc_sum {
	uint64_t	 packets;
	uint64_t	 bytes;
};

static void
fc_sum_add(struct fc_sum *w, uint64_t packets, uint32_t i)
{
	w->packets += packets;
	w->bytes += packets * FC_IP_BYTES(i);
}

/* The row's counters are w's, every frame FC_FRAME bytes. */
static void
fc_row_is(const struct flowtab *t, const struct ft_key *k,
    const struct fc_sum *w)
{
	const struct proto_count *c = flowtab_count(t, k);

	assert_int_equal(c->packets, w->packets);
	assert_int_equal(c->bytes, w->bytes);
	assert_int_equal(c->frame_bytes, w->packets * FC_FRAME);
}

static void
fc_check(const struct tabset *s, uint64_t frag)
{
	static struct fc_sum hosts[FC_HOSTS][2], ports[FC_HOSTS][4];
	struct fc_sum w;
	const struct ft_key *k;
	uint32_t i, peer, host;
	size_t j;

	memset(hosts, 0, sizeof(hosts));
	memset(ports, 0, sizeof(ports));
	for (i = 0; i < FC_FLOWS; i++) {
		fc_sum_add(&hosts[i % FC_HOSTS][i / FC_HOSTS / 2 % 2],
		    fc_want[i], i);
		fc_sum_add(&ports[i % FC_HOSTS][i / FC_HOSTS % 4],
		    fc_want[i], i);
	}
	fc_sum_add(&hosts[FC_FRAG][0], frag, FC_FRAG);
	assert_int_equal(s->peers.n, FC_FLOWS);
	for (j = 0; j < s->peers.n; j++) {
		k = flowtab_key(&s->peers, j);
		peer = (uint32_t)k->peer[2] << 8 | k->peer[3];
		memset(&w, 0, sizeof(w));
		fc_sum_add(&w, fc_want[peer] + (peer == FC_FRAG ? frag : 0),
		    peer);
		fc_row_is(&s->peers, k, &w);
	}
	assert_int_equal(s->ports.n, FC_HOSTS * 4);
	for (j = 0; j < s->ports.n; j++) {
		k = flowtab_key(&s->ports, j);
		host = (uint32_t)k->host[2] << 8 | k->host[3];
		fc_row_is(&s->ports, k,
		    &ports[host][(k->proto == 6 ? 0 : 2) + k->port]);
	}
	assert_int_equal(s->hosts.n, FC_HOSTS * 2);
	for (j = 0; j < s->hosts.n; j++) {
		k = flowtab_key(&s->hosts, j);
		host = (uint32_t)k->host[2] << 8 | k->host[3];
		fc_row_is(&s->hosts, k, &hosts[host][k->proto == 6 ? 0 : 1]);
	}
	assert_int_equal(s->health[0].overflow, 0);
}

/*
 * The flow cache test with few_keys: 0, or TABSET_FEW_KEYS (each round
 * starts counting at once and turns to the ring as the rows grow).
 */
static void
fc_run(size_t few_keys)
{
	struct tabset_limits lim = { 2 * FC_HOSTS, 2 * FC_FLOWS,
	    2 * FC_FLOWS, 16, few_keys };
	struct tabset s;
	struct decoded d, frag;
	const char *errstr;
	uint32_t x = 99, i;
	int round, n, passed = 0;

	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	fc_flow(&frag, FC_FRAG);
	frag.has_ports = 0;
	frag.sport = frag.dport = 0;
	for (round = 0; round < 2; round++) {
		memset(fc_want, 0, sizeof(fc_want));
		assert_int_equal(s.few, few_keys > 0);
		/* Every flow once, in order, then at random. */
		for (n = 0; n < 8 * FC_FLOWS; n++) {
			x = x * 1103515245u + 12345u;
			i = n < FC_FLOWS ? (uint32_t)n : (x >> 8) % FC_FLOWS;
			fc_flow(&d, i);
			tabset_push(&s, &ln, 0, 1000, 960, DECODE_IPV4, &d,
			    FC_FRAME);
			fc_want[i]++;
			passed += s.flow_off > 0;
			if (n % 10 == 0)
				tabset_push(&s, &ln, 0, 1000, 960,
				    DECODE_IPV4, &frag, FC_FRAME);
		}
		assert_int_equal(s.few, 0);
		/* The first window, every flow new, turned the cache off. */
		assert_true(passed > 0);
		tabset_drain(&s);
		fc_check(&s, (8 * FC_FLOWS + 9) / 10);
		tabset_reset(&s);
	}
	tabset_clear(&s);
}

static void
test_flow_cache_exact(void **state)
{
	(void)state;
	fc_run(0);
	fc_run(TABSET_FEW_KEYS);
}

/*
 * A flow cache line counts in 32 bits: packets whose bytes or frame
 * bytes would pass that go to the rows with what the line held, so the
 * rows still hold every byte, counted at once or through the ring.
 */
static void
test_flow_cache_wide_counts(void **state)
{
	struct tabset_limits lim[2] = { { 64, 64, 64, 16, TABSET_FEW_KEYS },
	    { 64, 64, 64, 16, 0 } };
	const struct proto_count *c;
	struct tabset s;
	struct decoded d;
	const char *errstr;
	uint64_t bytes, frame_bytes;
	uint32_t wirelen;
	int i, n;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(tabset_init(&s, &lim[i], &errstr), 0);
		bytes = frame_bytes = 0;
		for (n = 0; n < 40; n++) {
			/* Jumbograms and lengths a crafted capture claims. */
			wirelen = n % 4 == 3 ? 100 : UINT32_MAX - (uint32_t)n;
			make_v4(&d, 0x0a000001, 0xc6120001, 17, 5353, 53,
			    n % 5 == 0 ? 60 : (uint64_t)UINT32_MAX - 9 + n);
			tabset_push(&s, &ln, 0, 5, 0, DECODE_IPV4, &d,
			    wirelen);
			bytes += d.ip_bytes;
			frame_bytes += wirelen;
		}
		tabset_drain(&s);
		assert_int_equal(s.hosts.n, 1);
		c = flowtab_count(&s.hosts, flowtab_key(&s.hosts, 0));
		assert_int_equal(c->packets, 40);
		assert_int_equal(c->bytes, bytes);
		assert_int_equal(c->frame_bytes, frame_bytes);
		c = flowtab_count(&s.peers, flowtab_key(&s.peers, 0));
		assert_int_equal(c->bytes, bytes);
		assert_int_equal(c->frame_bytes, frame_bytes);
		c = flowtab_count(&s.ports, flowtab_key(&s.ports, 0));
		assert_int_equal(c->packets, 40);
		assert_int_equal(c->frame_bytes, frame_bytes);
		tabset_clear(&s);
	}
}

/*
 * The index slots in use (of the first cap); -1 unless where[] names the
 * slot of every entry.
 */
static long
used_slots(const struct flowtab *t)
{
	size_t i;
	long n = 0;

	for (i = 0; i < t->n; i++)
		if (t->where[i] >= t->cap || t->index[t->where[i]].ent != i ||
		    t->index[t->where[i]].tag == 0)
			return -1;
	for (i = 0; i < t->cap; i++)
		if (t->index[i].tag != 0)
			n++;
	return n;
}

/*
 * The index starts small and doubles as keys come (flowtab.c): keys seen
 * again after each doubling still find their entry, so every key is
 * counted in one row, pushed or accounted, before and after a reset.
 */
static void
test_index_grows(void **state)
{
	struct tabset_limits lim = { 8192, 32768, 32768, 16, 0 };
	struct tabset s;
	struct decoded d;
	const struct ft_key *k;
	const char *errstr;
	size_t i, round, nhosts = 5000;
	int pass;

	(void)state;
	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	assert_true(s.hosts.cap < s.hosts.cap_max);
	for (pass = 0; pass < 2; pass++) {
		/* Each host three times, a round over all hosts at a time. */
		for (round = 0; round < 3; round++)
			for (i = 0; i < nhosts; i++) {
				make_v4(&d, 0x0a000000 + (uint32_t)i, 0xc6120001,
				    17, 5000, (uint16_t)(1000 + i), 100);
				if (pass == 0)
					tabset_push(&s, &ln, 0, 1000, 960,
					    DECODE_IPV4, &d, 114);
				else
					tabset_account(&s, &ln, 0, 1000, 960,
					    DECODE_IPV4, &d, 114);
			}
		tabset_drain(&s);
		assert_int_equal(s.hosts.n, nhosts);
		assert_int_equal(s.ports.n, nhosts);
		assert_int_equal(s.peers.n, nhosts);
		for (i = 0; i < nhosts; i++) {
			k = flowtab_key(&s.hosts, i);
			assert_int_equal(flowtab_count(&s.hosts, k)->packets, 3);
			k = flowtab_key(&s.ports, i);
			assert_int_equal(flowtab_count(&s.ports, k)->packets, 3);
			k = flowtab_key(&s.peers, i);
			assert_int_equal(flowtab_count(&s.peers, k)->packets, 3);
		}
		/* One slot per key, which where[] names; half full at most. */
		assert_int_equal(used_slots(&s.hosts), nhosts);
		assert_int_equal(used_slots(&s.peers), nhosts);
		assert_true(2 * s.hosts.n <= s.hosts.cap);
		assert_true(s.hosts.cap < 4 * s.hosts.n);
		assert_true(s.hosts.cap <= s.hosts.cap_max);
		tabset_reset(&s);
	}
	tabset_clear(&s);
}

/* Packets pushed and not yet counted count in tabset_nearly_full. */
static void
test_pending_count_as_full(void **state)
{
	struct tabset_limits lim = { 16, 64, 64, 16, 0 };
	struct tabset s;
	struct decoded d;
	const char *errstr;
	uint32_t n;

	(void)state;
	assert_int_equal(tabset_init(&s, &lim, &errstr), 0);
	for (n = 0; n < FT_AHEAD - 1; n++) {
		make_v4(&d, 0x0a000001 + n, 0xc6120001, 17, 5353, 53, 80);
		tabset_push(&s, &ln, 0, 5, 0, DECODE_IPV4, &d, 94);
	}
	/* 7 pending and one more: at most 16 host keys, the cap. */
	assert_int_equal(s.hosts.n, 0);
	assert_false(tabset_nearly_full(&s));
	make_v4(&d, 0x0a000001 + n, 0xc6120001, 17, 5353, 53, 80);
	tabset_push(&s, &ln, 0, 5, 0, DECODE_IPV4, &d, 94);
	assert_int_equal(s.hosts.n, 0);
	assert_true(tabset_nearly_full(&s));
	tabset_drain(&s);
	assert_int_equal(s.hosts.n, FT_AHEAD);
	assert_int_equal(sum_packets(&s.hosts, PROTO_DIR_OUT), FT_AHEAD);
	assert_false(tabset_nearly_full(&s));
	tabset_clear(&s);
}

static void
test_localnet(void **state)
{
	struct localnets l;
	const char *errstr;
	uint8_t a[16] = { 0 };

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(localnet_add_cidr(&l, "192.168.1.77/23", &errstr), 0);
	assert_int_equal(localnet_add_cidr(&l, "2001:db8::/33", &errstr), 0);
	assert_int_equal(localnet_add_cidr(&l, "10.0.0.1", &errstr), 0);
	assert_int_equal(localnet_add_cidr(&l, "10.0.0.0/33", &errstr), -1);
	assert_int_equal(localnet_add_cidr(&l, "10.0.0.0/", &errstr), -1);
	assert_int_equal(localnet_add_cidr(&l, "10.0.0.0/8x", &errstr), -1);
	assert_int_equal(localnet_add_cidr(&l, "nonsense", &errstr), -1);
	assert_int_equal(l.n, 3);
	a[0] = 192; a[1] = 168; a[2] = 0; a[3] = 1;
	assert_true(localnet_contains(&l, 4, a));
	a[2] = 1;
	assert_true(localnet_contains(&l, 4, a));
	a[2] = 2;
	assert_false(localnet_contains(&l, 4, a));
	a[0] = 10; a[1] = 0; a[2] = 0; a[3] = 1;
	assert_true(localnet_contains(&l, 4, a));
	a[3] = 2;
	assert_false(localnet_contains(&l, 4, a));
	memset(a, 0, sizeof(a));
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[4] = 0x7f;
	assert_true(localnet_contains(&l, 6, a));
	a[4] = 0x80;
	assert_false(localnet_contains(&l, 6, a));
	/* an IPv4 address never matches an IPv6 network */
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
	assert_false(localnet_contains(&l, 4, a));

	/* prefixes past 64 bits, 0 and 128, and IPv4 /0 */
	memset(&l, 0, sizeof(l));
	assert_int_equal(localnet_add_cidr(&l, "fd00:1:2:3:4500::/71",
	    &errstr), 0);
	memset(a, 0, sizeof(a));
	a[0] = 0xfd; a[3] = 1; a[5] = 2; a[7] = 3; a[8] = 0x45; a[15] = 9;
	assert_true(localnet_contains(&l, 6, a));
	a[8] = 0x44;
	assert_true(localnet_contains(&l, 6, a));	/* bit 72 is free */
	a[8] = 0x47;
	assert_false(localnet_contains(&l, 6, a));
	a[8] = 0x45; a[7] = 2;
	assert_false(localnet_contains(&l, 6, a));
	assert_int_equal(localnet_add_cidr(&l, "2001:db8::5", &errstr), 0);
	memset(a, 0, sizeof(a));
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[15] = 5;
	assert_true(localnet_contains(&l, 6, a));
	a[15] = 4;
	assert_false(localnet_contains(&l, 6, a));
	assert_false(localnet_contains(&l, 4, a));
	assert_int_equal(localnet_add_cidr(&l, "0.0.0.0/0", &errstr), 0);
	assert_true(localnet_contains(&l, 4, a));
	assert_false(localnet_contains(&l, 0, a));
	assert_int_equal(localnet_add_cidr(&l, "::/0", &errstr), 0);
	assert_true(localnet_contains(&l, 6, a));
}

/* The local networks as the start-up line and the transit warning list them. */
static void
test_localnet_format(void **state)
{
	struct localnets l;
	const char *errstr;
	char buf[256], tiny[12];

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_string_equal(localnet_format(&l, 6, buf, sizeof(buf)), "none");
	assert_int_equal(localnet_add_private(&l, &errstr), 0);
	assert_string_equal(localnet_format(&l, 6, buf, sizeof(buf)),
	    "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7 fe80::/10");
	assert_string_equal(localnet_format(&l, 2, buf, sizeof(buf)),
	    "10.0.0.0/8 172.16.0.0/12 and 3 more");
	assert_int_equal(localnet_add_cidr(&l, "2001:db8::5", &errstr), 0);
	assert_string_equal(localnet_format(&l, 6, buf, sizeof(buf)),
	    "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7 fe80::/10 "
	    "2001:db8::5/128");
	/* Cut to the buffer, still a string. */
	assert_string_equal(localnet_format(&l, 6, tiny, sizeof(tiny)),
	    "10.0.0.0/8 ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_directions, setup),
		cmocka_unit_test_setup(test_overflow_keeps_totals, setup),
		cmocka_unit_test_setup(test_overflow_rows_room, setup),
		cmocka_unit_test_setup(test_buckets_are_keys, setup),
		cmocka_unit_test_setup(test_push_equals_account, setup),
		cmocka_unit_test_setup(test_flow_cache_exact, setup),
		cmocka_unit_test_setup(test_flow_cache_wide_counts, setup),
		cmocka_unit_test_setup(test_pending_count_as_full, setup),
		cmocka_unit_test_setup(test_index_grows, setup),
		cmocka_unit_test(test_localnet),
		cmocka_unit_test(test_localnet_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
