/*
 * conn_evict.c - making room among the store's connections: closing those
 * whose peer is gone unnoticed, and one idle connection when a new one
 * finds all its slots (CONN_MAX, or fewer: fdlimit.c) taken.
 *
 * Apart from conn.c, which runs one connection, because this is a policy
 * over all of them: which connection may be closed for another, and how
 * a peer that hung up is told from one that is only not being read.  It
 * asks the sockets (poll, FIONREAD, MSG_PEEK) and never reads from them:
 * what a connection holds stays for conn.c to read.
 *
 * Invariants:
 * - libuv sees a peer's end of stream only while reading, so a connection
 *   not read may hold on to a peer that has gone.  Before it refuses a
 *   HELLO for the name such a connection holds, or a connection for want
 *   of a slot, the store asks the sockets (poll, no wait) and closes
 *   those whose peer is gone.
 * - At most CONN_MAX live connections.  Agents are idle between flushes
 *   for as long as they are configured to be, so idleness alone closes
 *   nothing; one connection more closes those whose peer is gone, else
 *   the one silent longest that owes and is owed nothing
 *   (conn_evictable), or is refused when there is none.  Otherwise
 *   CONN_MAX idle connections would keep every new agent out.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "conn_int.h"
#include "log.h"
#include "proto.h"

static int	conn_evictable(const struct conn *, uint64_t);
static int	conn_evict_before(const struct conn *, const struct conn *);
static int	conn_holds_whole_frame(struct conn *, int);
static const char *conn_peer_gone(struct conn *);

/*
 * Whether o may be closed to let a new connection in.  Only silence that
 * is the peer's own counts: o is read (not paused for backpressure, not
 * starved of input memory, not waiting for its HELLO's commit), holds
 * no part of a frame, has no item in the writer and no reply its socket
 * did not take, and nothing came from it for evict_idle_ms since it was
 * last read or reading began.
 *
 * A connection that never said HELLO counts too.  The read timeout closes
 * it anyway, but only read_timeout_ms after its last frame, and
 * --read-timeout may set that to an hour; a peer silent that long
 * before HELLO is no agent at work, and a STATUS client that keeps
 * asking is not silent.
 */
static int
conn_evictable(const struct conn *o, uint64_t now)
{
	return (o->state == CONN_NEW || o->state == CONN_READY) &&
	    o->reading && !o->starved && o->len == 0 && o->nwriter == 0 &&
	    o->pipe.write_queue_size == 0 &&
	    now - o->quiet_since >= o->srv->evict_idle_ms;
}

/*
 * Among evictable connections, whether a goes before b: one without
 * HELLO first, then the longest silent, then the oldest.
 */
static int
conn_evict_before(const struct conn *a, const struct conn *b)
{
	if ((a->state == CONN_NEW) != (b->state == CONN_NEW))
		return a->state == CONN_NEW;
	if (a->quiet_since != b->quiet_since)
		return a->quiet_since < b->quiet_since;
	return a->id < b->id;
}

/*
 * More than CONN_MAX live connections with c: closes those whose peer is
 * gone, which only look live because they are not read (conn_peer_gone);
 * failing that, the connection silent longest, if one may be closed
 * (conn_evictable), with an ERROR saying why.  An agent reconnects by
 * itself and resends what was not acknowledged, so an idle one loses
 * nothing; refusing c instead would let CONN_MAX idle connections keep
 * every new agent out.  Returns 0, or -1 when no connection may be
 * closed.
 */
int
server_evict(struct server *srv, struct conn *c)
{
	struct conn *o, *next, *victim = NULL;
	struct proto_error er;
	uint64_t now = uv_now(srv->loop);
	unsigned long long secs;

	/*
	 * All of them, not just one: they are dead, and each later arrival
	 * would ask their sockets again.  Before any idle victim: closing a
	 * live agent while a dead one holds a slot would cost it a
	 * reconnect for nothing.
	 */
	for (o = LIST_FIRST(&srv->conns); o != NULL; o = next) {
		next = LIST_NEXT(o, entry);
		if (o != c)
			(void)conn_release_gone(o, c, "a connection slot");
	}
	if (srv->nlive <= srv->conn_max)
		return 0;
	LIST_FOREACH(o, &srv->conns, entry)
		if (o != c && conn_evictable(o, now) &&
		    (victim == NULL || conn_evict_before(o, victim)))
			victim = o;
	if (victim == NULL)
		return -1;
	secs = (unsigned long long)(now - victim->quiet_since) / 1000;
	log_warn("conn %llu: %s (pid %ld): idle for %llu s while the store "
	    "had %zu connections: closed to let connection %llu in (an agent "
	    "reconnects by itself)", (unsigned long long)victim->id,
	    CONN_WHO(victim), (long)victim->pid, secs, srv->conn_max,
	    (unsigned long long)c->id);
	memset(&er, 0, sizeof(er));
	er.code = PROTO_ERR_REFUSED;
	snprintf(er.text, sizeof(er.text), "idle for %llu s while the store "
	    "had %zu connections: closed to let a new one in; an agent "
	    "reconnects by itself and resends what was not acknowledged",
	    secs, srv->conn_max);
	conn_say_error(victim, &er);
	return 0;
}

