/*
 * lookahead.h - a second thread for the writer: one job at a time, run
 * while the writer itself waits on SQLite.
 */
#ifndef NETTALLY_LOOKAHEAD_H
#define NETTALLY_LOOKAHEAD_H

struct lookahead;

/* Starts the thread.  Returns it, or NULL with *errstr. */
struct lookahead *lookahead_new(const char **errstr);

/*
 * Runs fn(arg) on the thread.  The caller keeps its hands off what fn
 * touches until lookahead_wait, and starts no second job before it.
 */
void		 lookahead_start(struct lookahead *, void (*fn)(void *),
		    void *arg);

/* Returns once the job started last has returned. */
void		 lookahead_wait(struct lookahead *);

/* Stops and joins the thread; no job may be running.  NULL-safe. */
void		 lookahead_free(struct lookahead *);

#endif
