/*
 * sender.c - deliver the BATCH frames of tabsets exactly once: the
 * connection to the store, the pending queue, the sender thread and the
 * public API (sender.h).
 *
 * Encoding a tabset into frames (sender_encode.c), the write-ahead spool
 * (sender_spool.c) and the replay of earlier epochs' spool files
 * (sender_replay.c) are in files of their own, the last two with
 * invariants of their own; struct sender, which they share, is in
 * sender_int.h.
 *
 * Invariants:
 * - Every encoded frame stays on the pending list until an ACK covers its
 *   seq; a reconnect rewinds to the head of the list and the store, which
 *   remembers the last seq it committed for this epoch, drops duplicates.
 * - Sequence numbers start at 1 in each epoch (the agent's start time) and
 *   grow by one per frame, in the order frames are queued.
 * - Outages and a slow store: while the store is away, or the frames
 *   kept for it exceed max_queue_bytes, the sender "holds": a swap that
 *   need not wait (the capture's periodic flush) is refused, so the
 *   capture thread goes on counting into the same tabset.  Un-sent counts
 *   thus stay aggregated in the fixed-size tables, where memory grows
 *   with distinct keys (up to the caps, then overflow rows keep the
 *   totals exact), never with time.  A file replay, which can pause,
 *   waits instead (SENDER_WAIT_QUEUE) until the store has caught up, so
 *   its frames stay under the cap too.  Live capture waits only when even
 *   its interface rows are full; kept frames then grow by one tabset.
 * - Only this thread touches the socket.  The capture thread reaches the
 *   sender through its own slot's `full`/`spare` under the mutex, once per
 *   flush, and a byte on the wake pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sender.h"
#include "sender_int.h"
#include "spool.h"

#define SENDER_HANDSHAKE_MS	5000
#define SENDER_HANDSHAKE_TICK_MS 100	/* a stop signal looked for */
#define SENDER_READ_CHUNK	4096
#define SENDER_SIGNAL_SAY_MS	1000	/* a wait after a signal worth saying */

static void	*sender_main(void *);
static void	 sender_disconnect(struct sender *, const char *);
static int	 sender_read(struct sender *);
static int	 sender_write(struct sender *);
static void	 sender_release(struct sender *, uint64_t);
static void	 sender_pop(struct sender *);
static int	 pending_split(struct sender *, struct pending *);
static void	 sender_rejected(struct sender *);
static int	 write_all(int, const uint8_t *, size_t);
static int	 buf_append(struct proto_buf *, const uint8_t *, size_t);
static int	 read_frame(struct sender *, int, size_t *, const char **);
static int	 sender_stop_wait(struct sender *);

