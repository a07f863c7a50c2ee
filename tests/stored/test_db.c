/*
 * test_db.c - stored/db.c against a temporary database: HELLO, batches,
 * upserts, duplicates, epochs, batch ids, overflow rows, and what the
 * views show a reader (every column compared as text); records in
 * scattered order keep their own counters through the key-order sort
 * and the multi-row upserts; the unused batch_id indexes are gone, also
 * from an older database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "scratch.h"
#include "proto.h"
#include "schema.h"

#define T_BUCKET	1700000040	/* multiple of 60: 2023-11-14T22:14:00Z */
#define T_BUCKET_TEXT	"2023-11-14T22:14:00Z"
#define T_START		1699990000
#define T_NREC		60		/* records per kind, scattered batch */
/* Records per kind of a big batch: thousands of new addresses, many of
   the intern's 64-address inserts and of the 64-row upserts. */
#define T_NBIG		6000
/* j of an address 10.x.(j >> 8).(j & 255) in a view's text column c. */
#define T_J(c)	"(CAST(substr(substr(" c ", 6), 1, instr(substr(" c ", 6),"  \
		" '.') - 1) AS INTEGER) * 256 + CAST(substr(substr(" c ", 6),"  \
		" instr(substr(" c ", 6), '.') + 1) AS INTEGER))"

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct db	*db;
	sqlite3		*rd;		/* a reader's connection */
};

static struct proto_host_rec	t_host;
static struct proto_port_rec	t_port;
static struct proto_peer_rec	t_peer;
static struct proto_iface_rec	t_iface;
static struct proto_health_rec	t_health;

