/*
 * schema.c - DDL and ordered migrations of the nettally database.
 *
 * Counter tables are WITHOUT ROWID with the bucket first in the primary
 * key, so a time-range query is a range scan and an upsert touches one
 * b-tree.  Addresses, agents and interfaces are interned to integer ids;
 * the views turn them back into text for readers.  Every counter row
 * carries the id of the last batch that changed it, so an ETL job can pull
 * "every row changed since batch N".
 *
 * migrations[i] takes a database from version i to i + 1.  A released
 * entry is never edited: a change is a new entry.
 */
#include <stddef.h>
#include <stdio.h>

#include "schema.h"

static const char schema_v1[] =
"CREATE TABLE agent ("
"  id          INTEGER PRIMARY KEY,"
"  name        TEXT NOT NULL UNIQUE,"
"  epoch       INTEGER NOT NULL,"		/* start time of current run */
"  last_seq    INTEGER NOT NULL,"		/* last committed seq in epoch */
"  resolution  INTEGER NOT NULL,"
"  first_seen  INTEGER NOT NULL,"
"  last_seen   INTEGER NOT NULL"
");"
"CREATE TABLE iface ("
"  id          INTEGER PRIMARY KEY,"
"  agent_id    INTEGER NOT NULL REFERENCES agent(id),"
"  name        TEXT NOT NULL,"
"  UNIQUE (agent_id, name)"
");"
"CREATE TABLE address ("
"  id          INTEGER PRIMARY KEY,"
"  addr        BLOB NOT NULL UNIQUE,"	/* 1 family byte + 4 or 16 bytes */
"  family      INTEGER NOT NULL,"		/* 4, 6, or 0 for overflow */
"  text        TEXT NOT NULL"
");"
"CREATE TABLE protocol ("
"  number      INTEGER PRIMARY KEY,"
"  name        TEXT NOT NULL"
");"
"INSERT INTO protocol VALUES"
"  (0,'hopopt'),(1,'icmp'),(2,'igmp'),(4,'ipip'),(6,'tcp'),(17,'udp'),"
"  (41,'ipv6'),(43,'ipv6-route'),(44,'ipv6-frag'),(46,'rsvp'),(47,'gre'),"
"  (50,'esp'),(51,'ah'),(58,'icmpv6'),(59,'ipv6-nonxt'),(60,'ipv6-opts'),"
"  (88,'eigrp'),(89,'ospf'),(103,'pim'),(112,'vrrp'),(115,'l2tp'),"
"  (132,'sctp'),(135,'mobility'),(136,'udplite'),(137,'mpls-in-ip');"
"CREATE TABLE batch ("
"  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
"  agent_id    INTEGER NOT NULL REFERENCES agent(id),"
"  epoch       INTEGER NOT NULL,"
"  seq         INTEGER NOT NULL,"
"  first_ts    INTEGER NOT NULL,"
"  last_ts     INTEGER NOT NULL,"
"  received    INTEGER NOT NULL,"
"  nrecords    INTEGER NOT NULL,"
"  UNIQUE (agent_id, epoch, seq)"
");"
"CREATE TABLE host_stat ("
"  bucket      INTEGER NOT NULL,"
"  resolution  INTEGER NOT NULL,"
"  iface_id    INTEGER NOT NULL,"
"  host_id     INTEGER NOT NULL,"
"  proto       INTEGER NOT NULL,"
"  direction   INTEGER NOT NULL,"		/* 0 in, 1 out */
"  packets     INTEGER NOT NULL,"
"  bytes       INTEGER NOT NULL,"
"  frame_bytes INTEGER NOT NULL,"
"  batch_id    INTEGER NOT NULL,"
"  PRIMARY KEY (bucket, iface_id, host_id, proto, direction, resolution)"
") WITHOUT ROWID;"
"CREATE TABLE port_stat ("
"  bucket      INTEGER NOT NULL,"
"  resolution  INTEGER NOT NULL,"
"  iface_id    INTEGER NOT NULL,"
"  host_id     INTEGER NOT NULL,"
"  proto       INTEGER NOT NULL,"
"  port        INTEGER NOT NULL,"
"  direction   INTEGER NOT NULL,"
"  packets     INTEGER NOT NULL,"
"  bytes       INTEGER NOT NULL,"
"  frame_bytes INTEGER NOT NULL,"
"  batch_id    INTEGER NOT NULL,"
"  PRIMARY KEY (bucket, iface_id, host_id, proto, port, direction, resolution)"
") WITHOUT ROWID;"
"CREATE TABLE peer_stat ("
"  bucket      INTEGER NOT NULL,"
"  resolution  INTEGER NOT NULL,"
"  iface_id    INTEGER NOT NULL,"
"  host_id     INTEGER NOT NULL,"
"  peer_id     INTEGER NOT NULL,"
"  proto       INTEGER NOT NULL,"
"  direction   INTEGER NOT NULL,"
"  packets     INTEGER NOT NULL,"
"  bytes       INTEGER NOT NULL,"
"  frame_bytes INTEGER NOT NULL,"
"  batch_id    INTEGER NOT NULL,"
"  PRIMARY KEY (bucket, iface_id, host_id, peer_id, proto, direction, resolution)"
") WITHOUT ROWID;"
"CREATE TABLE iface_stat ("
"  bucket      INTEGER NOT NULL,"
"  resolution  INTEGER NOT NULL,"
"  iface_id    INTEGER NOT NULL,"
"  frames      INTEGER NOT NULL,"
"  frame_bytes INTEGER NOT NULL,"
"  ipv4_packets INTEGER NOT NULL,"
"  ipv6_packets INTEGER NOT NULL,"
"  non_ip_frames INTEGER NOT NULL,"
"  transit_packets INTEGER NOT NULL,"
"  malformed_frames INTEGER NOT NULL,"
"  batch_id    INTEGER NOT NULL,"
"  PRIMARY KEY (bucket, iface_id, resolution)"
") WITHOUT ROWID;"
"CREATE TABLE health_stat ("
"  bucket      INTEGER NOT NULL,"
"  resolution  INTEGER NOT NULL,"
"  iface_id    INTEGER NOT NULL,"
"  captured    INTEGER NOT NULL,"
"  kernel_drops INTEGER NOT NULL,"
"  iface_drops INTEGER NOT NULL,"
"  overflow    INTEGER NOT NULL,"
"  malformed   INTEGER NOT NULL,"
"  queued      INTEGER NOT NULL,"		/* gauge: the largest seen */
"  dropped     INTEGER NOT NULL,"
"  batch_id    INTEGER NOT NULL,"
"  PRIMARY KEY (bucket, iface_id, resolution)"
") WITHOUT ROWID;"
"CREATE INDEX host_stat_batch ON host_stat (batch_id);"
"CREATE INDEX port_stat_batch ON port_stat (batch_id);"
"CREATE INDEX peer_stat_batch ON peer_stat (batch_id);"
"CREATE INDEX iface_stat_batch ON iface_stat (batch_id);"
"CREATE INDEX health_stat_batch ON health_stat (batch_id);"
/* Views: the stable, documented interface for readers. */
"CREATE VIEW host_traffic AS SELECT"
"  s.bucket, strftime('%Y-%m-%dT%H:%M:%SZ', s.bucket, 'unixepoch') AS bucket_time,"
"  s.resolution, a.name AS agent, i.name AS iface, h.text AS host,"
"  CASE h.family WHEN 4 THEN 'ipv4' WHEN 6 THEN 'ipv6' ELSE 'overflow' END AS family,"
"  s.proto, COALESCE(p.name, CAST(s.proto AS TEXT)) AS proto_name,"
"  CASE s.direction WHEN 0 THEN 'in' ELSE 'out' END AS direction,"
"  s.packets, s.bytes, s.frame_bytes, s.batch_id"
"  FROM host_stat s JOIN iface i ON i.id = s.iface_id"
"  JOIN agent a ON a.id = i.agent_id JOIN address h ON h.id = s.host_id"
"  LEFT JOIN protocol p ON p.number = s.proto;"
"CREATE VIEW port_traffic AS SELECT"
"  s.bucket, strftime('%Y-%m-%dT%H:%M:%SZ', s.bucket, 'unixepoch') AS bucket_time,"
"  s.resolution, a.name AS agent, i.name AS iface, h.text AS host,"
"  CASE h.family WHEN 4 THEN 'ipv4' WHEN 6 THEN 'ipv6' ELSE 'overflow' END AS family,"
"  s.proto, COALESCE(p.name, CAST(s.proto AS TEXT)) AS proto_name, s.port,"
"  CASE s.direction WHEN 0 THEN 'in' ELSE 'out' END AS direction,"
"  s.packets, s.bytes, s.frame_bytes, s.batch_id"
"  FROM port_stat s JOIN iface i ON i.id = s.iface_id"
"  JOIN agent a ON a.id = i.agent_id JOIN address h ON h.id = s.host_id"
"  LEFT JOIN protocol p ON p.number = s.proto;"
"CREATE VIEW peer_traffic AS SELECT"
"  s.bucket, strftime('%Y-%m-%dT%H:%M:%SZ', s.bucket, 'unixepoch') AS bucket_time,"
"  s.resolution, a.name AS agent, i.name AS iface, h.text AS host,"
"  CASE h.family WHEN 4 THEN 'ipv4' WHEN 6 THEN 'ipv6' ELSE 'overflow' END AS family,"
"  r.text AS peer, s.proto, COALESCE(p.name, CAST(s.proto AS TEXT)) AS proto_name,"
"  CASE s.direction WHEN 0 THEN 'in' ELSE 'out' END AS direction,"
"  s.packets, s.bytes, s.frame_bytes, s.batch_id"
"  FROM peer_stat s JOIN iface i ON i.id = s.iface_id"
"  JOIN agent a ON a.id = i.agent_id JOIN address h ON h.id = s.host_id"
"  JOIN address r ON r.id = s.peer_id"
"  LEFT JOIN protocol p ON p.number = s.proto;"
"CREATE VIEW interface_traffic AS SELECT"
"  s.bucket, strftime('%Y-%m-%dT%H:%M:%SZ', s.bucket, 'unixepoch') AS bucket_time,"
"  s.resolution, a.name AS agent, i.name AS iface, s.frames, s.frame_bytes,"
"  s.ipv4_packets, s.ipv6_packets, s.non_ip_frames, s.transit_packets,"
"  s.malformed_frames, s.batch_id"
"  FROM iface_stat s JOIN iface i ON i.id = s.iface_id"
"  JOIN agent a ON a.id = i.agent_id;"
"CREATE VIEW agent_health AS SELECT"
"  s.bucket, strftime('%Y-%m-%dT%H:%M:%SZ', s.bucket, 'unixepoch') AS bucket_time,"
"  s.resolution, a.name AS agent, i.name AS iface, s.captured, s.kernel_drops,"
"  s.iface_drops, s.overflow, s.malformed, s.queued, s.dropped, s.batch_id"
"  FROM health_stat s JOIN iface i ON i.id = s.iface_id"
"  JOIN agent a ON a.id = i.agent_id;";

