/*
 * flowtab.h - the capture thread's counting tables.
 *
 * A tabset is everything counted between two flushes: host, port, peer
 * and interface tables plus health counters.  Each table is a
 * fixed-capacity array of entries, filled in insertion order, under an
 * open-addressing index of 8-byte slots; both are allocated once at
 * start-up and nothing is allocated per packet.  The capture thread fills
 * one tabset while the sender encodes and empties the other (double
 * buffering).
 *
 * Entry caps bound memory.  A key that arrives when its table holds
 * max_* keys is counted in the overflow row of its (bucket, iface,
 * direction): the totals stay exact, only the detail is lost.
 */
#ifndef NETTALLY_FLOWTAB_H
#define NETTALLY_FLOWTAB_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "localnet.h"
#include "proto.h"

#define FLOWTAB_IFACES_MAX	16

/*
 * One key layout for every table, in 64-bit words that are hashed and
 * compared whole: host and port tables use the first FT_KEY_SHORT bytes
 * (4 words), peer adds the peer address (6 words).  Padding is zero.
 */
struct ft_key {
	uint16_t	 iface;
	uint16_t	 port;			/* port table only */
	uint8_t		 family;		/* enum proto_af */
	uint8_t		 proto;
	uint8_t		 dir;
	uint8_t		 pad;
	int64_t		 bucket;
	uint8_t		 host[16];
	uint8_t		 peer[16];		/* peer table only */
};
#define FT_KEY_SHORT	offsetof(struct ft_key, peer)
#define FT_KEY_LONG	sizeof(struct ft_key)

struct ft_iface_count {
	uint64_t	 frames;
	uint64_t	 frame_bytes;
	uint64_t	 ipv4_packets;
	uint64_t	 ipv6_packets;
	uint64_t	 non_ip_frames;
	uint64_t	 transit_packets;
	uint64_t	 malformed_frames;
};

/* An index slot: which entry, and hash bits that reject most others. */
struct ft_slot {
	uint32_t	 tag;		/* upper hash bits | 1; 0: empty */
	uint32_t	 ent;		/* entry number */
};

struct flowtab {
	struct ft_slot	*index;		/* cap slots, open addressing */
	uint8_t		*ents;		/* entries in insertion order */
	uint32_t	*where;		/* index slot of each entry */
	size_t		 ksize;		/* bytes of key hashed and compared */
	size_t		 esize;		/* entry size: key + counters */
	size_t		 cap;		/* index slots in use, a power of two */
	size_t		 cap_max;	/* index slots allocated: cap's bound */
	size_t		 max;		/* keys admitted before overflow */
	size_t		 hard;		/* keys admitted at all */
	size_t		 n;
};

struct ft_health {
	uint64_t	 captured;
	uint64_t	 overflow;
	uint64_t	 malformed;
	uint64_t	 kernel_drops;	/* set by the capture loop at a swap */
	uint64_t	 iface_drops;
};

/*
 * The flow cache: one line per (host, peer, protocol, direction, service
 * port, bucket, interface) seen lately, which counts that flow's packets
 * itself and adds them to its host, port and peer rows only when the
 * line is evicted or the tabset drained.  A packet of a flow already
 * cached so touches one line, where the tables would take three probes
 * and three rows' counters.  Two-way set-associative and lossy: a miss
 * counts through the tables as ever and fills a line of its set, in
 * place of the flow that counted fewer packets there (ft_flow_fill).
 * The first lines of all sets come first, then the second ones: the
 * flows that hit, most in a first line, then spread over every set of
 * the CPU's cache, where side by side pairs would use every other one.
 * The entry numbers of a line's rows lie apart, read only at a fold or a
 * fill: entries never move until a reset, so they stay right.  A reset
 * starts a new epoch, which empties every line at once.  Flows that
 * overflowed a table are never cached, so each of their packets still
 * counts in the health counters.
 */
#define FT_FLOW_LINES	4096		/* a power of two: 256 KiB */
#define FT_FLOW_WAYS	2
#define FT_FLOW_SETS	(FT_FLOW_LINES / FT_FLOW_WAYS)

struct ft_flow {
	uint64_t	 key[FT_KEY_LONG / 8];	/* peer key, w0 with port */
	/* Counted here and not yet in the rows: 32 bits keep a line in a
	 * cache line; a count that would not fit goes to the rows first. */
	uint32_t	 packets;
	uint32_t	 bytes;
	uint32_t	 frame_bytes;
	uint32_t	 epoch;		/* the line holds a flow when current */
};

