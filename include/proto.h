/*
 * proto.h - the wire protocol between nettally-agent and nettally-stored.
 *
 * A frame is a 4-byte big-endian body length followed by one msgpack body
 * [version, type, seq, payload].  proto/PROTOCOL.md documents every field.
 * Encoders append whole frames to a growable buffer; decoders are pure
 * functions over (const uint8_t *, size_t) that check every type, range and
 * count, reject trailing bytes, ignore unknown map keys, and return a
 * distinct enum proto_err for each kind of bad input.
 */
#ifndef NETTALLY_PROTO_H
#define NETTALLY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION		1
#define PROTO_HDR_LEN		4		/* u32 big-endian body length */
#define PROTO_FRAME_MAX		(16u << 20)	/* largest body accepted */
#define PROTO_NAME_MAX		128		/* agent name, bytes, no NUL */
#define PROTO_IFNAME_MAX	64		/* interface name, bytes */
#define PROTO_IFACES_MAX	64		/* interfaces per agent */
#define PROTO_TEXT_MAX		512		/* ERROR text, bytes */
#define PROTO_RECORDS_MAX	(1u << 18)	/* records of one kind per BATCH */
#define PROTO_DEPTH_MAX		8		/* msgpack nesting accepted */
#define PROTO_RES_MAX		86400		/* largest bucket size, seconds */
#define PROTO_STATUS_AGENTS_MAX	256		/* agents in a STATUS_REPLY */
/*
 * The last second SQLite's date functions render (9999-12-31T23:59:59Z):
 * the latest bucket a store takes, so the latest capture time an agent
 * puts in a batch.
 */
#define PROTO_TS_MAX		253402300799LL

enum proto_type {
	PROTO_HELLO = 1,
	PROTO_WELCOME = 2,
	PROTO_BATCH = 3,
	PROTO_ACK = 4,
	PROTO_ERROR = 5,
	PROTO_STATUS = 6,		/* any peer -> store: how are you? */
	PROTO_STATUS_REPLY = 7,		/* store -> peer */
};

/* Decoder results: one value per kind of bad input. */
enum proto_err {
	PROTO_OK = 0,
	PROTO_E_SHORT,		/* frame body incomplete / truncated msgpack */
	PROTO_E_TOO_BIG,	/* declared frame length over PROTO_FRAME_MAX */
	PROTO_E_MSGPACK,	/* bytes are not valid msgpack */
	PROTO_E_TRAILING,	/* bytes left after the message */
	PROTO_E_DEPTH,		/* nesting deeper than PROTO_DEPTH_MAX */
	PROTO_E_COUNT,		/* array/map count larger than bytes left */
	PROTO_E_ENVELOPE,	/* body is not [version, type, seq, payload] */
	PROTO_E_VERSION,	/* unsupported protocol version */
	PROTO_E_TYPE,		/* unknown message type, or not the one asked */
	PROTO_E_FIELD_TYPE,	/* a field has the wrong msgpack type */
	PROTO_E_MISSING,	/* a required map key is absent */
	PROTO_E_RANGE,		/* a value is outside its allowed range */
	PROTO_E_ARITY,		/* a record array has the wrong length */
	PROTO_E_TOO_MANY,	/* more records or interfaces than allowed */
	PROTO_E_NOMEM,		/* allocation failed while decoding */
	PROTO_E__COUNT
};

/* Error codes carried by ERROR messages (store -> agent). */
enum proto_error_code {
	PROTO_ERR_BAD_FRAME = 1,	/* undecodable or invalid message */
	PROTO_ERR_REFUSED = 2,		/* peer not allowed, or too many
					   connections: reconnect later */
	PROTO_ERR_DUPLICATE = 3,	/* agent name already connected */
	PROTO_ERR_SEQUENCE = 4,		/* message out of protocol order */
	PROTO_ERR_INTERNAL = 5,		/* store-side failure */
	PROTO_ERR_SHUTDOWN = 6,		/* store is going away */
};

