/*
 * test_report.c - unit tests of the nettally command's modules:
 * report_time.c (durations, ISO times), report_format.c (units, CSV
 * quoting, JSON escaping, whole table/csv/json output, rates),
 * report_query.c (each report's SQL over an in-memory database built by
 * schema_migrate: window bounds, sums, order of ties, limit, rates, the
 * 95th percentile; the counter table reads give the views' rows),
 * report_filter.c (CIDR, port, direction, protocol,
 * each filter's effect), report_series.c, report_summary.c,
 * report_alert.c and report_status.c's output.
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

#include "report_alert.h"
#include "report_filter.h"
#include "report_format.h"
#include "report_query.h"
#include "report_series.h"
#include "report_status.h"
#include "report_summary.h"
#include "report_time.h"
#include "satsum.h"
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
	assert_int_equal(report_time_parse("10000-01-01", now, 0, &t,
	    &errstr), -1);
	assert_string_equal(errstr, "years run from 0001 to 9999");
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
		/* C1 (CSI 2J), a lone 9B, ESC, DEL: '?', as in a table. */
		{ "a\xc2\x9b" "2J\x9b" "2J\x1b[0m\x7f", "a?2J?2J?[0m?" },
		{ "caf\xc3\xa9,\xc2\xa0", "\"caf\xc3\xa9,\xc2\xa0\"" },
		/* RLO, LRI..PDI, RLM, ALM: '?'; their neighbours shown. */
		{ "lab:\xe2\x80\xae" "0hte", "lab:?0hte" },
		{ "\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c",
		    "?x???" },
		{ "\xe2\x80\xa9\xe2\x81\xaa\xd8\x9b",
		    "\xe2\x80\xa9\xe2\x81\xaa\xd8\x9b" },
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
		/* C1 as UTF-8, CSI 2J among them: escaped, not raw. */
		{ "a\xc2\x9b" "2J\xc2\x80\xc2\x9f", "\"a\\u009b2J\\u0080\\u009f\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "\xc2\xa0\xc2\xbf", "\"\xc2\xa0\xc2\xbf\"" },
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
		/* Bidirectional controls: escaped, their neighbours raw. */
		{ "lab:\xe2\x80\xae" "0hte",
		    "\"lab:\\u202e0hte\"" },
		{ "\xe2\x80\x8e\xe2\x80\xaa\xe2\x81\xa9\xd8\x9c\xe2\x80\xa9",
		    "\"\\u200e\\u202a\\u2069\\u061c\xe2\x80\xa9\"" },
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
static char fx_text0[] = "a,\"b\"\n\x1b[31m";
static char fx_text1[] = "x";
static struct report_value fx_cells[] = {
	{ fx_text0, 0, 0, 0 }, { NULL, 12345, 0, 0 },
	{ NULL, 5368709120, 0, 0 },
	{ fx_text1, 0, 0, 0 }, { NULL, 0, 0, 1 }, { NULL, 7, 0, 0 },
};

static char *
format_fixture(enum report_fmt fmt, size_t nrows,
    const struct report_window *win)
{
	struct report_result res;
	struct capture c;
	size_t i;

	memset(&res, 0, sizeof(res));
	res.name = "fixture";
	for (i = 0; i < NELEM(fx_cols); i++)
		res.cols[i] = fx_cols[i];
	res.ncols = NELEM(fx_cols);
	res.cells = fx_cells;
	res.nrows = res.cap = nrows;

	capture_open(&c);
	assert_int_equal(report_format_write(c.fp, fmt, &res, win), 0);
	return capture_close(&c);
}