/*
 * Version 2: retention tiers (stored/retention.c).  Roll-ups live in the
 * same tables at resolution 3600 (hourly), 86400 (daily) and 2592000
 * (a calendar month; the bucket is its first second, UTC).  A (resolution,
 * bucket) index per table lets the roll-up find what expired without a
 * scan.  retention_progress says what each source tier has handed on;
 * retention_trim queues roll-up buckets whose ports and peers still need
 * cutting to the top N, with a cursor.  tier_coverage says which times
 * each tier holds (the file's size is PRAGMA page_count * page_size: a
 * view over the pragma functions is refused where trusted_schema is off).
 */
static const char schema_v2[] =
"CREATE INDEX host_stat_tier ON host_stat (resolution, bucket);"
"CREATE INDEX port_stat_tier ON port_stat (resolution, bucket);"
"CREATE INDEX peer_stat_tier ON peer_stat (resolution, bucket);"
"CREATE INDEX iface_stat_tier ON iface_stat (resolution, bucket);"
"CREATE INDEX health_stat_tier ON health_stat (resolution, bucket);"
"INSERT OR IGNORE INTO address (addr, family, text)"
"  VALUES (x'00', 0, 'overflow');"
"CREATE TABLE retention_progress ("
"  resolution  INTEGER PRIMARY KEY,"	/* the source tier */
"  cutoff      INTEGER NOT NULL,"		/* buckets before it are handed on */
"  moved       INTEGER NOT NULL,"		/* rows merged into a coarser tier */
"  expired     INTEGER NOT NULL,"		/* rows past every tier, deleted */
"  trimmed     INTEGER NOT NULL,"		/* rows merged into overflow rows */
"  updated     INTEGER NOT NULL"
");"
"CREATE TABLE retention_trim ("
"  tbl         INTEGER NOT NULL,"		/* 1 port_stat, 2 peer_stat */
"  resolution  INTEGER NOT NULL,"
"  bucket      INTEGER NOT NULL,"
"  iface_id    INTEGER NOT NULL,"		/* cursor: last host done */
"  host_id     INTEGER NOT NULL,"
"  PRIMARY KEY (tbl, resolution, bucket)"
") WITHOUT ROWID;"
"CREATE VIEW tier_coverage AS SELECT"
"  CASE resolution WHEN 3600 THEN 'hourly' WHEN 86400 THEN 'daily'"
"  WHEN 2592000 THEN 'monthly' ELSE 'raw' END AS tier, resolution,"
"  first_bucket, strftime('%Y-%m-%dT%H:%M:%SZ', first_bucket, 'unixepoch')"
"  AS first_time, end_bucket,"
"  strftime('%Y-%m-%dT%H:%M:%SZ', end_bucket, 'unixepoch') AS end_time,"
"  nbuckets FROM (SELECT resolution, min(bucket) AS first_bucket,"
"  CASE resolution WHEN 2592000 THEN CAST(strftime('%s', max(bucket),"
"  'unixepoch', '+1 month') AS INTEGER) ELSE max(bucket) + resolution END"
"  AS end_bucket, count(DISTINCT bucket) AS nbuckets"
"  FROM iface_stat GROUP BY resolution);";

