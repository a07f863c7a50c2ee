/*
 * gen.h - nettally-gen, the deterministic pcap generator used by the tests.
 *
 * The generator has four parts that only meet through this header:
 *   rng.c      a seeded xoshiro256** stream (no libc rand, same on every host)
 *   traffic.c  the traffic model: hosts, flows, and for each packet a
 *              struct gen_pkt that says exactly what is on the wire
 *   frame.c    turns one struct gen_pkt into frame bytes under the
 *              framing the options ask for
 *   pcapw.c    writes frames to a pcap or pcapng file or an AF_PACKET socket
 *   expect.c   counts every struct gen_pkt by DESIGN.md's accounting rules and
 *              writes the expected CSV files in oracle.py's formats
 * The expected counts come from the model's description of each packet,
 * never from parsing the frame bytes back: they are an independent count.
 */
#ifndef NETTALLY_GEN_H
#define NETTALLY_GEN_H

#include <stddef.h>
#include <stdint.h>

#define GEN_FRAME_MAX		9216	/* largest frame --size accepts */
#define GEN_ETH_MIN		60	/* Ethernet minimum without FCS */
#define GEN_LOCAL_MAX		65534
#define GEN_REMOTE_MAX		131070
#define GEN_LSRR_LEN		12	/* IPv4 option: LSRR, two hops, EOL */
#define GEN_TAGS_MAX		4	/* --tags: deepest tag stack */
#define GEN_MPLS_MAX		8	/* --mpls: deepest label stack */

/* ---- rng.c ---- */

struct rng {
	uint64_t	 s[4];
};

/* Seeds the stream from seed and a stream number (splitmix64 expansion). */
void		 rng_init(struct rng *, uint64_t seed, uint64_t stream);
uint64_t	 rng_next(struct rng *);
/* Uniform in [0, n); n > 0.  Unbiased (rejection). */
uint64_t	 rng_below(struct rng *, uint64_t n);

/* ---- options (gen.c fills them, everybody reads them) ---- */

enum gen_size {
	GEN_SIZE_FIXED = 0,
	GEN_SIZE_IMIX,
};

/* --format: the capture file pcapw.c writes. */
enum gen_format {
	GEN_FORMAT_PCAP = 0,	/* classic, microseconds */
	GEN_FORMAT_PCAP_NS,	/* classic, nanoseconds */
	GEN_FORMAT_PCAPNG,	/* one section, one interface */
};

/* --link: the framing under IP (frame.c writes it). */
enum gen_link {
	GEN_LINK_EN10MB = 0,	/* Ethernet II */
	GEN_LINK_PPPOE,		/* Ethernet, PPPoE session, PPP */
	GEN_LINK_SLL,		/* Linux cooked v1 */
	GEN_LINK_SLL2,		/* Linux cooked v2 */
	GEN_LINK_NULL,		/* BSD loopback, family little-endian */
	GEN_LINK_RAW,		/* no header */
	GEN_LINK_PPP,		/* PPP in HDLC-like framing */
	GEN_LINK_PPP_SERIAL,	/* the same bytes, LINKTYPE_PPP_HDLC */
	GEN_LINK_PPP_DIR,	/* a direction byte, then PPP */
	GEN_LINK_PPP_ETHER,	/* a PPPoE session header, then PPP */
	GEN_LINK_CHDLC,		/* Cisco HDLC */
	GEN_LINK_NULL_BE,	/* BSD loopback, family big-endian */
	GEN_LINK_LOOP,		/* OpenBSD loopback, family big-endian */
	GEN_LINK_RAW_PPP,	/* LINKTYPE_RAW holding PPP (ff 03 first) */
	GEN_LINK_IPV4,		/* no header, IPv4 only */
	GEN_LINK_IPV6,		/* no header, IPv6 only */
	GEN_LINK_NULL_PPP,	/* LINKTYPE_NULL holding PPP (ff 03 first) */
	GEN_LINK_PPP_CHDLC,	/* LINKTYPE_PPP holding Cisco HDLC */
	GEN_LINK_NULL_ETHERTYPE, /* LINKTYPE_NULL holding an ethertype */
	GEN_LINK_RAW_ISDN,	/* LINKTYPE_RAW: 6 bytes, then ff 03, PPP */
};

