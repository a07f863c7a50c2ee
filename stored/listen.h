/*
 * listen.h - the store's Unix socket.
 */
#ifndef NETTALLY_LISTEN_H
#define NETTALLY_LISTEN_H

#include <sys/types.h>

#include <stddef.h>

#include <uv.h>

/*
 * Prepares path for a new listener: refuses when a store answers on it
 * (a running instance), unlinks it when nothing does (a stale socket),
 * and checks that its directory exists.  Returns 0, or -1 with one line
 * naming the cause and the fix in err.
 */
int	listen_probe(const char *path, char *err, size_t errlen);

/*
 * Binds path (under umask 0177, then chown to owner and group unless they
 * are -1, then chmod mode) and listens on the initialised pipe p, calling
 * cb per connection.  Run listen_probe first.  Returns 0, or -1 with err;
 * a socket file it bound is removed again (p must still be closed by the
 * caller).
 */
int	listen_open(uv_pipe_t *p, const char *path, mode_t mode, uid_t owner,
	    gid_t group, uv_connection_cb cb, char *err, size_t errlen);

/*
 * Reads the credentials of the peer of a connected pipe (SO_PEERCRED).
 * Returns 0, or -1 with errno set.
 */
int	listen_peercred(uv_pipe_t *p, pid_t *pid, uid_t *uid, gid_t *gid);

/*
 * Reads up to max supplementary groups of the peer (SO_PEERGROUPS) into
 * groups, their number into *n.  Returns 0, or -1 with errno set (also
 * where the kernel lacks SO_PEERGROUPS).
 */
int	listen_peergroups(uv_pipe_t *p, gid_t *groups, size_t max, size_t *n);

/*
 * A user or group given by name or by decimal id.  Returns 0, or -1 when
 * no such user/group exists.
 */
int	listen_parse_user(const char *, uid_t *);
int	listen_parse_group(const char *, gid_t *);

#endif