/*
 * tabset_push counts a packet FT_AHEAD packets after it took it: it
 * prefetches the flow lines of the packet's keys at once and, FT_AHEAD/2
 * packets later, reads them and, on a miss, prefetches the index slots
 * where the count will probe, so that the count finds them in the cache
 * instead of waiting for each load in turn.
 * While the tables hold few keys, all of them in the cache already, it
 * counts at once instead.  When fewer than 1 in 8 of FT_FLOW_WINDOW
 * looks hit the flow cache (a flood, a scan, a capture of short flows),
 * the cache is left alone for the next FT_FLOW_OFF packets: their keys
 * are hashed and their index slots prefetched at once, the entries the
 * slots name FT_AHEAD/2 packets later.
 */
#define FT_AHEAD	8
#define FT_FLOW_WINDOW	4096
#define FT_FLOW_OFF	(15 * FT_FLOW_WINDOW)
#define FT_RING		16		/* > FT_AHEAD, a power of two */
#define FT_HOST		0
#define FT_PORT		1
#define FT_PEER		2

/* What the flow cache said of one local end of a packet. */
enum ft_flow_state {
	FT_FLOW_UNSEEN,			/* not asked yet */
	FT_FLOW_HIT,			/* line[] counts it */
	FT_FLOW_MISS,			/* count through the tables */
	FT_FLOW_PASS			/* the same, the cache being off */
};

/*
 * One packet taken by tabset_push and not counted yet.  Per local end,
 * key is the peer table's key; its first FT_KEY_SHORT bytes are the host
 * table's, and with port_w0 as the first word the port table's; with
 * flow_w0 as the first word it is the flow cache's.  base is the part of
 * every key's hash that their shared words make.
 */
struct ft_pkt {
	struct ft_key	 key[2];
	uint64_t	 port_w0[2];
	uint64_t	 flow_w0[2];
	uint64_t	 base[2];
	uint64_t	 flow_hash[2];
	uint64_t	 hash[2][3];	/* FT_HOST, FT_PORT, FT_PEER; on a miss */
	struct ft_flow	*line[2];	/* the flow cache's line, on a hit */
	uint32_t	 fills[2];	/* the tabset's flow_fills then */
	uint8_t		 flow[2];	/* enum ft_flow_state */
	uint64_t	 ip_bytes;
	int64_t		 ts;
	int64_t		 bucket;
	uint32_t	 wirelen;
	uint16_t	 iface;
	uint8_t		 kind;		/* enum decode_kind */
	uint8_t		 nend;		/* local ends keyed: 0 (transit) to 2 */
	uint8_t		 has_ports;
};

struct tabset {
	struct flowtab	 hosts;
	struct flowtab	 ports;
	struct flowtab	 peers;
	struct flowtab	 ifaces;	/* key: iface, bucket */
	struct ft_flow	*flows;		/* FT_FLOW_LINES lines */
	/* Each line's rows: entry numbers by FT_HOST, FT_PORT, FT_PEER. */
	uint32_t	(*flow_ents)[3];
	uint16_t	*flow_sets;	/* sets filled this epoch, ... */
	unsigned int	 nflow_sets;	/* ... so many */
	uint32_t	 flow_fills;	/* lines filled: a line named earlier
					 * may since hold another flow */
	uint32_t	 epoch;
	/* Keys the fullest host, port or peer table can still take. */
	size_t		 room;
	size_t		 rows;		/* host, port and peer rows then */
	size_t		 few_keys;	/* from tabset_limits */
	int		 few;		/* tabset_push counts at once */
	/* The flow cache's hits of its last looks, and while it is off. */
	uint32_t	 flow_looks;
	uint32_t	 flow_hits;
	uint32_t	 flow_off;	/* packets left to push with it off */
	struct ft_health health[FLOWTAB_IFACES_MAX];
	int64_t		 first_ts;
	int64_t		 last_ts;
	uint64_t	 npackets;
	/*
	 * IP packets counted since tabset_init with a local end, and with
	 * none (transit): the run's, which tabset_reset keeps, for the
	 * agent's closing line.  Only the counting thread writes them.
	 */
	uint64_t	 nlocal_run;
	uint64_t	 ntransit_run;
	/*
	 * A file source: packets libpcap delivered from the file (after the
	 * filter, the ones a resume read past included) when this tabset
	 * was handed over: every one of them is counted here or in an
	 * earlier tabset.  Set by the capture thread at each hand-over.
	 */
	uint64_t	 in_pos;
	/* The interface row of the last packet counted: most share it. */
	struct ft_iface_count *ic_last;
	int64_t		 ic_bucket;
	unsigned int	 ic_iface;
	/* Packets pushed and not counted: ring[(head - npending) % FT_RING] on. */
	unsigned int	 head;
	unsigned int	 npending;
	struct ft_pkt	 ring[FT_RING];
};