/*
 * Version 3: agent_health.spooled, the agent's spool bytes not yet
 * acknowledged (BATCH key `spooled`, --spool): a gauge, kept as the
 * largest seen, as queued.  0 for older rows and agents without a spool.
 * The view gains it as its last column, so readers that take columns by
 * position keep theirs.
 */
static const char schema_v3[] =
"ALTER TABLE health_stat ADD COLUMN spooled INTEGER NOT NULL DEFAULT 0;"
"DROP VIEW agent_health;"
"CREATE VIEW agent_health AS SELECT"
"  s.bucket, strftime('%Y-%m-%dT%H:%M:%SZ', s.bucket, 'unixepoch') AS bucket_time,"
"  s.resolution, a.name AS agent, i.name AS iface, s.captured, s.kernel_drops,"
"  s.iface_drops, s.overflow, s.malformed, s.queued, s.dropped, s.batch_id,"
"  s.spooled"
"  FROM health_stat s JOIN iface i ON i.id = s.iface_id"
"  JOIN agent a ON a.id = i.agent_id;";

/*
 * Version 4: stat_bucket lists the (resolution, bucket) pairs that
 * host_stat, port_stat and peer_stat hold rows of, in place of their
 * (resolution, bucket) indexes.  Those indexes cost an entry per row, kept
 * by every upsert, about 40 % of the bare upsert's CPU
 * (docs/performance-history.md), while only retention read them, to find
 * a tier's expired rows without scanning coarser tiers.  The writer adds a
 * pair once per batch, table and bucket; a roll-up adds the pairs it moves
 * rows into and removes the pairs it emptied.  A pair may outlive its rows
 * until then: readers of this table check the rows.  iface_stat and
 * health_stat keep their indexes: they hold a row per interface and
 * bucket, not per key.
 */
