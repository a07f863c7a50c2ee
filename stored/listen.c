/*
 * listen.c - the Unix socket agents connect to.
 *
 * Invariants: the socket file is never created world-writable, not even
 * for an instant (umask 0177 around bind, then chown and an explicit chmod
 * to the configured owner, group and mode, all before listen); a socket a
 * live store answers on is never unlinked.  The file's mode only decides
 * who may connect(2); conn.c then checks every peer's credentials.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

int
listen_probe(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	char dir[PATH_MAX];
	char *slash;
	int fd, rc, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes; "
		    "use a shorter --socket", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));

	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "socket directory %s does not "
			    "exist; create it (systemd: RuntimeDirectory="
			    "nettally) or use --socket", dir);
			return -1;
		}
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "another nettally-stored is running on %s; "
		    "stop it first, or give this one another --socket", path);
		return -1;
	}
	switch (saved) {
	case ENOENT:
		return 0;
	case ECONNREFUSED:
		/* Nobody listens: a socket left by a store that died. */
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; "
			    "remove it or use another --socket", path);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove stale socket %s: %s;"
			    " remove it by hand", path, strerror(errno));
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "cannot probe socket %s: %s; check the "
		    "path and its directory's permissions", path,
		    strerror(saved));
		return -1;
	}
}

int
listen_open(uv_pipe_t *p, const char *path, mode_t mode, uid_t owner,
    gid_t group, uv_connection_cb cb, char *err, size_t errlen)
{
	mode_t old;
	int rc;

	old = umask(0177);
	rc = uv_pipe_bind(p, path);
	umask(old);
	if (rc != 0) {
		snprintf(err, errlen, "cannot bind socket %s: %s; check that "
		    "its directory is writable by this user", path,
		    uv_strerror(rc));
		return -1;
	}
	if ((owner != (uid_t)-1 || group != (gid_t)-1) &&
	    chown(path, owner, group) == -1) {
		snprintf(err, errlen, "cannot give socket %s to uid %ld gid "
		    "%ld: %s; only root may give a file away, and a user only "
		    "to a group it is in", path,
		    owner == (uid_t)-1 ? -1L : (long)owner,
		    group == (gid_t)-1 ? -1L : (long)group, strerror(errno));
		unlink(path);
		return -1;
	}
	if (chmod(path, mode) == -1) {
		snprintf(err, errlen, "cannot chmod socket %s to %04o: %s",
		    path, (unsigned)mode, strerror(errno));
		unlink(path);
		return -1;
	}
	if ((rc = uv_listen((uv_stream_t *)p, 64, cb)) != 0) {
		snprintf(err, errlen, "cannot listen on socket %s: %s", path,
		    uv_strerror(rc));
		unlink(path);	/* ours: bind just created it */
		return -1;
	}
	return 0;
}

int
listen_peercred(uv_pipe_t *p, pid_t *pid, uid_t *uid, gid_t *gid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) != 0) {
		errno = EBADF;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	*pid = uc.pid;
	*uid = uc.uid;
	*gid = uc.gid;
	return 0;
}

int
listen_peergroups(uv_pipe_t *p, gid_t *groups, size_t max, size_t *n)
{
#ifdef SO_PEERGROUPS
	socklen_t len = (socklen_t)(max * sizeof(gid_t));
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) != 0) {
		errno = EBADF;
		return -1;
	}
	/* ERANGE: more groups than max; the first max are not returned. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return -1;
	*n = len / sizeof(gid_t);
	return 0;
#else
	(void)p;
	(void)groups;
	(void)max;
	*n = 0;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

/* A decimal id that fits in the type and is not the "no change" -1. */
static int
listen_parse_id(const char *s, unsigned long *id)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*id = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *id >= (unsigned long)UINT32_MAX)
		return -1;
	return 0;
}

int
listen_parse_user(const char *s, uid_t *uid)
{
	struct passwd *pw;
	unsigned long id;

	if (listen_parse_id(s, &id) == 0) {
		*uid = (uid_t)id;
		return 0;
	}
	if ((pw = getpwnam(s)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

int
listen_parse_group(const char *s, gid_t *gid)
{
	struct group *gr;
	unsigned long id;

	if (listen_parse_id(s, &id) == 0) {
		*gid = (gid_t)id;
		return 0;
	}
	if ((gr = getgrnam(s)) == NULL)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}
