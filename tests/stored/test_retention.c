/*
 * test_retention.c - stored/retention.c against a temporary database:
 * durations, where each row lands per tier configuration, expiry, a tier
 * switched off, late data, top N with overflow rows, a step that fails
 * halfway, and that no step ever changes a total.  Rows are written with
 * plain SQL at chosen buckets and retention_step is driven with a chosen
 * clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "retention.h"
#include "scratch.h"

#define DAY		86400
#define T_NOW		1700006400	/* 2023-11-15T00:00:00Z */

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct db	*db;
	sqlite3		*sql;
};

static int
setup(void **state)
{
	struct fixture *f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	scratch_dir(f->dir, sizeof(f->dir), "ret");
	snprintf(f->path, sizeof(f->path), "%s/nettally.db", f->dir);
	f->db = scratch_db(f->path);
	f->sql = db_handle(f->db);
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

static void
exec(struct fixture *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(f->sql, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* The one integer a query returns (NULL is 0). */
static int64_t
q(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(f->sql, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(f->sql));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Raw host rows at resolution 60: every 10 minutes from from to to, two
 * hosts, bytes = bucket % 1000 + host, so misplaced rows change sums.
 */
/*
 * Lists the buckets of rows inserted here directly in stat_bucket, as the
 * store's writer does for the rows it writes (schema v4).
 */
static void
list_buckets(struct fixture *f)
{
	exec(f, "INSERT OR IGNORE INTO stat_bucket SELECT DISTINCT 1,"
	    " resolution, bucket FROM host_stat;"
	    "INSERT OR IGNORE INTO stat_bucket SELECT DISTINCT 2,"
	    " resolution, bucket FROM port_stat;"
	    "INSERT OR IGNORE INTO stat_bucket SELECT DISTINCT 3,"
	    " resolution, bucket FROM peer_stat");
}

static void
fill(struct fixture *f, int64_t from, int64_t to)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	    "WITH RECURSIVE b(t) AS (SELECT %lld UNION ALL SELECT t + 600"
	    " FROM b WHERE t + 600 < %lld), h(id) AS (VALUES (7), (8))"
	    " INSERT INTO host_stat SELECT t, 60, 1, id, 6, 1, 1,"
	    " t %% 1000 + id, t %% 1000 + id + 14, 1 FROM b, h;"
	    "WITH RECURSIVE b(t) AS (SELECT %lld UNION ALL SELECT t + 600"
	    " FROM b WHERE t + 600 < %lld)"
	    " INSERT INTO iface_stat SELECT t, 60, 1, 2, 100, 2, 0, 0, 0, 0, 1"
	    " FROM b;", (long long)from, (long long)to, (long long)from,
	    (long long)to);
	exec(f, sql);
	list_buckets(f);
}

/* Steps until retention has nothing left; fails if it never ends. */
static void
drain(struct retention *r, int64_t now)
{
	int i;

	for (i = 0; i < 100000; i++) {
		assert_int_equal(retention_step(r, now), 0);
		if (retention_wait_ms(r) > 0)
			return;
	}
	fail_msg("retention did not finish");
}

static struct retention *
ret(struct fixture *f, const struct retention_conf *c)
{
	struct retention *r;
	const char *errstr = NULL;

	if ((r = retention_new(f->db, c, &errstr)) == NULL)
		fail_msg("retention_new: %s", errstr);
	return r;
}

#define SUMS "SELECT sum(packets) * 1000000000 + sum(bytes) FROM host_stat"

/*
 * The defaults with ages from the wall clock: these tests place their
 * tiers' cutoffs from the now they pass to retention_step.
 */
static void
wall_conf(struct retention_conf *c)
{
	retention_conf_default(c);
	c->data_clock = 0;
}

static void
test_durations(void **state)
{
	static const struct { const char *s; int64_t v; } good[] = {
		{ "0", 0 }, { "off", 0 }, { "30", 30 }, { "15m", 900 },
		{ "12h", 43200 }, { "7d", 7 * DAY }, { "2w", 14 * DAY },
		{ "5y", 5 * 365 * DAY }, { "1000y", 1000LL * 365 * DAY },
	};
	static const char *const bad[] = { "", "d", "-1", "7x", "7dd",
	    "1e3", " 7d", "1001y", "99999999999999999999", "7 d" };
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		assert_int_equal(retention_parse_duration(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (retention_parse_duration(bad[i], &v) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
}

/* 40 days into raw 1 d, hourly 3 d, daily 10 d, monthly: every tier. */
static void
test_tiers(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t before, nbefore;

	fill(f, T_NOW - 40 * DAY, T_NOW);
	before = q(f, SUMS);
	nbefore = q(f, "SELECT sum(frames) FROM iface_stat");
	wall_conf(&c);
	c.keep_raw = DAY;
	c.keep_hourly = 3 * DAY;
	c.keep_daily = 10 * DAY;
	c.monthly = 1;
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, SUMS), before);
	assert_int_equal(q(f, "SELECT sum(frames) FROM iface_stat"), nbefore);
	/* Raw from the hour holding now - 1 d: T_NOW is midnight. */
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 60"), T_NOW - DAY);
	/* Hourly from the day holding now - 3 d, up to the raw cutoff. */
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 3600"), T_NOW - 3 * DAY);
	assert_int_equal(q(f, "SELECT max(bucket) FROM host_stat"
	    " WHERE resolution = 3600"), T_NOW - DAY - 3600);
	/* Daily from the month holding now - 10 d: 2023-11-01. */
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 86400"), 1698796800);
	assert_int_equal(q(f, "SELECT max(bucket) FROM host_stat"
	    " WHERE resolution = 86400"), T_NOW - 4 * DAY);
	/* Monthly: October 2023 only (the data starts on 2023-10-06). */
	assert_int_equal(q(f, "SELECT count(DISTINCT bucket) FROM host_stat"
	    " WHERE resolution = 2592000"), 1);
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 2592000"), 1696118400);
	/* Each roll-up row is the sum of the raw rows inside its bucket. */
	assert_int_equal(q(f, "SELECT bytes FROM host_stat WHERE bucket ="
	    " 1699747200 AND resolution = 3600 AND host_id = 7"),
	    q(f, "WITH RECURSIVE b(t) AS (SELECT 1699747200 UNION ALL"
	    " SELECT t + 600 FROM b WHERE t + 600 < 1699750800)"
	    " SELECT sum(t % 1000 + 7) FROM b"));
	assert_int_equal(q(f, "SELECT bytes FROM host_stat WHERE bucket ="
	    " 1698796800 AND resolution = 86400 AND host_id = 8"),
	    q(f, "WITH RECURSIVE b(t) AS (SELECT 1698796800 UNION ALL"
	    " SELECT t + 600 FROM b WHERE t + 600 < 1698883200)"
	    " SELECT sum(t % 1000 + 8) FROM b"));
	assert_int_equal(q(f, "SELECT count(*) FROM retention_trim"), 0);
	assert_int_equal(q(f, "SELECT sum(moved) FROM retention_progress"),
	    q(f, "SELECT 2 * 40 * 144") + 40 * 144 -
	    q(f, "SELECT count(*) FROM host_stat WHERE resolution = 60") -
	    q(f, "SELECT count(*) FROM iface_stat WHERE resolution = 60"));
	retention_free(r);
}

/* No monthly tier: what no tier keeps is deleted, and counted. */
static void
test_expiry(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t old;

	fill(f, T_NOW - 40 * DAY, T_NOW);
	wall_conf(&c);
	c.keep_raw = DAY;
	c.keep_hourly = 3 * DAY;
	c.keep_daily = 10 * DAY;
	r = ret(f, &c);
	/* Daily keeps whole days from now - 10 d, nothing coarser is on. */
	old = q(f, "SELECT count(*) FROM host_stat WHERE bucket < 1699142400") +
	    q(f, "SELECT count(*) FROM iface_stat WHERE bucket < 1699142400");
	drain(r, T_NOW);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"
	    " WHERE resolution = 2592000"), 0);
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"),
	    1699142400);
	assert_int_equal(q(f, "SELECT sum(expired) FROM retention_progress"
	    " WHERE resolution = 60"), old);
	assert_int_equal(q(f, "SELECT min(bucket) FROM iface_stat"),
	    1699142400);
	retention_free(r);
}

