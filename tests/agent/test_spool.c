/*
 * test_spool.c - tests of agent/spool.c, the spool file format.
 *
 * A file written through the writer's calls is read back by the scanner;
 * then the same file cut at every length, with a flipped byte in each
 * record, and with a seq out of order, must give exactly the records
 * that are whole and good before the damage, never one after it.  Names,
 * listing, locking, the directory check and the CRC are checked too.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

#define NREC	4

static char	tmpdir[64];
static int	dirfd_;

static void	hello_of(struct proto_hello *, const char *, int64_t);
static void	batch_frame(struct proto_buf *, uint64_t);
static int	make_file(struct spool_file *, const char *, int64_t,
		    uint64_t, int, uint64_t *);
static int	setup(void **);
static int	teardown(void **);

static void
hello_of(struct proto_hello *h, const char *name, int64_t start)
{
	memset(h, 0, sizeof(*h));
	h->version = PROTO_VERSION;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->niface = 2;
	strcpy(h->iface[0], "eth0");
	strcpy(h->iface[1], "eth1");
	h->resolution = 60;
	h->start_time = start;
}

/* A BATCH with seq and one interface record, into a fresh buffer. */
static void
batch_frame(struct proto_buf *b, uint64_t seq)
{
	struct proto_iface_rec ir;
	struct proto_batch bt;

	memset(&bt, 0, sizeof(bt));
	memset(&ir, 0, sizeof(ir));
	ir.bucket = 1700000040;
	ir.frames = seq * 10;
	ir.frame_bytes = seq * 1000;
	bt.seq = seq;
	bt.first_ts = bt.last_ts = 1700000059;
	bt.nifaces = 1;
	bt.ifaces = &ir;
	proto_buf_init(b);
	assert_int_equal(proto_encode_batch(b, &bt), 0);
}

/*
 * Creates agent's file for start with n records, seq first..; ends[i] is
 * where record i ends.  Returns the file's fd (still open in f).
 */
static int
make_file(struct spool_file *f, const char *agent, int64_t start,
    uint64_t first, int n, uint64_t *ends)
{
	struct proto_hello h;
	struct proto_buf hb, b;
	uint64_t off;
	int i;

	hello_of(&h, agent, start);
	proto_buf_init(&hb);
	assert_int_equal(proto_encode_hello(&hb, &h), 0);
	assert_int_equal(spool_create(f, dirfd_, agent, start, hb.data, hb.len,
	    &(const char *){ NULL }), 0);
	proto_buf_clear(&hb);
	for (i = 0; i < n; i++) {
		batch_frame(&b, first + (uint64_t)i);
		assert_int_equal(spool_append(f, b.data, b.len, &off), 0);
		assert_int_equal(off + b.len, f->end);
		if (ends != NULL)
			ends[i] = f->end;
		proto_buf_clear(&b);
	}
	assert_int_equal(spool_sync(f), 0);
	return f->fd;
}

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_spool.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY);
	return dirfd_ == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(dirfd_);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_crc32(void **state)
{
	(void)state;
	/* The check value of CRC-32/ISO-HDLC. */
	assert_int_equal(spool_crc32((const uint8_t *)"123456789", 9),
	    0xcbf43926u);
	assert_int_equal(spool_crc32(NULL, 0), 0);
}

static void
test_names(void **state)
{
	char buf[SPOOL_NAME_MAX + 1], other[SPOOL_NAME_MAX + 1];
	char name[PROTO_NAME_MAX + 1];

	(void)state;
	spool_file_name(buf, sizeof(buf), "host:eth0", 17);
	assert_string_equal(buf, "host:eth0.17.spool");
	spool_file_name(buf, sizeof(buf), "a/b c", 1);
	assert_string_equal(buf, "a%2Fb%20c.1.spool");
	spool_file_name(buf, sizeof(buf), "..", 2);
	assert_string_equal(buf, "%2E..2.spool");
	/* The longest name, all escaped: still a legal file name. */
	memset(name, '/', PROTO_NAME_MAX);
	name[PROTO_NAME_MAX] = '\0';
	spool_file_name(buf, sizeof(buf), name, INT64_MAX);
	assert_true(strlen(buf) <= 255);
	assert_non_null(strchr(buf, '~'));
	name[0] = 'x';
	spool_file_name(other, sizeof(other), name, INT64_MAX);
	assert_string_not_equal(buf, other);
}

