/*
 * report_progress.h - a line on a terminal while the nettally command's
 * reads run long.
 *
 * A report over a large database can read for many seconds with nothing
 * on screen.  When stderr is a terminal, once a connection's reads have
 * run REPORT_PROGRESS_AFTER_MS, one line on stderr says the command is
 * still reading and for how long, rewritten in place each second, and
 * wiped (report_progress_end) before anything else is written: the
 * report on stdout, and any log message (log_set_hook), so neither
 * shares a line with it.  Nothing is written when stderr is not a
 * terminal: CSV and JSON piped or redirected, and logs, stay clean.
 */
#ifndef NETTALLY_REPORT_PROGRESS_H
#define NETTALLY_REPORT_PROGRESS_H

#include <sqlite3.h>

#define REPORT_PROGRESS_AFTER_MS	2000

/*
 * Starts timing db's reads from now; with stderr a terminal, the line is
 * shown once they have run REPORT_PROGRESS_AFTER_MS.  One connection at
 * a time: a later call ends an earlier one's first.
 */
void	report_progress_start(sqlite3 *db);

/*
 * Wipes the line if shown and stops timing.  Safe to call at any time,
 * again, without a start, and after the connection was closed.
 */
void	report_progress_end(void);

#endif