static int
setup(void **state)
{
	struct fixture *f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	scratch_dir(f->dir, sizeof(f->dir), "db");
	/* The sub-directory does not exist: db_open must create it. */
	snprintf(f->path, sizeof(f->path), "%s/sub/nettally.db", f->dir);
	f->db = scratch_db(f->path);
	assert_int_equal(sqlite3_open_v2(f->path, &f->rd, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sqlite3_close(f->rd);
	db_close(f->db);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

/* One committed HELLO. */
static void
hello(struct fixture *f, const char *name, int64_t start, uint32_t res,
    struct db_session *s, uint64_t *last)
{
	struct proto_hello h;
	const char *errstr = NULL;

	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION;
	snprintf(h.name, sizeof(h.name), "%s", name);
	h.niface = 2;
	strcpy(h.iface[0], "eth0");
	strcpy(h.iface[1], "wlan0");
	h.resolution = res;
	h.start_time = start;
	assert_int_equal(db_begin(f->db, &errstr), 0);
	if (db_hello(f->db, &h, T_BUCKET + 5, s, last, &errstr) == -1)
		fail_msg("db_hello: %s", errstr);
	assert_int_equal(db_commit(f->db, &errstr), 0);
}

/* One committed batch; returns what db_batch did. */
static enum db_apply
apply(struct fixture *f, const struct db_session *s, struct proto_batch *b)
{
	enum db_apply what;
	const char *errstr = NULL;

	assert_int_equal(db_begin(f->db, &errstr), 0);
	if (db_batch(f->db, s, b, T_BUCKET + 70, &what, &errstr) == -1)
		fail_msg("db_batch: %s", errstr);
	assert_int_equal(db_commit(f->db, &errstr), 0);
	return what;
}

/*
 * b's commit refused because the file at the database's path is not the
 * one opened: DB_ERR_REPLACED, its message naming why, rolled back.
 */
static void
commit_refused(struct fixture *f, const struct db_session *s,
    struct proto_batch *b, const char *why)
{
	enum db_apply what;
	const char *errstr = NULL;

	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(db_batch(f->db, s, b, T_BUCKET + 70, &what,
	    &errstr), 0);
	assert_int_equal(db_commit(f->db, &errstr), -1);
	assert_int_equal(db_errcode(f->db), DB_ERR_REPLACED);
	assert_non_null(strstr(errstr, why));
	db_rollback(f->db);
}

/* A batch with one record of each kind, on interface 1 (wlan0). */
static void
batch_init(struct proto_batch *b, uint64_t seq)
{
	static const uint8_t v4[] = { 192, 0, 2, 10 };
	static const uint8_t v4peer[] = { 198, 51, 100, 7 };

	memset(b, 0, sizeof(*b));
	b->spooled = 4096;
	memset(&t_host, 0, sizeof(t_host));
	t_host.k.iface = 1;
	t_host.k.bucket = T_BUCKET;
	t_host.k.host.family = PROTO_AF_INET;
	memcpy(t_host.k.host.a, v4, 4);
	t_host.k.proto = 6;
	t_host.k.dir = PROTO_DIR_OUT;
	t_host.c.packets = 10;
	t_host.c.bytes = 1000;
	t_host.c.frame_bytes = 1140;

	memset(&t_port, 0, sizeof(t_port));
	t_port.k = t_host.k;
	t_port.port = 443;
	t_port.c.packets = 4;
	t_port.c.bytes = 400;
	t_port.c.frame_bytes = 456;

	memset(&t_peer, 0, sizeof(t_peer));
	t_peer.k = t_host.k;
	t_peer.k.dir = PROTO_DIR_IN;
	t_peer.peer.family = PROTO_AF_INET;
	memcpy(t_peer.peer.a, v4peer, 4);
	t_peer.c.packets = 3;
	t_peer.c.bytes = 300;
	t_peer.c.frame_bytes = 342;

	memset(&t_iface, 0, sizeof(t_iface));
	t_iface.iface = 1;
	t_iface.bucket = T_BUCKET;
	t_iface.frames = 20;
	t_iface.frame_bytes = 2000;
	t_iface.ipv4_packets = 15;
	t_iface.ipv6_packets = 3;
	t_iface.non_ip_frames = 2;
	t_iface.transit_packets = 1;
	t_iface.malformed_frames = 1;

	memset(&t_health, 0, sizeof(t_health));
	t_health.iface = 1;
	t_health.bucket = T_BUCKET;
	t_health.captured = 20;
	t_health.kernel_drops = 2;
	t_health.iface_drops = 1;
	t_health.overflow = 5;
	t_health.malformed = 1;
	t_health.queued = 3;
	t_health.dropped = 0;

	b->seq = seq;
	b->first_ts = T_BUCKET;
	b->last_ts = T_BUCKET + 59;
	b->hosts = &t_host;
	b->nhosts = 1;
	b->ports = &t_port;
	b->nports = 1;
	b->peers = &t_peer;
	b->npeers = 1;
	b->ifaces = &t_iface;
	b->nifaces = 1;
	b->health = &t_health;
	b->nhealth = 1;
}

/*
 * Runs sql on the reader's connection, expects exactly one row, and
 * compares every column as text with want[] (NULL ends the list; the
 * number of columns must match).
 */
static void
expect_row(struct fixture *f, const char *sql, const char *const *want)
{
	sqlite3_stmt *st;
	int i, ncol;

	if (sqlite3_prepare_v2(f->rd, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(f->rd));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	ncol = sqlite3_column_count(st);
	for (i = 0; want[i] != NULL; i++) {
		const unsigned char *v;

		assert_true(i < ncol);
		v = sqlite3_column_text(st, i);
		if (v == NULL || strcmp((const char *)v, want[i]) != 0)
			fail_msg("%s: column %s: got '%s', want '%s'", sql,
			    sqlite3_column_name(st, i),
			    v ? (const char *)v : "NULL", want[i]);
	}
	assert_int_equal(i, ncol);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static int64_t
count(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n;

	if (sqlite3_prepare_v2(f->rd, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(f->rd));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * Closes the store's connection and runs sql on one of its own (an
 * older store's schema, say); what names it in a failure.
 */
static void
db_closed_run(struct fixture *f, const char *sql, const char *what)
{
	sqlite3 *w;

	db_close(f->db);
	f->db = NULL;
	assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
	if (sqlite3_exec(w, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", what, sqlite3_errmsg(w));
	sqlite3_close(w);
}

/* Opens the store's connection on the fixture's database. */
static void
db_reopen(struct fixture *f)
{
	f->db = scratch_db(f->path);
}

static void
test_hello_creates_agent_and_ifaces(void **state)
{
	struct fixture *f = *state;
	struct db_session s, s2;
	uint64_t last = 99;
	static const char *const agent[] = { "a1", "1699990000", "0", "60",
		"1700000045", "1700000045", NULL };
	static const char *const ifaces[] = { "eth0,wlan0", NULL };

	hello(f, "a1", T_START, 60, &s, &last);
	assert_int_equal(last, 0);
	assert_int_equal(s.niface, 2);
	assert_int_equal(s.resolution, 60);
	assert_int_equal(s.epoch, T_START);
	assert_true(s.iface_id[0] != s.iface_id[1]);
	expect_row(f, "SELECT name, epoch, last_seq, resolution, first_seen,"
	    " last_seen FROM agent", agent);
	expect_row(f, "SELECT group_concat(name, ',') FROM (SELECT name FROM"
	    " iface ORDER BY id)", ifaces);

	/* The same agent again: same rows, same ids. */
	hello(f, "a1", T_START, 60, &s2, &last);
	assert_int_equal(s2.agent_id, s.agent_id);
	assert_int_equal(s2.iface_id[0], s.iface_id[0]);
	assert_int_equal(s2.iface_id[1], s.iface_id[1]);
	assert_int_equal(count(f, "SELECT count(*) FROM agent"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM iface"), 2);
}

static void
test_batch_lands_in_views(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	uint64_t last;
	static const char *const host[] = { "1700000040", T_BUCKET_TEXT, "60",
		"a1", "wlan0", "192.0.2.10", "ipv4", "6", "tcp", "out", "10",
		"1000", "1140", "1", NULL };
	static const char *const port[] = { "1700000040", T_BUCKET_TEXT, "60",
		"a1", "wlan0", "192.0.2.10", "ipv4", "6", "tcp", "443", "out",
		"4", "400", "456", "1", NULL };
	static const char *const peer[] = { "1700000040", T_BUCKET_TEXT, "60",
		"a1", "wlan0", "192.0.2.10", "ipv4", "198.51.100.7", "6", "tcp",
		"in", "3", "300", "342", "1", NULL };
	static const char *const iface[] = { "1700000040", T_BUCKET_TEXT,
		"60", "a1", "wlan0", "20", "2000", "15", "3", "2", "1", "1",
		"1", NULL };
	static const char *const health[] = { "1700000040", T_BUCKET_TEXT,
		"60", "a1", "wlan0", "20", "2", "1", "5", "1", "3", "0", "1",
		"4096", NULL };
	static const char *const batch[] = { "1", "1699990000", "1",
		"1700000040", "1700000099", "1700000110", "5", NULL };
	static const char *const agent[] = { "1", "1700000110", NULL };

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	expect_row(f, "SELECT * FROM host_traffic", host);
	expect_row(f, "SELECT * FROM port_traffic", port);
	expect_row(f, "SELECT * FROM peer_traffic", peer);
	expect_row(f, "SELECT * FROM interface_traffic", iface);
	expect_row(f, "SELECT * FROM agent_health", health);
	expect_row(f, "SELECT id, epoch, seq, first_ts, last_ts, received,"
	    " nrecords FROM batch", batch);
	expect_row(f, "SELECT last_seq, last_seen FROM agent", agent);
}

static void
test_ipv6_text(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	uint64_t last;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const char *const host[] = { "2001:db8::1", "ipv6", "17",
		"udp", "in", NULL };

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	t_host.k.host.family = PROTO_AF_INET6;
	memcpy(t_host.k.host.a, v6, 16);
	t_host.k.proto = 17;
	t_host.k.dir = PROTO_DIR_IN;
	b.nports = b.npeers = 0;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	expect_row(f, "SELECT host, family, proto, proto_name, direction FROM"
	    " host_traffic", host);
}

static void
test_two_batches_upsert(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	uint64_t last;
	static const char *const host[] = { "20", "2000", "2280", "2", NULL };
	static const char *const port[] = { "8", "800", "912", "2", NULL };
	static const char *const peer[] = { "6", "600", "684", "2", NULL };
	static const char *const iface[] = { "40", "4000", "30", "6", "4",
		"2", "2", "2", NULL };
	/* queued is a gauge: the larger of 3 and 2. */
	static const char *const health[] = { "40", "4", "2", "10", "2", "3",
		"1", "2", NULL };

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	batch_init(&b, 2);
	t_health.queued = 2;
	t_health.dropped = 1;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	expect_row(f, "SELECT packets, bytes, frame_bytes, batch_id FROM"
	    " host_traffic", host);
	expect_row(f, "SELECT packets, bytes, frame_bytes, batch_id FROM"
	    " port_traffic", port);
	expect_row(f, "SELECT packets, bytes, frame_bytes, batch_id FROM"
	    " peer_traffic", peer);
	expect_row(f, "SELECT frames, frame_bytes, ipv4_packets, ipv6_packets,"
	    " non_ip_frames, transit_packets, malformed_frames, batch_id FROM"
	    " interface_traffic", iface);
	expect_row(f, "SELECT captured, kernel_drops, iface_drops, overflow,"
	    " malformed, queued, dropped, batch_id FROM agent_health", health);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 2);
}

static void
test_duplicate_not_counted(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	uint64_t last;

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	batch_init(&b, 2);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	/* A reconnect: the agent resends 1 and 2. */
	hello(f, "a1", T_START, 60, &s, &last);
	assert_int_equal(last, 2);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_DUPLICATE);
	batch_init(&b, 2);
	assert_int_equal(apply(f, &s, &b), DB_DUPLICATE);
	assert_int_equal(count(f, "SELECT packets FROM host_stat"), 20);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 2);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 2);
	batch_init(&b, 3);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	assert_int_equal(count(f, "SELECT packets FROM host_stat"), 30);
}

/*
 * A resend at or below last_seq that is not the batch committed under
 * that seq (other first/last times or record count), or a seq passed by a
 * gap and never committed, is still not counted, but told apart from a
 * true resend: DB_CONFLICT, which the store logs.
 */
static void
test_resend_conflict(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	uint64_t last;

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	/* 3 passes 2 (a gap: the agent dropped 2, or is broken). */
	batch_init(&b, 3);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_DUPLICATE);
	/* Seq 1 again with one record less: another batch. */
	batch_init(&b, 1);
	b.nhealth = 0;
	assert_int_equal(apply(f, &s, &b), DB_CONFLICT);
	batch_init(&b, 3);
	b.last_ts++;
	assert_int_equal(apply(f, &s, &b), DB_CONFLICT);
	/* 2 was never committed: late, after 3. */
	batch_init(&b, 2);
	assert_int_equal(apply(f, &s, &b), DB_CONFLICT);
	/* None of them counted. */
	assert_int_equal(count(f, "SELECT packets FROM host_stat"), 20);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 2);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 3);
}

/*
 * The file at the database's path removed or replaced under the store:
 * a commit would go to a file no reader sees (and, removed, one gone for
 * good when the store exits), so it is refused with DB_ERR_REPLACED, the
 * batch not committed, and refused again while the path holds another
 * file.  Put back, the same file commits again.
 */
static void
test_file_replaced(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	char moved[160];
	uint64_t last;
	FILE *fp;

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	snprintf(moved, sizeof(moved), "%s.moved", f->path);
	assert_int_equal(rename(f->path, moved), 0);
	/* Removed: nothing at the path. */
	batch_init(&b, 2);
	commit_refused(f, &s, &b, "removed");
	/* Replaced: another file at the path. */
	assert_non_null(fp = fopen(f->path, "w"));
	assert_int_equal(fclose(fp), 0);
	commit_refused(f, &s, &b, "replaced");
	assert_non_null(strstr(db_fix(DB_ERR_REPLACED), "restart"));
	/* The store's own file back: batch 2 commits, once. */
	assert_int_equal(rename(moved, f->path), 0);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 2);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 2);
}

static void
test_new_epoch_resets(void **state)
{
	struct fixture *f = *state;
	struct db_session old, s;
	struct proto_batch b;
	uint64_t last;
	static const char *const agent[] = { "1699995000", "0", "30", NULL };
	static const char *const batches[] = { "1699990000:1,1699990000:2,"
	    "1699995000:1", NULL };

	hello(f, "a1", T_START, 60, &old, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &old, &b), DB_APPLIED);
	batch_init(&b, 2);
	assert_int_equal(apply(f, &old, &b), DB_APPLIED);

	hello(f, "a1", T_START + 5000, 30, &s, &last);
	assert_int_equal(last, 0);
	assert_int_equal(s.agent_id, old.agent_id);
	expect_row(f, "SELECT epoch, last_seq, resolution FROM agent", agent);
	/* Seq 1 of the new epoch is new data, not a duplicate. */
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	expect_row(f, "SELECT group_concat(epoch || ':' || seq, ',') FROM"
	    " (SELECT epoch, seq FROM batch ORDER BY id)", batches);
	/* A late batch of the old epoch must not touch the new one. */
	batch_init(&b, 3);
	assert_int_equal(apply(f, &old, &b), DB_STALE);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 1);
	/* Resolution 30 rows are kept apart from the resolution 60 ones. */
	assert_int_equal(count(f, "SELECT count(*) FROM host_stat"), 2);
}

