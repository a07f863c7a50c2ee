/*
 * report_query.h - the top reports of the nettally command, and the
 * result table every report fills.
 *
 * A top report is a static description: its name, the view it is defined
 * on, its key columns and their tie order, and the ids it may group the
 * view's table by instead.  Every top report prints the keys, the
 * same five totals and two average rates, and with --95th the 95th
 * percentile of the per-bucket rates.  The SQL is assembled from static
 * fragments only (view names, column lists); every value a user gives is
 * bound as a parameter.  A run reads at most the --limit rows into a
 * report_result, which the formatters walk.
 */
#ifndef NETTALLY_REPORT_QUERY_H
#define NETTALLY_REPORT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "report_filter.h"
#include "report_tier.h"

/* The largest --limit, and the most rows a series may have. */
#define REPORT_LIMIT_MAX	100000
#define REPORT_MAXCOLS		16

/* Parameters after the filters (see report_filter.h for ?1 .. ?9). */
#define REPORT_P_WINDOW		10	/* seconds rates are averaged over */
#define REPORT_P_RANK		11	/* --95th: rank from the top */
#define REPORT_P_STEP		12	/* series step, seconds */

enum report_coltype {
	REPORT_COL_TEXT,		/* a string */
	REPORT_COL_COUNT,		/* an integer, printed as is */
	REPORT_COL_BYTES,		/* an integer, human units in tables */
	REPORT_COL_RATE,		/* bit/s, a real; SI units in tables */
	REPORT_COL_REAL,		/* a real, one decimal in tables */
};

struct report_column {
	const char		*name;
	enum report_coltype	 type;
};

/* Which view a report reads. */
enum report_src {
	REPORT_SRC_HOST,		/* host_traffic; port_traffic on --port */
	REPORT_SRC_PORT,		/* port_traffic */
	REPORT_SRC_PEER,		/* peer_traffic: no port column */
};

struct report_def {
	const char			*name;	/* "hosts", "ports", ... */
	enum report_src			 src;
	const char			*keys;	/* SQL key columns */
	const char			*order;	/* ties: keys ascending */
	const struct report_column	*cols;	/* the key columns */
	size_t				 nkeys;
	/*
	 * Read the counter table instead of the view, grouped on these id
	 * columns first (NULL: the view, keys and order above); texts are
	 * the key columns from the grouped rows g and the tables joins
	 * adds.  Only where each id stands for one key text (report_query.c).
	 */
	const char			*ids;
	const char			*texts;
	const char			*joins;
};

struct report_value {
	char	*text;			/* REPORT_COL_TEXT; NULL for SQL NULL */
	int64_t	 num;			/* COUNT and BYTES */
	double	 real;			/* RATE and REAL */
	int	 isnull;
};

/* Rows of one run: cells[row * ncols + col]. */
struct report_result {
	const char		*name;
	struct report_column	 cols[REPORT_MAXCOLS];
	size_t			 ncols;
	struct report_value	*cells;
	size_t			 nrows;
	size_t			 cap;		/* rows allocated */
	int			 has_window;	/* since and until are set */
	int64_t			 since;		/* the window read: */
	int64_t			 until;		/*   report_query_bounds */
	int			 has_tiers;	/* say which tiers were read */
	struct report_tiers	 tiers;
	int			 has_dbinfo;	/* summary: size, coverage */
	struct report_dbinfo	 dbinfo;
};

/* What a report covers. */
struct report_args {
	int64_t				 since;	/* REPORT_TIME_NONE_LOW: all */
	int64_t				 until;	/* REPORT_TIME_NONE_HIGH: all */
	int64_t				 limit;
	int				 p95;	/* add in_p95 and out_p95 */
	const struct report_filter	*filter;
};

/* The buckets a selection holds. */
struct report_span {
	int64_t	 first;			/* earliest bucket start */
	int64_t	 end;			/* latest bucket end */
	int64_t	 res_min;		/* finest resolution */
	int64_t	 res_max;
	int64_t	 nres;			/* distinct resolutions; 0: no rows */
	struct report_tiers tiers;	/* each resolution's buckets */
};

