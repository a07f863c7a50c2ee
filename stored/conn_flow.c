/*
 * conn_flow.c - when the store reads from its agents: backpressure from
 * the writer's queue, and the input memory the frames being read share.
 *
 * Apart from conn.c, which runs one connection, because both are budgets
 * over all of them: queued against queued_max (batches waiting for the
 * database) and input_used against input_max (buffers grown past
 * CONN_BUF_MIN for frames in progress).  This file keeps the two counts
 * and wakes the connections that waited for them; conn_reading in conn.c
 * turns the outcome into reading or not.
 *
 * Invariants:
 * - Backpressure: above queued_max bytes of batches in the writer, no
 *   connection is read until half of it has drained.  A batch counts
 *   the memory its decoded records hold (three to four times its frame),
 *   since they, not the frames, wait in the writer's queue: the cap
 *   bounds the store's memory.  An agent's frame holds at most 65,536
 *   records, under 6 MiB decoded, so one batch still waits while the
 *   writer applies another: the writer does not idle for a decode.
 * - While paused for backpressure, frames already read wait in their
 *   buffer too; the resume processes them (no new bytes may come).
 * - input_used is the sum of cap - CONN_BUF_MIN over the connections not
 *   yet freed: it grows only in conn_reserve, and shrinks in
 *   server_input_free (a buffer shrunk back, or a connection freed) and
 *   in server_input_reclaim (idle buffers shrunk for a frame that would
 *   not fit otherwise).
 */
#include <stdlib.h>

#include "conn.h"
#include "conn_int.h"
#include "log.h"
#include "proto.h"

static void	server_pause_said(struct server *);

/* Stops or restarts reading from every connection for backpressure. */
void
server_flow(struct server *srv)
{
	struct conn *c, *next;

	if (!srv->paused && srv->queued > srv->queued_max) {
		srv->paused = 1;
		server_pause_said(srv);
	} else if (srv->paused && srv->queued <= srv->queued_max / 2) {
		srv->paused = 0;
		if (srv->pause_said)
			log_info("store: database caught up: reading from "
			    "agents again");
		srv->pause_said = 0;
	} else
		return;
	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		/* Frames read before the pause: no new bytes need come. */
		if (!srv->paused && c->len > 0)
			conn_process(c);
		else
			conn_reading(c);
	}
}

/*
 * A replay pauses the store every second or so: the first pause of a
 * minute is said, with how many went unsaid since the last one.
 */
static void
server_pause_said(struct server *srv)
{
	uint64_t now = uv_now(srv->loop);

	srv->npauses++;
	if (srv->pause_said_ms != 0 &&
	    now - srv->pause_said_ms < CONN_PAUSE_SAY_MS)
		return;
	if (srv->npauses > 1)
		log_warn("store: %zu bytes of batches wait for the database: "
		    "not reading from agents until it catches up (paused "
		    "%llu times since the last message)", srv->queued,
		    (unsigned long long)srv->npauses);
	else
		log_warn("store: %zu bytes of batches wait for the database: "
		    "not reading from agents until it catches up",
		    srv->queued);
	srv->pause_said_ms = now;
	srv->pause_said = 1;
	srv->npauses = 0;
}

/* The buffer c's frame in progress needs: its whole frame, or CONN_BUF_MIN. */
static size_t
conn_need(const struct conn *c)
{
	size_t body;

	if (c->len < PROTO_HDR_LEN)
		return CONN_BUF_MIN;
	body = (size_t)c->buf[0] << 24 | (size_t)c->buf[1] << 16 |
	    (size_t)c->buf[2] << 8 | (size_t)c->buf[3];
	/* Too big: conn_process rejects it, never grow for it. */
	if (body > PROTO_FRAME_MAX || PROTO_HDR_LEN + body < CONN_BUF_MIN)
		return CONN_BUF_MIN;
	return PROTO_HDR_LEN + body;
}

static int
server_starving(const struct server *srv)
{
	const struct conn *c;

	LIST_FOREACH(c, &srv->conns, entry)
		if (c->starved)
			return 1;
	return 0;
}

/*
 * Shrinks c's buffer to size (at least c->len): returns the bytes given
 * back, which the caller takes off input_used; 0 when realloc failed and
 * the buffer stays as it was.
 */
static size_t
conn_shrink(struct conn *c, size_t size)
{
	size_t freed = c->cap - size;
	uint8_t *p;

	if ((p = realloc(c->buf, size)) == NULL)
		return 0;
	c->buf = p;
	c->cap = size;
	return freed;
}

/*
 * Gives the room of every idle grown buffer but c's back to input_used,
 * without waking anyone: c is about to take it.
 */
static void
server_input_reclaim(struct server *srv, const struct conn *c)
{
	struct conn *o;
	size_t need;

	LIST_FOREACH(o, &srv->conns, entry) {
		if (o == c || o->cap == CONN_BUF_MIN)
			continue;
		need = conn_need(o);
		if (need < o->cap && o->len <= need)
			srv->input_used -= conn_shrink(o, need);
	}
}

/*
 * Makes room for the frame in progress (its header was already checked
 * against PROTO_FRAME_MAX by proto_frame_check).  A buffer grown for one
 * frame is kept for the next while that one was at least half its size:
 * an agent's batches are alike, and a frame's megabytes given back to the
 * kernel were faulted in again for the next, at 10 us a page on this VM
 * (the bench's 64-byte replay: a quarter of the store's faults).  Room
 * kept is room a starved peer needs, though: while one waits, a buffer
 * shrinks to what its frame in progress needs, and an idle one is shrunk
 * at once for a frame that does not fit.  A frame that does not fit even
 * so leaves the buffer as it is and c starved.  Returns 0, or -1 when out
 * of memory.
 */
int
conn_reserve(struct conn *c)
{
	struct server *srv = c->srv;
	size_t need = conn_need(c), keep;
	int was = c->starved;
	uint8_t *p;

	c->starved = 0;
	if (need <= c->cap) {
		keep = need > c->last_frame ? need : c->last_frame;
		if (server_starving(srv))
			keep = need;
		else if (keep >= c->cap / 2)
			return 0;
		if (keep >= c->cap || c->len > keep)
			return 0;
		server_input_free(srv, conn_shrink(c, keep));
		return 0;
	}
	if (need - c->cap > srv->input_max - srv->input_used)
		server_input_reclaim(srv, c);
	if (need - c->cap > srv->input_max - srv->input_used) {
		c->starved = 1;
		if (!was)
			c->starved_at = ++srv->starve_seq;
		return 0;
	}
	if ((p = realloc(c->buf, need)) == NULL)
		return -1;
	srv->input_used += need - c->cap;
	c->buf = p;
	c->cap = need;
	return 0;
}

/*
 * Gives back n bytes of input_used, and lets the peers waiting for it try
 * again, the longest waiting first, until one still does not fit: served
 * newest first, a peer opening connection after connection could keep an
 * agent's big frame waiting for ever.
 */
void
server_input_free(struct server *srv, size_t n)
{
	struct conn *c, *first;

	srv->input_used -= n;
	if (n == 0)
		return;
	for (;;) {
		first = NULL;
		LIST_FOREACH(c, &srv->conns, entry)
			if (c->starved && (first == NULL ||
			    c->starved_at < first->starved_at))
				first = c;
		if (first == NULL)
			return;
		if (conn_reserve(first) == -1) {
			conn_fail(first, PROTO_ERR_INTERNAL, "out of memory "
			    "for a frame");
			continue;
		}
		if (first->starved)
			return;
		conn_reading(first);
	}
}
