/*
 * localnet.c - parse and match the local networks.
 *
 * Networks are kept masked (netaddr.h), so a match is a prefix compare,
 * and each is listed once.  The list is short (an operator's CIDRs or an
 * interface's addresses) and scanned linearly: two compares per packet on
 * a typical host.  Beside each netaddr the list keeps the network and its
 * mask as numbers, so the per-packet test (localnet_contains, inline in
 * localnet.h) is an AND and a compare per network (two 64-bit halves for
 * IPv6), with no call.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "localnet.h"

static int	localnet_push(struct localnets *, int, const uint8_t *,
		    unsigned int, const char **);
static int	localnet_append(struct localnets *, const struct netaddr *,
		    const char **);
static uint64_t	mask_bits(unsigned int, unsigned int);

static int
localnet_append(struct localnets *ln, const struct netaddr *n,
    const char **errstr)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		if (memcmp(&ln->net[i], n, sizeof(*n)) == 0)
			return 0;	/* already listed */
	if (ln->n >= LOCALNET_MAX) {
		*errstr = "too many local networks (at most 256)";
		return -1;
	}
	ln->net[ln->n++] = *n;
	if (n->family == 4) {
		ln->v4[ln->n4][0] = (uint32_t)localnet_be(n->addr, 4);
		ln->v4[ln->n4][1] = (uint32_t)mask_bits(n->prefix, 32);
		ln->n4++;
	} else {
		ln->v6[ln->n6][0] = localnet_be(n->addr, 8);
		ln->v6[ln->n6][1] = localnet_be(n->addr + 8, 8);
		ln->v6[ln->n6][2] = mask_bits(n->prefix, 64);
		ln->v6[ln->n6][3] = mask_bits(n->prefix > 64 ?
		    n->prefix - 64 : 0, 64);
		ln->n6++;
	}
	return 0;
}

/* A mask of the top `prefix` bits of a `width`-bit (32 or 64) number. */
static uint64_t
mask_bits(unsigned int prefix, unsigned int width)
{
	if (prefix == 0)
		return 0;
	if (prefix >= width)
		prefix = width;
	return (~(uint64_t)0 << (64 - prefix)) >> (64 - width);
}

static int
localnet_push(struct localnets *ln, int family, const uint8_t *addr,
    unsigned int prefix, const char **errstr)
{
	struct netaddr n;

	netaddr_set(&n, family, addr, prefix);
	return localnet_append(ln, &n, errstr);
}

int
localnet_add_cidr(struct localnets *ln, const char *cidr, const char **errstr)
{
	struct netaddr n;

	if (netaddr_parse(cidr, &n, errstr) == -1)
		return -1;
	return localnet_append(ln, &n, errstr);
}

int
localnet_add_private(struct localnets *ln, const char **errstr)
{
	static const char *const nets[] = {
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"fc00::/7", "fe80::/10",
	};
	size_t i;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if (localnet_add_cidr(ln, nets[i], errstr) == -1)
			return -1;
	return 0;
}

const char *
localnet_format(const struct localnets *ln, size_t max, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t i, off = 0;
	int n;

	snprintf(buf, len, "none");
	for (i = 0; i < ln->n && i < max; i++) {
		if (inet_ntop(ln->net[i].family == 4 ? AF_INET : AF_INET6,
		    ln->net[i].addr, a, sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		n = snprintf(buf + off, len - off, "%s%s/%u", i > 0 ? " " : "",
		    a, (unsigned int)ln->net[i].prefix);
		if (n < 0 || (size_t)n >= len - off)
			return buf;	/* cut */
		off += (size_t)n;
	}
	if (ln->n > max)
		snprintf(buf + off, len - off, " and %zu more", ln->n - max);
	return buf;
}

int
localnet_add_iface(struct localnets *ln, const char *ifname,
    const char **errstr)
{
	struct ifaddrs *ifa, *p;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	int rc = 0;

	if (getifaddrs(&ifa) == -1) {
		*errstr = "cannot list interface addresses (getifaddrs)";
		return -1;
	}
	for (p = ifa; p != NULL && rc == 0; p = p->ifa_next) {
		/* "any" (the capture of every interface): all addresses. */
		if (p->ifa_addr == NULL || (strcmp(ifname, "any") != 0 &&
		    strcmp(p->ifa_name, ifname) != 0))
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			sin = (const struct sockaddr_in *)(const void *)p->ifa_addr;
			rc = localnet_push(ln, 4,
			    (const uint8_t *)&sin->sin_addr, 32, errstr);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			sin6 = (const struct sockaddr_in6 *)(const void *)p->ifa_addr;
			rc = localnet_push(ln, 6,
			    (const uint8_t *)&sin6->sin6_addr, 128, errstr);
		}
	}
	freeifaddrs(ifa);
	return rc;
}
