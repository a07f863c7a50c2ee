/*
 * conn.c - one agent connection: framing, protocol order, replies.
 *
 * The protocol, as the store runs it (proto/PROTOCOL.md has the fields):
 *
 *  1. The agent connects and sends HELLO {name, ifaces[], resolution,
 *     start_time = its epoch}.  Any other first message: ERROR(SEQUENCE),
 *     close.  A name already live on another connection: ERROR(DUPLICATE),
 *     close the new one; unless the peer of that connection has hung up
 *     unnoticed, because it was not being read (conn_peer_gone): then it
 *     is closed and the new HELLO goes on.
 *  2. The HELLO goes to the writer thread as a queue item: find or create
 *     the agent by name and its iface rows; same epoch as stored: last =
 *     agent.last_seq, else the agent starts the new epoch with last_seq 0
 *     and the HELLO's resolution; commit; reply WELCOME(last_seq = last).
 *     Until WELCOME is sent the connection is not read (one message in
 *     flight during the handshake).
 *  3. The agent sends BATCH seq = 1, 2, ... within its epoch, possibly
 *     resending some after a reconnect.  The loop decodes and validates
 *     each (validate.c: iface index, bucket a multiple of the resolution
 *     and before the year 10000, first_ts <= last_ts).  Invalid: ERROR(BAD_FRAME, the
 *     problem), close this connection; nothing of it reaches the db.  A
 *     batch with seq <= agent.last_seq is a duplicate: not applied, still
 *     acknowledged (db.c logs one that is not the batch committed).
 *     Otherwise applied with its batch row and last_seq in the same
 *     transaction, grouped with whatever else is queued.
 *  4. After COMMIT, ACK(seq) for each committed batch, in order: ACK N
 *     means every seq <= N is committed.  A failed commit is rolled back,
 *     not acked, and retried by the writer; connections stay open.  A
 *     batch (or HELLO) whose data the database refuses for good (a
 *     constraint or trigger, writer.h) is answered with ERROR(BAD_FRAME,
 *     the SQLite message) after the ACKs of what came before it, and the
 *     connection closed: as for an invalid batch, the agent resends it
 *     once on a new connection and, refused again, drops and counts it.
 *  5. SIGTERM/SIGINT: stop reading, let the writer finish and ack, send
 *     ERROR(SHUTDOWN), close.
 *
 * Two policies over all connections live beside this file, each in its
 * own: conn_evict.c closes connections whose peer is gone and, when a
 * new connection finds every slot taken, an idle one; conn_flow.c stops
 * and restarts reading for backpressure and shares input_max among the
 * frames being read.  conn_int.h is what the three files share.
 *
 * Invariants:
 * - A connection embeds its uv_pipe_t; its memory (the struct and its
 *   read buffer) is freed only in conn_close_cb.
 * - alloc_cb hands out the connection's own buffer.  A frame header is
 *   checked against PROTO_FRAME_MAX before the buffer grows to hold the
 *   frame; it is kept for frames alike and shrinks back when the frames
 *   get smaller or a peer waits for the room.  What the buffers hold
 *   beyond CONN_BUF_MIN each is bounded by input_max for all peers: a
 *   peer whose frame does not fit is not read (nor timed) until a frame
 *   in progress ends, and every such frame ends within read_timeout_ms.
 * - Writer items name connections by id, never by pointer: a connection
 *   may close while its items are in the writer.
 * - A connection embeds two handles, the pipe and its stall timer; both
 *   are closed together and the memory goes when the second close
 *   callback runs.
 * - The stall timer runs only while the connection is read and owes
 *   bytes (a frame begun, or its HELLO): a pause for backpressure, for
 *   input memory or for the writer is never the peer's fault.  Bytes
 *   alone do not restart it, whole frames do, so a peer trickling one
 *   byte at a time cannot hold its buffer for long.
 * - A peer's unread replies, acknowledgements and status replies alike,
 *   are bounded (unread_max bytes its socket would not take, libuv's
 *   write queue): past it the connection is closed, since an ERROR would
 *   only queue behind them.  Replies the kernel took do not count, so a
 *   thousand ACKs handed over at once after a stall close no one.
 * - A closing connection is freed within goodbye_ms, whether or not its
 *   peer reads the last ERROR: the stall timer, stopped by conn_unlist,
 *   becomes its deadline.
 * - Every connection libuv hands over is accepted, at once or, when no
 *   memory can be found for it, by the accept_retry timer: libuv watches
 *   the listener again only after uv_accept, so a connection left there
 *   would stop the store accepting for good.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "conn_int.h"
#include "listen.h"
#include "log.h"
#include "proto.h"
#include "status.h"
#include "validate.h"

#define CONN_GROUPS_MAX	256		/* peer groups looked at */

