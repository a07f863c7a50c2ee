/*
 * report_query.c - the SQL behind the top reports of the nettally command.
 *
 * Reports are defined on the documented views (host_traffic,
 * port_traffic, peer_traffic) and print what a query of the view would;
 * where the counter table under a view gives the same rows faster, they
 * read the table (below), so a schema change beneath a view must keep
 * report_query_table and the id reports in step.  Every value is bound: ?1
 * since (inclusive), ?2 until (exclusive), ?3 the row limit, ?4 .. ?9 the
 * filters (report_filter.h), ?10 the seconds rates are averaged over, ?11
 * the rank that is the 95th percentile.  The SQL text is assembled only
 * from the static fragments below.  The bucket test is on the integer
 * bucket column, which the store keeps first in each counter
 * table's primary key: a range scan.  Rows of every agent, interface and
 * resolution are summed: the store keeps each packet in one bucket of one
 * resolution (retention.c moves rows to a coarser tier, never copies), so
 * the sum reads, for each instant, the finest tier still holding it.  The
 * span query says which tiers those were, for the report to print.
 *
 * The 95th percentile is the nearest-rank one over every bucket of the
 * window, a bucket without traffic being a sample of 0 bit/s: of N
 * buckets, it is the (floor(N / 20) + 1)-th largest rate, or 0 when fewer
 * buckets had traffic.  So only buckets with traffic need ranking.
 *
 * Ordering is total so output is deterministic: bytes descending, then
 * the key columns ascending (binary collation).  The main SELECT carries
 * no aliases on purpose: an alias named like a view column ("bytes")
 * would make ORDER BY ambiguous.
 *
 * The views turn ids into text for every row, and a GROUP BY over their
 * text columns sorts every row by strings: top peers over 2.7 million
 * rows took 9.7 s (README, Reports).  So the span reads the table in one
 * pass, and the reports whose keys are one id each (a host,
 * a host and a peer, a protocol and port, an interface) read the counter
 * table under the same filters (REPORT_FILTER_SQL_TABLE), sum it per id,
 * and join the texts only to the sums.  An id stands for one text: the
 * store writes an address's text from its unique addr, and a protocol's
 * name, an interface's (agent, name) pair are unique too.  Without
 * --95th the sums are grouped again by their texts, which costs little
 * and keeps the view's result even where two ids shared a text; with it,
 * each id's buckets are ranked as the view's text key's were.  Top agents
 * reads the view: an agent has several interface ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"
#include "report_time.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SQL_MAX		4096

static int	result_grow(struct report_result *);
static int	sql_cat(char *, size_t *, const char *);
static int	rank_ctes(char *, size_t *, const char *, const char *,
		    const char *, const char *, const char *, const char *);
static int	build_top(char *, const struct report_def *, const char *,
		    const char *, int);
static int	build_top_ids(char *, const struct report_def *,
		    const char *, const char *, int);
static void	span_add(struct report_span *, sqlite3_stmt *);

#define IN_BYTES	"nt_sum(CASE direction WHEN 'in' THEN bytes ELSE 0" \
			" END)"
#define OUT_BYTES	"nt_sum(CASE direction WHEN 'out' THEN bytes ELSE 0" \
			" END)"
/* The same on a counter table: its direction is 0 for in, else out. */
#define IN_BYTES_T	"nt_sum(CASE direction WHEN 0 THEN bytes ELSE 0 END)"
#define OUT_BYTES_T	"nt_sum(CASE direction WHEN 0 THEN 0 ELSE bytes END)"

/* The address columns of host_traffic, of an address joined as h. */
#define HOST_TEXT	"h.text, CASE h.family WHEN 4 THEN 'ipv4' WHEN 6" \
			" THEN 'ipv6' ELSE 'overflow' END"
#define JOIN_HOST	" JOIN address h ON h.id = g.host_id"
/* proto_name of the views, of the protocol table joined as p. */
#define PROTO_TEXT	"COALESCE(p.name, CAST(g.proto AS TEXT))"
#define JOIN_PROTO	" LEFT JOIN protocol p ON p.number = g.proto"

