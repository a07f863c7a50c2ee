/*
 * db.c - THE SQLite connection: open, tune, migrate, intern, upsert.
 *
 * Invariants:
 * - One connection, used by one thread at a time (main thread to open and
 *   close, the writer thread in between), so it is opened NOMUTEX.
 * - Every statement is a static const char[] with ?N parameters, prepared
 *   once with SQLITE_PREPARE_PERSISTENT, reset after every use (also on
 *   error); values are always bound, never formatted into SQL.
 * - Data changes happen only between db_begin and db_commit; a failure
 *   anywhere is followed by db_rollback in the caller.
 * - Counter rows are upserted: a conflict adds the counters (health's
 *   queued and spooled gauges keep the maximum) and stamps the row with
 *   the id of the batch that last changed it.
 * - Addresses are interned (intern.c) as a blob key: one family byte (4,
 *   6 or 0) and 4 or 16 address bytes (none for the overflow row, whose
 *   text is "overflow").
 * - A batch's host, port and peer records are upserted in primary key
 *   order (their address ids resolved first): the agent drains its hash
 *   tables in scattered order, and in key order each upsert lands on the
 *   leaf page the previous one left hot (the counter tables have no
 *   other index since schema version 4).
 *   Keys are unique per table in a batch, and the counters add, so the
 *   order changes nothing stored.
 * - They go SCHEMA_UPSERT_ROWS to a statement (schema.c), the rest of a
 *   section one by one: one step, reset and statement journal per 64
 *   records.  The journal holds the pages the statement changes, which
 *   key order keeps few; temp_store keeps it in memory.
 * - Each table and bucket a batch writes host, port or peer rows into is
 *   listed in stat_bucket (schema.c, version 4), in the same transaction:
 *   retention finds expired rows through it.
 * - Commits do not checkpoint: db_wal_hook hands that to the checkpoint
 *   thread (checkpoint.c), until the WAL is DB_WAL_FRAMES_MAX long.
 * - While a section's rows are upserted, the lookahead thread fills the
 *   next section's (db_sections); the writer waits for it before it
 *   touches the address cache again.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "checkpoint.h"
#include "db.h"
#include "intern.h"
#include "log.h"
#include "lookahead.h"
#include "rowsort.h"
#include "schema.h"

#define DB_BUSY_MS	5000
#define DB_COUNT_AHEAD	8	/* rows whose counters are prefetched */
#define DB_LOOK_AHEAD_MIN 256	/* records a section: looked up ahead */
/*
 * WAL frames (pages) past which a commit asks the checkpoint thread for a
 * checkpoint: SQLite's own default.  A WAL that busy a writer never lets
 * the thread finish (each pass ends behind the writer, and only a WAL
 * copied whole starts again from its beginning) is checkpointed by the
 * writer itself at DB_WAL_FRAMES_MAX: 32 MiB at 16 KiB a page.
 */
#define DB_WAL_FRAMES		1000
#define DB_WAL_FRAMES_MAX	2000
/* journal_size_limit: 4,096 frames; as text for its PRAGMA. */
#define DB_WAL_LIMIT		67108864
#define DB_TEXT(n)		#n
#define DB_NUMBER_TEXT(n)	DB_TEXT(n)
#define DB_WAL_LIMIT_TEXT	DB_NUMBER_TEXT(DB_WAL_LIMIT)
_Static_assert(DB_WAL_LIMIT >= 2 * DB_WAL_FRAMES_MAX * 16384,
    "the usual WAL, and a batch past DB_WAL_FRAMES_MAX, stay under it");

/* The record kinds upserted in sections (db_sections). */
enum db_kind { DB_HOST, DB_PORT, DB_PEER };

/*
 * One section's rows being filled from its records, their addresses
 * asked for (db_look): by the writer, or by the lookahead thread.
 */
struct db_look {
	struct intern		*intern;
	const struct db_session	*s;
	const struct proto_batch *b;
	enum db_kind		 kind;
	struct db_row		*rows;
	struct db_row		*tmp;	/* rowsort's scratch */
	uint64_t		*order;
	int			 bad;	/* < 0: what intern_id refused with */
	int			 sorted; /* every id known, rows sorted */
};

enum db_stmt {
	ST_AGENT_GET,
	ST_AGENT_ADD,
	ST_AGENT_SEEN,
	ST_AGENT_EPOCH,
	ST_EPOCH_LAST,
	ST_AGENT_STATE,
	ST_AGENT_SEQ,
	ST_IFACE_ADD,
	ST_IFACE_GET,
	ST_BATCH_ADD,
	ST_BATCH_GET,
	ST_HOST,
	ST_PORT,
	ST_PEER,
	ST_HOST_ROWS,
	ST_PORT_ROWS,
	ST_PEER_ROWS,
	ST_BUCKET_ADD,
	ST_IFSTAT,
	ST_HEALTH,
	ST__COUNT
};

struct db {
	sqlite3		*sql;
	sqlite3_stmt	*st[ST__COUNT];
	int		 errcode;
	char		 errmsg[256];	/* its text: outlives a ROLLBACK */
	struct intern	*intern;
	struct checkpoint *ckpt;	/* the checkpoint thread */
	/* A section of the current batch, and the next one. */
	struct db_row	*rows[2];
	struct db_row	*rows_tmp;	/* half as many: rowsort's scratch */
	uint64_t	*order;		/* as many: rowsort's words */
	size_t		 nrows_cap;
	struct db_look	 look[2];	/* how rows[i] is being filled */
	struct lookahead *ahead;
	/* The last seq gap warned of: a failed group is applied again. */
	int64_t		 gap_agent;
	uint64_t	 gap_seq;
	/* The last conflicting resend warned of, for the same reason. */
	int64_t		 conflict_agent;
	uint64_t	 conflict_seq;
	/* The file opened, to tell when another is put at its path. */
	dev_t		 dev;
	ino_t		 ino;
	int		 lockfd;	/* holds the writer lock, or -1 */
};

