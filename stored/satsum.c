/*
 * satsum.c - a saturating sum() (satsum.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "satsum.h"

struct satsum_acc {
	int64_t		 sum;
	int		 any;
};

static int64_t	satsum_value(sqlite3_value *);
static int64_t	satsum_add(int64_t, int64_t);
static void	satsum_step(sqlite3_context *, int, sqlite3_value **);
static void	satsum_final(sqlite3_context *);

/* A counter as an integer: REALs rounded toward zero, saturated. */
static int64_t
satsum_value(sqlite3_value *v)
{
	double d;

	if (sqlite3_value_type(v) != SQLITE_FLOAT)
		return sqlite3_value_int64(v);
	d = sqlite3_value_double(v);
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775807.0)
		return INT64_MIN;
	return (int64_t)d;
}

static int64_t
satsum_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static void
satsum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct satsum_acc *acc;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if ((acc = sqlite3_aggregate_context(ctx, sizeof(*acc))) == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	acc->sum = satsum_add(acc->sum, satsum_value(argv[0]));
	acc->any = 1;
}

static void
satsum_final(sqlite3_context *ctx)
{
	struct satsum_acc *acc = sqlite3_aggregate_context(ctx, 0);

	if (acc == NULL || !acc->any)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, acc->sum);
}

int
satsum_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "nt_sum", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, NULL, satsum_step, satsum_final);
}