static void
test_write_formats(void **state)
{
	const struct report_window win = { T0, T1, 10, 0, 0, 0, 0 };
	const struct report_window all = { REPORT_TIME_NONE_LOW,
	    REPORT_TIME_NONE_HIGH, 3, 0, 0, 0, 0 };
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
	    "\"a,\"\"b\"\"\n?[31m\",12345,5368709120\r\n"
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

/*
 * The lines after a table count buckets, pages and resolutions: a count
 * of 1 takes the singular ("1 bucket", not "1 buckets"), any other the
 * plural.
 */
static char *
tiers_text(int64_t n, size_t nmore)
{
	struct report_result res;
	struct report_part part = { 300, T0, T0, T0 + 300, 0 };
	struct capture c;

	memset(&res, 0, sizeof(res));
	res.name = "fixture";
	res.has_tiers = 1;
	res.tiers.part[0] = part;
	res.tiers.n = 1;
	res.tiers.nmore = nmore;
	res.has_dbinfo = 1;
	res.dbinfo.page_count = n;
	res.dbinfo.page_size = 4096;
	part.nbuckets = n;
	res.dbinfo.cover.part[0] = part;
	res.dbinfo.cover.n = 1;
	res.dbinfo.cover.nmore = nmore;
	capture_open(&c);
	assert_int_equal(report_format_write(c.fp, REPORT_FMT_TABLE, &res,
	    NULL), 0);
	return capture_close(&c);
}

static void
test_write_plurals(void **state)
{
	char *out;

	(void)state;
	out = tiers_text(1, 1);
	assert_string_equal(out,
	    "\n"
	    "resolution: 5 min (raw tier), 2026-11-25T10:00:00Z .. "
	    "2026-11-25T10:05:00Z\n"
	    "resolution: and 1 more resolution\n"
	    "database: 4.0 KiB, 1 page of 4096 B, 0 free; no -wal file\n"
	    "tier raw (5 min): oldest bucket 2026-11-25T10:00:00Z, newest "
	    "2026-11-25T10:00:00Z, 1 bucket\n"
	    "tiers: and 1 more resolution\n");
	free(out);
	out = tiers_text(2, 2);
	assert_string_equal(out,
	    "\n"
	    "resolution: 5 min (raw tier), 2026-11-25T10:00:00Z .. "
	    "2026-11-25T10:05:00Z\n"
	    "resolution: and 2 more resolutions\n"
	    "database: 8.0 KiB, 2 pages of 4096 B, 0 free; no -wal file\n"
	    "tier raw (5 min): oldest bucket 2026-11-25T10:00:00Z, newest "
	    "2026-11-25T10:00:00Z, 2 buckets\n"
	    "tiers: and 2 more resolutions\n");
	free(out);
}

/* --- report_query.c -------------------------------------------------- */

static const char fixture_sql[] =
    "DELETE FROM address;"		/* ids are the fixture's own */
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
	int code;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	if (schema_migrate(db, &code, &errstr) == -1 ||
	    satsum_register(db) != SQLITE_OK ||
	    report_filter_register(db, &errstr) == -1 ||
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

/*
 * Runs a report under filter f (NULL: none) and checks it against rows of
 * expected cells as text: every column, rates with 3 decimals.
 */
static void
check_filtered(sqlite3 *db, const char *name, int64_t since, int64_t until,
    int64_t limit, int p95, const struct report_filter *f,
    const char *const *expect, size_t nexpect)
{
	const struct report_def *def;
	struct report_filter none;
	struct report_result res;
	struct report_args a;
	const struct report_value *v;
	const char *errstr = NULL;
	char num[32];
	size_t i;

	report_filter_init(&none);
	a.since = since;
	a.until = until;
	a.limit = limit;
	a.p95 = p95;
	a.filter = f != NULL ? f : &none;
	def = report_query_find(name);
	assert_non_null(def);
	report_result_init(&res);
	if (report_query_run(db, def, &a, &res, &errstr) != 0)
		fail_msg("%s: %s", name, errstr);
	assert_int_equal(res.nrows * res.ncols, nexpect);
	for (i = 0; i < nexpect; i++) {
		v = &res.cells[i];
		assert_false(v->isnull);
		switch (res.cols[i % res.ncols].type) {
		case REPORT_COL_TEXT:
			assert_string_equal(v->text, expect[i]);
			continue;
		case REPORT_COL_RATE:
			snprintf(num, sizeof(num), "%.3f", v->real);
			break;
		default:
			snprintf(num, sizeof(num), "%lld", (long long)v->num);
		}
		assert_string_equal(num, expect[i]);
	}
	report_result_clear(&res);
	report_result_clear(&res);		/* idempotent */
}

static void
check_report(sqlite3 *db, const char *name, int64_t since, int64_t until,
    int64_t limit, const char *const *expect, size_t nexpect)
{
	check_filtered(db, name, since, until, limit, 0, NULL, expect,
	    nexpect);
}

static void
test_query_hosts(void **state)
{
	static const char *const window[] = {
		"10.0.0.1", "ipv4", "300", "200", "100", "3", "342",
		    "0.444", "0.222",
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
		    "0.000", "0.333",
		"2001:db8::1", "ipv6", "150", "150", "0", "1", "164",
		    "0.333", "0.000",
	};
	static const char *const limited[] = {
		"10.0.0.1", "ipv4", "300", "200", "100", "3", "342",
		    "0.444", "0.222",
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
		    "0.000", "0.333",
	};
	static const char *const everything[] = {
		"10.0.0.1", "ipv4", "5300", "5200", "100", "4", "5356",
		    "11.183", "0.215",
		"10.0.0.2", "ipv4", "5150", "5000", "150", "4", "5206",
		    "10.753", "0.323",
		"2001:db8::1", "ipv6", "150", "150", "0", "1", "164",
		    "0.323", "0.000",
	};
	static const char *const at_until[] = {
		"10.0.0.1", "ipv4", "5000", "5000", "0", "1", "5014",
		    "666.667", "0.000",
	};
	static const char *const before[] = {
		"10.0.0.2", "ipv4", "5000", "5000", "0", "1", "5014",
		    "11.111", "0.000",
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
		    "0.444", "0.333",
		"tcp", "22", "100", "0", "100", "1", "114",
		    "0.000", "0.222",
		"udp", "53", "100", "0", "100", "1", "114",
		    "0.000", "0.222",
	};

	check_report(*state, "ports", T0, T1, 10, window, NELEM(window));
}

static void
test_query_peers(void **state)
{
	static const char *const window[] = {
		"10.0.0.1", "192.0.2.1", "200", "200", "0", "2", "228",
		    "0.444", "0.000",
		"10.0.0.2", "192.0.2.1", "200", "0", "200", "3", "242",
		    "0.000", "0.444",
		"10.0.0.1", "10.0.0.2", "100", "0", "100", "1", "114",
		    "0.000", "0.222",
	};

	check_report(*state, "peers", T0, T1, 10, window, NELEM(window));
}

static void
test_query_protocols(void **state)
{
	static const char *const window[] = {
		"tcp", "350", "200", "150", "5", "420",
		    "0.444", "0.333",
		"icmpv6", "150", "150", "0", "1", "164",
		    "0.333", "0.000",
		"udp", "100", "0", "100", "1", "114",
		    "0.000", "0.222",
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
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(report_query_find(all[i].name), &all[i]);
		/* Keys, 7 totals and rates, 2 percentiles must fit. */
		assert_true(all[i].nkeys + 9 <= REPORT_MAXCOLS);
		for (c = 0; c < all[i].nkeys; c++)
			assert_non_null(all[i].cols[c].name);
	}
	assert_non_null(report_query_find("agents"));
	assert_non_null(report_query_find("interfaces"));
	assert_null(report_query_find("host"));
	assert_null(report_query_find(""));
	assert_null(report_query_find("HOSTS"));
}

/* A database without the views fails cleanly with sqlite's reason. */
static void
test_query_no_views(void **state)
{
	struct report_filter f;
	struct report_result res;
	struct report_args a = { T0, T1, 10, 0, NULL };
	const char *errstr = NULL;
	sqlite3 *db;

	(void)state;
	report_filter_init(&f);
	a.filter = &f;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(report_filter_register(db, &errstr), 0);
	report_result_init(&res);
	assert_int_equal(report_query_run(db, report_query_find("hosts"),
	    &a, &res, &errstr), -1);
	assert_non_null(strstr(errstr, "host_traffic"));
	assert_int_equal(res.nrows, 0);
	report_result_clear(&res);
	sqlite3_close(db);
}

/* --- report_filter.c ------------------------------------------------- */

static void
test_filter_host(void **state)
{
	static const struct {
		const char	*in;
		const char	*net;		/* NULL: rejected */
		int		 single;
	} cases[] = {
		{ "10.0.0.1", "10.0.0.1/32", 1 },
		{ "10.1.2.3/8", "10.0.0.0/8", 0 },
		{ "10.255.255.255/9", "10.128.0.0/9", 0 },
		{ "0.0.0.0/0", "0.0.0.0/0", 0 },
		{ "2001:DB8::1", "2001:db8::1/128", 1 },
		{ "2001:db8:ffff::1/33", "2001:db8:8000::/33", 0 },
		{ "::/0", "::/0", 0 },
		{ "10.0.0.1/33", NULL, 0 }, { "2001:db8::/129", NULL, 0 },
		{ "10.0.0.1/", NULL, 0 }, { "/8", NULL, 0 },
		{ "10.0.0/8", NULL, 0 }, { "10.0.0.1/8x", NULL, 0 },
		{ "10.0.0.1/-1", NULL, 0 }, { "host", NULL, 0 },
		{ "", NULL, 0 }, { "10.0.0.1/0008", NULL, 0 },
	};
	struct report_filter f;
	const char *errstr;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		report_filter_init(&f);
		if (cases[i].net == NULL) {
			if (report_filter_host(cases[i].in, &f, &errstr) != -1)
				fail_msg("accepted \"%s\"", cases[i].in);
			assert_false(f.has_host);
			continue;
		}
		if (report_filter_host(cases[i].in, &f, &errstr) == -1)
			fail_msg("rejected \"%s\": %s", cases[i].in, errstr);
		assert_string_equal(f.host_net, cases[i].net);
		assert_int_equal(f.host_single, cases[i].single);
	}
}

static void
test_filter_port_dir(void **state)
{
	const char *errstr;
	int v;

	(void)state;
	assert_int_equal(report_filter_port("0", &v, &errstr), 0);
	assert_int_equal(v, 0);
	assert_int_equal(report_filter_port("65535", &v, &errstr), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(report_filter_port("65536", &v, &errstr), -1);
	assert_int_equal(report_filter_port("99999999999", &v, &errstr), -1);
	assert_int_equal(report_filter_port("", &v, &errstr), -1);
	assert_int_equal(report_filter_port("-1", &v, &errstr), -1);
	assert_int_equal(report_filter_port("80x", &v, &errstr), -1);
	assert_int_equal(report_filter_direction("in", &v, &errstr), 0);
	assert_int_equal(v, 0);
	assert_int_equal(report_filter_direction("out", &v, &errstr), 0);
	assert_int_equal(v, 1);
	assert_int_equal(report_filter_direction("IN", &v, &errstr), -1);
}

static void
test_filter_proto_known(void **state)
{
	sqlite3 *db = *state;
	struct report_filter f;
	const char *errstr;
	int v;

	assert_int_equal(report_filter_proto(db, "tcp", &v, &errstr), 0);
	assert_int_equal(v, 6);
	assert_int_equal(report_filter_proto(db, "icmpv6", &v, &errstr), 0);
	assert_int_equal(v, 58);
	assert_int_equal(report_filter_proto(db, "200", &v, &errstr), 0);
	assert_int_equal(v, 200);
	assert_int_equal(report_filter_proto(db, "256", &v, &errstr), 1);
	assert_int_equal(report_filter_proto(db, "TCP", &v, &errstr), 1);
	assert_int_equal(report_filter_proto(db, "", &v, &errstr), 1);
	report_filter_init(&f);
	assert_int_equal(report_filter_host("10.0.0.2", &f, &errstr), 0);
	assert_int_equal(report_filter_host_known(db, &f, &errstr), 1);
	assert_int_equal(report_filter_host("2001:db8::1", &f, &errstr), 0);
	assert_int_equal(report_filter_host_known(db, &f, &errstr), 1);
	assert_int_equal(report_filter_host("10.0.0.3", &f, &errstr), 0);
	assert_int_equal(report_filter_host_known(db, &f, &errstr), 0);
}

/* Each filter, alone and combined, over the same fixture. */
static void
test_query_filters(void **state)
{
	static const char *const net8[] = {
		"10.0.0.1", "ipv4", "300", "200", "100", "3", "342",
		    "0.444", "0.222",
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
		    "0.000", "0.333",
	};
	static const char *const v6[] = {
		"2001:db8::1", "ipv6", "150", "150", "0", "1", "164",
		    "0.333", "0.000",
	};
	static const char *const udp[] = {
		"10.0.0.1", "ipv4", "100", "0", "100", "1", "114",
		    "0.000", "0.222",
	};
	static const char *const out[] = {
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
		    "0.000", "0.333",
		"10.0.0.1", "ipv4", "100", "0", "100", "1", "114",
		    "0.000", "0.222",
	};
	static const char *const port443[] = {
		"10.0.0.1", "ipv4", "200", "200", "0", "2", "228",
		    "0.444", "0.000",
		"10.0.0.2", "ipv4", "150", "0", "150", "3", "192",
		    "0.000", "0.333",
	};
	static const char *const port443in[] = {
		"tcp", "200", "200", "0", "2", "228", "0.444", "0.000",
	};
	static const char *const agents[] = {
		"a", "600", "350", "250", "7", "698", "0.778", "0.556",
	};
	struct report_filter f;
	const char *errstr;

	report_filter_init(&f);
	assert_int_equal(report_filter_host("10.0.0.0/8", &f, &errstr), 0);
	check_filtered(*state, "hosts", T0, T1, 10, 0, &f, net8, NELEM(net8));
	report_filter_init(&f);
	assert_int_equal(report_filter_host("2001:db8::/32", &f, &errstr), 0);
	check_filtered(*state, "hosts", T0, T1, 10, 0, &f, v6, NELEM(v6));
	report_filter_init(&f);
	f.proto = 17;
	check_filtered(*state, "hosts", T0, T1, 10, 0, &f, udp, NELEM(udp));
	report_filter_init(&f);
	f.direction = 1;
	check_filtered(*state, "hosts", T0, T1, 10, 0, &f, out, NELEM(out));
	report_filter_init(&f);
	f.port = 443;
	check_filtered(*state, "hosts", T0, T1, 10, 0, &f, port443,
	    NELEM(port443));
	f.direction = 0;
	check_filtered(*state, "protocols", T0, T1, 10, 0, &f, port443in,
	    NELEM(port443in));
	report_filter_init(&f);
	check_filtered(*state, "agents", T0, T1, 10, 0, &f, agents,
	    NELEM(agents));
	f.agent = "a";
	f.iface = "eth0";
	check_filtered(*state, "agents", T0, T1, 10, 0, &f, agents,
	    NELEM(agents));
	f.agent = "b";
	check_filtered(*state, "agents", T0, T1, 10, 0, &f, NULL, 0);
	f.agent = NULL;
	f.iface = "eth1";
	check_filtered(*state, "hosts", T0, T1, 10, 0, &f, NULL, 0);
}

/*
 * --95th: host 10.0.0.5 has 40 one-minute buckets of known rates in a
 * window of 40 buckets: the 95th percentile is the 3rd largest (40 / 20
 * + 1); over 100 buckets with only 40 busy, the 6th largest.
 */
static void
test_query_p95(void **state)
{
	static const char sql[] =
	    "INSERT INTO address VALUES (9, X'040A000005', 4, '10.0.0.5');"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    "  WHERE i < 40)"
	    " INSERT INTO host_stat SELECT 1795000000 + 60 * i, 60, 1, 9, 6,"
	    "  i % 2, 1, 75 * i * (i % 2 + 1), 0, 1 FROM n;";
	/*
	 * in: even i, 75 * i bytes, 10 * i bit/s: i = 40, 38, 36 -> 360;
	 * out: odd i, 150 * i bytes, 20 * i bit/s: 39, 37, 35 -> 700.
	 */
	static const char *const w40[] = {
		"10.0.0.5", "ipv4", "91500", "31500", "60000", "40", "0",
		    "105.000", "200.000", "360.000", "700.000",
	};
	/* 6th largest: in i = 30 -> 300 bit/s; out i = 29 -> 580 bit/s */
	static const char *const w100[] = {
		"10.0.0.5", "ipv4", "91500", "31500", "60000", "40", "0",
		    "42.000", "80.000", "300.000", "580.000",
	};
	struct report_filter f;
	const char *errstr;

	assert_int_equal(sqlite3_exec(*state, sql, NULL, NULL, NULL),
	    SQLITE_OK);
	report_filter_init(&f);
	assert_int_equal(report_filter_host("10.0.0.5", &f, &errstr), 0);
	check_filtered(*state, "hosts", 1795000060, 1795000060 + 2400, 10, 1,
	    &f, w40, NELEM(w40));
	check_filtered(*state, "hosts", 1795000060, 1795000060 + 6000, 10, 1,
	    &f, w100, NELEM(w100));
}

/*
 * The reports read the counter tables (report_query_table); their rows
 * must be those of the view each is defined on.  A seeded mix of agents,
 * interfaces, hosts, peers, protocols (one without a name), ports and
 * directions, with many ties, is asked every top report under each
 * filter, with and without --95th, and each result is compared cell by
 * cell with the view's query, as the reports wrote it before reading
 * tables: texts, integers and rates exactly.
 */
static const char view_top[] =
    "SELECT %s, nt_sum(bytes), %s, %s, nt_sum(packets), nt_sum(frame_bytes),"
    " %s * 8.0 / ?10, %s * 8.0 / ?10 FROM %s%s GROUP BY %s"
    " ORDER BY nt_sum(bytes) DESC, %s LIMIT ?3";
static const char view_p95[] =
    "WITH per AS (SELECT %s, resolution, nt_sum(bytes) AS b, %s AS ib,"
    " %s AS ob, nt_sum(packets) AS p, nt_sum(frame_bytes) AS f FROM %s%s"
    " GROUP BY %s, bucket, resolution), ranked AS (SELECT *, ROW_NUMBER()"
    " OVER (PARTITION BY %s ORDER BY ib DESC) AS rni, ROW_NUMBER() OVER"
    " (PARTITION BY %s ORDER BY ob DESC) AS rno FROM per) SELECT %s,"
    " nt_sum(b), nt_sum(ib), nt_sum(ob), nt_sum(p), nt_sum(f),"
    " nt_sum(ib) * 8.0 / ?10, nt_sum(ob) * 8.0 / ?10,"
    " COALESCE(MAX(CASE WHEN rni = ?11 THEN ib * 8.0 / resolution END), 0),"
    " COALESCE(MAX(CASE WHEN rno = ?11 THEN ob * 8.0 / resolution END), 0)"
    " FROM ranked GROUP BY %s ORDER BY nt_sum(b) DESC, %s LIMIT ?3";
#define VIEW_IN		"nt_sum(CASE direction WHEN 'in' THEN bytes ELSE 0 END)"
#define VIEW_OUT	"nt_sum(CASE direction WHEN 'out' THEN bytes ELSE 0 END)"

/* Fills the tables with n seeded rows each (a key twice: kept once). */
static void
mix_fill(sqlite3 *db, int n)
{
	static const char setup[] =
	    "INSERT INTO agent VALUES (1, 'a', 1, 1, 60, 1, 1),"
	    "  (2, 'b', 1, 1, 60, 1, 1);"
	    "INSERT INTO iface VALUES (1, 1, 'eth0'), (2, 1, 'eth1'),"
	    "  (3, 2, 'eth0');"
	    "INSERT INTO address VALUES (101, X'040A000001', 4, '10.0.0.1'),"
	    "  (102, X'040A000002', 4, '10.0.0.2'),"
	    "  (103, X'040A000003', 4, '10.0.0.3'),"
	    "  (104, X'040A000009', 4, '10.0.0.9'),"
	    "  (105, X'04C0000201', 4, '192.0.2.1'),"
	    "  (106, X'04C0000202', 4, '192.0.2.2'),"
	    "  (107, X'0620010DB8000000000000000000000001', 6, '2001:db8::1');";
	/*
	 * ?1 bucket, ?2 iface, ?3 host, ?4 proto, ?5 direction (2 is out
	 * too, as the views say), ?6 packets, ?7 bytes, ?8 frame bytes, ?9
	 * the port or the peer.
	 */
	static const char ins[] =
	    "INSERT OR IGNORE INTO %s VALUES (?1, 60, ?2, ?3, %s, ?6, ?7, ?8,"
	    " 1)";
	static const char *const tables[3][2] = {
		{ "host_stat", "?4, ?5" }, { "port_stat", "?4, ?9, ?5" },
		{ "peer_stat", "?9, ?4, ?5" },
	};
	static const int protos[] = { 6, 17, 1, 200 };
	static const int ports[] = { 22, 53, 443 };
	sqlite3_stmt *st[3];
	char sql[256];
	uint32_t x = 12345;
	int i, t;

	assert_int_equal(sqlite3_exec(db, setup, NULL, NULL, NULL), SQLITE_OK);
	for (t = 0; t < 3; t++) {
		snprintf(sql, sizeof(sql), ins, tables[t][0], tables[t][1]);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st[t], NULL),
		    SQLITE_OK);
	}
#define NEXT(m)	(int)(((x = x * 1103515245u + 12345u) >> 16) % (m))
	for (i = 0; i < n; i++) {
		for (t = 0; t < 3; t++) {
			/* Buckets from one before the window to its end. */
			sqlite3_bind_int64(st[t], 1, T0 + 60 * (NEXT(62) - 1));
			sqlite3_bind_int(st[t], 2, 1 + NEXT(3));
			sqlite3_bind_int(st[t], 3, NEXT(8) == 0 ? 107 :
			    101 + NEXT(4));
			sqlite3_bind_int(st[t], 4, protos[NEXT(4)]);
			sqlite3_bind_int(st[t], 5, NEXT(3));
			sqlite3_bind_int(st[t], 6, 1 + NEXT(3));
			sqlite3_bind_int(st[t], 7, 100 * (1 + NEXT(4)));
			sqlite3_bind_int(st[t], 8, 500);
			sqlite3_bind_int(st[t], 9, t == 1 ? ports[NEXT(3)] :
			    101 + NEXT(7));
			assert_int_equal(sqlite3_step(st[t]), SQLITE_DONE);
			sqlite3_reset(st[t]);
		}
	}
#undef NEXT
	for (t = 0; t < 3; t++)
		sqlite3_finalize(st[t]);
}