static int	db_check_path(const char *, char *, size_t);
static int	db_mkdir_parent(const char *, char *, size_t);
static int	db_setup(struct db *, int *, const char **);
static int	db_pragmas(struct db *, const char **);
static int	db_prepare(struct db *, const char **);
static int	db_wal_hook(void *, sqlite3 *, const char *, int);
static int	db_fail(struct db *, sqlite3_stmt *, const char **);
static int	db_done(struct db *, sqlite3_stmt *, const char **);
static int	db_bind_count(sqlite3_stmt *, int, const struct proto_count *,
		    int64_t);
static int	db_bind_row(sqlite3_stmt *, int, const struct db_session *,
		    enum db_kind, const struct db_row *, int64_t);
static size_t	db_nrecs(const struct proto_batch *, enum db_kind);
static int	db_reserve(struct db *, const struct proto_batch *);
static void	db_look_run(void *);
static int	db_finish(struct db *, const struct db_look *, size_t,
		    const char **);
static int	db_sections(struct db *, const struct db_session *,
		    const struct proto_batch *, int64_t, const char **);
static int	db_upsert(struct db *, const struct db_session *,
		    const struct proto_batch *, enum db_kind,
		    const struct db_row *, int64_t, const char **);
static int	db_resend(struct db *, const struct db_session *,
		    const struct proto_batch *, enum db_apply *,
		    const char **);
static int	db_file_note(struct db *, char *, size_t);
static int	db_file_same(struct db *, const char **);

static const char sql_agent_get[] =
    "SELECT id, epoch, last_seq FROM agent WHERE name = ?1";
static const char sql_agent_add[] =
    "INSERT INTO agent (name, epoch, last_seq, resolution, first_seen,"
    " last_seen) VALUES (?1, ?2, 0, ?3, ?4, ?4)";
static const char sql_agent_seen[] =
    "UPDATE agent SET last_seen = ?2 WHERE id = ?1";
static const char sql_agent_epoch[] =
    "UPDATE agent SET epoch = ?2, last_seq = ?5, resolution = ?3,"
    " last_seen = ?4 WHERE id = ?1";
/* What an epoch other than the agent's current one has committed. */
static const char sql_epoch_last[] =
    "SELECT max(seq) FROM batch WHERE agent_id = ?1 AND epoch = ?2";
static const char sql_agent_state[] =
    "SELECT epoch, last_seq FROM agent WHERE id = ?1";
static const char sql_agent_seq[] =
    "UPDATE agent SET last_seq = ?2, last_seen = ?3 WHERE id = ?1";
static const char sql_iface_add[] =
    "INSERT INTO iface (agent_id, name) VALUES (?1, ?2)"
    " ON CONFLICT (agent_id, name) DO NOTHING";
static const char sql_iface_get[] =
    "SELECT id FROM iface WHERE agent_id = ?1 AND name = ?2";
static const char sql_batch_add[] =
    "INSERT INTO batch (agent_id, epoch, seq, first_ts, last_ts, received,"
    " nrecords) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_batch_get[] =
    "SELECT first_ts, last_ts, nrecords FROM batch"
    " WHERE agent_id = ?1 AND epoch = ?2 AND seq = ?3";
static const char sql_ifstat[] =
    "INSERT INTO iface_stat (bucket, resolution, iface_id, frames,"
    " frame_bytes, ipv4_packets, ipv6_packets, non_ip_frames,"
    " transit_packets, malformed_frames, batch_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (bucket, iface_id, resolution)"
    " DO UPDATE SET " SCHEMA_IFACE_SET ", batch_id = excluded.batch_id";
static const char sql_health[] =
    "INSERT INTO health_stat (bucket, resolution, iface_id, captured,"
    " kernel_drops, iface_drops, overflow, malformed, queued, dropped,"
    " batch_id, spooled)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    " ON CONFLICT (bucket, iface_id, resolution)"
    " DO UPDATE SET " SCHEMA_HEALTH_SET ", batch_id = excluded.batch_id";

static const char *const db_sql[ST__COUNT] = {
	[ST_AGENT_GET] = sql_agent_get,
	[ST_AGENT_ADD] = sql_agent_add,
	[ST_AGENT_SEEN] = sql_agent_seen,
	[ST_AGENT_EPOCH] = sql_agent_epoch,
	[ST_EPOCH_LAST] = sql_epoch_last,
	[ST_AGENT_STATE] = sql_agent_state,
	[ST_AGENT_SEQ] = sql_agent_seq,
	[ST_IFACE_ADD] = sql_iface_add,
	[ST_IFACE_GET] = sql_iface_get,
	[ST_BATCH_ADD] = sql_batch_add,
	[ST_BATCH_GET] = sql_batch_get,
	[ST_HOST] = schema_upsert_host,
	[ST_PORT] = schema_upsert_port,
	[ST_PEER] = schema_upsert_peer,
	[ST_HOST_ROWS] = schema_upsert_host_rows,
	[ST_PORT_ROWS] = schema_upsert_port_rows,
	[ST_PEER_ROWS] = schema_upsert_peer_rows,
	[ST_BUCKET_ADD] = schema_bucket_add,
	[ST_IFSTAT] = sql_ifstat,
	[ST_HEALTH] = sql_health,
};

/*
 * Refuses a path that cannot be a database file before anything opens
 * it.  SQLite takes "" for a private temporary database, and opens a FIFO
 * or a device as if it were a file: a store given /dev/null as root
 * created /dev/null-journal beside it, and a FIFO read as a "disk I/O
 * error" that pointed at the directory's permissions.  A symbolic link to
 * a regular file is fine; a missing file is created by SQLite.  Returns
 * 0, or -1 with the reason and its fix in err.
 */
static int
db_check_path(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (path[0] == '\0') {
		snprintf(err, errlen, "the database path is empty; give the "
		    "database file's path with --db");
		return -1;
	}
	if (stat(path, &sb) == -1 || S_ISREG(sb.st_mode))
		return 0;
	if (S_ISDIR(sb.st_mode))
		snprintf(err, errlen, "cannot use database %s: it is a "
		    "directory; give the database file's path with --db", path);
	else
		snprintf(err, errlen, "cannot use database %s: not a regular "
		    "file (a %s); give the database file's path with --db",
		    path, S_ISFIFO(sb.st_mode) ? "FIFO" :
		    S_ISSOCK(sb.st_mode) ? "socket" :
		    S_ISCHR(sb.st_mode) ? "character device" :
		    S_ISBLK(sb.st_mode) ? "block device" : "special file");
	return -1;
}

