/*
 * status.h - what nettally-stored answers to STATUS: its own state and
 * counters kept per agent connection.
 */
#ifndef NETTALLY_STATUS_H
#define NETTALLY_STATUS_H

#include <stdint.h>

#include "conn.h"
#include "proto.h"

/*
 * Adds one received, valid batch to an agent connection's counters:
 * batches, records, the drops of its health records, the last queued
 * gauge, and now as the time of its last batch.
 */
void	status_count_batch(struct proto_status_agent *a,
	    const struct proto_batch *b, int64_t now);

/*
 * Fills the store's part of st (clock, start, database size with its WAL
 * and the WAL's size, queue, counters) from srv; the agents are the
 * caller's.  Sizes of files that cannot be read count as 0.
 */
void	status_fill(struct proto_status *st, const struct server *srv,
	    int64_t now);

#endif
