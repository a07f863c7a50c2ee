/*
 * report_alert.h - --alert: a limit on volume or rate that turns a report
 * into a monitoring check, as vnstat --alert does.
 */
#ifndef NETTALLY_REPORT_ALERT_H
#define NETTALLY_REPORT_ALERT_H

#include <stdio.h>

#include "report_query.h"

/* Exit status of nettally when a row is over the --alert limit. */
#define REPORT_EXIT_ALERT	3

enum report_alert_dir {
	REPORT_ALERT_TOTAL,
	REPORT_ALERT_IN,
	REPORT_ALERT_OUT,
};

struct report_alert {
	int			 set;
	enum report_alert_dir	 dir;
	int			 rate;		/* limit in bit/s, else bytes */
	double			 limit;
};

/*
 * Parses "[in:|out:|total:]LIMIT", LIMIT a number (decimals allowed) and
 * a unit: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB for a volume; bit/s,
 * kbit/s, Mbit/s, Gbit/s, Tbit/s for a rate.  Returns 0, or -1 with
 * *errstr.
 */
int	report_alert_parse(const char *s, struct report_alert *al,
	    const char **errstr);

/*
 * Compares every row of res with the limit: a volume with in_bytes,
 * out_bytes or bytes; a rate with in_p95 and out_p95 when res has them,
 * else in_rate and out_rate (total: their sum).  Writes one line to err
 * for each row over the limit, naming it by its text columns.  Returns
 * the number of such rows, or -1 when res has no column to compare.
 */
int	report_alert_check(const struct report_alert *al,
	    const struct report_result *res, FILE *err);

#endif
