/*
 * report_filter.h - the filters every nettally report accepts.
 *
 * --agent, --iface, --host (an address or a CIDR network), --proto (name
 * or number), --port and --direction narrow the rows a report reads.  They
 * are checked and canonicalised here, then bound to fixed SQL parameters
 * (?4 .. ?9, see REPORT_FILTER_SQL); a filter not given is bound NULL and
 * its test is then true.  Nothing from the command line is ever formatted
 * into SQL text.
 */
#ifndef NETTALLY_REPORT_FILTER_H
#define NETTALLY_REPORT_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Room for "ffff:...:ffff/128" and its NUL. */
#define REPORT_NET_LEN		52

/* Parameter numbers shared by every report statement. */
#define REPORT_P_SINCE		1
#define REPORT_P_UNTIL		2
#define REPORT_P_LIMIT		3
#define REPORT_P_AGENT		4
#define REPORT_P_IFACE		5
#define REPORT_P_HOST		6
#define REPORT_P_PROTO		7
#define REPORT_P_PORT		8
#define REPORT_P_DIR		9

/*
 * The WHERE clause of a view with host, proto and direction columns;
 * REPORT_FILTER_SQL_PORT adds the port test for port_traffic.
 * nettally_in_net() is registered by report_filter_register().
 */
#define REPORT_FILTER_SQL \
	" WHERE bucket >= ?1 AND bucket < ?2" \
	" AND (?4 IS NULL OR agent = ?4) AND (?5 IS NULL OR iface = ?5)" \
	" AND (?6 IS NULL OR nettally_in_net(host, ?6))" \
	" AND (?7 IS NULL OR proto = ?7)" \
	" AND (?9 IS NULL OR direction = ?9)"
#define REPORT_FILTER_SQL_PORT \
	REPORT_FILTER_SQL " AND (?8 IS NULL OR port = ?8)"

/*
 * The same tests on a counter table under the alias s (host_stat,
 * port_stat, peer_stat), for the reports that read the integer ids and
 * join the texts only to what they grouped.  The interface and host tests
 * are subqueries of the small iface and address tables, run once per
 * statement and only when that filter is given: the host network is then
 * tested once per address, not once per row.  Without a filter every row
 * of the window counts, as in the view: the view's joins to iface, agent
 * and address drop no row, since the store interns an interface, agent or
 * address before it writes a row that names it and never deletes one.
 */
#define REPORT_FILTER_SQL_TABLE \
	" WHERE s.bucket >= ?1 AND s.bucket < ?2" \
	" AND (?4 IS NULL AND ?5 IS NULL OR s.iface_id IN (SELECT i.id" \
	" FROM iface i JOIN agent a ON a.id = i.agent_id" \
	" WHERE (?4 IS NULL OR a.name = ?4) AND (?5 IS NULL OR i.name = ?5)))" \
	" AND (?6 IS NULL OR s.host_id IN (SELECT id FROM address" \
	" WHERE nettally_in_net(text, ?6)))" \
	" AND (?7 IS NULL OR s.proto = ?7)" \
	" AND (?9 IS NULL OR" \
	" CASE s.direction WHEN 0 THEN 'in' ELSE 'out' END = ?9)"
#define REPORT_FILTER_SQL_TABLE_PORT \
	REPORT_FILTER_SQL_TABLE " AND (?8 IS NULL OR s.port = ?8)"

struct report_filter {
	const char	*agent;			/* NULL: every agent */
	const char	*iface;			/* NULL: every interface */
	int		 has_host;
	int		 host_single;		/* no /prefix: one address */
	char		 host_net[REPORT_NET_LEN]; /* canonical "addr/len" */
	int		 proto;			/* -1: every protocol */
	int		 port;			/* -1: every port */
	int		 direction;		/* -1 both, 0 in, 1 out */
};

/* Sets every filter to "everything". */
void	report_filter_init(struct report_filter *f);

/*
 * Parses an address or CIDR network ("10.0.0.0/8", "2001:db8::/32",
 * "192.0.2.1") into f->host_net, canonical (host bits cleared, text as
 * addrtext writes it).  Returns 0, or -1 with *errstr (static text).
 */
int	report_filter_host(const char *s, struct report_filter *f,
	    const char **errstr);

/* Parses a port, 0 to 65535.  Returns 0, or -1 with *errstr. */
int	report_filter_port(const char *s, int *port, const char **errstr);

/* Parses "in" or "out".  Returns 0, or -1 with *errstr. */
int	report_filter_direction(const char *s, int *dir, const char **errstr);

/*
 * Resolves a protocol name (as the database names it: tcp, udp, icmp...)
 * or a number 0..255.  Returns 0, 1 when db knows no such name, or -1
 * with *errstr when the query fails.
 */
int	report_filter_proto(sqlite3 *db, const char *s, int *proto,
	    const char **errstr);

/*
 * Says whether the single address of f (host_single) is in db's address
 * table: returns 1 when it is, 0 when it is not, -1 with *errstr on a
 * query failure.
 */
int	report_filter_host_known(sqlite3 *db, const struct report_filter *f,
	    const char **errstr);

/*
 * Says whether db ever recorded the agent f->agent and the interface
 * f->iface (each when set; with both set, an interface of that agent),
 * from the agent and iface tables, whatever the window.  Returns 1 when
 * they are known; 0 when one is not, with what is wrong and the names db
 * knows (a few, then "and N more"; control characters and invalid UTF-8
 * as '?') written into msg; -1 with *errstr on a query failure.
 */
int	report_filter_names_known(sqlite3 *db, const struct report_filter *f,
	    char *msg, size_t len, const char **errstr);

/*
 * Whether f selects one --host address and nothing else (every other
 * filter at "everything"); a filter added to the struct belongs here.
 */
int	report_filter_host_only(const struct report_filter *f);

/*
 * Counts the local hosts the single address of f (host_single) was a peer
 * of in buckets since <= bucket < until, into *nhosts.  Returns 0, or -1
 * with *errstr on a query failure.
 */
int	report_filter_host_peers(sqlite3 *db, const struct report_filter *f,
	    int64_t since, int64_t until, int64_t *nhosts,
	    const char **errstr);

/*
 * Registers nettally_in_net(TEXT host, TEXT net) on db: 1 when host is an
 * address inside net, else 0 (also for "overflow" and other non-address
 * text).  Returns 0, or -1 with *errstr.
 */
int	report_filter_register(sqlite3 *db, const char **errstr);

/*
 * Binds the filter parameters ?4 .. ?9 of st (those st has).  Returns 0,
 * or -1 when sqlite refuses a binding.
 */
int	report_filter_bind(sqlite3_stmt *st, const struct report_filter *f);

#endif
