/*
 * report_filter.c - parsing, canonical forms and SQL binding of the report
 * filters.
 *
 * Addresses are compared as bytes, never as text: "10.0.0.0/8" and
 * "2001:DB8::/32" are parsed by netaddr.h, the grammar the agent's
 * --local-net uses, with their host bits cleared, and the SQL function nettally_in_net() parses each row's host text the same
 * way and compares the first prefix bits.  The parsed network is cached on
 * the statement (sqlite3_set_auxdata), so a report parses it once, not once
 * per row.  The two places that read tables rather than views are the
 * unknown-host check, which looks the address up by its unique key, and
 * the peer check after an empty report, which adds the window's peer rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtext.h"
#include "netaddr.h"
#include "proto.h"
#include "report_filter.h"
#include "report_query.h"

static void	in_net_fn(sqlite3_context *, int, sqlite3_value **);

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