static void
test_batch_ids_increase(void **state)
{
	struct fixture *f = *state;
	struct db_session a, c;
	struct proto_batch b;
	uint64_t last;
	uint64_t seq;

	hello(f, "a1", T_START, 60, &a, &last);
	hello(f, "a2", T_START, 60, &c, &last);
	for (seq = 1; seq <= 3; seq++) {
		batch_init(&b, seq);
		assert_int_equal(apply(f, &a, &b), DB_APPLIED);
		batch_init(&b, seq);
		assert_int_equal(apply(f, &c, &b), DB_APPLIED);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 6);
	assert_int_equal(count(f, "SELECT count(*) FROM batch b1 JOIN batch b2"
	    " ON b2.id = b1.id + 1 WHERE b2.id > b1.id"), 5);
	assert_int_equal(count(f, "SELECT max(id) FROM batch"), 6);
	/* Each row carries the last batch that changed it. */
	assert_int_equal(count(f, "SELECT group_concat(batch_id) = '5,6' FROM"
	    " (SELECT batch_id FROM host_stat ORDER BY batch_id)"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM host_traffic WHERE"
	    " (agent = 'a1' AND batch_id = 5) OR (agent = 'a2' AND"
	    " batch_id = 6)"), 2);
}

static void
test_overflow_row(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	uint64_t last;
	static const char *const host[] = { "overflow", "overflow", NULL };
	static const char *const peer[] = { "192.0.2.10", "ipv4", "overflow",
		NULL };

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	memset(&t_host.k.host, 0, sizeof(t_host.k.host));
	memset(&t_peer.peer, 0, sizeof(t_peer.peer));
	b.nports = 0;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	expect_row(f, "SELECT host, family FROM host_traffic", host);
	expect_row(f, "SELECT host, family, peer FROM peer_traffic", peer);
	/* One interned overflow row, keyed by the family byte alone. */
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " addr = x'00' AND family = 0 AND text = 'overflow'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM address"), 2);
	assert_int_equal(count(f, "SELECT length(addr) FROM address WHERE"
	    " family = 4"), 5);
}