struct conn_wreq {
	uv_write_t		 req;
	struct proto_buf	 buf;
};

static void	server_accept(struct server *, uv_stream_t *);
static void	server_accept_retry_cb(uv_timer_t *);
static int	conn_new(struct server *, struct conn **, const char **);
static void	conn_accept(struct conn *, uv_stream_t *);
static void	conn_alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
static void	conn_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	conn_write_cb(uv_write_t *, int);
static void	conn_shutdown_cb(uv_shutdown_t *, int);
static void	conn_close_cb(uv_handle_t *);
static int	conn_send(struct conn *, struct conn_wreq *);
static int	conn_send_welcome(struct conn *, uint64_t);
static int	conn_send_ack(struct conn *, uint64_t);
static void	conn_stall_cb(uv_timer_t *);
static void	conn_goodbye_cb(uv_timer_t *);
static int	conn_check_unread(struct conn *, const char *);
static void	conn_frame(struct conn *, const uint8_t *, size_t);
static void	conn_hello(struct conn *, const uint8_t *, size_t);
static void	conn_batch(struct conn *, const uint8_t *, size_t);
static void	conn_agent_error(struct conn *, const uint8_t *, size_t);
static void	conn_status(struct conn *, const uint8_t *, size_t);
static size_t	conn_batch_mem(const struct proto_batch *);
static struct conn *server_find(struct server *, uint64_t);
static int	server_allows(struct server *, struct conn *, gid_t);
static void	server_check_closed(struct server *);
static void	server_refused(struct server *, struct conn *,
		    struct writer_item *);

void
server_init(struct server *srv, uv_loop_t *loop, struct writer *w)
{
	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->writer = w;
	srv->queued_max = CONN_QUEUED_MAX;
	srv->read_timeout_ms = CONN_READ_TIMEOUT_MS;
	srv->unread_max = CONN_UNREAD_MAX;
	srv->goodbye_ms = CONN_GOODBYE_MS;
	srv->input_max = CONN_INPUT_MAX;
	srv->evict_idle_ms = CONN_EVICT_IDLE_MS;
	srv->conn_max = CONN_MAX;
	LIST_INIT(&srv->conns);
	srv->started = (int64_t)time(NULL);
}

int
server_allow_uid(struct server *srv, uid_t uid)
{
	if (srv->nallow_uid >= CONN_ALLOW_MAX)
		return -1;
	srv->allow_uid[srv->nallow_uid++] = uid;
	return 0;
}

int
server_allow_gid(struct server *srv, gid_t gid)
{
	if (srv->nallow_gid >= CONN_ALLOW_MAX)
		return -1;
	srv->allow_gid[srv->nallow_gid++] = gid;
	return 0;
}

void
server_allow_default(struct server *srv)
{
	struct passwd *pw;

	if (srv->nallow_uid > 0 || srv->nallow_gid > 0)
		return;
	srv->allow_uid[srv->nallow_uid++] = geteuid();
	srv->allow_gid[srv->nallow_gid++] = getegid();
	/* An agent started as root drops to this user before it connects. */
	if ((pw = getpwnam(CONN_AGENT_USER)) != NULL) {
		srv->allow_uid[srv->nallow_uid++] = pw->pw_uid;
		srv->allow_gid[srv->nallow_gid++] = pw->pw_gid;
	}
}

/*
 * Root, an allowed uid, or an allowed group: the peer's gid from
 * SO_PEERCRED or one of its supplementary groups (SO_PEERGROUPS, read
 * only when needed; a kernel without it checks the primary gid alone).
 */
static int
server_allows(struct server *srv, struct conn *c, gid_t gid)
{
	gid_t groups[CONN_GROUPS_MAX];
	size_t i, j, n;

	if (c->uid == 0)
		return 1;
	for (i = 0; i < srv->nallow_uid; i++)
		if (srv->allow_uid[i] == c->uid)
			return 1;
	for (i = 0; i < srv->nallow_gid; i++)
		if (srv->allow_gid[i] == gid)
			return 1;
	if (srv->nallow_gid == 0 ||
	    listen_peergroups(&c->pipe, groups, CONN_GROUPS_MAX, &n) == -1)
		return 0;
	for (i = 0; i < srv->nallow_gid; i++)
		for (j = 0; j < n; j++)
			if (srv->allow_gid[i] == groups[j])
				return 1;
	return 0;
}