/* Creates the directory holding path (one level) at 0750 if missing. */
static int
db_mkdir_parent(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "database path too long: %s", path);
		return -1;
	}
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) == 0) {
		log_info("db: created directory %s", dir);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "cannot create database directory %s: %s; "
	    "create it (owned by the nettally user) or use --db", dir,
	    strerror(errno));
	return -1;
}

/*
 * One store per database: a write lock (open file description, so that
 * no other descriptor's close drops it, and the kernel drops it when the
 * store dies) on one byte SQLite never locks, below its lock bytes at
 * 2^30.  Readers take no such lock.  Before, a second store given
 * another --socket but the same --db ran as a second writer, with its
 * own view of which agents were connected and its own roll-ups, and
 * said nothing.  Returns 0, or -1 with the reason and its fix in err.
 */
#define DB_LOCK_BYTE	(0x40000000 - 4096)
static int
db_lock_writer(struct db *d, const char *path, char *err, size_t errlen)
{
	struct flock fl;

	/*
	 * A file this user cannot write is SQLite's to refuse, with the
	 * messages and fixes it has always given.
	 */
	if ((d->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = DB_LOCK_BYTE;
	fl.l_len = 1;
	if (fcntl(d->lockfd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		snprintf(err, errlen, "cannot use database %s: another "
		    "nettally-stored writes to it (maybe on another --socket); "
		    "stop that one first: one store per database", path);
	else
		snprintf(err, errlen, "cannot use database %s: cannot lock it: "
		    "%s", path, strerror(errno));
	return -1;
}

/*
 * Refuses a database that is not ours to take: the pragmas and the
 * migration that follow would switch any SQLite file to WAL and add the
 * nettally schema to it, so a mistyped --db would change another
 * program's database.  Ours is an empty file, or one with a schema
 * version and the agent table (the migration refuses one newer than this
 * program).  Returns 0, or -1 with the reason and its fix in err.
 */
static int
db_claim(struct db *d, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version, nobj = 0, nours, code;
	const char *errstr = NULL;

	if (schema_version(d->sql, &version, &errstr) == -1)
		goto fail;
	/*
	 * Every schema version has had the agent table: a user_version
	 * without it is another program's (many set one).
	 */
	if (sqlite3_prepare_v2(d->sql, "SELECT count(*), count(CASE WHEN "
	    "type = 'table' AND name = 'agent' THEN 1 END) FROM sqlite_master",
	    -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		errstr = sqlite3_errmsg(d->sql);
		goto fail;
	}
	nobj = sqlite3_column_int(st, 0);
	nours = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (version != 0 && nours == 0) {
		snprintf(err, errlen, "cannot use database %s: not a nettally "
		    "database: schema version %d but no nettally tables; check "
		    "--db", path, version);
		return -1;
	}
	if (version != 0 || nobj == 0)
		return 0;
	snprintf(err, errlen, "cannot use database %s: not a nettally "
	    "database: it has %d tables, views or indexes but no nettally "
	    "schema version; check --db (the store creates its schema only "
	    "in an empty file)", path, nobj);
	return -1;
fail:
	code = sqlite3_errcode(d->sql);
	snprintf(err, errlen, "cannot use database %s: %s; %s", path, errstr,
	    db_fix(code));
	sqlite3_finalize(st);
	return -1;
}

int
db_is_wal(struct sqlite3 *sql, const char *pragma)
{
	sqlite3_stmt *st;
	const unsigned char *mode;
	int ok = 0;

	if (sqlite3_prepare_v2(sql, pragma, -1, &st, NULL) != SQLITE_OK)
		return -1;
	/* journal_mode answers with the mode in force, set or not. */
	if (sqlite3_step(st) == SQLITE_ROW) {
		mode = sqlite3_column_text(st, 0);
		ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	}
	sqlite3_finalize(st);
	return ok;
}

static int
db_pragmas(struct db *d, const char **errstr)
{
	int ok;

	/*
	 * The page size (schema.c), then auto_vacuum, which lets retention
	 * hand freed pages back to the filesystem.  Both take effect only
	 * on a database without tables, and only before the switch to WAL
	 * writes the header: so here, not in a migration, and in this order
	 * (auto_vacuum first would fix the default page size).  An older
	 * file keeps its page size and reuses its free pages (VACUUM
	 * converts it).
	 */
	if (sqlite3_exec(d->sql, schema_page_size, NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_exec(d->sql, "PRAGMA auto_vacuum = INCREMENTAL", NULL,
	    NULL, NULL) != SQLITE_OK)
		goto fail;
	if ((ok = db_is_wal(d->sql, "PRAGMA journal_mode = WAL")) == -1)
		goto fail;
	if (!ok) {
		*errstr = "cannot switch the database to WAL mode";
		return -1;
	}
	/*
	 * 16 MiB of page cache instead of SQLite's 2 MiB: upserts land at
	 * scattered keys of each bucket, and with 2 MiB most of them re-read
	 * interior and leaf pages from the file or the WAL (pread, WAL index
	 * search) in every transaction.  temp_store in memory: a multi-row
	 * upsert (schema.c) keeps the pages it changes in a statement
	 * journal, to undo itself alone should one row fail; in a temporary
	 * file past 64 KiB, that was a pwrite per page, a 16 KiB page each.
	 * journal_size_limit: a WAL stays as long as it ever grew, and a
	 * reader that holds a snapshot keeps the writer from starting it
	 * again, so a few report queries during a retention catch-up left
	 * a 927 MB WAL beside a 21 MB database, for good.  With the limit,
	 * SQLite cuts it back when it next starts from its beginning.  The
	 * WAL's usual length (DB_WAL_FRAMES_MAX, and the batch that passes
	 * it) stays under the limit, so the cut costs nothing in steady
	 * running.
	 */
	if (sqlite3_exec(d->sql, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(d->sql, "PRAGMA journal_size_limit = "
	    DB_WAL_LIMIT_TEXT, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(d->sql, "PRAGMA cache_size = -16384", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(d->sql, "PRAGMA temp_store = MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(d->sql, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	*errstr = sqlite3_errmsg(d->sql);
	return -1;
}

static int
db_prepare(struct db *d, const char **errstr)
{
	size_t i;

	for (i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(d->sql, db_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL) != SQLITE_OK) {
			*errstr = sqlite3_errmsg(d->sql);
			return -1;
		}
	}
	/* db_upsert binds SCHEMA_UPSERT_ROWS rows to these. */
	if (sqlite3_bind_parameter_count(d->st[ST_HOST_ROWS]) !=
	    SCHEMA_UPSERT_ROWS * 10 ||
	    sqlite3_bind_parameter_count(d->st[ST_PORT_ROWS]) !=
	    SCHEMA_UPSERT_ROWS * 11 ||
	    sqlite3_bind_parameter_count(d->st[ST_PEER_ROWS]) !=
	    SCHEMA_UPSERT_ROWS * 11) {
		*errstr = "multi-row upserts do not hold SCHEMA_UPSERT_ROWS rows";
		return -1;
	}
	return 0;
}

/*
 * With memory statistics on (SQLite's default) every allocation of every
 * connection takes one process-wide mutex; the store never reads them,
 * and the writer allocates for each statement it steps (about 2 % of its
 * time, offline replay, perf).
 */
int
db_setup_library(const char **errstr)
{
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
		*errstr = "SQLite was configured too late (already in use)";
		return -1;
	}
	return 0;
}

/*
 * The pragmas, the migration, the statements and the address cache.
 * Returns 0, or -1 with *errstr and in *code the SQLite result code of the
 * failure: SQLITE_OK for a refusal of the migration's own (a newer schema).
 */
static int
db_setup(struct db *d, int *code, const char **errstr)
{
	if (db_pragmas(d, errstr) == -1)
		goto fail;
	if (schema_migrate(d->sql, code, errstr) == -1)
		return -1;
	if (db_prepare(d, errstr) == -1 ||
	    (d->intern = intern_new(d->sql, errstr)) == NULL)
		goto fail;
	return 0;
fail:
	*code = sqlite3_errcode(d->sql);
	return -1;
}

struct db *
db_open(const char *path, char *err, size_t errlen)
{
	struct db *d;
	const char *errstr = NULL;
	int rc;

	if (db_check_path(path, err, errlen) == -1)
		return NULL;
	if (db_mkdir_parent(path, err, errlen) == -1)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "db: out of memory");
		return NULL;
	}
	d->lockfd = -1;
	/* Before SQLite opens it: nothing of a running store's is touched. */
	if (db_lock_writer(d, path, err, errlen) == -1)
		goto fail;
	rc = sqlite3_open_v2(path, &d->sql, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s; check that "
		    "its directory is writable by this user, or use --db",
		    path, d->sql ? sqlite3_errmsg(d->sql) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(d->sql, 0);
	if (sqlite3_busy_timeout(d->sql, DB_BUSY_MS) != SQLITE_OK) {
		snprintf(err, errlen, "cannot use database %s: %s", path,
		    sqlite3_errmsg(d->sql));
		goto fail;
	}
	if (db_claim(d, path, err, errlen) == -1)
		goto fail;
	if (db_setup(d, &rc, &errstr) == -1) {
		snprintf(err, errlen, "cannot use database %s: %s%s%s", path,
		    errstr, rc == SQLITE_OK ? "" : "; ",
		    rc == SQLITE_OK ? "" : db_fix(rc));
		goto fail;
	}
	if (db_file_note(d, err, errlen) == -1)
		goto fail;
	if ((d->ckpt = checkpoint_start(path, &errstr)) == NULL ||
	    (d->ahead = lookahead_new(&errstr)) == NULL) {
		snprintf(err, errlen, "cannot use database %s: %s; check the "
		    "limits on open files and threads (ulimit -n, -u)", path,
		    errstr);
		goto fail;
	}
	/* Replaces the automatic checkpoint of every commit from here on. */
	(void)sqlite3_wal_hook(d->sql, db_wal_hook, d);
	return d;
fail:
	db_close(d);
	return NULL;
}

void
db_close(struct db *d)
{
	size_t i;

	if (d == NULL)
		return;
	/*
	 * The thread's connection too: the last of them to close copies the
	 * WAL whole and removes it.
	 */
	checkpoint_stop(d->ckpt);
	lookahead_free(d->ahead);
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(d->st[i]);
	intern_free(d->intern);
	if (d->sql != NULL && sqlite3_close(d->sql) != SQLITE_OK)
		log_err("db: close: %s", sqlite3_errmsg(d->sql));
	free(d->rows[0]);
	free(d->rows[1]);
	free(d->rows_tmp);
	free(d->order);
	/* Last: a close drops this process's POSIX locks on the file too. */
	if (d->lockfd != -1)
		close(d->lockfd);
	free(d);
}

/*
 * After every commit on the writer's connection, with the frames now in
 * the WAL: a checkpoint by the thread, or past DB_WAL_FRAMES_MAX by this
 * (writer) thread itself, which nothing writes behind.  Its failure is
 * let be, as SQLite's own hook lets it be: the WAL keeps every page, and
 * the next commit tries again.
 */
static int
db_wal_hook(void *arg, sqlite3 *sql, const char *name, int nframe)
{
	struct db *d = arg;

	if (nframe >= DB_WAL_FRAMES_MAX)
		(void)sqlite3_wal_checkpoint_v2(sql, name,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	else if (nframe >= DB_WAL_FRAMES)
		checkpoint_request(d->ckpt);
	return SQLITE_OK;
}

/*
 * Idle: journal_size_limit cuts a long WAL back only when a write starts
 * it again, and a store no agent writes to (after a replay) would keep
 * it.  So a WAL past the limit is copied and cut to nothing here, unless
 * a reader still reads from it: that is not waited for (busy timeout 0),
 * the next idle moment tries again.
 */
void
db_wal_trim(struct db *d)
{
	const char *wal;
	struct stat sb;
	int rc;

	wal = sqlite3_filename_wal(sqlite3_db_filename(d->sql, "main"));
	if (wal == NULL || stat(wal, &sb) == -1 || sb.st_size <= DB_WAL_LIMIT)
		return;
	(void)sqlite3_busy_timeout(d->sql, 0);
	rc = sqlite3_wal_checkpoint_v2(d->sql, "main",
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	(void)sqlite3_busy_timeout(d->sql, DB_BUSY_MS);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_debug("db: cutting back the WAL (%lld bytes): %s",
		    (long long)sb.st_size, sqlite3_errstr(rc));
}

uint64_t
db_checkpoints(struct db *d)
{
	return checkpoint_count(d->ckpt);
}

struct sqlite3 *
db_handle(struct db *d)
{
	return d->sql;
}

int
db_errcode(const struct db *d)
{
	return d->errcode;
}

const char *
db_fix(int code)
{
	switch (code & 0xff) {
	case SQLITE_FULL:
		return "the disk is full: free space on the filesystem holding "
		    "the database";
	case SQLITE_IOERR:
		return "an I/O error: check the disk and the kernel log";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "the database is locked by another writer: only "
		    "nettally-stored may write it, stop the other process";
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
	case SQLITE_AUTH:
		return "the database or its directory is not writable: fix the "
		    "owner and mode (the nettally user needs write access)";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "the database file is damaged or not a database: stop "
		    "the store, check it with sqlite3 FILE 'PRAGMA "
		    "integrity_check', and repair it or restore a backup "
		    "(nettally never deletes it)";
	case DB_ERR_REPLACED:
		return "restart the store to use the file now at the path "
		    "(the agents resend what was not acknowledged); nothing "
		    "is committed to the old file meanwhile";
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return "the database refuses this data for good (a constraint, "
		    "trigger or column type of the schema): check what was "
		    "added to the schema; the store refuses a batch it "
		    "cannot store, tells its agent, and stores the others";
	default:
		return "see the SQLite message";
	}
}

int
db_data_error(int code)
{
	switch (code & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return 1;
	default:
		return 0;
	}
}

/*
 * Records the failure of statement st (may be NULL) and resets it.  The
 * message is copied: SQLite's own text changes with the next call on the
 * connection, and the caller still logs it after db_rollback.
 */
static int
db_fail(struct db *d, sqlite3_stmt *st, const char **errstr)
{
	d->errcode = sqlite3_errcode(d->sql);
	snprintf(d->errmsg, sizeof(d->errmsg), "%s", sqlite3_errmsg(d->sql));
	*errstr = d->errmsg;
	if (st != NULL)
		sqlite3_reset(st);
	return -1;
}

/* Steps a statement that returns no row, then resets it. */
static int
db_done(struct db *d, sqlite3_stmt *st, const char **errstr)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(d, st, errstr);
	sqlite3_reset(st);
	return 0;
}

int
db_begin(struct db *d, const char **errstr)
{
	if (sqlite3_exec(d->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_fail(d, NULL, errstr);
	return 0;
}

/*
 * Notes which file the connection has open: its device and inode, by the
 * path SQLite resolved (absolute).  Returns 0, or -1 with err.
 */
static int
db_file_note(struct db *d, char *err, size_t errlen)
{
	const char *path = sqlite3_db_filename(d->sql, "main");
	struct stat sb;

	if (path == NULL || stat(path, &sb) == -1) {
		snprintf(err, errlen, "cannot use database %s: stat: %s",
		    path != NULL ? path : "(no name)", strerror(errno));
		return -1;
	}
	d->dev = sb.st_dev;
	d->ino = sb.st_ino;
	return 0;
}

/*
 * Whether the file at the database's path is still the one the store
 * opened.  Removed or replaced (rm, mv, a restored backup), the store
 * would go on committing into a file no reader sees, and one that is
 * gone for good when the store exits: every batch acknowledged from then
 * on lost.  Not the same: -1 with the cause and its fix in *errstr and
 * DB_ERR_REPLACED as the error code; nothing is committed until the store
 * is restarted on the file now at the path.  One stat per transaction.
 */
static int
db_file_same(struct db *d, const char **errstr)
{
	const char *path = sqlite3_db_filename(d->sql, "main");
	struct stat sb;

	if (path != NULL && stat(path, &sb) == 0 && sb.st_dev == d->dev &&
	    sb.st_ino == d->ino)
		return 0;
	d->errcode = DB_ERR_REPLACED;
	if (path == NULL)
		path = "(no name)";
	if (access(path, F_OK) == -1)
		snprintf(d->errmsg, sizeof(d->errmsg), "database file %s was "
		    "removed while the store had it open", path);
	else
		snprintf(d->errmsg, sizeof(d->errmsg), "database file %s was "
		    "replaced by another file while the store had the old "
		    "one open", path);
	*errstr = d->errmsg;
	return -1;
}

int
db_commit(struct db *d, const char **errstr)
{
	if (db_file_same(d, errstr) == -1)
		return -1;
	if (sqlite3_exec(d->sql, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(d, NULL, errstr);
	return 0;
}

void
db_rollback(struct db *d)
{
	/* Ids inserted by the failed transaction are gone with it. */
	intern_forget(d->intern);
	/* SQLITE_FULL and friends may already have rolled back. */
	if (sqlite3_get_autocommit(d->sql))
		return;
	if (sqlite3_exec(d->sql, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		log_err("db: rollback: %s", sqlite3_errmsg(d->sql));
}

int
db_hello(struct db *d, const struct proto_hello *h, int64_t now,
    struct db_session *s, uint64_t *last_seq, const char **errstr)
{
	sqlite3_stmt *st;
	int64_t epoch, id, seq;
	uint32_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	st = d->st[ST_AGENT_GET];
	if (sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC) != SQLITE_OK)
		return db_fail(d, st, errstr);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		epoch = sqlite3_column_int64(st, 1);
		seq = sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		if (epoch == h->start_time) {
			*last_seq = (uint64_t)seq;
			st = d->st[ST_AGENT_SEEN];
			if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
			    sqlite3_bind_int64(st, 2, now) != SQLITE_OK)
				return db_fail(d, st, errstr);
		} else {
			/*
			 * Usually a new epoch (0).  An agent replaying an
			 * older run's spool comes back to an epoch the
			 * store has left: what it committed of it is in
			 * its batch rows, and counting it again would
			 * break their UNIQUE key as well as the totals.
			 */
			st = d->st[ST_EPOCH_LAST];
			if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
			    sqlite3_bind_int64(st, 2, h->start_time) !=
			    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
				return db_fail(d, st, errstr);
			seq = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			*last_seq = (uint64_t)seq;
			st = d->st[ST_AGENT_EPOCH];
			if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
			    sqlite3_bind_int64(st, 2, h->start_time) !=
			    SQLITE_OK ||
			    sqlite3_bind_int64(st, 3, h->resolution) !=
			    SQLITE_OK ||
			    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
			    sqlite3_bind_int64(st, 5, seq) != SQLITE_OK)
				return db_fail(d, st, errstr);
		}
		if (db_done(d, st, errstr) == -1)
			return -1;
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		*last_seq = 0;
		st = d->st[ST_AGENT_ADD];
		if (sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, h->start_time) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, h->resolution) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, now) != SQLITE_OK)
			return db_fail(d, st, errstr);
		if (db_done(d, st, errstr) == -1)
			return -1;
		id = sqlite3_last_insert_rowid(d->sql);
	} else
		return db_fail(d, st, errstr);

	s->agent_id = id;
	s->epoch = h->start_time;
	s->resolution = h->resolution;
	s->niface = h->niface;
	for (i = 0; i < h->niface && i < PROTO_IFACES_MAX; i++) {
		st = d->st[ST_IFACE_ADD];
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, h->iface[i], -1, SQLITE_STATIC) !=
		    SQLITE_OK)
			return db_fail(d, st, errstr);
		if (db_done(d, st, errstr) == -1)
			return -1;
		st = d->st[ST_IFACE_GET];
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, h->iface[i], -1, SQLITE_STATIC) !=
		    SQLITE_OK)
			return db_fail(d, st, errstr);
		if (sqlite3_step(st) != SQLITE_ROW)
			return db_fail(d, st, errstr);
		s->iface_id[i] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return 0;
}

/* Binds packets, bytes, frame_bytes at ?first.. and the batch id after. */
static int
db_bind_count(sqlite3_stmt *st, int first, const struct proto_count *c,
    int64_t batch_id)
{
	if (sqlite3_bind_int64(st, first, (int64_t)c->packets) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 1, (int64_t)c->bytes) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 2, (int64_t)c->frame_bytes) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 3, batch_id) != SQLITE_OK)
		return -1;
	return 0;
}

/*
 * A batch at or below last_seq: *what is DB_DUPLICATE when its batch row
 * says it is the batch committed under that seq (same first_ts, last_ts
 * and record count), else DB_CONFLICT, logged: either way it is not
 * counted, and only the log can tell an operator that a broken agent had
 * it acknowledged without its rows.  Runs for resends only, never per
 * record.
 */
static int
db_resend(struct db *d, const struct db_session *s,
    const struct proto_batch *b, enum db_apply *what, const char **errstr)
{
	sqlite3_stmt *st = d->st[ST_BATCH_GET];
	int64_t first = 0, last = 0, nrec = 0;
	size_t n;
	int rc;

	if (sqlite3_bind_int64(st, 1, s->agent_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, s->epoch) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)b->seq) != SQLITE_OK)
		return db_fail(d, st, errstr);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(d, st, errstr);
	n = b->nhosts + b->nports + b->npeers + b->nifaces + b->nhealth;
	*what = DB_DUPLICATE;
	if (rc == SQLITE_ROW) {
		first = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
		nrec = sqlite3_column_int64(st, 2);
		if (first != b->first_ts || last != b->last_ts ||
		    nrec != (int64_t)n)
			*what = DB_CONFLICT;
	} else
		*what = DB_CONFLICT;
	sqlite3_reset(st);
	if (*what == DB_DUPLICATE || (d->conflict_agent == s->agent_id &&
	    d->conflict_seq == b->seq))
		return 0;
	d->conflict_agent = s->agent_id;
	d->conflict_seq = b->seq;
	if (rc == SQLITE_ROW)
		log_warn("db: agent %lld epoch %lld: batch %llu resent with "
		    "other content (%zu records, %lld..%lld; committed: "
		    "%lld records, %lld..%lld): not counted",
		    (long long)s->agent_id, (long long)s->epoch,
		    (unsigned long long)b->seq, n, (long long)b->first_ts,
		    (long long)b->last_ts, (long long)nrec, (long long)first,
		    (long long)last);
	else
		log_warn("db: agent %lld epoch %lld: batch %llu arrived after "
		    "a later one was committed: not counted, its %zu records "
		    "are lost", (long long)s->agent_id, (long long)s->epoch,
		    (unsigned long long)b->seq, n);
	return 0;
}

