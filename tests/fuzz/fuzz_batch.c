/*
 * fuzz_batch.c - libFuzzer target for what the store does with a BATCH
 * frame before it reaches the database: framing, proto_decode_batch_with
 * into the record arrays earlier inputs left (recspare.c, as the store
 * decodes), then validate_batch against a session.
 *
 * Input: byte 0 picks the session's interface count (1..64), byte 1 its
 * resolution from a small table; the rest is a frame (header and body)
 * when the header fits it, else a bare body, copied to a heap block of
 * exactly its size so ASan sees any read past it.  Whatever validation
 * accepts is checked again here, field by field, against the rules the
 * database relies on (iface index, bucket a multiple of the resolution
 * and in range, first_ts <= last_ts, counters that fit SQLite's signed
 * integers); a refusal must explain itself in a terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "recspare.h"
#include "validate.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	key_ok(uint32_t, int64_t, uint32_t, uint32_t);
static void	counts_ok(const uint64_t *, size_t);
static void	accepted_ok(const struct proto_batch *, uint32_t, uint32_t);

static const uint32_t	resolutions[] = { 1, 10, 60, 300, 3600, 86400, 7,
			    59 };

static void
key_ok(uint32_t iface, int64_t bucket, uint32_t niface, uint32_t res)
{
	CHECK(iface < niface);
	CHECK(bucket >= 0 && bucket % res == 0);
	CHECK(bucket <= VALIDATE_BUCKET_MAX);
}

static void
counts_ok(const uint64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		CHECK(v[i] <= (uint64_t)INT64_MAX);
}

static void
accepted_ok(const struct proto_batch *b, uint32_t niface, uint32_t res)
{
	size_t i;

	CHECK(b->seq >= 1 && b->seq <= (uint64_t)INT64_MAX);
	CHECK(b->first_ts <= b->last_ts);
	for (i = 0; i < b->nhosts; i++) {
		const struct proto_host_rec *r = &b->hosts[i];
		const uint64_t c[] = { r->c.packets, r->c.bytes,
		    r->c.frame_bytes };

		key_ok(r->k.iface, r->k.bucket, niface, res);
		counts_ok(c, 3);
	}
	for (i = 0; i < b->nports; i++) {
		const struct proto_port_rec *r = &b->ports[i];
		const uint64_t c[] = { r->c.packets, r->c.bytes,
		    r->c.frame_bytes };

		key_ok(r->k.iface, r->k.bucket, niface, res);
		counts_ok(c, 3);
	}
	for (i = 0; i < b->npeers; i++) {
		const struct proto_peer_rec *r = &b->peers[i];
		const uint64_t c[] = { r->c.packets, r->c.bytes,
		    r->c.frame_bytes };

		key_ok(r->k.iface, r->k.bucket, niface, res);
		counts_ok(c, 3);
		/* Mixed families only with an overflow row (PROTOCOL.md). */
		CHECK(r->k.host.family == r->peer.family ||
		    r->k.host.family == PROTO_AF_NONE ||
		    r->peer.family == PROTO_AF_NONE);
	}
	for (i = 0; i < b->nifaces; i++) {
		const struct proto_iface_rec *r = &b->ifaces[i];
		const uint64_t c[] = { r->frames, r->frame_bytes,
		    r->ipv4_packets, r->ipv6_packets, r->non_ip_frames,
		    r->transit_packets, r->malformed_frames };

		key_ok(r->iface, r->bucket, niface, res);
		counts_ok(c, 7);
	}
	for (i = 0; i < b->nhealth; i++) {
		const struct proto_health_rec *r = &b->health[i];
		const uint64_t c[] = { r->captured, r->kernel_drops,
		    r->iface_drops, r->overflow, r->malformed, r->queued,
		    r->dropped };

		key_ok(r->iface, r->bucket, niface, res);
		counts_ok(c, 7);
	}
}

/* Kept across inputs, as the store keeps it across batches. */
static struct recspare spare;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_batch b;
	char why[PROTO_TEXT_MAX];
	uint32_t niface, res;
	size_t blen;
	uint8_t *body;

	if (size < 2)
		return 0;
	niface = 1 + data[0] % PROTO_IFACES_MAX;
	res = resolutions[data[1] % (sizeof(resolutions) /
	    sizeof(resolutions[0]))];
	data += 2;
	size -= 2;
	if (proto_frame_check(data, size, PROTO_FRAME_MAX, &blen) ==
	    PROTO_OK && PROTO_HDR_LEN + blen == size) {
		data += PROTO_HDR_LEN;
		size = blen;
	}
	if ((body = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(body, data, size);
	if (proto_decode_batch_with(body, size, &b, recspare_alloc, &spare) ==
	    PROTO_OK) {
		memset(why, 0x55, sizeof(why));
		if (validate_batch(&b, niface, res, why, sizeof(why)) == 0)
			accepted_ok(&b, niface, res);
		else
			CHECK(memchr(why, '\0', sizeof(why)) != NULL &&
			    why[0] != '\0');
		recspare_put(&spare, &b);
	} else {
		/* A refused body leaves nothing to free or to read. */
		CHECK(b.hosts == NULL && b.nhosts == 0 && b.seq == 0);
	}
	free(body);
	return 0;
}
