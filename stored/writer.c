/*
 * writer.c - the one writer thread and its group commit.
 *
 * Invariants:
 * - Only the writer thread touches the db between writer_new and the join
 *   in writer_close.
 * - Items are handed back in queue order, and only after the transaction
 *   that holds them has committed (or, at shutdown, definitely has not).
 *   The queue is push order, except that a HELLO goes ahead of the
 *   batches of other agents queued after its own agent's last item
 *   (never ahead of an item of its own agent's).
 * - A failed group goes back to the head of the queue: nothing queued
 *   later can commit before it, so a retried batch is never mistaken for
 *   a duplicate of a newer one.
 * - A transaction holds at most WRITER_GROUP_BYTES of frames (or one
 *   bigger item), so a backlog is committed and acknowledged in steps.
 * - While failing, the thread waits on the condition variable until the
 *   loop's retry timer says "now": no sleeping, no polling.
 * - Retention (retention.c) runs in this thread, one bounded step at a
 *   time, only when no batch waits or right after a commit, and never
 *   while failing: ingest waits for at most one step.  Its schedule is a
 *   timed wait on cv (CLOCK_MONOTONIC), not a sleep.
 * - The cause of a failure is logged once per streak (again only if the
 *   SQLite code changes), and recovery is logged once.
 * - A failure that lies in an item's data (db_data_error) is the only one
 *   that is not retried as it is: the group is applied again one item per
 *   transaction.  An item that fails alone on its data is REJECTED, never
 *   retried; everything else commits.  A failure of any other kind during
 *   that pass stops it: what is done is delivered, the rest is retried.
 * - Once an item of a connection is REJECTED, no later item of that
 *   connection is applied (they come back ABANDONED, the agent resends
 *   them on its next connection): an agent's batches commit in order, and
 *   its last_seq never passes a batch it was told was refused.  The
 *   connection stays in `refused` until the loop has closed it (after its
 *   REJECTED item was delivered, nothing more is pushed for it) and no
 *   item of it is left in the queue.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "retention.h"
#include "writer.h"

#define WRITER_RETRY_MIN_MS	1000
#define WRITER_RETRY_MAX_MS	5000	/* freed space is used within 5 s */
#define WRITER_GROUP_BYTES	(1u << 20)	/* frame bytes per transaction */
#define WRITER_REFUSED_MAX	256	/* connections refused, not yet gone */

/* A connection with a REJECTED item. */
struct writer_refused {
	uint64_t	 conn_id;
	int		 closed;	/* the loop closed it: no more pushes */
};

struct writer {
	uv_loop_t		*loop;
	struct db		*db;
	void			(*done)(struct writer_item *, void *);
	void			*arg;
	uv_async_t		 async;		/* thread -> loop: results */
	uv_timer_t		 retry;		/* loop: when to retry */
	uint64_t		 retry_ms;	/* current backoff */
	int			 nclosing;	/* handles not yet closed */
	pthread_t		 thread;
	int			 started;

	/* Below: shared with the thread, under mu. */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct writer_item	*queue, **queue_tail;
	struct writer_item	*done_head, **done_tail;
	int			 failing;	/* last transaction failed */
	int			 retry_now;	/* loop says: try again */
	int			 shutdown;	/* give up after one failure */
	int			 stop;		/* exit when the queue is empty */
	struct retention	*ret;		/* NULL: none; then thread only */
	struct writer_refused	 refused[WRITER_REFUSED_MAX];
	size_t			 nrefused;
};

static void	*writer_main(void *);
static int	 writer_apply(struct writer *, struct writer_item *,
		    const char **);
static void	 writer_deliver(struct writer *);
static void	 writer_async_cb(uv_async_t *);
static void	 writer_retry_cb(uv_timer_t *);
static void	 writer_close_cb(uv_handle_t *);
static int	 writer_cond_init(pthread_cond_t *);
static void	 writer_idle(struct writer *);
static void	 writer_retention(struct writer *);
static int	 writer_is_refused(const struct writer *, uint64_t);
static size_t	 writer_mark(struct writer *, struct writer_item *);
static void	 writer_prune(struct writer *);
static int	 writer_refuse(struct writer *, struct writer_item *,
		    const char *);
