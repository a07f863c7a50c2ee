/*
 * traffic.c - the traffic model: which hosts exist, which flows they hold,
 * and for packet number i exactly what goes on the wire.
 *
 * Local hosts live in 10.1.0.0/16 and fd00:1::/64, remote hosts in
 * 198.18.0.0/15 and 2001:db8::/32 (both documentation/benchmark ranges).
 * A flow is a (local host, peer, family, protocol, ports) tuple; most
 * packets belong to a flow, in either direction.  With --mix a small,
 * fixed share of frames are ARP, transit, malformed, fragments or carry an
 * IPv6 hop-by-hop header or an IPv4 source route, and some flows are ICMP,
 * SCTP, GRE or between two local hosts.
 *
 * Invariants: every decision comes from the seeded streams below, in the
 * same order for the same options, so output is byte-identical; the model
 * holds O(hosts + flows) memory and nothing per packet; frame_len never
 * exceeds GEN_FRAME_MAX and always holds every header it describes.
 */
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* rng stream numbers: changing --packets does not change hosts or flows. */
#define STREAM_HOSTS	1
#define STREAM_FLOWS	2
#define STREAM_PACKETS	3

#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_GRE	47
#define PROTO_ICMPV6	58
#define PROTO_SCTP	132

#define L4_TCP		20
#define L4_UDP		8
#define L4_ICMP		8
#define L4_SCTP		28	/* common header + DATA chunk header */
#define L4_GRE		32	/* GRE + inner IPv4 + inner UDP */

/* --mix rates, per 10000 frames */
#define MIX_ARP		50
#define MIX_TRANSIT	50
#define MIX_MALFORMED	30
#define MIX_FRAGMENT	100
#define MIX_HBH		100	/* IPv6 hop-by-hop, IPv4 source route */

const char *const traffic_cidrs[] = { "10.1.0.0/16", "fd00:1::/64", NULL };

struct host {
	uint8_t		 a4[4];
	uint8_t		 a6[16];
	uint8_t		 mac[6];
};

struct flow {
	uint32_t	 a;		/* local host index */
	uint32_t	 b;		/* remote index, or local index if l2l */
	uint32_t	 seq_a;		/* next TCP sequence number, a side */
	uint32_t	 seq_b;
	uint16_t	 srv_port;
	uint16_t	 cli_port;
	uint8_t		 v6;
	uint8_t		 proto;
	uint8_t		 l2l;		/* b is a local host too */
	uint8_t		 a_server;	/* a holds the service port */
};

struct traffic {
	struct gen_opts	 o;
	struct host	*local;
	struct host	*remote;
	struct flow	*flows;
	struct rng	 rp;		/* per-packet decisions */
	uint64_t	 now_us;	/* microseconds since start */
	uint64_t	 step_q;	/* duration_us / npackets ... */
	uint64_t	 step_r;	/* ... and its remainder */
	uint64_t	 step_acc;
	uint16_t	 ip_id;
	uint32_t	 link;		/* link header bytes before IP */
	uint32_t	 arp_link;	/* ... and before ARP */
	uint8_t		 opaque;	/* frame_opaque: no frame is IP */
	int		 only;		/* frame_link_only: 4, 6 or 0 */
};

static const uint16_t tcp_ports[] = {
	443, 443, 443, 443, 443, 443, 80, 80, 80, 22, 22, 25, 587, 993,
	3306, 5432, 6379, 8080, 8443, 53,
};
static const uint16_t udp_ports[] = {
	53, 53, 53, 53, 443, 443, 443, 123, 123, 67, 161, 500, 514, 1194,
	3478, 4500, 5353,
};
static const uint16_t sctp_ports[] = { 2905, 3868, 36412, 38412 };

static const uint8_t router_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t router2_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void	 hosts_make(struct traffic *);
static int	 flows_make(struct traffic *);
static void	 flow_draw(struct traffic *, struct rng *, struct flow *);
static uint16_t	 rand_group(struct rng *);
static uint16_t	 ephemeral_port(struct rng *);
static uint32_t	 size_pick(struct traffic *);
static uint32_t	 l4_hdr_len(uint8_t proto);
static void	 put_addrs(struct gen_pkt *, const struct host *,
		    const struct host *, int v6);
