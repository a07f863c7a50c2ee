/*
 * fuzz_flowtab.c - libFuzzer target over the whole per-packet path:
 * decode_frame then tabset_push (counted up to FT_AHEAD packets later,
 * drained before each check), as the capture loop runs them.
 *
 * The input is a classic pcap file (either byte order, micro- or
 * nanosecond magic), so the project's generated captures and the shared
 * corpus are seeds as they are (tests/fuzz/pcap-seeds.sh cuts them to a
 * few KiB).  Records are read until the first one that does not fit, as
 * libpcap stops at a truncated record.  Each frame is copied into a buffer
 * of exactly caplen bytes, so a read past the capture is an ASan error.
 *
 * The tables are tiny (32 keys, 16 interface rows) so the capture loop's
 * early flush is exercised on every input, and still hold more than
 * FT_AHEAD packets' keys.  Below 40 rows tabset_push counts at once,
 * past them through its ring, so an input with enough keys takes both
 * ways; the index grows from 16 slots to its 64 on the way (flowtab.c).
 * Before each flush the conservation laws are checked against counts
 * kept here, independently of flowtab.c:
 *   interface frames = IPv4 + IPv6 + non-IP + malformed, per row;
 *   host-row packets = IP packets with a local source + those with a local
 *   destination (both-local packets twice), and likewise bytes;
 *   port rows = the host rows of packets with ports; peer rows = host rows;
 *   overflow-row packets = the health overflow count;
 *   health captured and malformed = the interface rows' frames, malformed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flowtab.h"
#include "localnet.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)
#define RESOLUTION	60

struct expect {
	uint64_t	 frames, ip, host_packets, host_bytes, host_frame_bytes;
	uint64_t	 port_packets;
};

struct sums {
	uint64_t	 packets, bytes, frame_bytes, overflow_packets;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static uint32_t	rd32(const uint8_t *, int);
static void	sum_table(const struct flowtab *, struct sums *);
static void	check_tabset(const struct tabset *, const struct expect *);
static void	setup(void);

static struct tabset	 set;
static struct localnets	 ln;
static int		 ready;

static uint32_t
rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	if (swap)
		v = __builtin_bswap32(v);
	return v;
}

static void
sum_table(const struct flowtab *t, struct sums *s)
{
	const struct ft_key *k;
	const struct proto_count *c;
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < t->n; i++) {
		k = flowtab_key(t, i);
		c = flowtab_count(t, k);
		s->packets += c->packets;
		s->bytes += c->bytes;
		s->frame_bytes += c->frame_bytes;
		if (k->family == PROTO_AF_NONE)
			s->overflow_packets += c->packets;
	}
}

/* The laws of one tabset against what this file counted into it. */
static void
check_tabset(const struct tabset *t, const struct expect *e)
{
	const struct ft_iface_count *ic;
	const struct ft_key *k;
	struct sums h, p, q;
	uint64_t frames = 0, malformed = 0, ip = 0, transit = 0;
	size_t i;

	for (i = 0; i < t->ifaces.n; i++) {
		k = flowtab_key(&t->ifaces, i);
		ic = flowtab_iface_count(&t->ifaces, k);
		CHECK(ic->frames == ic->ipv4_packets + ic->ipv6_packets +
		    ic->non_ip_frames + ic->malformed_frames);
		CHECK(ic->transit_packets <= ic->ipv4_packets +
		    ic->ipv6_packets);
		CHECK(k->bucket % RESOLUTION == 0);
		frames += ic->frames;
		malformed += ic->malformed_frames;
		ip += ic->ipv4_packets + ic->ipv6_packets;
		transit += ic->transit_packets;
	}
	CHECK(frames == e->frames && frames == t->npackets);
	CHECK(ip == e->ip);
	CHECK(t->health[0].captured == frames);
	CHECK(t->health[0].malformed == malformed);
	sum_table(&t->hosts, &h);
	sum_table(&t->ports, &p);
	sum_table(&t->peers, &q);
	CHECK(h.packets == e->host_packets);
	CHECK(h.bytes == e->host_bytes);
	CHECK(h.frame_bytes == e->host_frame_bytes);
	/* Every IP packet is transit or has at least one host row. */
	CHECK(h.packets >= ip - transit && h.packets <= 2 * (ip - transit));
	CHECK(q.packets == h.packets && q.bytes == h.bytes &&
	    q.frame_bytes == h.frame_bytes);
	CHECK(p.packets == e->port_packets);
	CHECK(h.overflow_packets + p.overflow_packets + q.overflow_packets ==
	    t->health[0].overflow);
	CHECK(t->hosts.n <= t->hosts.hard && t->ports.n <= t->ports.hard &&
	    t->peers.n <= t->peers.hard);
}

static void
setup(void)
{
	struct tabset_limits lim = { 32, 32, 32, 16, 40 };
	const char *errstr;

	if (tabset_init(&set, &lim, &errstr) == -1 ||
	    localnet_add_cidr(&ln, "10.0.0.0/8", &errstr) == -1 ||
	    localnet_add_cidr(&ln, "192.168.0.0/16", &errstr) == -1 ||
	    localnet_add_cidr(&ln, "fc00::/7", &errstr) == -1 ||
	    localnet_add_cidr(&ln, "fe80::/10", &errstr) == -1)
		abort();
	ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expect e;
	struct decoded d;
	enum decode_kind kind;
	uint32_t magic, caplen, wirelen;
	int64_t ts, bucket;
	uint8_t *frame;
	size_t off;
	int swap, dlt, af, sl, dl;

	if (!ready)
		setup();
	if (size < 24)
		return 0;
	memcpy(&magic, data, 4);
	swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	if (!swap && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)
		return 0;
	dlt = (int)(rd32(data + 20, swap) & 0x0fffffff);
	tabset_reset(&set);
	memset(&e, 0, sizeof(e));
	for (off = 24; size - off >= 16; off += 16 + caplen) {
		caplen = rd32(data + off + 8, swap);
		wirelen = rd32(data + off + 12, swap);
		if (caplen > size - off - 16)
			break;		/* a truncated record ends the file */
		/* As the capture loop: flush before a table could fill. */
		if (tabset_nearly_full(&set)) {
			tabset_drain(&set);
			check_tabset(&set, &e);
			tabset_reset(&set);
			memset(&e, 0, sizeof(e));
		}
		if ((frame = malloc(caplen ? caplen : 1)) == NULL)
			return 0;
		memcpy(frame, data + off + 16, caplen);
		ts = rd32(data + off, swap);
		bucket = ts - ts % RESOLUTION;
		memset(&d, 0, sizeof(d));
		kind = decode_frame(dlt, frame, caplen, wirelen, &d);
		tabset_push(&set, &ln, 0, ts, bucket, kind, &d, wirelen);
		free(frame);
		e.frames++;
		if (kind != DECODE_IPV4 && kind != DECODE_IPV6)
			continue;
		e.ip++;
		af = kind == DECODE_IPV4 ? PROTO_AF_INET : PROTO_AF_INET6;
		sl = localnet_contains(&ln, af, d.src);
		dl = localnet_contains(&ln, af, d.dst);
		e.host_packets += (uint64_t)(sl + dl);
		e.host_bytes += (uint64_t)(sl + dl) * d.ip_bytes;
		e.host_frame_bytes += (uint64_t)(sl + dl) * wirelen;
		if (d.has_ports)
			e.port_packets += (uint64_t)(sl + dl);
	}
	tabset_drain(&set);
	check_tabset(&set, &e);
	return 0;
}