static void
test_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	enum db_apply what;
	const char *errstr = NULL;
	uint64_t last;

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(db_batch(f->db, &s, &b, T_BUCKET, &what, &errstr), 0);
	db_rollback(f->db);
	db_rollback(f->db);	/* no transaction: harmless */
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM host_stat"), 0);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 0);
	/* The retry applies it as new (a rolled-back id is not spent). */
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	assert_int_equal(count(f, "SELECT id FROM batch"), 1);
}

/*
 * A trigger refuses the batch: the failure is the data's (db_data_error),
 * and its message, which the writer hands to the agent, is still the
 * trigger's after the rollback.
 */
static void
test_data_error(void **state)
{
	static const struct {
		int	 code;
		int	 data;
	} codes[] = {
		{ SQLITE_CONSTRAINT_TRIGGER, 1 },
		{ SQLITE_CONSTRAINT_PRIMARYKEY, 1 },
		{ SQLITE_MISMATCH, 1 },
		{ SQLITE_TOOBIG, 1 },
		{ SQLITE_RANGE, 1 },
		{ SQLITE_FULL, 0 },
		{ SQLITE_IOERR_WRITE, 0 },
		{ SQLITE_BUSY, 0 },
		{ SQLITE_LOCKED, 0 },
		{ SQLITE_NOMEM, 0 },
		{ SQLITE_CANTOPEN, 0 },
		{ SQLITE_READONLY, 0 },
		{ SQLITE_CORRUPT, 0 },
		{ SQLITE_NOTADB, 0 },
		{ SQLITE_ERROR, 0 },
	};
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	enum db_apply what;
	const char *errstr = NULL;
	sqlite3 *w;
	uint64_t last;
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (db_data_error(codes[i].code) != codes[i].data)
			fail_msg("db_data_error(%d) != %d", codes[i].code,
			    codes[i].data);
	assert_non_null(strstr(db_fix(SQLITE_CORRUPT), "integrity_check"));

	assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, "CREATE TRIGGER t BEFORE INSERT ON "
	    "host_stat BEGIN SELECT RAISE(ABORT, 'no hosts here'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(w);
	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(db_batch(f->db, &s, &b, T_BUCKET, &what, &errstr), -1);
	db_rollback(f->db);
	assert_true(db_data_error(db_errcode(f->db)));
	assert_string_equal(errstr, "no hosts here");
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 0);
}

/* b: batch seq of n records of each kind over buckets bucket and +60. */
static void
batch_of(struct proto_batch *b, uint64_t seq, int64_t bucket,
    struct proto_host_rec *hosts, struct proto_port_rec *ports,
    struct proto_peer_rec *peers, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->seq = seq;
	b->first_ts = bucket;
	b->last_ts = bucket + 119;
	b->hosts = hosts;
	b->nhosts = n;
	b->ports = ports;
	b->nports = n;
	b->peers = peers;
	b->npeers = n;
}

/*
 * Fills b (seq) with n records of each kind in scattered order: record i
 * has key number j = i * 37 % n (37 is prime to every n used), over
 * buckets `bucket` and `bucket` + 60, with counters derived from j:
 * packets j + 1, bytes 100 times that, frame_bytes fb times that.
 */
static void
scattered_batch(struct proto_batch *b, uint64_t seq, int64_t bucket,
    int dir, uint64_t fb, struct proto_host_rec *hosts,
    struct proto_port_rec *ports, struct proto_peer_rec *peers, size_t n)
{
	struct proto_key k;
	size_t i, j;

	for (i = 0; i < n; i++) {
		j = (i * 37) % n;
		memset(&k, 0, sizeof(k));
		k.iface = j % 2;
		k.bucket = bucket + 60 * (int64_t)(j % 3 == 0);
		k.host.family = PROTO_AF_INET;
		k.host.a[0] = 10;
		k.host.a[3] = (uint8_t)j;
		k.proto = j % 4 == 0 ? 17 : 6;
		k.dir = dir;
		memset(&hosts[i], 0, sizeof(hosts[i]));
		hosts[i].k = k;
		hosts[i].c.packets = j + 1;
		hosts[i].c.bytes = 100 * (j + 1);
		hosts[i].c.frame_bytes = fb * (j + 1);
		memset(&ports[i], 0, sizeof(ports[i]));
		ports[i].k = k;
		ports[i].k.host.a[3] = (uint8_t)(j % 5);
		ports[i].port = (uint16_t)(1000 + j);
		ports[i].c.packets = j + 1;
		memset(&peers[i], 0, sizeof(peers[i]));
		peers[i].k = k;
		peers[i].k.host.a[3] = (uint8_t)(j % 3);
		peers[i].peer.family = PROTO_AF_INET;
		peers[i].peer.a[0] = 10;
		peers[i].peer.a[1] = 9;
		peers[i].peer.a[3] = (uint8_t)j;
		peers[i].c.packets = j + 1;
	}
	batch_of(b, seq, bucket, hosts, ports, peers, n);
}

/*
 * Counters whose sum passes INT64_MAX stop there, as integers, on every
 * table and through both the single-row and the multi-row upserts; a sum
 * that reaches INT64_MAX exactly, and small sums beside them, are exact.
 * SQLite's own + would store a REAL, which every sum() over the table
 * then refuses with "integer overflow".
 */
/*
 * A peer record asks for two addresses: a batch with more host records
 * than peer records, but fewer than twice as many, and every address
 * new, must still find room for every question (ASan sees the
 * overflow when it does not), and store every row.
 */