/* Address families on the wire.  PROTO_AF_NONE marks an overflow row. */
enum proto_af {
	PROTO_AF_NONE = 0,
	PROTO_AF_INET = 4,
	PROTO_AF_INET6 = 6,
};

/* Direction of a host record, as seen from that host. */
enum proto_dir {
	PROTO_DIR_IN = 0,
	PROTO_DIR_OUT = 1,
};

/* IPv4 uses a[0..3], the rest zero; PROTO_AF_NONE has a[] all zero. */
struct proto_addr {
	uint8_t		 family;
	uint8_t		 a[16];
};

struct proto_hello {
	uint32_t	 version;		/* PROTO_VERSION of the agent */
	char		 name[PROTO_NAME_MAX + 1];
	uint32_t	 niface;		/* 1..PROTO_IFACES_MAX */
	char		 iface[PROTO_IFACES_MAX][PROTO_IFNAME_MAX + 1];
	uint32_t	 resolution;		/* bucket seconds, 1..PROTO_RES_MAX */
	int64_t		 start_time;		/* agent start, microseconds since 1970: the epoch */
};

struct proto_welcome {
	uint64_t	 last_seq;		/* last committed seq of this epoch */
};

struct proto_ack {
	uint64_t	 seq;			/* every seq <= this is committed */
};

struct proto_error {
	uint32_t	 code;			/* enum proto_error_code */
	char		 text[PROTO_TEXT_MAX + 1];
};

/* Record fields common to every traffic record. */
struct proto_key {
	uint32_t	 iface;			/* index into HELLO's iface list */
	int64_t		 bucket;		/* start of bucket, epoch seconds */
	struct proto_addr host;
	uint8_t		 proto;			/* IP protocol number */
	uint8_t		 dir;			/* enum proto_dir */
};

struct proto_count {
	uint64_t	 packets;
	uint64_t	 bytes;			/* IP bytes (DESIGN rule 3) */
	uint64_t	 frame_bytes;		/* wire bytes */
};

struct proto_host_rec {
	struct proto_key	 k;
	struct proto_count	 c;
};

struct proto_port_rec {
	struct proto_key	 k;
	uint16_t		 port;		/* service port */
	struct proto_count	 c;
};

struct proto_peer_rec {
	struct proto_key	 k;
	struct proto_addr	 peer;
	struct proto_count	 c;
};

struct proto_iface_rec {
	uint32_t	 iface;
	int64_t		 bucket;
	uint64_t	 frames;
	uint64_t	 frame_bytes;
	uint64_t	 ipv4_packets;
	uint64_t	 ipv6_packets;
	uint64_t	 non_ip_frames;
	uint64_t	 transit_packets;
	uint64_t	 malformed_frames;
};

/*
 * Agent health for one interface over one batch.  All fields are deltas
 * since the previous batch except queued, a gauge (batches awaiting ACK
 * when this one was built).
 */
struct proto_health_rec {
	uint32_t	 iface;
	int64_t		 bucket;		/* bucket of the flush time */
	uint64_t	 captured;		/* frames seen by the agent */
	uint64_t	 kernel_drops;		/* pcap_stats ps_drop */
	uint64_t	 iface_drops;		/* pcap_stats ps_ifdrop */
	uint64_t	 overflow;		/* packets counted in overflow rows */
	uint64_t	 malformed;		/* malformed frames */
	uint64_t	 queued;		/* gauge */
	uint64_t	 dropped;		/* batches the agent could not keep */
};

struct proto_batch {
	uint64_t		 seq;		/* 1, 2, ... within one epoch */
	int64_t			 first_ts;	/* capture time range, epoch s */
	int64_t			 last_ts;
	uint64_t		 spooled;	/* gauge: the agent's spool bytes
						   not yet acknowledged; 0 when
						   absent (optional key) */
	size_t			 nhosts, nports, npeers, nifaces, nhealth;
	struct proto_host_rec	*hosts;
	struct proto_port_rec	*ports;
	struct proto_peer_rec	*peers;
	struct proto_iface_rec	*ifaces;
	struct proto_health_rec	*health;
};

