/*
 * addrtext.h - an address as the text the address table keeps for the
 * views: a dotted quad, or IPv6 as RFC 5952 section 4 writes it.
 */
#ifndef NETTALLY_ADDRTEXT_H
#define NETTALLY_ADDRTEXT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any text addrtext writes, its NUL included. */
#define ADDRTEXT_MAX	46	/* INET6_ADDRSTRLEN */

/*
 * The text of address a (4 bytes for PROTO_AF_INET, 16 for
 * PROTO_AF_INET6; "overflow" for PROTO_AF_NONE, a unused) into text.
 * Returns 0, or -1 for another family or size under ADDRTEXT_MAX.
 */
int	addrtext(int family, const uint8_t *a, char *text, size_t size);

#endif
