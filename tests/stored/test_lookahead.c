/*
 * test_lookahead.c - stored/lookahead.c: a job runs on the other thread,
 * not the caller's; what it wrote is there after lookahead_wait, also
 * when it outlasts the caller's own work; thousands of hand-offs in a
 * row; a wait with no job running returns.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "lookahead.h"

struct job {
	pthread_t	 ran_on;
	uint64_t	 sum;
	unsigned	 from, to;
	useconds_t	 nap;
};

static void
job_run(void *arg)
{
	struct job *j = arg;
	unsigned i;

	if (j->nap > 0)
		usleep(j->nap);
	j->ran_on = pthread_self();
	for (i = j->from; i < j->to; i++)
		j->sum += i;
}

static void
test_runs_on_its_thread(void **state)
{
	struct lookahead *la;
	struct job j = { .from = 1, .to = 1001, .nap = 50000 };
	const char *errstr = NULL;

	(void)state;
	assert_non_null(la = lookahead_new(&errstr));
	lookahead_start(la, job_run, &j);
	lookahead_wait(la);
	assert_int_equal(j.sum, 500500);
	assert_false(pthread_equal(j.ran_on, pthread_self()));
	lookahead_free(la);
}

static void
test_many_handoffs(void **state)
{
	struct lookahead *la;
	struct job j;
	const char *errstr = NULL;
	unsigned i;

	(void)state;
	assert_non_null(la = lookahead_new(&errstr));
	lookahead_wait(la);
	for (i = 0; i < 5000; i++) {
		j = (struct job){ .from = i, .to = i + 3 };
		lookahead_start(la, job_run, &j);
		lookahead_wait(la);
		assert_int_equal(j.sum, 3 * (uint64_t)i + 3);
	}
	lookahead_free(la);
	lookahead_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_on_its_thread),
		cmocka_unit_test(test_many_handoffs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
