/*
 * schema.h - the database layout: tables, indexes, views, migrations.
 *
 * The schema version lives in PRAGMA user_version.  The store migrates a
 * database forward in one transaction; readers (the nettally command)
 * refuse a database whose version they do not know.
 */
#ifndef NETTALLY_SCHEMA_H
#define NETTALLY_SCHEMA_H

#include <sqlite3.h>

/*
 * SQL text of an upsert's SET term adding excluded.col to col, saturating
 * at INT64_MAX: SQLite's + turns an overflowing sum into a REAL, which
 * would break every integer reader (sum() then fails with "integer
 * overflow").  Counters are never negative, so one subtraction bounds
 * the sum, and a REAL left by an older store becomes INT64_MAX.
 */
#define SCHEMA_SAT_ADD(col) \
    col " = CASE WHEN excluded." col " <= 9223372036854775807 - " col \
    " THEN " col " + excluded." col " ELSE 9223372036854775807 END"
/*
 * The SET terms adding an upsert's counters to a row, for the store's
 * upserts (schema.c, db.c) and retention's roll-ups alike.  queued and
 * spooled are gauges: the largest is kept.
 */
#define SCHEMA_HPP_SET \
    SCHEMA_SAT_ADD("packets") ", " SCHEMA_SAT_ADD("bytes") ", " \
    SCHEMA_SAT_ADD("frame_bytes")
#define SCHEMA_IFACE_SET \
    SCHEMA_SAT_ADD("frames") ", " SCHEMA_SAT_ADD("frame_bytes") ", " \
    SCHEMA_SAT_ADD("ipv4_packets") ", " SCHEMA_SAT_ADD("ipv6_packets") \
    ", " SCHEMA_SAT_ADD("non_ip_frames") ", " \
    SCHEMA_SAT_ADD("transit_packets") ", " \
    SCHEMA_SAT_ADD("malformed_frames")
#define SCHEMA_HEALTH_SET \
    SCHEMA_SAT_ADD("captured") ", " SCHEMA_SAT_ADD("kernel_drops") ", " \
    SCHEMA_SAT_ADD("iface_drops") ", " SCHEMA_SAT_ADD("overflow") ", " \
    SCHEMA_SAT_ADD("malformed") ", queued = max(queued, excluded.queued), " \
    SCHEMA_SAT_ADD("dropped") ", spooled = max(spooled, excluded.spooled)"

/*
 * Upserts of one counter row, parameters ?1 bucket, ?2 resolution, ?3
 * iface_id, ?4 host_id, ?5 proto, ?6 direction, ?7 packets, ?8 bytes,
 * ?9 frame_bytes, ?10 batch_id, and ?11 port or peer_id.
 */
extern const char schema_upsert_host[];
extern const char schema_upsert_port[];
extern const char schema_upsert_peer[];

/*
 * The same upserts of SCHEMA_UPSERT_ROWS rows at once: row j's parameter
 * ?N above is parameter j * 10 + N of the host statement, j * 11 + N of
 * the port and peer statements.
 */
#define SCHEMA_UPSERT_ROWS	64
/* SQL text: r (one row's "(?,...)") SCHEMA_UPSERT_ROWS times, with commas. */
#define SCHEMA_ROWS_2(r)	r "," r
#define SCHEMA_ROWS_8(r)	SCHEMA_ROWS_2(SCHEMA_ROWS_2(SCHEMA_ROWS_2(r)))
#define SCHEMA_ROWS(r)		SCHEMA_ROWS_8(SCHEMA_ROWS_8(r))
extern const char schema_upsert_host_rows[];
extern const char schema_upsert_port_rows[];
extern const char schema_upsert_peer_rows[];

/*
 * The page size of a new database (a pragma; see schema.c): run before
 * anything else on a new connection.
 */
extern const char schema_page_size[];

/*
 * Records that table tbl (1 host_stat, 2 port_stat, 3 peer_stat) holds
 * rows of ?2 resolution, ?3 bucket in stat_bucket: ?1 tbl.  Run once per
 * transaction, table and bucket written.
 */
extern const char schema_bucket_add[];

#define SCHEMA_VERSION	4

/*
 * Brings db to SCHEMA_VERSION inside one BEGIN IMMEDIATE transaction.
 * Returns 0, or -1 with *errstr set (static or sqlite-owned text) when the
 * database is newer than this program or a statement fails, and *code
 * the SQLite result code of that failure (0 for a newer database): the
 * ROLLBACK that follows resets the connection's own.
 */
int	schema_migrate(sqlite3 *db, int *code, const char **errstr);

/*
 * Reads the version of db into *version.  Returns 0, or -1 with *errstr.
 */
int	schema_version(sqlite3 *db, int *version, const char **errstr);

#endif
