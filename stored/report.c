/*
 * report.c - main of the nettally command: options, usage, the run.
 *
 * nettally reads the store's database through its documented views, on a
 * read-only connection, and prints one report (top, series, summary) or
 * writes one chart; "nettally status" asks the running store over its
 * socket instead.  Every problem the user can fix (a bad option, a
 * missing, empty or too new database, an unknown agent, interface or
 * host) is one line on stderr saying what is wrong and what to do, and
 * exit status 2; a failure while querying or writing is exit status 1.
 * Nothing here writes to the database: it is opened with
 * SQLITE_OPEN_READONLY and "mode=ro", and by a reader that cannot create
 * its -shm file while no store runs, as an immutable file (report_db.c).
 * With --alert, a report that ran and printed but has a row over the
 * limit exits REPORT_EXIT_ALERT (3), for monitoring checks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "report_alert.h"
#include "report_chart.h"
#include "report_db.h"
#include "report_filter.h"
#include "report_format.h"
#include "report_progress.h"
#include "report_query.h"
#include "report_series.h"
#include "report_status.h"
#include "report_summary.h"
#include "report_time.h"
#include "schema.h"
#include "version.h"

#define REPORT_DB_DEFAULT	"/var/lib/nettally/nettally.db"
#define REPORT_DB_ENV		"NETTALLY_DB"
#define REPORT_SOCKET_DEFAULT	"/run/nettally/nettally.sock"
#define REPORT_SOCKET_ENV	"NETTALLY_SOCKET"

/* Commands an option applies to. */
#define C_TOP		0x01
#define C_SERIES	0x02
#define C_SUMMARY	0x04
#define C_CHART		0x08
#define C_ALL		0x0f		/* the commands that read the database */
#define C_STATUS	0x10

struct options {
	const char	*report;
	const char	*db;
	const char	*since;
	const char	*until;
	const char	*limit;
	const char	*format;
	const char	*agent;
	const char	*iface;
	const char	*host;
	const char	*proto;
	const char	*port;
	const char	*direction;
	const char	*step;
	const char	*now;
	const char	*alert;
	const char	*by;
	const char	*output;
	const char	*p95;		/* non-NULL when --95th was given */
	const char	*socket;
	const char	*watch;		/* non-NULL when --watch was given */
	const char	*interval;
	const char	*count;
};

struct command {
	const char	*name;
	int		 mask;
	int		 takes_report;	/* top REPORT */
};

static void	usage_full(FILE *);
static int	stdout_done(void);
static int	parse_args(const struct command *, int, char **,
		    struct options *, int *);
static int	parse_limit(const char *, int64_t *);
static int	check_filters(const char *, const struct options *,
		    struct report_filter *);
static int	db_filters(const char *, sqlite3 *, const struct options *,
		    struct report_filter *, const struct report_db_snap *);
static int	peer_hint(const char *, sqlite3 *, const struct options *,
		    const struct report_db_snap *, const struct report_filter *,
		    int64_t, int64_t);
static int	no_batch_hint(const char *, sqlite3 *, const struct options *,
		    const struct report_db_snap *);
static int	chart_output(const char *, struct report_chart *);
static int	chart_write_file(const char *, FILE *, struct report_chart *,
		    int);
static int	cmd_run(const struct command *, int, char **);
static int	cmd_status(struct options *);

static const struct command commands[] = {
	{ "top",	C_TOP,		1 },
	{ "series",	C_SERIES,	0 },
	{ "summary",	C_SUMMARY,	0 },
	{ "chart",	C_CHART,	0 },
	{ "status",	C_STATUS,	0 },
};