static void	 pkt_arp(struct traffic *, struct gen_pkt *);
static void	 pkt_transit(struct traffic *, struct gen_pkt *);
static void	 pkt_malformed(struct traffic *, struct gen_pkt *);
static void	 pkt_flow(struct traffic *, struct gen_pkt *, uint64_t r);
static void	 pkt_flood(struct traffic *, struct gen_pkt *);

/* A random 16-bit group that is zero a third of the time (tests "::"). */
static uint16_t
rand_group(struct rng *r)
{
	if (rng_below(r, 3) == 0)
		return 0;
	return (uint16_t)(1 + rng_below(r, 0xffff));
}

/* Mostly the Linux range; one in ten from the old BSD range 1024-4999,
 * which can be below the service port (the service port is the minimum). */
static uint16_t
ephemeral_port(struct rng *r)
{
	if (rng_below(r, 10) == 0)
		return (uint16_t)(1024 + rng_below(r, 3976));
	return (uint16_t)(32768 + rng_below(r, 28232));
}

/*
 * Addresses are unique by construction: the last IPv4 bits and the last
 * IPv6 group(s) hold the host number; the other IPv6 groups are random.
 * Remote IPv4 numbers are spread over the /15 by a multiplicative
 * permutation (7919 is prime to 131070).
 */
static void
hosts_make(struct traffic *t)
{
	struct rng r;
	uint32_t i, k;
	int g;

	rng_init(&r, t->o.seed, STREAM_HOSTS);
	for (i = 0; i < t->o.nlocal; i++) {
		struct host *h = &t->local[i];
		uint32_t n = i + 1;

		h->a4[0] = 10;
		h->a4[1] = 1;
		h->a4[2] = (uint8_t)(n >> 8);
		h->a4[3] = (uint8_t)n;
		memset(h->a6, 0, 16);
		h->a6[0] = 0xfd;
		h->a6[3] = 0x01;
		for (g = 4; g < 7; g++) {
			uint16_t v = rand_group(&r);

			h->a6[2 * g] = (uint8_t)(v >> 8);
			h->a6[2 * g + 1] = (uint8_t)v;
		}
		h->a6[14] = (uint8_t)(n >> 8);
		h->a6[15] = (uint8_t)n;
		h->mac[0] = 0x02;
		h->mac[1] = 0x00;
		h->mac[2] = 10;
		h->mac[3] = 1;
		h->mac[4] = (uint8_t)(n >> 8);
		h->mac[5] = (uint8_t)n;
	}
	for (i = 0; i < t->o.nremote; i++) {
		struct host *h = &t->remote[i];
		uint32_t n = i + 1;

		k = (uint32_t)(((uint64_t)i * 7919) % GEN_REMOTE_MAX) + 1;
		h->a4[0] = 198;
		h->a4[1] = (uint8_t)(18 + (k >> 16));
		h->a4[2] = (uint8_t)(k >> 8);
		h->a4[3] = (uint8_t)k;
		memset(h->a6, 0, 16);
		h->a6[0] = 0x20;
		h->a6[1] = 0x01;
		h->a6[2] = 0x0d;
		h->a6[3] = 0xb8;
		for (g = 2; g < 6; g++) {
			uint16_t v = rand_group(&r);

			h->a6[2 * g] = (uint8_t)(v >> 8);
			h->a6[2 * g + 1] = (uint8_t)v;
		}
		h->a6[12] = (uint8_t)(n >> 24);
		h->a6[13] = (uint8_t)(n >> 16);
		h->a6[14] = (uint8_t)(n >> 8);
		h->a6[15] = (uint8_t)n;
		memcpy(h->mac, router_mac, 6);
	}
}

