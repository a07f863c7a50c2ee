/*
 * agent_opts.c - nettally-agent's options: the usage text, the defaults,
 * and the parsing of the command line merged over the configuration file
 * (conf_merge) into one struct agent_opts.
 *
 * Invariants: a setting on the command line wins over the file's; a
 * source (-i or -r) on the command line replaces the file's of either
 * kind; every number is checked against its range here, so main sees
 * only valid settings.  Nothing here opens a capture or needs privilege.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_opts.h"
#include "capture.h"
#include "conf.h"
#include "log.h"
#include "privdrop.h"
#include "proto.h"
#include "version.h"

#define DEFAULT_SOCKET		"/run/nettally/nettally.sock"
#define DEFAULT_RESOLUTION	60
#define DEFAULT_FLUSH_MS	1000
#define DEFAULT_PROGRESS_S	10	/* -r: a progress line this often */
#define DEFAULT_SNAPLEN		512
#define DEFAULT_BUFFER_MB	32
#define DEFAULT_MAX_HOSTS	8192
#define DEFAULT_MAX_PORTS	32768
#define DEFAULT_MAX_PEERS	65536
#define DEFAULT_MAX_BUCKETS	4096

static void	usage(FILE *);
static int	parse_long(const char *, const char *, long, long, long *);
static int	opt_from_conf(const struct conf *);
static void	take_source(struct agent_opts *);
static int	add_locals(struct localnets *, const char *);
static char	*join_args(int, char **);

static void
usage(FILE *f)
{
	fprintf(f,
"usage: nettally-agent [-i IFACE | -r FILE] [-n CIDR]... [-s SOCKET] [options]\n"
"                      [BPF filter expression]\n"
"\n"
"Counts traffic per host, protocol, service port, peer and direction, and\n"
"ships the counts to nettally-stored every flush interval.\n"
"\n"
"Source (one of):\n"
"  -i, --interface IFACE  capture live on IFACE; repeat for up to %d\n"
"                         interfaces, each counted under its own name;\n"
"                         \"any\" captures every interface at once, alone\n"
"                         (default: the interface of the default route)\n"
"  -r, --read FILE        replay a pcap or pcapng file as fast as it reads;\n"
"                         \"-\" reads standard input\n"
"      --progress SECS    during -r of a regular file, log the frames\n"
"                         read so far and the share of the file every\n"
"                         SECS seconds (default %d; 0: never)\n"
"\n"
"Accounting:\n"
"  -n, --local CIDR       a local network, or several separated by commas\n"
"                         (repeatable).  Direction is decided by them:\n"
"                         traffic from a local host is `out' for it,\n"
"                         traffic to it `in'; traffic between two\n"
"                         non-local hosts is transit.  Default: the\n"
"                         interface's own addresses; for -r, the private\n"
"                         ranges 10/8 172.16/12 192.168/16 fc00::/7\n"
"                         fe80::/10.  The start-up line lists them, the\n"
"                         closing line counts transit, and a run in which\n"
"                         not one packet had a local address warns to\n"
"                         check -n\n"
"      --resolution SECS  bucket size in seconds (default %d)\n"
"      --flush MS         ship a batch every MS milliseconds (default %d)\n"
"      --max-hosts N      host rows per flush before overflow (default %d)\n"
"      --max-ports N      port rows per flush before overflow (default %d)\n"
"      --max-peers N      peer rows per flush before overflow (default %d);\n"
"                         -r keeps one set of tables with twice these caps\n"
"                         where live capture keeps two\n"
"\n"
"Delivery:\n"
"  -s, --socket PATH      the store's socket (default %s)\n"
"      --name NAME        agent name in the database: 1 to %d bytes,\n"
"                         none a control character (default\n"
"                         HOSTNAME:IFACE, or HOSTNAME:FILE for -r, with\n"
"                         '_' for a control character in FILE)\n"
"      --max-queue-mb MB  memory that batches kept for the store take\n"
"                         (encoded, with their bookkeeping) before the\n"
"                         agent holds: while the store is away or slow, or\n"
"                         past MB, counts stay aggregated in the tables\n"
"                         (memory grows with distinct keys, not with time);\n"
"                         a file replay waits for the store instead\n"
"                         (default 8)\n"
"      --spool DIR        write every batch to a file in DIR before it is\n"
"                         sent, and keep it there until the store has it:\n"
"                         batches survive a kill or crash of the agent and\n"
"                         are delivered by its next start (same --name)\n"
"                         before anything new; with -r FILE, that start on\n"
"                         the same FILE resumes where the spooled batches\n"
"                         end, instead of counting FILE again.  While the\n"
"                         store is away batches wait in DIR instead of\n"
"                         memory.  DIR must be writable by the agent's\n"
"                         user and by nobody else (mode 0700)\n"
"      --spool-max-mb MB  past MB in DIR the agent holds, as past\n"
"                         --max-queue-mb without a spool (default 1024)\n"
"\n"
"Capture:\n"
"      --snaplen BYTES    bytes kept per frame (default %d; IP byte counts\n"
"                         come from the headers, so they stay exact)\n"
"      --buffer-mb MB     kernel capture buffer (default %d)\n"
"      --threads N        capture each -i interface with N threads (1 to\n"
"                         %d), the kernel spreading its flows over them\n"
"                         (PACKET_FANOUT); each thread has its own tables,\n"
"                         so table memory grows N times (default 1)\n"
"      --exit-on-error    exit 1 when an interface is missing or down at\n"
"                         start, or goes down or is deleted later, instead\n"
"                         of logging it and waiting until it is back (a\n"
"                         deleted one is reopened by name every second,\n"
"                         for which a live agent keeps CAP_NET_RAW; with\n"
"                         this option it keeps no capability)\n"
"\n"
"Configuration:\n"
"      --config FILE      read settings from FILE instead of\n"
"                         " CONF_AGENT " (read when present):\n"
"                         \"key = value\" lines, every long option a key;\n"
"                         options given here win over the file; -i or\n"
"                         -r here replaces the file's interface or read,\n"
"                         and -r ignores the file's threads\n"
"\n"
"Privilege:\n"
"      --user USER        started as root, run as USER once the capture is\n"
"                         open (default " PRIVDROP_USER "); started as another\n"
"                         user (file capability CAP_NET_RAW, or -r), every\n"
"                         capability is cleared instead; either way a live\n"
"                         agent keeps CAP_NET_RAW alone, to reopen a\n"
"                         deleted interface, unless --exit-on-error\n"
"      --no-seccomp       do not load the system call allow-list (for\n"
"                         debugging with strace or gdb only)\n"
"\n"
"  -v, --verbose          log more\n"
"  -h, --help             this text\n"
"  -V, --version          print the version\n"
"\n"
"At the end of a file, or on SIGINT/SIGTERM/SIGHUP (an ignored SIGHUP, as\n"
"under nohup, stays ignored), the agent ships what it has counted, waits\n"
"until the store has acknowledged every batch, and exits 0.  A second\n"
"signal gives up waiting (the end of a file is no signal: the first one\n"
"after it still waits).  A signal while the agent waits (up to 5 s) for\n"
"the store to answer its HELLO ends that wait at once; at start, a clean\n"
"stop (exit 0).  A replay stopped by a signal before the end of its file\n"
"says at which packet, and exits 0 too.  Exit status 1 on any error, and\n"
"on a capture file that ends mid-record (what came before is still\n"
"counted).\n",
	    FLOWTAB_IFACES_MAX, DEFAULT_PROGRESS_S,
	    DEFAULT_RESOLUTION, DEFAULT_FLUSH_MS, DEFAULT_MAX_HOSTS,
	    DEFAULT_MAX_PORTS, DEFAULT_MAX_PEERS, DEFAULT_SOCKET,
	    PROTO_NAME_MAX, DEFAULT_SNAPLEN, DEFAULT_BUFFER_MB,
	    CAPTURE_THREADS_MAX);
}

