/*
 * lookahead.c - a second thread for the writer: one job at a time, run
 * while the writer itself waits on SQLite.
 *
 * The writer spends most of a batch inside SQLite, on one core, while
 * the second core idles once the agents are done.  db.c hands this
 * thread the next record section's cache lookups (no SQL) while it
 * upserts the current one.  A job is a function and its argument;
 * start and wait are a hand-off under one mutex, so everything the
 * writer wrote before lookahead_start is seen by the job, and everything
 * the job wrote is seen by the writer after lookahead_wait.
 */
#include <pthread.h>
#include <stdlib.h>

#include "lookahead.h"

struct lookahead {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a job, its end, or stop */
	void		(*fn)(void *);	/* the job waiting to run, or NULL */
	void		*arg;
	int		 busy;		/* started and not yet returned */
	int		 stop;
};

static void	*lookahead_main(void *);

struct lookahead *
lookahead_new(const char **errstr)
{
	struct lookahead *la;

	if ((la = calloc(1, sizeof(*la))) == NULL) {
		*errstr = "out of memory for the lookahead thread";
		return NULL;
	}
	if (pthread_mutex_init(&la->mu, NULL) != 0) {
		*errstr = "cannot create the lookahead thread's mutex";
		goto fail;
	}
	if (pthread_cond_init(&la->cv, NULL) != 0) {
		*errstr = "cannot create the lookahead thread's condition";
		goto fail_mu;
	}
	if (pthread_create(&la->thread, NULL, lookahead_main, la) != 0) {
		*errstr = "cannot start the lookahead thread";
		goto fail_cv;
	}
	return la;
	/* Each step undone once, in reverse order. */
fail_cv:
	pthread_cond_destroy(&la->cv);
fail_mu:
	pthread_mutex_destroy(&la->mu);
fail:
	free(la);
	return NULL;
}

void
lookahead_start(struct lookahead *la, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&la->mu);
	la->fn = fn;
	la->arg = arg;
	la->busy = 1;
	pthread_cond_broadcast(&la->cv);
	pthread_mutex_unlock(&la->mu);
}

void
lookahead_wait(struct lookahead *la)
{
	pthread_mutex_lock(&la->mu);
	while (la->busy)
		pthread_cond_wait(&la->cv, &la->mu);
	pthread_mutex_unlock(&la->mu);
}

void
lookahead_free(struct lookahead *la)
{
	if (la == NULL)
		return;
	pthread_mutex_lock(&la->mu);
	la->stop = 1;
	pthread_cond_broadcast(&la->cv);
	pthread_mutex_unlock(&la->mu);
	pthread_join(la->thread, NULL);
	pthread_cond_destroy(&la->cv);
	pthread_mutex_destroy(&la->mu);
	free(la);
}

static void *
lookahead_main(void *arg)
{
	struct lookahead *la = arg;
	void (*fn)(void *);
	void *job;

	pthread_mutex_lock(&la->mu);
	for (;;) {
		while (la->fn == NULL && !la->stop)
			pthread_cond_wait(&la->cv, &la->mu);
		if (la->stop)
			break;
		fn = la->fn;
		job = la->arg;
		la->fn = NULL;
		pthread_mutex_unlock(&la->mu);
		fn(job);
		pthread_mutex_lock(&la->mu);
		la->busy = 0;
		pthread_cond_broadcast(&la->cv);
	}
	pthread_mutex_unlock(&la->mu);
	return NULL;
}