static void
test_peers_ask_twice(void **state)
{
	static const char *const peers[] = { "200", "400", "1000", NULL };
	static const char *const hosts[] = { "300", "300", NULL };
	struct fixture *f = *state;
	struct proto_host_rec hr[300];
	struct proto_peer_rec pr[200];
	struct db_session s;
	struct proto_batch b;
	uint64_t last;
	size_t i;

	hello(f, "twice", T_START, 60, &s, &last);
	batch_init(&b, 1);
	for (i = 0; i < 300; i++) {
		hr[i] = t_host;
		hr[i].k.proto = (uint8_t)(i / 2);
		hr[i].k.dir = (uint8_t)(i % 2);
		hr[i].c.packets = 1;
	}
	for (i = 0; i < 200; i++) {
		pr[i] = t_peer;
		pr[i].k.host.a[2] = 1;
		pr[i].k.host.a[3] = (uint8_t)i;
		pr[i].peer.a[2] = 2;
		pr[i].peer.a[3] = (uint8_t)i;
		pr[i].c.packets = 2;
		pr[i].c.frame_bytes = 5;
	}
	b.hosts = hr;
	b.nhosts = 300;
	b.peers = pr;
	b.npeers = 200;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	expect_row(f, "SELECT count(*), sum(packets), sum(frame_bytes)"
	    " FROM peer_stat", peers);
	expect_row(f, "SELECT count(*), sum(packets) FROM host_stat", hosts);
}

static void
test_counter_saturation(void **state)
{
	static const char *const host[] = { "9223372036854775807",
		"9223372036854775807", "2280", "integer", NULL };
	static const char *const iface[] = { "9223372036854775807", "4000",
		"9223372036854775807", "integer", NULL };
	static const char *const health[] = { "9223372036854775807", "4",
		"9223372036854775807", "integer", NULL };
	struct fixture *f = *state;
	struct proto_host_rec hosts[SCHEMA_UPSERT_ROWS];
	struct proto_port_rec ports[SCHEMA_UPSERT_ROWS];
	struct proto_peer_rec peers[SCHEMA_UPSERT_ROWS];
	struct db_session s;
	struct proto_batch b;
	uint64_t last, seq;
	size_t i;

	hello(f, "big", T_START, 60, &s, &last);
	for (seq = 1; seq <= 2; seq++) {
		batch_init(&b, seq);
		t_host.c.packets = seq == 1 ? INT64_MAX - 10 : 10;
		t_host.c.bytes = seq == 1 ? INT64_MAX - 10 : 11;
		t_iface.frames = (uint64_t)INT64_MAX - 1;
		t_iface.ipv4_packets = seq == 1 ? 1 : (uint64_t)INT64_MAX;
		t_health.captured = (uint64_t)INT64_MAX;
		t_health.overflow = (uint64_t)INT64_MAX / 2 + 1;
		assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	}
	expect_row(f, "SELECT packets, bytes, frame_bytes, typeof(bytes)"
	    " FROM host_stat", host);
	expect_row(f, "SELECT frames, frame_bytes, ipv4_packets,"
	    " typeof(frames) FROM iface_stat", iface);
	expect_row(f, "SELECT captured, kernel_drops, overflow,"
	    " typeof(overflow) FROM health_stat", health);
	assert_int_equal(count(f, "SELECT count(*) FROM port_stat WHERE"
	    " packets = 8"), 1);

	/* A whole multi-row statement's worth, inserted then updated. */
	for (seq = 3; seq <= 4; seq++) {
		scattered_batch(&b, seq, T_BUCKET + 3600, PROTO_DIR_IN, 1,
		    hosts, ports, peers, SCHEMA_UPSERT_ROWS);
		for (i = 0; i < SCHEMA_UPSERT_ROWS; i++) {
			hosts[i].c.bytes = (uint64_t)INT64_MAX - i;
			ports[i].c.bytes = (uint64_t)INT64_MAX / 2 + 1;
			peers[i].c.frame_bytes = (uint64_t)INT64_MAX - 1;
		}
		assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM host_stat WHERE"
	    " bucket >= 1700003640 AND bytes = 9223372036854775807 AND"
	    " typeof(bytes) = 'integer' AND frame_bytes = packets"),
	    SCHEMA_UPSERT_ROWS);
	assert_int_equal(count(f, "SELECT count(*) FROM port_stat WHERE"
	    " bytes = 9223372036854775807 AND typeof(bytes) = 'integer'"),
	    SCHEMA_UPSERT_ROWS);
	assert_int_equal(count(f, "SELECT count(*) FROM peer_stat WHERE"
	    " frame_bytes = 9223372036854775807 AND typeof(frame_bytes) ="
	    " 'integer'"), SCHEMA_UPSERT_ROWS);
}

/*
 * T_NREC records of each kind over two buckets, in scattered order, whose
 * counters derive from their own key; applied twice, every row must hold
 * twice its own record's counters: the writer sorts records into key
 * order and must carry each one's counters along.
 */
static void
test_scattered_records(void **state)
{
	struct fixture *f = *state;
	struct proto_host_rec hosts[T_NREC];
	struct proto_port_rec ports[T_NREC];
	struct proto_peer_rec peers[T_NREC];
	struct db_session s;
	struct proto_batch b;
	uint64_t last, seq;

	hello(f, "a1", T_START, 60, &s, &last);
	for (seq = 1; seq <= 2; seq++) {
		scattered_batch(&b, seq, T_BUCKET, PROTO_DIR_IN, 0, hosts,
		    ports, peers, T_NREC);
		assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM host_traffic WHERE"
	    " packets = 2 * (CAST(substr(host, 8) AS INTEGER) + 1)"
	    " AND bytes = 100 * packets"), T_NREC);
	assert_int_equal(count(f, "SELECT count(*) FROM port_traffic WHERE"
	    " packets = 2 * (port - 999)"), T_NREC);
	assert_int_equal(count(f, "SELECT count(*) FROM peer_traffic WHERE"
	    " packets = 2 * (CAST(substr(peer, 8) AS INTEGER) + 1)"), T_NREC);
	assert_int_equal(count(f, "SELECT sum(packets) FROM peer_stat"),
	    T_NREC * (T_NREC + 1));
}

/*
 * The multi-row upserts (SCHEMA_UPSERT_ROWS rows a statement, the rest
 * one by one) at and around their boundaries: for each count, records in
 * scattered order applied twice, inserted by the first batch and updated
 * by the second; every row must hold twice its own record's counters and
 * no row may be missing or extra.  A new database has 16 KiB pages.
 */