static const char usage_text[] =
"usage: nettally top REPORT [--since WHEN] [--until WHEN] [--limit N] [--95th]\n"
"                    [FILTERS] [--alert LIMIT] [--format F] [--db FILE]\n"
"       nettally series [--since WHEN] [--until WHEN] [--step D] [FILTERS]\n"
"                    [--alert LIMIT] [--format F] [--db FILE]\n"
"       nettally summary [FILTERS] [--alert LIMIT] [--format F] [--db FILE]\n"
"       nettally chart -o FILE.svg [--by host|proto|iface] [--since WHEN]\n"
"                    [--until WHEN] [--step D] [--limit N] [FILTERS] [--db FILE]\n"
"       nettally status [--watch] [--interval D] [--count N] [--format F]\n"
"                    [--socket PATH]\n"
"       nettally --help (or -h, or help) | nettally --version\n"
"\n"
"Prints what nettally-stored recorded, reading its database read-only.\n"
"\n"
"top REPORT: one row per key, by bytes (largest first), ties by key\n"
"ascending; every report ends with bytes in_bytes out_bytes packets\n"
"frame_bytes in_rate out_rate, and with --95th in_p95 out_p95:\n"
"  hosts       host family\n"
"  ports       proto port\n"
"  peers       host peer\n"
"  protocols   proto\n"
"  agents      agent\n"
"  interfaces  agent iface\n"
"series: one row per step of the window, steps without traffic as 0:\n"
"  time epoch bytes in_bytes out_bytes packets frame_bytes in_rate out_rate\n"
"  and on a terminal a bar scaled to the busiest step (graph); the first\n"
"  row is the step holding the first bucket that can start in the window\n"
"  (a bucket counts when it starts in it), so a window no bucket can\n"
"  start in (3 minutes of 2-hour buckets) has no rows\n"
"summary: per agent and interface, yesterday, today and month (UTC), as\n"
"  vnstat prints; a period without traffic has no row:\n"
"  agent iface period start start_epoch in_bytes out_bytes bytes packets\n"
"  in_rate out_rate\n"
"  then the database size and each tier's oldest and newest bucket\n"
"chart: writes a standalone SVG: in rates stacked above the time axis, out\n"
"  rates below, one colour per host, protocol or interface (--by, default\n"
"  host) for the --limit busiest (at most 8, default 5) and one for the\n"
"  rest (other), with axes in bit/s and UTC time and a legend.\n"
"\n"
"Columns:\n"
"  host         address of a local host\n"
"  family       ipv4, ipv6, or overflow (hosts that did not fit the\n"
"               agent's tables, summed into one row)\n"
"  peer         address of the other end of host's traffic\n"
"  proto        IP protocol name (tcp, udp, icmp...) or its number\n"
"  port         service port: the smaller of the TCP/UDP/SCTP ports\n"
"  agent        name of the capturing agent\n"
"  iface        interface the agent captured on\n"
"  bytes        IP bytes, in + out\n"
"  in_bytes     IP bytes received by the local host\n"
"  out_bytes    IP bytes sent by the local host\n"
"  packets      IP packets, in + out\n"
"  frame_bytes  bytes on the wire, link headers included, in + out\n"
"  in_rate      in_bytes as bit/s averaged over the window (top: since to\n"
"               until, an unbounded end being the data's own; series and\n"
"               chart: the whole step, so a step the window cuts reads\n"
"               low; summary: the part of the period that has passed)\n"
"  out_rate     the same for out_bytes\n"
"  in_p95       95th percentile of the in rate per bucket, every bucket of\n"
"               the window a sample (no traffic: 0 bit/s), nearest rank\n"
"  out_p95      the same for the out rate\n"
"  time, start  UTC time of the step or period start; epoch, start_epoch:\n"
"               the same in seconds since 1970\n"
"  period       yesterday, today or month\n"
"Traffic is counted per local host: between two local hosts it counts\n"
"once for each, so ports, protocols, agents, interfaces, series and\n"
"summary include it twice; transit traffic is in none of them.\n"
"\n"
"Filters (every command; each narrows the rows read):\n"
"  --agent NAME     one agent\n"
"  --iface NAME     one interface name (of that agent with --agent); an\n"
"                   agent or interface the database never recorded is an\n"
"                   error that lists the names it knows\n"
"  --host A         local host address A, or network A/LEN (10.0.0.0/8,\n"
"                   2001:db8::/32); an address A that gives an empty\n"
"                   report but was a peer in the window is named on\n"
"                   stderr, with how many local hosts it was a peer of\n"
"  --proto P        protocol name (tcp, udp, icmp...) or number 0-255\n"
"  --port N         service port (reads port_traffic: TCP, UDP and SCTP\n"
"                   only; not for peers)\n"
"  --direction D    in or out, as seen from the local host\n"
"\n"
"Options (each at most once; the value as the next argument, or after\n"
"an = sign: --since=2h):\n"
"  --since WHEN  start, inclusive (default 1h: the last hour)\n"
"  --until WHEN  end, exclusive (default now)\n"
"                WHEN: a duration back from now (90s, 15m, 2h, 7d, 1w,\n"
"                1h30m), a UTC time (2026-11-25T10:00:00Z), a date\n"
"                (2026-11-25, midnight UTC), now, or all (no bound).\n"
"                A bucket counts when since <= its start < until.\n"
"  --now TIME    take TIME (UTC) as the present: for reproducible output\n"
"  --limit N     top: at most N rows, 1 to 100000 (default 10); chart: the\n"
"                N busiest hosts, protocols or interfaces drawn, 1 to 8\n"
"                (default 5), the rest as other; not for series and\n"
"                summary, which print every step or period\n"
"  --step D      series and chart step, a duration that is a multiple of\n"
"                every resolution of the data in the window (default:\n"
"                their least common multiple, e.g. 180s for 45s and 60s\n"
"                buckets; in a window without traffic, that of the\n"
"                agents', else 60s; one longer than a day and than the\n"
"                largest resolution is refused, naming the --step to\n"
"                give); 30d steps by calendar months, as the monthly\n"
"                tier does\n"
"  --95th        add in_p95 and out_p95 (needs one resolution)\n"
"  --alert LIMIT exit 3 when a row is over LIMIT: [in:|out:|total:]N UNIT,\n"
"                a volume (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB) compared\n"
"                with in_bytes, out_bytes or bytes, or a rate (bit/s,\n"
"                kbit/s, Mbit/s, Gbit/s, Tbit/s) compared with in_rate,\n"
"                out_rate or their sum (in_p95, out_p95 with --95th); each\n"
"                such row is named on stderr; total: is the default\n"
"  --format F    table (default): a header line and aligned columns, bytes\n"
"                  in B, KiB, MiB, GiB, TiB... and rates in bit/s, kbit/s,\n"
"                  Mbit/s... with one decimal; the same on a terminal or a\n"
"                  pipe: never truncated or coloured; then one line per\n"
"                  retention tier read, oldest first:\n"
"                  resolution: 1 hour (hourly tier), FIRST .. END\n"
"                csv: RFC 4180, header row, CRLF, raw integers, rates in\n"
"                  bit/s with 3 decimals\n"
"                json: one object, numbers as in csv, times in UTC:\n"
"                  {\"report\":\"hosts\",\"since\":\"2026-11-25T09:00:00Z\",\n"
"                   \"since_epoch\":1795597200,\"until\":...,\"until_epoch\":...,\n"
"                   \"limit\":10,\"rows\":[{\"host\":\"192.0.2.1\",...},...]}\n"
"                  since and until are the window the rates average\n"
"                  over: with all, the data's own first bucket start or\n"
"                  last bucket end, null only with no rows; series\n"
"                  has \"step\" instead of \"limit\", summary neither;\n"
"                  \"resolutions\" lists the tiers read (csv does not)\n"
"  --db FILE     the database (default $NETTALLY_DB, else\n"
"                /var/lib/nettally/nettally.db); not for status.  A reader\n"
"                who may not write its directory reads it while the store\n"
"                is stopped as an immutable file, when no -wal file holds\n"
"                data; a store starting meanwhile makes it exit 1\n"
"  --by K        chart: host, proto or iface\n"
"  -o FILE, --output FILE\n"
"                chart: the SVG file to write, \"-\" for standard output\n"
"\n"
"status: asks the running nettally-stored over its socket (--socket PATH\n"
"  or -s PATH, default $NETTALLY_SOCKET, else /run/nettally/nettally.sock;\n"
"  the store must allow your uid) and prints one line about the store\n"
"  (uptime, agents, the database file's size and its WAL's, queue,\n"
"  committed batches, ingest rate), then one row per connected agent:\n"
"  agent connected connected_epoch last_batch last_batch_epoch\n"
"  last_batch_age batches records records_per_s kernel_drops iface_drops\n"
"  dropped queued\n"
"  counts are since the agent connected; records_per_s is since it\n"
"  connected, or since the previous answer with --watch; csv prints the\n"
"  agent rows, json the store's fields and an agents array.\n"
"  --watch       ask again every --interval (default 2s) until killed or\n"
"                --count answers; a terminal is redrawn in place\n"
"\n"
"A report still reading after 2 s says so on stderr when that is a\n"
"terminal, in one line wiped before the report is printed; never when\n"
"stderr is not a terminal.\n"
"\n"
"Exit status: 0 done (with --alert: no row over the limit); 1 the query\n"
"or the output failed (a damaged database file: the message says to check\n"
"it with PRAGMA integrity_check and repair it or restore a backup), or\n"
"the store did not answer; 2 bad arguments, an unknown agent, interface,\n"
"host or protocol, or a database that is missing, not a regular file,\n"
"uninitialised, not a nettally database, or from a newer nettally; 3 a\n"
"row is over the --alert limit.\n";

