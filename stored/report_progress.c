/*
 * report_progress.c - the "still reading" line of the nettally command
 * (report_progress.h).
 *
 * SQLite calls the progress handler every REPORT_PROGRESS_OPS virtual
 * machine instructions of a statement: often enough to update the line
 * within a fraction of a second, rarely enough that reading the clock
 * costs nothing measurable.  A wait inside one instruction (a lock held
 * by a writer, a slow disk) is not seen until the next one.  The line
 * is written with write(2) in one call, as log.c writes its lines, and
 * wiped with a carriage return, spaces over it and another carriage
 * return: no escape sequence a terminal might not know.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "report_progress.h"

#define REPORT_PROGRESS_OPS	1000
#define REPORT_PROGRESS_LINE	80

static int	progress_cb(void *);
static void	progress_write(const char *, size_t);

static int	 progress_on;		/* a connection's reads are timed */
static int64_t	 progress_t0;		/* when its reads began */
static int64_t	 progress_next;		/* when to write the line next */
static size_t	 progress_shown;	/* the line's length on screen */

/* stderr takes what it takes: the line is a courtesy, never an error. */
static void
progress_write(const char *s, size_t n)
{
	ssize_t w;

	while (n > 0 && (w = write(STDERR_FILENO, s, n)) > 0) {
		s += w;
		n -= (size_t)w;
	}
}

/* Returns 0: the statement goes on; the line never stops a report. */
static int
progress_cb(void *arg)
{
	char line[REPORT_PROGRESS_LINE];
	int64_t now = clock_mono_ms();
	int n;

	(void)arg;
	if (!progress_on || now < progress_next)
		return 0;
	progress_next = now + 1000;
	n = snprintf(line, sizeof(line), "\rnettally: still reading the "
	    "database (%lld s)", (long long)((now - progress_t0) / 1000));
	if (n <= 0 || (size_t)n >= sizeof(line))
		return 0;
	progress_write(line, (size_t)n);
	/* Without its carriage return. */
	progress_shown = (size_t)n - 1;
	return 0;
}

void
report_progress_start(sqlite3 *db)
{
	report_progress_end();
	if (!isatty(STDERR_FILENO))
		return;
	progress_on = 1;
	progress_t0 = clock_mono_ms();
	progress_next = progress_t0 + REPORT_PROGRESS_AFTER_MS;
	sqlite3_progress_handler(db, REPORT_PROGRESS_OPS, progress_cb, NULL);
	log_set_hook(report_progress_end);
}

void
report_progress_end(void)
{
	char blank[REPORT_PROGRESS_LINE + 2];

	/*
	 * The handler stays on the connection, idle: it may be closed by
	 * now, and is not to be touched.
	 */
	if (!progress_on)
		return;
	progress_on = 0;
	log_set_hook(NULL);
	if (progress_shown == 0)
		return;
	blank[0] = '\r';
	memset(blank + 1, ' ', progress_shown);
	blank[progress_shown + 1] = '\r';
	progress_write(blank, progress_shown + 2);
	progress_shown = 0;
}