static void
test_multirow_boundaries(void **state)
{
	static const size_t counts[] = { 1, 63, 64, 65, 128, 129, 200 };
	struct fixture *f = *state;
	struct proto_host_rec hosts[200];
	struct proto_port_rec ports[200];
	struct proto_peer_rec peers[200];
	struct db_session s;
	struct proto_batch b;
	uint64_t last, seq = 0;
	size_t c, n;
	int64_t bucket;
	char q[256];
	int pass;

	assert_int_equal(count(f, "PRAGMA page_size"), 16384);
	hello(f, "mr", T_START, 60, &s, &last);
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		n = counts[c];
		bucket = T_BUCKET + 600 * (int64_t)c;
		for (pass = 0; pass < 2; pass++) {
			scattered_batch(&b, ++seq, bucket, PROTO_DIR_OUT, 7,
			    hosts, ports, peers, n);
			assert_int_equal(apply(f, &s, &b), DB_APPLIED);
		}
		snprintf(q, sizeof(q), "SELECT count(*) FROM host_traffic"
		    " WHERE bucket IN (%lld, %lld) AND packets = 2 *"
		    " (CAST(substr(host, 8) AS INTEGER) + 1) AND bytes ="
		    " 100 * packets AND frame_bytes = 7 * packets",
		    (long long)bucket, (long long)bucket + 60);
		assert_int_equal(count(f, q), (int64_t)n);
		snprintf(q, sizeof(q), "SELECT count(*) FROM port_traffic"
		    " WHERE bucket IN (%lld, %lld) AND packets = 2 *"
		    " (port - 999)", (long long)bucket, (long long)bucket + 60);
		assert_int_equal(count(f, q), (int64_t)n);
		snprintf(q, sizeof(q), "SELECT count(*) FROM peer_traffic"
		    " WHERE bucket IN (%lld, %lld) AND packets = 2 *"
		    " (CAST(substr(peer, 8) AS INTEGER) + 1)",
		    (long long)bucket, (long long)bucket + 60);
		assert_int_equal(count(f, q), (int64_t)n);
		snprintf(q, sizeof(q), "SELECT count(*) + total(packets) FROM"
		    " peer_stat WHERE bucket IN (%lld, %lld)",
		    (long long)bucket, (long long)bucket + 60);
		assert_int_equal(count(f, q), (int64_t)(n + n * (n + 1)));
	}
}

/* The address 10.second.(j >> 8).(j & 255). */
static struct proto_addr
big_addr(uint8_t second, size_t j)
{
	struct proto_addr a;

	memset(&a, 0, sizeof(a));
	a.family = PROTO_AF_INET;
	a.a[0] = 10;
	a.a[1] = second;
	a.a[2] = (uint8_t)(j >> 8);
	a.a[3] = (uint8_t)j;
	return a;
}

/* The records of a big batch, T_NBIG of each kind. */
struct big_recs {
	struct proto_host_rec	*hosts;
	struct proto_port_rec	*ports;
	struct proto_peer_rec	*peers;
};

static struct big_recs
big_recs_new(void)
{
	struct big_recs r;

	assert_non_null(r.hosts = calloc(T_NBIG, sizeof(*r.hosts)));
	assert_non_null(r.ports = calloc(T_NBIG, sizeof(*r.ports)));
	assert_non_null(r.peers = calloc(T_NBIG, sizeof(*r.peers)));
	return r;
}

static void
big_recs_free(struct big_recs *r)
{
	free(r->peers);
	free(r->ports);
	free(r->hosts);
}

/*
 * A batch of T_NBIG records of each kind in scattered order (record i
 * is key number j = i * 37 % T_NBIG), over two buckets: hosts 10.0.j,
 * ports on hosts 10.0.(j % 500) (the host section's addresses) with port
 * 1000 + j, peers from hosts 10.0.(j % 300) to 10.9.j (new to the port
 * section that is upserted while they are asked for).  Counters j + 1.
 */
static void
big_batch(struct proto_batch *b, uint64_t seq, struct big_recs *r)
{
	struct proto_host_rec *hosts = r->hosts;
	struct proto_port_rec *ports = r->ports;
	struct proto_peer_rec *peers = r->peers;
	struct proto_key k;
	size_t i, j;

	for (i = 0; i < T_NBIG; i++) {
		j = i * 37 % T_NBIG;
		memset(&k, 0, sizeof(k));
		k.bucket = T_BUCKET + 60 * (int64_t)(j % 2);
		k.host = big_addr(0, j);
		k.proto = 6;
		k.dir = PROTO_DIR_IN;
		memset(&hosts[i], 0, sizeof(hosts[i]));
		hosts[i].k = k;
		hosts[i].c.packets = j + 1;
		memset(&ports[i], 0, sizeof(ports[i]));
		ports[i].k = k;
		ports[i].k.host = big_addr(0, j % 500);
		ports[i].port = (uint16_t)(1000 + j);
		ports[i].c.packets = j + 1;
		memset(&peers[i], 0, sizeof(peers[i]));
		peers[i].k = k;
		peers[i].k.host = big_addr(0, j % 300);
		peers[i].peer = big_addr(9, j);
		peers[i].c.packets = j + 1;
	}
	batch_of(b, seq, T_BUCKET, hosts, ports, peers, T_NBIG);
}

/* Every row of the big batch holds times * its record's counters. */
static void
big_rows_hold(struct fixture *f, int64_t times)
{
	char q[1024];

	snprintf(q, sizeof(q), "SELECT count(*) FROM host_traffic WHERE"
	    " packets = %lld * (" T_J("host") " + 1)", (long long)times);
	assert_int_equal(count(f, q), T_NBIG);
	snprintf(q, sizeof(q), "SELECT count(*) FROM port_traffic WHERE"
	    " packets = %lld * (port - 999) AND " T_J("host") " = (port -"
	    " 1000) %% 500", (long long)times);
	assert_int_equal(count(f, q), T_NBIG);
	snprintf(q, sizeof(q), "SELECT count(*) FROM peer_traffic WHERE"
	    " packets = %lld * (" T_J("peer") " + 1) AND " T_J("host") " = "
	    T_J("peer") " %% 300", (long long)times);
	assert_int_equal(count(f, q), T_NBIG);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " family = 4"), 2 * T_NBIG);
}

/*
 * Big sections whose port and peer records name addresses of the
 * section before and new ones: every row holds its own record's
 * counters, first inserted, then updated by the same batch again (whose
 * addresses all come from the cache); each address once.
 */
static void
test_big_sections(void **state)
{
	struct fixture *f = *state;
	struct big_recs r = big_recs_new();
	struct db_session s;
	struct proto_batch b;
	uint64_t last;

	hello(f, "big", T_START, 60, &s, &last);
	big_batch(&b, 1, &r);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	big_rows_hold(f, 1);
	b.seq = 2;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	big_rows_hold(f, 2);
	big_recs_free(&r);
}