static void
test_dir_open(void **state)
{
	char path[128], err[512];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/ww", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	fd = spool_dir_open(path, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(spool_dir_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by every user"));
	assert_int_equal(spool_dir_open("/nonexistent/spool", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "create it"));
	rmdir(path);
}

static void
test_round_trip(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	const char *errstr;
	struct proto_buf b;
	uint64_t ends[NREC];
	uint8_t *frame;
	int i;

	(void)state;
	make_file(&f, "rt", 100, 1, NREC, ends);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_string_equal(sc.hello.name, "rt");
	assert_int_equal(sc.hello.start_time, 100);
	assert_int_equal(sc.hello.niface, 2);
	assert_int_equal(sc.nrec, NREC);
	assert_int_equal(sc.skipped, 0);
	for (i = 0; i < NREC; i++) {
		assert_int_equal(sc.rec[i].seq, (uint64_t)i + 1);
		assert_int_equal(sc.rec[i].off + sc.rec[i].len, ends[i]);
		/* The frame read back is the frame written. */
		batch_frame(&b, (uint64_t)i + 1);
		assert_int_equal(sc.rec[i].len, b.len);
		frame = malloc(b.len);
		assert_int_equal(spool_read(f.fd, sc.rec[i].off, frame, b.len),
		    0);
		assert_memory_equal(frame, b.data, b.len);
		free(frame);
		proto_buf_clear(&b);
	}
	spool_scan_clear(&sc);

	/* Cut back to the header: no record, and appends go on from there. */
	assert_int_equal(spool_reset(&f), 0);
	assert_int_equal(f.end, f.hdr_len);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 0);
	spool_scan_clear(&sc);
	batch_frame(&b, 9);
	assert_int_equal(spool_append(&f, b.data, b.len, &ends[0]), 0);
	proto_buf_clear(&b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 1);
	assert_int_equal(sc.rec[0].seq, 9);
	spool_scan_clear(&sc);
	spool_close(&f, 1);
	assert_int_equal(faccessat(dirfd_, f.name, F_OK, 0), -1);
}

/* Every length: the whole records before the cut, nothing after. */
static void
test_truncated(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	const char *errstr;
	uint64_t ends[NREC], len;
	size_t want;
	int fd;

	(void)state;
	fd = make_file(&f, "cut", 200, 1, NREC, ends);
	for (len = ends[NREC - 1]; ; len--) {
		assert_int_equal(ftruncate(fd, (off_t)len), 0);
		if (len < f.hdr_len) {
			/* Torn while created: told apart from a bad file. */
			assert_int_equal(spool_scan_fd(fd, &sc, &errstr), -2);
			assert_non_null(errstr);
		} else {
			assert_int_equal(spool_scan_fd(fd, &sc, &errstr), 0);
			for (want = 0; want < NREC && ends[want] <= len; want++)
				continue;
			assert_int_equal(sc.nrec, want);
			assert_int_equal(sc.skipped, len - (want ?
			    ends[want - 1] : f.hdr_len));
			if (sc.skipped > 0)
				assert_int_equal(sc.torn_at, want ?
				    ends[want - 1] : f.hdr_len);
		}
		spool_scan_clear(&sc);
		if (len == 0)
			break;
	}
	spool_close(&f, 1);
}

