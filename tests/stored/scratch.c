/*
 * scratch.c - a scratch directory under /tmp, and the store's database
 * opened in it, for the store's unit tests.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "db.h"
#include "scratch.h"

void
scratch_dir(char *dir, size_t len, const char *name)
{
	int n = snprintf(dir, len, "/tmp/nt-test-%s.XXXXXX", name);

	assert_true(n > 0 && (size_t)n < len);
	assert_non_null(mkdtemp(dir));
}

struct db *
scratch_db(const char *path)
{
	struct db *d;
	char err[512];

	if ((d = db_open(path, err, sizeof(err))) == NULL)
		fail_msg("db_open: %s", err);
	return d;
}

static int
scratch_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
scratch_remove(const char *dir)
{
	/* Depth first, so a directory is empty when its turn comes. */
	assert_int_equal(nftw(dir, scratch_rm, 16, FTW_DEPTH | FTW_PHYS), 0);
}
