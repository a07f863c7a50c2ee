/*
 * test_report.c - unit tests of the nettally command's modules:
 * report_time.c (durations, ISO times), report_format.c (units, CSV
 * quoting, JSON escaping, whole table/csv/json output) and report_query.c
 * (each report's SQL over an in-memory database built by schema_migrate:
 * window bounds, sums, order of ties, limit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "report_format.h"
#include "report_query.h"
#include "report_time.h"
#include "schema.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* 2026-11-25T10:00:00Z and one hour later. */
#define T0	INT64_C(1795600800)
#define T1	INT64_C(1795604400)

/* Captures what a writer prints; the caller frees the returned string. */
struct capture {
	FILE	*fp;
	char	*buf;
	size_t	 len;
};

static void
capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->buf, &c->len);
	assert_non_null(c->fp);
}

static char *
capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->fp), 0);
	return c->buf;
}

/* --- report_time.c --------------------------------------------------- */

static void
test_duration(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 secs;		/* -1: must be rejected */
	} cases[] = {
		{ "90s", 90 }, { "15m", 900 }, { "2h", 7200 },
		{ "7d", 604800 }, { "1w", 604800 }, { "1h30m", 5400 },
		{ "1w1d1h1m1s", 694861 }, { "0s", 0 }, { "007m", 420 },
		{ "3153600000s", REPORT_TIME_MAX_DURATION },
		{ "36500d", REPORT_TIME_MAX_DURATION },
		{ "3153600001s", -1 }, { "36501d", -1 }, { "5215w", -1 },
		{ "36499d1441m", -1 },
		{ "99999999999999999999999s", -1 },
		{ "", -1 }, { "5", -1 }, { "5x", -1 }, { "h", -1 },
		{ "-1h", -1 }, { "+1h", -1 }, { "1.5h", -1 }, { "1h ", -1 },
		{ " 1h", -1 }, { "1H", -1 }, { "1hh", -1 }, { "all", -1 },
	};
	const char *errstr;
	int64_t secs;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		secs = -7;
		errstr = NULL;
		if (cases[i].secs == -1) {
			assert_int_equal(report_time_duration(cases[i].in,
			    &secs, &errstr), -1);
			assert_non_null(errstr);
			assert_int_equal(secs, -7);
		} else {
			assert_int_equal(report_time_duration(cases[i].in,
			    &secs, &errstr), 0);
			assert_int_equal(secs, cases[i].secs);
		}
	}
}

static void
test_iso(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 t;
		int		 ok;
	} cases[] = {
		{ "2026-11-25T10:00:00Z", T0, 1 },
		{ "2026-11-25", INT64_C(1795564800), 1 },
		{ "1970-01-01", 0, 1 },
		{ "1970-01-01T00:00:01Z", 1, 1 },
		{ "2024-02-29", INT64_C(1709164800), 1 },
		{ "2000-03-01T00:00:00Z", INT64_C(951868800), 1 },
		{ "2100-03-01", INT64_C(4107542400), 1 },
		{ "9999-12-31T23:59:59Z", INT64_C(253402300799), 1 },
		{ "2023-02-29", 0, 0 }, { "2100-02-29", 0, 0 },
		{ "2026-13-01", 0, 0 }, { "2026-00-01", 0, 0 },
		{ "2026-04-31", 0, 0 }, { "2026-11-00", 0, 0 },
		{ "0000-01-01", 0, 0 },
		{ "2026-11-25T24:00:00Z", 0, 0 },
		{ "2026-11-25T10:60:00Z", 0, 0 },
		{ "2026-11-25T10:00:60Z", 0, 0 },
		{ "2026-11-25T10:00:00", 0, 0 },
		{ "2026-11-25 10:00:00Z", 0, 0 },
		{ "2026-11-25T10:00:00+00:00", 0, 0 },
		{ "2026-11-25T10:00Z", 0, 0 },
		{ "2026-1-05", 0, 0 }, { "2026-11-25x", 0, 0 },
		{ "2026/11/25", 0, 0 }, { "", 0, 0 },
	};
	const char *errstr;
	int64_t t;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		errstr = NULL;
		if (cases[i].ok) {
			assert_int_equal(report_time_iso(cases[i].in, &t,
			    &errstr), 0);
			assert_int_equal(t, cases[i].t);
		} else {
			assert_int_equal(report_time_iso(cases[i].in, &t,
			    &errstr), -1);
			assert_non_null(errstr);
		}
	}
}

