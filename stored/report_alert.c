/*
 * report_alert.c - limits for monitoring checks.
 *
 * A check runs a report and exits REPORT_EXIT_ALERT when any printed row
 * is over the limit: so the same filters and windows that pick rows for a
 * person pick them for Nagios, Icinga or a cron job.  A row is over when
 * its value is strictly greater than the limit.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_alert.h"
#include "report_format.h"

static int	col_index(const struct report_result *, const char *);
static double	cell(const struct report_result *, size_t, int);
static void	put_text(FILE *, const char *);
static int64_t	bytes_clamped(double);
static size_t	decimal_len(const char *);

static const struct {
	const char	*name;
	double		 mult;
	int		 rate;
} units[] = {
	{ "B", 1, 0 },
	{ "kB", 1e3, 0 }, { "MB", 1e6, 0 }, { "GB", 1e9, 0 },
	{ "TB", 1e12, 0 },
	{ "KiB", 1024.0, 0 }, { "MiB", 1048576.0, 0 },
	{ "GiB", 1073741824.0, 0 }, { "TiB", 1099511627776.0, 0 },
	{ "bit/s", 1, 1 }, { "kbit/s", 1e3, 1 }, { "Mbit/s", 1e6, 1 },
	{ "Gbit/s", 1e9, 1 }, { "Tbit/s", 1e12, 1 },
};

/*
 * Length of the plain decimal (DIGITS or DIGITS.DIGITS) s starts with,
 * or 0 if it does not start with one.  The documented grammar, so that
 * 1e3GB or 0x10GB is refused rather than read as some other limit.
 */
static size_t
decimal_len(const char *s)
{
	size_t n = 0, f;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || s[n] != '.')
		return n;
	for (f = n + 1; s[f] >= '0' && s[f] <= '9'; f++)
		;
	return f == n + 1 ? 0 : f;
}

int
report_alert_parse(const char *s, struct report_alert *al,
    const char **errstr)
{
	const char *p = s;
	char *end = NULL;
	double v;
	size_t i, len;

	memset(al, 0, sizeof(*al));
	if (strncmp(p, "in:", 3) == 0) {
		al->dir = REPORT_ALERT_IN;
		p += 3;
	} else if (strncmp(p, "out:", 4) == 0) {
		al->dir = REPORT_ALERT_OUT;
		p += 4;
	} else if (strncmp(p, "total:", 6) == 0)
		p += 6;
	/*
	 * strtod alone would also take exponents, hex and inf/nan; it only
	 * converts what decimal_len has already checked, and must stop at
	 * the same byte (it would not under a locale with another radix).
	 */
	len = decimal_len(p);
	v = len > 0 ? strtod(p, &end) : 0;
	if (len == 0 || end != p + len) {
		*errstr = "a limit is [in:|out:|total:]NUMBER UNIT, e.g. "
		    "5GiB or out:100Mbit/s";
		return -1;
	}
	if (!isfinite(v)) {
		*errstr = "the limit is out of range";
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].name) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		*errstr = "unknown unit; use B, kB, MB, GB, TB, KiB, MiB, GiB, "
		    "TiB, bit/s, kbit/s, Mbit/s, Gbit/s or Tbit/s";
		return -1;
	}
	al->limit = v * units[i].mult;
	al->rate = units[i].rate;
	al->set = 1;
	return 0;
}

static int
col_index(const struct report_result *res, const char *name)
{
	size_t c;

	for (c = 0; c < res->ncols; c++)
		if (strcmp(res->cols[c].name, name) == 0)
			return (int)c;
	return -1;
}

static double
cell(const struct report_result *res, size_t row, int col)
{
	const struct report_value *v = &res->cells[row * res->ncols + col];

	if (v->isnull)
		return 0;
	return res->cols[col].type == REPORT_COL_RATE ||
	    res->cols[col].type == REPORT_COL_REAL ? v->real :
	    (double)v->num;
}

/*
 * x as a byte count for report_format_bytes.  An in + out sum of two
 * saturated counters (or a huge limit) is past INT64_MAX, where a cast
 * is undefined: it shows as INT64_MAX, as the saturated bytes column
 * does.  2^63 is exact in a double; every double below it fits.
 */
static int64_t
bytes_clamped(double x)
{
	if (!(x < 9223372036854775808.0))
		return INT64_MAX;
	if (x < 0)
		return 0;
	return (int64_t)x;
}

/* Writes " text", filtered as a table's: text is from the database. */
static void
put_text(FILE *err, const char *s)
{
	putc(' ', err);
	report_format_text(err, s);
}

int
report_alert_check(const struct report_alert *al,
    const struct report_result *res, FILE *err)
{
	char shown[REPORT_BYTES_LEN], lim[REPORT_BYTES_LEN];
	const struct report_value *v;
	const char *what;
	int ci, co, over = 0;
	size_t r, c;
	double x;

	if (al->rate) {
		ci = col_index(res, "in_p95");
		co = col_index(res, "out_p95");
		if (ci == -1 || co == -1) {
			ci = col_index(res, "in_rate");
			co = col_index(res, "out_rate");
		}
	} else {
		ci = col_index(res, "in_bytes");
		co = col_index(res, "out_bytes");
	}
	if (ci == -1 || co == -1)
		return -1;
	what = al->dir == REPORT_ALERT_IN ? res->cols[ci].name :
	    al->dir == REPORT_ALERT_OUT ? res->cols[co].name :
	    al->rate ? "in+out rate" : "bytes";
	for (r = 0; r < res->nrows; r++) {
		x = al->dir == REPORT_ALERT_IN ? cell(res, r, ci) :
		    al->dir == REPORT_ALERT_OUT ? cell(res, r, co) :
		    cell(res, r, ci) + cell(res, r, co);
		if (!(x > al->limit))
			continue;
		over++;
		fputs("nettally: alert:", err);
		for (c = 0; c < res->ncols; c++) {
			v = &res->cells[r * res->ncols + c];
			if (res->cols[c].type == REPORT_COL_TEXT &&
			    v->text != NULL && strcmp(res->cols[c].name,
			    "graph") != 0)
				put_text(err, v->text);
		}
		if (al->rate) {
			report_format_rate(x, shown, sizeof(shown));
			report_format_rate(al->limit, lim, sizeof(lim));
		} else {
			report_format_bytes(bytes_clamped(x), shown,
			    sizeof(shown));
			report_format_bytes(bytes_clamped(al->limit), lim,
			    sizeof(lim));
		}
		fprintf(err, ": %s %s is over the limit %s\n", what, shown,
		    lim);
	}
	return over;
}