/*
 * Whether o holds a whole frame not yet taken, in its buffer or in its
 * socket: 1 or 0, -1 (logged) when that cannot be told.  Frames follow
 * each other, so only the first can be whole when it is cut short.
 */
static int
conn_holds_whole_frame(struct conn *o, int fd)
{
	uint8_t hdr[PROTO_HDR_LEN];
	size_t have = o->len < PROTO_HDR_LEN ? o->len : PROTO_HDR_LEN;
	uint64_t body;
	ssize_t n;
	int unread;

	if (ioctl(fd, FIONREAD, &unread) == -1 || unread < 0) {
		log_warn("conn %llu: %s: cannot tell what its socket holds: "
		    "%s", (unsigned long long)o->id, CONN_WHO(o),
		    strerror(errno));
		return -1;
	}
	if (o->len + (size_t)unread < PROTO_HDR_LEN)
		return 0;
	memcpy(hdr, o->buf, have);
	if (have < PROTO_HDR_LEN) {
		n = recv(fd, hdr + have, PROTO_HDR_LEN - have,
		    MSG_PEEK | MSG_DONTWAIT);
		if (n != (ssize_t)(PROTO_HDR_LEN - have)) {
			log_warn("conn %llu: %s: cannot peek at its socket: %s",
			    (unsigned long long)o->id, CONN_WHO(o),
			    n == -1 ? strerror(errno) : "short read");
			return -1;
		}
	}
	body = (uint64_t)hdr[0] << 24 | (uint64_t)hdr[1] << 16 |
	    (uint64_t)hdr[2] << 8 | (uint64_t)hdr[3];
	return o->len + (uint64_t)unread >= PROTO_HDR_LEN + body;
}

/*
 * What shows that o's peer is gone, asked of its socket without reading
 * or blocking; NULL while it is there, or when that cannot be told.
 * libuv reports the end of a stream only to a reader, and o may go
 * unread for long (backpressure, input memory, its HELLO in the writer),
 * holding its agent's name and a connection slot all the while.  A peer
 * that only shut down its sending side counts as gone: read, its end of
 * stream would close o just the same.
 *
 * Only a connection that holds no whole frame is "gone" here: one still
 * in its socket or its buffer would be lost with it, and an agent that
 * was restarted without a spool cannot send it again.  A connection that
 * holds one keeps its name until it is read, as any other; one that does
 * not holds at most a frame cut short, which can never end.  Its items
 * in the writer name it by id: they are applied, and their replies
 * dropped.  A HELLO of its agent pushed later queues behind them
 * (writer_push), so the WELCOME's last_seq counts what of them was
 * committed.
 */
static const char *
conn_peer_gone(struct conn *o)
{
	struct pollfd pfd;
	const char *why = NULL;
	uv_os_fd_t fd;
	int rc;

	if ((rc = uv_fileno((uv_handle_t *)&o->pipe, &fd)) != 0) {
		log_warn("conn %llu: %s: cannot tell whether the peer is "
		    "there: %s", (unsigned long long)o->id, CONN_WHO(o),
		    uv_strerror(rc));
		return NULL;
	}
	memset(&pfd, 0, sizeof(pfd));
	pfd.fd = fd;
#ifdef POLLRDHUP
	pfd.events = POLLRDHUP;
#endif
	if (poll(&pfd, 1, 0) == -1) {
		log_warn("conn %llu: %s: cannot tell whether the peer is "
		    "there: poll: %s", (unsigned long long)o->id, CONN_WHO(o),
		    strerror(errno));
		return NULL;
	}
	if (pfd.revents & POLLHUP)
		why = "hung up";
	else if (pfd.revents & POLLERR)
		why = "socket error";
#ifdef POLLRDHUP
	else if (pfd.revents & POLLRDHUP)
		why = "stopped sending";
#endif
	/*
	 * Asked only once the peer has stopped sending: what its socket
	 * holds can then only shrink, so a frame cannot be completed
	 * between this look and the close.
	 */
	if (why == NULL || conn_holds_whole_frame(o, fd) != 0)
		return NULL;
	return why;
}

/*
 * Closes o when its peer is gone (conn_peer_gone), for connection c to
 * take what (its name, a slot).  Returns 1 when it did.
 */
int
conn_release_gone(struct conn *o, const struct conn *c, const char *what)
{
	struct server *srv = o->srv;
	const char *why, *unread;

	if ((why = conn_peer_gone(o)) == NULL)
		return 0;
	if (o->reading)
		unread = "its end not read yet";
	else if (srv->paused)
		unread = "not read: backpressure";
	else if (o->starved)
		unread = "not read: waiting for input memory";
	else if (o->state == CONN_HELLO)
		unread = "not read: its HELLO in the writer";
	else
		unread = "not read";
	log_info("conn %llu: %s (pid %ld): peer %s (%s): closed for "
	    "connection %llu to take %s", (unsigned long long)o->id,
	    CONN_WHO(o), (long)o->pid, why, unread,
	    (unsigned long long)c->id, what);
	conn_close(o);
	return 1;
}