static const struct report_column cols_hosts[] = {
	{ "host",	REPORT_COL_TEXT },
	{ "family",	REPORT_COL_TEXT },
};
static const struct report_column cols_ports[] = {
	{ "proto",	REPORT_COL_TEXT },
	{ "port",	REPORT_COL_COUNT },
};
static const struct report_column cols_peers[] = {
	{ "host",	REPORT_COL_TEXT },
	{ "peer",	REPORT_COL_TEXT },
};
static const struct report_column cols_protocols[] = {
	{ "proto",	REPORT_COL_TEXT },
};
static const struct report_column cols_agents[] = {
	{ "agent",	REPORT_COL_TEXT },
};
static const struct report_column cols_interfaces[] = {
	{ "agent",	REPORT_COL_TEXT },
	{ "iface",	REPORT_COL_TEXT },
};

/* What every top report prints after its keys. */
static const struct report_column cols_totals[] = {
	{ "bytes",	 REPORT_COL_BYTES },
	{ "in_bytes",	 REPORT_COL_BYTES },
	{ "out_bytes",	 REPORT_COL_BYTES },
	{ "packets",	 REPORT_COL_COUNT },
	{ "frame_bytes", REPORT_COL_BYTES },
	{ "in_rate",	 REPORT_COL_RATE },
	{ "out_rate",	 REPORT_COL_RATE },
};
static const struct report_column cols_p95[] = {
	{ "in_p95",	 REPORT_COL_RATE },
	{ "out_p95",	 REPORT_COL_RATE },
};

static const struct report_def reports[] = {
	{ "hosts", REPORT_SRC_HOST, "host, family", "host ASC, family ASC",
	    cols_hosts, NELEM(cols_hosts),
	    "host_id", HOST_TEXT, JOIN_HOST },
	{ "ports", REPORT_SRC_PORT, "proto_name, port",
	    "proto_name ASC, port ASC", cols_ports, NELEM(cols_ports),
	    "proto, port", PROTO_TEXT ", g.port", JOIN_PROTO },
	{ "peers", REPORT_SRC_PEER, "host, peer", "host ASC, peer ASC",
	    cols_peers, NELEM(cols_peers),
	    "host_id, peer_id", "h.text, r.text",
	    JOIN_HOST " JOIN address r ON r.id = g.peer_id" },
	{ "protocols", REPORT_SRC_HOST, "proto_name", "proto_name ASC",
	    cols_protocols, NELEM(cols_protocols),
	    "proto", PROTO_TEXT, JOIN_PROTO },
	{ "agents", REPORT_SRC_HOST, "agent", "agent ASC",
	    cols_agents, NELEM(cols_agents), NULL, NULL, NULL },
	{ "interfaces", REPORT_SRC_HOST, "agent, iface",
	    "agent ASC, iface ASC", cols_interfaces, NELEM(cols_interfaces),
	    "iface_id", "a.name, i.name",
	    " JOIN iface i ON i.id = g.iface_id"
	    " JOIN agent a ON a.id = i.agent_id" },
};

const struct report_def *
report_query_find(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(reports); i++)
		if (strcmp(reports[i].name, name) == 0)
			return &reports[i];
	return NULL;
}

const struct report_def *
report_query_all(size_t *n)
{
	*n = NELEM(reports);
	return reports;
}

/* What a source reads: its view, and the counter table under it. */
struct report_source {
	const char	*view;
	const char	*view_where;
	const char	*table;
	const char	*table_where;	/* the same rows, on alias s */
};

static const struct report_source source_host = { "host_traffic",
    REPORT_FILTER_SQL, "host_stat", REPORT_FILTER_SQL_TABLE };
static const struct report_source source_port = { "port_traffic",
    REPORT_FILTER_SQL_PORT, "port_stat", REPORT_FILTER_SQL_TABLE_PORT };
static const struct report_source source_peer = { "peer_traffic",
    REPORT_FILTER_SQL, "peer_stat", REPORT_FILTER_SQL_TABLE };

/* A port filter narrows hosts to port rows; peers have none. */
static const struct report_source *
report_source(enum report_src src, const struct report_filter *f)
{
	switch (src) {
	case REPORT_SRC_HOST:
		return f->port >= 0 ? &source_port : &source_host;
	case REPORT_SRC_PORT:
		return &source_port;
	case REPORT_SRC_PEER:
		return f->port >= 0 ? NULL : &source_peer;
	}
	return NULL;
}

const char *
report_query_view(enum report_src src, const struct report_filter *f,
    const char **where)
{
	const struct report_source *rs = report_source(src, f);

	if (rs == NULL)
		return NULL;
	*where = rs->view_where;
	return rs->view;
}

