/*
 * recspare.h - decoded record arrays kept from one batch for the next.
 * See recspare.c.
 */
#ifndef NETTALLY_RECSPARE_H
#define NETTALLY_RECSPARE_H

#include <stddef.h>

#include "proto.h"

#define RECSPARE_KINDS	5	/* hosts, ports, peers, ifaces, health */

struct recspare {
	void		*p[RECSPARE_KINDS];
	size_t		 cap[RECSPARE_KINDS];	/* bytes */
};

/*
 * Takes b's record arrays, keeping the largest of each kind; clears b.
 * They must come from recspare_alloc, which sized them.
 */
void	recspare_put(struct recspare *, struct proto_batch *b);
/* A proto_recs_alloc for proto_decode_batch_with; arg: the recspare. */
void	*recspare_alloc(void *arg, unsigned int kind, size_t n, size_t size);
/* Frees what is kept. */
void	recspare_free(struct recspare *);

#endif