/* --sll-proto: what the protocol field of a cooked header holds. */
enum gen_sll_proto {
	GEN_SLL_ETHERTYPE = 0,	/* the ethertype (or tag) itself */
	GEN_SLL_ETHERNET,	/* 0x0003: a whole Ethernet frame follows */
	GEN_SLL_PPP,		/* 0x0007: PPP in HDLC-like framing follows */
	GEN_SLL_GRE_ETHERNET,	/* GRE type 0x6400: an Ethernet frame */
	GEN_SLL_GRE_PPP,	/* GRE type 0x880b: PPP */
	GEN_SLL_PPPOE,		/* 0x8864: a PPPoE session, PPP */
	GEN_SLL_GRE_WCCP,	/* GRE type 0x883e: IPv4 (WCCP redirect) */
};

struct gen_opts {
	uint64_t	 npackets;
	uint64_t	 seed;
	uint32_t	 nlocal;
	uint32_t	 nremote;
	uint32_t	 nflows;
	int		 size_mode;	/* enum gen_size */
	uint32_t	 size;		/* frame length for GEN_SIZE_FIXED */
	uint32_t	 ipv6_pct;
	int64_t		 start;		/* epoch seconds of the first packet */
	uint64_t	 duration;	/* seconds the packets are spread over */
	uint32_t	 interval;	/* 0: no per-interval files */
	int		 format;	/* enum gen_format */
	int		 link;		/* enum gen_link */
	uint16_t	 tags[GEN_TAGS_MAX];	/* --tags/--vlan TPIDs, outer
					   first */
	uint32_t	 ntags;
	uint32_t	 mpls;		/* --mpls: labels above IP, 0: none */
	int		 aci;		/* --aci: IPv4 as ethertype 0xfff2 */
	int		 teb;		/* --teb: a bridged Ethernet frame */
	int		 ppp_compress;	/* --ppp-compress: ACFC and PFC */
	uint32_t	 inet6_af;	/* --inet6-family: loopback IPv6 family,
					   0: the link's usual one */
	uint16_t	 sll_type;	/* --sll-type: cooked ARPHRD type */
	int		 sll_proto;	/* enum gen_sll_proto */
	int		 mix;
	uint64_t	 rate;		/* --send packets per second, 0: flat out */
	uint32_t	 flood_pct;	/* --flood: share of spoofed packets */
	uint32_t	 snaplen;	/* --snaplen: caplen cap, 0: whole frames */
	int		 totals_only;	/* --totals-only: no per-key files */
	const char	*out;		/* pcap path, "-" for stdout, or NULL */
	const char	*expdir;	/* expected-count directory or NULL */
	const char	*iface;		/* --send interface or NULL */
};

/* ---- traffic.c ---- */

enum gen_kind {
	GEN_KIND_IPV4 = 0,
	GEN_KIND_IPV6,
	GEN_KIND_NON_IP,	/* ARP */
	GEN_KIND_MALFORMED,	/* IPv4 with IHL < 5 */
};

/* Proto classes, in oracle.py's sort order (string order of the names). */
enum gen_class {
	GEN_CLASS_ICMP = 0,
	GEN_CLASS_ICMPV6,
	GEN_CLASS_OTHER,
	GEN_CLASS_TCP,
	GEN_CLASS_UDP,
};

/*
 * Everything about one frame: the frame builder writes exactly this, the
 * expectation counts exactly this.  Addresses are network order; IPv4 uses
 * src[0..3] with the rest zero.
 */
struct gen_pkt {
	int64_t		 ts_sec;
	uint32_t	 ts_usec;
	int		 kind;		/* enum gen_kind */
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint8_t		 src_mac[6];
	uint8_t		 dst_mac[6];
	uint8_t		 src_local;	/* src lies in cidrs.txt */
	uint8_t		 dst_local;
	uint8_t		 proto;		/* IP protocol number (after ext. hdrs) */
	uint8_t		 has_ports;	/* ports count (rule 5) */
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 frame_len;	/* bytes written, before Ethernet padding */
	uint32_t	 wire_len;	/* pcap len: frame_len, on Ethernet at
					   least 60 */
	uint32_t	 frame_bytes;	/* what rule 1 counts: wire_len less
					   frame_link_pseudo */
	uint32_t	 l3_len;	/* declared IP length (rule 3) */
	uint8_t		 opaque;	/* the link framing hides the IP
					   packet (frame_opaque): counted as
					   a non-IP frame */
	/* only the frame builder needs these */
	uint8_t		 v6_hbh;	/* IPv6: hop-by-hop header before L4 */
	uint8_t		 v6_frag;	/* IPv6: fragment header before L4 */
	uint8_t		 v4_lsrr;	/* IPv4: loose source route to dst,
					   the header's destination is hop */
	uint8_t		 hop[4];
	uint8_t		 bad_ihl;	/* GEN_KIND_MALFORMED: IHL value 0..4 */
	uint8_t		 icmp_type;
	uint8_t		 tcp_flags;
	uint16_t	 frag_off;	/* in 8-byte units; non-zero: no L4 hdr */
	uint8_t		 more_frags;
	uint16_t	 ip_id;
	uint32_t	 seq;
	uint32_t	 ack;
	uint8_t		 inner[8];	/* GRE: inner IPv4 src and dst */
};

