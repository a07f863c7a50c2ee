/*
 * checkpoint.c - WAL checkpoints in a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * past its threshold: it copies the WAL's pages into the database and
 * syncs both files, and the writer thread waits through it.  On the
 * bench's 32-agent ingest that was eight checkpoints and about 110 ms of
 * a 1.3 s run, most of it in two fdatasync calls each.  Here a thread
 * does it on a second connection while the writer goes on writing.
 *
 * Invariants:
 * - The thread runs PASSIVE checkpoints only: it never waits for the
 *   writer or a reader, and they never wait for it.
 * - Requests are a flag: any number made while a checkpoint runs cause
 *   one more, not a queue of them.
 * - A failure is logged once per streak (again only if the code changes)
 *   and the recovery once; a busy checkpoint lock (the writer's own
 *   checkpoint, db.c) is not a failure.
 * - The connection is used by this thread alone between checkpoint_start
 *   and the join in checkpoint_stop, so it is opened NOMUTEX.
 */
#include <pthread.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "checkpoint.h"
#include "db.h"
#include "log.h"

struct checkpoint {
	sqlite3		*sql;
	pthread_t	 thread;
	int		 failing;	/* the streak's SQLite code, or 0 */

	/* Below: shared with the writer thread, under mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 wanted;
	int		 stop;
	uint64_t	 count;
};

static void	*checkpoint_main(void *);
static void	 checkpoint_said(struct checkpoint *, int);

/*
 * Opens c->sql on path and checks the database is in WAL mode (which
 * also opens the WAL, so that the first checkpoint finds it).
 */
static int
checkpoint_open(struct checkpoint *c, const char *path, const char **errstr)
{
	int ok;

	if (sqlite3_open_v2(path, &c->sql, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*errstr = "cannot open a second connection for checkpoints";
		return -1;
	}
	if ((ok = db_is_wal(c->sql, "PRAGMA journal_mode")) == -1) {
		*errstr = "cannot read the journal mode for checkpoints";
		return -1;
	}
	if (!ok) {
		*errstr = "the database is not in WAL mode for checkpoints";
		return -1;
	}
	return 0;
}

struct checkpoint *
checkpoint_start(const char *path, const char **errstr)
{
	struct checkpoint *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*errstr = "out of memory for the checkpoint thread";
		return NULL;
	}
	if (checkpoint_open(c, path, errstr) == -1)
		goto fail_sql;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		*errstr = "cannot create the checkpoint thread's mutex";
		goto fail_sql;
	}
	if (pthread_cond_init(&c->cv, NULL) != 0) {
		*errstr = "cannot create the checkpoint thread's condition";
		goto fail_mu;
	}
	if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
		*errstr = "cannot start the checkpoint thread";
		goto fail_cv;
	}
	return c;
	/* Each step undone once, in reverse order. */
fail_cv:
	pthread_cond_destroy(&c->cv);
fail_mu:
	pthread_mutex_destroy(&c->mu);
fail_sql:
	sqlite3_close(c->sql);
	free(c);
	return NULL;
}

void
checkpoint_request(struct checkpoint *c)
{
	pthread_mutex_lock(&c->mu);
	if (!c->wanted) {
		c->wanted = 1;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
}

uint64_t
checkpoint_count(struct checkpoint *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->count;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
checkpoint_stop(struct checkpoint *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	if (sqlite3_close(c->sql) != SQLITE_OK)
		log_err("db: checkpoint connection: close: %s",
		    sqlite3_errmsg(c->sql));
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/*
 * The thread.  A request pending at stop is dropped: the writer's
 * connection, the last to close, checkpoints the whole WAL then.
 */
static void *
checkpoint_main(void *arg)
{
	struct checkpoint *c = arg;
	int rc;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		rc = sqlite3_wal_checkpoint_v2(c->sql, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		checkpoint_said(c, rc);
		pthread_mutex_lock(&c->mu);
		if (rc == SQLITE_OK)
			c->count++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Logs the start of a failure streak, a change of its cause, its end. */
static void
checkpoint_said(struct checkpoint *c, int rc)
{
	if (rc == SQLITE_BUSY)
		return;
	if (rc == SQLITE_OK) {
		if (c->failing)
			log_info("db: checkpoint: works again");
		c->failing = 0;
		return;
	}
	if (c->failing == rc)
		return;
	c->failing = rc;
	log_err("db: checkpoint: %s: the WAL file grows until one succeeds; "
	    "%s", sqlite3_errmsg(c->sql), db_fix(rc));
}
