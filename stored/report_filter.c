/*
 * report_filter.c - parsing, canonical forms and SQL binding of the report
 * filters.
 *
 * Addresses are compared as bytes, never as text: "10.0.0.0/8" and
 * "2001:DB8::/32" are parsed by netaddr.h, the grammar the agent's
 * --local-net uses, with their host bits cleared, and the SQL function nettally_in_net() parses each row's host text the same
 * way and compares the first prefix bits.  The parsed network is cached on
 * the statement (sqlite3_set_auxdata), so a report parses it once, not once
 * per row.  Besides the reports' own table reads (REPORT_FILTER_SQL_TABLE),
 * two places read tables rather than views: the unknown-host check, which
 * looks the address up by its unique key, and the peer check after an
 * empty report, which adds the window's peer rows.
 * --agent and --iface are looked up in the agent and iface tables, which
 * the store only ever adds to, so a mistyped name is an error and not an
 * empty report that an --alert check could never fire on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtext.h"
#include "report_format.h"
#include "netaddr.h"
#include "proto.h"
#include "report_filter.h"
#include "report_query.h"

/* Names a hint lists before "and N more". */
#define NAMES_SHOWN	5

static void	in_net_fn(sqlite3_context *, int, sqlite3_value **);
static void	msg_add(char *, size_t, size_t *, const char *);
static void	msg_name(char *, size_t, size_t *, const char *);
static int	name_exists(sqlite3 *, const char *, const char *,
		    const char *, int *, const char **);
static int	name_list(sqlite3 *, const char *, const char *, char *,
		    size_t, size_t *, const char **);

void
report_filter_init(struct report_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = -1;
	f->port = -1;
	f->direction = -1;
}

int
report_filter_host(const char *s, struct report_filter *f,
    const char **errstr)
{
	char text[ADDRTEXT_MAX];
	struct netaddr n;

	if (netaddr_parse(s, &n, errstr) == -1) {
		/* The report's own wording: it also takes a bare host. */
		*errstr = "not an address or network; give e.g. 192.0.2.1, "
		    "10.0.0.0/8 or 2001:db8::/32";
		return -1;
	}
	/* As the address table writes it, for the report's header. */
	if (addrtext(n.family == 4 ? PROTO_AF_INET : PROTO_AF_INET6, n.addr,
	    text, sizeof(text)) == -1) {
		*errstr = "cannot print the address";
		return -1;
	}
	snprintf(f->host_net, sizeof(f->host_net), "%s/%d", text, n.prefix);
	f->has_host = 1;
	f->host_single = strchr(s, '/') == NULL;
	return 0;
}

int
report_filter_port(const char *s, int *port, const char **errstr)
{
	const char *p;
	long v = 0;

	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > 65535)
			break;
		v = v * 10 + (*p - '0');
	}
	if (*s == '\0' || *p != '\0' || v > 65535) {
		*errstr = "not a port number from 0 to 65535";
		return -1;
	}
	*port = (int)v;
	return 0;
}

int
report_filter_direction(const char *s, int *dir, const char **errstr)
{
	if (strcmp(s, "in") == 0)
		*dir = 0;
	else if (strcmp(s, "out") == 0)
		*dir = 1;
	else {
		*errstr = "a direction is in or out";
		return -1;
	}
	return 0;
}

int
report_filter_proto(sqlite3 *db, const char *s, int *proto,
    const char **errstr)
{
	static const char sql[] = "SELECT number FROM protocol WHERE name = ?1";
	sqlite3_stmt *st = NULL;
	const char *p;
	int v = 0, rc;

	for (p = s; *p >= '0' && *p <= '9' && v <= 255; p++)
		v = v * 10 + (*p - '0');
	if (*s != '\0' && *p == '\0') {
		if (v > 255)
			return 1;
		*proto = v;
		return 0;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 1;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	*proto = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
fail:
	*errstr = report_query_errmsg(db);
	sqlite3_finalize(st);
	return -1;
}

/*
 * Writes the address table's key of f's address into key (17 bytes): one
 * family byte (4 or 6), then the address.  Returns its length, or 0 with
 * *errstr.
 */
static size_t
host_key(const struct report_filter *f, uint8_t *key, const char **errstr)
{
	struct netaddr n;

	if (netaddr_parse(f->host_net, &n, errstr) == -1) {
		*errstr = "bad host filter";
		return 0;
	}
	key[0] = n.family;
	memcpy(key + 1, n.addr, n.family == 4 ? 4 : 16);
	return n.family == 4 ? 5 : 17;
}

int
report_filter_host_known(sqlite3 *db, const struct report_filter *f,
    const char **errstr)
{
	static const char sql[] = "SELECT 1 FROM address WHERE addr = ?1";
	sqlite3_stmt *st = NULL;
	uint8_t key[17];
	size_t keylen;
	int rc;

	if ((keylen = host_key(f, key, errstr)) == 0)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 1, key, (int)keylen, SQLITE_STATIC) !=
	    SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW;
fail:
	*errstr = report_query_errmsg(db);
	sqlite3_finalize(st);
	return -1;
}