/* Compares def's report under a with the view's query, cell by cell. */
static void
check_as_view(sqlite3 *db, const struct report_def *def,
    const struct report_args *a)
{
	struct report_result res;
	const struct report_value *v;
	const char *view, *where, *errstr = NULL, *k = def->keys;
	const char *o = def->order;
	sqlite3_stmt *st;
	char sql[4096];
	size_t row = 0, c;
	int n;

	report_result_init(&res);
	if (report_query_run(db, def, a, &res, &errstr) != 0)
		fail_msg("%s: %s", def->name, errstr);
	view = report_query_view(def->src, a->filter, &where);
	assert_non_null(view);
	if (a->p95)
		n = snprintf(sql, sizeof(sql), view_p95, k, VIEW_IN, VIEW_OUT,
		    view, where, k, k, k, k, k, o);
	else
		n = snprintf(sql, sizeof(sql), view_top, k, VIEW_IN, VIEW_OUT,
		    VIEW_IN, VIEW_OUT, view, where, k, o);
	assert_true(n > 0 && (size_t)n < sizeof(sql));
	st = report_query_prepare(db, sql, a, &errstr);
	if (st == NULL)
		fail_msg("%s: %s", def->name, errstr);
	/* A bounded window of 60 s buckets: 60 of them, rank 60 / 20 + 1. */
	assert_int_equal(sqlite3_bind_int64(st, REPORT_P_WINDOW,
	    a->until - a->since), SQLITE_OK);
	if (a->p95)
		assert_int_equal(sqlite3_bind_int64(st, REPORT_P_RANK,
		    (a->until - a->since) / 60 / 20 + 1), SQLITE_OK);
	assert_int_equal((size_t)sqlite3_column_count(st), res.ncols);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_true(row < res.nrows);
		for (c = 0; c < res.ncols; c++) {
			v = &res.cells[row * res.ncols + c];
			switch (res.cols[c].type) {
			case REPORT_COL_TEXT:
				assert_string_equal(v->text,
				    (const char *)sqlite3_column_text(st,
				    (int)c));
				break;
			case REPORT_COL_RATE:
			case REPORT_COL_REAL:
				assert_true(v->real ==
				    sqlite3_column_double(st, (int)c));
				break;
			default:
				assert_int_equal(v->num,
				    sqlite3_column_int64(st, (int)c));
			}
		}
		row++;
	}
	assert_int_equal(row, res.nrows);
	sqlite3_finalize(st);
	report_result_clear(&res);
}