/*
 * Rows of the host, port and peer tables together below which their
 * entries, index slots and the flow lines in use stay in the cache
 * (about 0.6 MiB at most): prefetching then buys nothing and costs a
 * tenth of a packet's instructions.
 */
#define TABSET_FEW_KEYS	4096

struct tabset_limits {
	size_t		 max_hosts;
	size_t		 max_ports;
	size_t		 max_peers;
	size_t		 max_buckets;	/* interface rows per flush */
	/*
	 * Host, port and peer rows in all up to which tabset_push counts at
	 * once (TABSET_FEW_KEYS); 0: always through its ring.
	 */
	size_t		 few_keys;
};

/* Allocates the tables of *t (zeroed, untouched pages stay virtual). */
int	tabset_init(struct tabset *, const struct tabset_limits *,
	    const char **errstr);
/* Frees the tables; NULL-safe. */
void	tabset_clear(struct tabset *);
/*
 * Empties *t for reuse; touches only the used slots' pages.  The run's
 * counts (nlocal_run, ntransit_run) stay.
 */
void	tabset_reset(struct tabset *);
/*
 * Keys per table that the packets pushed and not yet counted, and one
 * more, add at most: two each (both ends local).
 */
static inline size_t
tabset_keys_ahead(const struct tabset *s)
{
	return 2 * ((size_t)s->npending + 1);
}
/*
 * 1 when the packets pushed and not yet counted plus one more could push
 * a table past its cap.  Asked before every packet, so inline.
 */
static inline int
tabset_nearly_full(const struct tabset *s)
{
	return tabset_keys_ahead(s) > s->room ||
	    s->ifaces.n + s->npending + 1 > s->ifaces.max;
}
/*
 * 1 when the packets pushed and not yet counted plus one more could find
 * a table out of room for overflow rows too (`hard`), where a packet's
 * bytes would reach the interface totals only.  Overflow rows are one per
 * (bucket, interface, direction), so only a tabset the sender refused
 * for thousands of buckets comes here; a live capture then hands it over
 * even if it must wait.
 */
static inline int
tabset_overflow_full(const struct tabset *s)
{
	size_t k = tabset_keys_ahead(s);

	return s->hosts.n + k > s->hosts.hard ||
	    s->ports.n + k > s->ports.hard || s->peers.n + k > s->peers.hard;
}
/* 1 when nothing was counted since the last reset. */
int	tabset_empty(const struct tabset *);

/*
 * Counts one decoded frame of interface iface captured at ts (seconds)
 * into bucket `bucket`, now.  kind and d come from decode_frame (d may be
 * NULL unless kind is DECODE_IPV4 or DECODE_IPV6).  Packets pushed
 * before must have been drained.  The tables show the packet once
 * tabset_drain has emptied the flow cache into them.
 */
void	tabset_account(struct tabset *, const struct localnets *,
	    unsigned int iface, int64_t ts, int64_t bucket,
	    enum decode_kind kind, const struct decoded *d, uint32_t wirelen);
/*
 * The same, counted up to FT_AHEAD packets later (the loads of the
 * tables overlap with the packets in between).  Nothing of *d is kept.
 * The tables show a pushed packet only after tabset_drain, which must be
 * called before the tabset is read, handed over or reset.
 */
void	tabset_push(struct tabset *, const struct localnets *,
	    unsigned int iface, int64_t ts, int64_t bucket,
	    enum decode_kind kind, const struct decoded *d, uint32_t wirelen);
/*
 * Counts every packet pushed and not counted yet, in order, and adds
 * what the flow cache counted to the rows.  The lines stay: the next
 * packets of their flows still hit.
 */
void	tabset_drain(struct tabset *);

/* The i-th key counted since the last reset, i < n. */
const struct ft_key *flowtab_key(const struct flowtab *, size_t i);
/* The counters stored after a key. */
const struct proto_count *flowtab_count(const struct flowtab *,
	    const struct ft_key *);
const struct ft_iface_count *flowtab_iface_count(const struct flowtab *,
	    const struct ft_key *);

#endif
