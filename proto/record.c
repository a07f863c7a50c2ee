/*
 * record.c - the layout of BATCH records and the value rules shared by
 * the encoders and the decoders.
 *
 * Each record kind is a fixed-arity msgpack array; the tables below list
 * its fields in wire order with where each lives in the C struct.  A
 * field's position is its meaning: adding a field is a protocol version
 * change.  Range rules live here, so pack.c refuses to write exactly
 * what unpack.c would refuse to read; pack.c's encoders of the traffic
 * records check them again inline, for speed, and test_proto holds the
 * two to the same answers.
 */
#include <stddef.h>
#include <string.h>

#include "proto.h"
#include "internal.h"

#define F(kind, type, member)	{ PROTO_F_##kind, offsetof(type, member) }

/* Fields every traffic record starts with: struct proto_key. */
#define KEY_FIELDS(type)						\
	F(IFACE, type, k.iface),					\
	F(BUCKET, type, k.bucket),					\
	F(ADDR, type, k.host),						\
	F(PROTO, type, k.proto),					\
	F(DIR, type, k.dir)

#define COUNT_FIELDS(type)						\
	F(U64, type, c.packets),					\
	F(U64, type, c.bytes),						\
	F(U64, type, c.frame_bytes)

static const struct proto_field host_fields[] = {
	KEY_FIELDS(struct proto_host_rec),
	COUNT_FIELDS(struct proto_host_rec),
};

static const struct proto_field port_fields[] = {
	KEY_FIELDS(struct proto_port_rec),
	F(PORT, struct proto_port_rec, port),
	COUNT_FIELDS(struct proto_port_rec),
};

static const struct proto_field peer_fields[] = {
	KEY_FIELDS(struct proto_peer_rec),
	F(ADDR, struct proto_peer_rec, peer),
	COUNT_FIELDS(struct proto_peer_rec),
};

static const struct proto_field iface_fields[] = {
	F(IFACE, struct proto_iface_rec, iface),
	F(BUCKET, struct proto_iface_rec, bucket),
	F(U64, struct proto_iface_rec, frames),
	F(U64, struct proto_iface_rec, frame_bytes),
	F(U64, struct proto_iface_rec, ipv4_packets),
	F(U64, struct proto_iface_rec, ipv6_packets),
	F(U64, struct proto_iface_rec, non_ip_frames),
	F(U64, struct proto_iface_rec, transit_packets),
	F(U64, struct proto_iface_rec, malformed_frames),
};

static const struct proto_field health_fields[] = {
	F(IFACE, struct proto_health_rec, iface),
	F(BUCKET, struct proto_health_rec, bucket),
	F(U64, struct proto_health_rec, captured),
	F(U64, struct proto_health_rec, kernel_drops),
	F(U64, struct proto_health_rec, iface_drops),
	F(U64, struct proto_health_rec, overflow),
	F(U64, struct proto_health_rec, malformed),
	F(U64, struct proto_health_rec, queued),
	F(U64, struct proto_health_rec, dropped),
};

#define DESC(key, type, fields)						\
	{ key, sizeof(type), sizeof(fields) / sizeof(fields[0]), fields }

const struct proto_rec_desc proto_recs[PROTO_REC__COUNT] = {
	[PROTO_REC_HOST] = DESC("hosts", struct proto_host_rec, host_fields),
	[PROTO_REC_PORT] = DESC("ports", struct proto_port_rec, port_fields),
	[PROTO_REC_PEER] = DESC("peers", struct proto_peer_rec, peer_fields),
	[PROTO_REC_IFACE] = DESC("ifaces", struct proto_iface_rec,
	    iface_fields),
	[PROTO_REC_HEALTH] = DESC("health", struct proto_health_rec,
	    health_fields),
};

const void *
proto_batch_get(const struct proto_batch *b, enum proto_rec_kind kind,
    size_t *n)
{
	switch (kind) {
	case PROTO_REC_HOST:
		*n = b->nhosts;
		return b->hosts;
	case PROTO_REC_PORT:
		*n = b->nports;
		return b->ports;
	case PROTO_REC_PEER:
		*n = b->npeers;
		return b->peers;
	case PROTO_REC_IFACE:
		*n = b->nifaces;
		return b->ifaces;
	default:
		*n = b->nhealth;
		return b->health;
	}
}