const char *
report_query_table(enum report_src src, const struct report_filter *f,
    const char **where)
{
	const struct report_source *rs = report_source(src, f);

	if (rs == NULL)
		return NULL;
	*where = rs->table_where;
	return rs->table;
}

const char *
report_query_errmsg(sqlite3 *db)
{
	static char errbuf[512];
	int code = sqlite3_errcode(db) & 0xff;

	/* Copy: finalize may replace the message sqlite3_errmsg points at. */
	snprintf(errbuf, sizeof(errbuf), "%s%s", sqlite3_errmsg(db),
	    code == SQLITE_CORRUPT || code == SQLITE_NOTADB ?
	    REPORT_DB_DAMAGED : "");
	return errbuf;
}

sqlite3_stmt *
report_query_prepare(sqlite3 *db, const char *sql,
    const struct report_args *a, const char **errstr)
{
	sqlite3_stmt *st = NULL;
	int n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	n = sqlite3_bind_parameter_count(st);
	if ((n >= REPORT_P_SINCE &&
	    sqlite3_bind_int64(st, REPORT_P_SINCE, a->since) != SQLITE_OK) ||
	    (n >= REPORT_P_UNTIL &&
	    sqlite3_bind_int64(st, REPORT_P_UNTIL, a->until) != SQLITE_OK) ||
	    (n >= REPORT_P_LIMIT &&
	    sqlite3_bind_int64(st, REPORT_P_LIMIT, a->limit) != SQLITE_OK) ||
	    report_filter_bind(st, a->filter) == -1)
		goto fail;
	return st;
fail:
	*errstr = report_query_errmsg(db);
	sqlite3_finalize(st);
	return NULL;
}

/* Adds one resolution's row (resolution, first, newest, end, 0). */
static void
span_add(struct report_span *span, sqlite3_stmt *st)
{
	int64_t res = sqlite3_column_int64(st, 0);

	if (span->nres == 0 || sqlite3_column_int64(st, 1) < span->first)
		span->first = sqlite3_column_int64(st, 1);
	if (span->nres == 0 || sqlite3_column_int64(st, 3) > span->end)
		span->end = sqlite3_column_int64(st, 3);
	if (span->nres == 0 || res < span->res_min)
		span->res_min = res;
	if (span->nres == 0 || res > span->res_max)
		span->res_max = res;
	span->nres++;
	report_tier_add(&span->tiers, st);
}

/*
 * The span's statements.  A bucket's end: a monthly bucket ends with its
 * calendar month.  The distinct buckets are not counted: the report would
 * pay for it and never prints it.  SPAN_ONE is one pass without a sort:
 * the whole selection as one row, right when its least and largest
 * resolution are equal (its last column is 1), as they are unless the
 * window reaches into a roll-up tier; SPAN_EACH sorts every row by its
 * resolution, one row per resolution, oldest first.  The span tries
 * SPAN_EACH alone when the interface rows of the window have several
 * resolutions (window_tiers), else SPAN_ONE first.
 */
#define SPAN_END(res) \
	" CASE " res " WHEN 2592000 THEN CAST(strftime('%s'," \
	" MAX(bucket), 'unixepoch', '+1 month') AS INTEGER)" \
	" ELSE MAX(bucket) + " res " END, 0"
#define SPAN_ONE \
	"SELECT MIN(resolution), MIN(bucket), MAX(bucket)," \
	SPAN_END("MIN(resolution)") ", MIN(resolution) = MAX(resolution)" \
	" FROM "
#define SPAN_EACH \
	"SELECT resolution, MIN(bucket), MAX(bucket)," SPAN_END("resolution") \
	" FROM "

/*
 * Says in *several whether the window holds buckets of more than one
 * resolution in iface_stat, a row per interface and bucket: cheap to
 * read, and rolled up with the counter tables.  Only a guess at the
 * selection's own (a hand-made table may differ), which picks the span
 * statement to try first.  0, or -1 with *errstr.
 */
static int
window_tiers(sqlite3 *db, const struct report_args *a, int *several,
    const char **errstr)
{
	static const char sql[] = "SELECT COUNT(DISTINCT resolution)"
	    " FROM iface_stat WHERE bucket >= ?1 AND bucket < ?2";
	sqlite3_stmt *st;

	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	*several = sqlite3_column_int64(st, 0) > 1;
	sqlite3_finalize(st);
	return 0;
}