void
conn_accept_cb(uv_stream_t *listener, int status)
{
	struct server *srv = listener->data;

	if (status < 0) {
		log_warn("listen: accept: %s", uv_strerror(status));
		return;
	}
	server_accept(srv, listener);
}

/*
 * Accepts the connection listener holds.  Without memory for it, leaves
 * it there and tries again later: libuv stops watching a listener whose
 * connection was not accepted, so returning without a retry would stop
 * the store accepting for good.
 */
static void
server_accept(struct server *srv, uv_stream_t *listener)
{
	struct conn *c;
	const char *errstr;
	int rc;

	if (conn_new(srv, &c, &errstr) == -1) {
		if (srv->accept_waiting == NULL) {
			/* Once per episode: the retries would flood the log. */
			log_err("listen: accept: %s: the connection waits, "
			    "tried again every %d ms", errstr,
			    CONN_ACCEPT_RETRY_MS);
			srv->accept_nomem_at = uv_now(srv->loop);
		}
		srv->accept_waiting = listener;
		/* server_shutdown closed the timer; the listener goes too. */
		if (srv->shutting)
			return;
		if (!srv->accept_retry_init) {
			/* Cannot fail: libuv's timer init only fills the struct. */
			uv_timer_init(srv->loop, &srv->accept_retry);
			srv->accept_retry.data = srv;
			srv->accept_retry_init = 1;
		}
		if ((rc = uv_timer_start(&srv->accept_retry,
		    server_accept_retry_cb, CONN_ACCEPT_RETRY_MS, 0)) != 0)
			log_err("listen: accept: cannot retry: %s",
			    uv_strerror(rc));
		return;
	}
	if (srv->accept_waiting != NULL) {
		log_info("listen: accept: memory found again after %llu ms",
		    (unsigned long long)(uv_now(srv->loop) -
		    srv->accept_nomem_at));
		srv->accept_waiting = NULL;
	}
	conn_accept(c, listener);
}

static void
server_accept_retry_cb(uv_timer_t *h)
{
	struct server *srv = h->data;
	uv_stream_t *listener = srv->accept_waiting;

	if (listener == NULL)
		return;
	/* A closed listener took its waiting connection with it. */
	if (uv_is_closing((uv_handle_t *)listener)) {
		srv->accept_waiting = NULL;
		return;
	}
	server_accept(srv, listener);
}

/*
 * Returns in *cp a connection of srv with its buffer, its handles
 * initialised and nothing accepted yet; or -1 with *errstr.
 */
static int
conn_new(struct server *srv, struct conn **cp, const char **errstr)
{
	struct conn *c;
	int rc;

	*errstr = "out of memory";
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if ((c->buf = malloc(CONN_BUF_MIN)) == NULL) {
		free(c);
		return -1;
	}
	if ((rc = uv_pipe_init(srv->loop, &c->pipe, 0)) != 0) {
		*errstr = uv_strerror(rc);
		free(c->buf);
		free(c);
		return -1;
	}
	c->cap = CONN_BUF_MIN;
	c->srv = srv;
	c->pipe.data = c;
	/* Cannot fail: libuv's timer init only fills the struct. */
	uv_timer_init(srv->loop, &c->stall);
	c->stall.data = c;
	c->nopen = 2;
	srv->nconns++;
	c->id = ++srv->next_id;
	c->pid = -1;
	c->uid = (uid_t)-1;
	c->stat.connected = (int64_t)time(NULL);
	c->quiet_since = uv_now(srv->loop);
	*cp = c;
	return 0;
}

/* Takes c, new from conn_new, over: accepts, checks and starts reading. */
static void
conn_accept(struct conn *c, uv_stream_t *listener)
{
	struct server *srv = c->srv;
	gid_t gid;
	int rc;

	if ((rc = uv_accept(listener, (uv_stream_t *)&c->pipe)) != 0) {
		log_warn("listen: accept: %s", uv_strerror(rc));
		conn_close(c);
		return;
	}
	LIST_INSERT_HEAD(&srv->conns, c, entry);
	c->inlist = 1;
	srv->nlive++;
	c->state = CONN_NEW;
	if (listen_peercred(&c->pipe, &c->pid, &c->uid, &gid) == -1) {
		/* Without credentials nobody can say the peer is allowed. */
		conn_fail(c, PROTO_ERR_REFUSED, "cannot read the peer's "
		    "credentials (SO_PEERCRED): %s", strerror(errno));
		return;
	}
	log_debug("conn %llu: peer pid %ld uid %lu gid %lu",
	    (unsigned long long)c->id, (long)c->pid, (unsigned long)c->uid,
	    (unsigned long)gid);
	if (!server_allows(srv, c, gid)) {
		conn_fail(c, PROTO_ERR_REFUSED, "peer pid %ld uid %lu gid %lu "
		    "is not allowed: the store serves root and the uids and "
		    "groups given with --allow-uid and --allow-group",
		    (long)c->pid, (unsigned long)c->uid,
		    (unsigned long)gid);
		return;
	}
	/*
	 * Closing connections do not count: they are served no more and go
	 * within goodbye_ms, and counting them would evict an agent for a
	 * slot about to come free.
	 */
	if (srv->nlive > srv->conn_max && server_evict(srv, c) == -1) {
		conn_fail(c, PROTO_ERR_REFUSED, "more than %zu connections",
		    srv->conn_max);
		return;
	}
	conn_reading(c);
}

