/*
 * activate.c - take over the listening socket systemd passed.
 *
 * The protocol of sd_listen_fds(3), written out so the store needs no
 * libsystemd: LISTEN_PID must equal our pid (the variables were meant
 * for us, not inherited from a parent), LISTEN_FDS counts descriptors
 * starting at fd 3.  The store listens on one socket, so it takes one.
 *
 * Invariants: the socket belongs to systemd, which created it, set its
 * owner and mode (nettally-stored.socket) and removes it; the store
 * never unlinks or chmods it.  The descriptor is close-on-exec once
 * taken, and the variables are gone from the environment.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"

static int	activate_number(const char *, long *);
static void	activate_unsetenv(void);

/*
 * A decimal number with nothing around it: a digit first, as strtol
 * takes blanks and a sign.  Returns 0, or -1.
 */
static int
activate_number(const char *s, long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

static void
activate_unsetenv(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int
activate_find(char *path, size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	socklen_t len;
	const char *e;
	long pid, n;
	int type, domain, listening, flags;

	if ((e = getenv("LISTEN_PID")) == NULL)
		return 0;
	if (activate_number(e, &pid) == -1 || pid <= 0) {
		snprintf(err, errlen, "socket activation: LISTEN_PID=%s is "
		    "not a process id", e);
		activate_unsetenv();
		return -1;
	}
	if (pid != (long)getpid()) {
		/* Inherited from whoever started us: not ours to use. */
		activate_unsetenv();
		return 0;
	}
	e = getenv("LISTEN_FDS");
	if (e == NULL || activate_number(e, &n) == -1 || n < 0) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS=%s is not "
		    "a count of sockets", e != NULL ? e : "(unset)");
		activate_unsetenv();
		return -1;
	}
	activate_unsetenv();
	if (n == 0)
		return 0;
	if (n != 1) {
		snprintf(err, errlen, "socket activation: %ld sockets passed; "
		    "the store listens on one (check ListenStream= in "
		    "nettally-stored.socket)", n);
		return -1;
	}
	if (fstat(ACTIVATE_FD, &sb) == -1 || !S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "socket activation: fd %d is not a "
		    "socket", ACTIVATE_FD);
		return -1;
	}
	len = sizeof(type);
	if (getsockopt(ACTIVATE_FD, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    (len = sizeof(domain), getsockopt(ACTIVATE_FD, SOL_SOCKET,
	    SO_DOMAIN, &domain, &len)) == -1 ||
	    (len = sizeof(listening), getsockopt(ACTIVATE_FD, SOL_SOCKET,
	    SO_ACCEPTCONN, &listening, &len)) == -1) {
		snprintf(err, errlen, "socket activation: fd %d: %s",
		    ACTIVATE_FD, strerror(errno));
		return -1;
	}
	if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
		snprintf(err, errlen, "socket activation: fd %d is not a "
		    "listening Unix stream socket (ListenStream=/path in "
		    "nettally-stored.socket)", ACTIVATE_FD);
		return -1;
	}
	if ((flags = fcntl(ACTIVATE_FD, F_GETFD)) == -1 ||
	    fcntl(ACTIVATE_FD, F_SETFD, flags | FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "socket activation: fd %d: %s",
		    ACTIVATE_FD, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	len = sizeof(sun);
	if (getsockname(ACTIVATE_FD, (struct sockaddr *)&sun, &len) == -1 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sun.sun_path[0] == '\0')
		snprintf(path, pathlen, "(fd %d)", ACTIVATE_FD);
	else
		snprintf(path, pathlen, "%.*s", (int)(len -
		    offsetof(struct sockaddr_un, sun_path)), sun.sun_path);
	return 1;
}

int
activate_listen(uv_pipe_t *p, uv_connection_cb cb, char *err, size_t errlen)
{
	int rc;

	if ((rc = uv_pipe_open(p, ACTIVATE_FD)) != 0) {
		snprintf(err, errlen, "socket activation: fd %d: %s",
		    ACTIVATE_FD, uv_strerror(rc));
		return -1;
	}
	if ((rc = uv_listen((uv_stream_t *)p, 64, cb)) != 0) {
		snprintf(err, errlen, "socket activation: cannot listen on fd "
		    "%d: %s", ACTIVATE_FD, uv_strerror(rc));
		return -1;
	}
	return 0;
}