static struct writer_item *writer_isolate(struct writer *,
		    struct writer_item *, const char **);

struct writer_item *
writer_item_new(enum writer_kind kind)
{
	struct writer_item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	it->kind = kind;
	return it;
}

void
writer_item_free(struct writer_item *it)
{
	if (it == NULL)
		return;
	proto_batch_clear(&it->batch);
	free(it);
}

int
writer_new(struct writer **wp, uv_loop_t *loop, struct db *db,
    void (*done)(struct writer_item *, void *), void *arg, const char **errstr)
{
	struct writer *w;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*errstr = "writer: out of memory";
		return -1;
	}
	w->loop = loop;
	w->db = db;
	w->done = done;
	w->arg = arg;
	w->retry_ms = WRITER_RETRY_MIN_MS;
	w->queue_tail = &w->queue;
	w->done_tail = &w->done_head;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		*errstr = "writer: cannot create mutex";
		return -1;
	}
	if (writer_cond_init(&w->cv) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		*errstr = "writer: cannot create condition variable";
		return -1;
	}
	if ((rc = uv_async_init(loop, &w->async, writer_async_cb)) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		*errstr = uv_strerror(rc);
		return -1;
	}
	w->async.data = w;
	w->nclosing = 1;
	/* From here on the memory is released by writer_close_cb. */
	if ((rc = uv_timer_init(loop, &w->retry)) != 0) {
		*errstr = uv_strerror(rc);
		uv_close((uv_handle_t *)&w->async, writer_close_cb);
		return -1;
	}
	w->retry.data = w;
	w->nclosing = 2;
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		*errstr = strerror(rc);
		uv_close((uv_handle_t *)&w->async, writer_close_cb);
		uv_close((uv_handle_t *)&w->retry, writer_close_cb);
		return -1;
	}
	w->started = 1;
	*wp = w;
	return 0;
}

