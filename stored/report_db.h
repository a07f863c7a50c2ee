/*
 * report_db.h - opening the store's database for nettally: read-only,
 * checked to be a nettally database of this schema version, and
 * immutable while no store runs (report_db.c says when that is safe).
 */
#ifndef NETTALLY_REPORT_DB_H
#define NETTALLY_REPORT_DB_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

/* Exit statuses of nettally, documented in its usage text (report.c). */
#define REPORT_EXIT_USAGE		2
#define REPORT_EXIT_RUNTIME		1

/*
 * A database read without its -shm file (db_quiet): the main file as it
 * was before the read, to tell that no writer changed it meanwhile.
 */
struct report_db_snap {
	char		 file[4096];	/* SQLite's name of it, links resolved */
	int		 immutable;	/* opened with immutable=1 */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
	struct timespec	 ctim;
};

/*
 * Opens path read-only into *dbp and checks its schema version.  A WAL
 * database whose -shm file this user cannot create (a reader with read
 * access only, while no store runs) is opened immutable when db_quiet
 * allows, with *snap for report_db_unchanged.  Returns 0, or an exit status
 * after logging why; *dbp is then NULL.
 */
int	report_db_open(const char *, sqlite3 **, struct report_db_snap *);

/*
 * After an immutable read (snap->immutable), checks that the database is
 * still quiet and its file unchanged since db_quiet: otherwise a store
 * may have written it under the read, and what was read cannot be
 * trusted.  Returns 0, or REPORT_EXIT_RUNTIME after logging what to do.
 */
int	report_db_unchanged(const char *, const struct report_db_snap *);

/*
 * Runs sql, a statement (or pragma) of one integer result, into *v.
 * Returns 0, or -1 with sqlite3_errmsg(db) set when it fails or gives
 * no row.
 */
int	report_db_int(sqlite3 *, const char *sql, int64_t *v);

#endif
