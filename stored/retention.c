/*
 * retention.c - retention tiers: roll-up, top-N trimming, expiry, vacuum.
 *
 * Design: one tier per instant.  Roll-ups live in the same counter tables
 * as the agents' rows, at resolution 3600 (hourly), 86400 (daily) and
 * 2592000 (a calendar month, the bucket being its first second UTC); any
 * other resolution is an agent's raw tier.  When a bucket of one tier
 * expires, its rows are MOVED into the coarser tier that still keeps that
 * time: added to the coarser rows and deleted from the finer tier in the
 * same transaction.  So at every commit each counted packet is in exactly
 * one row of one tier, and the existing views and every report that sums
 * them over a time range neither miss nor double count anything: the
 * range reads the one tier that holds each instant, which is the finest
 * tier still keeping it.  (Keeping copies in several tiers would make
 * every reader choose a tier per range; moving makes the choice once,
 * here.)  tier_coverage (schema v2) says which times each tier holds.
 *
 * Invariants:
 * - Roll-up before delete, atomically: the upsert into the coarser tier,
 *   the delete of exactly the rows it summed, the trim queue and the
 *   retention_progress row are one transaction.  A crash (SIGKILL, power)
 *   at any point leaves either the step or nothing; the next run finds
 *   the expired rows still there and finishes the job.  Totals never move.
 * - Bounded steps: a step moves at most step_rows source rows (taken in
 *   (resolution, bucket, key) order, found through the (resolution,
 *   bucket) index of iface_stat and health_stat, or through stat_bucket
 *   (schema v4) and the primary key of host_stat, port_stat and
 *   peer_stat: range scans) or trims hosts until that many rows are
 *   spent (one host's ports or peers of one roll-up bucket at least, as
 *   ranking needs them all), then commits.  The writer runs a step only
 *   when no batch waits or right after a commit, so a batch waits for at
 *   most one step.
 * - Whole coarse buckets: a source tier hands on only buckets before the
 *   start of the coarser bucket that holds now - keep, so a coarse bucket
 *   is filled from complete source buckets (late data aside, below).
 * - Straight to the right tier: a row goes to the finest enabled tier,
 *   coarser than its own resolution, that still keeps its time; a row no
 *   tier keeps any more is deleted (counted in retention_progress.expired).
 * - Top N: in hourly, daily and monthly buckets a host keeps its top_ports
 *   (proto, port) pairs and top_peers peers by bytes; the others are added
 *   into one row per (proto, direction) with port 0 or the overflow peer
 *   (address family 0, text 'overflow'), and deleted, in one transaction:
 *   host totals, protocol and direction totals never change.  Buckets that
 *   received rows are queued in retention_trim and trimmed host by host
 *   (a cursor) once no move is pending.
 * - Late data: a batch for a time already rolled up lands in the raw tier
 *   like any other; the next step finds it expired and adds it to the
 *   tier that holds that time now (and re-queues that bucket for trimming).
 *   Replaying an old capture therefore ends up exactly where live data of
 *   that time would be.
 * - Space: after a step that deleted rows, incremental_vacuum hands at
 *   most RETENTION_VACUUM_PAGES free pages back to the filesystem (the
 *   database is created with auto_vacuum=INCREMENTAL by db.c).  Without it
 *   SQLite still reuses the freed pages, so the file stops growing once
 *   every tier is full either way.
 * - Clock: with data_clock (the default) ages count from the end of the
 *   newest stored bucket that began by the wall clock, never from later
 *   than the wall clock: a database fed from old captures keeps them as
 *   it would keep last week's.  Otherwise they count from the wall clock.
 * - A row's tier is its resolution: an agent running at --resolution 3600
 *   or 86400 writes straight into the hourly or daily tier (kept as long
 *   as that tier or --keep-raw, whichever is longer, trimmed only when it
 *   moves on), and monthly rows stay even if --monthly is later dropped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "clock.h"
#include "log.h"
#include "retention.h"
#include "satsum.h"
#include "schema.h"

#define RETENTION_CHECK_MS	1000	/* idle: look for expired rows */
#define RETENTION_BACKOFF_MS	10000	/* after a failed step */
#define RETENTION_VACUUM_PAGES	"64"	/* per step that deleted */
#define RETENTION_STEP_ROWS	128	/* about 1 ms of work */

enum rtab { RT_HOST, RT_PORT, RT_PEER, RT_IFACE, RT_HEALTH, RT__COUNT };

/* Per counter table: find, move, count, delete (see the macros below). */
enum rq { RQ_NEXT_RES, RQ_PROBE, RQ_MOVE, RQ_MARK, RQ_EXPIRED, RQ_DELETE,
	RQ_BUCKET_ADD, RQ_BUCKET_GC, RQ_TRIM_NEXT, RQ_TRIM_ADD, RQ_TRIM_DEL,
	RQ__COUNT };

/* Statements not tied to one table. */
enum rg { RG_PROGRESS, RG_TRIM_GET, RG_TRIM_CURSOR, RG_TRIM_DONE,
	RG_DATA_NOW, RG_OVERFLOW, RG__COUNT };