void
writer_push(struct writer *w, struct writer_item *it)
{
	struct writer_item **at, **after;

	it->next = NULL;
	pthread_mutex_lock(&w->mu);
	at = w->queue_tail;
	if (it->kind == WRITER_HELLO) {
		/*
		 * An agent waits for WELCOME with a deadline, and a backlog of
		 * other agents' batches can take longer than that: a HELLO
		 * goes ahead of the batches queued, but behind every item of
		 * this agent's own.  Its old batches (a restarted agent) must
		 * not be made stale by its new epoch, nor counted after the
		 * WELCOME's last_seq; the HELLO of a connection that has hung
		 * up since (conn_evict.c), queued behind a failed group, must
		 * not bring the old epoch back after the new one.  Behind the
		 * whole backlog, a HELLO retried after its deadline would
		 * miss it again for as long as the backlog lasts.
		 */
		after = &w->queue;
		for (at = &w->queue; *at != NULL; at = &(*at)->next)
			if (strcmp((*at)->hello.name, it->hello.name) == 0)
				after = &(*at)->next;
		for (at = after; *at != NULL && (*at)->kind != WRITER_BATCH;
		    at = &(*at)->next)
			continue;
	}
	it->next = *at;
	*at = it;
	if (it->next == NULL)
		w->queue_tail = &it->next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
writer_shutdown(struct writer *w)
{
	uv_timer_stop(&w->retry);
	pthread_mutex_lock(&w->mu);
	w->shutdown = 1;
	w->retry_now = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
writer_close(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->shutdown = 1;
	w->retry_now = 1;
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started && pthread_join(w->thread, NULL) != 0)
		log_err("writer: cannot join the writer thread");
	w->started = 0;
	/* The thread is gone: hand back what it finished since the last cb. */
	writer_deliver(w);
	uv_timer_stop(&w->retry);
	uv_close((uv_handle_t *)&w->async, writer_close_cb);
	uv_close((uv_handle_t *)&w->retry, writer_close_cb);
}

void
writer_set_retention(struct writer *w, struct retention *ret)
{
	pthread_mutex_lock(&w->mu);
	w->ret = ret;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* A condition variable whose timed waits use the monotonic clock. */
static int
writer_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int rc;

	if ((rc = pthread_condattr_init(&attr)) != 0)
		return rc;
	if ((rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) == 0)
		rc = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

/*
 * Thread, mu held, queue empty: a retention step if one is due (mu is
 * released meanwhile), else a look at the WAL's length (db_wal_trim, mu
 * released too) and a wait on cv until the next step is due.
 */
static void
writer_idle(struct writer *w)
{
	struct timespec ts;
	int64_t ms = retention_wait_ms(w->ret);

	if (ms == 0) {
		pthread_mutex_unlock(&w->mu);
		writer_retention(w);
		pthread_mutex_lock(&w->mu);
		return;
	}
	pthread_mutex_unlock(&w->mu);
	db_wal_trim(w->db);
	pthread_mutex_lock(&w->mu);
	/* What came meanwhile signalled no one: the caller's loop takes it. */
	if (w->queue != NULL || w->stop)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	/* A timeout or a wake-up: the caller's loop looks again. */
	(void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

/* Thread, mu not held: one retention step. */
static void
writer_retention(struct writer *w)
{
	/* A failed step was rolled back, logged, and backs off by itself. */
	(void)retention_step(w->ret, (int64_t)time(NULL));
}

static void
writer_close_cb(uv_handle_t *h)
{
	struct writer *w = h->data;

	if (--w->nclosing > 0)
		return;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Applies one item inside the open transaction. */
static int
writer_apply(struct writer *w, struct writer_item *it, const char **errstr)
{
	enum db_apply what;

	if (it->kind == WRITER_HELLO) {
		if (db_hello(w->db, &it->hello, it->received, &it->session,
		    &it->last_seq, errstr) == -1)
			return -1;
		it->status = WRITER_DONE;
		return 0;
	}
	if (db_batch(w->db, &it->session, &it->batch, it->received, &what,
	    errstr) == -1)
		return -1;
	switch (what) {
	case DB_APPLIED:
		it->status = WRITER_DONE;
		break;
	case DB_DUPLICATE:
	case DB_CONFLICT:	/* logged by db_batch; acked as the protocol says */
		it->status = WRITER_DUPLICATE;
		break;
	case DB_STALE:
		it->status = WRITER_STALE;
		break;
	}
	return 0;
}

/* mu held: whether connection conn_id has had an item REJECTED. */
static int
writer_is_refused(const struct writer *w, uint64_t conn_id)
{
	size_t i;

	for (i = 0; i < w->nrefused; i++)
		if (w->refused[i].conn_id == conn_id)
			return 1;
	return 0;
}

/*
 * Thread, mu held, group just taken: the items of refused connections
 * are not to be applied (ABANDONED).  Returns the number of items.
 */
static size_t
writer_mark(struct writer *w, struct writer_item *group)
{
	struct writer_item *it;
	size_t n = 0;

	for (it = group; it != NULL; it = it->next, n++)
		if (w->nrefused > 0 && writer_is_refused(w, it->conn_id))
			it->status = WRITER_ABANDONED;
	return n;
}

/*
 * Thread, mu held, after writer_mark: forgets the refused connections
 * that the loop has closed and that have no item left in the queue.
 */
static void
writer_prune(struct writer *w)
{
	struct writer_item *it;
	size_t i = 0;

	while (i < w->nrefused) {
		if (w->refused[i].closed) {
			for (it = w->queue; it != NULL; it = it->next)
				if (it->conn_id == w->refused[i].conn_id)
					break;
			if (it == NULL) {
				w->refused[i] = w->refused[--w->nrefused];
				continue;
			}
		}
		i++;
	}
}

/*
 * Thread: the database refuses its data for good (errstr).  Marks it
 * REJECTED and its connection refused.  Returns -1 when too many refused
 * connections are still open: the item is then retried as after any
 * failure, and the loop closing them makes room.
 */
static int
writer_refuse(struct writer *w, struct writer_item *it, const char *errstr)
{
	pthread_mutex_lock(&w->mu);
	if (!writer_is_refused(w, it->conn_id)) {
		if (w->nrefused == WRITER_REFUSED_MAX) {
			pthread_mutex_unlock(&w->mu);
			return -1;
		}
		w->refused[w->nrefused].conn_id = it->conn_id;
		w->refused[w->nrefused].closed = 0;
		w->nrefused++;
	}
	pthread_mutex_unlock(&w->mu);
	it->status = WRITER_REJECTED;
	snprintf(it->error, sizeof(it->error), "%s", errstr);
	return 0;
}

/*
 * Thread: group failed on its data.  Applies each item in its own
 * transaction: those the database refuses alone on their data are
 * REJECTED, the rest commits.  The items finished go to the done list
 * (in order).  Returns NULL when all are, or else the first one that
 * failed for another reason (rolled back; *errstr, db_errcode), with
 * the rest of the group behind it, for the caller to retry.
 */
static struct writer_item *
writer_isolate(struct writer *w, struct writer_item *group,
    const char **errstr)
{
	struct writer_item *it, **at;
	int refused;

	for (at = &group; (it = *at) != NULL; at = &it->next) {
		if (it->status == WRITER_ABANDONED)
			continue;
		pthread_mutex_lock(&w->mu);
		refused = writer_is_refused(w, it->conn_id);
		pthread_mutex_unlock(&w->mu);
		if (refused) {
			/* Behind its own connection's REJECTED item. */
			it->status = WRITER_ABANDONED;
			continue;
		}
		*errstr = NULL;
		if (db_begin(w->db, errstr) == 0 &&
		    writer_apply(w, it, errstr) == 0 &&
		    db_commit(w->db, errstr) == 0)
			continue;
		db_rollback(w->db);
		if (!db_data_error(db_errcode(w->db)) ||
		    writer_refuse(w, it, *errstr) == -1)
			break;
	}
	if (at == &group)		/* the first item failed: none done */
		return group;
	*at = NULL;
	pthread_mutex_lock(&w->mu);
	*w->done_tail = group;
	w->done_tail = at;
	if (it == NULL)
		w->failing = 0;
	pthread_mutex_unlock(&w->mu);
	uv_async_send(&w->async);
	return it;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writer_item *group, **tail, *it;
	const char *errstr;
	size_t n, bytes, nfail = 0;
	int code, last_code = 0, shutting;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->stop && (w->queue == NULL ||
		    (w->failing && !w->retry_now))) {
			if (w->ret != NULL && w->queue == NULL && !w->failing)
				writer_idle(w);
			else
				pthread_cond_wait(&w->cv, &w->mu);
		}
		if (w->queue == NULL) {		/* stop, nothing left */
			pthread_mutex_unlock(&w->mu);
			break;
		}
		/*
		 * Take a prefix of at most WRITER_GROUP_BYTES of frames (at
		 * least one item): a bounded transaction keeps acks flowing
		 * after a backlog arrives at once, and the WAL small.
		 */
		group = w->queue;
		bytes = group->nbytes;
		for (tail = &group->next; *tail != NULL &&
		    bytes + (*tail)->nbytes <= WRITER_GROUP_BYTES;
		    tail = &(*tail)->next)
			bytes += (*tail)->nbytes;
		w->queue = *tail;
		*tail = NULL;
		if (w->queue == NULL)
			w->queue_tail = &w->queue;
		w->retry_now = 0;
		shutting = w->shutdown;
		n = writer_mark(w, group);
		writer_prune(w);
		pthread_mutex_unlock(&w->mu);

		errstr = NULL;
		if (db_begin(w->db, &errstr) == 0) {
			for (it = group; it != NULL; it = it->next)
				if (it->status != WRITER_ABANDONED &&
				    writer_apply(w, it, &errstr) == -1)
					break;
			if (it == NULL && db_commit(w->db, &errstr) == 0)
				errstr = NULL;
		}
		if (errstr == NULL) {
			if (nfail > 0)
				log_info("writer: database writable again: "
				    "committed %zu items after %zu failed "
				    "attempts", n, nfail);
			nfail = 0;
			last_code = 0;
			pthread_mutex_lock(&w->mu);
			w->failing = 0;
			*w->done_tail = group;
			w->done_tail = tail;
			pthread_mutex_unlock(&w->mu);
			uv_async_send(&w->async);
			/* Under steady load the queue is never empty. */
			if (w->ret != NULL && retention_wait_ms(w->ret) == 0)
				writer_retention(w);
			continue;
		}

		db_rollback(w->db);
		code = db_errcode(w->db);
		if (db_data_error(code)) {
			/* Logged for each item at fault, when it is found. */
			log_debug("writer: transaction of %zu items failed on "
			    "their data: %s; applying them one by one", n,
			    errstr);
			if ((group = writer_isolate(w, group, &errstr)) ==
			    NULL) {
				if (nfail > 0)
					log_info("writer: database writable "
					    "again after %zu failed attempts",
					    nfail);
				nfail = 0;
				last_code = 0;
				continue;
			}
			/* Stopped by a failure of another kind: retried. */
			code = db_errcode(w->db);
			for (n = 0, it = group; it != NULL; it = it->next)
				n++;
		}
		if (nfail++ == 0 || code != last_code)
			log_err("writer: transaction of %zu items failed: %s; "
			    "%s; batches are kept and retried", n, errstr,
			    db_fix(code));
		last_code = code;
		pthread_mutex_lock(&w->mu);
		if (shutting) {
			/* Nothing of it was acked: the agents resend it. */
			log_warn("writer: shutting down with %zu items not "
			    "committed; their agents still hold them", n);
			for (it = group; it != NULL; it = it->next)
				it->status = WRITER_ABANDONED;
			*w->done_tail = group;
			w->done_tail = tail;
		} else {
			/* Back to the head of the queue, ahead of newer items. */
			*tail = w->queue;
			if (w->queue == NULL)
				w->queue_tail = tail;
			w->queue = group;
			w->failing = 1;
		}
		pthread_mutex_unlock(&w->mu);
		uv_async_send(&w->async);
	}
	return NULL;
}

/* Loop thread: hands finished items to the done callback, in order. */
static void
writer_deliver(struct writer *w)
{
	struct writer_item *list, *it;
	uint64_t conn_id;
	size_t i;
	int rejected;

	pthread_mutex_lock(&w->mu);
	list = w->done_head;
	w->done_head = NULL;
	w->done_tail = &w->done_head;
	pthread_mutex_unlock(&w->mu);
	while ((it = list) != NULL) {
		list = it->next;
		it->next = NULL;
		rejected = it->status == WRITER_REJECTED;
		conn_id = it->conn_id;
		w->done(it, w->arg);
		if (!rejected)
			continue;
		/* done has closed the connection: nothing more comes. */
		pthread_mutex_lock(&w->mu);
		for (i = 0; i < w->nrefused; i++)
			if (w->refused[i].conn_id == conn_id)
				w->refused[i].closed = 1;
		pthread_mutex_unlock(&w->mu);
	}
}

static void
writer_async_cb(uv_async_t *h)
{
	struct writer *w = h->data;
	int failing, shutting;

	writer_deliver(w);
	pthread_mutex_lock(&w->mu);
	failing = w->failing && !w->retry_now;
	shutting = w->shutdown;
	pthread_mutex_unlock(&w->mu);
	if (!failing) {
		w->retry_ms = WRITER_RETRY_MIN_MS;
		return;
	}
	if (shutting) {
		writer_shutdown(w);
		return;
	}
	if (uv_is_active((uv_handle_t *)&w->retry))
		return;
	if (uv_timer_start(&w->retry, writer_retry_cb, w->retry_ms, 0) != 0) {
		/* Without a timer, retry at once rather than never. */
		writer_retry_cb(&w->retry);
		return;
	}
	log_debug("writer: retrying in %llu ms",
	    (unsigned long long)w->retry_ms);
	w->retry_ms *= 2;
	if (w->retry_ms > WRITER_RETRY_MAX_MS)
		w->retry_ms = WRITER_RETRY_MAX_MS;
}

static void
writer_retry_cb(uv_timer_t *h)
{
	struct writer *w = h->data;

	pthread_mutex_lock(&w->mu);
	w->retry_now = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}
