/*
 * report_time.c - durations and ISO-8601 UTC times for --since / --until.
 *
 * Everything is UTC and integer seconds: no locale, no TZ, no mktime, so a
 * given argument means the same instant on every machine.  Parsers are
 * strict (the whole string must match) and bounded: a duration never
 * exceeds REPORT_TIME_MAX_DURATION, so "now - duration" cannot overflow.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_time.h"

static int	 is_digit(char);
static int	 fixed_digits(const char *, size_t, int *);
static int	 is_leap(int);
static int64_t	 leaps_before(int);
static int64_t	 days_from_date(int, int, int);
static int	 days_in_month(int, int);

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n decimal digits at s into *v; -1 if any is not a digit. */
static int
fixed_digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Number of leap years in [1, y), y >= 1. */
static int64_t
leaps_before(int y)
{
	int64_t p = (int64_t)y - 1;

	return p / 4 - p / 100 + p / 400;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return mdays[m - 1] + (m == 2 && is_leap(y));
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_date(int y, int m, int d)
{
	static const int before[12] =
	    { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	int64_t days;

	days = ((int64_t)y - 1970) * 365 + leaps_before(y) - leaps_before(1970);
	days += before[m - 1] + (m > 2 && is_leap(y)) + d - 1;
	return days;
}

int
report_time_duration(const char *s, int64_t *secs, const char **errstr)
{
	int64_t total = 0, n, mult;
	const char *p = s;

	if (*p == '\0') {
		*errstr = "empty duration";
		return -1;
	}
	while (*p != '\0') {
		if (!is_digit(*p)) {
			*errstr = "a duration is a number followed by s, m, h, "
			    "d or w";
			return -1;
		}
		for (n = 0; is_digit(*p); p++) {
			n = n * 10 + (*p - '0');
			if (n > REPORT_TIME_MAX_DURATION) {
				*errstr = "duration longer than 100 years";
				return -1;
			}
		}
		switch (*p) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		case '\0':
			*errstr = "the number has no unit (s, m, h, d or w)";
			return -1;
		default:
			*errstr = "unknown unit; units are s, m, h, d and w";
			return -1;
		}
		p++;
		if (n > (REPORT_TIME_MAX_DURATION - total) / mult) {
			*errstr = "duration longer than 100 years";
			return -1;
		}
		total += n * mult;
	}
	*secs = total;
	return 0;
}

int
report_time_iso(const char *s, int64_t *t, const char **errstr)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	size_t len = strlen(s);

	if ((len != 10 && len != 20) ||
	    fixed_digits(s, 4, &y) == -1 || s[4] != '-' ||
	    fixed_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    fixed_digits(s + 8, 2, &d) == -1)
		goto syntax;
	if (len == 20 && (s[10] != 'T' ||
	    fixed_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    fixed_digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    fixed_digits(s + 17, 2, &sec) == -1 || s[19] != 'Z'))
		goto syntax;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
		*errstr = "no such date";
		return -1;
	}
	if (h > 23 || mi > 59 || sec > 59) {
		*errstr = "no such time of day";
		return -1;
	}
	*t = days_from_date(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
syntax:
	*errstr = "a time is YYYY-MM-DDTHH:MM:SSZ (UTC) or YYYY-MM-DD";
	return -1;
}

int
report_time_parse(const char *s, int64_t now, int64_t unbounded, int64_t *t,
    const char **errstr)
{
	int64_t secs;
	size_t n;

	if (strcmp(s, "all") == 0) {
		*t = unbounded;
		return 0;
	}
	if (strcmp(s, "now") == 0) {
		*t = now;
		return 0;
	}
	/*
	 * Four digits or more and a dash can only start a date, and one of
	 * more than four a year past any a store keeps: said so, where the
	 * duration parser would blame a unit.
	 */
	for (n = 0; is_digit(s[n]); n++)
		continue;
	if (n > 4 && s[n] == '-') {
		*errstr = "years run from 0001 to 9999";
		return -1;
	}
	if (n == 4 && s[n] == '-')
		return report_time_iso(s, t, errstr);
	if (report_time_duration(s, &secs, errstr) == -1)
		return -1;
	*t = now - secs;
	return 0;
}

int
report_time_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt;
	int n;

	if (t == REPORT_TIME_NONE_LOW || t == REPORT_TIME_NONE_HIGH)
		return -1;
	tt = (time_t)t;
	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL)
		return -1;
	if (tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return -1;
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}
