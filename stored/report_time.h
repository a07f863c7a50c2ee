/*
 * report_time.h - the times and durations the nettally command accepts.
 *
 * A point in time is epoch seconds (int64_t).  REPORT_TIME_NONE_LOW and
 * REPORT_TIME_NONE_HIGH stand for "no bound" (the word "all") so a query can
 * bind them as ordinary integers and still select every bucket.
 */
#ifndef NETTALLY_REPORT_TIME_H
#define NETTALLY_REPORT_TIME_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_TIME_NONE_LOW	INT64_MIN
#define REPORT_TIME_NONE_HIGH	INT64_MAX

/* The longest duration accepted: 100 years of 365 days. */
#define REPORT_TIME_MAX_DURATION	((int64_t)100 * 365 * 86400)

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define REPORT_TIME_ISO_LEN	21

/*
 * Parses a duration: one or more NUMBER UNIT pairs, UNIT one of s, m, h,
 * d, w ("90s", "15m", "1h30m").  Stores seconds in *secs and returns 0, or
 * returns -1 with *errstr (static text) saying what is wrong.
 */
int	report_time_duration(const char *s, int64_t *secs, const char **errstr);

/*
 * Parses an ISO-8601 UTC time, "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD"
 * (midnight UTC), into epoch seconds.  Returns 0, or -1 with *errstr.
 */
int	report_time_iso(const char *s, int64_t *t, const char **errstr);

/*
 * Parses a --since or --until value: a duration back from now, an ISO
 * time, "now", or "all", which stores unbounded.  Returns 0, or -1 with
 * *errstr.
 */
int	report_time_parse(const char *s, int64_t now, int64_t unbounded,
	    int64_t *t, const char **errstr);

/*
 * Writes t as "YYYY-MM-DDTHH:MM:SSZ" into buf (REPORT_TIME_ISO_LEN bytes or
 * more).  Returns 0, or -1 when t is unbounded or out of range.
 */
int	report_time_format(int64_t t, char *buf, size_t len);

#endif