int
report_query_span(sqlite3 *db, enum report_src src,
    const struct report_args *a, struct report_span *span,
    const char **errstr)
{
	char sql[SQL_MAX];
	const char *view, *table, *where;
	sqlite3_stmt *st = NULL;
	size_t off;
	int rc, each;

	memset(span, 0, sizeof(*span));
	if ((view = report_query_view(src, a->filter, &where)) == NULL ||
	    (table = report_query_table(src, a->filter, &where)) == NULL) {
		*errstr = "this report has no port column";
		return -1;
	}
	/*
	 * The tables stand in for the view, which the report is defined
	 * on: a database without it fails as reading it did, naming it.
	 * Preparing is enough: it resolves the view and its tables.
	 */
	off = 0;
	sql[0] = '\0';
	if (sql_cat(sql, &off, "SELECT 1 FROM ") == -1 ||
	    sql_cat(sql, &off, view) == -1) {
		*errstr = "query too long";
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*errstr = report_query_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	/* A window into the roll-ups would make SPAN_ONE a wasted pass. */
	if (window_tiers(db, a, &each, errstr) == -1)
		return -1;
	for (; each <= 1; each++) {
		off = 0;
		sql[0] = '\0';
		if (sql_cat(sql, &off, each ? SPAN_EACH : SPAN_ONE) == -1 ||
		    sql_cat(sql, &off, table) == -1 ||
		    sql_cat(sql, &off, " s") == -1 ||
		    sql_cat(sql, &off, where) == -1 ||
		    (each && sql_cat(sql, &off,
		    " GROUP BY resolution ORDER BY 2, 1") == -1)) {
			*errstr = "query too long";
			return -1;
		}
		if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
			return -1;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			/* No rows, or one resolution: this row says it all. */
			if (!each && (sqlite3_column_type(st, 0) == SQLITE_NULL ||
			    sqlite3_column_int(st, 5) == 1)) {
				if (sqlite3_column_type(st, 0) != SQLITE_NULL)
					span_add(span, st);
				sqlite3_finalize(st);
				return 0;
			}
			if (each)
				span_add(span, st);
		}
		if (rc != SQLITE_DONE) {
			*errstr = report_query_errmsg(db);
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

void
report_query_bounds(const struct report_args *a,
    const struct report_span *span, int64_t *since, int64_t *until)
{
	*since = a->since;
	*until = a->until;
	/* Without rows there is nothing to bound an unbounded end by. */
	if (span->nres == 0)
		return;
	if (*since == REPORT_TIME_NONE_LOW)
		*since = span->first;
	if (*until == REPORT_TIME_NONE_HIGH)
		*until = span->end;
}

int64_t
report_query_window(const struct report_args *a,
    const struct report_span *span)
{
	int64_t since, until;

	report_query_bounds(a, span, &since, &until);
	if (since == REPORT_TIME_NONE_LOW || until == REPORT_TIME_NONE_HIGH)
		return 1;
	return until - since >= 1 ? until - since : 1;
}

void
report_result_init(struct report_result *res)
{
	memset(res, 0, sizeof(*res));
}

void
report_result_clear(struct report_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nrows * res->ncols; i++)
		free(res->cells[i].text);
	free(res->cells);
	report_result_init(res);
}

int
report_result_col(struct report_result *res, const char *name,
    enum report_coltype type)
{
	/* Columns are fixed once rows exist: cells are laid out by ncols. */
	if (res->ncols == REPORT_MAXCOLS || res->nrows > 0)
		return -1;
	res->cols[res->ncols].name = name;
	res->cols[res->ncols].type = type;
	res->ncols++;
	return 0;
}

/* Doubles the row capacity of res; REPORT_LIMIT_MAX keeps it bounded. */
static int
result_grow(struct report_result *res)
{
	struct report_value *cells;
	size_t cap = res->cap == 0 ? 16 : res->cap * 2;

	cells = reallocarray(res->cells, cap * res->ncols, sizeof(*cells));
	if (cells == NULL)
		return -1;
	res->cells = cells;
	res->cap = cap;
	return 0;
}

struct report_value *
report_result_row(struct report_result *res)
{
	struct report_value *row;
	size_t c;

	if (res->nrows >= REPORT_LIMIT_MAX || res->ncols == 0)
		return NULL;
	if (res->nrows == res->cap && result_grow(res) == -1)
		return NULL;
	row = &res->cells[res->nrows * res->ncols];
	/* Count the row first: report_result_clear then frees what we set. */
	memset(row, 0, res->ncols * sizeof(*row));
	for (c = 0; c < res->ncols; c++)
		row[c].isnull = 1;
	res->nrows++;
	return row;
}

int
report_result_fill(sqlite3 *db, sqlite3_stmt *st, struct report_result *res,
    const char **errstr)
{
	struct report_value *row;
	const unsigned char *text;
	size_t col, len;
	int rc;

	if (sqlite3_column_count(st) != (int)res->ncols) {
		*errstr = "report columns do not match their SQL";
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((row = report_result_row(res)) == NULL) {
			*errstr = "out of memory, or too many rows";
			return -1;
		}
		for (col = 0; col < res->ncols; col++) {
			row[col].isnull =
			    sqlite3_column_type(st, (int)col) == SQLITE_NULL;
			if (row[col].isnull)
				continue;
			switch (res->cols[col].type) {
			case REPORT_COL_RATE:
			case REPORT_COL_REAL:
				row[col].real = sqlite3_column_double(st,
				    (int)col);
				continue;
			case REPORT_COL_COUNT:
			case REPORT_COL_BYTES:
				row[col].num = sqlite3_column_int64(st,
				    (int)col);
				continue;
			case REPORT_COL_TEXT:
				break;
			}
			text = sqlite3_column_text(st, (int)col);
			if (text == NULL) {
				*errstr = "out of memory";
				return -1;
			}
			len = (size_t)sqlite3_column_bytes(st, (int)col);
			if ((row[col].text = malloc(len + 1)) == NULL) {
				*errstr = "out of memory";
				return -1;
			}
			memcpy(row[col].text, text, len);
			row[col].text[len] = '\0';
		}
	}
	if (rc != SQLITE_DONE) {
		*errstr = report_query_errmsg(db);
		return -1;
	}
	return 0;
}

/* Appends s to the SQL_MAX buffer sql at *off; -1 when it does not fit. */
static int
sql_cat(char *sql, size_t *off, const char *s)
{
	size_t len = strlen(s);

	if (*off + len >= SQL_MAX)
		return -1;
	memcpy(sql + *off, s, len + 1);
	*off += len;
	return 0;
}

/*
 * Appends the two CTEs both top statements rank with under --95th: per,
 * the sums of keys k per bucket of src (alias: "" or " s") under where,
 * in and out bytes by the expressions in and out; ranked, per's rows
 * numbered within their k by in (rni) and by out (rno) bytes, the
 * largest first.  The caller goes on after ranked's closing parenthesis.
 */
static int
rank_ctes(char *sql, size_t *off, const char *k, const char *in,
    const char *out, const char *src, const char *alias, const char *where)
{
	int rc = 0;

	rc |= sql_cat(sql, off, "WITH per AS (SELECT ");
	rc |= sql_cat(sql, off, k);
	rc |= sql_cat(sql, off, ", resolution, nt_sum(bytes) AS b, ");
	rc |= sql_cat(sql, off, in);
	rc |= sql_cat(sql, off, " AS ib, ");
	rc |= sql_cat(sql, off, out);
	rc |= sql_cat(sql, off, " AS ob, nt_sum(packets) AS p,"
	    " nt_sum(frame_bytes) AS f FROM ");
	rc |= sql_cat(sql, off, src);
	rc |= sql_cat(sql, off, alias);
	rc |= sql_cat(sql, off, where);
	rc |= sql_cat(sql, off, " GROUP BY ");
	rc |= sql_cat(sql, off, k);
	rc |= sql_cat(sql, off, ", bucket, resolution), ranked AS"
	    " (SELECT *, ROW_NUMBER() OVER (PARTITION BY ");
	rc |= sql_cat(sql, off, k);
	rc |= sql_cat(sql, off, " ORDER BY ib DESC) AS rni,"
	    " ROW_NUMBER() OVER (PARTITION BY ");
	rc |= sql_cat(sql, off, k);
	rc |= sql_cat(sql, off, " ORDER BY ob DESC) AS rno FROM per)");
	return rc;
}

/*
 * Assembles the statement of a top report from static fragments.  With
 * p95 the view is read once: per sums each key's buckets, ranked numbers
 * them by in and by out rate (one resolution, so by bytes), and the outer
 * query sums the buckets back and picks the rank ?11 of each.
 */
static int
build_top(char *sql, const struct report_def *def, const char *view,
    const char *where, int p95)
{
	const char *k = def->keys;
	size_t off = 0;
	int rc = 0;

	sql[0] = '\0';
	if (!p95) {
		rc |= sql_cat(sql, &off, "SELECT ");
		rc |= sql_cat(sql, &off, k);
		rc |= sql_cat(sql, &off, ", nt_sum(bytes), " IN_BYTES ", "
		    OUT_BYTES ", nt_sum(packets), nt_sum(frame_bytes), "
		    IN_BYTES " * 8.0 / ?10, " OUT_BYTES " * 8.0 / ?10 FROM ");
		rc |= sql_cat(sql, &off, view);
		rc |= sql_cat(sql, &off, where);
	} else {
		rc |= rank_ctes(sql, &off, k, IN_BYTES, OUT_BYTES, view, "",
		    where);
		rc |= sql_cat(sql, &off, " SELECT ");
		rc |= sql_cat(sql, &off, k);
		rc |= sql_cat(sql, &off, ", nt_sum(b), nt_sum(ib),"
		    " nt_sum(ob), nt_sum(p), nt_sum(f), nt_sum(ib) * 8.0 / ?10,"
		    " nt_sum(ob) * 8.0 / ?10,"
		    " COALESCE(MAX(CASE WHEN rni = ?11 THEN ib * 8.0 /"
		    " resolution END), 0), COALESCE(MAX(CASE WHEN rno = ?11"
		    " THEN ob * 8.0 / resolution END), 0) FROM ranked");
	}
	rc |= sql_cat(sql, &off, " GROUP BY ");
	rc |= sql_cat(sql, &off, k);
	rc |= sql_cat(sql, &off, p95 ? " ORDER BY nt_sum(b) DESC, " :
	    " ORDER BY nt_sum(bytes) DESC, ");
	rc |= sql_cat(sql, &off, def->order);
	rc |= sql_cat(sql, &off, " LIMIT ?3");
	return rc == 0 ? 0 : -1;
}

/* The tie order of the texts: their positions, ascending. */
static const char *const text_order[] = { "", "1 ASC", "1 ASC, 2 ASC" };

/*
 * Assembles the statement of a top report that reads def->ids of table
 * (report_query.c's opening comment): g holds the sums per id, the outer
 * query joins the texts to them.  With p95, per sums each id's buckets,
 * ranked numbers them by in and by out rate and g picks the rank ?11 of
 * each, as build_top does per text key.  The outer query names g's
 * columns and the texts by position, so no alias meets a column name.
 */
static int
build_top_ids(char *sql, const struct report_def *def, const char *table,
    const char *where, int p95)
{
	const char *k = def->ids;
	size_t off = 0;
	int rc = 0;

	if (def->nkeys >= NELEM(text_order))
		return -1;
	sql[0] = '\0';
	if (!p95) {
		rc |= sql_cat(sql, &off, "SELECT ");
		rc |= sql_cat(sql, &off, def->texts);
		rc |= sql_cat(sql, &off, ", nt_sum(g.b), nt_sum(g.ib),"
		    " nt_sum(g.ob), nt_sum(g.p), nt_sum(g.f),"
		    " nt_sum(g.ib) * 8.0 / ?10, nt_sum(g.ob) * 8.0 / ?10"
		    " FROM (SELECT ");
		rc |= sql_cat(sql, &off, k);
		rc |= sql_cat(sql, &off, ", nt_sum(bytes) AS b, " IN_BYTES_T
		    " AS ib, " OUT_BYTES_T " AS ob, nt_sum(packets) AS p,"
		    " nt_sum(frame_bytes) AS f FROM ");
		rc |= sql_cat(sql, &off, table);
		rc |= sql_cat(sql, &off, " s");
		rc |= sql_cat(sql, &off, where);
		rc |= sql_cat(sql, &off, " GROUP BY ");
		rc |= sql_cat(sql, &off, k);
		rc |= sql_cat(sql, &off, ") g");
		rc |= sql_cat(sql, &off, def->joins);
		rc |= sql_cat(sql, &off, def->nkeys == 1 ? " GROUP BY 1" :
		    " GROUP BY 1, 2");
		rc |= sql_cat(sql, &off, " ORDER BY nt_sum(g.b) DESC, ");
	} else {
		rc |= rank_ctes(sql, &off, k, IN_BYTES_T, OUT_BYTES_T, table,
		    " s", where);
		rc |= sql_cat(sql, &off, ", g AS (SELECT ");
		rc |= sql_cat(sql, &off, k);
		rc |= sql_cat(sql, &off, ", nt_sum(b) AS tb, nt_sum(ib) AS tib,"
		    " nt_sum(ob) AS tob, nt_sum(p) AS tp, nt_sum(f) AS tf,"
		    " COALESCE(MAX(CASE WHEN rni = ?11 THEN ib * 8.0 /"
		    " resolution END), 0) AS ip, COALESCE(MAX(CASE WHEN"
		    " rno = ?11 THEN ob * 8.0 / resolution END), 0) AS op"
		    " FROM ranked GROUP BY ");
		rc |= sql_cat(sql, &off, k);
		rc |= sql_cat(sql, &off, ") SELECT ");
		rc |= sql_cat(sql, &off, def->texts);
		rc |= sql_cat(sql, &off, ", g.tb, g.tib, g.tob, g.tp, g.tf,"
		    " g.tib * 8.0 / ?10, g.tob * 8.0 / ?10, g.ip, g.op FROM g");
		rc |= sql_cat(sql, &off, def->joins);
		rc |= sql_cat(sql, &off, " ORDER BY g.tb DESC, ");
	}
	rc |= sql_cat(sql, &off, text_order[def->nkeys]);
	rc |= sql_cat(sql, &off, " LIMIT ?3");
	return rc == 0 ? 0 : -1;
}

int
report_query_run(sqlite3 *db, const struct report_def *def,
    const struct report_args *a, struct report_result *res,
    const char **errstr)
{
	char sql[SQL_MAX];
	struct report_span span;
	const char *view, *table = NULL, *where;
	sqlite3_stmt *st = NULL;
	int64_t window, nbuckets;
	size_t i;

	report_result_clear(res);
	res->name = def->name;
	for (i = 0; i < def->nkeys; i++)
		if (report_result_col(res, def->cols[i].name,
		    def->cols[i].type) == -1)
			goto toomany;
	for (i = 0; i < NELEM(cols_totals); i++)
		if (report_result_col(res, cols_totals[i].name,
		    cols_totals[i].type) == -1)
			goto toomany;
	for (i = 0; a->p95 && i < NELEM(cols_p95); i++)
		if (report_result_col(res, cols_p95[i].name,
		    cols_p95[i].type) == -1)
			goto toomany;
	if ((view = report_query_view(def->src, a->filter, &where)) == NULL) {
		*errstr = "--port does not apply: this report has no port "
		    "column; drop --port";
		return REPORT_EUSER;
	}
	if (report_query_span(db, def->src, a, &span, errstr) == -1)
		return -1;
	res->tiers = span.tiers;
	res->has_tiers = 1;
	report_query_bounds(a, &span, &res->since, &res->until);
	res->has_window = 1;
	if (a->p95 && span.nres > 1) {
		*errstr = "--95th needs buckets of one resolution, and the "
		    "selection mixes several; narrow it with --agent, --iface "
		    "or --since";
		return REPORT_EUSER;
	}
	window = report_query_window(a, &span);
	nbuckets = span.res_min > 0 ? window / span.res_min : 1;
	if (nbuckets < 1)
		nbuckets = 1;
	if (def->ids != NULL &&
	    (table = report_query_table(def->src, a->filter, &where)) == NULL) {
		*errstr = "--port does not apply: this report has no port "
		    "column; drop --port";
		return REPORT_EUSER;
	}
	if ((def->ids != NULL ? build_top_ids(sql, def, table, where, a->p95) :
	    build_top(sql, def, view, where, a->p95)) == -1) {
		*errstr = "query too long";
		return -1;
	}
	if ((st = report_query_prepare(db, sql, a, errstr)) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, REPORT_P_WINDOW, window) != SQLITE_OK ||
	    (a->p95 && sqlite3_bind_int64(st, REPORT_P_RANK,
	    nbuckets / 20 + 1) != SQLITE_OK)) {
		*errstr = report_query_errmsg(db);
		goto fail;
	}
	if (report_result_fill(db, st, res, errstr) == -1)
		goto fail;
	sqlite3_finalize(st);
	return 0;
toomany:
	*errstr = "too many columns";
	return -1;
fail:
	sqlite3_finalize(st);
	return -1;
}
