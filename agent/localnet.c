/*
 * localnet.c - parse and match the local networks.
 *
 * Networks are kept masked, so a match is a prefix compare.  The list is
 * short (an operator's CIDRs or an interface's addresses) and scanned
 * linearly: two compares per packet on a typical host.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localnet.h"

static void	localnet_mask(uint8_t *, int, unsigned int);
static int	localnet_push(struct localnets *, int, const uint8_t *,
		    unsigned int, const char **);
static int	prefix_match(const uint8_t *, const uint8_t *, unsigned int);

static void
localnet_mask(uint8_t *addr, int len, unsigned int prefix)
{
	int i;

	for (i = 0; i < len; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff00u >> prefix);
		prefix = 0;
	}
}

static int
localnet_push(struct localnets *ln, int family, const uint8_t *addr,
    unsigned int prefix, const char **errstr)
{
	struct localnet *n;
	size_t i;

	n = &ln->net[ln->n];
	if (ln->n >= LOCALNET_MAX) {
		*errstr = "too many local networks (at most 256)";
		return -1;
	}
	memset(n, 0, sizeof(*n));
	n->family = (uint8_t)family;
	n->prefix = (uint8_t)prefix;
	memcpy(n->addr, addr, family == 4 ? 4 : 16);
	localnet_mask(n->addr, family == 4 ? 4 : 16, prefix);
	for (i = 0; i < ln->n; i++)
		if (memcmp(&ln->net[i], n, sizeof(*n)) == 0)
			return 0;	/* already listed */
	ln->n++;
	return 0;
}

int
localnet_add_cidr(struct localnets *ln, const char *cidr, const char **errstr)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	uint8_t addr[16];
	unsigned long prefix;
	int family, maxbits;

	if (strlen(cidr) >= sizeof(buf)) {
		*errstr = "not an address or CIDR";
		return -1;
	}
	strcpy(buf, cidr);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, buf, addr) == 1) {
		family = 4;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		family = 6;
		maxbits = 128;
	} else {
		*errstr = "not an address or CIDR (want e.g. 10.0.0.0/8 or "
		    "2001:db8::/32)";
		return -1;
	}
	prefix = (unsigned long)maxbits;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9') {
			*errstr = "bad prefix length";
			return -1;
		}
		prefix = strtoul(slash, &end, 10);
		if (*end != '\0' || prefix > (unsigned long)maxbits) {
			*errstr = "bad prefix length";
			return -1;
		}
	}
	return localnet_push(ln, family, addr, (unsigned int)prefix, errstr);
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

static int
prefix_match(const uint8_t *net, const uint8_t *addr, unsigned int prefix)
{
	unsigned int full = prefix / 8, rest = prefix % 8;

	if (memcmp(net, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return (addr[full] & (uint8_t)(0xff00u >> rest)) == net[full];
}

int
localnet_contains(const struct localnets *ln, int family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		if (ln->net[i].family == family &&
		    prefix_match(ln->net[i].addr, addr, ln->net[i].prefix))
			return 1;
	return 0;
}
