/*
 * test_checkpoint.c - stored/checkpoint.c through db.c: a commit that
 * takes the WAL past a thousand pages is checkpointed by the thread, and
 * whole (the next write starts the WAL again from its beginning); past
 * two thousand the writer checkpoints itself; closing the store closes
 * both connections, so the WAL is copied whole and removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "scratch.h"

struct fixture {
	char		 dir[64];
	char		 path[128];
	char		 wal[136];
	struct db	*db;
};

static int
setup(void **state)
{
	struct fixture *f;
	const char *errstr = NULL;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	scratch_dir(f->dir, sizeof(f->dir), "ckpt");
	snprintf(f->path, sizeof(f->path), "%s/nettally.db", f->dir);
	snprintf(f->wal, sizeof(f->wal), "%s-wal", f->path);
	f->db = scratch_db(f->path);
	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(sqlite3_exec(db_handle(f->db),
	    "CREATE TABLE ck (b BLOB)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(db_commit(f->db, &errstr), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

/* One transaction of n rows, each a page of its own in the WAL. */
static void
write_pages(struct fixture *f, int n)
{
	sqlite3_stmt *st;
	const char *errstr = NULL;

	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(sqlite3_prepare_v2(db_handle(f->db),
	    "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i"
	    " WHERE n < ?1) INSERT INTO ck SELECT zeroblob(12000) FROM i",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_int(st, 1, n), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	if (db_commit(f->db, &errstr) == -1)
		fail_msg("commit: %s", errstr);
}

/*
 * Frames in the WAL now, as a passive checkpoint of the writer's
 * connection reports them (waiting out the thread's, which holds the
 * checkpoint lock while it runs).
 */
static int
wal_frames(struct fixture *f)
{
	int rc, nlog = -1, ndone = -1, tries;

	for (tries = 0; tries < 500; tries++) {
		rc = sqlite3_wal_checkpoint_v2(db_handle(f->db), NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &nlog, &ndone);
		if (rc == SQLITE_OK)
			return nlog;
		assert_int_equal(rc, SQLITE_BUSY);
		usleep(10000);
	}
	fail_msg("the checkpoint lock stayed taken for 5 s");
	return -1;
}

static void
test_thread_checkpoints(void **state)
{
	struct fixture *f = *state;
	int tries;

	write_pages(f, 100);
	/* 100 frames: nobody asked. */
	usleep(100000);
	assert_int_equal(db_checkpoints(f->db), 0);
	write_pages(f, 1200);
	for (tries = 0; db_checkpoints(f->db) == 0 && tries < 1000; tries++)
		usleep(10000);
	assert_int_equal(db_checkpoints(f->db), 1);
	/* Copied whole and nothing written since: this write starts over. */
	write_pages(f, 1);
	assert_in_range(wal_frames(f), 1, 10);
}

static void
test_writer_checkpoints_past_max(void **state)
{
	struct fixture *f = *state;

	/* Past 2000 frames the commit itself copied the WAL whole. */
	write_pages(f, 2200);
	write_pages(f, 1);
	assert_in_range(wal_frames(f), 1, 10);
	assert_int_equal(db_checkpoints(f->db), 0);
}

static void
test_close_removes_wal(void **state)
{
	struct fixture *f = *state;

	write_pages(f, 1200);
	assert_int_equal(access(f->wal, F_OK), 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(access(f->wal, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thread_checkpoints, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_writer_checkpoints_past_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_removes_wal, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