static void
flow_draw(struct traffic *t, struct rng *r, struct flow *f)
{
	uint64_t pr;

	memset(f, 0, sizeof(*f));
	f->a = (uint32_t)rng_below(r, t->o.nlocal);
	f->v6 = rng_below(r, 100) < t->o.ipv6_pct;
	pr = rng_below(r, 100);
	if (t->o.mix && pr < 3)
		f->proto = f->v6 ? PROTO_ICMPV6 : PROTO_ICMP;
	else if (t->o.mix && pr < 6)
		f->proto = rng_below(r, 2) ? PROTO_SCTP : PROTO_GRE;
	else if (pr < 72)
		f->proto = PROTO_TCP;
	else
		f->proto = PROTO_UDP;
	f->l2l = t->o.mix && t->o.nlocal >= 2 && rng_below(r, 100) < 5;
	if (f->l2l) {
		f->b = (uint32_t)rng_below(r, t->o.nlocal - 1);
		if (f->b >= f->a)
			f->b++;
	} else
		f->b = (uint32_t)rng_below(r, t->o.nremote);
	f->a_server = rng_below(r, 100) < (f->l2l ? 50u : 15u);
	switch (f->proto) {
	case PROTO_TCP:
		f->srv_port = tcp_ports[rng_below(r, NELEM(tcp_ports))];
		break;
	case PROTO_UDP:
		f->srv_port = udp_ports[rng_below(r, NELEM(udp_ports))];
		break;
	case PROTO_SCTP:
		f->srv_port = sctp_ports[rng_below(r, NELEM(sctp_ports))];
		break;
	default:
		break;
	}
	if (f->srv_port != 0)
		f->cli_port = ephemeral_port(r);
	f->seq_a = (uint32_t)rng_next(r);
	f->seq_b = (uint32_t)rng_next(r);
}

/*
 * Draws nflows flows whose (local, peer, family, proto, service port)
 * tuples are distinct, retrying a collision a bounded number of times;
 * when the tuple space is too small the last draw is kept anyway.
 */
static int
flows_make(struct traffic *t)
{
	struct rng r;
	uint64_t *set, key, h;
	size_t cap, j;
	uint32_t i;
	int tries;

	cap = 16;
	while (cap < (size_t)t->o.nflows * 2)
		cap <<= 1;
	if ((set = calloc(cap, sizeof(*set))) == NULL)
		return -1;
	rng_init(&r, t->o.seed, STREAM_FLOWS);
	for (i = 0; i < t->o.nflows; i++) {
		struct flow *f = &t->flows[i];

		for (tries = 0; tries < 64; tries++) {
			uint16_t port;

			flow_draw(t, &r, f);
			port = f->srv_port < f->cli_port ? f->srv_port : f->cli_port;
			key = ((uint64_t)f->a << 41) | ((uint64_t)f->b << 24) |
			    ((uint64_t)f->l2l << 57) | ((uint64_t)f->v6 << 58) |
			    ((uint64_t)f->proto << 16) | port;
			key++;		/* 0 marks an empty slot */
			h = key * 0x9e3779b97f4a7c15ULL;
			h ^= h >> 29;
			h *= 0xbf58476d1ce4e5b9ULL;
			h ^= h >> 32;
			for (j = h & (cap - 1); set[j] != 0 && set[j] != key;
			    j = (j + 1) & (cap - 1))
				;
			if (set[j] == 0) {
				set[j] = key;
				break;
			}
		}
	}
	free(set);
	return 0;
}

struct traffic *
traffic_new(const struct gen_opts *o, const char **errstr)
{
	struct traffic *t;
	uint64_t dur_us;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	t->o = *o;
	t->link = (uint32_t)frame_link_len(o, GEN_KIND_IPV4);
	t->arp_link = (uint32_t)frame_link_len(o, GEN_KIND_NON_IP);
	t->opaque = (uint8_t)frame_opaque(o);
	t->only = frame_link_only(o->link);
	t->local = calloc(o->nlocal, sizeof(*t->local));
	t->remote = calloc(o->nremote, sizeof(*t->remote));
	t->flows = calloc(o->nflows, sizeof(*t->flows));
	if (t->local == NULL || t->remote == NULL || t->flows == NULL)
		goto nomem;
	hosts_make(t);
	if (flows_make(t) == -1)
		goto nomem;
	rng_init(&t->rp, o->seed, STREAM_PACKETS);
	dur_us = o->duration * 1000000;
	t->step_q = o->npackets ? dur_us / o->npackets : 0;
	t->step_r = o->npackets ? dur_us % o->npackets : 0;
	return t;
nomem:
	traffic_free(t);
	*errstr = "out of memory";
	return NULL;
}

void
traffic_free(struct traffic *t)
{
	if (t == NULL)
		return;
	free(t->local);
	free(t->remote);
	free(t->flows);
	free(t);
}