static void
test_query_tables_as_views(void **state)
{
	static const int64_t limits[] = { 3, 1000 };
	struct report_filter f[9];
	const struct report_def *all;
	struct report_args a = { T0, T1, 0, 0, NULL };
	const char *errstr;
	size_t nall, i, j, l;
	int64_t nrows;
	sqlite3 *db = *state;
	sqlite3_stmt *st;

	/* A fresh database: the shared fixture's ids are not this one's. */
	assert_int_equal(sqlite3_exec(db, "DELETE FROM host_stat;"
	    "DELETE FROM port_stat; DELETE FROM peer_stat; DELETE FROM iface;"
	    "DELETE FROM agent; DELETE FROM address;", NULL, NULL, NULL),
	    SQLITE_OK);
	mix_fill(db, 3000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM"
	    " peer_stat", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	nrows = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_true(nrows > 1000);		/* mostly distinct keys */
	for (j = 0; j < NELEM(f); j++)
		report_filter_init(&f[j]);
	f[1].agent = "a";
	f[2].iface = "eth0";
	f[3].agent = "b";
	f[3].iface = "eth0";
	assert_int_equal(report_filter_host("10.0.0.0/31", &f[4], &errstr), 0);
	assert_int_equal(report_filter_host("10.0.0.9", &f[5], &errstr), 0);
	f[6].proto = 200;
	f[7].direction = 0;
	f[8].port = 53;
	f[8].direction = 1;
	all = report_query_all(&nall);
	for (i = 0; i < nall; i++)
		for (j = 0; j < NELEM(f); j++)
			for (l = 0; l < NELEM(limits) * 2; l++) {
				if (all[i].src == REPORT_SRC_PEER &&
				    f[j].port >= 0)
					continue;
				a.filter = &f[j];
				a.limit = limits[l % NELEM(limits)];
				a.p95 = l >= NELEM(limits);
				check_as_view(db, &all[i], &a);
			}
}

/* --- report_series.c, report_summary.c ------------------------------- */

static void
test_series(void **state)
{
	struct report_filter f;
	struct report_result res;
	struct report_args a = { T0, T0 + 300, 0, 0, NULL };
	const char *errstr = NULL;
	int64_t step = 0;

	report_filter_init(&f);
	a.filter = &f;
	assert_int_equal(report_filter_host("10.0.0.0/8", &f, &errstr), 0);
	report_result_init(&res);
	if (report_series_run(*state, &a, &step, 0, &res, &errstr) != 0)
		fail_msg("series: %s", errstr);
	assert_int_equal(step, 60);
	assert_int_equal(res.nrows, 5);
	assert_int_equal(res.ncols, 9);
	/* Row 0: 10.0.0.1 200 in, 10.0.0.2 150 out; others zero. */
	assert_string_equal(res.cells[0].text, "2026-11-25T10:00:00Z");
	assert_int_equal(res.cells[1].num, T0);
	assert_int_equal(res.cells[2].num, 350);
	assert_int_equal(res.cells[3].num, 200);
	assert_int_equal(res.cells[4].num, 150);
	assert_int_equal(res.cells[5].num, 5);
	assert_true(res.cells[7].real > 26.666 && res.cells[7].real < 26.667);
	assert_int_equal(res.cells[9 + 2].num, 0);
	assert_string_equal(res.cells[4 * 9].text, "2026-11-25T10:04:00Z");
	/* A step that is not a multiple of the resolution is refused. */
	step = 90;
	assert_int_equal(report_series_run(*state, &a, &step, 1, &res,
	    &errstr), REPORT_EUSER);
	assert_non_null(strstr(errstr, "not a multiple"));
	/* 120 s steps start on an epoch multiple: 10:00 is one. */
	step = 120;
	assert_int_equal(report_series_run(*state, &a, &step, 1, &res,
	    &errstr), 0);
	assert_int_equal(res.nrows, 3);
	assert_int_equal(res.ncols, 10);
	assert_int_equal(res.cells[2].num, 350);
	assert_string_equal(res.cells[9].text,
	    "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588"
	    "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588"
	    "\u2588\u2588\u2588\u2588");
	assert_string_equal(res.cells[10 + 9].text, "");
	report_result_clear(&res);
}

static void
test_series_bar(void **state)
{
	char buf[REPORT_GRAPH_WIDTH * 3 + 1];

	(void)state;
	assert_int_equal(report_series_bar(1, 1000, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "\u258f");
	assert_int_equal(report_series_bar(500, 1000, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "\u2588\u2588");
	assert_int_equal(report_series_bar(3, 8, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "\u258d");
	assert_int_equal(report_series_bar(0, 8, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(report_series_bar(1, 1, 24, buf, 10), -1);
}

static void
test_summary(void **state)
{
	static const char *const expect[] = {
		"a", "eth0", "yesterday", "2026-11-24T00:00:00Z", "1795478400",
		    "5000", "0", "5000", "1", "0.463", "0.000",
		"a", "eth0", "today", "2026-11-25T00:00:00Z", "1795564800",
		    "5350", "250", "5600", "8", "1.081", "0.051",
		"a", "eth0", "month", "2026-11-01T00:00:00Z", "1793491200",
		    "10350", "250", "10600", "9", "0.039", "0.001",
	};
	struct report_filter f;
	struct report_result res;
	struct report_args a = { 0, 0, 0, 0, NULL };
	const char *errstr = NULL;
	char num[32];
	size_t i;

	assert_int_equal(sqlite3_exec(*state, "UPDATE host_stat SET bucket ="
	    " 1795564800 - 3600 WHERE bucket = 1795600740", NULL, NULL, NULL),
	    SQLITE_OK);
	report_filter_init(&f);
	a.filter = &f;
	report_result_init(&res);
	/* now: 2026-11-25T11:00:00Z, 11 hours into the day. */
	if (report_summary_run(*state, &a, T1, &res, &errstr) != 0)
		fail_msg("summary: %s", errstr);
	assert_int_equal(res.nrows * res.ncols, NELEM(expect));
	for (i = 0; i < NELEM(expect); i++) {
		if (res.cols[i % res.ncols].type == REPORT_COL_TEXT) {
			assert_string_equal(res.cells[i].text, expect[i]);
			continue;
		}
		if (res.cols[i % res.ncols].type == REPORT_COL_RATE)
			snprintf(num, sizeof(num), "%.3f", res.cells[i].real);
		else
			snprintf(num, sizeof(num), "%lld",
			    (long long)res.cells[i].num);
		assert_string_equal(num, expect[i]);
	}
	report_result_clear(&res);
}

/* --- report_alert.c -------------------------------------------------- */

static void
test_alert(void **state)
{
	static const char *const not_decimal[] = { "1.5e2MiB", "0x10GB",
	    "1E3B", "5.GB", ".5GB", "inf", "nanGB" };
	static const struct report_column cols[] = {
		{ "host", REPORT_COL_TEXT }, { "in_bytes", REPORT_COL_BYTES },
		{ "out_bytes", REPORT_COL_BYTES },
		{ "in_rate", REPORT_COL_RATE }, { "out_rate", REPORT_COL_RATE },
	};
	static char h1[] = "h1", h2[] = "h\x1b" "2";
	struct report_value cells[] = {
		{ h1, 0, 0, 0 }, { NULL, 1000, 0, 0 }, { NULL, 3000, 0, 0 },
		{ NULL, 0, 500, 0 }, { NULL, 0, 100, 0 },
		{ h2, 0, 0, 0 }, { NULL, 5000, 0, 0 }, { NULL, 0, 0, 0 },
		{ NULL, 0, 2e6, 0 }, { NULL, 0, 0, 0 },
	};
	struct report_result res;
	struct report_alert al;
	struct capture c;
	const char *errstr;
	char *out;
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.name = "t";
	for (i = 0; i < NELEM(cols); i++)
		res.cols[i] = cols[i];
	res.ncols = NELEM(cols);
	res.cells = cells;
	res.nrows = res.cap = 2;

	assert_int_equal(report_alert_parse("4000B", &al, &errstr), 0);
	assert_int_equal(report_alert_check(&al, &res, stderr), 1);
	assert_int_equal(report_alert_parse("in:4KiB", &al, &errstr), 0);
	assert_true(al.limit == 4096 && al.dir == REPORT_ALERT_IN);
	capture_open(&c);
	assert_int_equal(report_alert_check(&al, &res, c.fp), 1);
	out = capture_close(&c);
	assert_string_equal(out, "nettally: alert: h?2: in_bytes 4.9 KiB is "
	    "over the limit 4.0 KiB\n");
	free(out);
	assert_int_equal(report_alert_parse("out:2999B", &al, &errstr), 0);
	assert_int_equal(report_alert_check(&al, &res, stderr), 1);
	assert_int_equal(report_alert_parse("out:3000B", &al, &errstr), 0);
	assert_int_equal(report_alert_check(&al, &res, stderr), 0);
	assert_int_equal(report_alert_parse("total:1.5Mbit/s", &al, &errstr),
	    0);
	assert_true(al.rate && al.limit == 1.5e6);
	assert_int_equal(report_alert_check(&al, &res, stderr), 1);
	assert_int_equal(report_alert_parse("600bit/s", &al, &errstr), 0);
	assert_int_equal(report_alert_check(&al, &res, stderr), 1);
	assert_int_equal(report_alert_parse("599bit/s", &al, &errstr), 0);
	assert_int_equal(report_alert_check(&al, &res, stderr), 2);
	assert_int_equal(report_alert_parse("5", &al, &errstr), -1);
	assert_int_equal(report_alert_parse("5 GB", &al, &errstr), -1);
	assert_int_equal(report_alert_parse("GB", &al, &errstr), -1);
	assert_int_equal(report_alert_parse("up:5GB", &al, &errstr), -1);
	assert_int_equal(report_alert_parse("-5GB", &al, &errstr), -1);
	/* Only DIGITS[.DIGITS]: strtod's other forms are refused. */
	assert_int_equal(report_alert_parse("1e3GB", &al, &errstr), -1);
	assert_string_equal(errstr, "a limit is [in:|out:|total:]NUMBER "
	    "UNIT, e.g. 5GiB or out:100Mbit/s");
	for (i = 0; i < sizeof(not_decimal) / sizeof(not_decimal[0]); i++)
		assert_int_equal(report_alert_parse(not_decimal[i], &al,
		    &errstr), -1);
	assert_int_equal(report_alert_parse("0.25KiB", &al, &errstr), 0);
	assert_true(al.limit == 256.0);
}

static void
test_rate_format(void **state)
{
	static const struct {
		double		 v;
		const char	*out;
	} cases[] = {
		{ 0, "0.0 bit/s" }, { 1.56, "1.6 bit/s" },
		{ 999.94, "999.9 bit/s" }, { 999.96, "1.0 kbit/s" },
		{ 13111.1, "13.1 kbit/s" }, { 1.5e6, "1.5 Mbit/s" },
		{ 1e9, "1.0 Gbit/s" }, { 7.2e13, "72.0 Tbit/s" },
	};
	char buf[REPORT_BYTES_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(report_format_rate(cases[i].v, buf,
		    sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].out);
	}
	assert_int_equal(report_format_rate(1.0, buf, 4), -1);
}

/* Tier names follow tier_coverage; labels say the resolution in words. */
static void
test_tier_label(void **state)
{
	static const struct {
		int64_t		 res;
		const char	*label, *tier;
	} cases[] = {
		{ 60, "1 min", "raw" }, { 300, "5 min", "raw" },
		{ 90, "90 s", "raw" }, { 1, "1 s", "raw" },
		{ 7200, "2 hours", "raw" }, { 3600, "1 hour", "hourly" },
		{ 86400, "1 day", "daily" }, { 172800, "2 days", "raw" },
		{ 2592000, "1 month", "monthly" }, { 0, "0 s", "raw" },
		{ INT64_MIN, "-9223372036854775808 s", "raw" },
	};
	char buf[REPORT_TIER_LABEL_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		report_tier_label(cases[i].res, buf);
		assert_string_equal(buf, cases[i].label);
		assert_string_equal(report_tier_name(cases[i].res),
		    cases[i].tier);
	}
}

/* Steps: epoch multiples, or calendar months for the monthly tier's. */
static void
test_tier_steps(void **state)
{
	const int64_t m = REPORT_TIER_MONTH;

	(void)state;
	assert_int_equal(report_tier_floor(125, 60), 120);
	assert_int_equal(report_tier_floor(-1, 60), -60);
	assert_int_equal(report_tier_next(120, 60), 180);
	assert_int_equal(report_tier_count(0, 61, 60, 100), 2);
	assert_int_equal(report_tier_count(0, 60, 60, 100), 1);
	assert_int_equal(report_tier_count(60, 60, 60, 100), 0);
	/* 2026-11-25T06:00:00Z, 2026-11-01, 2026-12-01, 2027-01-01. */
	assert_int_equal(report_tier_floor(1795586400, m), 1793491200);
	assert_int_equal(report_tier_floor(1793491200, m), 1793491200);
	assert_int_equal(report_tier_next(1793491200, m), 1796083200);
	assert_int_equal(report_tier_next(1796083200, m), 1798761600);
	/* 2026-08-01 to 2026-11-25T06:00:00Z: August to November. */
	assert_int_equal(report_tier_count(1785542400, 1795586400, m, 100), 4);
	/* The count stops one past the cap. */
	assert_int_equal(report_tier_count(0, 1795586400, m, 10), 11);
}

/* --- report_status.c -------------------------------------------------- */

/*
 * The store line shows the database file and its -wal apart, as summary
 * does; from a store that sent db_bytes alone, their sum as such.  JSON
 * keeps db_bytes (both) and adds wal_bytes, null when not sent.
 */
/* What report_status_write prints of st in fmt (the caller frees it). */
static char *
status_text(const struct proto_status *st, enum report_fmt fmt)
{
	struct capture c;

	capture_open(&c);
	assert_int_equal(report_status_write(c.fp, fmt, st, NULL), 0);
	return capture_close(&c);
}

static void
test_status_write(void **state)
{
	struct proto_status *st;
	char *out;

	(void)state;
	assert_non_null(st = calloc(1, sizeof(*st)));
	st->time = 1700000100;
	st->start = 1700000000;
	st->db_bytes = 3 * 1048576 + 512 * 1024;
	st->wal_bytes = 512 * 1024;
	st->has_wal_bytes = 1;
	st->version = 1;
	st->schema = 4;
	out = status_text(st, REPORT_FMT_TABLE);
	assert_non_null(strstr(out, ", 0 agents, database 3.0 MiB, WAL "
	    "512.0 KiB, queue 0 B in 0 items,"));
	free(out);
	out = status_text(st, REPORT_FMT_JSON);
	assert_non_null(strstr(out, "\"db_bytes\":3670016,"
	    "\"wal_bytes\":524288,"));
	free(out);
	st->has_wal_bytes = 0;
	st->wal_bytes = 0;
	out = status_text(st, REPORT_FMT_TABLE);
	assert_non_null(strstr(out, ", 0 agents, database and WAL 3.5 MiB, "
	    "queue 0 B"));
	free(out);
	out = status_text(st, REPORT_FMT_JSON);
	assert_non_null(strstr(out, "\"db_bytes\":3670016,"
	    "\"wal_bytes\":null,"));
	free(out);
	/* A count of 1 in the singular, any other in the plural. */
	st->pending = st->batches = st->duplicates = 1;
	st->nagents = 1;
	strcpy(st->agent[0].name, "a");
	out = status_text(st, REPORT_FMT_TABLE);
	assert_non_null(strstr(out, ", 1 agent, database and WAL 3.5 MiB, "
	    "queue 0 B in 1 item, 1 batch committed, 1 duplicate, 0 "
	    "rejected,"));
	free(out);
	st->pending = st->batches = st->duplicates = 2;
	st->nagents = 2;
	strcpy(st->agent[1].name, "b");
	out = status_text(st, REPORT_FMT_TABLE);
	assert_non_null(strstr(out, ", 2 agents, database and WAL 3.5 MiB, "
	    "queue 0 B in 2 items, 2 batches committed, 2 duplicates, 0 "
	    "rejected,"));
	free(out);
	free(st);
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
		cmocka_unit_test(test_tier_label),
		cmocka_unit_test(test_tier_steps),
		cmocka_unit_test(test_write_formats),
		cmocka_unit_test(test_write_plurals),
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
		cmocka_unit_test(test_filter_host),
		cmocka_unit_test(test_filter_port_dir),
		cmocka_unit_test_setup_teardown(test_filter_proto_known,
		    db_setup, db_teardown),
		cmocka_unit_test_setup_teardown(test_query_filters, db_setup,
		    db_teardown),
		cmocka_unit_test_setup_teardown(test_query_p95, db_setup,
		    db_teardown),
		cmocka_unit_test_setup_teardown(test_query_tables_as_views,
		    db_setup, db_teardown),
		cmocka_unit_test_setup_teardown(test_series, db_setup,
		    db_teardown),
		cmocka_unit_test(test_series_bar),
		cmocka_unit_test_setup_teardown(test_summary, db_setup,
		    db_teardown),
		cmocka_unit_test(test_alert),
		cmocka_unit_test(test_rate_format),
		cmocka_unit_test(test_status_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
