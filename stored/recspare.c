/*
 * recspare.c - decoded record arrays kept from one batch for the next.
 *
 * A BATCH is decoded into arrays of up to 65,536 records, megabytes each.
 * malloc hands blocks that big to the kernel and back (mmap, munmap), so
 * every page of the next batch's arrays was faulted in anew: 40 % of the
 * store's page faults on the bench's 1-agent ingest, where a fault cost
 * 10 us on the VM of 2026-11-27 (the floor it is compared with faults
 * hardly at all).  The loop thread both decodes a batch and frees one the
 * writer is done with, so it keeps, without a lock, the largest freed
 * array of each kind and decodes the next section of that kind into it
 * when it is big enough; one that is not is freed at once.  At most one
 * array a kind is kept, taken from a batch just committed: the memory it
 * held, not more.  Arrays of RECSPARE_STEP records or more are allocated
 * in whole steps of it, so that a batch a few records longer than the
 * last still fits; calloc's fresh pages past the records used are never
 * touched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recspare.h"

#define RECSPARE_STEP	4096	/* records */

static size_t	round_up(size_t);
static void	keep(struct recspare *, unsigned int, void *, size_t, size_t);

/* Small sections are what they are: malloc keeps their blocks anyway. */
static size_t
round_up(size_t n)
{
	if (n < RECSPARE_STEP || n > SIZE_MAX - (RECSPARE_STEP - 1))
		return n;
	return (n + RECSPARE_STEP - 1) / RECSPARE_STEP * RECSPARE_STEP;
}

/*
 * Keeps p, an array of at least n records of size bytes, unless the one
 * kept is larger.  An array this file lent out may be larger than n
 * records say; counting it smaller only lends it less often.
 */
static void
keep(struct recspare *s, unsigned int k, void *p, size_t n, size_t size)
{
	size_t cap;

	if (p == NULL)
		return;
	n = round_up(n);
	cap = n <= SIZE_MAX / size ? n * size : 0;
	if (cap > s->cap[k]) {
		free(s->p[k]);
		s->p[k] = p;
		s->cap[k] = cap;
	} else
		free(p);
}

void
recspare_put(struct recspare *s, struct proto_batch *b)
{
	keep(s, 0, b->hosts, b->nhosts, sizeof(*b->hosts));
	keep(s, 1, b->ports, b->nports, sizeof(*b->ports));
	keep(s, 2, b->peers, b->npeers, sizeof(*b->peers));
	keep(s, 3, b->ifaces, b->nifaces, sizeof(*b->ifaces));
	keep(s, 4, b->health, b->nhealth, sizeof(*b->health));
	memset(b, 0, sizeof(*b));
}

void *
recspare_alloc(void *arg, unsigned int kind, size_t n, size_t size)
{
	struct recspare *s = arg;
	void *p;

	if (kind < RECSPARE_KINDS && (p = s->p[kind]) != NULL) {
		s->p[kind] = NULL;
		if (n <= s->cap[kind] / size) {
			s->cap[kind] = 0;
			memset(p, 0, n * size);
			return p;
		}
		s->cap[kind] = 0;
		free(p);
	}
	return calloc(round_up(n), size);
}

void
recspare_free(struct recspare *s)
{
	unsigned int k;

	for (k = 0; k < RECSPARE_KINDS; k++) {
		free(s->p[k]);
		s->p[k] = NULL;
		s->cap[k] = 0;
	}
}
