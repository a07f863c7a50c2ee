/*
 * stored.c - nettally-stored: options, start-up, signals, shutdown.
 *
 * Start-up order: parse options; refuse root without --allow-root; take
 * a socket systemd passed, or probe the socket (refuse if a store runs
 * there, remove a stale one); open the database (creating its
 * directory); start the writer thread; bind and listen.  Any failure is
 * one line on stderr naming the cause and the fix, and exit 1.
 *
 * Shutdown (SIGTERM, SIGINT, SIGHUP): close the listener, stop reading, let the
 * writer commit and ack what was received, close the connections, join
 * the writer, close the database, close every handle, and end with
 * uv_loop_close() == 0.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "activate.h"
#include "conf.h"
#include "conn.h"
#include "db.h"
#include "fdlimit.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "retention.h"
#include "schema.h"
#include "version.h"
#include "writer.h"


#define STORED_SOCKET	"/run/nettally/nettally.sock"
#define STORED_DB	"/var/lib/nettally/nettally.db"
#define STORED_MODE	0660

struct stored {
	uv_loop_t	*loop;
	const char	*socket_path;
	int		 allow_root;		/* --allow-root */
	int		 activated;		/* socket passed by systemd */
	char		 activated_path[108];
	const char	*db_path;
	mode_t		 socket_mode;
	uid_t		 socket_owner;		/* -1: the store's own */
	gid_t		 socket_group;		/* -1: the store's own */
	struct db	*db;
	struct retention_conf ret_conf;
	struct retention *ret;
	struct server	 srv;
	struct conf	 conf;			/* owns the file's words */
	uv_pipe_t	 listener;
	int		 listening;
	uv_signal_t	 sigterm, sigint, sighup;
	int		 hup_ignored;		/* inherited SIG_IGN: nohup */
	const char	*metrics_arg;		/* --metrics, NULL: off */
	struct sockaddr_storage metrics_addr;
	int		 metrics_loopback;
	struct metrics	*metrics;
};

static struct stored	stored;

static void	usage(FILE *);
static int	parse_ulong(const char *, int, unsigned long, unsigned long *);
static int	parse_mode(const char *, mode_t *);
static void	stored_signal_cb(uv_signal_t *, int);
static void	stored_closed(struct server *);
static void	stored_listener_unlink(struct stored *);
static int	parse_retention(int, const char *, struct retention_conf *);
static int	stored_stop_signals_default(int *);
static int	stored_fit_fds(struct stored *);