/* Formatting then parsing gives back the same second, over 1970..2200. */
static void
test_iso_round_trip(void **state)
{
	char buf[REPORT_TIME_ISO_LEN];
	const char *errstr;
	int64_t t, back;

	(void)state;
	for (t = 0; t < INT64_C(7258118400); t += 86400 * 7 + 3607) {
		assert_int_equal(report_time_format(t, buf, sizeof(buf)), 0);
		assert_int_equal(report_time_iso(buf, &back, &errstr), 0);
		assert_int_equal(back, t);
	}
}

static void
test_time_format(void **state)
{
	char buf[REPORT_TIME_ISO_LEN];

	(void)state;
	assert_int_equal(report_time_format(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(report_time_format(T0 + 59, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-25T10:00:59Z");
	assert_int_equal(report_time_format(REPORT_TIME_NONE_LOW, buf,
	    sizeof(buf)), -1);
	assert_int_equal(report_time_format(REPORT_TIME_NONE_HIGH, buf,
	    sizeof(buf)), -1);
	assert_int_equal(report_time_format(0, buf, sizeof(buf) - 1), -1);
}

static void
test_time_parse(void **state)
{
	const int64_t now = T0 + 1234;
	const char *errstr;
	int64_t t;

	(void)state;
	assert_int_equal(report_time_parse("all", now, REPORT_TIME_NONE_LOW,
	    &t, &errstr), 0);
	assert_true(t == REPORT_TIME_NONE_LOW);
	assert_int_equal(report_time_parse("all", now, REPORT_TIME_NONE_HIGH,
	    &t, &errstr), 0);
	assert_true(t == REPORT_TIME_NONE_HIGH);
	assert_int_equal(report_time_parse("now", now, 0, &t, &errstr), 0);
	assert_int_equal(t, now);
	assert_int_equal(report_time_parse("1h", now, 0, &t, &errstr), 0);
	assert_int_equal(t, now - 3600);
	assert_int_equal(report_time_parse("2026-11-25T10:00:00Z", now, 0,
	    &t, &errstr), 0);
	assert_int_equal(t, T0);
	assert_int_equal(report_time_parse("2026-11-25", now, 0, &t,
	    &errstr), 0);
	assert_int_equal(t, T0 - 36000);
	assert_int_equal(report_time_parse("2026-11-31", now, 0, &t,
	    &errstr), -1);
	assert_int_equal(report_time_parse("yesterday", now, 0, &t,
	    &errstr), -1);
	assert_int_equal(report_time_parse("ALL", now, 0, &t, &errstr), -1);
	assert_int_equal(report_time_parse("", now, 0, &t, &errstr), -1);
}

/* --- report_format.c ------------------------------------------------- */

static void
test_bytes(void **state)
{
	static const struct {
		int64_t		 v;
		const char	*out;
	} cases[] = {
		{ 0, "0 B" }, { 1, "1 B" }, { 1023, "1023 B" },
		{ 1024, "1.0 KiB" }, { 1126, "1.1 KiB" }, { 1075, "1.0 KiB" },
		{ 1076, "1.1 KiB" }, { 1536, "1.5 KiB" },
		{ 1048524, "1023.9 KiB" }, { 1048525, "1.0 MiB" },
		{ 1048575, "1.0 MiB" }, { 1048576, "1.0 MiB" },
		{ 5900000, "5.6 MiB" }, { INT64_C(5368709120), "5.0 GiB" },
		{ INT64_C(1099511627776), "1.0 TiB" },
		{ INT64_C(1125899906842624), "1.0 PiB" },
		{ INT64_C(1152921504606846976), "1.0 EiB" },
		{ INT64_MAX, "8.0 EiB" }, { -5, "-5 B" },
		{ INT64_MIN, "-9223372036854775808 B" },
	};
	char buf[REPORT_BYTES_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(report_format_bytes(cases[i].v, buf,
		    sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].out);
	}
	assert_int_equal(report_format_bytes(1536, buf, 7), -1);
	assert_int_equal(report_format_bytes(1536, buf, 8), 0);
}

static void
test_csv_field(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "plain", "plain" }, { "", "" }, { "a b", "a b" },
		{ "a,b", "\"a,b\"" }, { "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "\"", "\"\"\"\"" }, { "a\nb", "\"a\nb\"" },
		{ "a\rb", "\"a\rb\"" }, { "2001:db8::1", "2001:db8::1" },
		{ "x;y\t", "x;y\t" },
	};
	struct capture c;
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		capture_open(&c);
		report_format_csv_field(c.fp, cases[i].in);
		out = capture_close(&c);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

static void
test_json_string(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "plain", "\"plain\"" }, { "", "\"\"" },
		{ "a\"b\\c/", "\"a\\\"b\\\\c/\"" },
		{ "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\"" },
		{ "\xff", "\"\\ufffd\"" },
		{ "a\x80z", "\"a\\ufffdz\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },
		{ "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"" },
	};
	struct capture c;
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		capture_open(&c);
		report_format_json_string(c.fp, cases[i].in);
		out = capture_close(&c);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

static void
test_format_parse(void **state)
{
	enum report_fmt fmt;

	(void)state;
	assert_int_equal(report_format_parse("table", &fmt), 0);
	assert_int_equal(fmt, REPORT_FMT_TABLE);
	assert_int_equal(report_format_parse("csv", &fmt), 0);
	assert_int_equal(fmt, REPORT_FMT_CSV);
	assert_int_equal(report_format_parse("json", &fmt), 0);
	assert_int_equal(fmt, REPORT_FMT_JSON);
	assert_int_equal(report_format_parse("JSON", &fmt), -1);
	assert_int_equal(report_format_parse("", &fmt), -1);
}

/* A hand-made two-row result: odd text, a NULL, a big number. */
static const struct report_column fx_cols[] = {
	{ "name",	REPORT_COL_TEXT },
	{ "n",		REPORT_COL_COUNT },
	{ "bytes",	REPORT_COL_BYTES },
};
static const struct report_def fx_def = {
	"fixture", "SELECT 1", fx_cols, NELEM(fx_cols)
};
static char fx_text0[] = "a,\"b\"\n\x1b[31m";
static char fx_text1[] = "x";
static struct report_value fx_cells[] = {
	{ fx_text0, 0, 0 }, { NULL, 12345, 0 }, { NULL, 5368709120, 0 },
	{ fx_text1, 0, 0 }, { NULL, 0, 1 }, { NULL, 7, 0 },
};

static char *
format_fixture(enum report_fmt fmt, size_t nrows,
    const struct report_window *win)
{
	struct report_result res = { &fx_def, fx_cells, nrows, nrows };
	struct capture c;

	capture_open(&c);
	assert_int_equal(report_format_write(c.fp, fmt, &res, win), 0);
	return capture_close(&c);
}

static void
test_write_formats(void **state)
{
	const struct report_window win = { T0, T1, 10 };
	const struct report_window all = { REPORT_TIME_NONE_LOW,
	    REPORT_TIME_NONE_HIGH, 3 };
	char *out;

	(void)state;
	out = format_fixture(REPORT_FMT_TABLE, 2, &win);
	assert_string_equal(out,
	    "name             n    bytes\n"
	    "a,\"b\"??[31m  12345  5.0 GiB\n"
	    "x                       7 B\n");
	free(out);
	out = format_fixture(REPORT_FMT_TABLE, 0, &win);
	assert_string_equal(out, "name  n  bytes\n");
	free(out);
	out = format_fixture(REPORT_FMT_CSV, 2, &win);
	assert_string_equal(out,
	    "name,n,bytes\r\n"
	    "\"a,\"\"b\"\"\n\x1b[31m\",12345,5368709120\r\n"
	    "x,,7\r\n");
	free(out);
	out = format_fixture(REPORT_FMT_JSON, 2, &win);
	assert_string_equal(out,
	    "{\"report\":\"fixture\",\"since\":\"2026-11-25T10:00:00Z\","
	    "\"since_epoch\":1795600800,\"until\":\"2026-11-25T11:00:00Z\","
	    "\"until_epoch\":1795604400,\"limit\":10,\"rows\":[\n"
	    "{\"name\":\"a,\\\"b\\\"\\n\\u001b[31m\",\"n\":12345,"
	    "\"bytes\":5368709120},\n"
	    "{\"name\":\"x\",\"n\":null,\"bytes\":7}\n"
	    "]}\n");
	free(out);
	out = format_fixture(REPORT_FMT_JSON, 0, &all);
	assert_string_equal(out,
	    "{\"report\":\"fixture\",\"since\":null,\"since_epoch\":null,"
	    "\"until\":null,\"until_epoch\":null,\"limit\":3,\"rows\":[]}\n");
	free(out);
}

/* --- report_query.c -------------------------------------------------- */

static const char fixture_sql[] =
    "INSERT INTO agent VALUES (1, 'a', 1, 1, 60, 1, 1);"
    "INSERT INTO iface VALUES (1, 1, 'eth0');"
    "INSERT INTO address VALUES (1, X'040A000001', 4, '10.0.0.1'),"
    "  (2, X'040A000002', 4, '10.0.0.2'), (3, X'04C0000201', 4, '192.0.2.1'),"
    "  (4, X'0620010DB8000000000000000000000001', 6, '2001:db8::1');"
    /* host_stat: 1 has 300 (200 in, 100 out), 2 and 4 tie at 150. */
    "INSERT INTO host_stat VALUES"
    "  (1795600800, 60, 1, 1, 6, 0, 2, 200, 228, 1),"	/* at since */
    "  (1795604340, 60, 1, 1, 17, 1, 1, 100, 114, 1),"	/* last bucket */
    "  (1795604400, 60, 1, 1, 6, 0, 1, 5000, 5014, 1),"	/* at until */
    "  (1795600740, 60, 1, 2, 6, 0, 1, 5000, 5014, 1),"	/* before */
    "  (1795600800, 60, 1, 2, 6, 1, 3, 150, 192, 1),"
    "  (1795600800, 60, 1, 4, 58, 0, 1, 150, 164, 1);"
    "INSERT INTO port_stat VALUES"
    "  (1795600800, 60, 1, 1, 6, 443, 0, 2, 200, 228, 1),"
    "  (1795600800, 60, 1, 2, 6, 443, 1, 3, 150, 192, 1),"
    "  (1795600800, 60, 1, 1, 17, 53, 1, 1, 100, 114, 1),"
    "  (1795600800, 60, 1, 2, 6, 22, 1, 1, 100, 114, 1),"
    "  (1795604400, 60, 1, 1, 17, 53, 1, 1, 9999, 9999, 1);"
    "INSERT INTO peer_stat VALUES"
    "  (1795600800, 60, 1, 1, 3, 6, 0, 2, 200, 228, 1),"
    "  (1795600800, 60, 1, 2, 3, 6, 1, 3, 200, 242, 1),"
    "  (1795600800, 60, 1, 1, 2, 17, 1, 1, 100, 114, 1),"
    "  (1795600740, 60, 1, 1, 2, 17, 1, 1, 9999, 9999, 1);";

static int
db_setup(void **state)
{
	sqlite3 *db;
	const char *errstr;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	if (schema_migrate(db, &errstr) == -1 ||
	    sqlite3_exec(db, fixture_sql, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	*state = db;
	return 0;
}

static int
db_teardown(void **state)
{
	sqlite3_close(*state);
	return 0;
}

/* Runs a report and checks it against rows of expected cells as text. */
static void
check_report(sqlite3 *db, const char *name, int64_t since, int64_t until,
    int64_t limit, const char *const *expect, size_t nexpect)
{
	const struct report_def *def;
	struct report_result res;
	const struct report_value *v;
	const char *errstr = NULL;
	char num[32];
	size_t i;

	def = report_query_find(name);
	assert_non_null(def);
	report_result_init(&res);
	if (report_query_run(db, def, since, until, limit, &res,
	    &errstr) == -1)
		fail_msg("%s: %s", name, errstr);
	assert_int_equal(res.nrows * def->ncols, nexpect);
	for (i = 0; i < nexpect; i++) {
		v = &res.cells[i];
		assert_false(v->isnull);
		if (def->cols[i % def->ncols].type == REPORT_COL_TEXT) {
			assert_string_equal(v->text, expect[i]);
		} else {
			snprintf(num, sizeof(num), "%lld", (long long)v->num);
			assert_string_equal(num, expect[i]);
		}
	}
	report_result_clear(&res);
	report_result_clear(&res);		/* idempotent */
}

static void
test_query_hosts(void **state)
{
	static const char *const window[] = {
		"10.0.0.1", "ipv4", "300", "200", "100", "3", "342",
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
		"2001:db8::1", "ipv6", "150", "150", "0", "1", "164",
	};
	static const char *const limited[] = {
		"10.0.0.1", "ipv4", "300", "200", "100", "3", "342",
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
	};
	static const char *const everything[] = {
		"10.0.0.1", "ipv4", "5300", "5200", "100", "4", "5356",
		"10.0.0.2", "ipv4", "5150", "5000", "150", "4", "5206",
		"2001:db8::1", "ipv6", "150", "150", "0", "1", "164",
	};
	static const char *const at_until[] = {
		"10.0.0.1", "ipv4", "5000", "5000", "0", "1", "5014",
	};
	static const char *const before[] = {
		"10.0.0.2", "ipv4", "5000", "5000", "0", "1", "5014",
	};

	check_report(*state, "hosts", T0, T1, 10, window, NELEM(window));
	check_report(*state, "hosts", T0, T1, 2, limited, NELEM(limited));
	check_report(*state, "hosts", REPORT_TIME_NONE_LOW,
	    REPORT_TIME_NONE_HIGH, 10, everything, NELEM(everything));
	check_report(*state, "hosts", T1, T1 + 60, 10, at_until,
	    NELEM(at_until));
	check_report(*state, "hosts", T0 - 3600, T0, 10, before,
	    NELEM(before));
	check_report(*state, "hosts", T0 + 60, T1 - 60, 10, NULL, 0);
}

static void
test_query_ports(void **state)
{
	static const char *const window[] = {
		"tcp", "443", "350", "200", "150", "5", "420",
		"tcp", "22", "100", "0", "100", "1", "114",
		"udp", "53", "100", "0", "100", "1", "114",
	};

	check_report(*state, "ports", T0, T1, 10, window, NELEM(window));
}

static void
test_query_peers(void **state)
{
	static const char *const window[] = {
		"10.0.0.1", "192.0.2.1", "200", "200", "0", "2", "228",
		"10.0.0.2", "192.0.2.1", "200", "0", "200", "3", "242",
		"10.0.0.1", "10.0.0.2", "100", "0", "100", "1", "114",
	};

	check_report(*state, "peers", T0, T1, 10, window, NELEM(window));
}

static void
test_query_protocols(void **state)
{
	static const char *const window[] = {
		"tcp", "350", "200", "150", "5", "420",
		"icmpv6", "150", "150", "0", "1", "164",
		"udp", "100", "0", "100", "1", "114",
	};

	check_report(*state, "protocols", T0, T1, 10, window, NELEM(window));
}

static void
test_query_table(void **state)
{
	const struct report_def *all;
	size_t n, i, c;

	(void)state;
	all = report_query_all(&n);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(report_query_find(all[i].name), &all[i]);
		assert_true(all[i].ncols <= 16);
		/* Every report ends with the same five totals. */
		assert_string_equal(all[i].cols[all[i].ncols - 5].name,
		    "bytes");
		for (c = 0; c < all[i].ncols; c++)
			assert_non_null(all[i].cols[c].name);
	}
	assert_null(report_query_find("host"));
	assert_null(report_query_find(""));
	assert_null(report_query_find("HOSTS"));
}

/* A database without the views fails cleanly with sqlite's reason. */
static void
test_query_no_views(void **state)
{
	struct report_result res;
	const char *errstr = NULL;
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	report_result_init(&res);
	assert_int_equal(report_query_run(db, report_query_find("hosts"),
	    T0, T1, 10, &res, &errstr), -1);
	assert_non_null(strstr(errstr, "host_traffic"));
	assert_int_equal(res.nrows, 0);
	report_result_clear(&res);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_iso),
		cmocka_unit_test(test_iso_round_trip),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_write_formats),
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_no_views),
		cmocka_unit_test_setup_teardown(test_query_hosts, db_setup,
		    db_teardown),
		cmocka_unit_test_setup_teardown(test_query_ports, db_setup,
		    db_teardown),
		cmocka_unit_test_setup_teardown(test_query_peers, db_setup,
		    db_teardown),
		cmocka_unit_test_setup_teardown(test_query_protocols, db_setup,
		    db_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
