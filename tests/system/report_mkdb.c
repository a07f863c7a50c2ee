/*
 * report_mkdb.c - builds a fixture database for test_report.sh.
 *
 * usage: report_mkdb FILE < SQL
 * Creates FILE with the store's own schema_migrate (WAL, as the store runs
 * it), then executes the SQL read from stdin, so a test fills the base
 * tables exactly as it wants and can also tamper with PRAGMA user_version.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "schema.h"

int
main(int argc, char **argv)
{
	static char sql[1 << 20];
	sqlite3 *db = NULL;
	const char *errstr;
	char *errmsg = NULL;
	size_t n;
	int code;

	if (argc != 2) {
		fprintf(stderr, "usage: report_mkdb FILE < SQL\n");
		return 2;
	}
	n = fread(sql, 1, sizeof(sql) - 1, stdin);
	if (ferror(stdin) || !feof(stdin)) {
		fprintf(stderr, "report_mkdb: stdin: read error or too long\n");
		return 1;
	}
	sql[n] = '\0';
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "report_mkdb: %s: %s\n", argv[1],
		    sqlite3_errmsg(db));
		goto fail;
	}
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
	    &errmsg) != SQLITE_OK ||
	    schema_migrate(db, &code, &errstr) == -1) {
		fprintf(stderr, "report_mkdb: %s: %s\n", argv[1],
		    errmsg != NULL ? errmsg : errstr);
		goto fail;
	}
	if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
		fprintf(stderr, "report_mkdb: %s: %s\n", argv[1], errmsg);
		goto fail;
	}
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "report_mkdb: %s: close failed\n", argv[1]);
		return 1;
	}
	return 0;
fail:
	sqlite3_free(errmsg);
	sqlite3_close(db);
	return 1;
}
