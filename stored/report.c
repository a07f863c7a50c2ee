/*
 * report.c - main of the nettally command: options, usage, the run.
 *
 * nettally reads the store's database through its documented views, on a
 * read-only connection, and prints one report.  Every problem the user can
 * fix (a bad option, a missing, empty or too new database) is one line on
 * stderr saying what is wrong and what to do, and exit status 2; a failure
 * while querying or writing is exit status 1.  Nothing here writes to the
 * database: it is opened with SQLITE_OPEN_READONLY and "mode=ro".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "report_format.h"
#include "report_query.h"
#include "report_time.h"
#include "schema.h"

#ifndef NETTALLY_VERSION
#define NETTALLY_VERSION	"0.1.0"
#endif

#define REPORT_DB_DEFAULT	"/var/lib/nettally/nettally.db"
#define REPORT_DB_ENV		"NETTALLY_DB"
#define REPORT_BUSY_MS		5000

/* Exit statuses, documented in the usage text. */
#define EXIT_USAGE		2
#define EXIT_RUNTIME		1

struct options {
	const char	*report;
	const char	*db;
	const char	*since;
	const char	*until;
	const char	*limit;
	const char	*format;
};

static void	usage_full(FILE *);
static int	parse_top(int, char **, struct options *, int *);
static int	parse_limit(const char *, int64_t *);
static char	*db_uri(const char *);
static int	db_open(const char *, sqlite3 **);
static int	cmd_top(int, char **);

static const char usage_text[] =
"usage: nettally top REPORT [--since WHEN] [--until WHEN] [--limit N]\n"
"                    [--format table|csv|json] [--db FILE]\n"
"       nettally top --help | nettally --help | nettally --version\n"
"\n"
"Prints the busiest hosts, ports, peers or protocols recorded by\n"
"nettally-stored, reading its database read-only.\n"
"\n"
"REPORT: one row per key, by bytes (largest first), ties by key ascending:\n"
"  hosts       host family bytes in_bytes out_bytes packets frame_bytes\n"
"  ports       proto port bytes in_bytes out_bytes packets frame_bytes\n"
"  peers       host peer bytes in_bytes out_bytes packets frame_bytes\n"
"  protocols   proto bytes in_bytes out_bytes packets frame_bytes\n"
"\n"
"Columns:\n"
"  host         address of a local host\n"
"  family       ipv4, ipv6, or overflow (hosts that did not fit the\n"
"               agent's tables, summed into one row)\n"
"  peer         address of the other end of host's traffic\n"
"  proto        IP protocol name (tcp, udp, icmp...) or its number\n"
"  port         service port: the smaller of the TCP/UDP/SCTP ports\n"
"  bytes        IP bytes, in + out\n"
"  in_bytes     IP bytes received by the local host\n"
"  out_bytes    IP bytes sent by the local host\n"
"  packets      IP packets, in + out\n"
"  frame_bytes  bytes on the wire, link headers included, in + out\n"
"Traffic is counted per local host: between two local hosts it counts\n"
"once for each, so ports and protocols include it twice.\n"
"\n"
"Options:\n"
"  --since WHEN  start, inclusive (default 1h: the last hour)\n"
"  --until WHEN  end, exclusive (default now)\n"
"                WHEN: a duration back from now (90s, 15m, 2h, 7d, 1w,\n"
"                1h30m), a UTC time (2026-11-25T10:00:00Z), a date\n"
"                (2026-11-25, midnight UTC), now, or all (no bound).\n"
"                A bucket counts when since <= its start < until.\n"
"  --limit N     at most N rows, 1 to 100000 (default 10)\n"
"  --format F    table (default): a header line and aligned columns, bytes\n"
"                  in B, KiB, MiB, GiB, TiB... with one decimal; the same\n"
"                  on a terminal or a pipe: never truncated or coloured\n"
"                csv: RFC 4180, header row, CRLF, raw integers\n"
"                json: one object, raw integers, times in UTC:\n"
"                  {\"report\":\"hosts\",\"since\":\"2026-11-25T09:00:00Z\",\n"
"                   \"since_epoch\":1795597200,\"until\":...,\"until_epoch\":...,\n"
"                   \"limit\":10,\"rows\":[{\"host\":\"192.0.2.1\",...},...]}\n"
"                  since and until are null when unbounded (all)\n"
"  --db FILE     database (default $NETTALLY_DB, else\n"
"                /var/lib/nettally/nettally.db)\n"
"\n"
"Exit status: 0 done, 1 query or output failed, 2 bad arguments or a\n"
"database that is missing, uninitialised or from a newer nettally.\n";