/*
 * A decimal from lo to hi, both at least 0.  A digit first: strtol took
 * " 60" and "+60" too.
 */
static int
parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || v < lo ||
	    v > hi) {
		log_err("%s: \"%s\" is not a number from %ld to %ld", opt, s,
		    lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Joins the filter words into one string, as tcpdump does. */
static char *
join_args(int argc, char **argv)
{
	size_t len = 0;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((s = calloc(1, len + 1)) == NULL)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* 1 when the option getopt_long just returned came from the file. */
static int
opt_from_conf(const struct conf *c)
{
	/* A file's option is one word "--key=value": argv[optind - 1]. */
	return c->line != NULL && optind >= 2 && optind - 1 < c->argc &&
	    c->line[optind - 1] != 0;
}

/*
 * -n takes a list too, separated by commas or blanks: operators write
 * "10.0.0.0/8,fd00::/8" (and the start-up line prints the networks with
 * blanks between), and a list read as one network was refused with "bad
 * prefix length", which pointed at the wrong thing.
 */
static int
add_locals(struct localnets *ln, const char *arg)
{
	static const char sep[] = ", \t";
	char one[INET6_ADDRSTRLEN + 8];
	const char *p, *errstr;
	size_t len, n = 0;

	for (p = arg + strspn(arg, sep); *p != '\0'; p += len + strspn(p +
	    len, sep), n++) {
		len = strcspn(p, sep);
		if (len >= sizeof(one)) {
			log_err("-n %s: \"%.*s\" is not an address or CIDR",
			    arg, (int)len, p);
			return -1;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (localnet_add_cidr(ln, one, &errstr) == -1) {
			if (strcmp(one, arg) == 0)
				log_err("-n %s: %s", arg, errstr);
			else
				log_err("-n %s: %s: %s", arg, one, errstr);
			return -1;
		}
	}
	if (n == 0) {
		log_err("-n \"%s\": no network in it", arg);
		return -1;
	}
	return 0;
}

/*
 * Before -i or -r: a source on the command line replaces the one the
 * configuration file gave (its words come first), of either kind, as
 * other options on the command line win over the file.
 */
static void
take_source(struct agent_opts *o)
{
	int from_conf = opt_from_conf(&o->conf);

	if (o->src_conf && !from_conf) {
		o->niface = 0;
		o->file = NULL;
	}
	o->src_conf = from_conf;
}

/*
 * Fills *o, which must start zeroed, from the defaults, then the
 * configuration file, then the command line; see agent_opts.h.
 */
int
agent_opts_parse(int argc, char **argv, struct agent_opts *o)
{
	enum { O_RES = 256, O_FLUSH, O_NAME, O_SNAPLEN, O_BUFFER, O_MAXH,
	    O_MAXP, O_MAXQ, O_THREADS, O_EXITERR };
	enum { O_USER = 512, O_NOSECCOMP, O_CONFIG };
	enum { O_MAXQUEUE = 768, O_SPOOL, O_SPOOLMAX, O_PROGRESS };
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "progress", required_argument, NULL, O_PROGRESS },
		{ "local", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "resolution", required_argument, NULL, O_RES },
		{ "flush", required_argument, NULL, O_FLUSH },
		{ "name", required_argument, NULL, O_NAME },
		{ "snaplen", required_argument, NULL, O_SNAPLEN },
		{ "buffer-mb", required_argument, NULL, O_BUFFER },
		{ "max-hosts", required_argument, NULL, O_MAXH },
		{ "max-ports", required_argument, NULL, O_MAXP },
		{ "max-peers", required_argument, NULL, O_MAXQ },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-queue-mb", required_argument, NULL, O_MAXQUEUE },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "spool-max-mb", required_argument, NULL, O_SPOOLMAX },
		{ "exit-on-error", no_argument, NULL, O_EXITERR },
		{ "user", required_argument, NULL, O_USER },
		{ "no-seccomp", no_argument, NULL, O_NOSECCOMP },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char errbuf[CONF_LINE_MAX + 256];
	unsigned int i;
	long v;
	int ch;

	o->nthreads = 1;
	o->socket_path = DEFAULT_SOCKET;
	o->resolution = DEFAULT_RESOLUTION;
	o->flush_ms = DEFAULT_FLUSH_MS;
	o->progress_s = DEFAULT_PROGRESS_S;
	o->snaplen = DEFAULT_SNAPLEN;
	o->buffer_mb = DEFAULT_BUFFER_MB;
	o->lim.max_hosts = DEFAULT_MAX_HOSTS;
	o->lim.max_ports = DEFAULT_MAX_PORTS;
	o->lim.max_peers = DEFAULT_MAX_PEERS;
	o->lim.max_buckets = DEFAULT_MAX_BUCKETS;
	o->lim.few_keys = TABSET_FEW_KEYS;
	/* "+": options stop at the first filter word, as in tcpdump. */
	/* The configuration file's settings go first: flags win. */
	if (conf_merge(&o->conf, CONF_AGENT, "+i:r:n:s:vhV", longopts, argc,
	    argv, errbuf, sizeof(errbuf)) == -1) {
		log_err("%s", errbuf);
		return -1;
	}
	argc = o->conf.argc;
	argv = o->conf.argv;
	while ((ch = getopt_long(argc, argv, "+i:r:n:s:vhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i':
			take_source(o);
			if (o->niface == FLOWTAB_IFACES_MAX) {
				log_err("-i: at most %d interfaces",
				    FLOWTAB_IFACES_MAX);
				return -1;
			}
			if (!proto_name_valid(optarg, strlen(optarg),
			    PROTO_IFNAME_MAX)) {
				log_err("-i: an interface name is 1 to %d "
				    "bytes, none a control character (tab, "
				    "newline...)", PROTO_IFNAME_MAX);
				return -1;
			}
			for (i = 0; i < o->niface; i++) {
				if (strcmp(o->ifaces[i], optarg) == 0) {
					log_err("-i %s: given twice", optarg);
					return -1;
				}
				/*
				 * "any" holds every interface's frames: with
				 * another, those were counted twice, under
				 * both names, and every total summed both.
				 */
				if (strcmp(o->ifaces[i], "any") == 0 ||
				    strcmp(optarg, "any") == 0) {
					log_err("-i any captures every "
					    "interface already: with -i %s, "
					    "its frames would count twice; "
					    "give -i any alone, or the "
					    "interfaces one by one",
					    strcmp(optarg, "any") == 0 ?
					    o->ifaces[i] : optarg);
					return -1;
				}
			}
			o->ifaces[o->niface++] = optarg;
			break;
		case 'r':
			take_source(o);
			o->file = optarg;
			break;
		case 'n':
			if (add_locals(&o->ln, optarg) == -1)
				return -1;
			break;
		case 's':
			if (optarg[0] == '\0') {
				log_err("--socket: empty path; give the store's "
				    "socket path");
				return -1;
			}
			o->socket_path = optarg;
			break;
		case O_RES:
			if (parse_long("--resolution", optarg, 1, PROTO_RES_MAX,
			    &o->resolution) == -1)
				return -1;
			break;
		case O_FLUSH:
			if (parse_long("--flush", optarg, 10, 3600000,
			    &o->flush_ms) == -1)
				return -1;
			break;
		case O_PROGRESS:
			if (parse_long("--progress", optarg, 0, 86400,
			    &o->progress_s) == -1)
				return -1;
			break;
		case O_NAME:
			/* The store's rule, before any HELLO is made. */
			if (!proto_name_valid(optarg, strlen(optarg),
			    PROTO_NAME_MAX)) {
				log_err("--name: must be 1 to %d bytes, any but "
				    "control characters (tab, newline...)",
				    PROTO_NAME_MAX);
				return -1;
			}
			o->name = optarg;
			break;
		case O_SNAPLEN:
			if (parse_long("--snaplen", optarg, 64, 262144,
			    &o->snaplen) == -1)
				return -1;
			break;
		case O_BUFFER:
			if (parse_long("--buffer-mb", optarg, 1, 4096,
			    &o->buffer_mb) == -1)
				return -1;
			break;
		case O_MAXH:
		case O_MAXP:
		case O_MAXQ:
			/* The option's name: argv may hold its value alone. */
			if (parse_long(ch == O_MAXH ? "--max-hosts" :
			    ch == O_MAXP ? "--max-ports" : "--max-peers",
			    optarg, 16, 1L << 24, &v) == -1)
				return -1;
			if (ch == O_MAXH)
				o->lim.max_hosts = (size_t)v;
			else if (ch == O_MAXP)
				o->lim.max_ports = (size_t)v;
			else
				o->lim.max_peers = (size_t)v;
			break;
		case O_MAXQUEUE:
			if (parse_long("--max-queue-mb", optarg, 1, 65536,
			    &o->max_queue_mb) == -1)
				return -1;
			break;
		case O_SPOOL:
			if (*optarg == '\0') {
				log_err("--spool: name a directory");
				return -1;
			}
			o->spool_dir = optarg;
			break;
		case O_SPOOLMAX:
			if (parse_long("--spool-max-mb", optarg, 1, 1L << 22,
			    &o->spool_max_mb) == -1)
				return -1;
			break;
		case O_THREADS:
			if (parse_long("--threads", optarg, 1,
			    CAPTURE_THREADS_MAX, &o->nthreads) == -1)
				return -1;
			o->threads_conf = opt_from_conf(&o->conf);
			break;
		case O_EXITERR:
			o->exit_on_error = 1;
			break;
		case O_CONFIG:
			break;		/* read by conf_merge */
		case O_USER:
			o->user = optarg;
			break;
		case O_NOSECCOMP:
			o->no_seccomp = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			/* Written to a full disk, it was still exit 0. */
			exit(log_stdout_done() == 0 ? 0 : 1);
		case 'V':
			printf("nettally-agent %s (protocol %d)\n",
			    NETTALLY_VERSION, PROTO_VERSION);
			exit(log_stdout_done() == 0 ? 0 : 1);
		default:
			fprintf(stderr, "Try 'nettally-agent --help'.\n");
			return -1;
		}
	}
	/* Both from one place: the command line, or the file. */
	if (o->niface > 0 && o->file != NULL && o->src_conf) {
		log_err("%s: interface and read exclude each other: capture "
		    "live or read a file", o->conf.path);
		optind = 0;	/* no one line to blame (main) */
		return -1;
	}
	if (o->niface > 0 && o->file != NULL) {
		log_err("-i and -r exclude each other: capture live or read "
		    "a file");
		return -1;
	}
	if (o->file != NULL && o->nthreads > 1 && o->threads_conf)
		o->nthreads = 1;	/* the file's, for its -i */
	if (o->file != NULL && o->nthreads > 1) {
		log_err("--threads: a file is read by one thread; it applies "
		    "to -i only");
		return -1;
	}
	if (optind < argc && (o->filter = join_args(argc - optind,
	    argv + optind)) == NULL) {
		log_err("out of memory");
		return -1;
	}
	return 0;
}
