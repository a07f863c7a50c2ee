/*
 * db.h - THE SQLite connection of nettally-stored.
 *
 * Only the writer thread calls these functions once db_open has returned
 * (db_open and db_close run in the main thread while no writer exists).
 * Every function that changes data runs inside a transaction opened with
 * db_begin; nothing is visible to readers before db_commit.
 */
#ifndef NETTALLY_DB_H
#define NETTALLY_DB_H

#include <stdint.h>

#include "proto.h"

struct db;

/* What a connection learned from its HELLO: the ids its batches use. */
struct db_session {
	int64_t		 agent_id;
	int64_t		 epoch;			/* the HELLO's start_time */
	uint32_t	 resolution;		/* bucket seconds of this run */
	uint32_t	 niface;
	int64_t		 iface_id[PROTO_IFACES_MAX];	/* HELLO index -> iface.id */
};

/* What db_batch did with a batch. */
enum db_apply {
	DB_APPLIED = 0,		/* rows written, agent.last_seq = seq */
	DB_DUPLICATE,		/* seq <= agent.last_seq: already counted */
	/*
	 * seq <= agent.last_seq, but not the batch committed under it (or
	 * none was: it comes after a gap was passed): not counted, logged.
	 */
	DB_CONFLICT,
	DB_STALE,		/* the agent has started a newer epoch since */
};

/*
 * Process-wide SQLite settings for the store, before its first connection
 * opens.  Returns 0, or -1 with *errstr when SQLite is already in use.
 */
int		 db_setup_library(const char **errstr);

/*
 * Opens (creating if needed, with its directory at 0750) the database at
 * path: WAL, synchronous=NORMAL, busy_timeout, foreign_keys, migrated to
 * SCHEMA_VERSION, statements prepared.  Returns the handle, or NULL with
 * one line naming the cause and the fix in err.
 */
struct db	*db_open(const char *path, char *err, size_t errlen);

/* Finalizes the statements and closes the connection.  NULL-safe. */
void		 db_close(struct db *);

/* BEGIN IMMEDIATE / COMMIT.  Return 0, or -1 with *errstr (sqlite text). */
int		 db_begin(struct db *, const char **errstr);
int		 db_commit(struct db *, const char **errstr);
/* ROLLBACK if a transaction is open (SQLite may have rolled back already). */
void		 db_rollback(struct db *);

/*
 * Inside a transaction: finds or creates the agent named in h and its
 * interfaces.  Same epoch (start_time) as stored: *last_seq = agent.last_seq;
 * otherwise the agent starts the new epoch with last_seq 0 and the HELLO's
 * resolution.  Fills *s.  Returns 0, or -1 with *errstr.
 */
int		 db_hello(struct db *, const struct proto_hello *h, int64_t now,
		    struct db_session *s, uint64_t *last_seq, const char **errstr);

/*
 * Inside a transaction: applies one validated batch of session s unless
 * it is a duplicate or stale (*what says which).  Applying inserts the
 * batch row, upserts every record with that batch id and sets
 * agent.last_seq.  Returns 0, or -1 with *errstr.
 */
int		 db_batch(struct db *, const struct db_session *s,
		    const struct proto_batch *b, int64_t received,
		    enum db_apply *what, const char **errstr);

/*
 * The connection itself, for the writer thread's other users of it
 * (retention.c), which keep to the rules above.
 */
struct sqlite3	*db_handle(struct db *);

/*
 * Runs pragma, a "PRAGMA journal_mode" with or without "= WAL", on sql:
 * 1 when the mode in force after it is WAL, 0 when another, -1 when it
 * cannot run (the connection's error says why).
 */
int		 db_is_wal(struct sqlite3 *sql, const char *pragma);

/* Checkpoints the checkpoint thread has completed (checkpoint.c). */
uint64_t	 db_checkpoints(struct db *);

/* Idle: cuts a WAL grown past journal_size_limit, if no reader is on it. */
void		 db_wal_trim(struct db *);

/*
 * db_errcode of a commit refused because the file at the database's path
 * is no longer the one open (removed or replaced): above every SQLite
 * primary result code, so db_fix tells it apart and it is retried, not
 * taken for a failure of the data.
 */
#define DB_ERR_REPLACED	0xfe

/* Primary SQLite result code of the last failure, or DB_ERR_REPLACED. */
int		 db_errcode(const struct db *);

/* One sentence telling the operator how to fix a failure with that code. */
const char	*db_fix(int code);

/*
 * Whether a failure with that code lies in the data the failed statement
 * was given (a constraint or trigger, a column type, a value too big or
 * out of range): the same data fails again however often it is retried,
 * while other data would not.  Every other code (a full or failing disk,
 * a lock, memory, permissions, a damaged file) is the database's state:
 * waited out and retried, never blamed on a batch.
 */
int		 db_data_error(int code);

#endif
