/*
 * report_series.c - one row per step of time over the selected traffic.
 *
 * A step is a whole number of buckets of every resolution the selection
 * holds, so each bucket falls in exactly one step and no bucket is split:
 * step start = bucket - bucket % step, aligned to the epoch; a step of
 * 2592000 s, the monthly tier's resolution, is the calendar month instead,
 * as the monthly buckets are (report_tier.h), with rates over its length.
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

#define SQL_MAX	1024

static int	resolutions_ok(sqlite3 *, const struct report_args *,
		    const char *, const char *, int64_t *, char *, size_t,
		    const char **);
static int	agent_resolution(sqlite3 *, const struct report_args *,
		    int64_t *, const char **);

/* The raw resolution of the --agent, or the largest of all agents. */
static const char sql_agent_res[] =
    "SELECT max(resolution) FROM agent WHERE ?1 IS NULL OR name = ?1";

/* The step of a window without traffic when no agent says one. */
#define SERIES_STEP_NODATA	60

int
report_series_step(sqlite3 *db, const struct report_args *a,
    int64_t *step, const char **errstr)
{
	static char msg[256];
	const char *view, *where;

	view = report_query_view(REPORT_SRC_HOST, a->filter, &where);
	return resolutions_ok(db, a, view, where, step, msg, sizeof(msg),
	    errstr);
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

/*
 * Checks that every resolution of the selection divides *step, choosing
 * the largest when *step is 0.  Returns 0, -1 on a query failure, or
 * REPORT_EUSER with the reason written into msg.
 */
static int
resolutions_ok(sqlite3 *db, const struct report_args *a, const char *view,
    const char *where, int64_t *step, char *msg, size_t msglen,
    const char **errstr)
{
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	int64_t res, largest = 0, bad = 0;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT DISTINCT resolution FROM %s%s",
	    view, where);
	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		res = sqlite3_column_int64(st, 0);
		if (res > largest)
			largest = res;
		if (*step != 0 && (res <= 0 || *step % res != 0))
			bad = res;
	}
	if (rc != SQLITE_DONE) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (*step == 0) {
		if (largest <= 0)
			return 0;		/* no data: no step */
		*step = largest;
		/* Mixed resolutions: the largest must hold the others. */
		return resolutions_ok(db, a, view, where, step, msg, msglen,
		    errstr);
	}
	if (bad != 0) {
		snprintf(msg, msglen, "--step %llds is not a multiple of the "
		    "%llds resolution of the data; give a multiple such as "
		    "--step %llds", (long long)*step, (long long)bad,
		    (long long)(bad * (*step / bad + 1)));
		*errstr = msg;
		return REPORT_EUSER;
	}
	return 0;
}

/*
 * Sets *step to the agents' resolution (SERIES_STEP_NODATA when there is
 * none): the step of a window with no traffic, which has no resolution of
 * its own.  Returns 0, or -1 with *errstr.
 */
static int
agent_resolution(sqlite3 *db, const struct report_args *a, int64_t *step,
    const char **errstr)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql_agent_res, -1, &st, NULL) != SQLITE_OK) {
		*errstr = report_query_errmsg(db);
		return -1;
	}
	if ((a->filter->agent != NULL ? sqlite3_bind_text(st, 1,
	    a->filter->agent, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 1)) !=
	    SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_ROW) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	*step = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (*step <= 0)
		*step = SERIES_STEP_NODATA;
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
	const char *view, *where;
	sqlite3_stmt *st = NULL;
	int64_t start, since, end, t, tnext, nsteps, n, have_t = -1, vals[5];
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
	view = report_query_view(REPORT_SRC_HOST, a->filter, &where);
	if (report_query_span(db, REPORT_SRC_HOST, a, &span, errstr) == -1)
		return -1;
	res->tiers = span.tiers;
	res->has_tiers = 1;
	if (span.nres > 0 && (rc = report_series_step(db, a, step,
	    errstr)) != 0)
		return rc;
	/* A quiet window still has its steps, as rows of zeros. */
	if (*step <= 0 && agent_resolution(db, a, step, errstr) == -1)
		return -1;
	/* An unbounded end without rows to bound it: no steps to print. */
	report_query_bounds(a, &span, &since, &end);
	res->since = since;
	res->until = end;
	res->has_window = 1;
	if (since == REPORT_TIME_NONE_LOW || end == REPORT_TIME_NONE_HIGH)
		return 0;
	start = report_tier_floor(since, *step);
	nsteps = report_tier_count(start, end, *step, REPORT_LIMIT_MAX);
	if (nsteps > REPORT_LIMIT_MAX) {
		snprintf(msg, sizeof(msg), "%lld steps of %llds are more than "
		    "%d rows; give a larger --step or a shorter window",
		    (long long)nsteps, (long long)*step, REPORT_LIMIT_MAX);
		*errstr = msg;
		return REPORT_EUSER;
	}
	snprintf(sql, sizeof(sql), "SELECT %s,"
	    " nt_sum(bytes),"
	    " nt_sum(CASE direction WHEN 'in' THEN bytes ELSE 0 END),"
	    " nt_sum(CASE direction WHEN 'out' THEN bytes ELSE 0 END),"
	    " nt_sum(packets), nt_sum(frame_bytes) FROM %s%s GROUP BY 1"
	    " ORDER BY 1",
	    REPORT_TIER_STEP_SQL, view, where);
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