/* Returns how many records of kind b holds. */
static size_t
db_nrecs(const struct proto_batch *b, enum db_kind kind)
{
	return kind == DB_HOST ? b->nhosts : kind == DB_PORT ? b->nports :
	    b->npeers;
}

/*
 * Room for the rows of b's biggest section, twice, and for the address
 * questions of any one section.
 */
static int
db_reserve(struct db *d, const struct proto_batch *b)
{
	struct db_row *p;
	uint64_t *o;
	size_t n = b->nhosts, nwant;
	int i;

	if (b->nports > n)
		n = b->nports;
	/* A peer record asks for two addresses, the others for one. */
	nwant = n > 2 * b->npeers ? n : 2 * b->npeers;
	if (b->npeers > n)
		n = b->npeers;
	if (intern_reserve(d->intern, nwant) == -1)
		return -1;
	if (n <= d->nrows_cap)
		return 0;
	/* At most PROTO_RECORDS_MAX: the decoder refused more. */
	for (i = 0; i < 2; i++) {
		if ((p = reallocarray(d->rows[i], n, sizeof(*p))) == NULL)
			return -1;
		d->rows[i] = p;
	}
	if ((p = reallocarray(d->rows_tmp, (n + 1) / 2, sizeof(*p))) == NULL)
		return -1;
	d->rows_tmp = p;
	if ((o = reallocarray(d->order, n, sizeof(*o))) == NULL)
		return -1;
	d->order = o;
	d->nrows_cap = n;
	return 0;
}