static void
usage(FILE *f)
{
	fprintf(f,
"usage: nettally-stored [-v] [--allow-root] [-s path] [-d file]\n"
"                       [--socket-mode mode]\n"
"                       [--socket-owner user] [--socket-group group]\n"
"                       [--allow-uid user]... [--allow-group group]...\n"
"                       [--keep-raw D] [--keep-hourly D] [--keep-daily D]\n"
"                       [--monthly] [--top-ports N] [--top-peers N]\n"
"                       [--retention-clock data|wall]\n"
"                       [--metrics [ADDR:]PORT] [--read-timeout SECS]\n"
"                       [--config FILE]\n"
"       nettally-stored --help | --version\n"
"\n"
"nettally-stored receives traffic batches from nettally-agent over a Unix\n"
"socket and writes them into an SQLite database, the one writer of that\n"
"database.  A batch is acknowledged to its agent only once committed;\n"
"a batch resent after a reconnect is recognised and not counted twice.\n"
"When the disk is full or slow, the store keeps the batches, retries, and\n"
"stops reading from the agents (which keep their data) until it catches\n"
"up.  It never deletes or truncates the database.\n"
"\n"
"Options:\n"
"  -s, --socket PATH     listen on the Unix socket PATH\n"
"                        (default " STORED_SOCKET ").  Refuses to start\n"
"                        if another store answers there; removes a stale\n"
"                        socket file.  Its directory must exist.  A socket\n"
"                        passed by systemd (LISTEN_FDS, socket activation)\n"
"                        is used instead, as systemd made it.\n"
"  -d, --db FILE         the SQLite database (default " STORED_DB ").\n"
"                        Created with its directory (mode 0750, files\n"
"                        0640) if missing; put in WAL mode and migrated to\n"
"                        the current schema.  Another program's database\n"
"                        (tables, no nettally schema) is refused as is,\n"
"                        and so is one another store writes to: one\n"
"                        store per database; so is a path that is not a\n"
"                        regular file (a directory, FIFO or device).\n"
"      --socket-mode MODE\n"
"                        octal permissions of the socket (default 0660):\n"
"                        who may connect as an agent.\n"
"      --socket-owner USER, --socket-group GROUP\n"
"                        owner and group of the socket file (name or\n"
"                        number; default: the store's own).\n"
"      --allow-uid USER  a user whose agents may deliver (repeatable).\n"
"      --allow-group GROUP\n"
"                        a group whose members may deliver: the peer's\n"
"                        gid or one of its groups (repeatable).  Every\n"
"                        peer's credentials are read with SO_PEERCRED;\n"
"                        root is always allowed; with neither option, the\n"
"                        store's own uid and gid are, and those of the\n"
"                        user nettally (which a root agent drops to).\n"
"                        Anyone else gets ERROR(REFUSED), is logged with\n"
"                        its pid and uid, and is disconnected.\n"
"      --metrics [ADDR:]PORT\n"
"                        serve Prometheus text on http://ADDR:PORT/metrics\n"
"                        (off by default; ADDR 127.0.0.1 unless given,\n"
"                        numeric, [::1]:PORT for IPv6): the store's health\n"
"                        and, summed from agent_health and\n"
"                        interface_traffic, each agent's counters.\n"
"      --read-timeout SECS\n"
"                        close a peer whose frame is not complete SECS\n"
"                        seconds after it began, or that has sent no\n"
"                        HELLO and no frame for SECS (1..3600, default\n"
"                        30); time the store spends not reading does not\n"
"                        count.  An agent that has nothing to send is not\n"
"                        affected.\n"
"      --config FILE     read settings from FILE instead of\n"
"                        " CONF_STORED " (read when present):\n"
"                        \"key = value\" lines, every long option a key;\n"
"                        options given here win over the file.\n"
"      --allow-root      run even as root (refused otherwise: the store\n"
"                        runs as the service user nettally).\n"
"  -v, --verbose         log debug messages (peer credentials, duplicates).\n"
"  -h, --help            print this help and exit.\n"
"  -V, --version         print the version and exit.\n"
"\n"
"Retention (see README.md): rows older than a tier keeps are rolled up\n"
"into the next coarser tier and deleted from theirs in one transaction,\n"
"so totals never change and each time is in exactly one tier.  DURATION\n"
"is seconds or a number with s, m, h, d, w or y (365 d); 0 or off turns\n"
"a tier off (raw: roll up each hour, or day without hourly, once over).\n"
"      --keep-raw DURATION     the agents' own buckets (default 7d)\n"
"      --keep-hourly DURATION  hourly roll-ups (default 90d)\n"
"      --keep-daily DURATION   daily roll-ups (default 5y)\n"
"      --monthly               keep monthly roll-ups forever (default: past\n"
"                              the last tier, rows are deleted)\n"
"      --top-ports N           ports kept per host per roll-up bucket, the\n"
"                              rest summed into port 0 (default 100; 0: all)\n"
"      --top-peers N           peers kept per host per roll-up bucket, the\n"
"                              rest summed into the 'overflow' peer\n"
"                              (default 100; 0: all)\n"
"      --retention-clock data|wall\n"
"                              count ages from the end of the newest stored\n"
"                              bucket, at most the wall clock (default: a\n"
"                              replayed old capture is kept), or from the\n"
"                              wall clock (ages go on while no data comes)\n"
"\n"
"Signals: SIGTERM, SIGINT and SIGHUP stop accepting, commit and\n"
"acknowledge what was received, close the database and exit 0 (a SIGHUP\n"
"left ignored by nohup stays ignored).\n"
"\n"
"Logs go to stderr (the journal under systemd).  Exit status: 0 after a\n"
"clean shutdown, 1 when start-up fails, 2 on a usage error.\n"
"\n"
"Readers: open the database read-only (the nettally command, sqlite3, any\n"
"SQL tool) and use the views host_traffic, port_traffic, peer_traffic,\n"
"interface_traffic and agent_health.\n");
}