/* Takes the connection out of the live list: no more lookups find it. */
static void
conn_unlist(struct conn *c)
{
	if (c->inlist) {
		LIST_REMOVE(c, entry);
		c->inlist = 0;
		c->srv->nlive--;
	}
	c->state = CONN_CLOSING;
	uv_timer_stop(&c->stall);
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
}

/* Closes at once; pending writes are cancelled. */
void
conn_close(struct conn *c)
{
	conn_unlist(c);
	if (!uv_is_closing((uv_handle_t *)&c->pipe)) {
		uv_close((uv_handle_t *)&c->pipe, conn_close_cb);
		uv_close((uv_handle_t *)&c->stall, conn_close_cb);
	}
}

static void
conn_close_cb(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct server *srv = c->srv;
	size_t grown = c->cap - CONN_BUF_MIN;

	if (--c->nopen > 0)
		return;
	free(c->buf);
	free(c);
	srv->nconns--;
	server_input_free(srv, grown);
	server_check_closed(srv);
}

static void
conn_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct conn *c = req->handle->data;

	(void)status;
	conn_close(c);
}

/* Sends ERROR(code, text), logged and counted, then closes. */
void
conn_fail(struct conn *c, enum proto_error_code code, const char *fmt, ...)
{
	struct proto_error er;
	va_list ap;

	if (c->state == CONN_CLOSING)
		return;
	memset(&er, 0, sizeof(er));
	er.code = code;
	va_start(ap, fmt);
	vsnprintf(er.text, sizeof(er.text), fmt, ap);
	va_end(ap);
	if (code == PROTO_ERR_SHUTDOWN)
		log_debug("conn %llu: %s: %s", (unsigned long long)c->id,
		    CONN_WHO(c), er.text);
	else {
		c->srv->nrejected++;
		log_warn("conn %llu: %s (pid %ld): %s",
		    (unsigned long long)c->id, CONN_WHO(c), (long)c->pid,
		    er.text);
	}
	conn_say_error(c, &er);
}

/*
 * Sends er, then closes once it is written, or after goodbye_ms if the
 * peer does not take it.  The caller has said why in the log.
 */
void
conn_say_error(struct conn *c, const struct proto_error *er)
{
	struct conn_wreq *w;

	conn_unlist(c);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		conn_close(c);
		return;
	}
	proto_buf_init(&w->buf);
	if (proto_encode_error(&w->buf, er) == -1) {
		proto_buf_clear(&w->buf);
		free(w);
		conn_close(c);
		return;
	}
	if (conn_send(c, w) == -1 ||
	    uv_shutdown(&c->sreq, (uv_stream_t *)&c->pipe,
	    conn_shutdown_cb) != 0 ||
	    uv_timer_start(&c->stall, conn_goodbye_cb, c->srv->goodbye_ms,
	    0) != 0)
		conn_close(c);
}

/* The peer did not take its last ERROR in time: cut it off. */
static void
conn_goodbye_cb(uv_timer_t *h)
{
	struct conn *c = h->data;

	log_debug("conn %llu: %s: last reply not read within %llu ms: "
	    "closed", (unsigned long long)c->id, CONN_WHO(c),
	    (unsigned long long)c->srv->goodbye_ms);
	conn_close(c);
}

/*
 * Closes c when its peer leaves more than unread_max bytes of replies
 * (what) that its socket will not take.  Returns -1 when it did.
 */
static int
conn_check_unread(struct conn *c, const char *what)
{
	size_t unread = c->pipe.write_queue_size;

	if (unread <= c->srv->unread_max)
		return 0;
	c->srv->nrejected++;
	log_warn("conn %llu: %s (pid %ld): does not read its %s (%zu "
	    "bytes its socket will not take): closed",
	    (unsigned long long)c->id, CONN_WHO(c), (long)c->pid, what,
	    unread);
	conn_close(c);
	return -1;
}

