/*
 * test_conn.c - listen.c, conn.c and writer.c driven in-process through a
 * real Unix socket: the loop runs in this thread between client steps.
 * Bad input must get the right ERROR code and leave the database as it
 * was; good input gets WELCOME and ACKs; shutdown drains and closes.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <uv.h>

#include "conn.h"
#include "conn_int.h"
#include "db.h"
#include "listen.h"
#include "proto.h"
#include "scratch.h"
#include "writer.h"

struct fixture {
	char		 dir[64];
	char		 sock[128];
	char		 dbpath[128];
	uv_loop_t	 loop;
	struct db	*db;
	struct server	 srv;
	uv_pipe_t	 listener;
	int		 closed;
	size_t		 want_outstanding;	/* pump_until_outstanding */
};

static struct fixture *cur;

void	*__real_calloc(size_t, size_t);
void	*__wrap_calloc(size_t, size_t);

/* Allocations of a struct conn left to fail (test_accept_no_memory). */
static unsigned conn_nomem;

/*
 * Every calloc of the objects linked here, conn.c's among them, comes
 * through this (the Makefile links test_conn with -Wl,--wrap=calloc):
 * while conn_nomem is above 0, that many allocations of a struct conn
 * fail as if memory had run out, and the rest go on to the real calloc
 * (the sanitizer's, then libc's).  The size is looked at first: only the
 * loop thread allocates connections, so the writer thread's allocations
 * never touch the count.
 */
void *
__wrap_calloc(size_t n, size_t size)
{
	if (n == 1 && size == sizeof(struct conn) && conn_nomem > 0) {
		conn_nomem--;
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

static void
t_closed(struct server *srv)
{
	(void)srv;
	cur->closed = 1;
}

static int
setup(void **state)
{
	struct fixture *f;
	struct writer *w;
	const char *errstr;
	char err[512];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	cur = f;
	/* A test that failed before its connections took them all. */
	conn_nomem = 0;
	scratch_dir(f->dir, sizeof(f->dir), "conn");
	snprintf(f->sock, sizeof(f->sock), "%s/s.sock", f->dir);
	snprintf(f->dbpath, sizeof(f->dbpath), "%s/nt.db", f->dir);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->db = scratch_db(f->dbpath);
	server_init(&f->srv, &f->loop, NULL);
	assert_int_equal(writer_new(&w, &f->loop, f->db, server_writer_done,
	    &f->srv, &errstr), 0);
	f->srv.writer = w;
	assert_int_equal(listen_probe(f->sock, err, sizeof(err)), 0);
	assert_int_equal(uv_pipe_init(&f->loop, &f->listener, 0), 0);
	f->listener.data = &f->srv;
	if (listen_open(&f->listener, f->sock, 0660, (uid_t)-1, (gid_t)-1,
	    conn_accept_cb, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

/* Runs the loop until cond() or a 5 s timeout. */
static void
pump_until(struct fixture *f, int (*cond)(struct fixture *))
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (cond(f))
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			fail_msg("timed out waiting for the store");
		usleep(1000);
	}
}

static int
outstanding_as_wanted(struct fixture *f)
{
	return f->srv.noutstanding == f->want_outstanding;
}

/* Runs the loop until n items are in the writer, or a 5 s timeout. */
static void
pump_until_outstanding(struct fixture *f, size_t n)
{
	f->want_outstanding = n;
	pump_until(f, outstanding_as_wanted);
}

static int
is_closed(struct fixture *f)
{
	return f->closed;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	uv_close((uv_handle_t *)&f->listener, NULL);
	server_shutdown(&f->srv, t_closed);
	pump_until(f, is_closed);
	writer_close(f->srv.writer);
	db_close(f->db);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static int
client(struct fixture *f)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, f->sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void
send_buf(int fd, struct proto_buf *b)
{
	send_all(fd, b->data, b->len);
	proto_buf_clear(b);
}

/*
 * Reads one frame from fd while running the loop: returns its body
 * length in *n (body copied to body), or -1 on end of stream.
 */
static int
recv_frame(struct fixture *f, int fd, uint8_t *body, size_t *n)
{
	static uint8_t buf[1 << 16];
	size_t len = 0, blen;
	struct timespec t0, t;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (proto_frame_check(buf, len, PROTO_FRAME_MAX, &blen) ==
		    PROTO_OK) {
			assert_int_equal(len, PROTO_HDR_LEN + blen);
			memcpy(body, buf + PROTO_HDR_LEN, blen);
			*n = blen;
			return 0;
		}
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 1) == 1) {
			/* One byte at a time: never eat the next frame. */
			r = read(fd, buf + len, 1);
			if (r == 0)
				return -1;
			assert_true(r == 1);
			len++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			fail_msg("timed out waiting for a reply");
	}
}

/* Expects an ERROR with code, then end of stream. */
static void
expect_error(struct fixture *f, int fd, uint32_t code)
{
	uint8_t body[4096];
	struct proto_error er;
	size_t n;

	assert_int_equal(recv_frame(f, fd, body, &n), 0);
	assert_int_equal(proto_decode_error(body, n, &er), PROTO_OK);
	if (er.code != code)
		fail_msg("ERROR %u (%s), want %u", er.code, er.text, code);
	assert_int_equal(recv_frame(f, fd, body, &n), -1);
	close(fd);
}

static uint64_t
expect_welcome(struct fixture *f, int fd)
{
	uint8_t body[4096];
	struct proto_welcome w;
	size_t n;

	assert_int_equal(recv_frame(f, fd, body, &n), 0);
	assert_int_equal(proto_decode_welcome(body, n, &w), PROTO_OK);
	return w.last_seq;
}

static uint64_t
expect_ack(struct fixture *f, int fd)
{
	uint8_t body[4096];
	struct proto_ack a;
	size_t n;

	assert_int_equal(recv_frame(f, fd, body, &n), 0);
	assert_int_equal(proto_decode_ack(body, n, &a), PROTO_OK);
	return a.seq;
}

static int64_t
count(struct fixture *f, const char *sql)
{
	sqlite3 *rd;
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(f->dbpath, &rd, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(rd));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(rd);
	return n;
}

/* Nothing from any agent reached the database. */
static void
expect_db_empty(struct fixture *f)
{
	assert_int_equal(count(f, "SELECT (SELECT count(*) FROM agent) +"
	    " (SELECT count(*) FROM iface) + (SELECT count(*) FROM batch) +"
	    " (SELECT count(*) FROM host_stat) + (SELECT count(*) FROM"
	    " address WHERE family <> 0)"), 0);	/* the schema's overflow row */
}

/* HELLO of name for the agent run (epoch) that began at start. */
static void
hello_frame_at(struct proto_buf *b, const char *name, int64_t start)
{
	struct proto_hello h;

	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION;
	snprintf(h.name, sizeof(h.name), "%s", name);
	h.niface = 1;
	strcpy(h.iface[0], "eth0");
	h.resolution = 60;
	h.start_time = start;
	assert_int_equal(proto_encode_hello(b, &h), 0);
}

static void
hello_frame(struct proto_buf *b, const char *name)
{
	hello_frame_at(b, name, 1700000000);
}

static struct proto_host_rec t_host;

static void
batch_frame(struct proto_buf *b, uint64_t seq, int64_t bucket, uint32_t iface)
{
	struct proto_batch bt;

	memset(&bt, 0, sizeof(bt));
	memset(&t_host, 0, sizeof(t_host));
	t_host.k.iface = iface;
	t_host.k.bucket = bucket;
	t_host.k.host.family = PROTO_AF_INET;
	t_host.k.host.a[0] = 10;
	t_host.k.host.a[3] = 1;
	t_host.k.proto = 6;
	t_host.k.dir = PROTO_DIR_OUT;
	t_host.c.packets = 1;
	t_host.c.bytes = 100;
	t_host.c.frame_bytes = 114;
	bt.seq = seq;
	bt.first_ts = bucket;
	bt.last_ts = bucket + 1;
	bt.hosts = &t_host;
	bt.nhosts = 1;
	assert_int_equal(proto_encode_batch(b, &bt), 0);
}

static int64_t
bucket_now(void)
{
	return (int64_t)time(NULL) / 60 * 60;
}

static void
test_garbage(void **state)
{
	struct fixture *f = *state;
	static const uint8_t junk[] = { 0, 0, 0, 6, 0xc1, 0xc1, 0xc1, 0xc1,
		0xc1, 0xc1 };
	int fd = client(f);

	send_all(fd, junk, sizeof(junk));
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	expect_db_empty(f);
}

static void
test_oversized_header(void **state)
{
	struct fixture *f = *state;
	static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0x94 };
	int fd = client(f);

	send_all(fd, big, sizeof(big));
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	expect_db_empty(f);
}

static void
test_truncated_body(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	uint32_t n;
	int fd = client(f);

	/* A HELLO cut short, with a header that matches the cut. */
	proto_buf_init(&b);
	hello_frame(&b, "t1");
	b.len -= 5;
	n = (uint32_t)(b.len - PROTO_HDR_LEN);
	b.data[0] = n >> 24;
	b.data[1] = n >> 16;
	b.data[2] = n >> 8;
	b.data[3] = n;
	send_buf(fd, &b);
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	expect_db_empty(f);
}

static void
test_truncated_stream(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	uint8_t body[64];
	size_t n;
	int fd = client(f);

	/* Half a frame, then the agent goes away: no reply, no data. */
	proto_buf_init(&b);
	hello_frame(&b, "t1");
	send_all(fd, b.data, b.len / 2);
	proto_buf_clear(&b);
	shutdown(fd, SHUT_WR);
	assert_int_equal(recv_frame(f, fd, body, &n), -1);
	close(fd);
	expect_db_empty(f);
}

static void
test_batch_before_hello(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd = client(f);

	proto_buf_init(&b);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd, &b);
	expect_error(f, fd, PROTO_ERR_SEQUENCE);
	expect_db_empty(f);
}