/*
 * Sets the retention option number which (O_KEEP_RAW = 0, in longopts'
 * order) from arg.  Returns 0, or -1 after logging the problem.
 */
static int
parse_retention(int which, const char *arg, struct retention_conf *c)
{
	static const char *const names[] = { "--keep-raw", "--keep-hourly",
	    "--keep-daily", "--monthly", "--top-ports", "--top-peers",
	    "--retention-clock" };
	int64_t *keep[] = { &c->keep_raw, &c->keep_hourly, &c->keep_daily };
	unsigned long v;

	switch (which) {
	case 0:
	case 1:
	case 2:
		if (retention_parse_duration(arg, keep[which]) == 0)
			return 0;
		log_err("%s %s: not a duration: seconds, or a number with s, "
		    "m, h, d, w or y (e.g. 7d), or off", names[which], arg);
		return -1;
	case 3:
		c->monthly = 1;
		return 0;
	case 4:
	case 5:
		if (parse_ulong(arg, 10, 1000000, &v) == -1) {
			log_err("%s %s: not a number from 0 (all) to 1000000",
			    names[which], arg);
			return -1;
		}
		if (which == 4)
			c->top_ports = (uint32_t)v;
		else
			c->top_peers = (uint32_t)v;
		return 0;
	default:
		if (strcmp(arg, "wall") == 0 || strcmp(arg, "data") == 0) {
			c->data_clock = strcmp(arg, "data") == 0;
			return 0;
		}
		log_err("%s %s: wall or data", names[which], arg);
		return -1;
	}
}

/*
 * Fits the open files limit to the connections (fdlimit.c): says so when
 * even the hard limit leaves room for fewer than CONN_MAX, and serves
 * that many.  Returns 0, or -1 (logged) when the limit cannot be read.
 */
static int
stored_fit_fds(struct stored *st)
{
	unsigned long long limit;
	const char *errstr;
	size_t reserve = FDLIMIT_RESERVE, conns;

	if (st->metrics_arg != NULL)
		reserve += METRICS_CLIENTS_MAX + 1;
	if (fdlimit_fit(CONN_MAX, reserve, &conns, &limit, &errstr) == -1) {
		log_err("getrlimit: RLIMIT_NOFILE: %s", errstr);
		return -1;
	}
	if (conns < CONN_MAX)
		log_warn("store: the open files limit (%llu) leaves room for "
		    "%zu connections, not %d: past them idle agents are "
		    "closed for new ones, or new ones refused; raise it to "
		    "%zu (ulimit -n, systemd: LimitNOFILE=)", limit, conns,
		    CONN_MAX, (size_t)CONN_MAX + reserve);
	st->srv.conn_max = conns;
	return 0;
}

/*
 * SIGTERM, SIGINT and SIGHUP at their default action, and not blocked,
 * until the loop takes them over (uv_signal_start, once the database is
 * open): a stop signal in the start-up ends the store where it is, as
 * under systemd.  A launcher may leave them ignored (sh starts a
 * background job with SIGINT ignored) or blocked, and neither is undone
 * by exec nor by libuv: the signal was dropped, or pending for ever, and
 * the store ran on.  The one exception is an ignored SIGHUP, which is
 * nohup's request to outlive the terminal, not an accident of the
 * launcher: it stays ignored (*hup_ignored set) and the loop leaves it
 * so.  Before any thread: they inherit the mask.  Returns 0, or -1 with
 * errno.
 */
