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
/* 1 when addr (4 or 16 bytes per family) is inside any local network. */
int	localnet_contains(const struct localnets *, int family, const uint8_t *addr);

#endif