/* Rows handed on: merged into a coarser tier, expired, trimmed. */
struct tally {
	uint64_t	 moved;
	uint64_t	 expired;
	uint64_t	 trimmed;
};

struct retention {
	struct db		*db;
	sqlite3			*sql;
	struct retention_conf	 c;
	sqlite3_stmt		*tq[RT__COUNT][RQ__COUNT];
	sqlite3_stmt		*gq[RG__COUNT];
	int64_t			 overflow_id;	/* address.id of 'overflow' */
	int			 vacuum;	/* auto_vacuum is incremental */
	int			 more;		/* the last step left work */
	int64_t			 due_ms;	/* monotonic: next check */
	int			 nfail;
	int			 last_code;
	int			 busy;		/* working since the last log */
	struct tally		 step;		/* this step, until it commits */
	struct tally		 total;		/* committed since start */
};

/* The cutoffs of one source resolution at one instant. */
struct cut {
	int64_t		 cutoff;	/* source buckets before it move */
	int64_t		 hour_min;	/* rows from here go hourly */
	int64_t		 day_min;	/* else from here daily */
	int		 month;		/* else monthly, or expire */
};

static int64_t	floor_res(int64_t, int64_t);
static int64_t	keep_of(const struct retention *, int64_t);
static int	tier_on(const struct retention *, int64_t, int64_t);
static int64_t	next_tier(const struct retention *, int64_t);
static int64_t	tier_cutoff(const struct retention *, int64_t, int64_t);
static void	cut_of(const struct retention *, int64_t, int64_t,
		    struct cut *);
static int	bind_all(sqlite3_stmt *, const int64_t *, int);
static int	run(struct retention *, sqlite3_stmt *, const int64_t *, int,
		    int *);
static int	row(sqlite3_stmt *, const int64_t *, int, int64_t *, int,
		    int *);
static int	progress(struct retention *, int64_t, int64_t, int64_t,
		    int64_t, int64_t, int64_t);
static int	move_table(struct retention *, enum rtab, int64_t, int64_t,
		    int64_t *);
static int	trim_some(struct retention *, int64_t, int64_t *);
static int	data_now(struct retention *, int64_t, int64_t *, int *);
static int	step_work(struct retention *, int64_t, int *, int *);

/*
 * SQL of the counter tables.  ?1 source resolution, ?2 cutoff, ?3 row
 * limit, ?4 first bucket the hourly tier keeps (INT64_MAX: none), ?5 the
 * same for daily, ?6 1 when a monthly tier takes the rest.  The chunk is
 * the first ?3 expired rows in the order of the (resolution, bucket) index
 * (which ends with the rest of the primary key), or for host, port and
 * peer rows in bucket and primary key order, so the move, the trim queue,
 * the expiry count and the delete all see exactly the same rows.
 */
#define CHUNK(tbl, keys) \
	"WITH c AS (SELECT * FROM " tbl " INDEXED BY " tbl "_tier" \
	" WHERE resolution = ?1 AND bucket < ?2" \
	" ORDER BY resolution, bucket, " keys " LIMIT ?3)," CHUNK_TU
/*
 * host_stat, port_stat and peer_stat have no (resolution, bucket) index:
 * stat_bucket (tbl id) lists their buckets, in order, and each bucket's
 * rows are a primary key range, in key order (no sort).  The first ?3
 * expired buckets hold at least ?3 rows unless some are listed but empty;
 * SB_GC drops those from the same first ?3, so the next step gets past
 * them.  Bounded either way: a backlog of expired buckets costs no step
 * more than ?3 of them.
 */
#define SB_FIRST(id) \
	"SELECT bucket FROM stat_bucket WHERE tbl = " id \
	" AND resolution = ?1 AND bucket < ?2 ORDER BY bucket LIMIT ?3"
#define SB_IN(id) \
	" bucket IN (" SB_FIRST(id) ") AND resolution = ?1"
#define SB_CHUNK(tbl, id, keys) \
	"WITH c AS (SELECT * FROM " tbl " WHERE" SB_IN(id) \
	" ORDER BY bucket, " keys " LIMIT ?3)," CHUNK_TU
#define CHUNK_TU \
	" t AS (SELECT *, CASE WHEN bucket >= ?4 THEN 3600" \
	" WHEN bucket >= ?5 THEN 86400 WHEN ?6 THEN 2592000 END AS tres" \
	" FROM c)," \
	" u AS (SELECT *, CASE tres WHEN 2592000 THEN CAST(strftime('%s'," \
	" bucket, 'unixepoch', 'start of month') AS INTEGER)" \
	" ELSE bucket - bucket % tres END AS tb FROM t WHERE tres IS NOT NULL) "

#define SB_NEXT_RES(id) \
	"SELECT min(resolution) FROM stat_bucket WHERE tbl = " id \
	" AND resolution > ?1"