/* A flipped byte in record k leaves records 0..k-1. */
static void
test_corrupt(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	const char *errstr;
	uint64_t ends[NREC], start, at;
	uint8_t c;
	int fd, k;

	(void)state;
	fd = make_file(&f, "bad", 300, 1, NREC, ends);
	for (k = 0; k < NREC; k++) {
		start = k ? ends[k - 1] : f.hdr_len;
		/* A byte of the length, of the CRC, and of the frame. */
		for (at = start; at < ends[k]; at += (ends[k] - start) / 5 + 1) {
			assert_int_equal(pread(fd, &c, 1, (off_t)at), 1);
			c ^= 0x20;
			assert_int_equal(pwrite(fd, &c, 1, (off_t)at), 1);
			assert_int_equal(spool_scan_fd(fd, &sc, &errstr), 0);
			assert_int_equal(sc.nrec, (size_t)k);
			assert_int_equal(sc.torn_at, start);
			spool_scan_clear(&sc);
			c ^= 0x20;
			assert_int_equal(pwrite(fd, &c, 1, (off_t)at), 1);
		}
	}
	/* Not a spool file at all. */
	assert_int_equal(pwrite(fd, "X", 1, 0), 1);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), -1);
	assert_int_equal(pwrite(fd, "N", 1, 0), 1);
	/* The header's HELLO: nothing of the file can be trusted. */
	assert_int_equal(pread(fd, &c, 1, SPOOL_HDR_MIN + 6), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, SPOOL_HDR_MIN + 6), 1);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), -1);
	spool_close(&f, 1);
}

/* A record whose seq does not follow ends the file. */
static void
test_seq_gap(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	const char *errstr;
	struct proto_buf b;
	uint64_t off;

	(void)state;
	make_file(&f, "gap", 400, 5, 2, NULL);
	batch_frame(&b, 8);
	assert_int_equal(spool_append(&f, b.data, b.len, &off), 0);
	proto_buf_clear(&b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.rec[1].seq, 6);
	assert_true(sc.skipped > 0);
	spool_scan_clear(&sc);
	spool_close(&f, 1);
}

static void
test_list_and_lock(void **state)
{
	struct spool_file a1, a2, a3, other, dup, lng;
	char longname[PROTO_NAME_MAX + 1];
	struct proto_buf hb;
	struct proto_hello h;
	char **names, path[128];
	const char *errstr;
	int n, i, fd;

	(void)state;
	make_file(&a2, "a", 2000, 1, 1, NULL);
	make_file(&a1, "a", 1000, 1, 1, NULL);
	make_file(&a3, "a", 3000, 1, 0, NULL);
	make_file(&other, "a.5", 1500, 1, 1, NULL);
	memset(longname, '/', PROTO_NAME_MAX);
	longname[PROTO_NAME_MAX] = '\0';
	make_file(&lng, longname, 1, 1, 1, NULL);
	snprintf(path, sizeof(path), "%s/a.12x.spool", tmpdir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/a.13.spool.tmp", tmpdir);
	close(open(path, O_CREAT | O_WRONLY, 0600));

	n = spool_list(dirfd_, "a", 3000, &names, &errstr);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a.1000.spool");
	assert_string_equal(names[1], "a.2000.spool");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	n = spool_list(dirfd_, "a.5", 0, &names, &errstr);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "a.5.1500.spool");
	free(names[0]);
	free(names);
	n = spool_list(dirfd_, longname, 0, &names, &errstr);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], lng.name);
	free(names[0]);
	free(names);
	spool_close(&lng, 1);

	/* A running agent's file is locked against a second one. */
	fd = openat(dirfd_, a2.name, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(spool_lock(fd), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	spool_close(&a2, 0);
	assert_int_equal(spool_lock(fd), 0);
	close(fd);

	spool_close(&a1, 1);
	spool_close(&a3, 1);
	spool_close(&other, 1);
	/* Creating an existing epoch's file again is refused. */
	hello_of(&h, "a", 2000);
	proto_buf_init(&hb);
	assert_int_equal(proto_encode_hello(&hb, &h), 0);
	assert_int_equal(spool_create(&dup, dirfd_, "a", 2000, hb.data, hb.len,
	    &errstr), -1);
	assert_int_equal(errno, EEXIST);
	proto_buf_clear(&hb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_dir_open),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_seq_gap),
		cmocka_unit_test(test_list_and_lock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