static void
test_hello_batches_acks(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "a1");
	/* Sent together: the store holds batch 1 until WELCOME is out. */
	batch_frame(&b, 1, bucket_now(), 0);
	batch_frame(&b, 2, bucket_now(), 0);
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	assert_int_equal(expect_ack(f, fd), 1);
	assert_int_equal(expect_ack(f, fd), 2);
	close(fd);

	/* Reconnect: WELCOME says 2; a resent 2 is acked, not counted. */
	fd = client(f);
	hello_frame(&b, "a1");
	batch_frame(&b, 2, bucket_now(), 0);
	batch_frame(&b, 3, bucket_now(), 0);
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 2);
	assert_int_equal(expect_ack(f, fd), 2);
	assert_int_equal(expect_ack(f, fd), 3);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 3);

	/* An invalid batch closes the connection and changes nothing. */
	batch_frame(&b, 4, bucket_now(), 1);
	send_buf(fd, &b);
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 3);
}

static void
test_bad_buckets(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd;

	proto_buf_init(&b);
	fd = client(f);
	hello_frame(&b, "a1");
	batch_frame(&b, 1, bucket_now() + 7, 0);	/* not a multiple */
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);

	fd = client(f);
	hello_frame(&b, "a1");
	batch_frame(&b, 1, 253402300800LL, 0);	/* after year 9999 */
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM host_stat"), 0);
}

static void
test_duplicate_name(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd1, fd2;

	proto_buf_init(&b);
	fd1 = client(f);
	hello_frame(&b, "same");
	send_buf(fd1, &b);
	assert_int_equal(expect_welcome(f, fd1), 0);
	fd2 = client(f);
	hello_frame(&b, "same");
	send_buf(fd2, &b);
	expect_error(f, fd2, PROTO_ERR_DUPLICATE);
	/* The first one still works. */
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd1, &b);
	assert_int_equal(expect_ack(f, fd1), 1);
	close(fd1);
}

static void
test_second_hello(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "a1");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	hello_frame(&b, "a1");
	send_buf(fd, &b);
	expect_error(f, fd, PROTO_ERR_SEQUENCE);
}

/* HELLO as name, then batches 1..n of one host row each, in one write. */
static void
send_hello_batches(int fd, const char *name, uint64_t n)
{
	struct proto_buf b;
	uint64_t seq;

	proto_buf_init(&b);
	hello_frame(&b, name);
	for (seq = 1; seq <= n; seq++)
		batch_frame(&b, seq, bucket_now(), 0);
	send_buf(fd, &b);
}

static void
test_backpressure(void **state)
{
	struct fixture *f = *state;
	uint64_t seq;
	int fd = client(f);

	/* Every batch is over the cap: reading pauses and resumes each time. */
	f->srv.queued_max = 1;
	send_hello_batches(fd, "bp", 20);
	assert_int_equal(expect_welcome(f, fd), 0);
	for (seq = 1; seq <= 20; seq++)
		assert_int_equal(expect_ack(f, fd), seq);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"), 20);
	close(fd);
}

static void
test_shutdown_says_so(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "a1");
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	assert_int_equal(expect_ack(f, fd), 1);
	server_shutdown(&f->srv, t_closed);
	expect_error(f, fd, PROTO_ERR_SHUTDOWN);
	pump_until(f, is_closed);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 1);
}

/*
 * SIGTERM with batches still in the writer: every batch that reached the
 * writer is committed and acknowledged before the ERROR(SHUTDOWN), and
 * nothing is acknowledged that is not committed.
 */
static void
test_shutdown_drains(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	struct proto_error er;
	struct proto_ack a;
	uint8_t body[4096];
	uint64_t seq, last = 0;
	size_t n;
	int fd = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "drain");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	for (seq = 1; seq <= 200; seq++)
		batch_frame(&b, seq, bucket_now(), 0);
	send_buf(fd, &b);
	/* Let the loop read some of it into the writer, then stop. */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	print_message("%zu items in the writer at shutdown\n",
	    f->srv.noutstanding);
	server_shutdown(&f->srv, t_closed);
	for (;;) {
		assert_int_equal(recv_frame(f, fd, body, &n), 0);
		if (proto_decode_ack(body, n, &a) != PROTO_OK)
			break;
		assert_int_equal(a.seq, last + 1);
		last = a.seq;
	}
	assert_int_equal(proto_decode_error(body, n, &er), PROTO_OK);
	assert_int_equal(er.code, PROTO_ERR_SHUTDOWN);
	pump_until(f, is_closed);
	print_message("%llu of 200 batches committed and acked at shutdown\n",
	    (unsigned long long)last);
	assert_true(last >= 1);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), (int64_t)last);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"),
	    (int64_t)last);
	close(fd);
}

/* Runs the loop for ms milliseconds; fails if fd has a reply meanwhile. */
static void
expect_silence(struct fixture *f, int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int i;

	for (i = 0; i < ms; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		assert_int_equal(poll(&pfd, 1, 1), 0);
	}
}