struct traffic;

/* Returns a model built from the options (hosts and flows), or NULL. */
struct traffic	*traffic_new(const struct gen_opts *, const char **errstr);
void		 traffic_free(struct traffic *);
/* Describes the next packet into *p (timestamps never go backwards). */
void		 traffic_next(struct traffic *, struct gen_pkt *p);
/* The local networks, for cidrs.txt. */
extern const char *const traffic_cidrs[];

/* ---- frame.c ---- */

/*
 * Writes p's frame into buf (GEN_FRAME_MAX + 64 bytes) with the framing
 * the options ask for (--link, --tags, --mpls, --aci, --sll-*); returns
 * wire_len.
 */
size_t		 frame_build(const struct gen_pkt *, const struct gen_opts *,
		    uint8_t *buf);
/*
 * The link header length frame_build uses before a packet of kind (enum
 * gen_kind): where the IP header (or the ARP message) starts.
 */
size_t		 frame_link_len(const struct gen_opts *, int kind);
/*
 * 0 when the options describe framing frame_build can write, else -1
 * with *errstr saying which option does not fit and what would.
 */
int		 frame_check(const struct gen_opts *, const char **errstr);
/*
 * 1 when the framing keeps every frame from being read as IP: a cooked
 * header's kernel protocol value (a whole Ethernet or PPP frame) on a
 * device whose frames are in its own framing, Frame Relay (ARPHRD 770)
 * or 802.11 radiotap (803), and anything on a netlink device (824).
 */
int		 frame_opaque(const struct gen_opts *);
/*
 * 4 or 6 when link carries that IP version and nothing else (so no ARP
 * and no malformed IPv4 header on an IPv6 link), else 0.
 */
int		 frame_link_only(int link);
/* 1 when link is Ethernet underneath: frames are padded to 60 bytes. */
int		 frame_link_padded(int link);
/*
 * Bytes of link's header that are not frame bytes: ppp-dir's direction
 * byte, a pseudo-header to tshark (and so to the oracle and the agent).
 */
uint32_t	 frame_link_pseudo(int link);
/* The LINKTYPE_ number a pcap file of link carries. */
uint32_t	 frame_linktype(int link);
/* The --link name of link, and the link of a name (-1: none such). */
const char	*frame_link_name(int link);
int		 frame_link_parse(const char *);
/* The --sll-proto of a name (-1: none such). */
int		 frame_sll_proto_parse(const char *);

/* ---- pcapw.c ---- */

struct pcapw;

/*
 * Creates path ("-": stdout) and writes the file header; NULL on error.
 * snaplen > 0 keeps at most snaplen bytes of each frame (caplen), as a
 * capture with a small snapshot length does; 0 keeps whole frames.
 */
struct pcapw	*pcapw_open(const char *path, int format, uint32_t linktype,
		    uint32_t snaplen, const char **errstr);
int		 pcapw_write(struct pcapw *, int64_t sec, uint32_t usec,
		    const uint8_t *, size_t len);
/* Flushes and closes; returns -1 if any write failed.  NULL-safe. */
int		 pcapw_close(struct pcapw *);

struct sendw;

/* Opens an AF_PACKET socket bound to iface; NULL on error. */
struct sendw	*sendw_open(const char *iface, uint64_t rate, const char **errstr);
int		 sendw_write(struct sendw *, const uint8_t *, size_t len);
/* Returns the number of frames that could not be sent.  NULL-safe. */
uint64_t	 sendw_close(struct sendw *);

/* ---- expect.c ---- */

struct expect;

/*
 * totals_only: count the interface and host totals only (host_totals.csv),
 * not the per-key files, whose size grows with distinct keys (--flood).
 */
struct expect	*expect_new(uint32_t interval, int totals_only);
void		 expect_free(struct expect *);
void		 expect_add(struct expect *, const struct gen_pkt *);
/* Writes every expected file into dir (created if missing). */
int		 expect_write(struct expect *, const char *dir, const char **errstr);

#endif