/* Hourly off: raw goes straight to daily; raw 0: each hour at once. */
static void
test_tier_off(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t before;

	fill(f, T_NOW - 5 * DAY, T_NOW + 3600);
	before = q(f, SUMS);
	wall_conf(&c);
	c.keep_raw = 0;
	c.keep_hourly = 0;
	r = ret(f, &c);
	drain(r, T_NOW + 1800);
	assert_int_equal(q(f, SUMS), before);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"
	    " WHERE resolution = 3600"), 0);
	/* Whole days only: today stays raw. */
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 60"), T_NOW);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"
	    " WHERE resolution = 86400"), 5 * 2);
	retention_free(r);
}

/*
 * An agent at --resolution 3600 or 86400 writes into the hourly or daily
 * tier itself: with that tier off, --keep-raw still keeps its rows.
 */
static void
test_agent_at_tier_resolution(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t n;

	exec(f, "WITH RECURSIVE b(t) AS (SELECT 1699747200 UNION ALL"
	    " SELECT t + 3600 FROM b WHERE t + 3600 < 1700006400)"
	    " INSERT INTO host_stat SELECT t, 3600, 1, 7, 6, 1, 1, t % 1000,"
	    " t % 1000 + 14, 1 FROM b;"
	    "WITH RECURSIVE b(t) AS (SELECT 1699747200 UNION ALL"
	    " SELECT t + 86400 FROM b WHERE t + 86400 < 1700006400)"
	    " INSERT INTO host_stat SELECT t, 86400, 1, 8, 6, 1, 1, 5, 19, 1"
	    " FROM b");
	list_buckets(f);
	n = q(f, "SELECT count(*) FROM host_stat");
	assert_int_equal(n, 3 * 24 + 3);
	wall_conf(&c);
	c.keep_raw = 7 * DAY;
	c.keep_hourly = 0;
	c.keep_daily = 0;
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"), n);
	assert_int_equal(q(f, "SELECT total(expired) FROM retention_progress"),
	    0);
	/* Past --keep-raw they go as raw rows would. */
	drain(r, T_NOW + 8 * DAY);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"), 0);
	retention_free(r);
}