/*
 * The store's connection waits TEST_BUSY_MS, not the store's 5 s, for a
 * lock another connection holds: a test of what follows a failed commit
 * need not wait out the production timeout.  The writer is idle when it
 * is called (sqlite3 is built serialized in any case).
 */
#define TEST_BUSY_MS	100
static void
short_busy_timeout(struct fixture *f)
{
	assert_int_equal(sqlite3_busy_timeout(db_handle(f->db), TEST_BUSY_MS),
	    SQLITE_OK);
}

/* Another connection takes the database's write lock and keeps it. */
static sqlite3 *
hold_write_lock(struct fixture *f)
{
	sqlite3 *other;

	assert_int_equal(sqlite3_open(f->dbpath, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	return other;
}

static void
release_write_lock(sqlite3 *other)
{
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
}

static void
test_commit_failure_retried(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	sqlite3 *other;
	int fd = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "a1");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);

	/* Another writer holds the lock past busy_timeout: SQLITE_BUSY. */
	short_busy_timeout(f);
	other = hold_write_lock(f);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd, &b);
	/*
	 * No ACK for what is not committed; the connection stays open.
	 * Past the first failure and the retry 1 s later, failed too.
	 */
	expect_silence(f, fd, 1500);
	release_write_lock(other);
	/* The retry timer brings the same batch back: ACK, counted once. */
	assert_int_equal(expect_ack(f, fd), 1);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 1);
	close(fd);
}

/*
 * ACKs the kernel takes are not unread: 1,500 handed over at once after
 * a stall, to a peer that reads them, close nothing.  (Counted as queued
 * writes until libuv's callbacks ran, they once closed such a peer.)
 */
static void
test_many_acks_at_once(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	sqlite3 *other;
	uint64_t seq;
	int fd = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "many");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	short_busy_timeout(f);
	other = hold_write_lock(f);
	proto_buf_init(&b);
	for (seq = 1; seq <= 1500; seq++)
		batch_frame(&b, seq, bucket_now(), 0);
	send_buf(fd, &b);
	expect_silence(f, fd, 1500);
	release_write_lock(other);
	for (seq = 1; seq <= 1500; seq++)
		assert_int_equal(expect_ack(f, fd), seq);
	assert_int_equal(f->srv.nrejected, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 1500);
	close(fd);
}

/* Expects an ERROR with code and text containing want, then the end. */
static void
expect_error_text(struct fixture *f, int fd, uint32_t code, const char *want)
{
	uint8_t body[4096];
	struct proto_error er;
	size_t n;

	assert_int_equal(recv_frame(f, fd, body, &n), 0);
	assert_int_equal(proto_decode_error(body, n, &er), PROTO_OK);
	if (er.code != code || strstr(er.text, want) == NULL)
		fail_msg("ERROR %u (%s), want %u with \"%s\"", er.code, er.text,
		    code, want);
	assert_int_equal(recv_frame(f, fd, body, &n), -1);
	close(fd);
}

/*
 * A batch whose data the database refuses for good (a trigger): the
 * group is applied one item per transaction, the culprit is answered
 * with ERROR and its connection closed, what came before it and the
 * other agent's batch commit, and what its connection sent after it is
 * not applied, so it commits in order on the next connection.
 */
static void
test_data_refused(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	sqlite3 *other;
	int64_t good = bucket_now(), bad = good - 600;
	char sql[256];
	int fd1, fd2, fd3;

	assert_int_equal(sqlite3_open(f->dbpath, &other), SQLITE_OK);
	snprintf(sql, sizeof(sql), "CREATE TRIGGER poison BEFORE INSERT ON "
	    "host_stat WHEN NEW.bucket = %lld BEGIN SELECT RAISE(ABORT, "
	    "'test poison'); END; CREATE TRIGGER nohello BEFORE INSERT ON "
	    "agent WHEN NEW.name = 'a3' BEGIN SELECT RAISE(ABORT, "
	    "'no a3'); END", (long long)bad);
	assert_int_equal(sqlite3_exec(other, sql, NULL, NULL, NULL),
	    SQLITE_OK);
	proto_buf_init(&b);
	fd1 = client(f);
	hello_frame(&b, "a1");
	send_buf(fd1, &b);
	assert_int_equal(expect_welcome(f, fd1), 0);
	fd2 = client(f);
	hello_frame(&b, "a2");
	send_buf(fd2, &b);
	assert_int_equal(expect_welcome(f, fd2), 0);

	/* The lock held, all four queue up: a1's and a2's in one group. */
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	batch_frame(&b, 1, good, 0);
	batch_frame(&b, 2, bad, 0);
	batch_frame(&b, 3, good, 0);
	send_buf(fd1, &b);
	batch_frame(&b, 1, good, 0);
	send_buf(fd2, &b);
	pump_until_outstanding(f, 4);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(expect_ack(f, fd1), 1);
	expect_error_text(f, fd1, PROTO_ERR_BAD_FRAME,
	    "BATCH 2 of epoch 1700000000 refused by the database, not "
	    "stored: test poison");
	assert_int_equal(expect_ack(f, fd2), 1);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"), 2);
	assert_int_equal(count(f, "SELECT last_seq FROM agent WHERE name = "
	    "'a1'"), 1);

	/* Resent: 2 is refused again, 3 behind it is still not applied. */
	fd1 = client(f);
	hello_frame(&b, "a1");
	batch_frame(&b, 2, bad, 0);
	batch_frame(&b, 3, good, 0);
	send_buf(fd1, &b);
	assert_int_equal(expect_welcome(f, fd1), 1);
	expect_error_text(f, fd1, PROTO_ERR_BAD_FRAME, "test poison");
	assert_int_equal(count(f, "SELECT last_seq FROM agent WHERE name = "
	    "'a1'"), 1);
	/* The agent drops 2 and goes on: 3 commits. */
	fd1 = client(f);
	hello_frame(&b, "a1");
	batch_frame(&b, 3, good, 0);
	send_buf(fd1, &b);
	assert_int_equal(expect_welcome(f, fd1), 1);
	assert_int_equal(expect_ack(f, fd1), 3);

	/* A HELLO the database refuses: ERROR, and the others go on. */
	fd3 = client(f);
	hello_frame(&b, "a3");
	send_buf(fd3, &b);
	expect_error_text(f, fd3, PROTO_ERR_BAD_FRAME, "HELLO refused by the "
	    "database, not stored: no a3");
	batch_frame(&b, 2, good, 0);
	send_buf(fd2, &b);
	assert_int_equal(expect_ack(f, fd2), 2);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM agent"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 4);
	assert_int_equal(f->srv.nrejected, 3);
	close(fd1);
	close(fd2);
	sqlite3_close(other);
}

/* Half a frame, then nothing: closed with ERROR after the read timeout. */
static void
test_stall_half_frame(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd = client(f), fd2;

	f->srv.read_timeout_ms = 200;
	proto_buf_init(&b);
	hello_frame(&b, "st");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	batch_frame(&b, 1, bucket_now(), 0);
	send_all(fd, b.data, b.len / 2);
	proto_buf_clear(&b);
	/* Another agent is served meanwhile and stays connected. */
	fd2 = client(f);
	hello_frame(&b, "other");
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd2, &b);
	assert_int_equal(expect_welcome(f, fd2), 0);
	assert_int_equal(expect_ack(f, fd2), 1);
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 1);
	batch_frame(&b, 2, bucket_now(), 0);
	send_buf(fd2, &b);
	assert_int_equal(expect_ack(f, fd2), 2);
	close(fd2);
}