static void
usage_full(FILE *out)
{
	fputs(usage_text, out);
}

/*
 * Collects the arguments after "top" into *opt (pointers into argv).
 * Options take "--opt VALUE" or "--opt=VALUE".  Returns 0; or -1 after
 * logging the problem; *help is set when --help was asked for.
 */
static int
parse_top(int argc, char **argv, struct options *opt, int *help)
{
	const struct {
		const char	 *name;
		const char	**value;
	} valued[] = {
		{ "since",	&opt->since },
		{ "until",	&opt->until },
		{ "limit",	&opt->limit },
		{ "format",	&opt->format },
		{ "db",		&opt->db },
	};
	const char *arg, *name, *eq, *value;
	size_t i, namelen;
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
			if (opt->report != NULL) {
				log_err("top: \"%s\": one report at a time; "
				    "see nettally top --help", arg);
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
			log_err("top: %s: unknown option; see nettally top "
			    "--help", arg);
			return -1;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (n + 1 < argc) {
			value = argv[++n];
		} else {
			log_err("top: --%s: needs a value; see nettally top "
			    "--help", valued[i].name);
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
 * Returns a malloc'ed "file:PATH?mode=ro" URI with PATH percent-encoded
 * (RFC 3986), so '?', '#' and '%' in a file name stay part of the name.
 * An absolute path gets an empty authority: "file:///var/...".
 */
static char *
db_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *uri, *o;

	if ((uri = malloc(strlen(path) * 3 + sizeof("file://?mode=ro"))) ==
	    NULL)
		return NULL;
	o = uri;
	o += sprintf(o, "%s", path[0] == '/' ? "file://" : "file:");
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		}
	}
	strcpy(o, "?mode=ro");
	return uri;
}

/*
 * Opens path read-only into *dbp and checks its schema version.  Returns
 * 0, or an exit status after logging why; *dbp is then NULL.
 */
static int
db_open(const char *path, sqlite3 **dbp)
{
	sqlite3 *db = NULL;
	struct stat sb;
	const char *errstr;
	char *uri = NULL;
	int version, status = EXIT_USAGE;

	*dbp = NULL;
	/* SQLite's "unable to open database file" does not say why. */
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			log_err("%s: no such database; pass --db FILE or set "
			    "NETTALLY_DB, or start nettally-stored to create "
			    "it", path);
		else
			log_err("%s: %s; check the path and its permissions",
			    path, strerror(errno));
		return EXIT_USAGE;
	}
	if (S_ISDIR(sb.st_mode)) {
		log_err("%s: is a directory; pass the database file with "
		    "--db FILE", path);
		return EXIT_USAGE;
	}
	if ((uri = db_uri(path)) == NULL) {
		log_err("%s: out of memory", path);
		return EXIT_RUNTIME;
	}
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL) != SQLITE_OK) {
		log_err("%s: cannot open: %s; check its permissions", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, REPORT_BUSY_MS);
	if (schema_version(db, &version, &errstr) == -1) {
		/*
		 * A WAL database whose -shm file is gone (no store running)
		 * needs it created again, which takes write access to the
		 * directory: say so rather than "readonly database".
		 */
		if (sqlite3_errcode(db) == SQLITE_READONLY ||
		    sqlite3_errcode(db) == SQLITE_CANTOPEN)
			log_err("%s: cannot read: %s; a WAL database needs "
			    "its -shm file: run nettally while nettally-stored "
			    "runs, or as a user who may write its directory",
			    path, errstr);
		else
			log_err("%s: cannot read: %s; is it a nettally "
			    "database?", path, errstr);
		goto fail;
	}
	if (version == 0) {
		log_err("%s: database is empty, not initialised; start "
		    "nettally-stored once to create it, or check --db", path);
		goto fail;
	}
	if (version > SCHEMA_VERSION) {
		log_err("%s: database schema %d is newer than this nettally "
		    "(schema %d); upgrade nettally", path, version,
		    SCHEMA_VERSION);
		goto fail;
	}
	if (version < SCHEMA_VERSION) {
		log_err("%s: database schema %d is older than this nettally "
		    "(schema %d); start nettally-stored once to migrate it",
		    path, version, SCHEMA_VERSION);
		goto fail;
	}
	free(uri);
	*dbp = db;
	return 0;
fail:
	sqlite3_close(db);
	free(uri);
	return status;
}

