/*
 * activate.h - a listening socket passed by systemd (socket activation).
 */
#ifndef NETTALLY_ACTIVATE_H
#define NETTALLY_ACTIVATE_H

#include <stddef.h>

#include <uv.h>

#define ACTIVATE_FD	3	/* SD_LISTEN_FDS_START */

/*
 * Looks for a socket passed the way sd_listen_fds(3) describes:
 * LISTEN_PID names this process and LISTEN_FDS counts descriptors from
 * fd 3.  Exactly one is accepted, and it must be a listening AF_UNIX
 * stream socket.  The variables are removed from the environment either
 * way, so no child inherits them.  Returns 1 with its path (possibly
 * truncated) in path, 0 when nothing was passed to this process, or -1
 * with one line naming the cause in err.
 */
int	activate_find(char *path, size_t pathlen, char *err, size_t errlen);

/*
 * Listens on the passed socket through the initialised pipe p, calling
 * cb per connection.  Returns 0, or -1 with err.
 */
int	activate_listen(uv_pipe_t *p, uv_connection_cb cb, char *err,
	    size_t errlen);

#endif