/* Connected, never a HELLO: closed too; an idle agent after it is not. */
static void
test_stall_no_hello(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd = client(f), fd2 = client(f);

	f->srv.read_timeout_ms = 200;
	proto_buf_init(&b);
	hello_frame(&b, "idle");
	send_buf(fd2, &b);
	assert_int_equal(expect_welcome(f, fd2), 0);
	expect_error(f, fd, PROTO_ERR_SEQUENCE);
	/* Idle with nothing owed, well past the timeout: still served. */
	expect_silence(f, fd2, 500);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd2, &b);
	assert_int_equal(expect_ack(f, fd2), 1);
	close(fd2);
}

static int
conns_left(struct fixture *f)
{
	return f->srv.nconns == 0;
}

/*
 * A peer that never reads its ACKs is closed once its socket takes no
 * more and they queue in the store.
 */
static void
test_unread_acks(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd;
	struct proto_buf b;
	uint64_t seq;
	size_t off = 0;
	ssize_t n;
	int fd = client(f), closed = 0, i;

	f->srv.unread_max = 1;
	proto_buf_init(&b);
	hello_frame(&b, "deaf");
	for (seq = 1; seq <= 20000; seq++)
		batch_frame(&b, seq, bucket_now(), 0);
	/* Write without ever reading, as long as the store takes bytes. */
	for (i = 0; i < 20000 && !closed; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (off < b.len && poll(&pfd, 1, 1) == 1 &&
		    (pfd.revents & POLLOUT)) {
			n = send(fd, b.data + off, b.len - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno != EAGAIN)
				closed = 1;
		}
		if (pfd.revents & (POLLHUP | POLLERR))
			closed = 1;
		if (off == b.len)
			usleep(1000);
		if (f->srv.nconns == 0)
			closed = 1;
	}
	proto_buf_clear(&b);
	pump_until(f, conns_left);
	assert_true(off < b.len || f->srv.nconns == 0);
	/* What was committed stays committed; nothing beyond it. */
	assert_true(count(f, "SELECT count(*) FROM batch") < 20000);
	assert_true(f->srv.nrejected >= 1);
	close(fd);
}

/* n STATUS requests in one buffer. */
static void
status_frames(struct proto_buf *b, int n)
{
	while (n-- > 0)
		assert_int_equal(proto_encode_status(b), 0);
}

/*
 * STATUS replies count against unread_max as ACKs do: a peer asking
 * without reading is closed once its socket takes no more, where one
 * that reads each reply is not.
 */
static void
test_unread_status(void **state)
{
	struct fixture *f = *state;
	struct proto_status *r;
	uint8_t body[1 << 16];
	struct proto_buf b;
	size_t n;
	int fd, i;

	f->srv.unread_max = 1;
	fd = client(f);
	for (i = 0; i < 20; i++) {
		proto_buf_init(&b);
		status_frames(&b, 1);
		send_buf(fd, &b);
		assert_int_equal(recv_frame(f, fd, body, &n), 0);
	}
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(proto_decode_status_reply(body, n, r), PROTO_OK);
	free(r);
	assert_int_equal(f->srv.nrejected, 0);
	close(fd);

	/* Megabytes of replies, never read: the socket fills first. */
	fd = client(f);
	for (i = 0; i < 40 && f->srv.nconns > 0; i++) {
		proto_buf_init(&b);
		status_frames(&b, 1000);
		send_buf(fd, &b);
		uv_run(&f->loop, UV_RUN_NOWAIT);
	}
	pump_until(f, conns_left);
	assert_int_equal(f->srv.nrejected, 1);
	close(fd);
}

/*
 * A shutdown does not wait on a peer that reads nothing: its replies
 * fill the socket, the last ERROR cannot be written, and the goodbye
 * deadline closes it.
 */
static void
test_shutdown_deaf_peer(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd, i;

	f->srv.goodbye_ms = 200;
	f->srv.unread_max = SIZE_MAX;
	fd = client(f);
	proto_buf_init(&b);
	hello_frame(&b, "deaf");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	/* 20,000 STATUS replies, megabytes, never read: the socket fills. */
	for (i = 0; i < 20; i++) {
		proto_buf_init(&b);
		status_frames(&b, 1000);
		send_buf(fd, &b);
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->srv.nconns, 1);
	server_shutdown(&f->srv, t_closed);
	pump_until(f, is_closed);
	close(fd);
}

/*
 * Backpressure holds for frames already read: with every batch over the
 * cap, the writer never holds more than the HELLO and one batch, though
 * all twenty came in one write.
 */
static void
test_backpressure_buffered(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t;
	size_t most = 0;
	int fd = client(f);

	f->srv.queued_max = 1;
	send_hello_batches(fd, "bp", 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (count(f, "SELECT count(*) FROM batch") < 20) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (f->srv.noutstanding > most)
			most = f->srv.noutstanding;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			fail_msg("timed out waiting for the store");
	}
	assert_true(most <= 2);
	close(fd);
}