#define SB_PROBE(tbl, id) \
	"SELECT 1 FROM stat_bucket s WHERE s.tbl = " id \
	" AND s.resolution = ?1 AND s.bucket < ?2 AND EXISTS (SELECT 1 FROM " \
	tbl " WHERE bucket = s.bucket AND resolution = ?1) LIMIT 1"
/* The coarser buckets a chunk moves into; the source buckets it emptied. */
#define SB_ADD(chunk, id) \
	chunk "INSERT INTO stat_bucket (tbl, resolution, bucket)" \
	" SELECT DISTINCT " id ", tres, tb FROM u WHERE 1" \
	" ON CONFLICT DO NOTHING"
#define SB_GC(tbl, id) \
	"DELETE FROM stat_bucket WHERE tbl = " id " AND resolution = ?1" \
	" AND bucket IN (" SB_FIRST(id) ") AND NOT EXISTS (SELECT 1 FROM " \
	tbl " WHERE bucket = stat_bucket.bucket AND resolution = ?1)"
#define SB_DELETE(tbl, id, keys) \
	"WITH c AS (SELECT bucket, resolution, " keys " FROM " tbl \
	" WHERE" SB_IN(id) " ORDER BY bucket, " keys " LIMIT ?3)" \
	" DELETE FROM " tbl " WHERE (bucket, " keys ", resolution) IN" \
	" (SELECT bucket, " keys ", resolution FROM c)"
#define NEXT_RES(tbl) \
	"SELECT min(resolution) FROM " tbl " INDEXED BY " tbl "_tier" \
	" WHERE resolution > ?1"
#define PROBE(tbl) \
	"SELECT 1 FROM " tbl " INDEXED BY " tbl "_tier" \
	" WHERE resolution = ?1 AND bucket < ?2 LIMIT 1"
#define MOVE(chunk, tbl, keys, cols, sums, set) \
	chunk "INSERT INTO " tbl " (bucket, resolution, " keys ", " \
	cols ", batch_id) SELECT tb, tres, " keys ", " sums ", max(batch_id)" \
	" FROM u WHERE 1 GROUP BY tb, tres, " keys \
	" ON CONFLICT (bucket, " keys ", resolution) DO UPDATE SET " set \
	", batch_id = max(batch_id, excluded.batch_id)"
#define MARK(chunk) \
	chunk "INSERT INTO retention_trim (tbl, resolution, bucket," \
	" iface_id, host_id) SELECT DISTINCT ?7, tres, tb, -1, -1 FROM u" \
	" WHERE 1 ON CONFLICT (tbl, resolution, bucket)" \
	" DO UPDATE SET iface_id = -1, host_id = -1"
#define EXPIRED(chunk) \
	chunk "SELECT count(*) FROM t WHERE tres IS NULL"
#define DELETE(tbl, keys) \
	"WITH c AS (SELECT bucket, resolution, " keys " FROM " tbl \
	" INDEXED BY " tbl "_tier WHERE resolution = ?1 AND bucket < ?2" \
	" ORDER BY resolution, bucket, " keys " LIMIT ?3)" \
	" DELETE FROM " tbl " WHERE (bucket, " keys ", resolution) IN" \
	" (SELECT bucket, " keys ", resolution FROM c)"
#define TRIM_NEXT(tbl) \
	"SELECT iface_id, host_id FROM " tbl " WHERE bucket = ?1" \
	" AND resolution = ?2 AND (iface_id, host_id) > (?3, ?4)" \
	" ORDER BY iface_id, host_id LIMIT 1"

#define HPP_COLS	"packets, bytes, frame_bytes"
#define HPP_SUMS	"nt_sum(packets), nt_sum(bytes), nt_sum(frame_bytes)"
#define HOST_KEYS	"iface_id, host_id, proto, direction"
#define PORT_KEYS	"iface_id, host_id, proto, port, direction"
#define PEER_KEYS	"iface_id, host_id, peer_id, proto, direction"
#define IFACE_COLS	"frames, frame_bytes, ipv4_packets, ipv6_packets," \
			" non_ip_frames, transit_packets, malformed_frames"
#define IFACE_SUMS	"nt_sum(frames), nt_sum(frame_bytes)," \
			" nt_sum(ipv4_packets), nt_sum(ipv6_packets)," \
			" nt_sum(non_ip_frames), nt_sum(transit_packets)," \
			" nt_sum(malformed_frames)"
/* queued, spooled: gauges; the roll-up keeps the largest, as upserts do. */
#define HEALTH_COLS	"captured, kernel_drops, iface_drops, overflow," \
			" malformed, queued, dropped, spooled"
#define HEALTH_SUMS	"nt_sum(captured), nt_sum(kernel_drops)," \
			" nt_sum(iface_drops), nt_sum(overflow)," \
			" nt_sum(malformed), max(queued), nt_sum(dropped)," \
			" max(spooled)"

/*
 * Trimming one host of one roll-up bucket: ?1 bucket, ?2 resolution,
 * ?3 iface_id, ?4 host_id, ?5 N, ?6 the overflow address id.  Ranking by
 * bytes, ties by key, excludes the overflow slot itself, so running the
 * ranking again after the add (for the delete) evicts the same keys.
 */
