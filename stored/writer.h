/*
 * writer.h - the one writer thread: group commit behind a queue.
 *
 * The loop pushes items (a HELLO to register, a BATCH to apply); the
 * thread takes what is queued (up to a size bound), applies it in one
 * BEGIN IMMEDIATE ... COMMIT, and hands each item back to the loop thread
 * through the done callback, in queue order, only after the commit.  The
 * queue is push order, except that a HELLO goes ahead of the other
 * agents' batches queued after its own agent's last item, so an agent's
 * handshake never waits for a backlog.  When a
 * transaction fails the writer rolls back, logs the cause and the fix
 * once, and retries the same items (ahead of anything queued later) on a
 * loop timer with backoff: items are never dropped while the store runs.
 * The one exception is an item whose data the database refuses for good
 * (db_data_error): the group is applied again one item per transaction,
 * the culprit comes back WRITER_REJECTED, the rest commits, and what its
 * connection sent after it comes back WRITER_ABANDONED.
 */
#ifndef NETTALLY_WRITER_H
#define NETTALLY_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "db.h"
#include "proto.h"

enum writer_kind {
	WRITER_HELLO = 1,
	WRITER_BATCH = 2,
};

enum writer_status {
	WRITER_DONE = 0,	/* HELLO registered / batch applied */
	WRITER_DUPLICATE,	/* batch already committed before: ack it */
	WRITER_STALE,		/* batch of an epoch the agent has left */
	WRITER_ABANDONED,	/* not committed: shutdown during a failure,
				   or its connection had one REJECTED */
	WRITER_REJECTED,	/* refused by the database for good: error */
};

struct writer_item {
	struct writer_item	*next;
	enum writer_kind	 kind;
	enum writer_status	 status;	/* out */
	uint64_t		 conn_id;	/* who to answer, if still there */
	size_t			 nbytes;	/* frame size, for group commit */
	size_t			 nmem;		/* memory held, for backpressure */
	int64_t			 received;	/* epoch seconds */
	struct proto_hello	 hello;		/* HELLO: in; BATCH: name only */
	struct db_session	 session;	/* HELLO: out; BATCH: in */
	uint64_t		 last_seq;	/* HELLO: out */
	struct proto_batch	 batch;		/* BATCH: in, owned */
	char			 error[256];	/* REJECTED: SQLite's text */
};

struct writer;

/* Returns a zeroed item, or NULL. */
struct writer_item	*writer_item_new(enum writer_kind);
/* Frees the item and its batch arrays.  NULL-safe. */
void			 writer_item_free(struct writer_item *);

/*
 * Starts the thread on db (which it then owns until writer_close) and
 * registers its async and timer handles on loop.  done is called on the
 * loop thread for every item, which it takes over.  Returns 0, or -1 with
 * *errstr.
 */
int	writer_new(struct writer **, uv_loop_t *, struct db *,
	    void (*done)(struct writer_item *, void *), void *arg,
	    const char **errstr);

struct retention;

/*
 * Lets the thread run retention steps (retention.h) on its db between
 * batches; ret stays the caller's and must outlive writer_close.  Call
 * once, from the loop thread.
 */
void	writer_set_retention(struct writer *, struct retention *ret);

/*
 * Queues an item (takes it over).  Loop thread only.  Once an item came
 * back WRITER_REJECTED, the done callback must close its connection
 * (conn_id) and push nothing more for it: the items it had queued behind
 * come back WRITER_ABANDONED, never applied, so its agent resends them.
 */
void	writer_push(struct writer *, struct writer_item *);

/*
 * Finish what is queued: while failing, retry once at once, and if that
 * fails too hand the items back as WRITER_ABANDONED (the agents still hold
 * them: nothing was acknowledged).
 */
void	writer_shutdown(struct writer *);

/*
 * Stops and joins the thread (after finishing the queue as in
 * writer_shutdown), delivers what is left, closes the handles; the memory
 * goes in their close callbacks.  The db may be closed on return.
 */
void	writer_close(struct writer *);

#endif
