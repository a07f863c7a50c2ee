/*
 * test_worker.c - worker.c: a job runs on another thread and its result
 * and writes are the caller's after worker_wait; jobs follow one another;
 * worker_free lets a running job finish.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "worker.h"

struct job {
	pthread_t	 caller;
	int		 on_other_thread;
	uint64_t	 sum;		/* of 1..n */
	uint64_t	 n;
	int		 sleep_ms;
	int		 done;
};

static int
sum_job(void *arg)
{
	struct job *j = arg;
	struct timespec ts;
	uint64_t i;

	j->on_other_thread = !pthread_equal(pthread_self(), j->caller);
	if (j->sleep_ms > 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)j->sleep_ms * 1000000L;
		nanosleep(&ts, NULL);
	}
	for (j->sum = 0, i = 1; i <= j->n; i++)
		j->sum += i;
	j->done = 1;
	return j->n % 2 ? -1 : 7;
}

static void
test_jobs_in_turn(void **state)
{
	struct worker *w;
	struct job j = { 0 };
	const char *errstr = NULL;
	uint64_t n;

	(void)state;
	assert_non_null(w = worker_new(&errstr));
	j.caller = pthread_self();
	for (n = 1000; n < 1010; n++) {
		j.n = n;
		j.sum = 0;
		j.on_other_thread = 0;
		worker_start(w, sum_job, &j);
		assert_int_equal(worker_wait(w), n % 2 ? -1 : 7);
		assert_true(j.on_other_thread);
		assert_int_equal(j.sum, n * (n + 1) / 2);
	}
	worker_free(w);
}

static void
test_free_lets_job_finish(void **state)
{
	struct worker *w;
	struct job j = { 0 };
	const char *errstr = NULL;

	(void)state;
	assert_non_null(w = worker_new(&errstr));
	j.caller = pthread_self();
	j.n = 10;
	j.sleep_ms = 50;
	worker_start(w, sum_job, &j);
	worker_free(w);
	assert_true(j.done);
	assert_int_equal(j.sum, 55);
	worker_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_in_turn),
		cmocka_unit_test(test_free_lets_job_finish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
