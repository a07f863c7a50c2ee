/*
 * report_query.h - the reports of the nettally command and their SQL.
 *
 * Each report is a static description: its name, its columns (with the
 * kind of value each holds, which decides how it is printed) and one SQL
 * statement over the documented views.  A run reads the whole result,
 * at most the --limit rows, into a report_result the formatters walk.
 */
#ifndef NETTALLY_REPORT_QUERY_H
#define NETTALLY_REPORT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* The largest --limit: bounds the memory a report can take. */
#define REPORT_LIMIT_MAX	100000

enum report_coltype {
	REPORT_COL_TEXT,		/* a string */
	REPORT_COL_COUNT,		/* an integer, printed as is */
	REPORT_COL_BYTES,		/* an integer, human units in tables */
};

struct report_column {
	const char		*name;
	enum report_coltype	 type;
};

struct report_def {
	const char			*name;	/* "hosts", "ports", ... */
	const char			*sql;	/* ?1 since, ?2 until, ?3 limit */
	const struct report_column	*cols;
	size_t				 ncols;
};

struct report_value {
	char	*text;			/* REPORT_COL_TEXT; NULL for SQL NULL */
	int64_t	 num;			/* the other types */
	int	 isnull;
};

/* Rows of one run: cells[row * def->ncols + col]. */
struct report_result {
	const struct report_def	*def;
	struct report_value	*cells;
	size_t			 nrows;
	size_t			 cap;		/* rows allocated */
};

/*
 * Returns the report called name, or NULL when there is none.
 */
const struct report_def	*report_query_find(const char *name);

/*
 * Returns the table of every report and stores its length in *n.
 */
const struct report_def	*report_query_all(size_t *n);

/*
 * Runs def over db for buckets in [since, until), at most limit rows, and
 * fills res, which must be initialised (report_result_init) and which the
 * caller clears.  Returns 0, or -1 with *errstr (sqlite's message, valid
 * until the next call on db, or static text).
 */
int	report_query_run(sqlite3 *db, const struct report_def *def,
	    int64_t since, int64_t until, int64_t limit,
	    struct report_result *res, const char **errstr);

/* Makes res empty and owning nothing. */
void	report_result_init(struct report_result *res);

/* Releases what res holds; accepts an initialised or cleared res. */
void	report_result_clear(struct report_result *res);

#endif