static const char schema_v4[] =
"CREATE TABLE stat_bucket ("
"  tbl         INTEGER NOT NULL,"		/* 1 host, 2 port, 3 peer_stat */
"  resolution  INTEGER NOT NULL,"
"  bucket      INTEGER NOT NULL,"
"  PRIMARY KEY (tbl, resolution, bucket)"
") WITHOUT ROWID;"
"INSERT INTO stat_bucket SELECT DISTINCT 1, resolution, bucket"
"  FROM host_stat;"
"INSERT INTO stat_bucket SELECT DISTINCT 2, resolution, bucket"
"  FROM port_stat;"
"INSERT INTO stat_bucket SELECT DISTINCT 3, resolution, bucket"
"  FROM peer_stat;"
"DROP INDEX host_stat_tier;"
"DROP INDEX port_stat_tier;"
"DROP INDEX peer_stat_tier;";

/*
 * The writer's entry in stat_bucket (version 4): ?1 the table (1 host, 2
 * port, 3 peer), ?2 resolution, ?3 bucket.  Shared with the floor.
 */
const char schema_bucket_add[] =
    "INSERT INTO stat_bucket (tbl, resolution, bucket) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO NOTHING";

/*
 * The counter upserts.  Their ON CONFLICT columns are the tables' primary
 * keys above, so they live beside them; the store's writer (db.c) and the
 * bench's bare SQLite floor (tests/bench/sqlfloor.c) share them, so the
 * floor always measures exactly the store's statements.
 */