/* Writes w's frame; takes w over.  Returns 0, or -1 (w freed). */
static int
conn_send(struct conn *c, struct conn_wreq *w)
{
	uv_buf_t b;
	int rc;

	b = uv_buf_init((char *)w->buf.data, (unsigned int)w->buf.len);
	w->req.data = c;
	if ((rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
	    conn_write_cb)) != 0) {
		log_warn("conn %llu: %s: write: %s", (unsigned long long)c->id,
		    CONN_WHO(c), uv_strerror(rc));
		proto_buf_clear(&w->buf);
		free(w);
		return -1;
	}
	return 0;
}

static void
conn_write_cb(uv_write_t *req, int status)
{
	struct conn_wreq *w = (struct conn_wreq *)req;
	struct conn *c = req->data;

	proto_buf_clear(&w->buf);
	free(w);
	if (status < 0 && status != UV_ECANCELED) {
		/* The agent went away first: usual, not worth a warning. */
		if (status == UV_EPIPE || status == UV_ECONNRESET)
			log_debug("conn %llu: %s: write: %s",
			    (unsigned long long)c->id, CONN_WHO(c),
			    uv_strerror(status));
		else
			log_warn("conn %llu: %s: write: %s",
			    (unsigned long long)c->id, CONN_WHO(c),
			    uv_strerror(status));
		conn_close(c);
	}
}

static int
conn_send_welcome(struct conn *c, uint64_t last_seq)
{
	struct proto_welcome wm = { .last_seq = last_seq };
	struct conn_wreq *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	proto_buf_init(&w->buf);
	if (proto_encode_welcome(&w->buf, &wm) == -1) {
		proto_buf_clear(&w->buf);
		free(w);
		return -1;
	}
	return conn_send(c, w);
}

static int
conn_send_ack(struct conn *c, uint64_t seq)
{
	struct proto_ack a = { .seq = seq };
	struct conn_wreq *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	proto_buf_init(&w->buf);
	if (proto_encode_ack(&w->buf, &a) == -1) {
		proto_buf_clear(&w->buf);
		free(w);
		return -1;
	}
	return conn_send(c, w);
}

/* Starts or stops reading as the state, backpressure and shutdown say. */
void
conn_reading(struct conn *c)
{
	struct server *srv = c->srv;
	int want, rc;

	want = !srv->shutting && !srv->paused && !c->starved &&
	    (c->state == CONN_NEW || c->state == CONN_READY);
	if (want && !c->reading) {
		if ((rc = uv_read_start((uv_stream_t *)&c->pipe, conn_alloc_cb,
		    conn_read_cb)) != 0) {
			log_warn("conn %llu: read: %s",
			    (unsigned long long)c->id, uv_strerror(rc));
			conn_close(c);
			return;
		}
		c->reading = 1;
		/* Time it was not read is not the peer's silence. */
		c->quiet_since = uv_now(srv->loop);
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
	/* Owing bytes while read: the clock runs from the last frame. */
	if (c->reading && (c->len > 0 || c->state == CONN_NEW)) {
		if (!uv_is_active((uv_handle_t *)&c->stall) &&
		    uv_timer_start(&c->stall, conn_stall_cb,
		    srv->read_timeout_ms, 0) != 0)
			conn_close(c);
	} else
		uv_timer_stop(&c->stall);
}

static void
conn_stall_cb(uv_timer_t *h)
{
	struct conn *c = h->data;
	unsigned long long ms = (unsigned long long)c->srv->read_timeout_ms;

	if (c->len == 0)
		/* A status reader's clock starts again at each frame. */
		conn_fail(c, PROTO_ERR_SEQUENCE, "no HELLO and no frame for "
		    "%llu ms", ms);
	else
		conn_fail(c, PROTO_ERR_BAD_FRAME, "frame not complete within "
		    "%llu ms: %zu bytes of it came", ms, c->len);
}

static void
conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)suggested;
	/* conn_reserve keeps room for the frame in progress: never 0 here. */
	*b = uv_buf_init((char *)c->buf + c->len,
	    (unsigned int)(c->cap - c->len));
}

