/*
 * validate.h - the checks on a decoded BATCH that proto cannot make,
 * because they depend on the connection's HELLO and on the clock.
 */
#ifndef NETTALLY_VALIDATE_H
#define NETTALLY_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define VALIDATE_FUTURE_MAX	86400	/* seconds a bucket may lie ahead */

/*
 * Checks b against a session of niface interfaces and resolution seconds
 * at time now: every iface index < niface, every bucket a multiple of
 * resolution and at most VALIDATE_FUTURE_MAX ahead of now, first_ts <=
 * last_ts, seq in 1..INT64_MAX, every counter <= INT64_MAX (SQLite
 * integers are signed).  Returns 0, or -1 with the problem in why.
 */
int	validate_batch(const struct proto_batch *b, uint32_t niface,
	    uint32_t resolution, int64_t now, char *why, size_t whylen);

#endif
