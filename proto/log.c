/*
 * log.c - stderr or syslog logging shared by the agent, store and report.
 *
 * Each message is formatted into one buffer and written with one call, so
 * lines from the agent's two threads never interleave mid-line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static void	log_emit(enum log_level, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void	log_clean(char *, size_t);
static size_t	utf8_seq(const unsigned char *, size_t);

static const char	*log_progname = "nettally";
static enum log_dest	 log_dest = LOG_TO_STDERR;
static enum log_level	 log_level = LOG_LEVEL_INFO;
static void		(*log_hook)(void);

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

/*
 * The length of the UTF-8 sequence at p (at most len bytes) when it is
 * well formed and encodes U+00A0 or above, else 0: no overlong form, no
 * surrogate, nothing past U+10FFFF, and no C1 control (U+0080 to U+009F).
 */
static size_t
utf8_seq(const unsigned char *p, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] == 0xc2)
		lo = 0xa0;		/* U+0080..U+009F are the C1 controls */
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Log lines carry text from outside: an agent's or the store's ERROR
 * text, file and interface names.  On a terminal a control character in
 * it could move the cursor, recolour or retitle the window, or hide the
 * line.  C0 controls, DEL, the C1 controls and bytes that are not UTF-8
 * become '?', one for each byte; other UTF-8 text stays as it is.
 */
static void
log_clean(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		if (p[i] >= 0x80 && (n = utf8_seq(p + i, len - i)) > 0) {
			i += n;
			continue;
		}
		p[i++] = '?';
	}
}

void
log_set_hook(void (*hook)(void))
{
	log_hook = hook;
}

int
log_stdout_done(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_err("stdout: %s", errno != 0 ? strerror(errno) :
		    "write error");
		return -1;
	}
	return 0;
}

static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	int n, off;

	if (level > log_level)
		return;
	off = log_dest == LOG_TO_SYSLOG ? 0 :
	    snprintf(line, sizeof(line), "%s: ", log_progname);
	if (off < 0 || (size_t)off >= sizeof(line))
		off = 0;
	n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - off - 2)
		n = (int)(sizeof(line) - off - 2);
	log_clean(line + off, (size_t)n);
	off += n;
	if (log_dest == LOG_TO_SYSLOG) {
		line[off] = '\0';
		syslog(prio[level], "%s", line);
		return;
	}
	line[off++] = '\n';
	if (log_hook != NULL)
		log_hook();
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
