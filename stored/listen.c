/*
 * listen.c - the Unix socket agents connect to.
 *
 * Invariants: the socket file is never created world-writable, not even
 * for an instant (umask 0177 around bind, then an explicit chmod to the
 * configured mode); a socket a live store answers on is never unlinked.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
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
listen_open(uv_pipe_t *p, const char *path, mode_t mode, uv_connection_cb cb,
    char *err, size_t errlen)
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
