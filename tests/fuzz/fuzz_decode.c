/*
 * fuzz_decode.c - libFuzzer target for agent/decode.c.
 *
 * Input layout:
 *   byte 0      link type: an index into dlts[] (the supported ones), or,
 *               for values past the list, an arbitrary unsupported DLT
 *   byte 1      how the wire length is made: 0 same as caplen, 1 caplen
 *               plus bytes 2-3, 2 bytes 2-5 as is (may be below caplen,
 *               as in a damaged file); other values act as 0
 *   bytes 2-5   wire length material (always consumed)
 *   rest        the frame, caplen = its length
 *
 * The frame is the tail of libFuzzer's own exact-size buffer, so any read
 * past caplen is an ASan error.  The invariants checked are those of
 * decode.h and DESIGN.md rules 3-5 that hold for any input, and that an
 * Ethernet frame of type IPv4 (decode.c's shortcut) decodes as its IP
 * packet does alone under DLT_IPV4 (the general path; not DLT_RAW, where
 * tshark looks for PPP framing first).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static const int dlts[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6,
	DLT_NULL, DLT_LOOP, DLT_PPP, DLT_PPP_SERIAL, DLT_C_HDLC, DLT_PPP_ETHER,
	DLT_PPP_WITH_DIR,
};
#define NDLTS	(sizeof(dlts) / sizeof(dlts[0]))

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static int	same_fields(const struct decoded *, const struct decoded *);

/* Field by field: the two paths need not agree on padding bytes. */
static int
same_fields(const struct decoded *a, const struct decoded *b)
{
	return memcmp(a->src, b->src, 16) == 0 &&
	    memcmp(a->dst, b->dst, 16) == 0 && a->ip_bytes == b->ip_bytes &&
	    a->sport == b->sport && a->dport == b->dport &&
	    a->proto == b->proto && a->has_ports == b->has_ports;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[16];
	struct decoded	 d, d2, sentinel;
	enum decode_kind k, k2;
	uint32_t	 caplen, wirelen, w;
	int		 dlt;

	if (size < 6)
		return 0;
	if (data[0] < NDLTS)
		dlt = dlts[data[0]];
	else
		dlt = 1000 + data[0];	/* no such DLT */
	w = (uint32_t)data[2] << 24 | (uint32_t)data[3] << 16 |
	    (uint32_t)data[4] << 8 | data[5];
	caplen = (uint32_t)(size - 6);
	switch (data[1]) {
	case 1:
		wirelen = caplen + (w >> 16);
		break;
	case 2:
		wirelen = w;
		break;
	default:
		wirelen = caplen;
		break;
	}

	memset(&sentinel, 0x5a, sizeof(sentinel));
	d = sentinel;
	k = decode_frame(dlt, data + 6, caplen, wirelen, &d);
	CHECK(k == DECODE_IPV4 || k == DECODE_IPV6 || k == DECODE_NON_IP ||
	    k == DECODE_MALFORMED);
	if (!decode_dlt_supported(dlt))
		CHECK(k == DECODE_NON_IP);

	/* Pure function: the same input gives the same answer. */
	d2 = sentinel;
	k2 = decode_frame(dlt, data + 6, caplen, wirelen, &d2);
	CHECK(k2 == k && memcmp(&d, &d2, sizeof(d)) == 0);

	/* Ethernet, type IPv4 with version 4: as the same bytes alone. */
	if (dlt == DLT_EN10MB && caplen > 14 && data[6 + 12] == 0x08 &&
	    data[6 + 13] == 0x00 && data[6 + 14] >> 4 == 4) {
		d2 = sentinel;
		k2 = decode_frame(DLT_IPV4, data + 6 + 14, caplen - 14,
		    wirelen > 14 ? wirelen - 14 : 0, &d2);
		CHECK(k2 == k && same_fields(&d, &d2));
	}

	if (k != DECODE_IPV4 && k != DECODE_IPV6) {
		/* *out is written for IP results only. */
		CHECK(memcmp(&d, &sentinel, sizeof(d)) == 0);
		return 0;
	}
	/* Rule 5: ports only for TCP, UDP, SCTP; none means zeros. */
	if (d.has_ports)
		CHECK(d.proto == 6 || d.proto == 17 || d.proto == 132);
	else
		CHECK(d.has_ports == 0 && d.sport == 0 && d.dport == 0);
	/* The transport header lies after at least the IP header. */
	if (d.has_ports)
		CHECK(caplen >= (k == DECODE_IPV4 ? 24u : 44u));
	if (k == DECODE_IPV4) {
		CHECK(memcmp(d.src + 4, zero, 12) == 0);
		CHECK(memcmp(d.dst + 4, zero, 12) == 0);
		/* Rule 3: the header fits; the length is declared or wire. */
		CHECK(caplen >= 20);
		CHECK(d.ip_bytes >= 20);
		CHECK(d.ip_bytes <= 65535 || d.ip_bytes <= wirelen);
	} else {
		CHECK(caplen >= 40);
		CHECK(d.ip_bytes >= 40);
		CHECK(d.ip_bytes <= 40 + 0xffffffffull ||
		    d.ip_bytes <= wirelen);
	}
	return 0;
}
