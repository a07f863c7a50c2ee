/*
 * report_tier.h - which retention tiers a report read, and what each tier
 * of the database holds.
 *
 * The store keeps each instant in exactly one tier (stored/retention.c
 * moves rows, it never copies them), so a report that sums a time range
 * over every resolution reads, for each instant, the finest tier still
 * holding it.  What is left to say is which tiers those were: a report
 * records, per resolution it read, its first and last bucket
 * (struct report_tiers), and prints them beside its rows.  nettally
 * summary adds the database's size and each tier's coverage
 * (struct report_dbinfo).
 */
#ifndef NETTALLY_REPORT_TIER_H
#define NETTALLY_REPORT_TIER_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/*
 * Resolutions of the roll-up tiers, as schema v2 stores them (the same
 * values as RETENTION_RES_* in retention.h, which the report command does
 * not link).  A monthly bucket is a calendar month, UTC.
 */
#define REPORT_TIER_HOUR	3600
#define REPORT_TIER_DAY		86400
#define REPORT_TIER_MONTH	2592000

/* Parts kept per report; more distinct resolutions are only counted. */
#define REPORT_TIERS_MAX	8

/* Room for a resolution's text: "-9223372036854775808 s" and its NUL. */
#define REPORT_TIER_LABEL_LEN	32

/* One resolution's share of what was read, or of the database. */
struct report_part {
	int64_t	 res;			/* seconds; REPORT_TIER_MONTH: a month */
	int64_t	 first;			/* start of the oldest bucket */
	int64_t	 newest;		/* start of the newest bucket */
	int64_t	 end;			/* end of the newest bucket */
	int64_t	 nbuckets;		/* distinct buckets; 0 when not counted */
};

/* The resolutions of a selection, oldest first (ties: finest first). */
struct report_tiers {
	struct report_part	 part[REPORT_TIERS_MAX];
	size_t			 n;
	size_t			 nmore;	/* resolutions past REPORT_TIERS_MAX */
};

/* nettally summary's account of the database file. */
struct report_dbinfo {
	int64_t			 page_count;
	int64_t			 page_size;
	int64_t			 freelist;	/* free pages inside the file */
	int			 has_wal;	/* a -wal file exists */
	int64_t			 wal_bytes;	/* its size, not in page_count */
	struct report_tiers	 cover;		/* every tier, whole database */
};

/*
 * The step key of a bucket in SQL, the step bound as ?12: a step of
 * REPORT_TIER_MONTH is the calendar month the bucket starts in (as the
 * monthly tier's buckets are), any other the epoch-aligned multiple.
 */
#define REPORT_TIER_STEP_SQL \
	"CASE ?12 WHEN 2592000 THEN CAST(strftime('%s', bucket, 'unixepoch'," \
	" 'start of month') AS INTEGER) ELSE bucket - bucket % ?12 END"

/* "raw", "hourly", "daily" or "monthly", as the tier_coverage view says. */
const char	*report_tier_name(int64_t res);

/*
 * Writes a resolution as people say it into buf, which has room for
 * REPORT_TIER_LABEL_LEN bytes (any int64_t fits): "1 month", "1 day",
 * "1 hour", "5 min", "90 s".
 */
void	report_tier_label(int64_t res, char *buf);

/*
 * Steps of a series or chart.  A step of REPORT_TIER_MONTH is a calendar
 * month, UTC; any other is step seconds from the epoch.  report_tier_floor
 * returns the start of the step holding t; report_tier_next the start of
 * the step after the one starting at t; report_tier_count the number of
 * steps from start (a step start) until end, at most cap + 1.
 */
int64_t	report_tier_floor(int64_t t, int64_t step);
int64_t	report_tier_next(int64_t t, int64_t step);
int64_t	report_tier_count(int64_t start, int64_t end, int64_t step,
	    int64_t cap);

/*
 * Reads one row of st (resolution, first bucket, newest bucket, end of
 * the newest bucket, distinct buckets) into t, keeping the oldest-first
 * order when the rows come sorted by first bucket.
 */
void	report_tier_add(struct report_tiers *t, sqlite3_stmt *st);

/*
 * Fills *info from db (opened on a file): the size pragmas, the -wal
 * file beside it, and the coverage of every tier from the tier_coverage
 * view.  Returns 0, or -1 with *errstr.
 */
int	report_tier_dbinfo(sqlite3 *db, struct report_dbinfo *info,
	    const char **errstr);

#endif