void
proto_batch_set(struct proto_batch *b, enum proto_rec_kind kind, void *recs,
    size_t n)
{
	/* Assignment converts from void *, so no pointer is type-punned. */
	switch (kind) {
	case PROTO_REC_HOST:
		b->hosts = recs;
		b->nhosts = n;
		break;
	case PROTO_REC_PORT:
		b->ports = recs;
		b->nports = n;
		break;
	case PROTO_REC_PEER:
		b->peers = recs;
		b->npeers = n;
		break;
	case PROTO_REC_IFACE:
		b->ifaces = recs;
		b->nifaces = n;
		break;
	default:
		b->health = recs;
		b->nhealth = n;
		break;
	}
}

int
proto_addr_len(uint8_t family)
{
	switch (family) {
	case PROTO_AF_NONE:
		return 0;
	case PROTO_AF_INET:
		return 4;
	case PROTO_AF_INET6:
		return 16;
	default:
		return -1;
	}
}

int
proto_rec_valid(enum proto_rec_kind kind, const void *rec)
{
	const struct proto_rec_desc *d = &proto_recs[kind];
	const unsigned char *base = rec;
	struct proto_addr host, peer;
	uint32_t iface;
	int64_t bucket;
	uint8_t u8;
	size_t i;

	for (i = 0; i < d->nfield; i++) {
		const unsigned char *p = base + d->field[i].off;

		/* memcpy: the tables give offsets, not typed pointers. */
		switch (d->field[i].kind) {
		case PROTO_F_IFACE:
			memcpy(&iface, p, sizeof(iface));
			if (iface >= PROTO_IFACES_MAX)
				return 0;
			break;
		case PROTO_F_BUCKET:
			memcpy(&bucket, p, sizeof(bucket));
			if (bucket < 0)
				return 0;
			break;
		case PROTO_F_ADDR:
			memcpy(&peer, p, sizeof(peer));
			if (proto_addr_len(peer.family) == -1)
				return 0;
			break;
		case PROTO_F_DIR:
			memcpy(&u8, p, sizeof(u8));
			if (u8 > PROTO_DIR_OUT)
				return 0;
			break;
		case PROTO_F_PROTO:
		case PROTO_F_PORT:
		case PROTO_F_U64:
			/* Every value of the C type is valid on the wire. */
			break;
		}
	}
	/*
	 * Host and peer of one packet share its IP version; either side may
	 * be an overflow row (PROTO_AF_NONE) when its table was full.
	 */
	if (kind == PROTO_REC_PEER) {
		memcpy(&host, base + offsetof(struct proto_peer_rec, k.host),
		    sizeof(host));
		memcpy(&peer, base + offsetof(struct proto_peer_rec, peer),
		    sizeof(peer));
		if (host.family != PROTO_AF_NONE &&
		    peer.family != PROTO_AF_NONE &&
		    host.family != peer.family)
			return 0;
	}
	return 1;
}

int
proto_name_valid(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len > max)
		return 0;
	/*
	 * Names end up in log lines and SQL rows: no NUL that would cut the
	 * C string short, no control characters that could forge log lines.
	 */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int
proto_text_valid(const char *s, size_t len)
{
	if (len > PROTO_TEXT_MAX)
		return 0;
	/* Text may be empty and multi-line, but must stay one C string. */
	return memchr(s, '\0', len) == NULL;
}

int
proto_hello_valid(const struct proto_hello *h)
{
	size_t i, j, len;

	len = strnlen(h->name, sizeof(h->name));
	if (!proto_name_valid(h->name, len, PROTO_NAME_MAX))
		return 0;
	if (h->niface < 1 || h->niface > PROTO_IFACES_MAX)
		return 0;
	for (i = 0; i < h->niface; i++) {
		len = strnlen(h->iface[i], sizeof(h->iface[i]));
		if (!proto_name_valid(h->iface[i], len, PROTO_IFNAME_MAX))
			return 0;
		/* Records name interfaces by index: names must be distinct. */
		for (j = 0; j < i; j++)
			if (strcmp(h->iface[i], h->iface[j]) == 0)
				return 0;
	}
	if (h->resolution < 1 || h->resolution > PROTO_RES_MAX)
		return 0;
	return h->start_time >= 0;
}
