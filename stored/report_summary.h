/*
 * report_summary.h - nettally summary: yesterday, today and this month
 * per agent and interface, as vnstat prints without options.
 */
#ifndef NETTALLY_REPORT_SUMMARY_H
#define NETTALLY_REPORT_SUMMARY_H

#include <stdint.h>

#include <sqlite3.h>

#include "report_query.h"

/*
 * Fills res with up to three rows per agent and interface that had
 * traffic: yesterday, today and month (UTC days and months around now),
 * with in, out and total bytes, packets and the average rates over the
 * part of the period that has passed.  a's since, until and limit are
 * ignored; its filters apply.  Returns 0, or -1 with *errstr.
 */
int	report_summary_run(sqlite3 *db, const struct report_args *a,
	    int64_t now, struct report_result *res, const char **errstr);

#endif
