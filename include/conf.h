/*
 * conf.h - configuration files for nettally-agent and nettally-stored.
 *
 * A file is a regular file of "key = value" lines; blank lines and lines
 * whose first non-blank character is '#' are ignored, and so is a UTF-8
 * byte-order mark at its very start.  Every long option of the program
 * is a key, spelled as on the command line without the dashes; options
 * without an argument take yes/no (true/false, on/off, 1/0).
 * The file is read into command-line words placed before the real
 * arguments, so the program's own option parser checks every value, and
 * an option given on the command line wins: every line of that key is
 * dropped (a repeatable option given on the command line replaces the
 * file's list instead of adding to it).
 */
#ifndef NETTALLY_CONF_H
#define NETTALLY_CONF_H

#include <getopt.h>
#include <stddef.h>

#ifndef NETTALLY_SYSCONFDIR
#define NETTALLY_SYSCONFDIR	"/etc"
#endif
#define CONF_AGENT	NETTALLY_SYSCONFDIR "/nettally/agent.conf"
#define CONF_STORED	NETTALLY_SYSCONFDIR "/nettally/stored.conf"
#define CONF_LINE_MAX	1024		/* bytes per line, newline included */

struct conf {
	char		*path;		/* the file read, or NULL */
	int		 argc;
	char		**argv;		/* argv[0], the file's, the command's */
	int		*line;		/* per argv word: file line, 0: command */
};

/*
 * Builds conf->argc/argv from the program's arguments and its
 * configuration file: the one named by a --config option (which must
 * exist), else defpath when it exists; either must be a regular file
 * (or /dev/null, read as empty),
 * and anything else (a directory, FIFO, device) is refused without
 * blocking.  optstring and longopts are the program's getopt_long
 * tables; longopts must include "config".  Keys
 * "config", "help" and "version" are refused in a file.  Leaves getopt
 * ready to parse conf->argv from the start (optind = 0).  Returns 0, or
 * -1 with one line naming FILE:LINE and the problem in err; *c then
 * holds nothing to free.
 */
int		 conf_merge(struct conf *c, const char *defpath,
		    const char *optstring, const struct option *longopts,
		    int argc, char **argv, char *err, size_t errlen);

/*
 * Where merged word argi came from: "FILE:LINE" in buf, or NULL when it
 * came from the command line (or argi is out of range).
 */
const char	*conf_where(const struct conf *c, int argi, char *buf,
		    size_t len);

/* Frees what conf_merge allocated; NULL-safe, and safe twice. */
void		 conf_clear(struct conf *c);

#endif