#define PEER_EVICT \
	"WITH tot AS (SELECT peer_id, nt_sum(bytes) AS b FROM peer_stat" \
	" WHERE bucket = ?1 AND iface_id = ?3 AND host_id = ?4" \
	" AND resolution = ?2 AND peer_id <> ?6 GROUP BY peer_id)," \
	" ev AS (SELECT peer_id FROM (SELECT peer_id, row_number()" \
	" OVER (ORDER BY b DESC, peer_id) AS rk FROM tot) WHERE rk > ?5) "
#define PEER_WHERE \
	" WHERE bucket = ?1 AND iface_id = ?3 AND host_id = ?4" \
	" AND resolution = ?2 AND peer_id IN ev"
#define PORT_EVICT \
	"WITH tot AS (SELECT proto, port, nt_sum(bytes) AS b FROM port_stat" \
	" WHERE bucket = ?1 AND iface_id = ?3 AND host_id = ?4" \
	" AND resolution = ?2 AND port <> 0 GROUP BY proto, port)," \
	" ev AS (SELECT proto, port FROM (SELECT proto, port, row_number()" \
	" OVER (ORDER BY b DESC, proto, port) AS rk FROM tot)" \
	" WHERE rk > ?5) "
#define PORT_WHERE \
	" WHERE bucket = ?1 AND iface_id = ?3 AND host_id = ?4" \
	" AND resolution = ?2 AND (proto, port) IN (SELECT proto, port" \
	" FROM ev)"

static const char *const tsql[RT__COUNT][RQ__COUNT] = {
	[RT_HOST] = {
		[RQ_NEXT_RES] = SB_NEXT_RES("1"),
		[RQ_PROBE] = SB_PROBE("host_stat", "1"),
		[RQ_MOVE] = MOVE(SB_CHUNK("host_stat", "1", HOST_KEYS),
		    "host_stat", HOST_KEYS, HPP_COLS, HPP_SUMS,
		    SCHEMA_HPP_SET),
		[RQ_EXPIRED] = EXPIRED(SB_CHUNK("host_stat", "1", HOST_KEYS)),
		[RQ_DELETE] = SB_DELETE("host_stat", "1", HOST_KEYS),
		[RQ_BUCKET_ADD] = SB_ADD(SB_CHUNK("host_stat", "1",
		    HOST_KEYS), "1"),
		[RQ_BUCKET_GC] = SB_GC("host_stat", "1"),
	},
	[RT_PORT] = {
		[RQ_NEXT_RES] = SB_NEXT_RES("2"),
		[RQ_PROBE] = SB_PROBE("port_stat", "2"),
		[RQ_MOVE] = MOVE(SB_CHUNK("port_stat", "2", PORT_KEYS),
		    "port_stat", PORT_KEYS, HPP_COLS, HPP_SUMS,
		    SCHEMA_HPP_SET),
		[RQ_MARK] = MARK(SB_CHUNK("port_stat", "2", PORT_KEYS)),
		[RQ_EXPIRED] = EXPIRED(SB_CHUNK("port_stat", "2", PORT_KEYS)),
		[RQ_DELETE] = SB_DELETE("port_stat", "2", PORT_KEYS),
		[RQ_BUCKET_ADD] = SB_ADD(SB_CHUNK("port_stat", "2",
		    PORT_KEYS), "2"),
		[RQ_BUCKET_GC] = SB_GC("port_stat", "2"),
		[RQ_TRIM_NEXT] = TRIM_NEXT("port_stat"),
		[RQ_TRIM_ADD] = PORT_EVICT "INSERT INTO port_stat (bucket,"
		    " resolution, iface_id, host_id, proto, port, direction, "
		    HPP_COLS ", batch_id) SELECT ?1, ?2, ?3, ?4, proto, 0,"
		    " direction, " HPP_SUMS ", max(batch_id) FROM port_stat"
		    PORT_WHERE " GROUP BY proto, direction"
		    " ON CONFLICT (bucket, " PORT_KEYS ", resolution)"
		    " DO UPDATE SET " SCHEMA_HPP_SET ","
		    " batch_id = max(batch_id, excluded.batch_id)",
		[RQ_TRIM_DEL] = PORT_EVICT "DELETE FROM port_stat" PORT_WHERE,
	},
	[RT_PEER] = {
		[RQ_NEXT_RES] = SB_NEXT_RES("3"),
		[RQ_PROBE] = SB_PROBE("peer_stat", "3"),
		[RQ_MOVE] = MOVE(SB_CHUNK("peer_stat", "3", PEER_KEYS),
		    "peer_stat", PEER_KEYS, HPP_COLS, HPP_SUMS,
		    SCHEMA_HPP_SET),
		[RQ_MARK] = MARK(SB_CHUNK("peer_stat", "3", PEER_KEYS)),
		[RQ_EXPIRED] = EXPIRED(SB_CHUNK("peer_stat", "3", PEER_KEYS)),
		[RQ_DELETE] = SB_DELETE("peer_stat", "3", PEER_KEYS),
		[RQ_BUCKET_ADD] = SB_ADD(SB_CHUNK("peer_stat", "3",
		    PEER_KEYS), "3"),
		[RQ_BUCKET_GC] = SB_GC("peer_stat", "3"),
		[RQ_TRIM_NEXT] = TRIM_NEXT("peer_stat"),
		[RQ_TRIM_ADD] = PEER_EVICT "INSERT INTO peer_stat (bucket,"
		    " resolution, iface_id, host_id, peer_id, proto, direction, "
		    HPP_COLS ", batch_id) SELECT ?1, ?2, ?3, ?4, ?6, proto,"
		    " direction, " HPP_SUMS ", max(batch_id) FROM peer_stat"
		    PEER_WHERE " GROUP BY proto, direction"
		    " ON CONFLICT (bucket, " PEER_KEYS ", resolution)"
		    " DO UPDATE SET " SCHEMA_HPP_SET ","
		    " batch_id = max(batch_id, excluded.batch_id)",
		[RQ_TRIM_DEL] = PEER_EVICT "DELETE FROM peer_stat" PEER_WHERE,
	},
	[RT_IFACE] = {
		[RQ_NEXT_RES] = NEXT_RES("iface_stat"),
		[RQ_PROBE] = PROBE("iface_stat"),
		[RQ_MOVE] = MOVE(CHUNK("iface_stat", "iface_id"), "iface_stat",
		    "iface_id", IFACE_COLS, IFACE_SUMS, SCHEMA_IFACE_SET),
		[RQ_EXPIRED] = EXPIRED(CHUNK("iface_stat", "iface_id")),
		[RQ_DELETE] = DELETE("iface_stat", "iface_id"),
	},
	[RT_HEALTH] = {
		[RQ_NEXT_RES] = NEXT_RES("health_stat"),
		[RQ_PROBE] = PROBE("health_stat"),
		[RQ_MOVE] = MOVE(CHUNK("health_stat", "iface_id"),
		    "health_stat", "iface_id", HEALTH_COLS, HEALTH_SUMS,
		    SCHEMA_HEALTH_SET),
		[RQ_EXPIRED] = EXPIRED(CHUNK("health_stat", "iface_id")),
		[RQ_DELETE] = DELETE("health_stat", "iface_id"),
	},
};