/* Appends received bytes; replies are small, so growth is rare. */
static int
buf_append(struct proto_buf *b, const uint8_t *p, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *d;

	while (cap - b->len < n)
		cap *= 2;
	if (cap != b->cap) {
		if ((d = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Whether a stop signal ends the wait for the store's answer to HELLO
 * now, as it would end the sender's wait for a store that is away: at
 * start (no thread yet), any signal, nothing being counted; once
 * finishing, a second signal (abandon), or the first with every batch in
 * the spool.  A first signal without a spool still waits for the store,
 * as after any stop (nettally-agent(8), SIGNALS).  Those waits used to
 * start only once this one had run its 5 s.
 */
static int
sender_stop_wait(struct sender *s)
{
	int finishing;

	if (s->cfg.signalled == NULL || !*s->cfg.signalled)
		return 0;
	if (!s->started)
		return 1;
	if (s->abandon != NULL && *s->abandon)
		return 1;
	pthread_mutex_lock(&s->mu);
	finishing = s->finishing;
	pthread_mutex_unlock(&s->mu);
	return finishing && s->spooling && s->sf.fd != -1;
}

/*
 * Reads one whole frame into s->in with a deadline, for the handshake
 * only.  On success the body is at s->in.data + PROTO_HDR_LEN, *body_len
 * bytes.  Returns 0, -1 with errstr, or -2 when a stop signal ended the
 * wait (sender_stop_wait).  A signal handler can wake neither the sender
 * thread's poll (signals are the capture thread's) nor one it lands just
 * before: the wait looks at the signal flags each tick, and at once when
 * the capture thread hands over its last tabset (the wake pipe, drained
 * here: the sender's loop looks at every slot anyway).
 */
static int
read_frame(struct sender *s, int fd, size_t *body_len, const char **errstr)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
	    { .fd = s->wake[0], .events = POLLIN } };
	struct proto_buf *in = &s->in;
	int64_t deadline = clock_mono_ms() + SENDER_HANDSHAKE_MS;
	uint8_t chunk[SENDER_READ_CHUNK];
	char drain[64];
	enum proto_err e;
	ssize_t n;
	int left;

	for (;;) {
		e = proto_frame_check(in->data, in->len, PROTO_FRAME_MAX,
		    body_len);
		if (e == PROTO_OK)
			return 0;
		if (e != PROTO_E_SHORT) {
			*errstr = "store sent an oversized frame";
			return -1;
		}
		if (sender_stop_wait(s)) {
			*errstr = "stopped by a signal while waiting for the "
			    "store to answer HELLO";
			return -2;
		}
		left = (int)(deadline - clock_mono_ms());
		if (left <= 0) {
			*errstr = "store did not answer HELLO within 5 s";
			return -1;
		}
		if (left > SENDER_HANDSHAKE_TICK_MS)
			left = SENDER_HANDSHAKE_TICK_MS;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, left) == -1 && errno != EINTR) {
			*errstr = "poll failed";
			return -1;
		}
		if (pfd[1].revents & POLLIN)
			while (read(s->wake[0], drain, sizeof(drain)) > 0)
				continue;
		n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n == 0) {
			*errstr = "store closed the connection during HELLO";
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			*errstr = "read from store failed";
			return -1;
		}
		if (buf_append(in, chunk, (size_t)n) == -1) {
			*errstr = "out of memory";
			return -1;
		}
	}
}

/*
 * Connects and runs HELLO/WELCOME.  On success fd is non-blocking, the
 * pending list is trimmed to what the store has not committed, and
 * sending restarts from its head.  Returns 0, -1 with errstr, or -2 with
 * errstr when a stop signal ended the wait for WELCOME (read_frame).
 */
int
sender_connect(struct sender *s, const char **errstr)
{
	static char reason[PROTO_TEXT_MAX + 64];
	struct sockaddr_un sun;
	struct proto_welcome w;
	struct proto_error pe;
	uint32_t version, type;
	uint64_t seq;
	size_t blen;
	const uint8_t *body;
	int fd, sent, rc = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(s->cfg.socket_path) >= sizeof(sun.sun_path)) {
		*errstr = "socket path too long";
		return -1;
	}
	strcpy(sun.sun_path, s->cfg.socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*errstr = "cannot create a socket";
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			*errstr = "store unreachable: is nettally-stored "
			    "running, and is -s the path it listens on?";
		else if (errno == EACCES) {
			snprintf(reason, sizeof(reason), "permission denied: "
			    "this agent runs as uid %u gid %u, which the "
			    "socket (or its directory) does not let in: give "
			    "the store --socket-group or --socket-owner, or "
			    "the agent --user", (unsigned int)s->euid,
			    (unsigned int)s->egid);
			*errstr = reason;
		} else
			*errstr = "cannot connect to the store socket";
		close(fd);
		return -1;
	}
	/*
	 * A store that refuses this peer answers at once and closes, maybe
	 * before HELLO is written: its ERROR still waits to be read.  A
	 * replay speaks for its file's epoch with the HELLO stored there.
	 */
	if (s->rp.loaded)
		sent = write_all(fd, s->rp.sc.hello_frame, s->rp.sc.hello_len);
	else
		sent = write_all(fd, s->hello.data, s->hello.len);
	proto_buf_consume(&s->in, s->in.len);
	if ((rc = read_frame(s, fd, &blen, errstr)) != 0) {
		if (rc == -1 && sent == -1)
			*errstr = "cannot send HELLO to the store";
		goto fail;
	}
	rc = -1;
	body = s->in.data + PROTO_HDR_LEN;
	if (proto_decode_envelope(body, blen, &version, &type, &seq) !=
	    PROTO_OK) {
		*errstr = "store sent an undecodable reply to HELLO";
		goto fail;
	}
	if (type == PROTO_ERROR && proto_decode_error(body, blen, &pe) ==
	    PROTO_OK) {
		snprintf(reason, sizeof(reason), "store refused HELLO: %s",
		    pe.text);
		*errstr = reason;
		goto fail;
	}
	if (type != PROTO_WELCOME ||
	    proto_decode_welcome(body, blen, &w) != PROTO_OK) {
		*errstr = "store did not answer HELLO with WELCOME";
		goto fail;
	}
	proto_buf_consume(&s->in, PROTO_HDR_LEN + blen);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		*errstr = "cannot make the socket non-blocking";
		goto fail;
	}
	s->fd = fd;
	s->backoff_ms = SENDER_BACKOFF_MIN_MS;
	s->unsent = NULL;
	s->unsent_off = 0;
	if (s->rp.loaded) {
		s->conn_replay = 1;
		replay_welcome(s, w.last_seq);
		return 0;
	}
	s->conn_replay = 0;
	sender_release(s, w.last_seq);
	s->unsent = s->head;
	return 0;
