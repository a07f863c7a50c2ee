/*
 * worker.h - a second thread for the writer, one job at a time.
 *
 * The writer hands it work that needs no SQLite while it steps its own
 * statements, and waits for the job before it touches anything the job
 * touches: worker_start and worker_wait order the two threads' memory.
 */
#ifndef NETTALLY_WORKER_H
#define NETTALLY_WORKER_H

struct worker;

/* The thread, idle.  NULL with *errstr when it cannot be made. */
struct worker	*worker_new(const char **errstr);

/* Lets a running job finish, then stops and joins the thread.  NULL-safe. */
void		 worker_free(struct worker *);

/* Runs fn(arg) on the thread.  The previous job must have been waited for. */
void		 worker_start(struct worker *, int (*fn)(void *), void *arg);

/* Waits for the job worker_start gave and returns what fn returned. */
int		 worker_wait(struct worker *);

#endif