/* With the data clock, a bucket from the future ages nothing out. */
static void
test_data_clock_future_bucket(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t before, n;

	fill(f, T_NOW - 5 * DAY, T_NOW);
	exec(f, "INSERT INTO iface_stat VALUES (4102444800, 60, 1, 1, 60, 1,"
	    " 0, 0, 0, 0, 1)");
	before = q(f, SUMS);
	n = q(f, "SELECT count(*) FROM host_stat");
	retention_conf_default(&c);
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, SUMS), before);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"), n);
	assert_int_equal(q(f, "SELECT total(expired) FROM retention_progress"),
	    0);
	retention_free(r);
}

/*
 * By default ages count from the newest bucket that began by the wall
 * clock: a capture of 2003 replayed into a new store is rolled up like
 * last week's traffic, not expired at the next step as past every tier
 * of the wall clock (20 years > 5), even with a frame of it dated in the
 * future.  With the wall clock it is expired, as documented.
 */
static void
test_default_keeps_old_capture(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t old = T_NOW - 20 * 365 * DAY, before;

	fill(f, old - 30 * DAY, old);
	/* A frame of that capture dated in 2100 changes nothing. */
	exec(f, "INSERT INTO iface_stat VALUES (4102444800, 60, 1, 1, 60, 1,"
	    " 0, 0, 0, 0, 1)");
	before = q(f, SUMS);
	retention_conf_default(&c);
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, SUMS), before);
	assert_int_equal(q(f, "SELECT total(expired) FROM retention_progress"),
	    0);
	/* Older than 7 days before the data's end: rolled up, not kept raw. */
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat WHERE"
	    " resolution = 60 AND bucket < " "(SELECT max(bucket) FROM"
	    " host_stat) - 8 * 86400"), 0);
	assert_true(q(f, "SELECT count(*) FROM host_stat WHERE"
	    " resolution = 3600") > 0);
	retention_free(r);

	c.data_clock = 0;
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"), 0);
	retention_free(r);
}

