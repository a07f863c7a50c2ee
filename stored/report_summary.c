/*
 * report_summary.c - the vnstat-like overview: per agent and interface,
 * the traffic of yesterday, today and the current month, UTC.
 *
 * Periods are bucket ranges: today is [midnight, now], yesterday the 24
 * hours before midnight, month [the 1st at midnight, now].  A bucket
 * belongs to the period its start falls in.  Rates average over the
 * elapsed part of a period (today at 06:00 divides by 6 hours), as vnstat
 * does.  In and out are the local hosts' IP bytes (host_traffic), so
 * traffic between two local hosts counts on both sides, and transit
 * traffic is not in it.  Periods are bound as parameters ?13 .. ?18.
 * Beside the rows it says which tiers the periods read (under the
 * filters), how large the database is and what time each tier covers
 * (report_tier.c; of the whole database, whatever the filters).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_summary.h"
#include "report_time.h"

#define SQL_MAX	4096

#define P_TODAY		"?13"
#define P_MONTH		"?14"
#define P_YDAY		"?16"
#define P_TODAY_SECS	"?17"
#define P_MONTH_SECS	"?18"

/*
 * One pass over the counter table under the view's filters
 * (report_query_table): per interface id, each period's sums side by side
 * (y_ yesterday, t_ today, m_ month; n counts rows, so a period without
 * any has no row); the table's direction is 0 for in, else out.  The
 * names join only to those sums: an interface id is one (agent, iface)
 * pair, as both tables' unique keys say.
 */
#define SUMS(x, cond) \
	" COUNT(CASE WHEN " cond " THEN 1 END) AS " x "n," \
	" nt_sum(CASE WHEN " cond " AND direction = 0 THEN bytes" \
	" ELSE 0 END)" \
	" AS " x "ib," \
	" nt_sum(CASE WHEN " cond " AND direction <> 0 THEN bytes" \
	" ELSE 0 END)" \
	" AS " x "ob," \
	" nt_sum(CASE WHEN " cond " THEN bytes ELSE 0 END) AS " x "b," \
	" nt_sum(CASE WHEN " cond " THEN packets ELSE 0 END) AS " x "p"

/* One period's rows from the sums; the aliases name the union's columns. */
#define PERIOD(ord, name, x, start, secs) \
	" SELECT agent AS a, iface AS i, " ord " AS ord, '" name "' AS pe," \
	" strftime('%Y-%m-%dT%H:%M:%SZ', " start ", 'unixepoch') AS st," \
	" " start " AS se, " x "ib AS ib, " x "ob AS ob, " x "b AS b," \
	" " x "p AS p, " x "ib * 8.0 / " secs " AS ir, " x "ob * 8.0 / " \
	secs " AS orr FROM g WHERE " x "n > 0"

static const struct report_column cols_summary[] = {
	{ "agent",	 REPORT_COL_TEXT },
	{ "iface",	 REPORT_COL_TEXT },
	{ "period",	 REPORT_COL_TEXT },
	{ "start",	 REPORT_COL_TEXT },
	{ "start_epoch", REPORT_COL_COUNT },
	{ "in_bytes",	 REPORT_COL_BYTES },
	{ "out_bytes",	 REPORT_COL_BYTES },
	{ "bytes",	 REPORT_COL_BYTES },
	{ "packets",	 REPORT_COL_COUNT },
	{ "in_rate",	 REPORT_COL_RATE },
	{ "out_rate",	 REPORT_COL_RATE },
};
#define NCOLS	(sizeof(cols_summary) / sizeof(cols_summary[0]))

static const char sql_head[] =
    "WITH sums AS (SELECT iface_id,"
    SUMS("y_", "bucket >= " P_YDAY " AND bucket < " P_TODAY) ","
    SUMS("t_", "bucket >= " P_TODAY) ","
    SUMS("m_", "bucket >= " P_MONTH)
    " FROM ";

static const char sql_tail[] =
    " GROUP BY iface_id), g AS (SELECT a.name AS agent, i.name AS iface,"
    " sums.* FROM sums JOIN iface i ON i.id = sums.iface_id"
    " JOIN agent a ON a.id = i.agent_id)"
    " SELECT a, i, pe, st, se, ib, ob, b, p, ir, orr FROM ("
    PERIOD("0", "yesterday", "y_", P_YDAY, "86400.0")
    " UNION ALL" PERIOD("1", "today", "t_", P_TODAY, P_TODAY_SECS)
    " UNION ALL" PERIOD("2", "month", "m_", P_MONTH, P_MONTH_SECS)
    ") ORDER BY a, i, ord";

int
report_summary_run(sqlite3 *db, const struct report_args *a, int64_t now,
    struct report_result *res, const char **errstr)
{
	struct report_args wa = *a;
	struct report_span span;
	char sql[SQL_MAX];
	const char *table, *where;
	sqlite3_stmt *st;
	struct tm tm;
	time_t tt = (time_t)now;
	int64_t today, month, yday;
	size_t i;

	report_result_clear(res);
	res->name = "summary";
	for (i = 0; i < NCOLS; i++)
		if (report_result_col(res, cols_summary[i].name,
		    cols_summary[i].type) == -1) {
			*errstr = "too many columns";
			return -1;
		}
	if (gmtime_r(&tt, &tm) == NULL) {
		*errstr = "the time is out of range";
		return -1;
	}
	today = now - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	month = today - (int64_t)(tm.tm_mday - 1) * 86400;
	yday = today - 86400;
	wa.since = yday < month ? yday : month;
	wa.until = now + 1;		/* the bucket starting now is today's */
	table = report_query_table(REPORT_SRC_HOST, a->filter, &where);
	if (table == NULL) {
		*errstr = "no view for these filters";
		return -1;
	}
	/* First: a database without the view fails naming it. */
	if (report_query_span(db, REPORT_SRC_HOST, &wa, &span, errstr) == -1)
		return -1;
	/* The window (?1, ?2) runs from yesterday or the 1st, whichever
	 * is first, to now; each period's sums pick their part of it. */
	snprintf(sql, sizeof(sql), "%s%s s%s%s", sql_head, table, where,
	    sql_tail);
	if ((st = report_query_prepare(db, sql, &wa, errstr)) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 13, today) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 14, month) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 16, yday) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 17, now - today > 0 ? now - today : 1) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 18, now - month > 0 ? now - month : 1) !=
	    SQLITE_OK) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	if (report_result_fill(db, st, res, errstr) == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (report_tier_dbinfo(db, &res->dbinfo, errstr) == -1)
		return -1;
	res->tiers = span.tiers;
	res->has_tiers = 1;
	res->since = wa.since;
	res->until = wa.until;
	res->has_window = 1;
	res->has_dbinfo = 1;
	return 0;
}