fail:
	close(fd);
	return rc;
}

static void
sender_disconnect(struct sender *s, const char *why)
{
	if (s->fd == -1)
		return;
	log_warn("store %s: %s; %llu batch(es) kept for resend",
	    s->cfg.socket_path, why, (unsigned long long)s->npending);
	close(s->fd);
	s->fd = -1;
	s->conn_replay = 0;
	s->rp.off = 0;
	s->rp.have_cur = 0;
	s->rp.draining = 0;
	s->unsent = s->head;
	s->unsent_off = 0;
	proto_buf_consume(&s->in, s->in.len);
	s->next_connect = clock_mono_ms() + s->backoff_ms;
	s->connect_logged = 0;
}

/*
 * A batch could not be read back from the spool (logged): tries again on
 * a new connection, but not before the longest backoff, since the store
 * is not what failed and each try logs.  Returns -1.
 */
int
sender_readback_failed(struct sender *s)
{
	s->backoff_ms = SENDER_BACKOFF_MAX_MS;
	sender_disconnect(s, "cannot read a batch back from the spool");
	return -1;
}

/* Frees every pending frame whose seq is <= seq (committed). */
static void
sender_release(struct sender *s, uint64_t seq)
{
	struct pending *p;

	while ((p = s->head) != NULL && p->seq <= seq) {
		/* Kept whole, its acknowledged frames are sent again: the
		 * store skips them. */
		if (p->seq + p->n - 1 > seq && pending_split(s, p) == -1)
			break;
		sender_pop(s);
	}
	replay_kept_acked(s, seq);
	/*
	 * Everything in the file acknowledged: it need not hold any of it.
	 * (Frames kept in memory only, of a resumable input, were not sent.)
	 * But not while a drop is counted in memory only (s->dropped, not
	 * yet in a frame): the dropped batch's record is what a start after
	 * a kill counts it from, refused again.  The frame that counts it
	 * comes with the next tabset; acknowledged, the file goes.
	 */
	if ((s->head == NULL || (s->resumable &&
	    s->head->off == SENDER_NOT_SPOOLED)) && s->sf.fd != -1 &&
	    s->dropped == 0 &&
	    (s->sf.end > s->clean_end || !s->spooling)) {
		/*
		 * But the input position they reached must stay: a mark,
		 * written before the cut (spool_reset_mark).
		 */
		if ((s->resumable ? spool_reset_mark(&s->sf, s->head == NULL ?
		    s->in_pos : s->spooled_pos) : spool_reset(&s->sf)) == -1) {
			sender_spool_failed(s, "cannot cut the file back");
			return;
		}
		s->rbuf_fd = -1;
		s->spool_unacked = 0;
		s->clean_end = s->sf.end;
		/*
		 * Whole records only again: appends may resume, after the
		 * frames kept in memory if any.
		 */
		if (s->head == NULL)
			s->spooling = 1;
		else {
			s->spool_retry = 0;
			sender_spool_retry(s);
		}
	}
}

/* Frees the head of the pending list. */
static void
sender_pop(struct sender *s)
{
	struct pending *p = s->head;

	if (s->unsent == p) {
		/* Acked before fully written: only after a resend. */
		s->unsent = p->next;
		s->unsent_off = 0;
	}
	s->head = p->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->pending_bytes -= p->len;
	if (p->data != NULL)
		s->mem_bytes -= PENDING_MEM(p->len);
	if (p->off != SENDER_NOT_SPOOLED)
		s->spool_unacked -= p->n * SPOOL_REC_HDR + p->len;
	free(p->data);
	free(p->notes);
	s->npending -= p->n;
	free(p);
}

