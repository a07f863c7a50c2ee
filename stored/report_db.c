/*
 * report_db.c - how nettally opens the store's database: read-only, and
 * only as a nettally database of this schema version.
 *
 * It stands alone for the immutable read.  A reader in the nettally
 * group may read the file but not write its directory, so while no
 * store runs it cannot create the -shm file a WAL database needs; it
 * then reads the file with SQLite's immutable=1, which takes no locks
 * and looks at no -wal, -shm or journal.  That is only right while
 * nothing writes the file and it holds every commit (db_quiet), and a
 * store may start at any moment: what an immutable read returned may be
 * trusted only once report_db_unchanged has found the file as
 * report_db_open left it, which callers check before every verdict on
 * the file and before anything is printed.  These rules are easy to
 * break in passing, so they live here, apart from the options and
 * commands of report.c.
 *
 * Nothing here writes to the database: it is opened with
 * SQLITE_OPEN_READONLY and "mode=ro".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "report_db.h"
#include "report_progress.h"
#include "report_query.h"
#include "satsum.h"
#include "schema.h"

#define REPORT_BUSY_MS		5000

static char	*db_uri(const char *, int);
static int	db_connect(const char *, const char *, sqlite3 **);
static int	file_beside(const char *, const char *, off_t *);
static int	db_quiet(const char *, struct report_db_snap *);
static int	db_objects(sqlite3 *, int *, int *);

/*
 * Returns a malloc'ed "file:PATH?mode=ro" URI with PATH percent-encoded
 * (RFC 3986), so '?', '#' and '%' in a file name stay part of the name;
 * with immutable, "&immutable=1" follows (see db_quiet).  An absolute
 * path gets an empty authority: "file:///var/...".
 */
static char *
db_uri(const char *path, int immutable)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *uri, *o;

	if ((uri = malloc(strlen(path) * 3 +
	    sizeof("file://?mode=ro&immutable=1"))) == NULL)
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
	strcpy(o, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
	return uri;
}

/*
 * A user outside the database's group: "Permission denied" alone did
 * not say that the README's usermod is the fix.
 */
#define REPORT_DB_EACCES "permission denied; the store's database is " \
	"for its group: join it (usermod -aG nettally USER, then log in " \
	"again) or run as the store's user"

/*
 * Opens uri (of path) read-only into *dbp, ready for the reports.
 * Returns 0, or an exit status after logging why; *dbp may then be set
 * and is the caller's to close.
 */
static int
db_connect(const char *uri, const char *path, sqlite3 **dbp)
{
	if (sqlite3_open_v2(uri, dbp, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL) != SQLITE_OK) {
		log_err("%s: cannot open: %s; check its permissions", path,
		    *dbp != NULL ? sqlite3_errmsg(*dbp) : "out of memory");
		return REPORT_EXIT_USAGE;
	}
	sqlite3_busy_timeout(*dbp, REPORT_BUSY_MS);
	/* From the first read: a writer's lock may hold even that one. */
	report_progress_start(*dbp);
	/* The reports add counters with nt_sum: a sum past INT64_MAX stops. */
	if (satsum_register(*dbp) != SQLITE_OK) {
		log_err("%s: cannot register nt_sum: %s", path,
		    sqlite3_errmsg(*dbp));
		return REPORT_EXIT_USAGE;
	}
	return 0;
}

/*
 * Stats path + suffix into *size: returns 1 when it exists, 0 when it
 * does not, -1 when that cannot be told (which callers take as "exists").
 */
static int
file_beside(const char *path, const char *suffix, off_t *size)
{
	char name[4096];
	struct stat sb;

	*size = 0;
	if ((size_t)snprintf(name, sizeof(name), "%s%s", path, suffix) >=
	    sizeof(name))
		return -1;
	if (stat(name, &sb) == -1)
		return errno == ENOENT ? 0 : -1;
	*size = sb.st_size;
	return 1;
}

/*
 * Says whether path may be read as an immutable file (SQLite's
 * immutable=1: no locks, no -shm, the -wal and any journal not looked
 * at), which is what lets a reader without write access to the directory
 * read a WAL database while no store runs.  That is only right while
 * nothing writes the file, and when it holds every commit:
 * - no -shm file: every connection that has the database open in WAL
 *   mode keeps one (the store never uses exclusive locking, which would
 *   not), and the last to close removes it;
 * - no -wal file, or an empty one: no commit waits to be checkpointed
 *   into the file (the store's clean stop checkpoints and removes it; a
 *   store that was killed leaves it, with data);
 * - no -journal file: no rollback-mode transaction is half done.
 * A store may still start while the report reads: *snap records the
 * file as it is now, and report_db_unchanged checks before anything is printed
 * that none of the three appeared and the file was not written.  Returns
 * 1 when the database is quiet, else 0.
 */
