/*
 * worker.c - one job at a time on a thread of its own.
 *
 * The writer thread gives it a job (worker_start), goes on with its own
 * work, and collects the result (worker_wait).  The handoffs go through
 * one mutex, so all the job wrote is visible to the writer after
 * worker_wait, and all the writer wrote before worker_start is visible
 * to the job.  The thread blocks every signal: they belong to the loop.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "worker.h"

enum worker_state { WORKER_IDLE, WORKER_JOB, WORKER_DONE, WORKER_QUIT };

struct worker {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* state changed */
	enum worker_state	 state;
	int			(*fn)(void *);
	void			*arg;
	int			 rc;		/* fn's, once WORKER_DONE */
};

static void	*worker_main(void *);

static void *
worker_main(void *p)
{
	struct worker *w = p;
	int (*fn)(void *);
	void *arg;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->state != WORKER_JOB && w->state != WORKER_QUIT)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->state == WORKER_QUIT)
			break;
		fn = w->fn;
		arg = w->arg;
		pthread_mutex_unlock(&w->mu);
		rc = fn(arg);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->state = WORKER_DONE;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct worker *
worker_new(const char **errstr)
{
	struct worker *w;
	sigset_t all, old;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		*errstr = "cannot create a mutex";
		return NULL;
	}
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		*errstr = "cannot create a condition variable";
		return NULL;
	}
	w->state = WORKER_IDLE;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		*errstr = "cannot create the writer's worker thread";
		return NULL;
	}
	return w;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->state == WORKER_JOB)
		pthread_cond_wait(&w->cv, &w->mu);
	w->state = WORKER_QUIT;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void
worker_start(struct worker *w, int (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&w->mu);
	w->fn = fn;
	w->arg = arg;
	w->state = WORKER_JOB;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
worker_wait(struct worker *w)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	while (w->state != WORKER_DONE)
		pthread_cond_wait(&w->cv, &w->mu);
	rc = w->rc;
	w->state = WORKER_IDLE;
	pthread_mutex_unlock(&w->mu);
	return rc;
}