/* Returns the top report called name, or NULL when there is none. */
const struct report_def	*report_query_find(const char *name);

/* Returns the table of every top report and stores its length in *n. */
const struct report_def	*report_query_all(size_t *n);

/*
 * Returns the view src reads under filter f and its WHERE clause in
 * *where, or NULL when f asks for a column the view lacks (--port on
 * peers).
 */
const char	*report_query_view(enum report_src src,
		    const struct report_filter *f, const char **where);

/*
 * Returns the counter table src reads under filter f (host_stat,
 * port_stat, peer_stat) and, in *where, the WHERE clause that keeps the
 * rows report_query_view's would, on the table under the alias s; NULL
 * as report_query_view.
 */
const char	*report_query_table(enum report_src src,
		    const struct report_filter *f, const char **where);

/*
 * Reads what the selection [since, until) under a->filter holds into
 * *span, per resolution too: the tiers the report reads.  Returns 0, or
 * -1 with *errstr.
 */
int	report_query_span(sqlite3 *db, enum report_src src,
	    const struct report_args *a, struct report_span *span,
	    const char **errstr);

/*
 * Sets [*since, *until) to the window a report covers: a's, an unbounded
 * end (REPORT_TIME_NONE_LOW, _HIGH) replaced by the data's own (span's
 * first bucket start, last bucket end), or left unbounded when the span
 * has no rows.
 */
void	report_query_bounds(const struct report_args *a,
	    const struct report_span *span, int64_t *since, int64_t *until);

/*
 * The seconds rates are averaged over: the window of report_query_bounds,
 * never less than 1 (1 when it is still unbounded).
 */
int64_t	report_query_window(const struct report_args *a,
	    const struct report_span *span);

/* Returned, with *errstr, when the arguments ask what cannot be done. */
#define REPORT_EUSER		(-2)

/*
 * Runs def under a and fills res, which must be initialised and which
 * the caller clears.  Returns 0, or -1 with *errstr (static text or a
 * copy of sqlite's message), or REPORT_EUSER.
 */
int	report_query_run(sqlite3 *db, const struct report_def *def,
	    const struct report_args *a, struct report_result *res,
	    const char **errstr);

/* Makes res empty and owning nothing. */
void	report_result_init(struct report_result *res);

/* Releases what res holds; accepts an initialised or cleared res. */
void	report_result_clear(struct report_result *res);

/* Appends a column; returns 0, or -1 when res has REPORT_MAXCOLS. */
int	report_result_col(struct report_result *res, const char *name,
	    enum report_coltype type);

/*
 * Appends an empty row (every cell NULL) and returns it, or NULL when
 * memory runs out or res already holds REPORT_LIMIT_MAX rows.
 */
struct report_value	*report_result_row(struct report_result *res);

/*
 * Steps st to the end and appends each row, its columns read by the types
 * of res's columns (st must have exactly res->ncols).  Returns 0, or -1
 * with *errstr.  Does not finalize st.
 */
int	report_result_fill(sqlite3 *db, sqlite3_stmt *st,
	    struct report_result *res, const char **errstr);

/*
 * Prepares sql on db and binds the window (?1, ?2, ?3 when present) and
 * a's filters.  Returns the statement, or NULL with *errstr.
 */
sqlite3_stmt	*report_query_prepare(sqlite3 *db, const char *sql,
		    const struct report_args *a, const char **errstr);

/*
 * What to do about a damaged database file (SQLITE_CORRUPT, or
 * SQLITE_NOTADB once it was open), as the store says it: appended to the
 * SQLite message.  The report command only reads the file.
 */
#define REPORT_DB_DAMAGED \
	"; the database file is damaged: check it with sqlite3 FILE 'PRAGMA" \
	" integrity_check', and repair it or restore a backup (nettally only" \
	" reads it)"

/*
 * Copies db's current message into static storage and returns it, with
 * REPORT_DB_DAMAGED after it when the error is SQLITE_CORRUPT or
 * SQLITE_NOTADB.
 */
const char	*report_query_errmsg(sqlite3 *db);

#endif