static void
usage_full(FILE *out)
{
	fputs(usage_text, out);
}

/* log_stdout_done as this command's exit status. */
static int
stdout_done(void)
{
	return log_stdout_done() == 0 ? 0 : REPORT_EXIT_RUNTIME;
}

/*
 * Collects the arguments after the command into *opt (pointers into
 * argv).  Options take "--opt VALUE" or "--opt=VALUE".  Returns 0; or -1
 * after logging the problem; *help is set when --help was asked for.
 */
static int
parse_args(const struct command *cmd, int argc, char **argv,
    struct options *opt, int *help)
{
	const struct {
		const char	 *name;
		const char	**value;
		int		  mask;
		int		  flag;		/* takes no value */
	} valued[] = {
		{ "since",	&opt->since,	C_TOP | C_SERIES | C_CHART, 0 },
		{ "until",	&opt->until,	C_TOP | C_SERIES | C_CHART, 0 },
		{ "limit",	&opt->limit,	C_TOP | C_CHART, 0 },
		{ "format",	&opt->format,
		    C_TOP | C_SERIES | C_SUMMARY | C_STATUS, 0 },
		{ "db",		&opt->db,	C_ALL, 0 },
		{ "agent",	&opt->agent,	C_ALL, 0 },
		{ "iface",	&opt->iface,	C_ALL, 0 },
		{ "host",	&opt->host,	C_ALL, 0 },
		{ "proto",	&opt->proto,	C_ALL, 0 },
		{ "port",	&opt->port,	C_ALL, 0 },
		{ "direction",	&opt->direction, C_ALL, 0 },
		{ "now",	&opt->now,	C_ALL, 0 },
		{ "step",	&opt->step,	C_SERIES | C_CHART, 0 },
		{ "alert",	&opt->alert,	C_TOP | C_SERIES | C_SUMMARY, 0 },
		{ "95th",	&opt->p95,	C_TOP, 1 },
		{ "by",		&opt->by,	C_CHART, 0 },
		{ "o",		&opt->output,	C_CHART, 0 },
		{ "output",	&opt->output,	C_CHART, 0 },
		{ "socket",	&opt->socket,	C_STATUS, 0 },
		{ "s",		&opt->socket,	C_STATUS, 0 },
		{ "watch",	&opt->watch,	C_STATUS, 1 },
		{ "interval",	&opt->interval,	C_STATUS, 0 },
		{ "count",	&opt->count,	C_STATUS, 0 },
	};
	const char **given[sizeof(valued) / sizeof(valued[0])];
	const char *arg, *name, *eq, *value, *dash;
	size_t i, j, namelen, ngiven = 0;
	int n, opts_done = 0;

