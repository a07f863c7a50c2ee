/*
 * log.h - one logging module for every nettally program.
 *
 * Messages go to stderr, which journald captures under systemd and which
 * an operator sees in a terminal; with log_init(name, LOG_TO_SYSLOG) they go
 * to syslog instead.  Messages read "subject: object: problem".
 * Per-packet conditions are never logged one by one: they are counted.
 */
#ifndef NETTALLY_LOG_H
#define NETTALLY_LOG_H

#include <stdarg.h>

enum log_dest {
	LOG_TO_STDERR = 0,
	LOG_TO_SYSLOG = 1,
};

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

void	log_init(const char *progname, enum log_dest);
void	log_set_level(enum log_level);
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * hook (NULL: none) runs before each message written to stderr: the
 * nettally command wipes a transient line there (report_progress.c).
 */
void	log_set_hook(void (*hook)(void));
/*
 * Flushes stdout after --help or --version, and logs a write that failed
 * ("stdout: No space left on device").  Returns 0, or -1 when output was
 * lost: an earlier failed write may have emptied the buffer, so ferror
 * is asked, not fflush alone.
 */
int	log_stdout_done(void);

#endif