/* --size: a fixed frame length, or IMIX 7:4:1 of 64, 576 and 1500. */
static uint32_t
size_pick(struct traffic *t)
{
	uint64_t r;

	if (t->o.size_mode == GEN_SIZE_FIXED)
		return t->o.size;
	r = rng_below(&t->rp, 12);
	if (r < 7)
		return 64;
	if (r < 11)
		return 576;
	return 1500;
}

static uint32_t
l4_hdr_len(uint8_t proto)
{
	switch (proto) {
	case PROTO_TCP:
		return L4_TCP;
	case PROTO_UDP:
		return L4_UDP;
	case PROTO_SCTP:
		return L4_SCTP;
	case PROTO_GRE:
		return L4_GRE;
	default:
		return L4_ICMP;
	}
}

static void
put_addrs(struct gen_pkt *p, const struct host *s, const struct host *d,
    int v6)
{
	if (v6) {
		p->kind = GEN_KIND_IPV6;
		memcpy(p->src, s->a6, 16);
		memcpy(p->dst, d->a6, 16);
	} else {
		p->kind = GEN_KIND_IPV4;
		memcpy(p->src, s->a4, 4);
		memcpy(p->dst, d->a4, 4);
	}
}

/* Who-has from a local host for another local address (or the gateway). */
static void
pkt_arp(struct traffic *t, struct gen_pkt *p)
{
	const struct host *h = &t->local[rng_below(&t->rp, t->o.nlocal)];

	p->kind = GEN_KIND_NON_IP;
	memcpy(p->src_mac, h->mac, 6);
	memcpy(p->dst_mac, bcast_mac, 6);
	memcpy(p->src, h->a4, 4);
	memcpy(p->dst, t->local[rng_below(&t->rp, t->o.nlocal)].a4, 4);
	p->frame_len = t->arp_link + 28;
}

/* Both ends remote: interface totals only (rule 6). */
static void
pkt_transit(struct traffic *t, struct gen_pkt *p)
{
	uint32_t x, y;
	int v6;

	x = (uint32_t)rng_below(&t->rp, t->o.nremote);
	y = (uint32_t)rng_below(&t->rp, t->o.nremote);
	v6 = rng_below(&t->rp, 100) < t->o.ipv6_pct;
	put_addrs(p, &t->remote[x], &t->remote[y], v6);
	memcpy(p->src_mac, router2_mac, 6);
	memcpy(p->dst_mac, router_mac, 6);
	p->proto = rng_below(&t->rp, 2) ? PROTO_TCP : PROTO_UDP;
	p->has_ports = 1;
	p->sport = ephemeral_port(&t->rp);
	p->dport = p->proto == PROTO_TCP ? 443 : 53;
	p->tcp_flags = 0x18;
	p->frame_len = size_pick(t);
	if (p->frame_len < t->link + (v6 ? 40u : 20u) + l4_hdr_len(p->proto))
		p->frame_len = t->link + (v6 ? 40u : 20u) + l4_hdr_len(p->proto);
}

/* IPv4 with IHL 0..4: interface totals only (rule 3). */
static void
pkt_malformed(struct traffic *t, struct gen_pkt *p)
{
	const struct host *h = &t->local[rng_below(&t->rp, t->o.nlocal)];
	const struct host *d = &t->remote[rng_below(&t->rp, t->o.nremote)];

	put_addrs(p, h, d, 0);
	p->kind = GEN_KIND_MALFORMED;
	p->bad_ihl = (uint8_t)rng_below(&t->rp, 5);
	p->proto = PROTO_TCP;
	memcpy(p->src_mac, h->mac, 6);
	memcpy(p->dst_mac, router_mac, 6);
	p->frame_len = size_pick(t);
	if (p->frame_len < t->link + 20 + L4_TCP)
		p->frame_len = t->link + 20 + L4_TCP;
}

/*
 * A packet of a flow, picked with a skew towards low flow numbers (the
 * smaller of two uniform draws), in a random direction.  r is the --mix
 * draw: it may make the packet a non-first fragment, give an IPv6 packet
 * a hop-by-hop header or an IPv4 packet a loose source route.
 */