/*
 * A db_look job: fills lk->rows with the records of its section, each
 * address's id from the cache or asked for (intern_id), and sorts the
 * questions, or the rows when there are none.  Touches no SQLite and
 * nothing but lk's fields and buffers and the intern's questions, so it
 * may run beside the writer's upserts.
 */
static void
db_look_run(void *arg)
{
	struct db_look *lk = arg;
	const struct proto_batch *b = lk->b;
	const struct proto_key *k;
	struct db_row *r;
	size_t i, n = db_nrecs(b, lk->kind);

	for (i = 0; i < n; i++) {
		r = &lk->rows[i];
		switch (lk->kind) {
		case DB_HOST:
			k = &b->hosts[i].k;
			r->c = &b->hosts[i].c;
			r->mid = k->proto;
			r->low = k->dir;
			break;
		case DB_PORT:
			k = &b->ports[i].k;
			r->c = &b->ports[i].c;
			r->mid = k->proto;
			r->low = (int64_t)b->ports[i].port << 1 | k->dir;
			break;
		default:
			k = &b->peers[i].k;
			r->c = &b->peers[i].c;
			if ((lk->bad = intern_id(lk->intern,
			    &b->peers[i].peer, &r->mid)) < 0)
				return;
			r->low = (int64_t)k->proto << 1 | k->dir;
			break;
		}
		if ((lk->bad = intern_id(lk->intern, &k->host,
		    &r->host)) < 0)
			return;
		r->bucket = k->bucket;
		r->iface = lk->s->iface_id[k->iface];
	}
	/* What is left for the writer is SQL, and the sort if it must. */
	if (intern_sort(lk->intern) == 0) {
		(void)rowsort(lk->rows, n, lk->s->resolution, lk->tmp,
		    lk->order);
		lk->sorted = 1;
	}
}

