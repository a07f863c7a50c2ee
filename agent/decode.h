/*
 * decode.h - classify one captured frame per the accounting rules.
 *
 * decode_frame reads a frame through a bounds-checked cursor only, never
 * past caplen, and fills a struct decoded with what accounting needs: the
 * outermost IP header's addresses, protocol (after IPv6 extension headers),
 * declared IP length and the ports when they may be used (DESIGN rules 2-5).
 * It allocates nothing and keeps no state: safe on any bytes.
 */
#ifndef NETTALLY_DECODE_H
#define NETTALLY_DECODE_H

#include <stdint.h>

enum decode_kind {
	DECODE_IPV4 = 0,	/* outermost IP header is IPv4 */
	DECODE_IPV6,		/* outermost IP header is IPv6 */
	DECODE_NON_IP,		/* no IP header behind the link framing */
	DECODE_MALFORMED,	/* an IP header that cannot be used (rule 3) */
};

struct decoded {
	uint8_t		 src[16];	/* IPv4 in [0..3], rest zero */
	uint8_t		 dst[16];
	uint64_t	 ip_bytes;	/* DESIGN rule 3 */
	uint16_t	 sport;		/* valid when has_ports */
	uint16_t	 dport;
	uint8_t		 proto;		/* rule 4 */
	uint8_t		 has_ports;	/* rule 5 */
};

/* Returns 1 when the DLT is one decode_frame handles, else 0. */
int		 decode_dlt_supported(int dlt);

/*
 * Bytes a link type's records carry before the frame that were never on
 * the wire and are not frame bytes (DESIGN rule 1): DLT_PPP_WITH_DIR's
 * direction byte, which pppd writes and tshark reads as a pseudo-header
 * apart from the frame.  0 for every other link type; a cooked (SLL)
 * header counts, as it does in tshark's frame length.
 */
uint32_t	 decode_pseudo_len(int dlt);

/*
 * Classifies one frame of link type dlt.  bytes holds caplen captured bytes
 * of a frame that was wirelen bytes long on the wire.  *out is filled for
 * DECODE_IPV4 and DECODE_IPV6 only.
 */
enum decode_kind decode_frame(int dlt, const uint8_t *bytes, uint32_t caplen,
		    uint32_t wirelen, struct decoded *out);

#endif