static void
pkt_flow(struct traffic *t, struct gen_pkt *p, uint64_t r)
{
	struct flow *f;
	const struct host *a, *b;
	uint64_t x, y;
	uint32_t l3hdr, l4, pay;
	int fwd, from_srv;

	x = rng_below(&t->rp, t->o.nflows);
	y = rng_below(&t->rp, t->o.nflows);
	f = &t->flows[x < y ? x : y];
	fwd = (int)rng_below(&t->rp, 2);
	a = &t->local[f->a];
	b = f->l2l ? &t->local[f->b] : &t->remote[f->b];
	if (fwd) {
		put_addrs(p, a, b, f->v6);
		memcpy(p->src_mac, a->mac, 6);
		memcpy(p->dst_mac, b->mac, 6);
		p->src_local = 1;
		p->dst_local = f->l2l;
	} else {
		put_addrs(p, b, a, f->v6);
		memcpy(p->src_mac, b->mac, 6);
		memcpy(p->dst_mac, a->mac, 6);
		p->src_local = f->l2l;
		p->dst_local = 1;
	}
	p->proto = f->proto;
	from_srv = (fwd != 0) == (f->a_server != 0);
	if (f->srv_port != 0) {
		p->has_ports = 1;
		p->sport = from_srv ? f->srv_port : f->cli_port;
		p->dport = from_srv ? f->cli_port : f->srv_port;
	}
	l3hdr = f->v6 ? 40 : 20;
	l4 = l4_hdr_len(f->proto);

	if (f->proto == PROTO_ICMP || f->proto == PROTO_ICMPV6) {
		/* ping sizes of their own: 0-byte echoes give padded frames */
		static const uint32_t icmp_pay[] = { 0, 0, 32, 56 };

		p->icmp_type = f->proto == PROTO_ICMP ?
		    (from_srv ? 0 : 8) : (from_srv ? 129 : 128);
		p->frame_len = t->link + l3hdr + l4 +
		    icmp_pay[rng_below(&t->rp, NELEM(icmp_pay))];
		goto done;
	}
	p->frame_len = size_pick(t);
	if (t->o.mix && (f->proto == PROTO_TCP || f->proto == PROTO_UDP) &&
	    r < MIX_FRAGMENT) {
		/* non-first fragment: no L4 header, hence no ports (rule 5) */
		p->has_ports = 0;
		p->frag_off = (uint16_t)(185 * (1 + rng_below(&t->rp, 3)));
		p->more_frags = (uint8_t)rng_below(&t->rp, 2);
		if (f->v6) {
			p->v6_frag = 1;
			l3hdr += 8;
		}
		if (p->more_frags) {
			if (p->frame_len < t->link + l3hdr + 8)
				p->frame_len = t->link + l3hdr + 8;
			pay = (p->frame_len - t->link - l3hdr) & ~7u;
		} else
			pay = 1 + (uint32_t)rng_below(&t->rp, 40);
		p->frame_len = t->link + l3hdr + pay;
		goto done;
	}
	if (t->o.mix && r < MIX_FRAGMENT + MIX_HBH) {
		if (f->v6) {
			p->v6_hbh = 1;
			l3hdr += 8;
		} else {
			/*
			 * On its way through a router of TEST-NET-2, which
			 * no other packet uses: a decoder that counts the
			 * header's destination shows it.
			 */
			p->v4_lsrr = 1;
			p->hop[0] = 198;
			p->hop[1] = 51;
			p->hop[2] = 100;
			p->hop[3] = (uint8_t)(1 + t->ip_id % 254);
			l3hdr += GEN_LSRR_LEN;
		}
	}
	if (p->frame_len < t->link + l3hdr + l4)
		p->frame_len = t->link + l3hdr + l4;
	if (f->proto == PROTO_TCP) {
		pay = p->frame_len - t->link - l3hdr - l4;
		p->tcp_flags = pay ? 0x18 : 0x10;
		p->seq = fwd ? f->seq_a : f->seq_b;
		p->ack = fwd ? f->seq_b : f->seq_a;
		if (fwd)
			f->seq_a += pay;
		else
			f->seq_b += pay;
	}
	if (f->proto == PROTO_GRE) {
		const struct host *i1 = &t->remote[rng_below(&t->rp, t->o.nremote)];
		const struct host *i2 = &t->remote[rng_below(&t->rp, t->o.nremote)];

		memcpy(p->inner, i1->a4, 4);
		memcpy(p->inner + 4, i2->a4, 4);
	}
done:
	p->ip_id = t->ip_id++;
}