static void
test_probe_refuses_running(void **state)
{
	struct fixture *f = *state;
	char err[512];

	/* Our own listener answers: a second store must refuse. */
	assert_int_equal(listen_probe(f->sock, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another nettally-stored"));
}

/* A peer trickling a frame's bytes is still cut once the clock runs out. */
static void
test_stall_trickle(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd;
	struct timespec t0, t;
	struct proto_buf b;
	uint8_t hdr[8] = { 0, 1, 0, 0, 0x94, 0, 0, 0 };	/* 64 KiB body */
	int fd = client(f), ms = 0;

	f->srv.read_timeout_ms = 300;
	proto_buf_init(&b);
	hello_frame(&b, "trickle");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_all(fd, hdr, sizeof(hdr));
	/* A byte every 50 ms: the old clock, reset by bytes, never ran out. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (ms = 0; ms < 3000; ms++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 1) == 1)
			break;
		if (ms % 50 == 49)
			(void)send(fd, "\0", 1, MSG_NOSIGNAL);
	}
	expect_error(f, fd, PROTO_ERR_BAD_FRAME);
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_true((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
	close(fd);
}

/* A BATCH frame of n host records, 10.0.x.y each. */
static void
big_batch_frame(struct proto_buf *b, uint64_t seq, size_t n)
{
	struct proto_host_rec *h;
	struct proto_batch bt;
	size_t i;

	h = calloc(n, sizeof(*h));
	assert_non_null(h);
	for (i = 0; i < n; i++) {
		h[i].k.bucket = bucket_now();
		h[i].k.host.family = PROTO_AF_INET;
		h[i].k.host.a[0] = 10;
		h[i].k.host.a[2] = (uint8_t)(i >> 8);
		h[i].k.host.a[3] = (uint8_t)i;
		h[i].k.proto = 17;
		h[i].k.dir = PROTO_DIR_IN;
		h[i].c.packets = 1;
		h[i].c.bytes = 100;
		h[i].c.frame_bytes = 114;
	}
	memset(&bt, 0, sizeof(bt));
	bt.seq = seq;
	bt.first_ts = bucket_now();
	bt.last_ts = bt.first_ts;
	bt.hosts = h;
	bt.nhosts = n;
	assert_int_equal(proto_encode_batch(b, &bt), 0);
	free(h);
}

static int
input_taken(struct fixture *f)
{
	return f->srv.input_used > 0;
}

/*
 * Two peers' frames do not fit in input_max together: the second waits,
 * unread, while the first is read, then goes on; neither is cut.
 */
static void
test_input_budget(void **state)
{
	struct fixture *f = *state;
	struct proto_buf ha, hb, fa, fb;
	int a = client(f), c = client(f);
	size_t grown;

	proto_buf_init(&ha);
	proto_buf_init(&hb);
	proto_buf_init(&fa);
	proto_buf_init(&fb);
	hello_frame(&ha, "in-a");
	hello_frame(&hb, "in-b");
	send_buf(a, &ha);
	send_buf(c, &hb);
	assert_int_equal(expect_welcome(f, a), 0);
	assert_int_equal(expect_welcome(f, c), 0);
	big_batch_frame(&fa, 1, 8000);
	big_batch_frame(&fb, 1, 8000);
	assert_true(fa.len > 128 << 10 && fa.len < 160 << 10);
	/* Beyond its 64 KiB, each frame's buffer; room for one of them. */
	grown = fa.len - (64 << 10);
	f->srv.input_max = 2 * grown - 1;
	send_all(a, fa.data, fa.len - 10);
	pump_until(f, input_taken);
	assert_int_equal(f->srv.input_used, grown);
	send_all(c, fb.data, fb.len - 10);
	expect_silence(f, c, 300);
	assert_int_equal(f->srv.input_used, grown);
	/* a's frame ends: its room goes to c, which is read on. */
	send_all(a, fa.data + fa.len - 10, 10);
	assert_int_equal(expect_ack(f, a), 1);
	send_all(c, fb.data + fb.len - 10, 10);
	assert_int_equal(expect_ack(f, c), 1);
	/* No one waits: c keeps its room for a frame alike. */
	assert_int_equal(f->srv.input_used, grown);
	/* a's next big frame takes the room c holds idle, at once. */
	proto_buf_clear(&fa);
	big_batch_frame(&fa, 2, 8000);
	send_buf(a, &fa);
	assert_int_equal(expect_ack(f, a), 2);
	assert_int_equal(f->srv.input_used, grown);
	/* A frame under half of a's room: a's buffer shrinks back to it. */
	proto_buf_clear(&fa);
	batch_frame(&fa, 3, bucket_now(), 0);
	send_buf(a, &fa);
	assert_int_equal(expect_ack(f, a), 3);
	assert_int_equal(f->srv.input_used, 0);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"),
	    24001);
	proto_buf_clear(&fa);
	proto_buf_clear(&fb);
	close(a);
	close(c);
}

/*
 * The room a frame gives back goes to the peer that has waited longest,
 * not to the newest connection: served newest first, a peer opening
 * connection after connection kept an agent's big frame waiting.
 */
static void
test_input_budget_order(void **state)
{
	struct fixture *f = *state;
	struct proto_buf h, fa, fb, fc;
	int a = client(f), b = client(f), c = client(f);
	size_t grown;

	proto_buf_init(&h);
	hello_frame(&h, "or-a");
	send_buf(a, &h);
	hello_frame(&h, "or-b");
	send_buf(b, &h);
	hello_frame(&h, "or-c");
	send_buf(c, &h);
	assert_int_equal(expect_welcome(f, a), 0);
	assert_int_equal(expect_welcome(f, b), 0);
	assert_int_equal(expect_welcome(f, c), 0);
	proto_buf_init(&fa);
	proto_buf_init(&fb);
	proto_buf_init(&fc);
	big_batch_frame(&fa, 1, 8000);
	big_batch_frame(&fb, 1, 8000);
	big_batch_frame(&fc, 1, 8000);
	/* Room for one grown frame: a has it, b waits, then c waits. */
	grown = fa.len - (64 << 10);
	f->srv.input_max = 2 * grown - 1;
	send_all(a, fa.data, fa.len - 10);
	pump_until(f, input_taken);
	send_all(b, fb.data, fb.len - 10);
	expect_silence(f, b, 200);
	send_all(c, fc.data, fc.len - 10);
	expect_silence(f, c, 200);
	/* a's frame ends: its room goes to b, which waited first. */
	send_all(a, fa.data + fa.len - 10, 10);
	assert_int_equal(expect_ack(f, a), 1);
	send_all(b, fb.data + fb.len - 10, 10);
	assert_int_equal(expect_ack(f, b), 1);
	send_all(c, fc.data + fc.len - 10, 10);
	assert_int_equal(expect_ack(f, c), 1);
	/* The last one read keeps its room, no one waiting. */
	assert_int_equal(f->srv.input_used, grown);
	proto_buf_clear(&fa);
	proto_buf_clear(&fb);
	proto_buf_clear(&fc);
	close(a);
	close(b);
	close(c);
}

/*
 * No memory for the first accepts: the connection waits in the listener
 * and is accepted once memory is back, and the listener is watched
 * again.  (Returning without accepting, the store never accepted again.)
 */
static void
test_accept_no_memory(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	int fd, fd2;

	conn_nomem = 3;
	fd = client(f);
	proto_buf_init(&b);
	hello_frame(&b, "nomem");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	assert_int_equal(conn_nomem, 0);
	assert_null(f->srv.accept_waiting);
	fd2 = client(f);
	hello_frame(&b, "after");
	send_buf(fd2, &b);
	assert_int_equal(expect_welcome(f, fd2), 0);
	close(fd);
	close(fd2);
}

/* Connects n agents named prefix0, prefix1, ... one after the other. */
static void
fill_agents(struct fixture *f, int *fds, int n, const char *prefix)
{
	struct proto_buf b;
	char name[32];
	int i;

	proto_buf_init(&b);
	for (i = 0; i < n; i++) {
		fds[i] = client(f);
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		hello_frame(&b, name);
		send_buf(fds[i], &b);
		assert_int_equal(expect_welcome(f, fds[i]), 0);
	}
	assert_int_equal(f->srv.nconns, n);
}

static void
close_all(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* Runs the loop for ms milliseconds. */
static void
pump_for(struct fixture *f, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/*
 * CONN_MAX idle agents do not lock a new one out: the one idle longest
 * is told why and closed, the new one is welcomed, the rest go on.
 */
static void
test_evict_idle(void **state)
{
	struct fixture *f = *state;
	static int fds[CONN_MAX];
	struct proto_buf b;
	int fd;

	f->srv.evict_idle_ms = 200;
	fill_agents(f, fds, CONN_MAX, "idle");
	pump_for(f, 300);
	fd = client(f);
	proto_buf_init(&b);
	hello_frame(&b, "newcomer");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	expect_error_text(f, fds[0], PROTO_ERR_REFUSED, "while the store had "
	    "256 connections: closed to let a new one in");
	fds[0] = -1;
	assert_int_equal(f->srv.nlive, CONN_MAX);
	/* Not counted as a bad peer: it did nothing wrong. */
	assert_int_equal(f->srv.nrejected, 0);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fds[1], &b);
	assert_int_equal(expect_ack(f, fds[1]), 1);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fd, &b);
	assert_int_equal(expect_ack(f, fd), 1);
	close(fd);
	close_all(fds, CONN_MAX);
}

/* Sends STATUS on fd and reads the reply. */
static void
ask_status(struct fixture *f, int fd)
{
	static uint8_t body[1 << 16];
	struct proto_buf b;
	size_t n;

	proto_buf_init(&b);
	status_frames(&b, 1);
	send_buf(fd, &b);
	assert_int_equal(recv_frame(f, fd, body, &n), 0);
}

/*
 * Silent longer than the idle one that goes, but owing or owed: a frame
 * half sent, a batch the writer holds (its ACK owed), replies its socket
 * did not take; and, silent for less, one that sent a frame just now.
 * None of them is the one evicted.
 */
static void
test_evict_spares_busy(void **state)
{
	struct fixture *f = *state;
	static int fds[CONN_MAX];
	struct proto_buf b, half;
	sqlite3 *other;
	int fd, i;

	f->srv.evict_idle_ms = 200;
	f->srv.read_timeout_ms = 60000;
	f->srv.unread_max = SIZE_MAX;
	fill_agents(f, fds, CONN_MAX, "busy");
	/* 0: half a frame. */
	proto_buf_init(&half);
	batch_frame(&half, 1, bucket_now(), 0);
	send_all(fds[0], half.data, half.len / 2);
	/* 2: a batch in the writer, which waits for the lock. */
	other = hold_write_lock(f);
	proto_buf_init(&b);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fds[2], &b);
	pump_until_outstanding(f, 1);
	/* 3: megabytes of STATUS replies, never read. */
	status_frames(&b, 200);
	send_buf(fds[3], &b);
	pump_for(f, 20);
	/* The rest speak after them: 4 first, so it is the one to go. */
	ask_status(f, fds[4]);
	pump_for(f, 5);
	for (i = 5; i < CONN_MAX; i++) {
		status_frames(&b, 1);
		send_buf(fds[i], &b);
	}
	pump_for(f, 300);
	/* 1: a frame just now. */
	ask_status(f, fds[1]);
	fd = client(f);
	hello_frame(&b, "newcomer");
	send_buf(fd, &b);
	expect_error_text(f, fds[4], PROTO_ERR_REFUSED, "idle for");
	fds[4] = -1;
	release_write_lock(other);
	assert_int_equal(expect_ack(f, fds[2]), 1);
	assert_int_equal(expect_welcome(f, fd), 0);
	send_all(fds[0], half.data + half.len / 2, half.len - half.len / 2);
	proto_buf_clear(&half);
	assert_int_equal(expect_ack(f, fds[0]), 1);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fds[1], &b);
	assert_int_equal(expect_ack(f, fds[1]), 1);
	assert_int_equal(f->srv.nlive, CONN_MAX);
	close(fd);
	close_all(fds, CONN_MAX);
}