const char schema_upsert_host[] =
    "INSERT INTO host_stat (bucket, resolution, iface_id, host_id, proto,"
    " direction, packets, bytes, frame_bytes, batch_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (bucket, iface_id, host_id, proto, direction, resolution)"
    " DO UPDATE SET " SCHEMA_HPP_SET ", batch_id = excluded.batch_id";
const char schema_upsert_port[] =
    "INSERT INTO port_stat (bucket, resolution, iface_id, host_id, proto,"
    " direction, packets, bytes, frame_bytes, batch_id, port)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (bucket, iface_id, host_id, proto, port, direction,"
    " resolution)"
    " DO UPDATE SET " SCHEMA_HPP_SET ", batch_id = excluded.batch_id";
const char schema_upsert_peer[] =
    "INSERT INTO peer_stat (bucket, resolution, iface_id, host_id, proto,"
    " direction, packets, bytes, frame_bytes, batch_id, peer_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (bucket, iface_id, host_id, peer_id, proto, direction,"
    " resolution)"
    " DO UPDATE SET " SCHEMA_HPP_SET ", batch_id = excluded.batch_id";

/*
 * 16 KiB pages instead of SQLite's 4 KiB: each upsert descends fewer and
 * wider pages of the counter tables (and, before version 4, of their
 * indexes), and a commit writes a quarter as many WAL frames (a pwrite
 * each) for the same rows: the store's CPU per record fell 12 % offline
 * (docs/performance-history.md; 32 and 64 KiB were no better).  It takes
 * effect only on a database that has no table yet and is not yet in WAL
 * mode, and must come before auto_vacuum: the store sets it first thing, so
 * older files keep their 4 KiB (VACUUM in rollback mode converts one).
 */
const char schema_page_size[] = "PRAGMA page_size = 16384";

/*
 * The same upserts, SCHEMA_UPSERT_ROWS rows per statement: one step
 * instead of that many steps, resets and statement starts (the store's
 * CPU per record -8 %; 256 rows were 3 % better still, not kept).
 * Parameters are anonymous, numbered in order: row j's ?N of the
 * single-row statement is parameter j * 10 + N for hosts, j * 11 + N for
 * ports and peers.  A key twice in one statement would update the row
 * its first copy inserted, as two single-row steps do.
 */