	*help = 0;
	for (n = 0; n < argc; n++) {
		arg = argv[n];
		if (!opts_done && strcmp(arg, "--") == 0) {
			opts_done = 1;
			continue;
		}
		if (!opts_done && (strcmp(arg, "--help") == 0 ||
		    strcmp(arg, "-h") == 0)) {
			*help = 1;
			return 0;
		}
		if (opts_done || arg[0] != '-') {
			if (!cmd->takes_report) {
				log_err("%s: \"%s\": unexpected argument; see "
				    "nettally --help", cmd->name, arg);
				return -1;
			}
			if (opt->report != NULL) {
				log_err("%s: \"%s\": one report at a time; "
				    "see nettally top --help", cmd->name, arg);
				return -1;
			}
			opt->report = arg;
			continue;
		}
		name = arg + (strncmp(arg, "--", 2) == 0 ? 2 : 1);
		eq = strchr(name, '=');
		namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		for (i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
			if (strlen(valued[i].name) == namelen &&
			    strncmp(valued[i].name, name, namelen) == 0)
				break;
		if (i == sizeof(valued) / sizeof(valued[0])) {
			log_err("%s: %s: unknown option; see nettally %s "
			    "--help", cmd->name, arg, cmd->name);
			return -1;
		}
		/* Named as written: -o, but --output. */
		dash = valued[i].name[1] == '\0' ? "-" : "--";
		if ((valued[i].mask & cmd->mask) == 0) {
			log_err("%s: %s%s: does not apply to %s; see nettally "
			    "--help", cmd->name, dash, valued[i].name,
			    cmd->name);
			return -1;
		}
		/*
		 * Keeping the last of two --agent (or -o and --output) would
		 * quietly drop the other: nothing here is documented as
		 * repeatable.  Aliases share their value pointer.
		 */
		for (j = 0; j < ngiven; j++)
			if (given[j] == valued[i].value)
				break;
		if (j < ngiven) {
			log_err("%s: %s%s: given twice; give each option once",
			    cmd->name, dash, valued[i].name);
			return -1;
		}
		given[ngiven++] = valued[i].value;
		if (valued[i].flag) {
			if (eq != NULL) {
				log_err("%s: %s%s takes no value; see "
				    "nettally --help", cmd->name, dash,
				    valued[i].name);
				return -1;
			}
			*valued[i].value = arg;
			continue;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (n + 1 < argc) {
			value = argv[++n];
		} else {
			log_err("%s: %s%s: needs a value; see nettally %s "
			    "--help", cmd->name, dash, valued[i].name,
			    cmd->name);
			return -1;
		}
		*valued[i].value = value;
	}
	return 0;
}

/* Parses --limit: a plain decimal from 1 to REPORT_LIMIT_MAX. */
static int
parse_limit(const char *s, int64_t *limit)
{
	int64_t v = 0;
	const char *p;

	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > REPORT_LIMIT_MAX)
			return -1;
	}
	if (v < 1)
		return -1;
	*limit = v;
	return 0;
}

/*
 * Checks the filters that need no database into *f.  Returns 0, or
 * REPORT_EXIT_USAGE after logging what is wrong.
 */
static int
check_filters(const char *cmd, const struct options *opt,
    struct report_filter *f)
{
	const char *errstr;

