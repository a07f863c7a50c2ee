/*
 * localnet.h - the local networks that decide direction (DESIGN rule 6).
 */
#ifndef NETTALLY_LOCALNET_H
#define NETTALLY_LOCALNET_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define LOCALNET_MAX	256

struct localnets {
	size_t		 n;
	struct netaddr	 net[LOCALNET_MAX];
	/*
	 * The same networks as (network, mask) numbers in host order, per
	 * family, for the test that runs twice per packet.
	 */
	size_t		 n4;
	size_t		 n6;
	uint32_t	 v4[LOCALNET_MAX][2];
	uint64_t	 v6[LOCALNET_MAX][4];	/* network hi, lo; mask hi, lo */
};

/* Adds one CIDR ("10.0.0.0/8", "2001:db8::/32", a bare address = host). */
int	localnet_add_cidr(struct localnets *, const char *cidr, const char **errstr);
/* Adds the addresses of interface ifname (of every one for "any"). */
int	localnet_add_iface(struct localnets *, const char *ifname, const char **errstr);
/* Adds RFC 1918, RFC 4193 ULA and link-local networks. */
int	localnet_add_private(struct localnets *, const char **errstr);
/*
 * Writes the first `max` networks into buf (len > 0) for a log line,
 * "10.0.0.0/8 fc00::/7", then " and N more" for the rest, cut to fit;
 * "none" for an empty list.  Returns buf.
 */
const char *localnet_format(const struct localnets *, size_t max, char *buf,
	    size_t len);

/*
 * The first len (4 or 8) bytes at p as a big-endian number.  Spelled
 * out: compilers make each form one load and a byte swap.
 */
static inline uint64_t
localnet_be(const uint8_t *p, unsigned int len)
{
	uint64_t v;

	v = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
	    (uint64_t)p[2] << 8 | (uint64_t)p[3];
	if (len == 4)
		return v;
	return v << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	    (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/*
 * 1 when addr (4 or 16 bytes per family) is inside any local network.
 * Asked twice a packet, so inline.
 */
static inline int
localnet_contains(const struct localnets *ln, int family, const uint8_t *addr)
{
	uint64_t hi, lo;
	uint32_t a;
	size_t i;

	if (family == 4) {
		a = (uint32_t)localnet_be(addr, 4);
		for (i = 0; i < ln->n4; i++)
			if ((a & ln->v4[i][1]) == ln->v4[i][0])
				return 1;
		return 0;
	}
	if (family != 6)
		return 0;
	hi = localnet_be(addr, 8);
	lo = localnet_be(addr + 8, 8);
	for (i = 0; i < ln->n6; i++)
		if ((hi & ln->v6[i][2]) == ln->v6[i][0] &&
		    (lo & ln->v6[i][3]) == ln->v6[i][1])
			return 1;
	return 0;
}

#endif
