/*
 * fdlimit.h - the store's open files limit, fitted to its connections.
 */
#ifndef NETTALLY_FDLIMIT_H
#define NETTALLY_FDLIMIT_H

#include <stddef.h>

/*
 * Descriptors the store holds besides its connections: standard streams,
 * libuv's loop, signal pipes and spare descriptor, the database, its WAL
 * and shared memory for the writer and the checkpoint thread, the lock,
 * the listener; with room to spare.  The metrics clients come on top.
 */
#define FDLIMIT_RESERVE	32

/*
 * Makes room for want connections and reserve other descriptors: raises
 * the soft RLIMIT_NOFILE toward the hard one when it is lower than
 * want + reserve.  Returns in *conns the connections the limit leaves
 * room for (want, or fewer but at least 1 when even the hard limit is too
 * low) and in *limit the soft limit now in force.  Returns 0, or -1 with
 * *errstr when the limit cannot be read.
 */
int	fdlimit_fit(size_t want, size_t reserve, size_t *conns,
	    unsigned long long *limit, const char **errstr);

#endif
