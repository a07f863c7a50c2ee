/*
 * fdlimit.c - the store's open files limit, fitted to its connections.
 *
 * Every connection is a descriptor.  With none left, libuv accepts each
 * new connection and closes it at once (its EMFILE trick), without a
 * word: an agent saw its HELLO go unanswered and the store logged
 * nothing, until idle peers went.  So the soft limit is raised toward
 * the hard one (a soft 1024 is for select(), which libuv does not use),
 * and when even the hard limit is too low the store serves fewer
 * connections: past them, its own eviction and refusal decide, and they
 * say what happened.
 */
#include <sys/resource.h>

#include <errno.h>
#include <string.h>

#include "fdlimit.h"

int
fdlimit_fit(size_t want, size_t reserve, size_t *conns,
    unsigned long long *limit, const char **errstr)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + (rlim_t)reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		*errstr = strerror(errno);
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		struct rlimit up = rl;

		up.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > need ? need : rl.rlim_max;
		/* Refused (a sandbox may): the limit stays as it was. */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = up.rlim_cur;
	}
	*limit = (unsigned long long)rl.rlim_cur;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		*conns = want;
	else if (rl.rlim_cur > (rlim_t)reserve + 1)
		*conns = (size_t)(rl.rlim_cur - reserve);
	else
		*conns = 1;
	return 0;
}