/* One connected agent in a STATUS_REPLY; counts are since it connected. */
struct proto_status_agent {
	char		 name[PROTO_NAME_MAX + 1];
	int64_t		 connected;		/* epoch s the connection began */
	int64_t		 last_batch;		/* epoch s of the last BATCH, 0: none */
	uint64_t	 batches;		/* BATCH messages received */
	uint64_t	 records;		/* records in them, every kind */
	uint64_t	 kernel_drops;		/* sums of its health records */
	uint64_t	 iface_drops;
	uint64_t	 dropped;
	uint64_t	 queued;		/* the last health queued gauge */
};

/* The store's answer to STATUS. */
struct proto_status {
	int64_t		 time;			/* the store's clock, epoch s */
	int64_t		 start;			/* when the store started */
	uint64_t	 db_bytes;		/* database + WAL file sizes */
	uint64_t	 wal_bytes;		/* the WAL file's part of it */
	uint64_t	 queued;		/* batch bytes waiting to commit */
	uint64_t	 pending;		/* writer items not yet done */
	uint64_t	 batches;		/* committed since start */
	uint64_t	 duplicates;		/* resent batches not counted again */
	uint64_t	 rejected;		/* invalid frames refused */
	uint32_t	 version;		/* the store's protocol version,
						   from the envelope (decode only) */
	uint32_t	 schema;		/* its database schema version;
						   0: the store did not say */
	uint32_t	 has_wal_bytes;		/* wal_bytes is known: sent
						   only then, and set when
						   received */
	uint32_t	 nagents;		/* 0..PROTO_STATUS_AGENTS_MAX */
	struct proto_status_agent agent[PROTO_STATUS_AGENTS_MAX];
};

/* A growable output buffer; encoders append whole frames to it. */
struct proto_buf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

/* Streaming BATCH encoder: counts first, then exactly that many records. */
struct proto_batch_enc {
	struct proto_buf	*buf;
	size_t			 start;		/* offset of this frame's header */
	size_t			 want[5];	/* declared counts per kind */
	size_t			 have[5];
	int			 section;	/* current record kind */
	int			 failed;
};

const char	*proto_strerror(enum proto_err);
const char	*proto_type_name(int type);
/*
 * 1 when len bytes at s form an acceptable agent or interface name of at
 * most max bytes (PROTO_NAME_MAX, PROTO_IFNAME_MAX): 1 to max bytes, none
 * a control character (below 0x20, or 0x7f).  The decoders' rule, for a
 * program to check a name before it says HELLO.
 */
int		 proto_name_valid(const char *s, size_t len, size_t max);

void		 proto_buf_init(struct proto_buf *);
void		 proto_buf_clear(struct proto_buf *);	/* frees data */
/* Drops the first n bytes (consumed frames). */
void		 proto_buf_consume(struct proto_buf *, size_t n);

/*
 * Framing.  proto_frame_check looks at the bytes received so far: returns
 * PROTO_OK with *body_len set when a whole frame is there, PROTO_E_SHORT
 * when more bytes are needed, PROTO_E_TOO_BIG as soon as the header
 * declares more than max (max <= PROTO_FRAME_MAX) - before allocation.
 */
enum proto_err	 proto_frame_check(const uint8_t *, size_t avail, size_t max,
		    size_t *body_len);

/*
 * Skim: walks one msgpack body without allocating and checks that every
 * array/map count is no larger than the bytes left and nesting is at most
 * PROTO_DEPTH_MAX, and that the body holds exactly one object.
 */
enum proto_err	 proto_skim(const uint8_t *, size_t);

/*
 * Peeks at the envelope of a body: version, type, seq.  Runs proto_skim
 * first.  The typed decoders below call it too.
 */
