/*
 * ip4opt.h - what accounting takes from IPv4 options (RFC 791 section
 * 3.1), read the way tshark, the reference for every count, reads them.
 *
 * Two things depend on the options.  A loose or strict source route names
 * the datagram's final destination, which tshark reports as its
 * destination address instead of the header's next hop.  And an option
 * that tshark cannot read (too short for its fields, or not captured)
 * stops it before the transport header: such a packet has no ports.
 */
#ifndef NETTALLY_IP4OPT_H
#define NETTALLY_IP4OPT_H

#include <stdint.h>

enum ip4opt_dst {
	IP4OPT_DST_HEADER = 0,	/* the header's destination address */
	IP4OPT_DST_ROUTE,	/* 4 bytes at opts + dst_at */
	IP4OPT_DST_NONE,	/* no destination can be read: unusable */
};

struct ip4opt {
	enum ip4opt_dst	 dst;
	uint32_t	 dst_at;	/* valid for IP4OPT_DST_ROUTE */
	int		 transport;	/* 1: the transport header is read */
};

/*
 * Reads the options at opts: len bytes declared by the header length,
 * avail bytes readable from opts on (captured and inside the IP packet;
 * may be more or fewer than len).  Never reads opts[avail] or past it.
 */
void	ip4opt_read(const uint8_t *opts, uint32_t len, uint32_t avail,
	    struct ip4opt *out);

#endif
