/*
 * validate.h - the checks on a decoded BATCH that proto cannot make,
 * because they depend on the connection's HELLO and on the clock.
 */
#ifndef NETTALLY_VALIDATE_H
#define NETTALLY_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * Buckets are capture times, and a replayed capture carries whatever clock
 * the capturing machine had, past or future: refusing it would lose real
 * counts, so only times the views cannot show are refused.
 */
#define VALIDATE_BUCKET_MAX	PROTO_TS_MAX

/*
 * Checks b against a session of niface interfaces and resolution seconds
 * every iface index < niface, every bucket a multiple of
 * resolution and at most VALIDATE_BUCKET_MAX, first_ts <=
 * last_ts, seq in 1..INT64_MAX, every counter <= INT64_MAX (SQLite
 * integers are signed).  Returns 0, or -1 with the problem in why.
 */
int	validate_batch(const struct proto_batch *b, uint32_t niface,
	    uint32_t resolution, char *why, size_t whylen);

#endif
