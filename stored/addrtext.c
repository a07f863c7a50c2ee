/*
 * addrtext.c - an address as text, by hand.
 *
 * The store writes the text of every new address it interns.  glibc's
 * inet_ntop formats through sprintf: a quarter of a microsecond an
 * address, a fifth of the cost of interning a new one.  This writes the
 * same characters directly.  IPv6 is RFC 5952 section 4 throughout, as
 * the reference count prints it (Python's ipaddress): lowercase hex
 * without leading zeros, the first longest run of two or more zero
 * groups as "::".  That is inet_ntop's text too (test_addrtext checks),
 * except for the IPv4-compatible and -mapped forms, where inet_ntop
 * writes the last 32 bits as a dotted quad: "::9408:1", not
 * "::148.8.0.1".
 */
#include <string.h>

#include "addrtext.h"
#include "proto.h"

static char	*put_dec(char *, unsigned int);
static char	*put_quad(char *, const uint8_t *);
static char	*put_hex(char *, unsigned int);

/* v (< 256) in decimal. */
static char *
put_dec(char *p, unsigned int v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* a[0..3] as a dotted quad. */
static char *
put_quad(char *p, const uint8_t *a)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		p = put_dec(p, a[i]);
	}
	return p;
}

/* v (< 65536) in lowercase hex, no leading zeros. */
static char *
put_hex(char *p, unsigned int v)
{
	static const char digit[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && (v >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = digit[v >> shift & 0xf];
	return p;
}

int
addrtext(int family, const uint8_t *a, char *text, size_t size)
{
	unsigned int word[8];
	int i, base = -1, len = 0, cur = -1;
	char *p = text;

	if (size < ADDRTEXT_MAX)
		return -1;
	switch (family) {
	case PROTO_AF_NONE:
		memcpy(text, "overflow", sizeof("overflow"));
		return 0;
	case PROTO_AF_INET:
		*put_quad(p, a) = '\0';
		return 0;
	case PROTO_AF_INET6:
		break;
	default:
		return -1;
	}
	for (i = 0; i < 8; i++)
		word[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
	/* The first longest run of zero groups; one group is not a run. */
	for (i = 0; i <= 8; i++) {
		if (i < 8 && word[i] == 0) {
			if (cur == -1)
				cur = i;
		} else if (cur != -1) {
			if (i - cur > len) {
				base = cur;
				len = i - cur;
			}
			cur = -1;
		}
	}
	if (len < 2)
		base = -1;
	for (i = 0; i < 8; i++) {
		if (base != -1 && i >= base && i < base + len) {
			if (i == base)
				*p++ = ':';
			continue;
		}
		if (i > 0)
			*p++ = ':';
		p = put_hex(p, word[i]);
	}
	if (base != -1 && base + len == 8)
		*p++ = ':';
	*p = '\0';
	return 0;
}
