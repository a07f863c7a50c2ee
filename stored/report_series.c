/*
 * report_series.c - one row per step of time over the selected traffic.
 *
 * A step is a whole number of buckets of every resolution the selection
 * holds, so each bucket falls in exactly one step and no bucket is split:
 * step start = bucket - bucket % step, aligned to the epoch; a step of
 * 2592000 s, the monthly tier's resolution, is the calendar month instead,
 * as the monthly buckets are (report_tier.h), with rates over its length.
 * The default step is therefore the least common multiple of those
 * resolutions (180 s for agents at 45 s and 60 s), not the largest, and a
 * step refused names a common multiple of them all.
 * A bucket counts when it starts inside the window, as in every report,
 * so the first row is the step holding the first instant at or after
 * --since at which a bucket can start: a step before it could only hold
 * buckets that start before the window, and its zeros would deny
 * traffic the database has.  A window in which no bucket can start (3
 * minutes of 2-hour buckets) has no rows.
 * A step's rates average over the whole step, also when the window cuts
 * it: only whole buckets are counted, and which part of the step they
 * cover depends on each one's resolution (tiers, agents), which a row
 * summed over them no longer tells.  So a first step cut by --since reads
 * low, never high.  An unbounded end is the data's own
 * (report_query_bounds), as for top.
 * Steps without traffic are rows of zeros, so a series has no holes and
 * its rows can be plotted as they are.  The number of rows is bounded by
 * REPORT_LIMIT_MAX before anything is allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_series.h"
#include "report_time.h"

#define SQL_MAX	4096

/* The step of a window without traffic when no agent says one. */
#define SERIES_STEP_NODATA	60

/*
 * The default step is refused past the larger of this and the largest
 * resolution: a step of days over minute buckets hides what a series is
 * for, and past the monthly tier's 30 days an epoch-aligned step no
 * longer holds calendar months.
 */
#define SERIES_LCM_MAX		REPORT_TIER_DAY

/* Resolutions a message names before "and N more". */
#define SERIES_RES_SHOWN	4

/* The resolutions a series steps over. */
struct resset {
	int64_t	 shown[SERIES_RES_SHOWN];	/* the finest, ascending */
	size_t	 n;
	int64_t	 largest;
	int64_t	 lcm;		/* 0: longer than REPORT_TIME_MAX_DURATION */
	int64_t	 first;		/* first bucket start >= since, or INT64_MAX */
	const char *whose;	/* "of the data" or "of the agents" */
};

static int64_t	gcd(int64_t, int64_t);
static int	resset_read(sqlite3 *, const char *,
		    const struct report_args *, int64_t, struct resset *,
		    const char **);
static void	resset_text(const struct resset *, char *, size_t);

/*
 * The selection's resolutions in the window, finest first.  Series reads
 * the counter table under the view's filters (report_query_table): the
 * view would turn every row's ids into text that a series never prints.
 */
static const char sql_data_res[] =
    "SELECT DISTINCT resolution FROM %s s%s ORDER BY 1";

/* The agents' raw resolutions, of --agent and --iface when given. */
static const char sql_agent_res[] =
    "SELECT DISTINCT resolution FROM agent a"
    " WHERE (?4 IS NULL OR a.name = ?4) AND (?5 IS NULL OR EXISTS"
    " (SELECT 1 FROM iface i WHERE i.agent_id = a.id AND i.name = ?5))"
    " ORDER BY 1";

static int64_t
gcd(int64_t x, int64_t y)
{
	int64_t t;

	while (y != 0) {
		t = x % y;
		x = y;
		y = t;
	}
	return x;
}

/*
 * Reads the resolutions sql lists (prepared with a's window and filters)
 * into *rs: their least common multiple, and the first instant at or after
 * since (REPORT_TIME_NONE_LOW: none is looked for) at which a bucket of
 * one of them starts.  Returns 0, or -1 with *errstr.
 */
