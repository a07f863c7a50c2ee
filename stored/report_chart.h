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

/* A chart's data, read and checked, ready to draw. */
struct report_chart;

/*
 * Reads from db everything a chart of a's window needs, one step per
 * column: the in rate of the a->limit busiest keys (by bytes, at most
 * REPORT_CHART_SERIES_MAX, the rest as "other") and their out rate.
 * *step as for report_series_run.  Every check that can refuse the chart
 * is made here, so a caller opens its output only for a chart that will
 * be drawn.  Returns a chart for report_chart_free with *rc 0; or NULL
 * with *rc -1 or REPORT_EUSER and *errstr.
 */
struct report_chart *report_chart_load(sqlite3 *db,
	    const struct report_args *a, enum report_chart_by by,
	    int64_t *step, int *rc, const char **errstr);

/*
 * Writes c to out as a standalone SVG: the in rates stacked above the
 * time axis, the out rates below it, axes in bit/s and UTC time, the
 * tiers read and a legend.  Allocates nothing.  Returns 0, or -1 when out
 * has an error (errno as the failed write left it).
 */
int	report_chart_draw(struct report_chart *c, FILE *out);

/*
 * Sets [*since, *until) to the window c covers.  Returns 1 when c read no
 * rows (its filters selected nothing in the window), else 0.
 */
int	report_chart_empty(const struct report_chart *c, int64_t *since,
	    int64_t *until);

/* Frees c; NULL is allowed. */
void	report_chart_free(struct report_chart *c);

#endif