/* retention_trim.tbl of the tables trimmed to the top N, else 0. */
static const int trim_id[RT__COUNT] = { [RT_PORT] = 1, [RT_PEER] = 2 };

static const char *const gsql[RG__COUNT] = {
	[RG_PROGRESS] =
	    "INSERT INTO retention_progress (resolution, cutoff, moved,"
	    " expired, trimmed, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (resolution) DO UPDATE SET"
	    " cutoff = max(cutoff, excluded.cutoff),"
	    " moved = moved + excluded.moved,"
	    " expired = expired + excluded.expired,"
	    " trimmed = trimmed + excluded.trimmed,"
	    " updated = excluded.updated",
	[RG_TRIM_GET] =
	    "SELECT tbl, resolution, bucket, iface_id, host_id"
	    " FROM retention_trim LIMIT 1",
	[RG_TRIM_CURSOR] =
	    "UPDATE retention_trim SET iface_id = ?4, host_id = ?5"
	    " WHERE tbl = ?1 AND resolution = ?2 AND bucket = ?3",
	[RG_TRIM_DONE] =
	    "DELETE FROM retention_trim"
	    " WHERE tbl = ?1 AND resolution = ?2 AND bucket = ?3",
	[RG_DATA_NOW] =
	    "SELECT bucket + resolution FROM iface_stat WHERE bucket <= ?1"
	    " ORDER BY bucket DESC LIMIT 1",
	[RG_OVERFLOW] =
	    "SELECT id FROM address WHERE addr = x'00'",
};

void
retention_conf_default(struct retention_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->keep_raw = 7 * 86400;
	c->keep_hourly = 90 * 86400;
	c->keep_daily = 5 * 365 * 86400;
	c->monthly = 0;
	c->top_ports = 100;
	c->top_peers = 100;
	c->data_clock = 1;
	c->step_rows = RETENTION_STEP_ROWS;
}

int
retention_parse_duration(const char *s, int64_t *secs)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }, { 'y', 365 * 86400 },
	};
	char *end;
	long long v;
	int64_t mul = 1;
	size_t i;

	if (strcmp(s, "off") == 0) {
		*secs = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].unit == *end)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		mul = units[i].secs;
	}
	/* 1000 years keeps every sum below INT64_MAX. */
	if (v < 0 || v > 1000LL * 365 * 86400 / mul)
		return -1;
	*secs = (int64_t)v * mul;
	return 0;
}

/* Start of the bucket of resolution res holding t (t < 0 gives 0). */
static int64_t
floor_res(int64_t t, int64_t res)
{
	struct tm tm;
	time_t tt;

	if (t <= 0)
		return 0;
	if (res != RETENTION_RES_MONTH)
		return t - t % res;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL)
		return 0;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm);
}