/* Runs "nettally top ...": argv holds what follows "top". */
static int
cmd_top(int argc, char **argv)
{
	struct options opt = { .since = "1h", .until = "now", .limit = "10",
	    .format = "table" };
	struct report_result res;
	struct report_window win;
	const struct report_def *def;
	enum report_fmt fmt;
	const char *errstr;
	sqlite3 *db = NULL;
	int64_t now;
	int help, status;

	report_result_init(&res);
	opt.db = getenv(REPORT_DB_ENV);
	if (opt.db == NULL || opt.db[0] == '\0')
		opt.db = REPORT_DB_DEFAULT;
	if (parse_top(argc, argv, &opt, &help) == -1)
		return EXIT_USAGE;
	if (help) {
		usage_full(stdout);
		return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
	}
	if (opt.report == NULL) {
		log_err("top: no report given; use nettally top hosts, ports, "
		    "peers or protocols");
		return EXIT_USAGE;
	}
	if ((def = report_query_find(opt.report)) == NULL) {
		log_err("top: \"%s\": unknown report; use hosts, ports, peers "
		    "or protocols", opt.report);
		return EXIT_USAGE;
	}
	if (report_format_parse(opt.format, &fmt) == -1) {
		log_err("top: --format \"%s\": unknown format; use table, csv "
		    "or json", opt.format);
		return EXIT_USAGE;
	}
	if (parse_limit(opt.limit, &win.limit) == -1) {
		log_err("top: --limit \"%s\": not a whole number from 1 to %d; "
		    "give a row count such as --limit 10", opt.limit,
		    REPORT_LIMIT_MAX);
		return EXIT_USAGE;
	}
	now = (int64_t)time(NULL);
	if (report_time_parse(opt.since, now, REPORT_TIME_NONE_LOW,
	    &win.since, &errstr) == -1) {
		log_err("top: --since \"%s\": %s; use e.g. 90s, 15m, 2h, 7d, "
		    "1w, 2026-11-25T10:00:00Z, 2026-11-25 or all", opt.since,
		    errstr);
		return EXIT_USAGE;
	}
	if (report_time_parse(opt.until, now, REPORT_TIME_NONE_HIGH,
	    &win.until, &errstr) == -1) {
		log_err("top: --until \"%s\": %s; use e.g. 90s, 15m, 2h, 7d, "
		    "1w, 2026-11-25T10:00:00Z, 2026-11-25, now or all",
		    opt.until, errstr);
		return EXIT_USAGE;
	}
	if (win.since >= win.until) {
		log_err("top: --since %s is not before --until %s; give an "
		    "earlier --since or a later --until", opt.since,
		    opt.until);
		return EXIT_USAGE;
	}
	if ((status = db_open(opt.db, &db)) != 0)
		return status;
	status = 0;
	if (report_query_run(db, def, win.since, win.until, win.limit, &res,
	    &errstr) == -1) {
		log_err("%s: top %s: %s", opt.db, def->name, errstr);
		status = EXIT_RUNTIME;
		goto done;
	}
	if (report_format_write(stdout, fmt, &res, &win) == -1 ||
	    fflush(stdout) == EOF) {
		log_err("stdout: %s", strerror(errno));
		status = EXIT_RUNTIME;
	}
done:
	report_result_clear(&res);
	sqlite3_close(db);
	return status;
}

int
main(int argc, char **argv)
{
	log_init("nettally", LOG_TO_STDERR);
	if (argc < 2) {
		log_err("no command; use nettally top hosts|ports|peers|"
		    "protocols, or nettally --help");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage_full(stdout);
		return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("nettally %s (database schema %d, sqlite %s)\n",
		    NETTALLY_VERSION, SCHEMA_VERSION, sqlite3_libversion());
		return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
	}
	if (strcmp(argv[1], "top") == 0)
		return cmd_top(argc - 2, argv + 2);
	log_err("%s: unknown command; use nettally top hosts|ports|peers|"
	    "protocols, or nettally --help", argv[1]);
	return EXIT_USAGE;
}