_Static_assert(sizeof(SCHEMA_ROWS("?")) == 2 * SCHEMA_UPSERT_ROWS,
    "SCHEMA_ROWS repeats a row SCHEMA_UPSERT_ROWS times");
#define ROW_10		"(?,?,?,?,?,?,?,?,?,?)"
#define ROW_11		"(?,?,?,?,?,?,?,?,?,?,?)"
#define ADD_COUNTS \
    " DO UPDATE SET " SCHEMA_HPP_SET ", batch_id = excluded.batch_id"

const char schema_upsert_host_rows[] =
    "INSERT INTO host_stat (bucket, resolution, iface_id, host_id, proto,"
    " direction, packets, bytes, frame_bytes, batch_id)"
    " VALUES " SCHEMA_ROWS(ROW_10)
    " ON CONFLICT (bucket, iface_id, host_id, proto, direction, resolution)"
    ADD_COUNTS;
const char schema_upsert_port_rows[] =
    "INSERT INTO port_stat (bucket, resolution, iface_id, host_id, proto,"
    " direction, packets, bytes, frame_bytes, batch_id, port)"
    " VALUES " SCHEMA_ROWS(ROW_11)
    " ON CONFLICT (bucket, iface_id, host_id, proto, port, direction,"
    " resolution)"
    ADD_COUNTS;
const char schema_upsert_peer_rows[] =
    "INSERT INTO peer_stat (bucket, resolution, iface_id, host_id, proto,"
    " direction, packets, bytes, frame_bytes, batch_id, peer_id)"
    " VALUES " SCHEMA_ROWS(ROW_11)
    " ON CONFLICT (bucket, iface_id, host_id, peer_id, proto, direction,"
    " resolution)"
    ADD_COUNTS;

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
};

/*
 * Indexes a released migration created that no reader needs, dropped at
 * every open: idempotent, so no schema version of their own (the version
 * says which tables and columns exist; these only ever cost writes).
 * batch_id: no report and no retention step reads it, and an upsert that
 * updates a row moves the row's entry from its old batch to the new one;
 * it cost a quarter of the store's CPU per record
 * (docs/performance-history.md).
 * "Rows changed since batch N" still works, as a scan.
 */
static const char schema_unused[] =
"DROP INDEX IF EXISTS host_stat_batch;"
"DROP INDEX IF EXISTS port_stat_batch;"
"DROP INDEX IF EXISTS peer_stat_batch;"
"DROP INDEX IF EXISTS iface_stat_batch;"
"DROP INDEX IF EXISTS health_stat_batch;";

int
schema_version(sqlite3 *db, int *version, const char **errstr)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		*errstr = sqlite3_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
schema_migrate(sqlite3 *db, int *code, const char **errstr)
{
	static char saved[512];
	char pragma[64];
	int version;
	size_t i;

	*code = 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		*code = sqlite3_errcode(db);
		return -1;
	}
	/* Read the version inside the transaction: another store may race. */
	if (schema_version(db, &version, errstr) == -1) {
		*code = sqlite3_errcode(db);
		goto fail;
	}
	if (version > SCHEMA_VERSION) {
		*errstr = "database schema is newer than this program; "
		    "upgrade nettally";
		goto fail;
	}
	for (i = (size_t)version; i < sizeof(migrations) / sizeof(migrations[0]);
	    i++) {
		if (sqlite3_exec(db, migrations[i], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			*errstr = sqlite3_errmsg(db);
			*code = sqlite3_errcode(db);
			goto fail;
		}
	}
	if (sqlite3_exec(db, schema_unused, NULL, NULL, NULL) != SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		*code = sqlite3_errcode(db);
		goto fail;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
	    SCHEMA_VERSION);
	if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		*code = sqlite3_errcode(db);
		goto fail;
	}
	return 0;
fail:
	/*
	 * ROLLBACK overwrites sqlite3_errmsg's text, which *errstr may point
	 * at: keep a copy.  One migration runs at a time, at start-up.
	 */
	snprintf(saved, sizeof(saved), "%s", *errstr);
	*errstr = saved;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