/*
 * The n rows of a db_look: the addresses asked for answered (SQL), then
 * sorted in the primary key order of their table, unless lk did both.
 */
static int
db_finish(struct db *d, const struct db_look *lk, size_t n,
    const char **errstr)
{
	sqlite3_stmt *failed;
	const char *why;

	if (lk->sorted)
		return 0;
	if (intern_resolve(d->intern, &failed, &why) == -1) {
		if (failed != NULL)
			return db_fail(d, failed, errstr);
		/* Cannot happen; refused as this batch's, not retried. */
		d->errcode = SQLITE_MISMATCH;
		*errstr = why;
		return -1;
	}
	(void)rowsort(lk->rows, n, lk->s->resolution, lk->tmp, lk->order);
	return 0;
}

/*
 * Upserts b's host, port and peer sections in turn.  While one section's
 * rows go through SQLite, the lookahead thread fills the next one's
 * (db_look_run): the address cache changes only in intern_resolve, which
 * runs before that hand-off and after the wait for it, never meanwhile.
 * A section under DB_LOOK_AHEAD_MIN records is not worth a hand-off: the
 * writer fills it itself.
 */
static int
db_sections(struct db *d, const struct db_session *s,
    const struct proto_batch *b, int64_t batch_id, const char **errstr)
{
	struct db_look *lk, *next;
	enum db_kind kind = DB_HOST;
	int i, cur = 0, ahead, rc;

	if (db_reserve(d, b) == -1) {
		d->errcode = SQLITE_NOMEM;
		*errstr = "out of memory for a batch's rows";
		return -1;
	}
	for (i = 0; i < 2; i++)
		d->look[i] = (struct db_look){ .intern = d->intern, .s = s,
		    .b = b, .kind = DB_HOST, .rows = d->rows[i],
		    .tmp = d->rows_tmp, .order = d->order };
	db_look_run(&d->look[cur]);
	for (;;) {
		lk = &d->look[cur];
		if (lk->bad < 0) {
			/* Cannot happen: the loop validates families first. */
			d->errcode = SQLITE_MISMATCH;
			*errstr = lk->bad == -1 ?
			    "address family not 0, 4 or 6" :
			    "more addresses than db_reserve made room for";
			return -1;
		}
		if (db_finish(d, lk, db_nrecs(b, kind), errstr) == -1)
			return -1;
		next = kind == DB_PEER ? NULL : &d->look[!cur];
		ahead = 0;
		if (next != NULL) {
			next->kind = kind + 1;
			next->sorted = next->bad = 0;
			if (db_nrecs(b, next->kind) >= DB_LOOK_AHEAD_MIN) {
				lookahead_start(d->ahead, db_look_run, next);
				ahead = 1;
			}
		}
		rc = db_upsert(d, s, b, kind, lk->rows, batch_id, errstr);
		if (ahead)
			lookahead_wait(d->ahead);
		if (rc == -1)
			return -1;
		if (next == NULL)
			return 0;
		if (!ahead)
			db_look_run(next);
		kind = next->kind;
		cur = !cur;
	}
}