/* The name lookups of report_filter_names_known; ?1 agent, ?2 iface. */
static const char sql_agent_known[] = "SELECT 1 FROM agent WHERE name = ?1";
static const char sql_iface_known[] = "SELECT 1 FROM iface i"
    " JOIN agent a ON a.id = i.agent_id"
    " WHERE i.name = ?2 AND (?1 IS NULL OR a.name = ?1)";
static const char sql_agent_list[] = "SELECT name FROM agent ORDER BY name";
static const char sql_iface_list[] = "SELECT DISTINCT i.name FROM iface i"
    " JOIN agent a ON a.id = i.agent_id"
    " WHERE ?1 IS NULL OR a.name = ?1 ORDER BY 1";

/* Appends s to msg, which holds *off bytes; cut short when full. */
static void
msg_add(char *msg, size_t len, size_t *off, const char *s)
{
	int n;

	if (*off + 1 >= len)
		return;
	n = snprintf(msg + *off, len - *off, "%s", s);
	*off += n < 0 ? 0 : (size_t)n < len - *off ? (size_t)n :
	    len - *off - 1;
}

/*
 * Appends a name from the database as report_format_text prints it: each
 * character a terminal must not get as one '?'.  Never splits one.
 */
static void
msg_name(char *msg, size_t len, size_t *off, const char *s)
{
	size_t n;
	int shown;

	while (*s != '\0') {
		n = report_format_char(s, &shown);
		if ((shown ? n : 1) >= len - *off)
			return;
		if (shown)
			memcpy(msg + *off, s, n);
		else
			msg[*off] = '?';
		*off += shown ? n : 1;
		msg[*off] = '\0';
		s += n;
	}
}

/* Runs one of the lookups: *found is 1 when it has a row.  0 or -1. */
static int
name_exists(sqlite3 *db, const char *sql, const char *agent,
    const char *iface, int *found, const char **errstr)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (sqlite3_bind_parameter_count(st) >= 2 &&
	    sqlite3_bind_text(st, 2, iface, -1, SQLITE_STATIC) != SQLITE_OK))
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	*found = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return 0;
fail:
	*errstr = report_query_errmsg(db);
	sqlite3_finalize(st);
	return -1;
}

/*
 * Appends the first NAMES_SHOWN names sql lists (?1 bound to agent) to
 * msg, then "and N more".  Returns the number of names, or -1 with
 * *errstr.
 */
static int
name_list(sqlite3 *db, const char *sql, const char *agent, char *msg,
    size_t len, size_t *off, const char **errstr)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *name;
	char more[32];
	int rc, n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    (sqlite3_bind_parameter_count(st) >= 1 &&
	    sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC) != SQLITE_OK))
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ >= NAMES_SHOWN)
			continue;
		name = sqlite3_column_text(st, 0);
		if (n > 1)
			msg_add(msg, len, off, ", ");
		msg_name(msg, len, off, name != NULL ? (const char *)name :
		    "");
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (n > NAMES_SHOWN) {
		snprintf(more, sizeof(more), " and %d more", n - NAMES_SHOWN);
		msg_add(msg, len, off, more);
	}
	return n;
fail:
	*errstr = report_query_errmsg(db);
	sqlite3_finalize(st);
	return -1;
}

int
report_filter_names_known(sqlite3 *db, const struct report_filter *f,
    char *msg, size_t len, const char **errstr)
{
	size_t off = 0;
	int found = 1, n;

	msg[0] = '\0';
	if (f->agent != NULL) {
		if (name_exists(db, sql_agent_known, f->agent, NULL, &found,
		    errstr) == -1)
			return -1;
		if (!found) {
			msg_add(msg, len, &off, "--agent \"");
			msg_add(msg, len, &off, f->agent);
			msg_add(msg, len, &off, "\": no such agent was ever "
			    "recorded; known agents: ");
			if ((n = name_list(db, sql_agent_list, NULL, msg, len,
			    &off, errstr)) == -1)
				return -1;
			if (n == 0)
				msg_add(msg, len, &off, "none yet");
			return 0;
		}
	}
	if (f->iface == NULL)
		return 1;
	if (name_exists(db, sql_iface_known, f->agent, f->iface, &found,
	    errstr) == -1)
		return -1;
	if (found)
		return 1;
	msg_add(msg, len, &off, "--iface \"");
	msg_add(msg, len, &off, f->iface);
	if (f->agent != NULL) {
		msg_add(msg, len, &off, "\": agent \"");
		msg_add(msg, len, &off, f->agent);
		msg_add(msg, len, &off, "\" never recorded this interface; its "
		    "interfaces: ");
	} else
		msg_add(msg, len, &off, "\": no such interface was ever "
		    "recorded; known interfaces: ");
	n = name_list(db, sql_iface_list, f->agent, msg, len, &off, errstr);
	if (n == -1)
		return -1;
	if (n == 0)
		msg_add(msg, len, &off, "none yet");
	return 0;
}