	report_filter_init(f);
	f->agent = opt->agent;
	f->iface = opt->iface;
	if (opt->host != NULL &&
	    report_filter_host(opt->host, f, &errstr) == -1) {
		log_err("%s: --host \"%s\": %s", cmd, opt->host, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (opt->port != NULL &&
	    report_filter_port(opt->port, &f->port, &errstr) == -1) {
		log_err("%s: --port \"%s\": %s; give e.g. --port 443", cmd,
		    opt->port, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (opt->direction != NULL && report_filter_direction(opt->direction,
	    &f->direction, &errstr) == -1) {
		log_err("%s: --direction \"%s\": %s", cmd, opt->direction,
		    errstr);
		return REPORT_EXIT_USAGE;
	}
	return 0;
}

/*
 * Checks the filters that need the database: an agent and an interface
 * it recorded, a protocol name it knows, a single --host address it has
 * seen.  Returns 0, or an exit status after logging why.
 */
static int
db_filters(const char *cmd, sqlite3 *db, const struct options *opt,
    struct report_filter *f, const struct report_db_snap *snap)
{
	const char *errstr;
	char msg[1024];
	int rc;

	if (report_filter_register(db, &errstr) == -1) {
		if (report_db_unchanged(opt->db, snap) != 0)
			return REPORT_EXIT_RUNTIME;
		log_err("%s: %s", cmd, errstr);
		return REPORT_EXIT_RUNTIME;
	}
	rc = report_filter_names_known(db, f, msg, sizeof(msg), &errstr);
	if (rc == -1) {
		if (report_db_unchanged(opt->db, snap) != 0)
			return REPORT_EXIT_RUNTIME;
		log_err("%s: %s: %s", cmd, f->agent != NULL ? "--agent" :
		    "--iface", errstr);
		return REPORT_EXIT_RUNTIME;
	}
	if (rc == 0) {
		if (report_db_unchanged(opt->db, snap) != 0)
			return REPORT_EXIT_RUNTIME;
		log_err("%s: %s", cmd, msg);
		return REPORT_EXIT_USAGE;
	}
	if (opt->proto != NULL) {
		rc = report_filter_proto(db, opt->proto, &f->proto, &errstr);
		if (rc == -1) {
			if (report_db_unchanged(opt->db, snap) != 0)
				return REPORT_EXIT_RUNTIME;
			log_err("%s: --proto: %s", cmd, errstr);
			return REPORT_EXIT_RUNTIME;
		}
		if (rc == 1) {
			if (report_db_unchanged(opt->db, snap) != 0)
				return REPORT_EXIT_RUNTIME;
			log_err("%s: --proto \"%s\": unknown protocol; give a "
			    "name such as tcp, udp, icmp or a number from 0 "
			    "to 255", cmd, opt->proto);
			return REPORT_EXIT_USAGE;
		}
	}
	if (f->has_host && f->host_single) {
		rc = report_filter_host_known(db, f, &errstr);
		if (rc == -1) {
			if (report_db_unchanged(opt->db, snap) != 0)
				return REPORT_EXIT_RUNTIME;
			log_err("%s: --host: %s", cmd, errstr);
			return REPORT_EXIT_RUNTIME;
		}
		if (rc == 0) {
			if (report_db_unchanged(opt->db, snap) != 0)
				return REPORT_EXIT_RUNTIME;
			log_err("%s: --host %s: no traffic of this host was "
			    "ever recorded; check the address, or give a "
			    "network such as %s/%d", cmd, opt->host,
			    opt->host, strchr(opt->host, ':') != NULL ? 64 :
			    24);
			return REPORT_EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * After an empty report under a single --host address and no other
 * filter: when the address was a peer in [since, until), says so on
 * stderr, since --host selects local hosts only and the empty report
 * alone would not tell why.  With another filter, that filter may be
 * what emptied the report of a local host that is also some host's
 * peer, and "not a local host" would be false.  One query.  Returns 0,
 * or REPORT_EXIT_RUNTIME after logging a query failure.
 */
static int
peer_hint(const char *cmd, sqlite3 *db, const struct options *opt,
    const struct report_db_snap *snap, const struct report_filter *f,
    int64_t since, int64_t until)
{
	const char *errstr;
	int64_t n;
	int rc;

	if (!report_filter_host_only(f))
		return 0;
	rc = report_filter_host_peers(db, f, since, until, &n, &errstr);
	/* As every reading: nothing said of a file a store wrote meanwhile. */
	if (report_db_unchanged(opt->db, snap) != 0)
		return REPORT_EXIT_RUNTIME;
	if (rc == -1) {
		log_err("%s: --host: %s", cmd, errstr);
		return REPORT_EXIT_RUNTIME;
	}
	if (n > 0)
		log_warn("%s: --host %s: not a local host in this window, but "
		    "a peer of %" PRId64 " local host%s; --host selects local "
		    "hosts only: see nettally top peers, or peer = '%s' in the "
		    "peer_traffic view", cmd, opt->host, n, n == 1 ? "" : "s",
		    opt->host);
	return 0;
}

/*
 * After an empty report on a database without interface rows: when it
 * holds no batch at all, says on stderr that no agent has delivered
 * anything yet, and where to look.  Returns 0, or REPORT_EXIT_RUNTIME
 * after logging a query failure.
 */
static int
no_batch_hint(const char *cmd, sqlite3 *db, const struct options *opt,
    const struct report_db_snap *snap)
{
	int64_t any = 1;
	int rc;

	rc = report_db_int(db, "SELECT EXISTS (SELECT 1 FROM batch)", &any);
	if (report_db_unchanged(opt->db, snap) != 0)
		return REPORT_EXIT_RUNTIME;
	if (rc == -1) {
		log_err("%s: %s: %s", cmd, opt->db, sqlite3_errmsg(db));
		return REPORT_EXIT_RUNTIME;
	}
	if (!any)
		log_warn("%s: %s holds no traffic yet: no agent has delivered "
		    "a batch to it; start nettally-agent, and see which agents "
		    "the store has with nettally status", cmd, opt->db);
	return 0;
}

/*
 * After an empty report: when not one bucket of the whole database (under
 * no filter) falls in [since, until), says on stderr what time the
 * database holds.  The default window is the last hour, so a replayed
 * capture, or an agent stopped yesterday, gave an empty table and "no
 * rows in this range" with no clue where the traffic was.  When some
 * bucket does fall in the window, the filters emptied the report, and
 * peer_hint speaks for --host.  Returns 0, or REPORT_EXIT_RUNTIME after
 * logging a query failure.
 */
static int
window_hint(const char *cmd, sqlite3 *db, const struct options *opt,
    const struct report_db_snap *snap, int64_t since, int64_t until)
{
	struct report_dbinfo info;
	char a[REPORT_TIME_ISO_LEN], b[REPORT_TIME_ISO_LEN];
	char c[REPORT_TIME_ISO_LEN], d[REPORT_TIME_ISO_LEN];
	const char *errstr;
	int64_t first = INT64_MAX, end = INT64_MIN;
	size_t i;
	int rc;

	rc = report_tier_dbinfo(db, &info, &errstr);
	/* As every reading: nothing said of a file a store wrote meanwhile. */
	if (report_db_unchanged(opt->db, snap) != 0)
		return REPORT_EXIT_RUNTIME;
	if (rc == -1) {
		log_err("%s: %s: %s", cmd, opt->db, errstr);
		return REPORT_EXIT_RUNTIME;
	}
	/*
	 * The span is the interface totals' (tier_coverage), which every
	 * batch writes; a database without them (made by hand) gets no word,
	 * unless it holds no batch either: a store just installed, which
	 * no agent has reached yet.  An empty table alone did not say that
	 * the window was not the problem.
	 */
	if (info.cover.n == 0) {
		if (no_batch_hint(cmd, db, opt, snap) != 0)
			return REPORT_EXIT_RUNTIME;
		return 0;
	}
	/* Past REPORT_TIERS_MAX resolutions the span would not be whole. */
	if (info.cover.nmore > 0)
		return 0;
	for (i = 0; i < info.cover.n; i++) {
		if (info.cover.part[i].first < first)
			first = info.cover.part[i].first;
		if (info.cover.part[i].end > end)
			end = info.cover.part[i].end;
	}
	if (first < until && end > since)
		return 0;
	if (report_time_format(since, a, sizeof(a)) == -1 ||
	    report_time_format(until, b, sizeof(b)) == -1 ||
	    report_time_format(first, c, sizeof(c)) == -1 ||
	    report_time_format(end, d, sizeof(d)) == -1)
		return 0;
	log_warn("%s: no traffic from %s to %s; the database holds %s to %s: "
	    "choose the window with --since and --until", cmd, a, b, c, d);
	return 0;
}

/*
 * Draws c into f, flushes it (and with sync, to the disk) and closes f,
 * always.  Returns 0, or REPORT_EXIT_RUNTIME after logging the error with path.
 */
static int
chart_write_file(const char *path, FILE *f, struct report_chart *c, int sync)
{
	int err;

	if (report_chart_draw(c, f) == -1 || fflush(f) == EOF ||
	    (sync && fsync(fileno(f)) == -1)) {
		err = errno;
		fclose(f);
		log_err("chart: %s: cannot write: %s", path, strerror(err));
		return REPORT_EXIT_RUNTIME;
	}
	if (fclose(f) == EOF) {
		log_err("chart: %s: cannot write: %s", path, strerror(errno));
		return REPORT_EXIT_RUNTIME;
	}
	return 0;
}

/*
 * Writes chart c to path.  A new or regular file is replaced whole: the
 * chart goes to a temporary file in the same directory, renamed over
 * path only once complete, so a failed run leaves the old file as it was
 * and removes nothing but its own temporary file.  Anything else (a
 * symbolic link, a device, a FIFO, /dev/stdout) is opened and written
 * through, never removed or replaced; "-" is standard output.  Returns 0,
 * or an exit status after logging why.
 */
static int
chart_output(const char *path, struct report_chart *c)
{
	static const char tmpl[] = ".nettally-chart.XXXXXX";
	struct stat sb;
	const char *slash;
	char *tmp = NULL;
	size_t dirlen;
	mode_t mask;
	FILE *f = NULL;
	int fd = -1, status;

	/* As for any Unix filter: "-" is standard output, not a file. */
	if (strcmp(path, "-") == 0)
		return chart_write_file("standard output", stdout, c, 0);
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if ((f = fopen(path, "w")) == NULL) {
			log_err("chart: %s: %s; check the path", path,
			    strerror(errno));
			return REPORT_EXIT_USAGE;
		}
		return chart_write_file(path, f, c, 0);
	}
	slash = strrchr(path, '/');
	dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
	if ((tmp = malloc(dirlen + sizeof(tmpl))) == NULL) {
		log_err("chart: %s: out of memory", path);
		return REPORT_EXIT_RUNTIME;
	}
	memcpy(tmp, path, dirlen);
	memcpy(tmp + dirlen, tmpl, sizeof(tmpl));
	if ((fd = mkstemp(tmp)) == -1) {
		log_err("chart: %s: %s; check the path", path,
		    strerror(errno));
		free(tmp);
		return REPORT_EXIT_USAGE;
	}
	/* mkstemp makes 0600; the chart gets what a new file would. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) == -1) {
		log_err("chart: %s: %s", tmp, strerror(errno));
		status = REPORT_EXIT_RUNTIME;
		goto fail;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		log_err("chart: %s: %s", path, strerror(errno));
		status = REPORT_EXIT_RUNTIME;
		goto fail;
	}
	fd = -1;			/* f owns it now */
	/* Synced first: a crash after the rename must not leave it empty. */
	if ((status = chart_write_file(path, f, c, 1)) != 0)
		goto fail;
	if (rename(tmp, path) == -1) {
		log_err("chart: %s: cannot replace: %s", path,
		    strerror(errno));
		status = REPORT_EXIT_RUNTIME;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (unlink(tmp) == -1)
		log_warn("chart: %s: cannot remove: %s", tmp, strerror(errno));
	free(tmp);
	return status;
}

/* Runs one command: argv holds what follows its name. */
static int
cmd_run(const struct command *cmd, int argc, char **argv)
{
	struct options opt = { .since = "1h", .until = "now",
	    .format = "table", .by = "host" };
	struct report_result res;
	struct report_window win = { 0, 0, 0, 0, 0, 0, 0 };
	struct report_filter filter;
	struct report_alert alert = { 0, 0, 0, 0 };
	struct report_args args;
	const struct report_def *def = NULL;
	enum report_chart_by by = REPORT_CHART_HOST;
	enum report_fmt fmt;
	const char *errstr, *name = cmd->name;
	struct report_chart *chart;
	struct report_db_snap snap;
	sqlite3 *db = NULL;
	int64_t now, step = 0, limit_max;
	int help, status, rc, over;

	report_result_init(&res);
	opt.db = getenv(REPORT_DB_ENV);
	if (opt.db == NULL || opt.db[0] == '\0')
		opt.db = REPORT_DB_DEFAULT;
	if (parse_args(cmd, argc, argv, &opt, &help) == -1)
		return REPORT_EXIT_USAGE;
	if (help) {
		errno = 0;
		usage_full(stdout);
		return stdout_done();
	}
	if (cmd->mask == C_STATUS)
		return cmd_status(&opt);
	if (cmd->mask == C_TOP) {
		if (opt.report == NULL) {
			log_err("top: no report given; use nettally top hosts, "
			    "ports, peers, protocols, agents or interfaces");
			return REPORT_EXIT_USAGE;
		}
		if ((def = report_query_find(opt.report)) == NULL) {
			log_err("top: \"%s\": unknown report; use hosts, ports, "
			    "peers, protocols, agents or interfaces",
			    opt.report);
			return REPORT_EXIT_USAGE;
		}
	}
	if (report_format_parse(opt.format, &fmt) == -1) {
		log_err("%s: --format \"%s\": unknown format; use table, csv "
		    "or json", name, opt.format);
		return REPORT_EXIT_USAGE;
	}
	limit_max = cmd->mask == C_CHART ? REPORT_CHART_SERIES_MAX :
	    REPORT_LIMIT_MAX;
	if (opt.limit == NULL)
		opt.limit = cmd->mask == C_CHART ? "5" : "10";
	if (parse_limit(opt.limit, &win.limit) == -1 ||
	    win.limit > limit_max) {
		log_err("%s: --limit \"%s\": not a whole number from 1 to "
		    "%lld; give a row count such as --limit %s", name,
		    opt.limit, (long long)limit_max,
		    cmd->mask == C_CHART ? "5" : "10");
		return REPORT_EXIT_USAGE;
	}
	now = (int64_t)time(NULL);
	if (opt.now != NULL &&
	    report_time_iso(opt.now, &now, &errstr) == -1) {
		log_err("%s: --now \"%s\": %s", name, opt.now, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (report_time_parse(opt.since, now, REPORT_TIME_NONE_LOW,
	    &win.since, &errstr) == -1) {
		log_err("%s: --since \"%s\": %s; use e.g. 90s, 15m, 2h, 7d, "
		    "1w, 2026-11-25T10:00:00Z, 2026-11-25 or all", name,
		    opt.since, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (report_time_parse(opt.until, now, REPORT_TIME_NONE_HIGH,
	    &win.until, &errstr) == -1) {
		log_err("%s: --until \"%s\": %s; use e.g. 90s, 15m, 2h, 7d, "
		    "1w, 2026-11-25T10:00:00Z, 2026-11-25, now or all",
		    name, opt.until, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (win.since >= win.until) {
		log_err("%s: --since %s is not before --until %s; give an "
		    "earlier --since or a later --until", name, opt.since,
		    opt.until);
		return REPORT_EXIT_USAGE;
	}
	if (opt.step != NULL &&
	    (report_time_duration(opt.step, &step, &errstr) == -1 ||
	    (step == 0 && (errstr = "a step of 0 is no step") != NULL))) {
		log_err("%s: --step \"%s\": %s; use e.g. 60s, 5m, 1h or 1d",
		    name, opt.step, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (opt.alert != NULL &&
	    report_alert_parse(opt.alert, &alert, &errstr) == -1) {
		log_err("%s: --alert \"%s\": %s", name, opt.alert, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (report_chart_by_parse(opt.by, &by) == -1) {
		log_err("%s: --by \"%s\": use host, proto or iface", name,
		    opt.by);
		return REPORT_EXIT_USAGE;
	}
	if (cmd->mask == C_CHART && (opt.output == NULL ||
	    opt.output[0] == '\0')) {
		log_err("chart: no output file; give -o FILE.svg");
		return REPORT_EXIT_USAGE;
	}
	if ((status = check_filters(name, &opt, &filter)) != 0)
		return status;
	if (cmd->mask == C_TOP && def->src == REPORT_SRC_PEER &&
	    filter.port >= 0) {
		log_err("top: --port does not apply to peers, which are "
		    "counted without ports; drop --port or use top ports");
		return REPORT_EXIT_USAGE;
	}
	if ((status = report_db_open(opt.db, &db, &snap)) != 0)
		return status;
	if ((status = db_filters(name, db, &opt, &filter, &snap)) != 0)
		goto done;
	args.since = win.since;
	args.until = win.until;
	args.limit = win.limit;
	args.p95 = opt.p95 != NULL;
	args.filter = &filter;
	switch (cmd->mask) {
	case C_TOP:
		rc = report_query_run(db, def, &args, &res, &errstr);
		break;
	case C_SERIES:
		rc = report_series_run(db, &args, &step,
		    fmt == REPORT_FMT_TABLE && isatty(STDOUT_FILENO), &res,
		    &errstr);
		win.limit = 0;
		win.step = step;
		break;
	case C_SUMMARY:
		rc = report_summary_run(db, &args, now, &res, &errstr);
		win.limit = 0;
		win.norange = 1;
		win.shownow = 1;
		win.now = now;
		break;
	default:
		/* Everything is read and checked before -o is touched. */
		chart = report_chart_load(db, &args, by, &step, &rc, &errstr);
		if (chart != NULL &&
		    (status = report_db_unchanged(opt.db, &snap)) == 0)
			status = chart_output(opt.output, chart);
		if (status == 0 && chart != NULL &&
		    report_chart_empty(chart, &win.since, &win.until))
			status = peer_hint(name, db, &opt, &snap, &filter,
			    win.since, win.until);
		report_chart_free(chart);
		if (status != 0)
			goto done;
		break;
	}
	/* Read: the line goes before the rows, or a word about them. */
	report_progress_end();
	/* Before a failure is blamed on the file, or a row printed. */
	if ((status = report_db_unchanged(opt.db, &snap)) != 0)
		goto done;
	if (rc != 0) {
		log_err("%s: %s", rc == REPORT_EUSER ? name : opt.db, errstr);
		status = rc == REPORT_EUSER ? REPORT_EXIT_USAGE :
		    REPORT_EXIT_RUNTIME;
		goto done;
	}
	if (cmd->mask == C_CHART)
		goto done;
	/* JSON states the window the rates averaged over, not the asked. */
	if (res.has_window) {
		win.since = res.since;
		win.until = res.until;
	}
	if (report_format_write(stdout, fmt, &res, &win) == -1 ||
	    fflush(stdout) == EOF) {
		log_err("stdout: %s", strerror(errno));
		status = REPORT_EXIT_RUNTIME;
		goto done;
	}
	/*
	 * No rows under the filters: the report read no tier.  The summary
	 * prints the database's time itself.
	 */
	if (res.has_window && res.has_tiers && res.tiers.n == 0 &&
	    ((status = peer_hint(name, db, &opt, &snap, &filter, res.since,
	    res.until)) != 0 || (!res.has_dbinfo && (status =
	    window_hint(name, db, &opt, &snap, res.since, res.until)) != 0)))
		goto done;
	if (alert.set) {
		if ((over = report_alert_check(&alert, &res, stderr)) == -1) {
			log_err("%s: --alert: this report has no column to "
			    "compare", name);
			status = REPORT_EXIT_USAGE;
		} else if (over > 0)
			status = REPORT_EXIT_ALERT;
	}
done:
	report_progress_end();
	report_result_clear(&res);
	sqlite3_close(db);
	return status;
}

/*
 * Runs "nettally status": asks the store, prints, and with --watch asks
 * again every --interval until --count answers (default: until killed).
 */
static int
cmd_status(struct options *opt)
{
	struct proto_status *st = NULL, *prev = NULL, *tmp;
	struct timespec ts;
	enum report_fmt fmt;
	const char *errstr;
	char err[512];
	int64_t interval = 2, count = 1, n;
	int status = 0;

	/* An empty NETTALLY_SOCKET is unset, as an empty NETTALLY_DB is. */
	if (opt->socket == NULL && ((opt->socket = getenv(REPORT_SOCKET_ENV)) ==
	    NULL || opt->socket[0] == '\0'))
		opt->socket = REPORT_SOCKET_DEFAULT;
	if (opt->socket[0] == '\0') {
		log_err("status: --socket: empty path; give the store's socket "
		    "path");
		return REPORT_EXIT_USAGE;
	}
	if (report_format_parse(opt->format, &fmt) == -1) {
		log_err("status: --format \"%s\": unknown format; use table, "
		    "csv or json", opt->format);
		return REPORT_EXIT_USAGE;
	}
	if (opt->interval != NULL &&
	    (report_time_duration(opt->interval, &interval, &errstr) == -1 ||
	    (interval == 0 && (errstr = "a 0 s interval") != NULL))) {
		log_err("status: --interval \"%s\": %s; use e.g. 1s or 5s",
		    opt->interval, errstr);
		return REPORT_EXIT_USAGE;
	}
	if (opt->watch != NULL)
		count = 0;			/* until killed */
	if (opt->count != NULL && parse_limit(opt->count, &count) == -1) {
		log_err("status: --count \"%s\": not a whole number from 1 to "
		    "%d", opt->count, REPORT_LIMIT_MAX);
		return REPORT_EXIT_USAGE;
	}
	if ((st = malloc(sizeof(*st))) == NULL ||
	    (prev = malloc(sizeof(*prev))) == NULL) {
		log_err("status: out of memory");
		status = REPORT_EXIT_RUNTIME;
		goto done;
	}
	for (n = 0; count == 0 || n < count; n++) {
		if (n > 0) {
			ts.tv_sec = (time_t)interval;
			ts.tv_nsec = 0;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
		if (report_status_fetch(opt->socket, st, err,
		    sizeof(err)) == -1) {
			log_err("status: %s", err);
			status = REPORT_EXIT_RUNTIME;
			goto done;
		}
		/* A terminal is redrawn in place; a pipe gets each in turn. */
		if (opt->watch != NULL && fmt == REPORT_FMT_TABLE &&
		    isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		if (report_status_write(stdout, fmt, st, n > 0 ? prev : NULL) ==
		    -1 || fflush(stdout) == EOF) {
			log_err("stdout: %s", strerror(errno));
			status = REPORT_EXIT_RUNTIME;
			goto done;
		}
		tmp = prev;
		prev = st;
		st = tmp;
	}
done:
	free(st);
	free(prev);
	return status;
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("nettally", LOG_TO_STDERR);
	if (argc < 2) {
		log_err("no command; use nettally top, series, summary, chart "
		    "or status, or nettally --help");
		return REPORT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		errno = 0;
		usage_full(stdout);
		return stdout_done();
	}
	if (strcmp(argv[1], "--version") == 0) {
		errno = 0;
		printf("nettally %s (database schema %d, sqlite %s)\n",
		    NETTALLY_VERSION, SCHEMA_VERSION, sqlite3_libversion());
		return stdout_done();
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return cmd_run(&commands[i], argc - 2, argv + 2);
	log_err("%s: unknown command; use nettally top, series, summary, "
	    "chart or status, or nettally --help", argv[1]);
	return REPORT_EXIT_USAGE;
}