static void
conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = s->data;

	(void)b;
	if (nread == 0)		/* EAGAIN: nothing this time */
		return;
	if (nread < 0) {
		/* An agent's goodbye is news; a status reader's is not. */
		if (nread == UV_EOF && c->name[0] != '\0')
			log_info("conn %llu: %s: agent disconnected after "
			    "%llu batches, %llu records",
			    (unsigned long long)c->id, c->name,
			    (unsigned long long)c->stat.batches,
			    (unsigned long long)c->stat.records);
		else if (nread == UV_EOF)
			log_debug("conn %llu: %s: end of stream",
			    (unsigned long long)c->id, CONN_WHO(c));
		else
			log_warn("conn %llu: %s: read: %s",
			    (unsigned long long)c->id, CONN_WHO(c),
			    uv_strerror((int)nread));
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	c->quiet_since = uv_now(c->srv->loop);
	conn_process(c);
}

/* Handles every whole frame in the buffer while the state allows. */
void
conn_process(struct conn *c)
{
	enum proto_err e;
	size_t pos = 0, body;

	while (c->state == CONN_NEW || c->state == CONN_READY) {
		if (c->srv->shutting || c->srv->paused)
			break;
		e = proto_frame_check(c->buf + pos, c->len - pos,
		    PROTO_FRAME_MAX, &body);
		if (e == PROTO_E_SHORT)
			break;
		if (e != PROTO_OK) {
			conn_fail(c, PROTO_ERR_BAD_FRAME, "frame: %s",
			    proto_strerror(e));
			return;
		}
		conn_frame(c, c->buf + pos + PROTO_HDR_LEN, body);
		c->last_frame = PROTO_HDR_LEN + body;
		pos += PROTO_HDR_LEN + body;
	}
	if (c->state == CONN_CLOSING)
		return;
	if (pos > 0) {
		memmove(c->buf, c->buf + pos, c->len - pos);
		c->len -= pos;
		/* Whole frames are progress: the next one gets a new clock. */
		uv_timer_stop(&c->stall);
	}
	if (conn_reserve(c) == -1) {
		conn_fail(c, PROTO_ERR_INTERNAL, "out of memory for a frame");
		return;
	}
	conn_reading(c);
}

static void
conn_frame(struct conn *c, const uint8_t *body, size_t n)
{
	enum proto_err e;
	uint32_t version, type;
	uint64_t seq;

	/* Nearly every frame: its decoder checks it all, skim included. */
	if (c->state == CONN_READY && proto_peek_type(body, n) == PROTO_BATCH) {
		conn_batch(c, body, n);
		return;
	}
	if ((e = proto_decode_envelope(body, n, &version, &type, &seq)) !=
	    PROTO_OK) {
		conn_fail(c, PROTO_ERR_BAD_FRAME, "message: %s",
		    proto_strerror(e));
		return;
	}
	/* Any allowed peer may ask, before HELLO or after: not an agent. */
	if (type == PROTO_STATUS) {
		conn_status(c, body, n);
		return;
	}
	if (c->state == CONN_NEW) {
		if (type != PROTO_HELLO)
			conn_fail(c, PROTO_ERR_SEQUENCE, "first message must "
			    "be HELLO, not %s", proto_type_name((int)type));
		else
			conn_hello(c, body, n);
		return;
	}
	switch (type) {
	case PROTO_BATCH:
		conn_batch(c, body, n);
		break;
	case PROTO_ERROR:
		conn_agent_error(c, body, n);
		break;
	default:
		conn_fail(c, PROTO_ERR_SEQUENCE, "%s after HELLO",
		    proto_type_name((int)type));
		break;
	}
}