static int
db_quiet(const char *path, struct report_db_snap *snap)
{
	struct stat sb;
	off_t size;

	memset(snap, 0, sizeof(*snap));
	if ((size_t)snprintf(snap->file, sizeof(snap->file), "%s", path) >=
	    sizeof(snap->file))
		return 0;
	if (file_beside(path, "-shm", &size) != 0 ||
	    file_beside(path, "-journal", &size) != 0 ||
	    (file_beside(path, "-wal", &size) != 0 && size != 0) ||
	    stat(path, &sb) == -1)
		return 0;
	snap->dev = sb.st_dev;
	snap->ino = sb.st_ino;
	snap->size = sb.st_size;
	snap->mtim = sb.st_mtim;
	snap->ctim = sb.st_ctim;
	return 1;
}

int
report_db_unchanged(const char *path, const struct report_db_snap *snap)
{
	struct report_db_snap now;

	if (!snap->immutable)
		return 0;
	if (db_quiet(snap->file, &now) && now.dev == snap->dev &&
	    now.ino == snap->ino && now.size == snap->size &&
	    now.mtim.tv_sec == snap->mtim.tv_sec &&
	    now.mtim.tv_nsec == snap->mtim.tv_nsec &&
	    now.ctim.tv_sec == snap->ctim.tv_sec &&
	    now.ctim.tv_nsec == snap->ctim.tv_nsec)
		return 0;
	log_err("%s: changed while nettally read it without a running "
	    "store (nettally-stored started?); run nettally again", path);
	return REPORT_EXIT_RUNTIME;
}

/*
 * The objects every nettally schema since version 1 has, which the
 * reports read: their count is DB_OBJECTS in a nettally database.
 */
static const char sql_objects[] =
    "SELECT count(*), count(CASE WHEN (type = 'table' AND name = 'agent') OR"
    " (type = 'view' AND name IN ('host_traffic', 'port_traffic',"
    " 'peer_traffic', 'interface_traffic')) THEN 1 END)"
    " FROM sqlite_master";
#define DB_OBJECTS	5

/*
 * Counts db's schema objects into *nall, and those of sql_objects into
 * *nours.  Returns 0, or -1 with sqlite3_errmsg(db) set.
 */
static int
db_objects(sqlite3 *db, int *nall, int *nours)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql_objects, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	*nall = sqlite3_column_int(st, 0);
	*nours = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	return 0;
}