/*
 * Splits run p into its first frame (p) and the rest (a new entry after
 * it), reading the first frame's record header back from the file.
 * 0, or -1 (logged) when that read or the allocation fails.
 */
static int
pending_split(struct sender *s, struct pending *p)
{
	struct spool_rec r;
	struct pending *q;
	int rc;

	if (p->n < 2)
		return 0;
	if ((rc = spool_read_rec(s->sf.fd, p->off, &r)) == 0 &&
	    r.len >= p->len) {
		rc = -1;
		errno = EIO;	/* not the run it was written as */
	}
	if (rc == -1) {
		log_err("spool: %s/%s: reading the record of batch %llu "
		    "back: %s", s->cfg.spool_dir, s->sf.name,
		    (unsigned long long)p->seq, strerror(errno));
		return -1;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_err("sender: out of memory splitting a run of batches");
		return -1;
	}
	q->next = p->next;
	q->seq = p->seq + 1;
	q->n = p->n - 1;
	q->len = p->len - r.len;
	q->off = p->off + r.len + SPOOL_REC_HDR;
	q->pos = p->pos;
	q->last = p->last;
	p->next = q;
	p->n = 1;
	p->len = r.len;
	p->pos = r.pos;
	p->last = (r.flags & SPOOL_REC_LAST) != 0;
	if (s->tail == p)
		s->tail = q;
	return 0;
}

/*
 * Joins each entry from p on that is on disk only into the run before
 * it, when it is the next record of the file.  A frame partly written to
 * the socket stays alone: its length is what the writing goes by.
 */
void
pending_coalesce(struct sender *s, struct pending *p)
{
	struct pending *q;

	for (; p != NULL && (q = p->next) != NULL; ) {
		if (p->data != NULL || q->data != NULL ||
		    p->off == SENDER_NOT_SPOOLED ||
		    q->off == SENDER_NOT_SPOOLED ||
		    p->carried != 0 || q->carried != 0 ||
		    p->nnotes != 0 || q->nnotes != 0 ||
		    q->seq != p->seq + p->n ||
		    q->off != p->off + p->len + p->n * SPOOL_REC_HDR ||
		    (p == s->unsent && s->unsent_off > 0) || q == s->unsent) {
			p = q;
			continue;
		}
		p->n += q->n;
		p->len += q->len;
		p->pos = q->pos;
		p->last = q->last;
		p->next = q->next;
		if (s->tail == q)
			s->tail = p;
		free(q);
	}
}

/*
 * The store refused a frame as invalid.  Batches before it may only have
 * lacked their ACK, so the first refusal just reconnects; the WELCOME
 * then releases what was committed.  When the same head batch is refused
 * again it can never be stored: keeping it would stall delivery for ever,
 * so it is dropped, logged and counted in agent_health.dropped.
 */
static void
sender_rejected(struct sender *s)
{
	struct pending *p = s->head;
	size_t i;

	if (p == NULL || pending_split(s, p) == -1)
		return;
	if (p->seq != s->reject_seq) {
		s->reject_seq = p->seq;
		s->nreject = 1;
		return;
	}
	if (++s->nreject < 2)
		return;
	log_err("sender: the store refuses batch %llu as invalid; dropped "
	    "and counted in agent_health.dropped",
	    (unsigned long long)p->seq);
	/* The drops it was to report are reported by the next batch. */
	s->dropped += 1 + p->carried;
	s->dropped_run++;
	/* And its record stays in the file: the next frame notes it. */
	sender_note_drop(s, s->cfg.hello.start_time, p->seq);
	for (i = 0; i < p->nnotes; i++)
		sender_note_drop(s, p->notes[i].epoch, p->notes[i].seq);
	/* The kept replayed files wait for the frame that counts it now. */
	if (p->seq == s->kept_until)
		s->kept_until = 0;
	sender_pop(s);
	s->nreject = 0;
}

/*
 * Reads replies: returns 1 when some were read, 0 when none waits, -1
 * when the connection was dropped.
 */
