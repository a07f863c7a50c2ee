/*
 * agent_opts.h - nettally-agent's settings: the command line and the
 * configuration file, parsed and checked before anything is opened.
 */
#ifndef NETTALLY_AGENT_OPTS_H
#define NETTALLY_AGENT_OPTS_H

#include "conf.h"
#include "flowtab.h"
#include "localnet.h"

struct agent_opts {
	const char		*ifaces[FLOWTAB_IFACES_MAX];
	unsigned int		 niface;
	const char		*file;
	const char		*socket_path;
	const char		*name;
	char			*filter;
	struct localnets	 ln;
	long			 resolution;
	long			 flush_ms;
	long			 progress_s;
	long			 snaplen;
	long			 buffer_mb;
	long			 max_queue_mb;
	const char		*spool_dir;	/* --spool */
	long			 spool_max_mb;
	struct tabset_limits	 lim;
	long			 nthreads;
	int			 exit_on_error;
	int			 verbose;
	const char		*user;		/* --user */
	int			 no_seccomp;
	struct conf		 conf;		/* owns the file's words */
	/*
	 * The source (ifaces or file) and --threads so far came from the
	 * configuration file: a source on the command line replaces the
	 * file's, and the file's --threads is for live capture only.
	 */
	int			 src_conf;
	int			 threads_conf;
};

/*
 * Fills *o, which must start zeroed: the defaults, then the settings of
 * the configuration file (o->conf takes over its words), then the
 * command line, which wins; every value is checked for range.  --help
 * and --version print and exit(0).  Returns 0, or -1 after logging why;
 * then conf_where(&o->conf, optind - 1, ...) names the file's line when
 * the word refused came from the file.  Either way the caller releases
 * o->conf with conf_clear() and, on 0, frees o->filter (the BPF filter
 * words joined, or NULL).
 */
int	agent_opts_parse(int, char **, struct agent_opts *);

#endif