/* The one value sql gives on the store's own connection. */
static int64_t
writer_value(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	if (sqlite3_prepare_v2(db_handle(f->db), sql, -1, &st, NULL) !=
	    SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db_handle(f->db)));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Grows the WAL past limit bytes with one transaction on the store's
 * connection: 80 MiB of blobs in a table of their own.
 */
static void
wal_grow(struct fixture *f, int64_t limit)
{
	struct stat sb;
	char wal[160];

	if (sqlite3_exec(db_handle(f->db), "CREATE TABLE IF NOT EXISTS pad"
	    " (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT"
	    " i + 1 FROM n WHERE i < 80) INSERT INTO pad SELECT"
	    " zeroblob(1048576) FROM n", NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("pad: %s", sqlite3_errmsg(db_handle(f->db)));
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > limit);
}

/*
 * A WAL grown past the store's journal_size_limit is cut back once the
 * writer starts it again: it does not stay as long as it once grew.  One
 * big transaction grows it here, as a run of them does while a reader's
 * snapshot keeps the writer from starting it again.
 */
static void
test_wal_cut_back(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	struct stat sb;
	char wal[160];
	uint64_t last, seq;
	int64_t limit;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	hello(f, "wal", T_START, 60, &s, &last);
	assert_true((limit = writer_value(f, "PRAGMA journal_size_limit")) >
	    0);
	wal_grow(f, limit);
	assert_int_equal(stat(wal, &sb), 0);
	/* A checkpoint copies it whole (the thread's, or the writer's own). */
	for (seq = 1; seq <= 100 && sb.st_size > limit; seq++) {
		batch_init(&b, seq);
		assert_int_equal(apply(f, &s, &b), DB_APPLIED);
		assert_int_equal(stat(wal, &sb), 0);
	}
	if (sb.st_size > limit)
		fail_msg("the WAL stays %lld bytes, past the limit %lld",
		    (long long)sb.st_size, (long long)limit);
}

/*
 * An idle store cuts a WAL past the limit to nothing (db_wal_trim): no
 * write need come to start it again.  While a reader's snapshot keeps
 * its frames from being copied, it stays, and the trim does not wait for
 * the reader.
 */
static void
test_wal_trim_idle(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t1;
	struct stat sb;
	char wal[160];
	int64_t limit;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_true((limit = writer_value(f, "PRAGMA journal_size_limit")) >
	    0);
	/* A snapshot from before: the checkpoint may not copy past it. */
	assert_int_equal(sqlite3_exec(f->rd, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_true(count(f, "SELECT count(*) FROM host_stat") == 0);
	wal_grow(f, limit);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	db_wal_trim(f->db);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > limit);
	assert_int_equal(sqlite3_exec(f->rd, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	db_wal_trim(f->db);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	/* What the WAL held is in the database. */
	assert_true(count(f, "SELECT count(*) FROM pad") == 80);
}

/*
 * Failures inside a big batch: one host upsert refused by a trigger,
 * then an address family the intern refuses in the last peer record.
 * Each fails the batch with its own message and rolls back whole; the
 * batch applied after that is stored as if nothing had happened.
 */
static void
test_big_sections_fail(void **state)
{
	struct fixture *f = *state;
	struct big_recs r = big_recs_new();
	struct db_session s;
	struct proto_batch b;
	enum db_apply what;
	const char *errstr = NULL;
	uint64_t last;
	sqlite3 *w;

	hello(f, "big", T_START, 60, &s, &last);
	big_batch(&b, 1, &r);
	assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, "CREATE TRIGGER t BEFORE INSERT ON"
	    " host_stat WHEN NEW.packets = 5000 BEGIN SELECT RAISE(ABORT,"
	    " 'not this host'); END", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(db_batch(f->db, &s, &b, T_BUCKET, &what, &errstr), -1);
	assert_string_equal(errstr, "not this host");
	db_rollback(f->db);
	assert_int_equal(sqlite3_exec(w, "DROP TRIGGER t", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(w);

	r.peers[T_NBIG - 1].peer.family = 5;
	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(db_batch(f->db, &s, &b, T_BUCKET, &what, &errstr), -1);
	assert_string_equal(errstr, "address family not 0, 4 or 6");
	db_rollback(f->db);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM address WHERE"
	    " family = 4"), 0);

	r.peers[T_NBIG - 1].peer.family = PROTO_AF_INET;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	big_rows_hold(f, 1);
	big_recs_free(&r);
}

/*
 * No batch_id index: a new database never keeps one, and one left by an
 * older store is dropped when the database is opened.
 */
static void
test_batch_index_dropped(void **state)
{
	struct fixture *f = *state;
	const char *q = "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'index' AND name LIKE '%stat_batch'";

	assert_int_equal(count(f, q), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'index' AND name LIKE '%stat_tier'"), 2);
	db_closed_run(f, "CREATE INDEX host_stat_batch ON host_stat (batch_id);"
	    " CREATE INDEX peer_stat_batch ON peer_stat (batch_id)",
	    "the batch_id indexes");
	assert_int_equal(count(f, q), 2);
	db_reopen(f);
	assert_int_equal(count(f, q), 0);
}

/*
 * Version 2 to 3 (agent_health.spooled): a database taken back to its
 * version 2 shape, with a health row, migrates forward on open; the row
 * keeps its counts and reads spooled 0.
 */
static void
test_migrate_spooled(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	enum db_apply what;
	const char *errstr;
	static const char *const row[] = { "20", "3", "0", NULL };
	static const char v2[] =
	    "DROP TABLE stat_bucket;"
	    "CREATE INDEX host_stat_tier ON host_stat (resolution, bucket);"
	    "CREATE INDEX port_stat_tier ON port_stat (resolution, bucket);"
	    "CREATE INDEX peer_stat_tier ON peer_stat (resolution, bucket);"
	    "DROP VIEW agent_health;"
	    "ALTER TABLE health_stat DROP COLUMN spooled;"
	    "CREATE VIEW agent_health AS SELECT"
	    "  s.bucket, s.resolution, a.name AS agent, i.name AS iface,"
	    "  s.captured, s.queued, s.dropped, s.batch_id"
	    "  FROM health_stat s JOIN iface i ON i.id = s.iface_id"
	    "  JOIN agent a ON a.id = i.agent_id;"
	    "PRAGMA user_version = 2;";
	uint64_t last;

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(db_begin(f->db, &errstr), 0);
	assert_int_equal(db_batch(f->db, &s, &b, 1700000110, &what, &errstr),
	    0);
	assert_int_equal(db_commit(f->db, &errstr), 0);
	db_closed_run(f, v2, "back to version 2");
	assert_int_equal(count(f, "PRAGMA user_version"), 2);
	db_reopen(f);
	assert_int_equal(count(f, "PRAGMA user_version"), 4);
	expect_row(f, "SELECT captured, queued, spooled FROM agent_health",
	    row);
}

/*
 * Version 3 to 4 (stat_bucket instead of the host, port and peer
 * (resolution, bucket) indexes): a database taken back to its version 3
 * shape, with rows in two buckets, migrates forward on open; stat_bucket
 * lists exactly the pairs each table holds, and the writer keeps listing
 * the buckets of new batches.
 */
static void
test_migrate_stat_bucket(void **state)
{
	struct fixture *f = *state;
	struct db_session s;
	struct proto_batch b;
	static const char v3[] =
	    "DROP TABLE stat_bucket;"
	    "CREATE INDEX host_stat_tier ON host_stat (resolution, bucket);"
	    "CREATE INDEX port_stat_tier ON port_stat (resolution, bucket);"
	    "CREATE INDEX peer_stat_tier ON peer_stat (resolution, bucket);"
	    "PRAGMA user_version = 3;";
	uint64_t last;

	hello(f, "a1", T_START, 60, &s, &last);
	batch_init(&b, 1);
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	assert_int_equal(count(f, "SELECT count(*) FROM stat_bucket"), 3);
	batch_init(&b, 2);
	t_host.k.bucket = T_BUCKET + 60;
	t_peer.k.bucket = T_BUCKET + 60;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	db_closed_run(f, v3, "back to version 3");
	db_reopen(f);
	assert_int_equal(count(f, "PRAGMA user_version"), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'index' AND name LIKE '%stat_tier'"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM stat_bucket"), 5);
	assert_int_equal(count(f, "SELECT count(*) FROM ("
	    " SELECT 1, resolution, bucket FROM host_stat UNION"
	    " SELECT 2, resolution, bucket FROM port_stat UNION"
	    " SELECT 3, resolution, bucket FROM peer_stat EXCEPT"
	    " SELECT tbl, resolution, bucket FROM stat_bucket)"), 0);
	batch_init(&b, 3);
	t_port.k.bucket = T_BUCKET + 120;
	assert_int_equal(apply(f, &s, &b), DB_APPLIED);
	/* T_BUCKET + 120 */
	assert_int_equal(count(f, "SELECT count(*) FROM stat_bucket WHERE"
	    " tbl = 2 AND resolution = 60 AND bucket = 1700000160"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM stat_bucket"), 6);
}

/*
 * A migration that fails keeps its SQLite advice: the ROLLBACK after it
 * resets the connection's result code, which once left the message bare.
 */
static void
test_migrate_fails(void **state)
{
	struct fixture *f = *state;
	char err[512];

	/* Version 3's number on version 4's tables: stat_bucket is there. */
	db_closed_run(f, "PRAGMA user_version = 3;", "back to 3 in name");
	err[0] = '\0';
	assert_null(db_open(f->path, err, sizeof(err)));
	assert_non_null(strstr(err, "stat_bucket already exists"));
	assert_non_null(strstr(err, "; see the SQLite message"));
	/* Left as it was: the migration rolled back. */
	assert_int_equal(count(f, "PRAGMA user_version"), 3);
}

static void
test_open_errors(void **state)
{
	char err[512];

	(void)state;
	err[0] = '\0';
	assert_null(db_open("/proc/nettally-nope/x/y.db", err, sizeof(err)));
	assert_non_null(strstr(err, "--db"));
	err[0] = '\0';
	assert_null(db_open("/proc/version", err, sizeof(err)));
	assert_true(err[0] != '\0');
}

/* One text value of sql on the file at path, into buf. */
static void
read_text(const char *path, const char *sql, char *buf, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * Another program's database given by mistake is refused before anything
 * is written to it: no WAL switch, no nettally table.  An empty file is
 * ours to create in; a directory is named as such.
 */
static void
test_open_foreign(void **state)
{
	char dir[256], path[300], err[512], text[64];
	sqlite3 *db;
	struct db *d;

	(void)state;
	scratch_dir(dir, sizeof(dir), "foreign");
	snprintf(path, sizeof(path), "%s/other.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x);"
	    "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	err[0] = '\0';
	assert_null(db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a nettally database"));
	assert_non_null(strstr(err, "--db"));
	read_text(path, "PRAGMA journal_mode", text, sizeof(text));
	assert_string_equal(text, "delete");
	read_text(path, "SELECT group_concat(name) FROM sqlite_master", text,
	    sizeof(text));
	assert_string_equal(text, "t");

	/* Many programs set a user_version: that alone is not ours. */
	snprintf(path, sizeof(path), "%s/versioned.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 3;"
	    "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	err[0] = '\0';
	assert_null(db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a nettally database"));
	read_text(path, "PRAGMA journal_mode", text, sizeof(text));
	assert_string_equal(text, "delete");

	err[0] = '\0';
	assert_null(db_open(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "is a directory"));

	/* SQLite would open a FIFO as a file, and "" as a temporary db. */
	snprintf(path, sizeof(path), "%s/fifo.db", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	err[0] = '\0';
	assert_null(db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file (a FIFO)"));
	assert_int_equal(unlink(path), 0);
	err[0] = '\0';
	assert_null(db_open("", err, sizeof(err)));
	assert_non_null(strstr(err, "database path is empty"));

	snprintf(path, sizeof(path), "%s/empty.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_close(db);
	if ((d = db_open(path, err, sizeof(err))) == NULL)
		fail_msg("empty file refused: %s", err);
	db_close(d);
	scratch_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_hello_creates_agent_and_ifaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_lands_in_views,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_batches_upsert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_not_counted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend_conflict,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_replaced,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_epoch_resets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_ids_increase,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_row, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scattered_records,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_stat_bucket,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_spooled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_multirow_boundaries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_index_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_sections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_big_sections_fail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counter_saturation,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_ask_twice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wal_cut_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wal_trim_idle, setup,
		    teardown),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
