/*
 * report_chart.h - nettally chart: a standalone SVG time series.
 */
#ifndef NETTALLY_REPORT_CHART_H
#define NETTALLY_REPORT_CHART_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "report_query.h"

enum report_chart_by {
	REPORT_CHART_HOST,
	REPORT_CHART_PROTO,
	REPORT_CHART_IFACE,
};

/* Most series drawn; the rest are summed into "other". */
#define REPORT_CHART_SERIES_MAX	8

/*
 * Looks up a --by name: host, proto or iface.  Returns 0, or -1.
 */
int	report_chart_by_parse(const char *name, enum report_chart_by *by);

/*
 * Writes to out an SVG chart of a's window, one step per column: the in
 * rate of the a->limit busiest keys (by bytes, at most
 * REPORT_CHART_SERIES_MAX, the rest as "other") stacked above the time
 * axis, their out rate stacked below it, with axes in bit/s and UTC time
 * and a legend.  *step as for report_series_run.  Returns 0, -1 with
 * *errstr, or REPORT_EUSER with *errstr.
 */
int	report_chart_write(sqlite3 *db, const struct report_args *a,
	    enum report_chart_by by, int64_t *step, FILE *out,
	    const char **errstr);

#endif
