/*
 * netaddr.h - one IPv4 or IPv6 network ("10.0.0.0/8", "2001:db8::/32", or
 * a bare address meaning its host), shared by the agent's local networks
 * and the reports' host filter so both read a CIDR the same way.
 *
 * Invariant: addr holds the network with its host bits cleared, so a
 * match is a compare of the first prefix bits.  Families are 4 and 6, the
 * store's key byte, not AF_INET/AF_INET6.
 */
#ifndef NETTALLY_NETADDR_H
#define NETTALLY_NETADDR_H

#include <stdint.h>
#include <string.h>

struct netaddr {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 prefix;	/* bits: up to 32 or 128 */
	uint8_t		 addr[16];	/* masked; IPv4 in the first 4 */
};

/* Parses "addr" or "addr/len" (len 0..32 or 0..128, decimal digits). */
int	netaddr_parse(const char *text, struct netaddr *, const char **errstr);
/* Reads a bare IPv4 or IPv6 address; family is set to 4 or 6. */
int	netaddr_parse_host(const char *text, int *family, uint8_t addr[16]);
/* The network of addr/prefix, host bits cleared. */
void	netaddr_set(struct netaddr *, int family, const uint8_t *addr,
	    unsigned int prefix);

/*
 * 1 when addr (4 or 16 bytes per family) is inside n.  The agent's
 * per-packet test keeps masks of its own (localnet.c); the reports ask
 * this once per row.
 */
static inline int
netaddr_contains(const struct netaddr *n, int family, const uint8_t *addr)
{
	unsigned int full = n->prefix / 8u, rest = n->prefix % 8u;

	if (family != n->family || memcmp(n->addr, addr, full) != 0)
		return 0;
	return rest == 0 ||
	    (addr[full] & (uint8_t)(0xff00u >> rest)) == n->addr[full];
}

#endif
