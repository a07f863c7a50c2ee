/*
 * status.c - the counters behind a STATUS_REPLY.
 *
 * Per agent connection, counts are kept as batches arrive (not when they
 * commit): "last batch" is when the agent last spoke, which is what an
 * operator asks when a graph goes flat.  Store-wide numbers come from the
 * server struct, which the loop thread alone updates, so nothing here
 * locks.  Counters saturate rather than wrap.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "schema.h"
#include "status.h"

static uint64_t	sat_add(uint64_t, uint64_t);
static uint64_t	file_size(const char *, const char *);

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
status_count_batch(struct proto_status_agent *a, const struct proto_batch *b,
    int64_t now)
{
	size_t i;

	a->last_batch = now;
	a->batches = sat_add(a->batches, 1);
	a->records = sat_add(a->records, b->nhosts + b->nports + b->npeers +
	    b->nifaces + b->nhealth);
	for (i = 0; i < b->nhealth; i++) {
		a->kernel_drops = sat_add(a->kernel_drops,
		    b->health[i].kernel_drops);
		a->iface_drops = sat_add(a->iface_drops,
		    b->health[i].iface_drops);
		a->dropped = sat_add(a->dropped, b->health[i].dropped);
		a->queued = b->health[i].queued;
	}
}

/* Size of path + suffix, or 0 when it cannot be read. */
static uint64_t
file_size(const char *path, const char *suffix)
{
	char name[4096];
	struct stat sb;
	int n;

	n = snprintf(name, sizeof(name), "%s%s", path, suffix);
	if (n < 0 || (size_t)n >= sizeof(name) || stat(name, &sb) == -1 ||
	    sb.st_size < 0)
		return 0;
	return (uint64_t)sb.st_size;
}

void
status_fill(struct proto_status *st, const struct server *srv, int64_t now)
{
	st->time = now >= 0 ? now : 0;
	st->start = srv->started >= 0 ? srv->started : 0;
	/* The -wal file apart as well: a reader shows both (README). */
	st->wal_bytes = srv->db_path == NULL ? 0 :
	    file_size(srv->db_path, "-wal");
	st->has_wal_bytes = 1;
	st->db_bytes = srv->db_path == NULL ? 0 :
	    sat_add(file_size(srv->db_path, ""), st->wal_bytes);
	st->queued = srv->queued;
	st->pending = srv->noutstanding;
	st->batches = srv->nbatches;
	st->duplicates = srv->nduplicates;
	st->rejected = srv->nrejected;
	st->schema = SCHEMA_VERSION;
}