static int
sender_read(struct sender *s)
{
	uint8_t chunk[SENDER_READ_CHUNK];
	struct proto_ack ack;
	struct proto_error pe;
	uint32_t version, type;
	uint64_t seq;
	size_t blen;
	const uint8_t *body;
	enum proto_err e;
	ssize_t n;

	n = recv(s->fd, chunk, sizeof(chunk), 0);
	if (n == 0 && s->conn_replay && s->rp.draining) {
		replay_done(s);
		return -1;
	}
	if (n == 0) {
		sender_disconnect(s, "store closed the connection");
		return -1;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		sender_disconnect(s, "read from store failed");
		return -1;
	}
	if (buf_append(&s->in, chunk, (size_t)n) == -1) {
		sender_disconnect(s, "out of memory");
		return -1;
	}
	for (;;) {
		e = proto_frame_check(s->in.data, s->in.len, PROTO_FRAME_MAX,
		    &blen);
		if (e == PROTO_E_SHORT)
			return 1;
		if (e != PROTO_OK) {
			sender_disconnect(s, "store sent an oversized frame");
			return -1;
		}
		body = s->in.data + PROTO_HDR_LEN;
		if (proto_decode_envelope(body, blen, &version, &type, &seq) !=
		    PROTO_OK) {
			sender_disconnect(s, "store sent an undecodable frame");
			return -1;
		}
		if (type == PROTO_ACK &&
		    proto_decode_ack(body, blen, &ack) == PROTO_OK) {
			if (s->conn_replay)
				replay_ack(s, ack.seq);
			else
				sender_release(s, ack.seq);
		} else if (type == PROTO_ERROR &&
		    proto_decode_error(body, blen, &pe) == PROTO_OK) {
			log_err("store: error %u: %s", pe.code, pe.text);
			if (pe.code == PROTO_ERR_BAD_FRAME && s->conn_replay)
				replay_rejected(s);
			else if (pe.code == PROTO_ERR_BAD_FRAME)
				sender_rejected(s);
			sender_disconnect(s, "store reported an error");
			return -1;
		} else {
			sender_disconnect(s, "store sent an unexpected message");
			return -1;
		}
		/* The last ACK of a replay whose half-close failed ended it. */
		if (s->fd == -1)
			return -1;
		proto_buf_consume(&s->in, PROTO_HDR_LEN + blen);
	}
}

/*
 * A write failed: the store may have closed the connection after saying
 * why (an ERROR refusing a batch, which must count towards dropping it)
 * and after ACKs.  Those replies are read before the connection goes.
 */
int
sender_write_failed(struct sender *s)
{
	int rc;

	while ((rc = sender_read(s)) == 1)
		continue;
	if (rc == 0)
		sender_disconnect(s, "write to store failed");
	return -1;
}

