/*
 * netaddr.c - parse a CIDR or a bare address into a masked network.
 *
 * The grammar is deliberately narrow (inet_pton's address forms, then an
 * optional "/" and one to three decimal digits) so that "10.0.0.0/8x",
 * "10.0.0.0/" or "/+8" are errors an operator sees, never a network that
 * strtoul guessed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "netaddr.h"

int
netaddr_parse_host(const char *text, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = 6;
		return 0;
	}
	return -1;
}

void
netaddr_set(struct netaddr *n, int family, const uint8_t *addr,
    unsigned int prefix)
{
	unsigned int i, len = family == 4 ? 4 : 16;

	memset(n, 0, sizeof(*n));
	n->family = (uint8_t)family;
	n->prefix = (uint8_t)prefix;
	memcpy(n->addr, addr, len);
	for (i = 0; i < len; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		n->addr[i] &= (uint8_t)(0xff00u >> prefix);
		prefix = 0;
	}
}

int
netaddr_parse(const char *text, struct netaddr *n, const char **errstr)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash, *p;
	uint8_t addr[16];
	size_t len;
	unsigned int bits, max;
	int family;

	slash = strchr(text, '/');
	len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof(host))
		goto bad_addr;
	memcpy(host, text, len);
	host[len] = '\0';
	if (netaddr_parse_host(host, &family, addr) == -1)
		goto bad_addr;
	max = family == 4 ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		p = slash + 1;
		if (*p == '\0' || strlen(p) > 3) {
			*errstr = "bad prefix length";
			return -1;
		}
		for (bits = 0; *p != '\0'; p++) {
			if (*p < '0' || *p > '9') {
				*errstr = "bad prefix length";
				return -1;
			}
			bits = bits * 10 + (unsigned int)(*p - '0');
		}
		if (bits > max) {
			*errstr = "bad prefix length";
			return -1;
		}
	}
	netaddr_set(n, family, addr, bits);
	return 0;
bad_addr:
	*errstr = "not an address or CIDR (want e.g. 10.0.0.0/8 or "
	    "2001:db8::/32)";
	return -1;
}
