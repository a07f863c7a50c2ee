/*
 * report_query.c - the SQL behind each report of the nettally command.
 *
 * Reports read only the documented views (host_traffic, port_traffic,
 * peer_traffic), never the tables under them, so the schema may change
 * beneath a view without touching this file.  Every value is bound with
 * ?N: ?1 since (inclusive), ?2 until (exclusive), ?3 the row limit.  The
 * bucket test is on the view's integer bucket column, which the store keeps
 * first in each counter table's primary key: a range scan.  Rows of every
 * agent, interface and resolution are summed: this assumes the store keeps
 * each packet in one bucket of one resolution (a roll-up replaces the finer
 * rows rather than duplicating them).
 *
 * Ordering is total so output is deterministic: bytes descending, then
 * the key columns ascending (binary collation).  The result columns carry
 * no SQL aliases on purpose: an alias named like a view column ("bytes")
 * would make ORDER BY ambiguous.  Column names live in the column tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_query.h"

static int	result_grow(struct report_result *);
static int	result_add_row(struct report_result *, sqlite3_stmt *);

#define SUM_DIRECTIONS \
	"SUM(bytes)," \
	" SUM(CASE direction WHEN 'in' THEN bytes ELSE 0 END)," \
	" SUM(CASE direction WHEN 'out' THEN bytes ELSE 0 END)," \
	" SUM(packets), SUM(frame_bytes)"

#define COLS_TOTALS \
	{ "bytes",	 REPORT_COL_BYTES }, \
	{ "in_bytes",	 REPORT_COL_BYTES }, \
	{ "out_bytes",	 REPORT_COL_BYTES }, \
	{ "packets",	 REPORT_COL_COUNT }, \
	{ "frame_bytes", REPORT_COL_BYTES }

static const char sql_hosts[] =
    "SELECT host, family, " SUM_DIRECTIONS
    " FROM host_traffic WHERE bucket >= ?1 AND bucket < ?2"
    " GROUP BY host, family"
    " ORDER BY SUM(bytes) DESC, host ASC, family ASC LIMIT ?3";

static const char sql_ports[] =
    "SELECT proto_name, port, " SUM_DIRECTIONS
    " FROM port_traffic WHERE bucket >= ?1 AND bucket < ?2"
    " GROUP BY proto_name, port"
    " ORDER BY SUM(bytes) DESC, proto_name ASC, port ASC LIMIT ?3";

static const char sql_peers[] =
    "SELECT host, peer, " SUM_DIRECTIONS
    " FROM peer_traffic WHERE bucket >= ?1 AND bucket < ?2"
    " GROUP BY host, peer"
    " ORDER BY SUM(bytes) DESC, host ASC, peer ASC LIMIT ?3";

static const char sql_protocols[] =
    "SELECT proto_name, " SUM_DIRECTIONS
    " FROM host_traffic WHERE bucket >= ?1 AND bucket < ?2"
    " GROUP BY proto_name"
    " ORDER BY SUM(bytes) DESC, proto_name ASC LIMIT ?3";

static const struct report_column cols_hosts[] = {
	{ "host",	REPORT_COL_TEXT },
	{ "family",	REPORT_COL_TEXT },
	COLS_TOTALS
};

static const struct report_column cols_ports[] = {
	{ "proto",	REPORT_COL_TEXT },
	{ "port",	REPORT_COL_COUNT },
	COLS_TOTALS
};

static const struct report_column cols_peers[] = {
	{ "host",	REPORT_COL_TEXT },
	{ "peer",	REPORT_COL_TEXT },
	COLS_TOTALS
};

static const struct report_column cols_protocols[] = {
	{ "proto",	REPORT_COL_TEXT },
	COLS_TOTALS
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct report_def reports[] = {
	{ "hosts",	sql_hosts,	cols_hosts,	NELEM(cols_hosts) },
	{ "ports",	sql_ports,	cols_ports,	NELEM(cols_ports) },
	{ "peers",	sql_peers,	cols_peers,	NELEM(cols_peers) },
	{ "protocols",	sql_protocols,	cols_protocols,	NELEM(cols_protocols) },
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

void
report_result_init(struct report_result *res)
{
	res->def = NULL;
	res->cells = NULL;
	res->nrows = 0;
	res->cap = 0;
}

void
report_result_clear(struct report_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	if (res->def != NULL)
		for (i = 0; i < res->nrows * res->def->ncols; i++)
			free(res->cells[i].text);
	free(res->cells);
	report_result_init(res);
}

/* Doubles the row capacity of res; the limit keeps it bounded. */
static int
result_grow(struct report_result *res)
{
	struct report_value *cells;
	size_t cap = res->cap == 0 ? 16 : res->cap * 2;

	cells = reallocarray(res->cells, cap * res->def->ncols, sizeof(*cells));
	if (cells == NULL)
		return -1;
	res->cells = cells;
	res->cap = cap;
	return 0;
}

/* Copies the current row of st into res; the row owns its strings. */
static int
result_add_row(struct report_result *res, sqlite3_stmt *st)
{
	const struct report_def *def = res->def;
	struct report_value *row;
	const unsigned char *text;
	size_t col, len;

	if (res->nrows == res->cap && result_grow(res) == -1)
		return -1;
	row = &res->cells[res->nrows * def->ncols];
	/* Count the row first: report_result_clear then frees what we set. */
	memset(row, 0, def->ncols * sizeof(*row));
	res->nrows++;
	for (col = 0; col < def->ncols; col++) {
		row[col].isnull =
		    sqlite3_column_type(st, (int)col) == SQLITE_NULL;
		if (def->cols[col].type != REPORT_COL_TEXT) {
			row[col].num = sqlite3_column_int64(st, (int)col);
			continue;
		}
		if (row[col].isnull)
			continue;
		text = sqlite3_column_text(st, (int)col);
		if (text == NULL)
			return -1;		/* out of memory in sqlite */
		len = (size_t)sqlite3_column_bytes(st, (int)col);
		if ((row[col].text = malloc(len + 1)) == NULL)
			return -1;
		memcpy(row[col].text, text, len);
		row[col].text[len] = '\0';
	}
	return 0;
}

int
report_query_run(sqlite3 *db, const struct report_def *def, int64_t since,
    int64_t until, int64_t limit, struct report_result *res,
    const char **errstr)
{
	static char errbuf[256];
	sqlite3_stmt *st = NULL;
	int rc;

	report_result_clear(res);
	res->def = def;
	if (sqlite3_prepare_v2(db, def->sql, -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	if (sqlite3_column_count(st) != (int)def->ncols) {
		*errstr = "report columns do not match their SQL";
		goto fail;
	}
	if (sqlite3_bind_int64(st, 1, since) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, until) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, limit) != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (result_add_row(res, st) == -1) {
			*errstr = "out of memory";
			goto fail;
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	return 0;
sqlfail:
	/* Copy: finalize may replace the message sqlite3_errmsg points at. */
	snprintf(errbuf, sizeof(errbuf), "%s", sqlite3_errmsg(db));
	*errstr = errbuf;
fail:
	sqlite3_finalize(st);
	return -1;
}
