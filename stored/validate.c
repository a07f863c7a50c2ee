/*
 * validate.c - session and clock checks on a decoded BATCH.
 *
 * proto_decode_batch has already checked types, ranges of the wire
 * (families, directions, iface < PROTO_IFACES_MAX, bucket >= 0) and
 * counts.  What is left needs the HELLO and the clock.  The first problem
 * found is reported with the record that has it, so an operator can tell
 * a broken agent from a broken clock.
 */
#include <stdio.h>

#include "validate.h"

static int	validate_key(uint32_t, int64_t, uint32_t, uint32_t,
		    const char *, size_t, char *, size_t);
static int	validate_u64(const uint64_t *, size_t, const char *, size_t,
		    char *, size_t);

/* Checks one record's iface index and bucket. */
static int
validate_key(uint32_t iface, int64_t bucket, uint32_t niface,
    uint32_t resolution, const char *what, size_t i, char *why,
    size_t whylen)
{
	if (iface >= niface) {
		snprintf(why, whylen, "%s record %zu: interface index %u, "
		    "but HELLO named %u interfaces", what, i, iface, niface);
		return -1;
	}
	if (bucket < 0 || bucket % resolution != 0) {
		snprintf(why, whylen, "%s record %zu: bucket %lld is not a "
		    "multiple of the resolution %u", what, i,
		    (long long)bucket, resolution);
		return -1;
	}
	if (bucket > VALIDATE_BUCKET_MAX) {
		snprintf(why, whylen, "%s record %zu: bucket %lld is after "
		    "the year 9999", what, i, (long long)bucket);
		return -1;
	}
	return 0;
}

/* Checks that n counters fit in a signed 64-bit SQLite integer. */
static int
validate_u64(const uint64_t *v, size_t n, const char *what, size_t i,
    char *why, size_t whylen)
{
	size_t j;

	for (j = 0; j < n; j++) {
		if (v[j] > (uint64_t)INT64_MAX) {
			snprintf(why, whylen, "%s record %zu: counter %zu out "
			    "of range", what, i, j);
			return -1;
		}
	}
	return 0;
}

int
validate_batch(const struct proto_batch *b, uint32_t niface,
    uint32_t resolution, char *why, size_t whylen)
{
	size_t i;

	if (resolution == 0) {
		snprintf(why, whylen, "session has no resolution");
		return -1;
	}
	if (b->seq == 0 || b->seq > (uint64_t)INT64_MAX) {
		snprintf(why, whylen, "seq %llu out of range",
		    (unsigned long long)b->seq);
		return -1;
	}
	if (b->first_ts > b->last_ts) {
		snprintf(why, whylen, "first_ts %lld after last_ts %lld",
		    (long long)b->first_ts, (long long)b->last_ts);
		return -1;
	}
	for (i = 0; i < b->nhosts; i++) {
		const struct proto_host_rec *r = &b->hosts[i];
		const uint64_t c[] = { r->c.packets, r->c.bytes,
		    r->c.frame_bytes };

		if (validate_key(r->k.iface, r->k.bucket, niface, resolution,
		    "host", i, why, whylen) == -1 ||
		    validate_u64(c, 3, "host", i, why, whylen) == -1)
			return -1;
	}
	for (i = 0; i < b->nports; i++) {
		const struct proto_port_rec *r = &b->ports[i];
		const uint64_t c[] = { r->c.packets, r->c.bytes,
		    r->c.frame_bytes };

		if (validate_key(r->k.iface, r->k.bucket, niface, resolution,
		    "port", i, why, whylen) == -1 ||
		    validate_u64(c, 3, "port", i, why, whylen) == -1)
			return -1;
	}
	for (i = 0; i < b->npeers; i++) {
		const struct proto_peer_rec *r = &b->peers[i];
		const uint64_t c[] = { r->c.packets, r->c.bytes,
		    r->c.frame_bytes };

		if (validate_key(r->k.iface, r->k.bucket, niface, resolution,
		    "peer", i, why, whylen) == -1 ||
		    validate_u64(c, 3, "peer", i, why, whylen) == -1)
			return -1;
	}
	for (i = 0; i < b->nifaces; i++) {
		const struct proto_iface_rec *r = &b->ifaces[i];
		const uint64_t c[] = { r->frames, r->frame_bytes,
		    r->ipv4_packets, r->ipv6_packets, r->non_ip_frames,
		    r->transit_packets, r->malformed_frames };

		if (validate_key(r->iface, r->bucket, niface, resolution,
		    "iface", i, why, whylen) == -1 ||
		    validate_u64(c, 7, "iface", i, why, whylen) == -1)
			return -1;
	}
	for (i = 0; i < b->nhealth; i++) {
		const struct proto_health_rec *r = &b->health[i];
		const uint64_t c[] = { r->captured, r->kernel_drops,
		    r->iface_drops, r->overflow, r->malformed, r->queued,
		    r->dropped };

		if (validate_key(r->iface, r->bucket, niface, resolution,
		    "health", i, why, whylen) == -1 ||
		    validate_u64(c, 7, "health", i, why, whylen) == -1)
			return -1;
	}
	return 0;
}