/*
 * No connection may go: a new one is refused as before.  First none has
 * been idle for evict_idle_ms; then all have, but the store is paused
 * for backpressure, which is no peer's silence.
 */
static void
test_evict_none_refused(void **state)
{
	struct fixture *f = *state;
	static int fds[CONN_MAX];
	struct proto_buf b;
	sqlite3 *other;
	int fd;

	proto_buf_init(&b);
	fill_agents(f, fds, CONN_MAX, "full");
	/* No HELLO: closed with it unread, the socket would be reset. */
	fd = client(f);
	expect_error_text(f, fd, PROTO_ERR_REFUSED, "more than 256 "
	    "connections");

	f->srv.evict_idle_ms = 200;
	f->srv.queued_max = 1;
	other = hold_write_lock(f);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fds[0], &b);
	pump_until_outstanding(f, 1);
	assert_true(f->srv.paused);
	pump_for(f, 300);
	fd = client(f);
	expect_error_text(f, fd, PROTO_ERR_REFUSED, "more than 256 "
	    "connections");
	release_write_lock(other);
	assert_int_equal(expect_ack(f, fds[0]), 1);
	assert_int_equal(f->srv.nlive, CONN_MAX);
	close_all(fds, CONN_MAX);
}

/*
 * Agent "mem" takes all the input memory with a frame it has not ended,
 * and agent "same" begins a frame that does not fit: "same" is not read
 * until "mem" ends its frame.  Returns "same"'s socket, with batch 1
 * acknowledged and, if lock is not NULL, batch 2 in the writer, waiting
 * for the write lock taken in *lock; its unfinished frame is the next
 * batch.  The rest of "mem"'s frame stays in *fa, from *fa_off.
 */
static int
starve_same(struct fixture *f, int a, struct proto_buf *fa, size_t *fa_off,
    sqlite3 **lock)
{
	struct proto_buf b, fo;
	size_t grown;
	uint64_t seq = 2;
	int o = client(f);

	proto_buf_init(&b);
	hello_frame(&b, "mem");
	send_buf(a, &b);
	assert_int_equal(expect_welcome(f, a), 0);
	hello_frame(&b, "same");
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(o, &b);
	assert_int_equal(expect_welcome(f, o), 0);
	assert_int_equal(expect_ack(f, o), 1);
	if (lock != NULL) {
		*lock = hold_write_lock(f);
		batch_frame(&b, seq++, bucket_now(), 0);
		send_buf(o, &b);
		pump_until_outstanding(f, 1);
	}
	proto_buf_init(fa);
	proto_buf_init(&fo);
	big_batch_frame(fa, 1, 8000);
	big_batch_frame(&fo, seq, 8000);
	grown = fa->len - (64 << 10);
	f->srv.input_max = 2 * grown - 1;
	send_all(a, fa->data, fa->len - 10);
	*fa_off = fa->len - 10;
	pump_until(f, input_taken);
	send_all(o, fo.data, fo.len - 10);
	expect_silence(f, o, 200);
	proto_buf_clear(&fo);
	return o;
}

/*
 * The holder of a name is not read (starved of input memory) and its
 * peer hangs up: the agent's HELLO on a new connection is welcomed, not
 * refused as a duplicate until the old connection is read again.  The
 * old connection's batch 2, in the writer when it went, commits before
 * the new HELLO, whose WELCOME counts it; its unfinished batch 3 is not
 * counted, and the new connection sends it.
 */
static void
test_hung_up_starved(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b, fa;
	sqlite3 *other;
	size_t fa_off;
	int a = client(f), o, n;

	o = starve_same(f, a, &fa, &fa_off, &other);
	close(o);
	n = client(f);
	proto_buf_init(&b);
	hello_frame(&b, "same");
	send_buf(n, &b);
	pump_until_outstanding(f, 2);
	assert_int_equal(f->srv.nlive, 2);
	release_write_lock(other);
	assert_int_equal(expect_welcome(f, n), 2);
	batch_frame(&b, 3, bucket_now(), 0);
	send_buf(n, &b);
	assert_int_equal(expect_ack(f, n), 3);
	assert_int_equal(f->srv.nrejected, 0);
	send_all(a, fa.data + fa_off, fa.len - fa_off);
	proto_buf_clear(&fa);
	assert_int_equal(expect_ack(f, a), 1);
	assert_int_equal(count(f, "SELECT last_seq FROM agent WHERE"
	    " name = 'same'"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM batch b JOIN agent a"
	    " ON a.id = b.agent_id WHERE a.name = 'same'"), 3);
	/* 8,000 from "mem", one from each batch of "same". */
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"),
	    8003);
	/* a, read last, keeps its room; the closed holder's came back. */
	assert_int_equal(f->srv.input_used, fa_off + 10 - (64 << 10));
	close(a);
	close(n);
}

/*
 * The holder waits for its HELLO's commit (the database is locked), so
 * it is not read, and its peer hangs up: the new connection's HELLO
 * queues behind the old one and is welcomed once the lock goes.
 */