/* A batch for a time already rolled up is added to the tier holding it. */
static void
test_late_data(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t day, before;

	fill(f, T_NOW - 20 * DAY, T_NOW);
	wall_conf(&c);
	c.keep_raw = DAY;
	c.keep_hourly = 3 * DAY;
	r = ret(f, &c);
	drain(r, T_NOW);
	day = q(f, "SELECT bytes FROM host_stat WHERE resolution = 86400"
	    " AND bucket = 1699142400 AND host_id = 7");
	assert_true(day > 0);
	before = q(f, SUMS);
	exec(f, "INSERT INTO host_stat VALUES (1699142400 + 3000, 60, 1, 7, 6,"
	    " 1, 5, 12345, 12400, 2)");
	list_buckets(f);
	drain(r, T_NOW);
	assert_int_equal(q(f, "SELECT bytes FROM host_stat WHERE resolution ="
	    " 86400 AND bucket = 1699142400 AND host_id = 7"), day + 12345);
	assert_int_equal(q(f, SUMS), before + 5 * 1000000000LL + 12345);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat WHERE"
	    " resolution = 60 AND bucket < 1699920000"), 0);
	retention_free(r);
}

/* Top 2 peers and 1 port per host per roll-up bucket; the rest overflow. */
static void
test_top_n(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t ovf, before;

	/* Host 7, 5 peers (ids 100..104) with bytes 10, 20, .. 50 per row. */
	exec(f, "WITH RECURSIVE b(t) AS (SELECT 1699142400 UNION ALL"
	    " SELECT t + 600 FROM b WHERE t + 600 < 1699142400 + 86400),"
	    " p(id) AS (VALUES (100), (101), (102), (103), (104))"
	    " INSERT INTO peer_stat SELECT t, 60, 1, 7, id, 6, d, 1,"
	    " (id - 99) * 10, 0, 1 FROM b, p, (SELECT 0 AS d UNION SELECT 1);"
	    "WITH RECURSIVE b(t) AS (SELECT 1699142400 UNION ALL"
	    " SELECT t + 600 FROM b WHERE t + 600 < 1699142400 + 86400),"
	    " p(port) AS (VALUES (0), (22), (80), (443))"
	    " INSERT INTO port_stat SELECT t, 60, 1, 7, 6, port, 1, 1,"
	    " port + 1, 0, 1 FROM b, p");
	list_buckets(f);
	ovf = q(f, "SELECT id FROM address WHERE family = 0");
	before = q(f, "SELECT sum(bytes) FROM peer_stat");
	wall_conf(&c);
	c.keep_raw = DAY;
	c.keep_hourly = 0;
	c.top_peers = 2;
	c.top_ports = 1;
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, "SELECT sum(bytes) FROM peer_stat"), before);
	assert_int_equal(q(f, "SELECT count(DISTINCT peer_id) FROM peer_stat"),
	    3);
	assert_int_equal(q(f, "SELECT count(DISTINCT peer_id) FROM peer_stat"
	    " WHERE peer_id IN (103, 104)"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM peer_stat"
	    " WHERE peer_id IN (100, 101, 102)"), 0);
	/* Overflow keeps direction: one row per direction, 10+20+30 each. */
	assert_true(ovf > 0);
	assert_int_equal(q(f, "SELECT count(*) FROM peer_stat WHERE peer_id ="
	    " (SELECT id FROM address WHERE family = 0) AND direction = 0"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM peer_stat WHERE peer_id ="
	    " (SELECT id FROM address WHERE family = 0) AND direction = 1"), 1);
	assert_int_equal(q(f, "SELECT sum(bytes) FROM peer_stat WHERE"
	    " peer_id = (SELECT id FROM address WHERE family = 0)"),
	    144 * 2 * 60);
	assert_int_equal(q(f, "SELECT count(*) FROM peer_stat"
	    " WHERE resolution <> 86400"), 0);
	/* Ports: 443 stays, 22 and 80 go into port 0, which held its own. */
	assert_int_equal(q(f, "SELECT count(*) FROM port_stat"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM port_stat"
	    " WHERE port NOT IN (0, 443)"), 0);
	assert_int_equal(q(f, "SELECT bytes FROM port_stat WHERE port = 443"),
	    144 * 444);
	assert_int_equal(q(f, "SELECT bytes FROM port_stat WHERE port = 0"),
	    144 * (1 + 23 + 81));
	assert_true(q(f, "SELECT sum(trimmed) FROM retention_progress") > 0);
	retention_free(r);
}