int
report_db_open(const char *path, sqlite3 **dbp, struct report_db_snap *snap)
{
	sqlite3 *db = NULL;
	struct stat sb;
	const char *errstr, *file;
	char *uri = NULL, real[4096];
	off_t size;
	int version, nall = 0, nours = 0, status = REPORT_EXIT_USAGE, rc, code;

	*dbp = NULL;
	memset(snap, 0, sizeof(*snap));
	if (path[0] == '\0') {
		log_err("--db: empty path; pass the database file with --db "
		    "FILE");
		return REPORT_EXIT_USAGE;
	}
	/* SQLite's "unable to open database file" does not say why. */
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			log_err("%s: no such database; pass --db FILE or set "
			    "NETTALLY_DB, or start nettally-stored to create "
			    "it", path);
		else if (errno == EACCES)
			log_err("%s: %s", path, REPORT_DB_EACCES);
		else
			log_err("%s: %s; check the path and its permissions",
			    path, strerror(errno));
		return REPORT_EXIT_USAGE;
	}
	if (S_ISDIR(sb.st_mode)) {
		log_err("%s: is a directory; pass the database file with "
		    "--db FILE", path);
		return REPORT_EXIT_USAGE;
	}
	if (access(path, R_OK) == -1 && errno == EACCES) {
		log_err("%s: %s", path, REPORT_DB_EACCES);
		return REPORT_EXIT_USAGE;
	}
	/* SQLite would wait forever on a FIFO with no writer. */
	if (!S_ISREG(sb.st_mode)) {
		log_err("%s: not a regular file; pass the database file with "
		    "--db FILE", path);
		return REPORT_EXIT_USAGE;
	}
	if ((uri = db_uri(path, 0)) == NULL) {
		log_err("%s: out of memory", path);
		return REPORT_EXIT_RUNTIME;
	}
	if ((status = db_connect(uri, path, &db)) != 0)
		goto fail;
	status = REPORT_EXIT_USAGE;
	rc = schema_version(db, &version, &errstr);
	code = sqlite3_errcode(db);
	/* Its -wal and -shm are named after the file a link points to. */
	file = sqlite3_db_filename(db, "main");
	if (file == NULL || file[0] == '\0' || (size_t)snprintf(real,
	    sizeof(real), "%s", file) >= sizeof(real))
		snprintf(real, sizeof(real), "%s", path);
	/*
	 * A WAL database whose -shm file is gone (no store running) needs
	 * it created again, which takes write access to the directory; a
	 * reader in the nettally group has none.  Read the file itself
	 * then, when that is safe.
	 */
	if (rc == -1 && (code == SQLITE_READONLY || code == SQLITE_CANTOPEN) &&
	    db_quiet(real, snap)) {
		sqlite3_close(db);
		db = NULL;
		free(uri);
		/* The file the checks saw, not where a link points now. */
		if ((uri = db_uri(real, 1)) == NULL) {
			log_err("%s: out of memory", path);
			status = REPORT_EXIT_RUNTIME;
			goto fail;
		}
		if ((status = db_connect(uri, path, &db)) != 0)
			goto fail;
		status = REPORT_EXIT_USAGE;
		snap->immutable = 1;
		rc = schema_version(db, &version, &errstr);
		code = sqlite3_errcode(db);
	}
	if (rc == -1) {
		/* A store that started under the read: not the file's fault. */
		if (report_db_unchanged(path, snap) != 0) {
			status = REPORT_EXIT_RUNTIME;
			goto fail;
		}
		if ((code == SQLITE_READONLY || code == SQLITE_CANTOPEN) &&
		    file_beside(real, "-wal", &size) == 1 && size > 0)
			log_err("%s: cannot read: %s; its -wal file holds "
			    "commits not yet in the database file and the -shm "
			    "file it needs is missing, which only a user who "
			    "may write the directory can create: start "
			    "nettally-stored (it takes them in), or run "
			    "nettally as such a user", path, errstr);
		else if ((code == SQLITE_READONLY || code == SQLITE_CANTOPEN) &&
		    file_beside(real, "-shm", &size) == 1)
			log_err("%s: cannot read: %s; its -shm file is there "
			    "but no running store keeps it (nettally-stored did "
			    "not stop cleanly?), and only a user who may write "
			    "the directory can rebuild it: start "
			    "nettally-stored, or run nettally as such a user",
			    path, errstr);
		else if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN)
			log_err("%s: cannot read: %s; a WAL database needs "
			    "its -shm file: run nettally while nettally-stored "
			    "runs, or as a user who may write its directory",
			    path, errstr);
		else if (code == SQLITE_CORRUPT)
			log_err("%s: cannot read: %s" REPORT_DB_DAMAGED, path,
			    errstr);
		else
			log_err("%s: cannot read: %s; is it a nettally "
			    "database?", path, errstr);
		goto fail;
	}
	rc = version <= SCHEMA_VERSION ? db_objects(db, &nall, &nours) : 0;
	/* None of the verdicts below may come of a store writing meanwhile. */
	if (report_db_unchanged(path, snap) != 0) {
		status = REPORT_EXIT_RUNTIME;
		goto fail;
	}
	if (rc == -1) {
		log_err("%s: cannot read its schema: %s", path,
		    report_query_errmsg(db));
		goto fail;
	}
	/*
	 * Advice to start nettally-stored on someone else's database would
	 * have the store migrate it: only an empty file is ours to create.
	 */
	if (version == 0 && nall > 0) {
		log_err("%s: not a nettally database: it has tables but no "
		    "nettally schema version; check --db", path);
		goto fail;
	}
	if (version == 0) {
		log_err("%s: database is empty, not initialised; start "
		    "nettally-stored once to create it, or check --db", path);
		goto fail;
	}
	if (version <= SCHEMA_VERSION && nours < DB_OBJECTS) {
		log_err("%s: not a nettally database: schema version %d but "
		    "no nettally tables and views; check --db", path, version);
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

int
report_db_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}
