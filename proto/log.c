/*
 * log.c - stderr or syslog logging shared by the agent, store and report.
 *
 * Each message is formatted into one buffer and written with one call, so
 * lines from the agent's two threads never interleave mid-line.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static void	log_emit(enum log_level, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static const char	*log_progname = "nettally";
static enum log_dest	 log_dest = LOG_TO_STDERR;
static enum log_level	 log_level = LOG_LEVEL_INFO;

void
log_init(const char *progname, enum log_dest dest)
{
	log_progname = progname;
	log_dest = dest;
	if (dest == LOG_TO_SYSLOG)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	int n, off;

	if (level > log_level)
		return;
	if (log_dest == LOG_TO_SYSLOG) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	off = snprintf(line, sizeof(line), "%s: ", log_progname);
	if (off < 0 || (size_t)off >= sizeof(line))
		off = 0;
	n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	if (n < 0)
		return;
	off += n;
	if ((size_t)off > sizeof(line) - 2)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	/* One write per line; a failed write to stderr has nowhere to go. */
	if (write(STDERR_FILENO, line, off) < 0)
		return;
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}