/*
 * Binds row r (of kind) to st as the single-row upsert's ?1.. would be,
 * its first parameter being number first.
 */
static int
db_bind_row(sqlite3_stmt *st, int first, const struct db_session *s,
    enum db_kind kind, const struct db_row *r, int64_t batch_id)
{
	int64_t proto, extra;

	proto = kind == DB_PEER ? r->low >> 1 : r->mid;
	/* The port, or the peer's id. */
	extra = kind == DB_PEER ? r->mid : r->low >> 1;
	if (sqlite3_bind_int64(st, first, r->bucket) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 1, s->resolution) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 2, r->iface) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 3, r->host) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 4, proto) != SQLITE_OK ||
	    sqlite3_bind_int64(st, first + 5, r->low & 1) != SQLITE_OK ||
	    db_bind_count(st, first + 6, r->c, batch_id) == -1 ||
	    (kind != DB_HOST &&
	    sqlite3_bind_int64(st, first + 10, extra) != SQLITE_OK))
		return -1;
	return 0;
}

/*
 * Upserts the host, port or peer rows of b (kind), sorted by db_finish:
 * SCHEMA_UPSERT_ROWS at a time while that many are left, then one by one.
 */
static int
db_upsert(struct db *d, const struct db_session *s,
    const struct proto_batch *b, enum db_kind kind, const struct db_row *rows,
    int64_t batch_id, const char **errstr)
{
	sqlite3_stmt *st;
	size_t i, j, n;
	int ncol;

	if ((n = db_nrecs(b, kind)) == 0)
		return 0;
	/* Sorted: a bucket's rows are together.  stat_bucket's tbl 1..3. */
	st = d->st[ST_BUCKET_ADD];
	for (i = 0; i < n; i++) {
		if (i > 0 && rows[i].bucket == rows[i - 1].bucket)
			continue;
		if (sqlite3_bind_int(st, 1, (int)kind + 1) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, s->resolution) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, rows[i].bucket) != SQLITE_OK)
			return db_fail(d, st, errstr);
		if (db_done(d, st, errstr) == -1)
			return -1;
	}
	ncol = kind == DB_HOST ? 10 : 11;
	st = d->st[kind == DB_HOST ? ST_HOST_ROWS : kind == DB_PORT ?
	    ST_PORT_ROWS : ST_PEER_ROWS];
	for (i = 0; n - i >= SCHEMA_UPSERT_ROWS; i += SCHEMA_UPSERT_ROWS) {
		for (j = 0; j < SCHEMA_UPSERT_ROWS; j++) {
			/*
			 * In key order the records' counters are at random
			 * places of the batch: ask for them rows ahead.
			 */
			if (i + j + DB_COUNT_AHEAD < n)
				__builtin_prefetch(
				    rows[i + j + DB_COUNT_AHEAD].c);
			if (db_bind_row(st, (int)j * ncol + 1, s, kind,
			    &rows[i + j], batch_id) == -1)
				return db_fail(d, st, errstr);
		}
		if (db_done(d, st, errstr) == -1)
			return -1;
	}
	st = d->st[kind == DB_HOST ? ST_HOST : kind == DB_PORT ?
	    ST_PORT : ST_PEER];
	for (; i < n; i++) {
		if (db_bind_row(st, 1, s, kind, &rows[i], batch_id) == -1)
			return db_fail(d, st, errstr);
		if (db_done(d, st, errstr) == -1)
			return -1;
	}
	return 0;
}

