/*
 * report_series.h - nettally series: the selected traffic, one row per
 * step of time, with rates, and a bar per row for a terminal.
 */
#ifndef NETTALLY_REPORT_SERIES_H
#define NETTALLY_REPORT_SERIES_H

#include <stdint.h>

#include <sqlite3.h>

#include "report_query.h"

/* Cells of the bar drawn beside each row on a terminal. */
#define REPORT_GRAPH_WIDTH	24

/*
 * Fills res with one row per step of a's window: time, epoch, the five
 * totals and the in and out rates over the step; with graph, a bar
 * scaled to the largest row.  *step is the step in seconds, 0 for the
 * data's resolution; it must be a multiple of every resolution in the
 * selection.  On return *step holds the step used.  Returns 0, -1 with
 * *errstr on a failure, or REPORT_EUSER with *errstr when the step or the
 * window cannot be used.
 */
int	report_series_run(sqlite3 *db, const struct report_args *a,
	    int64_t *step, int graph, struct report_result *res,
	    const char **errstr);

/*
 * Checks that *step is a multiple of every resolution in a's selection,
 * or sets it to the largest when it is 0 (left 0 when there is no data).
 * Returns 0, -1 with *errstr, or REPORT_EUSER with *errstr.
 */
int	report_series_step(sqlite3 *db, const struct report_args *a,
	    int64_t *step, const char **errstr);

/*
 * Writes a bar of width cells for value/max into buf (UTF-8 block
 * characters, eighths of a cell; at least one eighth for any value > 0).
 * Returns 0, or -1 when buf (3 bytes a cell and a NUL) is too small.
 */
int	report_series_bar(int64_t value, int64_t max, int width, char *buf,
	    size_t len);

#endif