/* Writes as much of the unsent frames as the socket takes. */
static int
sender_write(struct sender *s)
{
	struct pending *p;
	const uint8_t *data;
	ssize_t n;

	while ((p = s->unsent) != NULL) {
		if (!sender_sendable(s, p))
			return 0;	/* sender_spool_retry goes first */
		if (pending_split(s, p) == -1)
			return sender_readback_failed(s);
		data = p->data;
		if (data == NULL && (data = sender_frame(s, s->sf.fd, p->off,
		    p->len)) == NULL)
			return sender_readback_failed(s);
		n = send(s->fd, data + s->unsent_off,
		    p->len - s->unsent_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return sender_write_failed(s);
		}
		s->unsent_off += (size_t)n;
		if (s->unsent_off == p->len) {
			s->unsent = p->next;
			s->unsent_off = 0;
		}
	}
	return 0;
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct pollfd pfd[2];
	struct tabset *t;
	const char *errstr;
	char drain[64];
	int64_t now;
	uint64_t spooled;
	unsigned int i, slot;
	int finishing, timeout, nfd, hold, replaying, want_out, rc;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		t = NULL;
		slot = s->next_slot;
		for (i = 0; i < s->nslots; i++) {
			slot = (s->next_slot + i) % s->nslots;
			if ((t = s->slot[slot].full) != NULL) {
				s->slot[slot].full = NULL;
				s->next_slot = (slot + 1) % s->nslots;
				break;
			}
		}
		finishing = s->finishing;
		replaying = s->rp.loaded || s->iold < s->nold;
		/*
		 * With a spool, frames wait on disk for an absent store up
		 * to its cap; without one (or while appends fail), the
		 * tables hold the counts instead.
		 */
		spooled = s->sf.fd != -1 ? s->sf.end - s->sf.hdr_len : 0;
		hold = s->mem_bytes > s->cfg.max_queue_bytes ||
		    spooled + replay_left(s) > s->cfg.spool_max_bytes ||
		    (!s->spooling && (s->fd == -1 || s->conn_replay ||
		    s->resumable));
		if (s->hold && !hold)
			pthread_cond_broadcast(&s->cv);	/* queued swaps */
		s->hold = hold;
		pthread_mutex_unlock(&s->mu);
		if (t != NULL) {
			if (t->in_pos > s->in_pos)
				s->in_pos = t->in_pos;
			if (!tabset_empty(t) || s->cfg.heartbeat)
				sender_encode(s, t);
			tabset_reset(t);
			pthread_mutex_lock(&s->mu);
			s->slot[slot].spare = t;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			continue;	/* look for the final tabset at once */
		}
		/*
		 * Batches refused after the last tabset was encoded are
		 * counted in no batch: one health-only batch, once, carries
		 * them (its tabset is slot 0's, idle since the finish).
		 */
		if (finishing && s->head == NULL && !replaying &&
		    s->dropped > 0 && !s->drops_sent) {
			s->drops_sent = 1;
			pthread_mutex_lock(&s->mu);
			t = s->slot[0].spare;
			pthread_mutex_unlock(&s->mu);
			if (t != NULL) {
				sender_encode(s, t);
				tabset_reset(t);
				continue;
			}
		}
		if (finishing && s->head == NULL && !replaying)
			break;
		if (finishing && s->abandon != NULL && *s->abandon)
			break;
		/*
		 * Stopped by a signal, every batch on disk and no store to
		 * wait for: the next start delivers them, so a service stop
		 * is not held up by an absent store.  The end of a -r file
		 * is no signal: a one-shot import still waits for it.
		 */
		if (finishing && s->fd == -1 && s->sf.fd != -1 &&
		    s->spooling && s->cfg.signalled != NULL && *s->cfg.signalled &&
		    (s->head != NULL || replaying)) {
			log_info("spool: the store is away; every batch is in "
			    "%s for the next start", s->cfg.spool_dir);
			break;
		}
		/*
		 * The first signal waits for the store: when that takes a
		 * while (not the usual last ACK), say how to stop waiting.
		 */
		if (finishing && !s->signal_said && s->cfg.signalled != NULL &&
		    *s->cfg.signalled && (s->head != NULL || replaying)) {
			if (s->signal_say_at == 0)
				s->signal_say_at = clock_mono_ms() +
				    SENDER_SIGNAL_SAY_MS;
			else if (clock_mono_ms() >= s->signal_say_at) {
				log_info("stopping: waiting for the store to "
				    "acknowledge %llu batch(es); a second "
				    "signal gives up on them",
				    (unsigned long long)s->npending);
				s->signal_said = 1;
			}
		}
		if (finishing && s->sf.fd != -1 && s->spooling &&
		    !s->finish_logged &&
		    (s->head != NULL || replaying)) {
			log_info("spool: every batch is in %s (%llu of this "
			    "run unacknowledged); waiting for the store",
			    s->cfg.spool_dir, (unsigned long long)s->npending);
			s->finish_logged = 1;
		}
		sender_spool_retry(s);
		now = clock_mono_ms();
		if (s->fd == -1 && !s->rp.loaded && s->iold < s->nold)
			(void)replay_load(s);
		if (s->fd == -1 && now >= s->next_connect) {
			if ((rc = sender_connect(s, &errstr)) != 0) {
				if (!s->connect_logged && rc == -1)
					log_warn("store %s: %s; retrying",
					    s->cfg.socket_path, errstr);
				s->connect_logged = 1;
				s->next_connect = now + s->backoff_ms;
				s->backoff_ms *= 2;
				if (s->backoff_ms > SENDER_BACKOFF_MAX_MS)
					s->backoff_ms = SENDER_BACKOFF_MAX_MS;
				/*
				 * A stop signal: the last tabset and the
				 * checks above end the loop on its next
				 * turn, now (the wait drained the wake).
				 */
				if (rc == -2)
					continue;
			} else if (!s->conn_replay) {
				log_info("store: reconnected to %s",
				    s->cfg.socket_path);
			}
		}
		pfd[0].fd = s->wake[0];
		pfd[0].events = POLLIN;
		nfd = 1;
		timeout = 200;
		if (s->fd != -1) {
			want_out = s->conn_replay ?
			    s->rp.next < s->rp.sc.nrec :
			    s->unsent != NULL && sender_sendable(s, s->unsent);
			pfd[1].fd = s->fd;
			pfd[1].events = POLLIN | (want_out ? POLLOUT : 0);
			nfd = 2;
		} else if (s->next_connect - now < timeout) {
			timeout = (int)(s->next_connect - now);
			if (timeout < 0)
				timeout = 0;
		}
		if (poll(pfd, (nfds_t)nfd, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_err("sender: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN)
			while (read(s->wake[0], drain, sizeof(drain)) > 0)
				continue;
		if (nfd == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			if (sender_read(s) == -1)
				continue;
		if (nfd == 2 && s->fd != -1 && (pfd[1].revents & POLLOUT)) {
			if (s->conn_replay)
				replay_write(s);
			else
				sender_write(s);
		}
	}
	return NULL;
}

struct sender *
sender_new(const struct sender_config *cfg, const char **errstr)
{
	static char reason[1024 + PROTO_TEXT_MAX];
	struct sender *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	/* First: sender_free destroys both, which must have been made. */
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		*errstr = "cannot initialise a lock";
		free(s);
		return NULL;
	}
	if (pthread_cond_init(&s->cv, NULL) != 0) {
		*errstr = "cannot initialise a lock";
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	s->cfg = *cfg;
	s->euid = geteuid();
	s->egid = getegid();
	if (s->cfg.max_queue_bytes == 0)
		s->cfg.max_queue_bytes = SENDER_QUEUE_DEFAULT;
	if (s->cfg.spool_max_bytes == 0)
		s->cfg.spool_max_bytes = SPOOL_MAX_DEFAULT;
	s->fd = -1;
	s->sf.fd = -1;
	s->rp.fd = -1;
	s->rbuf_fd = -1;
	s->wake[0] = s->wake[1] = -1;
	s->next_seq = 1;
	s->backoff_ms = SENDER_BACKOFF_MIN_MS;
	proto_buf_init(&s->in);
	proto_buf_init(&s->hello);
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		*errstr = "cannot create a pipe";
		goto fail;
	}
	if (proto_encode_hello(&s->hello, &s->cfg.hello) == -1) {
		*errstr = "cannot encode HELLO";
		goto fail;
	}
	if (s->cfg.spool_dir != NULL)
		return sender_spool_open(s, errstr) == -1 ? NULL : s;
	if (sender_connect(s, errstr) != 0) {
		/* One sender a process: its one message can be static. */
		snprintf(reason, sizeof(reason), "store %s: %s",
		    s->cfg.socket_path, *errstr);
		*errstr = reason;
		goto fail;
	}
	return s;
fail:
	sender_free(s);
	return NULL;
}

int
sender_start(struct sender *s, struct tabset *spare, const char **errstr)
{
	sigset_t all, old;
	int rc;

	s->slot[0].spare = spare;
	s->slot[0].single = spare == NULL;
	if (s->nslots == 0)
		s->nslots = 1;
	/* Signals belong to the capture thread, whose poll they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&s->thread, NULL, sender_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		*errstr = "cannot start the sender thread";
		return -1;
	}
	s->started = 1;
	return 0;
}

int
sender_add_slot(struct sender *s, struct tabset *spare, const char **errstr)
{
	if (s->started || s->nslots >= SENDER_SLOTS_MAX) {
		*errstr = "too many capture threads for the sender";
		return -1;
	}
	if (s->nslots == 0)
		s->nslots = 1;		/* slot 0 is sender_start's */
	s->slot[s->nslots].spare = spare;
	s->slot[s->nslots].single = spare == NULL;
	return (int)s->nslots++;
}

struct tabset *
sender_swap_slot(struct sender *s, unsigned int slot, struct tabset *full,
    enum sender_wait wait)
{
	struct tabset *t;
	struct timespec until;
	char one = 1;

	pthread_mutex_lock(&s->mu);
	while (!s->slot[slot].single && s->slot[slot].spare == NULL &&
	    wait != SENDER_NOWAIT)
		pthread_cond_wait(&s->cv, &s->mu);
	/*
	 * A file replay waits for the store instead of piling up frames, so
	 * its memory stays under the queue cap.  The wait is timed because a
	 * signal handler cannot wake a condition variable.
	 */
	while (wait == SENDER_WAIT_QUEUE && s->hold &&
	    (s->cfg.stop == NULL || !*s->cfg.stop)) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
	}
	/* Holding: the capture thread keeps counting into `full`. */
	if (s->slot[slot].single) {
		if (!wait && s->hold) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		s->slot[slot].full = full;
		pthread_mutex_unlock(&s->mu);
		if (write(s->wake[1], &one, 1) == -1 && errno != EAGAIN)
			log_err("sender: wake pipe: %s", strerror(errno));
		/* The sender encodes whether or not the store is there. */
		pthread_mutex_lock(&s->mu);
		while ((t = s->slot[slot].spare) == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		s->slot[slot].spare = NULL;
		pthread_mutex_unlock(&s->mu);
		return t;
	}
	t = !wait && s->hold ? NULL : s->slot[slot].spare;
	if (t != NULL) {
		s->slot[slot].spare = NULL;
		s->slot[slot].full = full;
	}
	pthread_mutex_unlock(&s->mu);
	if (t != NULL && write(s->wake[1], &one, 1) == -1 && errno != EAGAIN)
		log_err("sender: wake pipe: %s", strerror(errno));
	return t;
}

int
sender_resume_at(const struct sender *s, uint64_t *pos, const char **file)
{
	*pos = s->resume_at;
	*file = s->resumed ? s->resume_name : NULL;
	return s->resumed;
}

uint64_t
sender_finish(struct sender *s, struct tabset *last, int complete,
    volatile sig_atomic_t *abandon)
{
	uint64_t left = 0;
	struct pending *p;
	char one = 1;

	s->abandon = abandon;
	pthread_mutex_lock(&s->mu);
	while (!s->slot[0].single && s->slot[0].spare == NULL)
		pthread_cond_wait(&s->cv, &s->mu);
	s->slot[0].full = last;
	s->finishing = 1;
	pthread_mutex_unlock(&s->mu);
	if (write(s->wake[1], &one, 1) == -1 && errno != EAGAIN)
		log_err("sender: wake pipe: %s", strerror(errno));
	pthread_join(s->thread, NULL);
	s->started = 0;
	for (p = s->head; p != NULL; p = p->next)
		left += p->n;
	/*
	 * Delivered: the file has nothing left for a next start, unless it
	 * holds where a -r file stopped before its end, to resume there.
	 */
	spool_close(&s->sf, left == 0 && (complete ||
	    spool_input_none(&s->cfg.input)));
	/* Every drop counted in an acknowledged frame: they may go. */
	replay_kept_remove(s, left == 0 && s->dropped == 0);
	return left;
}

uint64_t
sender_dropped(const struct sender *s)
{
	return s->dropped_run;
}

void
sender_free(struct sender *s)
{
	struct pending *p;
	size_t i;

	if (s == NULL)
		return;
	while ((p = s->head) != NULL) {
		s->head = p->next;
		free(p->data);
		free(p->notes);
		free(p);
	}
	free(s->notes);
	replay_kept_remove(s, 0);
	spool_close(&s->sf, 0);
	if (s->rp.loaded) {
		close(s->rp.fd);
		spool_scan_clear(&s->rp.sc);
	}
	for (i = 0; i < s->nold; i++) {
		if (s->old_fd != NULL && s->old_fd[i] != -1)
			close(s->old_fd[i]);
		free(s->old[i]);
	}
	free(s->old_fd);
	free(s->old);
	free(s->rbuf);
	proto_buf_clear(&s->hello);
	if (s->fd != -1)
		close(s->fd);
	if (s->wake[0] != -1)
		close(s->wake[0]);
	if (s->wake[1] != -1)
		close(s->wake[1]);
	proto_buf_clear(&s->in);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