int
db_batch(struct db *d, const struct db_session *s, const struct proto_batch *b,
    int64_t received, enum db_apply *what, const char **errstr)
{
	sqlite3_stmt *st;
	int64_t epoch, last, batch_id;
	size_t i, n;

	st = d->st[ST_AGENT_STATE];
	if (sqlite3_bind_int64(st, 1, s->agent_id) != SQLITE_OK)
		return db_fail(d, st, errstr);
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_fail(d, st, errstr);
	epoch = sqlite3_column_int64(st, 0);
	last = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (epoch != s->epoch) {
		*what = DB_STALE;
		return 0;
	}
	if (b->seq <= (uint64_t)last)
		return db_resend(d, s, b, what, errstr);
	if (b->seq != (uint64_t)last + 1 &&
	    (d->gap_agent != s->agent_id || d->gap_seq != b->seq)) {
		log_warn("db: agent %lld: batch %llu follows %lld: %llu "
		    "batches missing", (long long)s->agent_id,
		    (unsigned long long)b->seq, (long long)last,
		    (unsigned long long)(b->seq - (uint64_t)last - 1));
		d->gap_agent = s->agent_id;
		d->gap_seq = b->seq;
	}

	n = b->nhosts + b->nports + b->npeers + b->nifaces + b->nhealth;
	st = d->st[ST_BATCH_ADD];
	if (sqlite3_bind_int64(st, 1, s->agent_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, s->epoch) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)b->seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, b->first_ts) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, b->last_ts) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, received) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, (int64_t)n) != SQLITE_OK)
		return db_fail(d, st, errstr);
	if (db_done(d, st, errstr) == -1)
		return -1;
	batch_id = sqlite3_last_insert_rowid(d->sql);

	if (db_sections(d, s, b, batch_id, errstr) == -1)
		return -1;
	for (i = 0; i < b->nifaces; i++) {
		const struct proto_iface_rec *r = &b->ifaces[i];

		st = d->st[ST_IFSTAT];
		if (sqlite3_bind_int64(st, 1, r->bucket) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, s->resolution) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, s->iface_id[r->iface]) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, (int64_t)r->frames) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 5, (int64_t)r->frame_bytes) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 6, (int64_t)r->ipv4_packets) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 7, (int64_t)r->ipv6_packets) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 8, (int64_t)r->non_ip_frames) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 9, (int64_t)r->transit_packets) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 10, (int64_t)r->malformed_frames) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 11, batch_id) != SQLITE_OK)
			return db_fail(d, st, errstr);
		if (db_done(d, st, errstr) == -1)
			return -1;
	}
	for (i = 0; i < b->nhealth; i++) {
		const struct proto_health_rec *r = &b->health[i];

		st = d->st[ST_HEALTH];
		if (sqlite3_bind_int64(st, 1, r->bucket) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, s->resolution) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, s->iface_id[r->iface]) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, (int64_t)r->captured) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 5, (int64_t)r->kernel_drops) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 6, (int64_t)r->iface_drops) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 7, (int64_t)r->overflow) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 8, (int64_t)r->malformed) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 9, (int64_t)r->queued) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 10, (int64_t)r->dropped) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 11, batch_id) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 12, (int64_t)b->spooled) != SQLITE_OK)
			return db_fail(d, st, errstr);
		if (db_done(d, st, errstr) == -1)
			return -1;
	}

	st = d->st[ST_AGENT_SEQ];
	if (sqlite3_bind_int64(st, 1, s->agent_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (int64_t)b->seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, received) != SQLITE_OK)
		return db_fail(d, st, errstr);
	if (db_done(d, st, errstr) == -1)
		return -1;
	*what = DB_APPLIED;
	return 0;
}