int
report_filter_host_only(const struct report_filter *f)
{
	return f->has_host && f->host_single && f->agent == NULL &&
	    f->iface == NULL && f->proto == -1 && f->port == -1 &&
	    f->direction == -1;
}

int
report_filter_host_peers(sqlite3 *db, const struct report_filter *f,
    int64_t since, int64_t until, int64_t *nhosts, const char **errstr)
{
	/*
	 * The address by its unique key, then the window's peer rows by
	 * the primary key's leading bucket: no more rows than top peers
	 * reads over the same window, and only after an empty report.
	 */
	static const char sql[] = "SELECT count(DISTINCT s.host_id)"
	    " FROM address r JOIN peer_stat s ON s.peer_id = r.id"
	    " WHERE r.addr = ?1 AND s.bucket >= ?2 AND s.bucket < ?3";
	sqlite3_stmt *st = NULL;
	uint8_t key[17];
	size_t keylen;

	if ((keylen = host_key(f, key, errstr)) == 0)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 1, key, (int)keylen, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_int64(st, 2, since) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, until) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	*nhosts = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* nettally_in_net(host, net): the network is parsed once per statement. */
static void
in_net_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *host, *nettext;
	struct netaddr *n;
	const char *errstr;
	uint8_t a[16];
	int family;

	(void)argc;
	if ((n = sqlite3_get_auxdata(ctx, 1)) == NULL) {
		nettext = sqlite3_value_text(argv[1]);
		if (nettext == NULL) {
			sqlite3_result_int(ctx, 0);
			return;
		}
		if ((n = malloc(sizeof(*n))) == NULL) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
		if (netaddr_parse((const char *)nettext, n, &errstr) == -1) {
			free(n);
			sqlite3_result_error(ctx, "nettally_in_net: bad network",
			    -1);
			return;
		}
		sqlite3_set_auxdata(ctx, 1, n, free);
		/* set_auxdata may have freed n already: fetch it back. */
		if ((n = sqlite3_get_auxdata(ctx, 1)) == NULL) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
	}
	host = sqlite3_value_text(argv[0]);
	if (host == NULL ||
	    netaddr_parse_host((const char *)host, &family, a) == -1) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, netaddr_contains(n, family, a));
}

int
report_filter_register(sqlite3 *db, const char **errstr)
{
	if (sqlite3_create_function(db, "nettally_in_net", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, in_net_fn, NULL,
	    NULL) != SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		return -1;
	}
	return 0;
}

int
report_filter_bind(sqlite3_stmt *st, const struct report_filter *f)
{
	int n = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;

	/* Unbound parameters are NULL: the filter's test is then true. */
	if (n >= REPORT_P_AGENT && f->agent != NULL)
		rc |= sqlite3_bind_text(st, REPORT_P_AGENT, f->agent, -1,
		    SQLITE_STATIC);
	if (n >= REPORT_P_IFACE && f->iface != NULL)
		rc |= sqlite3_bind_text(st, REPORT_P_IFACE, f->iface, -1,
		    SQLITE_STATIC);
	if (n >= REPORT_P_HOST && f->has_host)
		rc |= sqlite3_bind_text(st, REPORT_P_HOST, f->host_net, -1,
		    SQLITE_STATIC);
	if (n >= REPORT_P_PROTO && f->proto >= 0)
		rc |= sqlite3_bind_int(st, REPORT_P_PROTO, f->proto);
	if (n >= REPORT_P_PORT && f->port >= 0)
		rc |= sqlite3_bind_int(st, REPORT_P_PORT, f->port);
	if (n >= REPORT_P_DIR && f->direction >= 0)
		rc |= sqlite3_bind_text(st, REPORT_P_DIR,
		    f->direction == 0 ? "in" : "out", -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : -1;
}