/*
 * How long the tier of rows at resolution res keeps them; -1: forever.
 * Rows at an hour or a day may be an agent's own buckets (--resolution
 * 3600 or 86400), raw data that --keep-raw promises to keep even when
 * that roll-up tier is off: the longer of the two.
 */
static int64_t
keep_of(const struct retention *r, int64_t res)
{
	switch (res) {
	case RETENTION_RES_HOUR:
		return r->c.keep_hourly > r->c.keep_raw ? r->c.keep_hourly :
		    r->c.keep_raw;
	case RETENTION_RES_DAY:
		return r->c.keep_daily > r->c.keep_raw ? r->c.keep_daily :
		    r->c.keep_raw;
	case RETENTION_RES_MONTH:
		return -1;
	default:
		return r->c.keep_raw;
	}
}

/* Whether roll-up tier tres is enabled and coarser than resolution res. */
static int
tier_on(const struct retention *r, int64_t tres, int64_t res)
{
	if (tres <= res)
		return 0;
	switch (tres) {
	case RETENTION_RES_HOUR:
		return r->c.keep_hourly > 0;
	case RETENTION_RES_DAY:
		return r->c.keep_daily > 0;
	default:
		return r->c.monthly;
	}
}

/* The finest enabled tier coarser than res, or 0 when there is none. */
static int64_t
next_tier(const struct retention *r, int64_t res)
{
	static const int64_t tiers[] = { RETENTION_RES_HOUR,
	    RETENTION_RES_DAY, RETENTION_RES_MONTH };
	size_t i;

	for (i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
		if (tier_on(r, tiers[i], res))
			return tiers[i];
	return 0;
}

/*
 * First bucket the tier of resolution res still keeps at now: the start
 * of the next tier's bucket holding now - keep (whole buckets move on), or
 * of its own bucket when nothing coarser is enabled.
 */
static int64_t
tier_cutoff(const struct retention *r, int64_t res, int64_t now)
{
	int64_t keep = keep_of(r, res), next;

	if (keep < 0)
		return 0;
	next = next_tier(r, res);
	return floor_res(now - keep, next != 0 ? next : res);
}

static void
cut_of(const struct retention *r, int64_t res, int64_t now, struct cut *k)
{
	k->cutoff = tier_cutoff(r, res, now);
	k->hour_min = tier_on(r, RETENTION_RES_HOUR, res) ?
	    tier_cutoff(r, RETENTION_RES_HOUR, now) : INT64_MAX;
	k->day_min = tier_on(r, RETENTION_RES_DAY, res) ?
	    tier_cutoff(r, RETENTION_RES_DAY, now) : INT64_MAX;
	k->month = tier_on(r, RETENTION_RES_MONTH, res);
}

struct retention *
retention_new(struct db *d, const struct retention_conf *c,
    const char **errstr)
{
	struct retention *r;
	sqlite3_stmt *st;
	size_t i, j;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		*errstr = "retention: out of memory";
		return NULL;
	}
	r->db = d;
	r->sql = db_handle(d);
	/* Its roll-ups add counters with nt_sum (satsum.h). */
	if (satsum_register(r->sql) != SQLITE_OK) {
		*errstr = "retention: cannot register its SQL function";
		free(r);
		return NULL;
	}
	r->c = *c;
	if (r->c.step_rows == 0)
		r->c.step_rows = RETENTION_STEP_ROWS;
	for (i = 0; i < RT__COUNT; i++)
		for (j = 0; j < RQ__COUNT; j++) {
			if (tsql[i][j] == NULL)
				continue;
			if (sqlite3_prepare_v3(r->sql, tsql[i][j], -1,
			    SQLITE_PREPARE_PERSISTENT, &r->tq[i][j], NULL) !=
			    SQLITE_OK)
				goto fail;
		}
	for (i = 0; i < RG__COUNT; i++)
		if (sqlite3_prepare_v3(r->sql, gsql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &r->gq[i], NULL) != SQLITE_OK)
			goto fail;

	st = r->gq[RG_OVERFLOW];
	rc = sqlite3_step(st);
	r->overflow_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		/* Schema v2 inserts it: its absence is a damaged database. */
		*errstr = "retention: the overflow address is missing";
		retention_free(r);
		return NULL;
	}
	if (sqlite3_prepare_v2(r->sql, "PRAGMA auto_vacuum", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	r->vacuum = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == 2;
	sqlite3_finalize(st);
	r->more = 1;		/* look at once */
	return r;
fail:
	*errstr = sqlite3_errmsg(r->sql);
	retention_free(r);
	return NULL;
}

void
retention_free(struct retention *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < RT__COUNT; i++)
		for (j = 0; j < RQ__COUNT; j++)
			sqlite3_finalize(r->tq[i][j]);
	for (i = 0; i < RG__COUNT; i++)
		sqlite3_finalize(r->gq[i]);
	free(r);
}