static void
test_hung_up_hello(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	sqlite3 *other;
	int o = client(f), n;

	proto_buf_init(&b);
	other = hold_write_lock(f);
	hello_frame(&b, "same");
	send_buf(o, &b);
	pump_until_outstanding(f, 1);
	close(o);
	n = client(f);
	hello_frame(&b, "same");
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(n, &b);
	pump_until_outstanding(f, 2);
	assert_int_equal(f->srv.nlive, 1);
	release_write_lock(other);
	assert_int_equal(expect_welcome(f, n), 0);
	assert_int_equal(expect_ack(f, n), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM agent"), 1);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 1);
	close(n);
}

/*
 * The hung-up holder's HELLO, of the agent's old run, waits in the
 * writer behind another agent's batch that failed (the database locked)
 * and went back to the head of the queue; the restarted agent's HELLO,
 * of a new run, must not go ahead of it.  It did, being only kept behind
 * its agent's batches: the old HELLO, applied second, took the agent
 * back to its old run, and every batch of the new one came back stale,
 * never acknowledged.  The new HELLO is sent while the failed group
 * waits for its retry (5 s of busy timeout, then 1 s), when the
 * reordering showed; with the HELLO kept behind, any moment is right.
 */
static void
test_hung_up_hello_order(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t;
	struct proto_buf b;
	sqlite3 *other;
	int x = client(f), o, n;

	proto_buf_init(&b);
	hello_frame(&b, "x");
	send_buf(x, &b);
	assert_int_equal(expect_welcome(f, x), 0);
	other = hold_write_lock(f);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(x, &b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pump_until_outstanding(f, 1);
	pump_for(f, 100);
	/* The writer holds x's batch, waiting for the lock. */
	o = client(f);
	hello_frame_at(&b, "same", 1700000000);
	send_buf(o, &b);
	pump_until_outstanding(f, 2);
	close(o);
	do {
		pump_for(f, 10);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < 5500);
	n = client(f);
	hello_frame_at(&b, "same", 1700000100);
	send_buf(n, &b);
	pump_until_outstanding(f, 3);
	release_write_lock(other);
	assert_int_equal(expect_ack(f, x), 1);
	assert_int_equal(expect_welcome(f, n), 0);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(n, &b);
	assert_int_equal(expect_ack(f, n), 1);
	assert_int_equal(count(f, "SELECT epoch FROM agent WHERE"
	    " name = 'same'"), 1700000100);
	assert_int_equal(count(f, "SELECT last_seq FROM agent WHERE"
	    " name = 'same'"), 1);
	close(x);
	close(n);
}

/* Triggers log each HELLO's epoch and each batch in t_applied as applied. */
static void
log_applied(struct fixture *f)
{
	sqlite3 *other;

	assert_int_equal(sqlite3_open(f->dbpath, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "CREATE TABLE t_applied ("
	    "n INTEGER PRIMARY KEY, what TEXT NOT NULL); "
	    "CREATE TRIGGER t_agent AFTER INSERT ON agent BEGIN "
	    "INSERT INTO t_applied (what) VALUES (NEW.name || '@' || "
	    "NEW.epoch); END; "
	    "CREATE TRIGGER t_epoch AFTER UPDATE OF epoch ON agent "
	    "WHEN NEW.epoch <> OLD.epoch BEGIN "
	    "INSERT INTO t_applied (what) VALUES (NEW.name || '@' || "
	    "NEW.epoch); END; "
	    "CREATE TRIGGER t_batch AFTER INSERT ON batch BEGIN "
	    "INSERT INTO t_applied (what) SELECT name || '#' || NEW.seq "
	    "FROM agent WHERE id = NEW.agent_id; END", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
}

/* What the triggers of log_applied saw, in order, into out. */
static void
applied(struct fixture *f, char *out, size_t size)
{
	sqlite3 *rd;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(f->dbpath, &rd, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(rd, "SELECT group_concat(what, "
	    "' ') FROM (SELECT what FROM t_applied ORDER BY n)", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(rd);
}

/*
 * A restarted agent's HELLO queues behind its hung-up holder's HELLO,
 * still waiting in the writer, but ahead of the backlog of other
 * agents' batches queued after that: its WELCOME must not wait for the
 * backlog, or under a long one a HELLO retried after the agent's 5 s
 * deadline misses it again.  The order is read from the database
 * (triggers log each HELLO's epoch and each batch as it is applied),
 * which is the queue order, and the order the replies go out in.
 * While x's batch 1 holds the writer (the database locked), "same"
 * sends its HELLO, hangs up, x sends 2 to 5, and "same" restarts.
 * Before, the new HELLO went to the very tail once any item of its
 * agent's was queued: applied after x's 2 to 5.
 */
static void
test_hung_up_hello_backlog(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	sqlite3 *other;
	char got[512];
	const char *p_old, *p_new, *p_x2;
	uint64_t seq;
	int x = client(f), o, n;

	log_applied(f);
	proto_buf_init(&b);
	hello_frame(&b, "x");
	send_buf(x, &b);
	assert_int_equal(expect_welcome(f, x), 0);
	other = hold_write_lock(f);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(x, &b);
	pump_until_outstanding(f, 1);
	pump_for(f, 100);
	/* The writer holds x's batch 1, waiting for the lock. */
	o = client(f);
	hello_frame_at(&b, "same", 1700000000);
	send_buf(o, &b);
	pump_until_outstanding(f, 2);
	close(o);
	for (seq = 2; seq <= 5; seq++)
		batch_frame(&b, seq, bucket_now(), 0);
	send_buf(x, &b);
	n = client(f);
	hello_frame_at(&b, "same", 1700000100);
	send_buf(n, &b);
	pump_until_outstanding(f, 7);
	assert_int_equal(f->srv.nlive, 2);
	release_write_lock(other);
	assert_int_equal(expect_welcome(f, n), 0);
	for (seq = 1; seq <= 5; seq++)
		assert_int_equal(expect_ack(f, x), seq);
	/*
	 * Expected: x#1 same@1700000000 same@1700000100 x#2 ... x#5.  Only
	 * what the change is about is asserted: should the writer wake
	 * late and take the old HELLO with x#1, the new one still goes
	 * ahead of x#2.
	 */
	applied(f, got, sizeof(got));
	if ((p_old = strstr(got, "same@1700000000")) == NULL ||
	    (p_new = strstr(got, "same@1700000100")) == NULL ||
	    (p_x2 = strstr(got, "x#2")) == NULL || strstr(got, "x#5") == NULL ||
	    p_old > p_new || p_new > p_x2)
		fail_msg("applied in the order: %s", got);
	assert_int_equal(f->srv.nrejected, 0);
	close(x);
	close(n);
}

/*
 * The store is paused for backpressure with the holder's batch 1 in the
 * writer, and the holder's peer hangs up: once the store reads again,
 * the new connection's HELLO is welcomed, with batch 1 committed and
 * counted once.
 */
static void
test_hung_up_paused(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b;
	sqlite3 *other;
	int o = client(f), n;

	proto_buf_init(&b);
	hello_frame(&b, "same");
	send_buf(o, &b);
	assert_int_equal(expect_welcome(f, o), 0);
	f->srv.queued_max = 1;
	other = hold_write_lock(f);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(o, &b);
	pump_until_outstanding(f, 1);
	assert_true(f->srv.paused);
	close(o);
	n = client(f);
	hello_frame(&b, "same");
	send_buf(n, &b);
	expect_silence(f, n, 100);
	release_write_lock(other);
	/* Batch 1, never acknowledged, was committed: not to be resent. */
	assert_int_equal(expect_welcome(f, n), 1);
	batch_frame(&b, 2, bucket_now(), 0);
	send_buf(n, &b);
	assert_int_equal(expect_ack(f, n), 2);
	assert_int_equal(count(f, "SELECT last_seq FROM agent"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM batch"), 2);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"), 2);
	close(n);
}

/*
 * A holder that is not read but whose peer is still there keeps its
 * name: starved of input memory, or waiting for its HELLO's commit.
 * Read again, it goes on.
 */
static void
test_duplicate_unread(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b, fa;
	sqlite3 *other;
	size_t fa_off;
	int a = client(f), o, n;

	o = starve_same(f, a, &fa, &fa_off, NULL);
	n = client(f);
	proto_buf_init(&b);
	hello_frame(&b, "same");
	send_buf(n, &b);
	expect_error_text(f, n, PROTO_ERR_DUPLICATE, "already connected");
	send_all(a, fa.data + fa_off, fa.len - fa_off);
	proto_buf_clear(&fa);
	assert_int_equal(expect_ack(f, a), 1);
	/* Its frame fits now: the rest of it ends batch 2. */
	big_batch_frame(&fa, 2, 8000);
	send_all(o, fa.data + fa.len - 10, 10);
	proto_buf_clear(&fa);
	assert_int_equal(expect_ack(f, o), 2);
	close(o);
	close(a);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"),
	    16001);

	other = hold_write_lock(f);
	o = client(f);
	hello_frame(&b, "late");
	send_buf(o, &b);
	pump_until_outstanding(f, 1);
	n = client(f);
	hello_frame(&b, "late");
	send_buf(n, &b);
	expect_error(f, n, PROTO_ERR_DUPLICATE);
	release_write_lock(other);
	assert_int_equal(expect_welcome(f, o), 0);
	close(o);
}

static int
one_live(struct fixture *f)
{
	return f->srv.nlive == 1;
}

/*
 * The holder is starved, its peer sends the rest of its batch 2 and
 * hangs up: that whole frame waits in the socket, and closing the
 * connection for the newcomer would lose it (an agent restarted without
 * a spool cannot send it again).  The newcomer is refused until the
 * frame is read and committed; then it is welcomed past it.
 */
static void
test_hung_up_whole_frame_kept(void **state)
{
	struct fixture *f = *state;
	struct proto_buf b, fa;
	size_t fa_off;
	int a = client(f), o, n;

	o = starve_same(f, a, &fa, &fa_off, NULL);
	proto_buf_init(&b);
	big_batch_frame(&b, 2, 8000);
	send_all(o, b.data + b.len - 10, 10);
	proto_buf_consume(&b, b.len);
	close(o);
	n = client(f);
	hello_frame(&b, "same");
	send_buf(n, &b);
	expect_error_text(f, n, PROTO_ERR_DUPLICATE, "already connected");
	send_all(a, fa.data + fa_off, fa.len - fa_off);
	proto_buf_clear(&fa);
	assert_int_equal(expect_ack(f, a), 1);
	pump_until(f, one_live);
	n = client(f);
	hello_frame(&b, "same");
	send_buf(n, &b);
	assert_int_equal(expect_welcome(f, n), 2);
	assert_int_equal(count(f, "SELECT sum(packets) FROM host_stat"),
	    16001);
	proto_buf_clear(&b);
	close(n);
	close(a);
}

/*
 * CONN_MAX connections, the store paused for backpressure, and one peer
 * hangs up: a new connection takes its slot rather than being refused
 * for want of an idle one.
 */
static void
test_evict_hung_up_paused(void **state)
{
	struct fixture *f = *state;
	static int fds[CONN_MAX];
	struct proto_buf b;
	sqlite3 *other;
	int fd;

	proto_buf_init(&b);
	fill_agents(f, fds, CONN_MAX, "gone");
	f->srv.queued_max = 1;
	other = hold_write_lock(f);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fds[0], &b);
	pump_until_outstanding(f, 1);
	assert_true(f->srv.paused);
	close(fds[7]);
	fds[7] = -1;
	fd = client(f);
	hello_frame(&b, "newcomer");
	send_buf(fd, &b);
	expect_silence(f, fd, 100);
	assert_int_equal(f->srv.nlive, CONN_MAX);
	release_write_lock(other);
	assert_int_equal(expect_ack(f, fds[0]), 1);
	assert_int_equal(expect_welcome(f, fd), 0);
	assert_int_equal(f->srv.nrejected, 0);
	close(fd);
	close_all(fds, CONN_MAX);
}

/*
 * CONN_MAX connections, some idle long enough to be evicted, and one
 * not read (starved of input memory) whose peer hangs up: the new
 * connection takes the dead one's slot, and no idle agent is closed.
 */
static void
test_evict_hung_up_first(void **state)
{
	struct fixture *f = *state;
	static int fds[CONN_MAX];
	struct proto_buf b, fa, fo;
	struct pollfd pfd;
	size_t grown;
	int fd, i;

	f->srv.evict_idle_ms = 200;
	fill_agents(f, fds, CONN_MAX, "first");
	proto_buf_init(&fa);
	proto_buf_init(&fo);
	big_batch_frame(&fa, 1, 8000);
	big_batch_frame(&fo, 1, 8000);
	grown = fa.len - (64 << 10);
	f->srv.input_max = 2 * grown - 1;
	/* 0 holds the input memory, 1 waits for it. */
	send_all(fds[0], fa.data, fa.len - 10);
	pump_until(f, input_taken);
	send_all(fds[1], fo.data, fo.len - 10);
	expect_silence(f, fds[1], 50);
	proto_buf_clear(&fo);
	close(fds[1]);
	fds[1] = -1;
	pump_for(f, 300);
	fd = client(f);
	proto_buf_init(&b);
	hello_frame(&b, "newcomer");
	send_buf(fd, &b);
	assert_int_equal(expect_welcome(f, fd), 0);
	/* None of the idle ones was told to go. */
	for (i = 2; i < CONN_MAX; i++) {
		pfd.fd = fds[i];
		pfd.events = POLLIN;
		assert_int_equal(poll(&pfd, 1, 0), 0);
	}
	assert_int_equal(f->srv.nlive, CONN_MAX);
	assert_int_equal(f->srv.nrejected, 0);
	send_all(fds[0], fa.data + fa.len - 10, 10);
	proto_buf_clear(&fa);
	assert_int_equal(expect_ack(f, fds[0]), 1);
	batch_frame(&b, 1, bucket_now(), 0);
	send_buf(fds[2], &b);
	assert_int_equal(expect_ack(f, fds[2]), 1);
	close(fd);
	close_all(fds, CONN_MAX);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_garbage),
		T(test_oversized_header),
		T(test_truncated_body),
		T(test_truncated_stream),
		T(test_batch_before_hello),
		T(test_hello_batches_acks),
		T(test_bad_buckets),
		T(test_duplicate_name),
		T(test_second_hello),
		T(test_backpressure),
		T(test_shutdown_says_so),
		T(test_commit_failure_retried),
		T(test_data_refused),
		T(test_shutdown_drains),
		T(test_stall_half_frame),
		T(test_stall_no_hello),
		T(test_stall_trickle),
		T(test_input_budget),
		T(test_input_budget_order),
		T(test_many_acks_at_once),
		T(test_unread_acks),
		T(test_unread_status),
		T(test_shutdown_deaf_peer),
		T(test_backpressure_buffered),
		T(test_probe_refuses_running),
		T(test_accept_no_memory),
		T(test_evict_idle),
		T(test_evict_spares_busy),
		T(test_evict_none_refused),
		T(test_hung_up_starved),
		T(test_hung_up_hello),
		T(test_hung_up_hello_order),
		T(test_hung_up_hello_backlog),
		T(test_hung_up_paused),
		T(test_duplicate_unread),
		T(test_hung_up_whole_frame_kept),
		T(test_evict_hung_up_paused),
		T(test_evict_hung_up_first),
	};
#undef T

	/* As nettally-stored does: a vanished peer is an error, not death. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