static int
stored_stop_signals_default(int *hup_ignored)
{
	struct sigaction hup;
	sigset_t stop;

	if (sigaction(SIGHUP, NULL, &hup) == -1)
		return -1;
	*hup_ignored = hup.sa_handler == SIG_IGN;
	if (signal(SIGTERM, SIG_DFL) == SIG_ERR ||
	    signal(SIGINT, SIG_DFL) == SIG_ERR ||
	    (!*hup_ignored && signal(SIGHUP, SIG_DFL) == SIG_ERR))
		return -1;
	if (sigemptyset(&stop) == -1 || sigaddset(&stop, SIGTERM) == -1 ||
	    sigaddset(&stop, SIGINT) == -1 || sigaddset(&stop, SIGHUP) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &stop, NULL) == -1)
		return -1;
	return 0;
}

/*
 * Parses s, digits only in base, into *v of at most max.  A digit first:
 * strtoul takes " 60", "+60" and "-1" too.  Returns 0, or -1.
 */
static int
parse_ulong(const char *s, int base, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || *v > max)
		return -1;
	return 0;
}

/* Parses an octal mode of at most 0777.  Returns 0, or -1. */
static int
parse_mode(const char *s, mode_t *mode)
{
	unsigned long v;

	if (parse_ulong(s, 8, 0777, &v) == -1)
		return -1;
	*mode = (mode_t)v;
	return 0;
}

static void
stored_signal_cb(uv_signal_t *h, int signum)
{
	struct stored *st = h->data;

	if (st->srv.shutting) {
		log_info("signal %d: already shutting down", signum);
		return;
	}
	log_info("signal %d: shutting down", signum);
	metrics_stop(st->metrics);
	st->metrics = NULL;
	if (st->listening) {
		stored_listener_unlink(st);
		uv_close((uv_handle_t *)&st->listener, NULL);
		st->listening = 0;
	}
	server_shutdown(&st->srv, stored_closed);
}

/*
 * Removes the socket file while the listener still holds it (libuv's
 * close of a bound pipe removes the path too, also before it closes the
 * descriptor).  This removal ran in the close callback, after it: a
 * store starting in between found a stale socket, put its own there,
 * and lost it to that removal.
 */
static void
stored_listener_unlink(struct stored *st)
{
	/* A passed socket is systemd's to remove, and it stays for the
	 * next activation. */
	if (st->activated)
		return;
	/* Only ours: the probe at start refused a socket someone answered. */
	if (unlink(st->socket_path) == -1 && errno != ENOENT)
		log_warn("listen: %s: cannot remove: %s", st->socket_path,
		    strerror(errno));
}

/* Every connection is closed and nothing is in the writer: wind down. */
static void
stored_closed(struct server *srv)
{
	struct stored *st = &stored;

	writer_close(srv->writer);
	srv->writer = NULL;
	retention_free(st->ret);
	st->ret = NULL;
	db_close(st->db);
	st->db = NULL;
	uv_close((uv_handle_t *)&st->sigterm, NULL);
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sighup, NULL);
	/*
	 * Closing the handles put the signals back to their default: one
	 * more now would end a store that has committed and closed
	 * everything by the signal, not with 0.
	 */
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	log_info("store: stopped: %llu batches committed, %llu duplicates, "
	    "%llu connections refused", (unsigned long long)srv->nbatches,
	    (unsigned long long)srv->nduplicates,
	    (unsigned long long)srv->nrejected);
}