static int
resset_read(sqlite3 *db, const char *sql, const struct report_args *a,
    int64_t since, struct resset *rs, const char **errstr)
{
	static char msg[128];
	sqlite3_stmt *st;
	int64_t r, g, b;
	int rc;

	memset(rs, 0, sizeof(*rs));
	rs->lcm = 1;
	rs->first = INT64_MAX;
	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = sqlite3_column_int64(st, 0);
		/* 0, negative or past a century: a hand-made row. */
		if (r <= 0 || r > REPORT_TIME_MAX_DURATION) {
			snprintf(msg, sizeof(msg), "the database holds buckets "
			    "of %llds, which no step holds",
			    (long long)r);
			*errstr = msg;
			sqlite3_finalize(st);
			return -1;
		}
		if (rs->n < SERIES_RES_SHOWN)
			rs->shown[rs->n] = r;
		rs->n++;
		if (r > rs->largest)
			rs->largest = r;
		g = gcd(rs->lcm, r);
		if (rs->lcm != 0 && rs->lcm / g > REPORT_TIME_MAX_DURATION / r)
			rs->lcm = 0;
		else if (rs->lcm != 0)
			rs->lcm = rs->lcm / g * r;
		if (since == REPORT_TIME_NONE_LOW)
			continue;
		/* A calendar month for the monthly tier, as its buckets. */
		b = report_tier_floor(since, r);
		if (b < since)
			b = report_tier_next(b, r);
		if (b < rs->first)
			rs->first = b;
	}
	if (rc != SQLITE_DONE) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Writes "45s and 60s", "7s, 45s, 60s, 90s and 2 more" into buf. */
