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
 * default (report_series_step); on return it holds the step used.
 * Returns 0, -1 with *errstr on a failure, or REPORT_EUSER with *errstr
 * when the step or the window cannot be used.
 */
int	report_series_run(sqlite3 *db, const struct report_args *a,
	    int64_t *step, int graph, struct report_result *res,
	    const char **errstr);

/*
 * Chooses or checks the step of a series or chart of a's selection, and
 * finds the first instant at or after since (report_query_bounds; when
 * it is still unbounded none is looked for) at which a bucket of the
 * selection's resolutions can start, into *first (INT64_MAX: none).  A
 * bucket counts when it starts inside the window, so a step that ends at
 * or before *first could only print zeros for time outside the window,
 * and with *first at or after until no step can hold one.
 * The resolutions are those of the selection's rows in the window; in a
 * window without rows, those of the agents the filters name (60 s when
 * none is recorded), which then only choose the default and *first: no
 * bucket can be split.  *step 0 asks for the default: the least common
 * multiple of the resolutions, refused (REPORT_EUSER, the message naming
 * the multiple to give as --step) when it is longer than both a day and
 * the largest resolution.  A *step given must be a multiple of every
 * resolution of the rows; the message for one that is not suggests a
 * common multiple.  Returns 0, -1 with *errstr, or REPORT_EUSER with
 * *errstr.
 */
int	report_series_step(sqlite3 *db, const struct report_args *a,
	    int64_t since, int64_t *step, int64_t *first,
	    const char **errstr);

/*
 * Writes a bar of width cells for value/max into buf (UTF-8 block
 * characters, eighths of a cell; at least one eighth for any value > 0).
 * Returns 0, or -1 when buf (3 bytes a cell and a NUL) is too small.
 */
int	report_series_bar(int64_t value, int64_t max, int width, char *buf,
	    size_t len);

#endif