/*
 * --flood: a spoofed source, never local (IPv4 anywhere outside 10/8,
 * IPv6 in 2001:db8::/32 with random low bits), random ports, a TCP SYN or
 * a UDP datagram to a random local host: a new peer and port almost every
 * packet, which is what the agent's entry caps are for.
 */
static void
pkt_flood(struct traffic *t, struct gen_pkt *p)
{
	const struct host *d = &t->local[rng_below(&t->rp, t->o.nlocal)];
	uint64_t r;
	int v6, i;

	v6 = rng_below(&t->rp, 100) < t->o.ipv6_pct;
	if (v6) {
		p->kind = GEN_KIND_IPV6;
		p->src[0] = 0x20;
		p->src[1] = 0x01;
		p->src[2] = 0x0d;
		p->src[3] = 0xb8;
		for (i = 4; i < 16; i += 4) {
			r = rng_next(&t->rp);
			memcpy(p->src + i, &r, 4);
		}
		memcpy(p->dst, d->a6, 16);
	} else {
		p->kind = GEN_KIND_IPV4;
		do
			r = rng_next(&t->rp);
		while ((uint8_t)r == 10 || (uint8_t)r == 0);
		p->src[0] = (uint8_t)r;
		p->src[1] = (uint8_t)(r >> 8);
		p->src[2] = (uint8_t)(r >> 16);
		p->src[3] = (uint8_t)(r >> 24);
		memcpy(p->dst, d->a4, 4);
	}
	memcpy(p->src_mac, router_mac, 6);
	memcpy(p->dst_mac, d->mac, 6);
	p->dst_local = 1;
	p->proto = rng_below(&t->rp, 2) ? PROTO_TCP : PROTO_UDP;
	p->has_ports = 1;
	p->sport = (uint16_t)(1 + rng_below(&t->rp, 65535));
	p->dport = (uint16_t)(1 + rng_below(&t->rp, 65535));
	p->tcp_flags = 0x02;
	p->seq = (uint32_t)rng_next(&t->rp);
	p->frame_len = t->link + (v6 ? 40u : 20u) + l4_hdr_len(p->proto);
	p->ip_id = t->ip_id++;
}

void
traffic_next(struct traffic *t, struct gen_pkt *p)
{
	uint64_t r;

	memset(p, 0, sizeof(*p));
	p->ts_sec = t->o.start + (int64_t)(t->now_us / 1000000);
	p->ts_usec = (uint32_t)(t->now_us % 1000000);
	/* floor(i * duration / npackets), kept exact without a product */
	t->now_us += t->step_q;
	t->step_acc += t->step_r;
	if (t->step_acc >= t->o.npackets) {
		t->step_acc -= t->o.npackets;
		t->now_us++;
	}

	r = t->o.mix ? rng_below(&t->rp, 10000) : 10000;
	if (t->o.flood_pct != 0 && rng_below(&t->rp, 100) < t->o.flood_pct)
		pkt_flood(t, p);
	else if (r < MIX_ARP && t->only == 0)
		pkt_arp(t, p);
	else if (r < MIX_ARP + MIX_TRANSIT)
		pkt_transit(t, p);	/* also an IP-only link's ARP share */
	else if (r < MIX_ARP + MIX_TRANSIT + MIX_MALFORMED) {
		/* An IPv4 header is no IPv6 link's malformed packet. */
		if (t->only == 6)
			pkt_transit(t, p);
		else
			pkt_malformed(t, p);
	} else
		pkt_flow(t, p, r - MIX_ARP - MIX_TRANSIT - MIX_MALFORMED);
	if (p->frame_len > GEN_FRAME_MAX)
		p->frame_len = GEN_FRAME_MAX;
	/* rule 3's declared length; the frame builder writes this value */
	if (p->kind != GEN_KIND_NON_IP)
		p->l3_len = p->frame_len - t->link;
	p->opaque = t->opaque;
	p->wire_len = p->frame_len < GEN_ETH_MIN &&
	    frame_link_padded(t->o.link) ? GEN_ETH_MIN : p->frame_len;
	p->frame_bytes = p->wire_len - frame_link_pseudo(t->o.link);
}