/*
 * A step that fails halfway (the delete refused after the roll-up rows
 * were written) leaves nothing behind, backs off, and a later step does
 * the whole job.
 */
static void
test_failed_step(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t before, rows;

	fill(f, T_NOW - 5 * DAY, T_NOW);
	before = q(f, SUMS);
	rows = q(f, "SELECT count(*) FROM host_stat");
	exec(f, "CREATE TRIGGER no_delete BEFORE DELETE ON host_stat"
	    " BEGIN SELECT RAISE(ABORT, 'refused'); END");
	wall_conf(&c);
	c.keep_raw = DAY;
	r = ret(f, &c);
	assert_int_equal(retention_step(r, T_NOW), -1);
	assert_int_equal(q(f, SUMS), before);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"), rows);
	assert_int_equal(q(f, "SELECT count(*) FROM host_stat"
	    " WHERE resolution <> 60"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM retention_progress"), 0);
	assert_true(retention_wait_ms(r) > 1000);
	exec(f, "DROP TRIGGER no_delete");
	drain(r, T_NOW);
	assert_int_equal(q(f, SUMS), before);
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 60"), T_NOW - DAY);
	retention_free(r);
}

/*
 * Counters whose sum passes INT64_MAX (each within it, as validate.c
 * lets through): the roll-up saturates them instead of failing at every
 * retry, and everyone else's rows still roll up exactly.
 */
static void
test_counter_overflow(void **state)
{
	struct fixture *f = *state;
	struct retention_conf c;
	struct retention *r;
	int64_t before;

	fill(f, T_NOW - 5 * DAY, T_NOW);
	before = q(f, SUMS);
	/* Host 9: 3 * 2^61 twice in one hour, raw, and twice hourly. */
	exec(f, "INSERT INTO host_stat VALUES"
	    " (1699747200, 60, 1, 9, 6, 1, 6917529027641081856,"
	    " 6917529027641081856, 6917529027641081856, 1),"
	    " (1699747800, 60, 1, 9, 6, 1, 6917529027641081856,"
	    " 6917529027641081856, 6917529027641081856, 1),"
	    " (1699660800, 3600, 1, 9, 6, 1, 6917529027641081856, 1, 1, 1),"
	    " (1699664400, 3600, 1, 9, 6, 1, 6917529027641081856, 1, 1, 1)");
	list_buckets(f);
	wall_conf(&c);
	c.keep_raw = DAY;
	c.keep_hourly = 3 * DAY;
	r = ret(f, &c);
	drain(r, T_NOW);
	assert_int_equal(q(f, "SELECT packets FROM host_stat WHERE host_id = 9"
	    " AND bucket = 1699747200 AND resolution = 3600"), INT64_MAX);
	assert_int_equal(q(f, "SELECT frame_bytes FROM host_stat WHERE"
	    " host_id = 9 AND bucket = 1699747200 AND resolution = 3600"),
	    INT64_MAX);
	assert_int_equal(q(f, "SELECT packets FROM host_stat WHERE host_id = 9"
	    " AND bucket = 1699660800 AND resolution = 86400"), INT64_MAX);
	assert_int_equal(q(f, "SELECT typeof(packets) = 'integer' FROM"
	    " host_stat WHERE host_id = 9 AND resolution = 86400"), 1);
	assert_int_equal(q(f, "SELECT sum(packets) * 1000000000 + sum(bytes)"
	    " FROM host_stat WHERE host_id <> 9"), before);
	assert_int_equal(q(f, "SELECT min(bucket) FROM host_stat"
	    " WHERE resolution = 60"), T_NOW - DAY);
	retention_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test_setup_teardown(test_tiers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tier_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_at_tier_resolution,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_keeps_old_capture,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_clock_future_bucket,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_data, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_top_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_step, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counter_overflow, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