static void
resset_text(const struct resset *rs, char *buf, size_t len)
{
	size_t i, off = 0, shown;
	int n;

	buf[0] = '\0';
	shown = rs->n < SERIES_RES_SHOWN ? rs->n : SERIES_RES_SHOWN;
	for (i = 0; i < shown && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%llds",
		    i == 0 ? "" : i + 1 == shown && rs->n == shown ? " and " :
		    ", ", (long long)rs->shown[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	if (rs->n > shown && off < len)
		snprintf(buf + off, len - off, " and %zu more", rs->n - shown);
}

int
report_series_step(sqlite3 *db, const struct report_args *a, int64_t since,
    int64_t *step, int64_t *first, const char **errstr)
{
	static char msg[384];
	char sql[SQL_MAX], list[160];
	struct resset rs;
	const char *table, *where;
	int64_t cap;

	table = report_query_table(REPORT_SRC_HOST, a->filter, &where);
	snprintf(sql, sizeof(sql), sql_data_res, table, where);
	if (resset_read(db, sql, a, since, &rs, errstr) == -1)
		return -1;
	rs.whose = rs.n > 0 ? "of the data" : NULL;
	if (rs.n > 0 && *step != 0) {
		/* Every resolution divides *step when their multiple does. */
		if (rs.lcm == 0 || *step % rs.lcm != 0) {
			resset_text(&rs, list, sizeof(list));
			if (rs.lcm == 0)
				snprintf(msg, sizeof(msg), "--step %llds is not "
				    "a multiple of every resolution of the data "
				    "(%s), which have no common multiple within "
				    "100 years; narrow the window or the filters",
				    (long long)*step, list);
			else if (rs.n == 1)
				snprintf(msg, sizeof(msg), "--step %llds is not "
				    "a multiple of the %llds resolution of the "
				    "data; give a multiple such as --step %llds",
				    (long long)*step, (long long)rs.lcm,
				    (long long)((*step / rs.lcm + 1) * rs.lcm));
			else
				snprintf(msg, sizeof(msg), "--step %llds is not "
				    "a multiple of every resolution of the data "
				    "(%s); give a common multiple such as --step "
				    "%llds", (long long)*step, list,
				    (long long)((*step / rs.lcm + 1) * rs.lcm));
			*errstr = msg;
			return REPORT_EUSER;
		}
	}
	/* A quiet window: the agents' resolutions, with no bucket to split. */
	if (rs.n == 0 && resset_read(db, sql_agent_res, a, since, &rs,
	    errstr) == -1)
		return -1;
	if (rs.whose == NULL)
		rs.whose = "of the agents";
	if (rs.n == 0) {
		rs.n = 1;
		rs.shown[0] = rs.largest = rs.lcm = SERIES_STEP_NODATA;
		if (since != REPORT_TIME_NONE_LOW)
			rs.first = report_tier_floor(since +
			    SERIES_STEP_NODATA - 1, SERIES_STEP_NODATA);
	}
	if (*step == 0) {
		cap = rs.largest > SERIES_LCM_MAX ? rs.largest : SERIES_LCM_MAX;
		if (rs.lcm == 0 || rs.lcm > cap) {
			resset_text(&rs, list, sizeof(list));
			if (rs.lcm == 0)
				snprintf(msg, sizeof(msg), "the resolutions %s "
				    "(%s) have no common multiple within 100 "
				    "years, so no step holds whole buckets of "
				    "each; narrow the window or the filters",
				    rs.whose, list);
			else
				snprintf(msg, sizeof(msg), "the resolutions %s "
				    "(%s) need a step of %llds to hold whole "
				    "buckets of each, longer than the %llds a "
				    "default step may be; give --step %llds, or "
				    "narrow the window or the filters", rs.whose,
				    list, (long long)rs.lcm, (long long)cap,
				    (long long)rs.lcm);
			*errstr = msg;
			return REPORT_EUSER;
		}
		*step = rs.lcm;
	}
	*first = rs.first;
	return 0;
}

static const struct report_column cols_series[] = {
	{ "time",	 REPORT_COL_TEXT },
	{ "epoch",	 REPORT_COL_COUNT },
	{ "bytes",	 REPORT_COL_BYTES },
	{ "in_bytes",	 REPORT_COL_BYTES },
	{ "out_bytes",	 REPORT_COL_BYTES },
	{ "packets",	 REPORT_COL_COUNT },
	{ "frame_bytes", REPORT_COL_BYTES },
	{ "in_rate",	 REPORT_COL_RATE },
	{ "out_rate",	 REPORT_COL_RATE },
};
#define NCOLS	(sizeof(cols_series) / sizeof(cols_series[0]))

int
report_series_bar(int64_t value, int64_t max, int width, char *buf,
    size_t len)
{
	/* U+2588 full block, then U+2589 (7/8) .. U+258F (1/8). */
	static const char *const part[8] = { "", "\u258f", "\u258e",
	    "\u258d", "\u258c", "\u258b", "\u258a", "\u2589" };
	int64_t eighths;
	size_t off = 0;
	int i;

	if (len < (size_t)width * 3 + 1)
		return -1;
	buf[0] = '\0';
	if (value <= 0 || max <= 0)
		return 0;
	eighths = (int64_t)((double)value / (double)max * width * 8 + 0.5);
	if (eighths < 1)
		eighths = 1;
	if (eighths > (int64_t)width * 8)
		eighths = (int64_t)width * 8;
	for (i = 0; i < eighths / 8; i++) {
		memcpy(buf + off, "\u2588", 3);
		off += 3;
	}
	memcpy(buf + off, part[eighths % 8], strlen(part[eighths % 8]) + 1);
	return 0;
}

int
report_series_run(sqlite3 *db, const struct report_args *a, int64_t *step,
    int graph, struct report_result *res, const char **errstr)
{
	static char msg[256];
	char sql[SQL_MAX], iso[REPORT_TIME_ISO_LEN];
	char bar[REPORT_GRAPH_WIDTH * 3 + 1];
	struct report_span span;
	struct report_value *row;
	const char *table, *where;
	sqlite3_stmt *st = NULL;
	int64_t start, first, since, end, t, tnext, nsteps, n, have_t = -1;
	int64_t vals[5];
	int64_t max = 0;
	size_t i, r;
	int rc, have = 0;

	report_result_clear(res);
	res->name = "series";
	for (i = 0; i < NCOLS; i++)
		if (report_result_col(res, cols_series[i].name,
		    cols_series[i].type) == -1)
			goto toomany;
	if (graph && report_result_col(res, "graph", REPORT_COL_TEXT) == -1)
		goto toomany;
	table = report_query_table(REPORT_SRC_HOST, a->filter, &where);
	if (report_query_span(db, REPORT_SRC_HOST, a, &span, errstr) == -1)
		return -1;
	res->tiers = span.tiers;
	res->has_tiers = 1;
	report_query_bounds(a, &span, &since, &end);
	res->since = since;
	res->until = end;
	res->has_window = 1;
	/* A quiet window still has its steps, as rows of zeros. */
	if ((rc = report_series_step(db, a, since, step, &first,
	    errstr)) != 0)
		return rc;
	/* An unbounded end without rows to bound it: no steps to print. */
	if (since == REPORT_TIME_NONE_LOW || end == REPORT_TIME_NONE_HIGH)
		return 0;
	/*
	 * A step before the first bucket that can count would print zeros
	 * for time outside the window; with none in it, there is no step.
	 */
	start = report_tier_floor(first, *step);
	nsteps = first < end ? report_tier_count(start, end, *step,
	    REPORT_LIMIT_MAX) : 0;
	if (nsteps > REPORT_LIMIT_MAX) {
		snprintf(msg, sizeof(msg), "%lld steps of %llds are more than "
		    "%d rows; give a larger --step or a shorter window",
		    (long long)nsteps, (long long)*step, REPORT_LIMIT_MAX);
		*errstr = msg;
		return REPORT_EUSER;
	}
	/* The table's direction is 0 for in, else out. */
	snprintf(sql, sizeof(sql), "SELECT %s,"
	    " nt_sum(bytes),"
	    " nt_sum(CASE direction WHEN 0 THEN bytes ELSE 0 END),"
	    " nt_sum(CASE direction WHEN 0 THEN 0 ELSE bytes END),"
	    " nt_sum(packets), nt_sum(frame_bytes) FROM %s s%s GROUP BY 1"
	    " ORDER BY 1",
	    REPORT_TIER_STEP_SQL, table, where);
	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, REPORT_P_STEP, *step) != SQLITE_OK) {
		*errstr = report_query_errmsg(db);
		goto fail;
	}
	rc = SQLITE_ROW;
	for (n = 0, t = start; n < nsteps; n++, t = tnext) {
		/* A calendar month past what gmtime holds would not move. */
		if ((tnext = report_tier_next(t, *step)) <= t) {
			*errstr = "time out of range";
			goto fail;
		}
		/* Merge: the next query row belongs to this step or later. */
		while (!have && rc == SQLITE_ROW) {
			if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				have_t = sqlite3_column_int64(st, 0);
				for (i = 0; i < 5; i++)
					vals[i] = sqlite3_column_int64(st,
					    (int)i + 1);
				have = have_t >= t;
			} else if (rc != SQLITE_DONE) {
				*errstr = report_query_errmsg(db);
				goto fail;
			}
		}
		if ((row = report_result_row(res)) == NULL) {
			*errstr = "out of memory";
			goto fail;
		}
		if (report_time_format(t, iso, sizeof(iso)) == -1) {
			*errstr = "time out of range";
			goto fail;
		}
		if ((row[0].text = strdup(iso)) == NULL) {
			*errstr = "out of memory";
			goto fail;
		}
		row[0].isnull = 0;
		row[1].num = t;
		row[1].isnull = 0;
		for (i = 0; i < 5; i++) {
			row[2 + i].num = have && have_t == t ? vals[i] : 0;
			row[2 + i].isnull = 0;
		}
		row[7].real = (double)row[3].num * 8.0 / (double)(tnext - t);
		row[8].real = (double)row[4].num * 8.0 / (double)(tnext - t);
		row[7].isnull = row[8].isnull = 0;
		if (row[2].num > max)
			max = row[2].num;
		if (have && have_t == t)
			have = 0;
	}
	sqlite3_finalize(st);
	for (r = 0; graph && r < res->nrows; r++) {
		row = &res->cells[r * res->ncols];
		if (report_series_bar(row[2].num, max, REPORT_GRAPH_WIDTH, bar,
		    sizeof(bar)) == -1 || (row[NCOLS].text = strdup(bar)) ==
		    NULL) {
			*errstr = "out of memory";
			return -1;
		}
		row[NCOLS].isnull = 0;
	}
	return 0;
toomany:
	*errstr = "too many columns";
	return -1;
fail:
	sqlite3_finalize(st);
	return -1;
}
