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
 *   yet freed: it grows only in conn_reserve, and shrinks only in
 *   server_input_free (a buffer shrunk back, or a connection freed).
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

/*
 * Makes room for the frame in progress (its header was already checked
 * against PROTO_FRAME_MAX by proto_frame_check), or shrinks an idle
 * buffer back to CONN_BUF_MIN.  A frame that does not fit in the
 * server's input_max leaves the buffer as it is and c starved.  Returns
 * 0, or -1 when out of memory.
 */
int
conn_reserve(struct conn *c)
{
	struct server *srv = c->srv;
	size_t need = CONN_BUF_MIN, body, old;
	int was = c->starved;
	uint8_t *p;

	if (c->len >= PROTO_HDR_LEN) {
		body = (size_t)c->buf[0] << 24 | (size_t)c->buf[1] << 16 |
		    (size_t)c->buf[2] << 8 | (size_t)c->buf[3];
		/* Too big: conn_process rejects it, never grow for it. */
		if (body <= PROTO_FRAME_MAX && PROTO_HDR_LEN + body > need)
			need = PROTO_HDR_LEN + body;
	}
	c->starved = 0;
	if (need == c->cap || (need < c->cap && c->len > need))
		return 0;
	if (need > c->cap && need - c->cap > srv->input_max - srv->input_used) {
		c->starved = 1;
		if (!was)
			c->starved_at = ++srv->starve_seq;
		return 0;
	}
	if ((p = realloc(c->buf, need)) == NULL)
		return -1;
	c->buf = p;
	old = c->cap;
	c->cap = need;
	if (need > old)
		srv->input_used += need - old;
	else
		server_input_free(srv, old - need);
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
