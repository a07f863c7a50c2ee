/*
 * report_tier.c - which retention tiers a report read, and what each tier
 * of the database holds.
 *
 * A tier is named by its resolution alone, as the tier_coverage view
 * names it: 3600 hourly, 86400 daily, 2592000 monthly, anything else an
 * agent's raw tier (so an agent running at --resolution 3600 writes into
 * the hourly tier, as retention.c treats it).  The database size is what
 * a reader sees, PRAGMA page_count * page_size: the pages of its last
 * commit, including those still only in the -wal file; the -wal file's
 * own size is reported apart, never added, as it holds old page versions
 * too.  Nothing here writes: every statement is a read on the report's
 * read-only connection.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "report_db.h"
#include "report_query.h"
#include "report_tier.h"

static int64_t	month_add(int64_t, int);

/* Every tier of the database, finest first; see report_tier_add. */
static const char sql_cover[] =
    "SELECT resolution, first_bucket, CASE resolution WHEN 2592000 THEN"
    " CAST(strftime('%s', end_bucket, 'unixepoch', '-1 month') AS INTEGER)"
    " ELSE end_bucket - resolution END, end_bucket, nbuckets"
    " FROM tier_coverage ORDER BY resolution";

const char *
report_tier_name(int64_t res)
{
	switch (res) {
	case REPORT_TIER_HOUR:
		return "hourly";
	case REPORT_TIER_DAY:
		return "daily";
	case REPORT_TIER_MONTH:
		return "monthly";
	default:
		return "raw";
	}
}

void
report_tier_label(int64_t res, char *buf)
{
	static const struct { int64_t secs; const char *one, *many; } u[] = {
		{ 86400, "day", "days" }, { 3600, "hour", "hours" },
		{ 60, "min", "min" },
	};
	size_t i;

	if (res == REPORT_TIER_MONTH) {
		snprintf(buf, REPORT_TIER_LABEL_LEN, "1 month");
		return;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (res > 0 && res % u[i].secs == 0) {
			snprintf(buf, REPORT_TIER_LABEL_LEN, "%lld %s",
			    (long long)(res / u[i].secs),
			    res == u[i].secs ? u[i].one : u[i].many);
			return;
		}
	snprintf(buf, REPORT_TIER_LABEL_LEN, "%lld s", (long long)res);
}

/* The first second of the calendar month holding t, plus n months. */
static int64_t
month_add(int64_t t, int n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		return t;
	tm.tm_mon += n;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm);
}

int64_t
report_tier_floor(int64_t t, int64_t step)
{
	if (step == REPORT_TIER_MONTH)
		return month_add(t, 0);
	return t - ((t % step) + step) % step;
}

int64_t
report_tier_next(int64_t t, int64_t step)
{
	return step == REPORT_TIER_MONTH ? month_add(t, 1) : t + step;
}

int64_t
report_tier_count(int64_t start, int64_t end, int64_t step, int64_t cap)
{
	int64_t n = 0, t;

	if (end <= start)
		return 0;
	if (step != REPORT_TIER_MONTH)
		return (end - start + step - 1) / step;
	/* At most cap + 1 months of about 2.6 million seconds each. */
	for (t = start; t < end && n <= cap; t = month_add(t, 1))
		n++;
	return n;
}

void
report_tier_add(struct report_tiers *t, sqlite3_stmt *st)
{
	struct report_part *p;

	if (t->n == REPORT_TIERS_MAX) {
		t->nmore++;
		return;
	}
	p = &t->part[t->n++];
	p->res = sqlite3_column_int64(st, 0);
	p->first = sqlite3_column_int64(st, 1);
	p->newest = sqlite3_column_int64(st, 2);
	p->end = sqlite3_column_int64(st, 3);
	p->nbuckets = sqlite3_column_int64(st, 4);
}

int
report_tier_dbinfo(sqlite3 *db, struct report_dbinfo *info,
    const char **errstr)
{
	static char msg[640];
	const char *path;
	char wal[4096];
	sqlite3_stmt *st;
	struct stat sb;
	int rc;

	memset(info, 0, sizeof(*info));
	/* One read transaction: size and coverage of the same commit. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (report_db_int(db, "PRAGMA page_count", &info->page_count) == -1 ||
	    report_db_int(db, "PRAGMA page_size", &info->page_size) == -1 ||
	    report_db_int(db, "PRAGMA freelist_count", &info->freelist) == -1)
		goto fail_tx;
	if (sqlite3_prepare_v2(db, sql_cover, -1, &st, NULL) != SQLITE_OK)
		goto fail_tx;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		report_tier_add(&info->cover, st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto fail_tx;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	path = sqlite3_db_filename(db, "main");
	if (path != NULL && path[0] != '\0' &&
	    (size_t)snprintf(wal, sizeof(wal), "%s-wal", path) < sizeof(wal) &&
	    stat(wal, &sb) == 0) {
		info->has_wal = 1;
		info->wal_bytes = (int64_t)sb.st_size;
	}
	return 0;
fail_tx:
	snprintf(msg, sizeof(msg), "database size and tiers: %s",
	    report_query_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	*errstr = msg;
	return -1;
fail:
	snprintf(msg, sizeof(msg), "database size and tiers: %s",
	    report_query_errmsg(db));
	*errstr = msg;
	return -1;
}