enum proto_err	 proto_decode_envelope(const uint8_t *, size_t,
		    uint32_t *version, uint32_t *type, uint64_t *seq);
/*
 * The type the head of a body names, [PROTO_VERSION, type, ...], read
 * without proto_skim: 0 when it names none.  Only for choosing a typed
 * decoder, which checks the whole body itself.
 */
uint32_t	 proto_peek_type(const uint8_t *, size_t);

/*
 * Encoders: append one whole frame; return 0, or -1 on allocation failure,
 * on a value the decoders would refuse, or on a body over PROTO_FRAME_MAX
 * (the buffer is then left as it was).
 */
int		 proto_encode_hello(struct proto_buf *, const struct proto_hello *);
int		 proto_encode_welcome(struct proto_buf *, const struct proto_welcome *);
int		 proto_encode_ack(struct proto_buf *, const struct proto_ack *);
int		 proto_encode_error(struct proto_buf *, const struct proto_error *);
int		 proto_encode_batch(struct proto_buf *, const struct proto_batch *);
/* STATUS has an empty payload; STATUS_REPLY carries *st. */
int		 proto_encode_status(struct proto_buf *);
int		 proto_encode_status_reply(struct proto_buf *,
		    const struct proto_status *st);

/*
 * Streaming BATCH encoding, so the agent can write records straight from
 * its tables: begin with the counts, then add exactly nhosts host records,
 * then nports port records, ... in the order hosts, ports, peers, ifaces,
 * health; end returns 0, or -1 if counts did not match or memory ran out
 * (the partial frame is then removed from the buffer).  The counts and
 * time range come from *head; its record pointers are ignored.  Records
 * are checked as they are added; a bad one makes end fail.  Nothing else
 * may be appended to the buffer between begin and end.
 */
int		 proto_batch_begin(struct proto_batch_enc *, struct proto_buf *,
		    const struct proto_batch *head);
void		 proto_batch_add_host(struct proto_batch_enc *, const struct proto_host_rec *);
void		 proto_batch_add_port(struct proto_batch_enc *, const struct proto_port_rec *);
void		 proto_batch_add_peer(struct proto_batch_enc *, const struct proto_peer_rec *);
void		 proto_batch_add_iface(struct proto_batch_enc *, const struct proto_iface_rec *);
void		 proto_batch_add_health(struct proto_batch_enc *, const struct proto_health_rec *);
int		 proto_batch_end(struct proto_batch_enc *);

/* Decoders over one frame BODY (without the 4-byte header). */
enum proto_err	 proto_decode_hello(const uint8_t *, size_t, struct proto_hello *);
enum proto_err	 proto_decode_welcome(const uint8_t *, size_t, struct proto_welcome *);
enum proto_err	 proto_decode_ack(const uint8_t *, size_t, struct proto_ack *);
enum proto_err	 proto_decode_error(const uint8_t *, size_t, struct proto_error *);
enum proto_err	 proto_decode_status(const uint8_t *, size_t);
enum proto_err	 proto_decode_status_reply(const uint8_t *, size_t,
		    struct proto_status *);
/* Allocates the record arrays; release with proto_batch_clear. */
enum proto_err	 proto_decode_batch(const uint8_t *, size_t, struct proto_batch *);
/*
 * The same with each record array from alloc(arg, kind, n, size): n
 * records of size bytes, all zero, for the section of kind (hosts 0,
 * ports 1, peers 2, ifaces 3, health 4), or NULL when out of memory.
 * proto_batch_clear releases what it gave with free().
 */
typedef void	*(*proto_recs_alloc)(void *arg, unsigned int kind, size_t n,
		    size_t size);
enum proto_err	 proto_decode_batch_with(const uint8_t *, size_t,
		    struct proto_batch *, proto_recs_alloc, void *arg);
void		 proto_batch_clear(struct proto_batch *);	/* NULL-safe */

#endif