static void
conn_hello(struct conn *c, const uint8_t *body, size_t n)
{
	struct server *srv = c->srv;
	struct writer_item *it;
	struct conn *o;
	enum proto_err e;

	if ((it = writer_item_new(WRITER_HELLO)) == NULL) {
		conn_fail(c, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	if ((e = proto_decode_hello(body, n, &it->hello)) != PROTO_OK) {
		writer_item_free(it);
		conn_fail(c, PROTO_ERR_BAD_FRAME, "HELLO: %s",
		    proto_strerror(e));
		return;
	}
	memcpy(c->name, it->hello.name, sizeof(c->name));
	/* At most one holder: every HELLO passed this check. */
	LIST_FOREACH(o, &srv->conns, entry)
		if (o != c && (o->state == CONN_HELLO ||
		    o->state == CONN_READY) && strcmp(o->name, c->name) == 0)
			break;
	/*
	 * A holder whose peer is gone only looks alive while it is not
	 * read (the restarted agent is this one); see conn_peer_gone for
	 * why closing it loses nothing.
	 */
	if (o != NULL && !conn_release_gone(o, c, "its name")) {
		writer_item_free(it);
		conn_fail(c, PROTO_ERR_DUPLICATE, "agent %s is already "
		    "connected (connection %llu)", o->name,
		    (unsigned long long)o->id);
		return;
	}
	it->conn_id = c->id;
	it->received = (int64_t)time(NULL);
	c->state = CONN_HELLO;
	c->nwriter++;
	srv->noutstanding++;
	writer_push(srv->writer, it);
}

static void
conn_batch(struct conn *c, const uint8_t *body, size_t n)
{
	struct server *srv = c->srv;
	struct writer_item *it;
	enum proto_err e;
	char why[PROTO_TEXT_MAX];
	int64_t now;

	if ((it = writer_item_new(WRITER_BATCH)) == NULL) {
		conn_fail(c, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	if ((e = proto_decode_batch_with(body, n, &it->batch, recspare_alloc,
	    &srv->spare)) != PROTO_OK) {
		writer_item_free(it);
		conn_fail(c, PROTO_ERR_BAD_FRAME, "BATCH: %s",
		    proto_strerror(e));
		return;
	}
	now = (int64_t)time(NULL);
	if (validate_batch(&it->batch, c->session.niface,
	    c->session.resolution, why, sizeof(why)) == -1) {
		conn_fail(c, PROTO_ERR_BAD_FRAME, "BATCH %llu: %s",
		    (unsigned long long)it->batch.seq, why);
		writer_item_free(it);
		return;
	}
	status_count_batch(&c->stat, &it->batch, now);
	it->conn_id = c->id;
	it->received = now;
	it->session = c->session;
	memcpy(it->hello.name, c->name, sizeof(it->hello.name));
	it->nbytes = PROTO_HDR_LEN + n;
	it->nmem = sizeof(*it) + conn_batch_mem(&it->batch);
	srv->queued += it->nmem;
	c->nwriter++;
	srv->noutstanding++;
	writer_push(srv->writer, it);
	server_flow(srv);
}

/* The bytes a decoded batch's record arrays hold. */
static size_t
conn_batch_mem(const struct proto_batch *b)
{
	return b->nhosts * sizeof(*b->hosts) + b->nports * sizeof(*b->ports) +
	    b->npeers * sizeof(*b->peers) + b->nifaces * sizeof(*b->ifaces) +
	    b->nhealth * sizeof(*b->health);
}

/*
 * Answers STATUS with the store's state and one record per agent that
 * said HELLO.  The reply is built on the heap: it holds up to
 * PROTO_STATUS_AGENTS_MAX records.
 */
static void
conn_status(struct conn *c, const uint8_t *body, size_t n)
{
	struct proto_status *st;
	struct conn_wreq *w;
	struct conn *o;
	enum proto_err e;

	if ((e = proto_decode_status(body, n)) != PROTO_OK) {
		conn_fail(c, PROTO_ERR_BAD_FRAME, "STATUS: %s",
		    proto_strerror(e));
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		free(st);
		conn_fail(c, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	status_fill(st, c->srv, (int64_t)time(NULL));
	LIST_FOREACH(o, &c->srv->conns, entry) {
		if ((o->state != CONN_HELLO && o->state != CONN_READY) ||
		    st->nagents == PROTO_STATUS_AGENTS_MAX)
			continue;
		st->agent[st->nagents] = o->stat;
		memcpy(st->agent[st->nagents].name, o->name, sizeof(o->name));
		st->nagents++;
	}
	proto_buf_init(&w->buf);
	if (proto_encode_status_reply(&w->buf, st) == -1) {
		free(st);
		proto_buf_clear(&w->buf);
		free(w);
		conn_fail(c, PROTO_ERR_INTERNAL, "cannot encode STATUS_REPLY");
		return;
	}
	free(st);
	if (conn_send(c, w) == -1)
		conn_fail(c, PROTO_ERR_INTERNAL, "cannot send STATUS_REPLY");
	else
		(void)conn_check_unread(c, "status replies");
}

/*
 * The agent tells us why it is leaving: log it and close.  Its text may
 * hold any byte but NUL: control characters are shown as '?', so that a
 * peer cannot forge log lines or drive the terminal reading them.
 */
static void
conn_agent_error(struct conn *c, const uint8_t *body, size_t n)
{
	struct proto_error er;

	/* The log makes its controls harmless (log.c). */
	if (proto_decode_error(body, n, &er) == PROTO_OK) {
		log_warn("conn %llu: %s: agent reports error %u: %s",
		    (unsigned long long)c->id, CONN_WHO(c), er.code, er.text);
	}
	conn_close(c);
}

static struct conn *
server_find(struct server *srv, uint64_t id)
{
	struct conn *c;

	LIST_FOREACH(c, &srv->conns, entry)
		if (c->id == id)
			return c;
	return NULL;
}

/*
 * The database refused it for good: tells its connection c (NULL: gone)
 * why and closes it, which the writer counts on (writer_push); logged
 * once either way.
 */
static void
server_refused(struct server *srv, struct conn *c, struct writer_item *it)
{
	char what[64];

	if (it->kind == WRITER_HELLO)
		snprintf(what, sizeof(what), "HELLO");
	else
		snprintf(what, sizeof(what), "BATCH %llu of epoch %lld",
		    (unsigned long long)it->batch.seq,
		    (long long)it->session.epoch);
	if (c != NULL)
		conn_fail(c, PROTO_ERR_BAD_FRAME, "%s refused by the "
		    "database, not stored: %s", what, it->error);
	else {
		srv->nrejected++;
		log_warn("store: agent %s: %s refused by the database, not "
		    "stored: %s (its connection is gone)", it->hello.name,
		    what, it->error);
	}
}

void
server_writer_done(struct writer_item *it, void *arg)
{
	struct server *srv = arg;
	struct conn *c;

	srv->noutstanding--;
	if (it->kind == WRITER_BATCH)
		srv->queued -= it->nmem;
	if ((c = server_find(srv, it->conn_id)) != NULL)
		c->nwriter--;

	if (it->kind == WRITER_HELLO) {
		if (it->status == WRITER_REJECTED)
			server_refused(srv, c, it);
		else if (c != NULL && c->state == CONN_HELLO &&
		    it->status == WRITER_DONE) {
			c->session = it->session;
			c->state = CONN_READY;
			log_info("conn %llu: agent %s (pid %ld) epoch %lld, "
			    "%u interfaces, resolution %us, last seq %llu",
			    (unsigned long long)c->id, c->name, (long)c->pid,
			    (long long)c->session.epoch, c->session.niface,
			    c->session.resolution,
			    (unsigned long long)it->last_seq);
			if (conn_send_welcome(c, it->last_seq) == -1)
				conn_close(c);
			else
				conn_process(c);	/* frames that waited */
		}
	} else {
		switch (it->status) {
		case WRITER_DONE:
			srv->nbatches++;
			break;
		case WRITER_DUPLICATE:
			srv->nduplicates++;
			log_debug("store: agent %lld: batch %llu already "
			    "committed", (long long)it->session.agent_id,
			    (unsigned long long)it->batch.seq);
			break;
		case WRITER_STALE:
			log_warn("store: agent %lld: batch %llu of epoch %lld "
			    "dropped: the agent started a newer epoch",
			    (long long)it->session.agent_id,
			    (unsigned long long)it->batch.seq,
			    (long long)it->session.epoch);
			break;
		case WRITER_ABANDONED:
			break;
		case WRITER_REJECTED:
			server_refused(srv, c, it);
			break;
		}
		if (c != NULL && (it->status == WRITER_DONE ||
		    it->status == WRITER_DUPLICATE)) {
			if (conn_send_ack(c, it->batch.seq) == -1)
				conn_close(c);
			else
				(void)conn_check_unread(c,
				    "acknowledgements");
		}
	}
	recspare_put(&srv->spare, &it->batch);
	writer_item_free(it);
	server_flow(srv);
	server_check_closed(srv);
}

void
server_shutdown(struct server *srv, void (*closed)(struct server *))
{
	struct conn *c, *next;

	srv->shutting = 1;
	srv->closed = closed;
	/* A connection waiting in the listener goes with the listener. */
	srv->accept_waiting = NULL;
	if (srv->accept_retry_init) {
		uv_close((uv_handle_t *)&srv->accept_retry, NULL);
		srv->accept_retry_init = 0;
	}
	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		conn_reading(c);
	}
	if (srv->writer != NULL)
		writer_shutdown(srv->writer);
	server_check_closed(srv);
}

/* At shutdown: once the writer is done, say goodbye, then report. */
static void
server_check_closed(struct server *srv)
{
	struct conn *c;
	void (*cb)(struct server *);

	if (!srv->shutting || srv->noutstanding > 0)
		return;
	while ((c = LIST_FIRST(&srv->conns)) != NULL)
		conn_fail(c, PROTO_ERR_SHUTDOWN, "store shutting down");
	if (srv->nconns == 0 && srv->closed != NULL) {
		recspare_free(&srv->spare);
		cb = srv->closed;
		srv->closed = NULL;
		cb(srv);
	}
}
