/*
 * agent.c - nettally-agent: count traffic on an interface or in a capture
 * file and ship the counts to nettally-stored.
 *
 * Start-up order matters: parse and validate everything, open the capture
 * (the only step that needs privilege), connect to the store, then count.
 * Every failure before counting is one line on stderr and exit status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "log.h"
#include "sender.h"

#define AGENT_VERSION		"0.1.0"
#define DEFAULT_SOCKET		"/run/nettally/nettally.sock"
#define DEFAULT_RESOLUTION	60
#define DEFAULT_FLUSH_MS	1000
#define DEFAULT_SNAPLEN		512
#define DEFAULT_BUFFER_MB	32
#define DEFAULT_MAX_HOSTS	8192
#define DEFAULT_MAX_PORTS	32768
#define DEFAULT_MAX_PEERS	65536
#define DEFAULT_MAX_BUCKETS	4096

struct agent_opts {
	const char		*iface;
	const char		*file;
	const char		*socket_path;
	const char		*name;
	char			*filter;
	struct localnets	 ln;
	long			 resolution;
	long			 flush_ms;
	long			 snaplen;
	long			 buffer_mb;
	struct tabset_limits	 lim;
	int			 verbose;
};

static void	usage(FILE *);
static int	parse_long(const char *, const char *, long, long, long *);
static int	parse_opts(int, char **, struct agent_opts *);
static char	*join_args(int, char **);
static int	default_iface(char *, size_t);
static void	on_signal(int);

static volatile sig_atomic_t	stop_requested;
static volatile sig_atomic_t	abandon_requested;

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
"  -i, --interface IFACE  capture live on IFACE (default: the first up,\n"
"                         non-loopback interface)\n"
"  -r, --read FILE        replay a pcap or pcapng file as fast as it reads;\n"
"                         \"-\" reads standard input\n"
"\n"
"Accounting:\n"
"  -n, --local CIDR       a local network (repeatable).  Direction is\n"
"                         decided by it: traffic from a local host is `out'\n"
"                         for it, traffic to it `in'; traffic between two\n"
"                         non-local hosts is transit.  Default: the\n"
"                         interface's own addresses; for -r, the private\n"
"                         ranges 10/8 172.16/12 192.168/16 fc00::/7 fe80::/10\n"
"      --resolution SECS  bucket size in seconds (default %d)\n"
"      --flush MS         ship a batch every MS milliseconds (default %d)\n"
"      --max-hosts N      host rows per flush before overflow (default %d)\n"
"      --max-ports N      port rows per flush before overflow (default %d)\n"
"      --max-peers N      peer rows per flush before overflow (default %d)\n"
"\n"
"Delivery:\n"
"  -s, --socket PATH      the store's socket (default %s)\n"
"      --name NAME        agent name in the database (default\n"
"                         HOSTNAME:IFACE, or HOSTNAME:FILE for -r)\n"
"\n"
"Capture:\n"
"      --snaplen BYTES    bytes kept per frame (default %d; IP byte counts\n"
"                         come from the headers, so they stay exact)\n"
"      --buffer-mb MB     kernel capture buffer (default %d)\n"
"\n"
"  -v, --verbose          log more\n"
"  -h, --help             this text\n"
"  -V, --version          print the version\n"
"\n"
"At the end of a file, or on SIGINT/SIGTERM, the agent ships what it has\n"
"counted, waits until the store has acknowledged every batch, and exits 0.\n"
"A second signal gives up waiting.  Exit status 1 on any error.\n",
	    DEFAULT_RESOLUTION, DEFAULT_FLUSH_MS, DEFAULT_MAX_HOSTS,
	    DEFAULT_MAX_PORTS, DEFAULT_MAX_PEERS, DEFAULT_SOCKET,
	    DEFAULT_SNAPLEN, DEFAULT_BUFFER_MB);
}

static int
parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
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

static int
parse_opts(int argc, char **argv, struct agent_opts *o)
{
	enum { O_RES = 256, O_FLUSH, O_NAME, O_SNAPLEN, O_BUFFER, O_MAXH,
	    O_MAXP, O_MAXQ };
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *errstr;
	long v;
	int ch;

	o->socket_path = DEFAULT_SOCKET;
	o->resolution = DEFAULT_RESOLUTION;
	o->flush_ms = DEFAULT_FLUSH_MS;
	o->snaplen = DEFAULT_SNAPLEN;
	o->buffer_mb = DEFAULT_BUFFER_MB;
	o->lim.max_hosts = DEFAULT_MAX_HOSTS;
	o->lim.max_ports = DEFAULT_MAX_PORTS;
	o->lim.max_peers = DEFAULT_MAX_PEERS;
	o->lim.max_buckets = DEFAULT_MAX_BUCKETS;
	/* "+": options stop at the first filter word, as in tcpdump. */
	while ((ch = getopt_long(argc, argv, "+i:r:n:s:vhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i':
			o->iface = optarg;
			break;
		case 'r':
			o->file = optarg;
			break;
		case 'n':
			if (localnet_add_cidr(&o->ln, optarg, &errstr) == -1) {
				log_err("-n %s: %s", optarg, errstr);
				return -1;
			}
			break;
		case 's':
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
		case O_NAME:
			if (*optarg == '\0' || strlen(optarg) > PROTO_NAME_MAX) {
				log_err("--name: must be 1 to %d bytes",
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
			if (parse_long(argv[optind - 1], optarg, 16, 1L << 24,
			    &v) == -1)
				return -1;
			if (ch == O_MAXH)
				o->lim.max_hosts = (size_t)v;
			else if (ch == O_MAXP)
				o->lim.max_ports = (size_t)v;
			else
				o->lim.max_peers = (size_t)v;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("nettally-agent %s (protocol %d)\n",
			    AGENT_VERSION, PROTO_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'nettally-agent --help'.\n");
			return -1;
		}
	}
	if (o->iface != NULL && o->file != NULL) {
		log_err("-i and -r exclude each other: capture live or read "
		    "a file");
		return -1;
	}
	if (optind < argc && (o->filter = join_args(argc - optind,
	    argv + optind)) == NULL) {
		log_err("out of memory");
		return -1;
	}
	return 0;
}

/*
 * Picks the interface of the default route, else the first up, running,
 * non-loopback capture device.
 */
static int
default_iface(char *out, size_t len)
{
	char ebuf[PCAP_ERRBUF_SIZE], line[512], name[64], dest[16];
	pcap_if_t *all, *d;
	FILE *f;
	int rc = -1;

	if ((f = fopen("/proc/net/route", "r")) != NULL) {
		while (rc == -1 && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%63s %15s", name, dest) == 2 &&
			    strcmp(dest, "00000000") == 0 &&
			    strlen(name) < len) {
				strcpy(out, name);
				rc = 0;
			}
		fclose(f);
		if (rc == 0)
			return 0;
	}
	if (pcap_findalldevs(&all, ebuf) == -1) {
		log_err("cannot list interfaces: %s", ebuf);
		return -1;
	}
	for (d = all; d != NULL; d = d->next) {
		if ((d->flags & PCAP_IF_LOOPBACK) || !(d->flags & PCAP_IF_UP) ||
		    !(d->flags & PCAP_IF_RUNNING) || strcmp(d->name, "any") == 0)
			continue;
		if (strlen(d->name) < len) {
			strcpy(out, d->name);
			rc = 0;
			break;
		}
	}
	pcap_freealldevs(all);
	if (rc == -1)
		log_err("no interface is up: give one with -i IFACE");
	return rc;
}

static void
on_signal(int sig)
{
	(void)sig;
	if (stop_requested)
		abandon_requested = 1;
	stop_requested = 1;
}

int
main(int argc, char **argv)
{
	static struct agent_opts o;
	static struct tabset sets[2];
	struct sender_config scfg;
	struct capture c;
	struct sigaction sa;
	struct timespec now;
	struct sender *snd = NULL;
	char err[PCAP_ERRBUF_SIZE + 256], ifbuf[PROTO_IFNAME_MAX + 1];
	char host[HOST_NAME_MAX + 1];
	const char *errstr, *srcname, *base;
	uint64_t left;
	int status = 1, run_rc, ninit = 0;

	log_init("nettally-agent", LOG_TO_STDERR);
	if (parse_opts(argc, argv, &o) == -1)
		return 1;
	if (o.verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	memset(&c, 0, sizeof(c));

	if (o.file == NULL && o.iface == NULL) {
		if (default_iface(ifbuf, sizeof(ifbuf)) == -1)
			goto out;
		o.iface = ifbuf;
	}
	if (o.file != NULL) {
		if (capture_open_file(&c.src, o.file, o.filter, err,
		    sizeof(err)) == -1) {
			log_err("%s", err);
			goto out;
		}
	} else if (capture_open_live(&c.src, o.iface, (int)o.snaplen,
	    (int)(o.buffer_mb << 20), o.filter, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}

	if (o.ln.n == 0) {
		if (o.file != NULL) {
			if (localnet_add_private(&o.ln, &errstr) == -1)
				goto fail_errstr;
		} else {
			if (localnet_add_iface(&o.ln, o.iface, &errstr) == -1)
				goto fail_errstr;
			if (o.ln.n == 0) {
				log_err("%s has no IP address to tell local "
				    "from remote: give the local networks with "
				    "-n CIDR", o.iface);
				goto out;
			}
		}
	}

	memset(&scfg, 0, sizeof(scfg));
	scfg.socket_path = o.socket_path;
	scfg.heartbeat = o.file == NULL;
	scfg.hello.version = PROTO_VERSION;
	scfg.hello.resolution = (uint32_t)o.resolution;
	/*
	 * The epoch must differ between two runs even when an agent restarts
	 * within a second: the store's duplicate check is keyed on it.
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	scfg.hello.start_time = (int64_t)now.tv_sec * 1000000 +
	    now.tv_nsec / 1000;
	scfg.hello.niface = 1;
	srcname = o.file != NULL ? o.file : o.iface;
	base = strrchr(srcname, '/') != NULL ? strrchr(srcname, '/') + 1 :
	    srcname;
	if (strcmp(srcname, "-") == 0)
		base = "stdin";
	snprintf(scfg.hello.iface[0], sizeof(scfg.hello.iface[0]), "%s", base);
	if (o.name != NULL) {
		snprintf(scfg.hello.name, sizeof(scfg.hello.name), "%s",
		    o.name);
	} else {
		if (gethostname(host, sizeof(host)) == -1)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(scfg.hello.name, sizeof(scfg.hello.name), "%s:%s",
		    host, base);
	}

	for (ninit = 0; ninit < 2; ninit++)
		if (tabset_init(&sets[ninit], &o.lim, &errstr) == -1)
			goto fail_errstr;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if ((snd = sender_new(&scfg, &errstr)) == NULL) {
		log_err("%s: %s", o.socket_path, errstr);
		goto out;
	}
	if (sender_start(snd, &sets[1], &errstr) == -1)
		goto fail_errstr;
	c.ln = &o.ln;
	c.resolution = o.resolution;
	c.flush_ms = o.flush_ms;
	c.cur = &sets[0];
	c.sender = snd;
	c.stop = &stop_requested;
	log_info("%s: counting as \"%s\", local networks: %zu, store %s",
	    srcname, scfg.hello.name, o.ln.n, o.socket_path);

	run_rc = capture_run(&c, err, sizeof(err));
	if (run_rc == -1)
		log_err("%s", err);
	left = sender_finish(snd, c.cur, &abandon_requested);
	if (left > 0) {
		log_err("%llu batch(es) not acknowledged by the store were "
		    "lost", (unsigned long long)left);
		goto out;
	}
	log_info("%s: %llu frames counted and delivered", srcname,
	    (unsigned long long)c.npackets);
	status = run_rc == -1 ? 1 : 0;
	goto out;
fail_errstr:
	log_err("%s", errstr);
out:
	sender_free(snd);
	capture_close(&c.src);
	while (ninit-- > 0)
		tabset_clear(&sets[ninit]);
	free(o.filter);
	return status;
}