int64_t
retention_wait_ms(const struct retention *r)
{
	int64_t left;

	if (r->more && r->nfail == 0)
		return 0;
	left = r->due_ms - clock_mono_ms();
	return left > 0 ? left : 0;
}

/* Binds vals to ?1.. as far as st has parameters (statements share lists). */
static int
bind_all(sqlite3_stmt *st, const int64_t *vals, int n)
{
	int i, np = sqlite3_bind_parameter_count(st);

	for (i = 0; i < n && i < np; i++)
		if (sqlite3_bind_int64(st, i + 1, vals[i]) != SQLITE_OK)
			return -1;
	return 0;
}

/* Steps a statement that returns no row; *changes gets its changes. */
static int
run(struct retention *r, sqlite3_stmt *st, const int64_t *vals, int n,
    int *changes)
{
	int rc;

	if (bind_all(st, vals, n) == -1) {
		sqlite3_reset(st);
		return -1;
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (changes != NULL)
		*changes = sqlite3_changes(r->sql);
	return 0;
}

/*
 * Steps a statement returning at most one row of ncol integers into out;
 * *found says whether there was a row (a NULL first column is none).
 */
static int
row(sqlite3_stmt *st, const int64_t *vals, int n, int64_t *out, int ncol,
    int *found)
{
	int i, rc;

	if (bind_all(st, vals, n) == -1) {
		sqlite3_reset(st);
		return -1;
	}
	rc = sqlite3_step(st);
	*found = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*found = 1;
		for (i = 0; i < ncol; i++)
			out[i] = sqlite3_column_int64(st, i);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
progress(struct retention *r, int64_t res, int64_t cutoff, int64_t moved,
    int64_t expired, int64_t trimmed, int64_t now)
{
	const int64_t v[] = { res, cutoff, moved, expired, trimmed, now };

	return run(r, r->gq[RG_PROGRESS], v, 6, NULL);
}

/*
 * Moves at most *budget expired rows of table t at source resolutions
 * (all of them in turn), taking what it moved off *budget.
 */
static int
move_table(struct retention *r, enum rtab t, int64_t now, int64_t wall,
    int64_t *budget)
{
	struct cut k;
	int64_t res = 0, v[7], nexp, one;
	int found, n;

	while (*budget > 0) {
		v[0] = res;
		if (row(r->tq[t][RQ_NEXT_RES], v, 1, &res, 1, &found) == -1)
			return -1;
		if (!found)
			return 0;
		if (keep_of(r, res) < 0)
			continue;		/* monthly: kept forever */
		cut_of(r, res, now, &k);
		v[0] = res;
		v[1] = k.cutoff;
		v[2] = *budget;
		v[3] = k.hour_min;
		v[4] = k.day_min;
		v[5] = k.month;
		v[6] = trim_id[t];
		if (row(r->tq[t][RQ_PROBE], v, 2, &one, 1, &found) == -1)
			return -1;
		if (!found)
			continue;
		/* With a monthly tier every row has a home. */
		nexp = 0;
		if (!k.month && row(r->tq[t][RQ_EXPIRED], v, 6, &nexp, 1,
		    &found) == -1)
			return -1;
		if (run(r, r->tq[t][RQ_MOVE], v, 6, NULL) == -1)
			return -1;
		if (r->tq[t][RQ_BUCKET_ADD] != NULL &&
		    run(r, r->tq[t][RQ_BUCKET_ADD], v, 6, NULL) == -1)
			return -1;
		if (r->tq[t][RQ_MARK] != NULL &&
		    (t == RT_PORT ? r->c.top_ports : r->c.top_peers) > 0 &&
		    run(r, r->tq[t][RQ_MARK], v, 7, NULL) == -1)
			return -1;
		if (run(r, r->tq[t][RQ_DELETE], v, 3, &n) == -1)
			return -1;
		if (r->tq[t][RQ_BUCKET_GC] != NULL &&
		    run(r, r->tq[t][RQ_BUCKET_GC], v, 3, NULL) == -1)
			return -1;
		if (progress(r, res, k.cutoff, n - nexp, nexp, 0, wall) == -1)
			return -1;
		r->step.moved += (uint64_t)(n - nexp);
		r->step.expired += (uint64_t)nexp;
		*budget -= n > 0 ? n : 1;
	}
	return 0;
}

/* Trims queued roll-up buckets host by host until *budget is spent. */
static int
trim_some(struct retention *r, int64_t wall, int64_t *budget)
{
	int64_t q[5], v[6], next[2];
	enum rtab t;
	int found, n;
	uint32_t top;

	while (*budget > 0) {
		if (row(r->gq[RG_TRIM_GET], NULL, 0, q, 5, &found) == -1)
			return -1;
		if (!found)
			return 0;
		t = q[0] == 1 ? RT_PORT : RT_PEER;
		top = t == RT_PORT ? r->c.top_ports : r->c.top_peers;
		v[0] = q[2];		/* bucket */
		v[1] = q[1];		/* resolution */
		v[2] = q[3];		/* cursor */
		v[3] = q[4];
		found = 0;
		if (top > 0 && row(r->tq[t][RQ_TRIM_NEXT], v, 4, next, 2,
		    &found) == -1)
			return -1;
		if (!found) {
			/* Every host done (or no top N any more). */
			if (run(r, r->gq[RG_TRIM_DONE], q, 3, NULL) == -1)
				return -1;
			*budget -= 1;
			continue;
		}
		v[2] = next[0];
		v[3] = next[1];
		v[4] = top;
		v[5] = r->overflow_id;
		if (run(r, r->tq[t][RQ_TRIM_ADD], v, 6, NULL) == -1 ||
		    run(r, r->tq[t][RQ_TRIM_DEL], v, 6, &n) == -1)
			return -1;
		q[3] = next[0];
		q[4] = next[1];
		if (run(r, r->gq[RG_TRIM_CURSOR], q, 5, NULL) == -1 ||
		    (n > 0 && progress(r, q[1], 0, 0, 0, n, wall) == -1))
			return -1;
		r->step.trimmed += (uint64_t)n;
		*budget -= 1 + n;
	}
	return 0;
}

/*
 * The end of the newest stored bucket that began by the wall clock, for
 * data_clock: one bucket from the future (a corrupt capture time, an
 * agent's clock years ahead) is passed over, or it would make the clock
 * the wall clock's and expire a replayed old capture it came with.
 */
static int
data_now(struct retention *r, int64_t wall, int64_t *now, int *found)
{
	return row(r->gq[RG_DATA_NOW], &wall, 1, now, 1, found);
}

/*
 * The body of a step, inside its transaction.  *more: work is left;
 * *did: something changed.
 */
static int
step_work(struct retention *r, int64_t wall, int *more, int *did)
{
	int64_t budget = r->c.step_rows, now = wall;
	int found;
	size_t t;

	*more = 0;
	*did = 0;
	if (r->c.data_clock) {
		if (data_now(r, wall, &now, &found) == -1)
			return -1;
		if (!found)
			return 0;
		/* The bucket under way ends later. */
		if (now > wall)
			now = wall;
	}
	for (t = 0; t < RT__COUNT && budget > 0; t++)
		if (move_table(r, (enum rtab)t, now, wall, &budget) == -1)
			return -1;
	/* Trim only once every move is done: the buckets are then whole. */
	if (budget > 0 && trim_some(r, wall, &budget) == -1)
		return -1;
	*more = budget <= 0;
	*did = budget < (int64_t)r->c.step_rows;
	if (*did && r->vacuum &&
	    sqlite3_exec(r->sql, "PRAGMA incremental_vacuum("
	    RETENTION_VACUUM_PAGES ")", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

int
retention_step(struct retention *r, int64_t now)
{
	const char *errstr = NULL;
	char msg[256];
	int64_t t0 = clock_mono_ms();
	int code, more = 0, did = 0, rc;

	memset(&r->step, 0, sizeof(r->step));
	rc = db_begin(r->db, &errstr);
	if (rc == 0 && step_work(r, now, &more, &did) == -1) {
		errstr = sqlite3_errmsg(r->sql);
		rc = -1;
	} else if (rc == 0)
		rc = db_commit(r->db, &errstr);
	if (rc == -1) {
		/* ROLLBACK replaces sqlite's message and code: keep them. */
		code = sqlite3_errcode(r->sql);
		snprintf(msg, sizeof(msg), "%s", errstr);
		db_rollback(r->db);
		if (r->nfail++ == 0 || code != r->last_code)
			log_err("retention: step failed: %s; %s; retrying in "
			    "%d s", msg, db_fix(code),
			    RETENTION_BACKOFF_MS / 1000);
		r->last_code = code;
		r->more = 1;
		r->due_ms = clock_mono_ms() + RETENTION_BACKOFF_MS;
		return -1;
	}
	if (r->nfail > 0)
		log_info("retention: working again after %d failed steps",
		    r->nfail);
	r->nfail = 0;
	r->last_code = 0;
	r->more = more;
	r->total.moved += r->step.moved;
	r->total.expired += r->step.expired;
	r->total.trimmed += r->step.trimmed;
	if (did) {
		/*
		 * A catch-up of months of rows takes minutes; before, the
		 * log said nothing until it was over.
		 */
		if (!r->busy)
			log_info("retention: rolling up rows older than their "
			    "tier keeps (a line when caught up)");
		r->busy = 1;
		log_debug("retention: step: %llu rows in %lld ms",
		    (unsigned long long)(r->step.moved + r->step.expired +
		    r->step.trimmed), (long long)(clock_mono_ms() - t0));
	}
	if (!more) {
		if (r->busy)
			log_info("retention: caught up: %llu rows rolled up, "
			    "%llu expired, %llu trimmed into overflow rows",
			    (unsigned long long)r->total.moved,
			    (unsigned long long)r->total.expired,
			    (unsigned long long)r->total.trimmed);
		r->busy = 0;
		r->due_ms = clock_mono_ms() + RETENTION_CHECK_MS;
	}
	return 0;
}