int
main(int argc, char *argv[])
{
	enum { O_KEEP_RAW = 256, O_KEEP_HOURLY, O_KEEP_DAILY, O_MONTHLY,
	    O_TOP_PORTS, O_TOP_PEERS, O_RET_CLOCK, O_SOCK_OWNER, O_SOCK_GROUP,
	    O_ALLOW_UID, O_ALLOW_GROUP, O_READ_TIMEOUT, O_METRICS };
	enum { O_ALLOW_ROOT = 512, O_CONFIG };
	static const struct option longopts[] = {
		{ "keep-raw",	 required_argument, NULL, O_KEEP_RAW },
		{ "keep-hourly", required_argument, NULL, O_KEEP_HOURLY },
		{ "keep-daily",	 required_argument, NULL, O_KEEP_DAILY },
		{ "monthly",	 no_argument,	    NULL, O_MONTHLY },
		{ "top-ports",	 required_argument, NULL, O_TOP_PORTS },
		{ "top-peers",	 required_argument, NULL, O_TOP_PEERS },
		{ "retention-clock", required_argument, NULL, O_RET_CLOCK },
		{ "socket",	 required_argument, NULL, 's' },
		{ "db",		 required_argument, NULL, 'd' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "socket-owner", required_argument, NULL, O_SOCK_OWNER },
		{ "socket-group", required_argument, NULL, O_SOCK_GROUP },
		{ "allow-uid",	 required_argument, NULL, O_ALLOW_UID },
		{ "allow-group", required_argument, NULL, O_ALLOW_GROUP },
		{ "read-timeout", required_argument, NULL, O_READ_TIMEOUT },
		{ "metrics",	 required_argument, NULL, O_METRICS },
		{ "allow-root",	 no_argument,	    NULL, O_ALLOW_ROOT },
		{ "config",	 required_argument, NULL, O_CONFIG },
		{ "verbose",	 no_argument,	    NULL, 'v' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL,		 0,		    NULL, 0 },
	};
	struct stored *st = &stored;
	struct writer *w;
	const char *errstr;
	char err[1024];
	uid_t uid;
	gid_t gid;
	unsigned long secs;
	int ch, rc;

	log_init("nettally-stored", LOG_TO_STDERR);
	st->socket_path = STORED_SOCKET;
	st->db_path = STORED_DB;
	st->socket_mode = STORED_MODE;
	st->socket_owner = (uid_t)-1;
	st->socket_group = (gid_t)-1;
	server_init(&st->srv, uv_default_loop(), NULL);
	retention_conf_default(&st->ret_conf);
	/* The configuration file's settings go first: flags win. */
	if (conf_merge(&st->conf, CONF_STORED, "s:d:vhV", longopts, argc, argv,
	    err, sizeof(err)) == -1) {
		log_err("%s", err);
		return 2;
	}
	argc = st->conf.argc;
	argv = st->conf.argv;
	while ((ch = getopt_long(argc, argv, "s:d:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
		case 'd':
			/*
			 * An empty path is no file: bind would make an
			 * abstract socket no agent can name, SQLite a
			 * temporary database.
			 */
			if (optarg[0] == '\0') {
				log_err("%s: empty path; give the %s's path",
				    ch == 's' ? "--socket" : "--db",
				    ch == 's' ? "socket" : "database file");
				goto badopt;
			}
			if (ch == 's')
				st->socket_path = optarg;
			else
				st->db_path = optarg;
			break;
		case 'm':
			if (parse_mode(optarg, &st->socket_mode) == -1) {
				log_err("--socket-mode %s: not an octal mode "
				    "of at most 0777 (e.g. 0660)", optarg);
				goto badopt;
			}
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case O_ALLOW_ROOT:
			st->allow_root = 1;
			break;
		case O_CONFIG:
			break;		/* read by conf_merge */
		case O_SOCK_OWNER:
		case O_ALLOW_UID:
			if (listen_parse_user(optarg, &uid) == -1) {
				log_err("%s: no user %s", ch == O_ALLOW_UID ?
				    "--allow-uid" : "--socket-owner", optarg);
				goto badopt;
			}
			if (ch == O_SOCK_OWNER)
				st->socket_owner = uid;
			else if (server_allow_uid(&st->srv, uid) == -1) {
				log_err("--allow-uid: more than %d", CONN_ALLOW_MAX);
				goto badopt;
			}
			break;
		case O_READ_TIMEOUT:
			if (parse_ulong(optarg, 10, 3600, &secs) == -1 ||
			    secs < 1) {
				log_err("--read-timeout %s: not a number of "
				    "seconds from 1 to 3600", optarg);
				goto badopt;
			}
			st->srv.read_timeout_ms = (uint64_t)secs * 1000;
			break;
		case O_SOCK_GROUP:
		case O_ALLOW_GROUP:
			if (listen_parse_group(optarg, &gid) == -1) {
				log_err("%s: no group %s", ch == O_ALLOW_GROUP ?
				    "--allow-group" : "--socket-group", optarg);
				goto badopt;
			}
			if (ch == O_SOCK_GROUP)
				st->socket_group = gid;
			else if (server_allow_gid(&st->srv, gid) == -1) {
				log_err("--allow-group: more than %d",
				    CONN_ALLOW_MAX);
				goto badopt;
			}
			break;
		case O_METRICS:
			if (metrics_parse_addr(optarg, &st->metrics_addr,
			    &st->metrics_loopback, &errstr) == -1) {
				log_err("--metrics %s: %s", optarg, errstr);
				goto badopt;
			}
			st->metrics_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			/* Written to a full disk, it was still exit 0. */
			return log_stdout_done() == 0 ? 0 : 1;
		case 'V':
			printf("nettally-stored %s (protocol %d, database "
			    "schema %d)\n", NETTALLY_VERSION, PROTO_VERSION,
			    SCHEMA_VERSION);
			return log_stdout_done() == 0 ? 0 : 1;
		case O_KEEP_RAW:
		case O_KEEP_HOURLY:
		case O_KEEP_DAILY:
		case O_MONTHLY:
		case O_TOP_PORTS:
		case O_TOP_PEERS:
		case O_RET_CLOCK:
			if (parse_retention(ch - O_KEEP_RAW, optarg,
			    &st->ret_conf) == -1)
				goto badopt;
			break;
		default:
			fprintf(stderr, "Try 'nettally-stored --help'.\n");
			return 2;
		}
	}
	if (optind != argc) {
		log_err("\"%s\": unexpected argument: the store takes options "
		    "only (a database is given with --db FILE); see "
		    "'nettally-stored --help'", argv[optind]);
		return 2;
	}
	/*
	 * The store parses what agents send: it runs as the service user.
	 * Root only when asked for by name (tests, a container's own root).
	 */
	if (geteuid() == 0 && !st->allow_root) {
		log_err("refusing to run as root: run as the service user "
		    "nettally (systemd: User=nettally), or pass --allow-root");
		return 1;
	}
	/* Database and its journal files 0640, directories 0750. */
	umask(0027);
	/* A vanished agent must not kill the store on write. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_err("signal: SIGPIPE: %s", strerror(errno));
		return 1;
	}
	if (stored_stop_signals_default(&st->hup_ignored) == -1) {
		log_err("signal: SIGTERM, SIGINT, SIGHUP: %s", strerror(errno));
		return 1;
	}

	st->loop = uv_default_loop();
	if ((st->activated = activate_find(st->activated_path,
	    sizeof(st->activated_path), err, sizeof(err))) == -1) {
		log_err("%s", err);
		return 1;
	}
	/* A passed socket is systemd's: no probe, and -s does not apply. */
	if (st->activated)
		st->socket_path = st->activated_path;
	else if (listen_probe(st->socket_path, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return 1;
	}
	st->srv.db_path = st->db_path;		/* for STATUS replies */
	if (stored_fit_fds(st) == -1)
		return 1;
	if (db_setup_library(&errstr) == -1) {
		log_err("db: %s", errstr);
		return 1;
	}
	if ((st->db = db_open(st->db_path, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		return 1;
	}
	if ((st->ret = retention_new(st->db, &st->ret_conf, &errstr)) ==
	    NULL) {
		log_err("retention: %s", errstr);
		db_close(st->db);
		return 1;
	}
	if ((rc = uv_signal_init(st->loop, &st->sigterm)) != 0 ||
	    (rc = uv_signal_init(st->loop, &st->sigint)) != 0 ||
	    (rc = uv_signal_init(st->loop, &st->sighup)) != 0 ||
	    (rc = uv_pipe_init(st->loop, &st->listener, 0)) != 0) {
		/* Fails only without memory or file descriptors. */
		log_err("libuv: %s", uv_strerror(rc));
		return 1;
	}
	st->sigterm.data = st;
	st->sigint.data = st;
	st->sighup.data = st;
	st->listener.data = &st->srv;
	server_allow_default(&st->srv);
	if (writer_new(&w, st->loop, st->db, server_writer_done, &st->srv,
	    &errstr) == -1) {
		log_err("writer: %s", errstr);
		w = NULL;
		goto fail;
	}
	st->srv.writer = w;
	writer_set_retention(w, st->ret);
	if ((rc = uv_signal_start(&st->sigterm, stored_signal_cb,
	    SIGTERM)) != 0 ||
	    (rc = uv_signal_start(&st->sigint, stored_signal_cb,
	    SIGINT)) != 0 ||
	    /*
	     * A hangup (the terminal of a store started by hand closed, or
	     * a kill -HUP meant as a reload, which the store has none of)
	     * killed it mid-ingest: acknowledged batches were safe, but the
	     * socket and the -wal/-shm files stayed behind and it exited
	     * 129.
	     */
	    (!st->hup_ignored && (rc = uv_signal_start(&st->sighup,
	    stored_signal_cb, SIGHUP)) != 0)) {
		log_err("signal: %s", uv_strerror(rc));
		goto fail;
	}
	if (st->metrics_arg != NULL) {
		if ((st->metrics = metrics_start(st->loop,
		    (const struct sockaddr *)&st->metrics_addr, &st->srv,
		    st->db_path, err, sizeof(err))) == NULL) {
			log_err("--metrics %s: %s", st->metrics_arg, err);
			goto fail;
		}
		if (!st->metrics_loopback)
			log_warn("metrics: %s is not a loopback address: "
			    "whoever can reach it can read the counters",
			    st->metrics_arg);
		metrics_addr_text(&st->metrics_addr, err, sizeof(err));
		log_info("metrics: serving http://%s/metrics", err);
	}
	if (st->activated) {
		if (activate_listen(&st->listener, conn_accept_cb, err,
		    sizeof(err)) == -1) {
			log_err("%s", err);
			goto fail;
		}
	} else if (listen_open(&st->listener, st->socket_path,
	    st->socket_mode, st->socket_owner, st->socket_group,
	    conn_accept_cb, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto fail;
	}
	st->listening = 1;
	log_info("store: listening on %s%s, database %s", st->socket_path,
	    st->activated ? " (passed by systemd)" : "", st->db_path);

	uv_run(st->loop, UV_RUN_DEFAULT);
	if ((rc = uv_loop_close(st->loop)) != 0) {
		log_err("libuv: loop not empty at exit: %s", uv_strerror(rc));
		return 1;
	}
	conf_clear(&st->conf);
	return 0;
fail:
	/* Nothing was accepted yet: release in order, then report. */
	metrics_stop(st->metrics);
	writer_close(w);
	retention_free(st->ret);
	db_close(st->db);
	uv_close((uv_handle_t *)&st->listener, NULL);
	uv_close((uv_handle_t *)&st->sigterm, NULL);
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sighup, NULL);
	uv_run(st->loop, UV_RUN_DEFAULT);
	uv_loop_close(st->loop);
	return 1;
badopt:
	/* A value the loop refused may come from the configuration file. */
	if (conf_where(&st->conf, optind - 1, err, sizeof(err)) != NULL)
		log_err("%s: the setting refused above", err);
	conf_clear(&st->conf);
	return 2;
}
