/*
 * test_spool.c - tests of agent/spool.c, the spool file format.
 *
 * A file written through the writer's calls is read back by the scanner;
 * then the same file cut at every length, with a flipped byte in each
 * record, and with a seq out of order, must give exactly the records
 * that are whole and good before the damage, never one after it, and the
 * resume point of the last whole flush before it.  A version 1 file
 * (built here byte by byte, as the older writer did) is still read.
 * Drop notes count only with the good frame after them, and a version 2
 * file (no notes) is still read and resumed, a note in it refused.
 * Marks, falling positions, unknown flags, and spool_resume (the newest
 * file of the same input, a torn flush cut off, a locked file refused)
 * are checked, and so are names, listing, locking, the directory check
 * and the CRC.
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
#define POS(i)	(1000 + 10 * (uint64_t)(i))	/* record i's position */

static char	tmpdir[64];
static int	dirfd_;
/* The input the files of make_file count packets of. */
static const struct spool_input input1 = { 1, 2, 3, 4, 5 };
static const struct spool_input input2 = { 1, 2, 3, 4, 6 };

static void	hello_of(struct proto_hello *, const char *, int64_t);
static void	batch_frame(struct proto_buf *, uint64_t);
static uint64_t	append_batch(struct spool_file *, uint64_t, uint64_t,
		    uint32_t);
static int	make_file(struct spool_file *, const char *, int64_t,
		    uint64_t, int, uint64_t *);
static void	put32(uint8_t *, uint32_t);
static void	raw_record(struct spool_file *, uint32_t, uint64_t, uint32_t,
		    const struct proto_buf *);
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

/* Appends a BATCH of seq (batch_frame) to f at pos; returns its offset. */
static uint64_t
append_batch(struct spool_file *f, uint64_t seq, uint64_t pos,
    uint32_t flags)
{
	struct proto_buf b;
	uint64_t off;

	batch_frame(&b, seq);
	assert_int_equal(spool_append(f, b.data, b.len, pos, flags, &off), 0);
	proto_buf_clear(&b);
	return off;
}

/*
 * Creates agent's file for start (input1, start position POS(-1)) with n
 * records, seq first.., record i at POS(i) and a flush of its own;
 * ends[i] is where record i ends.  Returns the file's fd (still open in
 * f).
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
	assert_int_equal(spool_create(f, dirfd_, agent, start, &input1,
	    POS(-1), hb.data, hb.len, &(const char *){ NULL }), 0);
	proto_buf_clear(&hb);
	for (i = 0; i < n; i++) {
		batch_frame(&b, first + (uint64_t)i);
		assert_int_equal(spool_append(f, b.data, b.len, POS(i),
		    SPOOL_REC_LAST, &off), 0);
		assert_int_equal(off + b.len, f->end);
		if (ends != NULL)
			ends[i] = f->end;
		proto_buf_clear(&b);
	}
	assert_int_equal(spool_sync(f), 0);
	return f->fd;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
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
	assert_int_equal(sc.version, SPOOL_VERSION);
	assert_int_equal(sc.rec_hdr, SPOOL_REC_HDR);
	assert_string_equal(sc.hello.name, "rt");
	assert_int_equal(sc.hello.start_time, 100);
	assert_int_equal(sc.hello.niface, 2);
	assert_memory_equal(&sc.input, &input1, sizeof(input1));
	assert_int_equal(sc.start_pos, POS(-1));
	assert_int_equal(sc.nrec, NREC);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(sc.resume_pos, POS(NREC - 1));
	assert_int_equal(sc.resume_end, ends[NREC - 1]);
	assert_int_equal(sc.resume_nrec, NREC);
	for (i = 0; i < NREC; i++) {
		assert_int_equal(sc.rec[i].seq, (uint64_t)i + 1);
		assert_int_equal(sc.rec[i].off + sc.rec[i].len, ends[i]);
		assert_int_equal(sc.rec[i].pos, POS(i));
		assert_int_equal(sc.rec[i].flags, SPOOL_REC_LAST);
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
	assert_int_equal(sc.resume_pos, POS(-1));
	spool_scan_clear(&sc);
	/* A mark keeps the position the cut took away. */
	assert_int_equal(spool_mark(&f, POS(NREC)), 0);
	assert_int_equal(f.end, f.hdr_len + SPOOL_REC_HDR);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 0);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(sc.resume_pos, POS(NREC));
	assert_int_equal(sc.resume_end, f.end);
	spool_scan_clear(&sc);
	batch_frame(&b, 9);
	assert_int_equal(spool_append(&f, b.data, b.len, POS(NREC + 1), 0,
	    &ends[0]), 0);
	proto_buf_clear(&b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 1);
	assert_int_equal(sc.rec[0].seq, 9);
	/* Not the last of its flush: the mark is still the resume point. */
	assert_int_equal(sc.resume_pos, POS(NREC));
	assert_int_equal(sc.resume_nrec, 0);
	spool_scan_clear(&sc);
	/* A frame of length 0 is not a frame; flags are checked. */
	assert_int_equal(spool_append(&f, b.data, 0, 1, 0, &ends[0]), -1);
	batch_frame(&b, 10);
	assert_int_equal(spool_append(&f, b.data, b.len, POS(NREC + 1), 2,
	    &ends[0]), -1);
	proto_buf_clear(&b);
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
			assert_int_equal(sc.resume_nrec, want);
			assert_int_equal(sc.resume_pos, POS((int)want - 1));
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
	assert_int_equal(pread(fd, &c, 1, SPOOL_HDR_FIXED + 6), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, SPOOL_HDR_FIXED + 6), 1);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), -1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, SPOOL_HDR_FIXED + 6), 1);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), 0);
	spool_scan_clear(&sc);
	/* The identity and the start position are under the CRC too. */
	for (at = SPOOL_HDR_V1; at < SPOOL_HDR_FIXED; at += 7) {
		assert_int_equal(pread(fd, &c, 1, (off_t)at), 1);
		c ^= 0x10;
		assert_int_equal(pwrite(fd, &c, 1, (off_t)at), 1);
		assert_int_equal(spool_scan_fd(fd, &sc, &errstr), -1);
		c ^= 0x10;
		assert_int_equal(pwrite(fd, &c, 1, (off_t)at), 1);
	}
	spool_close(&f, 1);
}

/* A record whose seq does not follow ends the file. */
static void
test_seq_gap(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	const char *errstr;

	(void)state;
	make_file(&f, "gap", 400, 5, 2, NULL);
	(void)append_batch(&f, 8, POS(2), SPOOL_REC_LAST);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.rec[1].seq, 6);
	assert_true(sc.skipped > 0);
	spool_scan_clear(&sc);
	spool_close(&f, 1);
}

/*
 * A version 1 file, as an agent before resume wrote it: replayed as
 * before, with no identity and no position, and never resumed.
 */
static void
test_v1_read(void **state)
{
	struct spool_scan sc;
	struct proto_hello h;
	struct proto_buf hb, b[2];
	const char *errstr;
	struct spool_input none;
	uint8_t hdr[SPOOL_HDR_V1];
	char name[SPOOL_NAME_MAX + 1];
	uint64_t off, pos;
	int fd, i;

	(void)state;
	hello_of(&h, "old", 700);
	proto_buf_init(&hb);
	assert_int_equal(proto_encode_hello(&hb, &h), 0);
	spool_file_name(name, sizeof(name), "old", 700);
	fd = openat(dirfd_, name, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	memcpy(hdr, SPOOL_MAGIC_V1, SPOOL_MAGIC_LEN);
	put32(hdr + 8, (uint32_t)hb.len);
	put32(hdr + 12, spool_crc32(hb.data, hb.len));
	assert_int_equal(pwrite(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	assert_int_equal(pwrite(fd, hb.data, hb.len, sizeof(hdr)),
	    (ssize_t)hb.len);
	off = sizeof(hdr) + hb.len;
	for (i = 0; i < 2; i++) {
		batch_frame(&b[i], 3 + (uint64_t)i);
		put32(hdr, (uint32_t)b[i].len);
		put32(hdr + 4, spool_crc32(b[i].data, b[i].len));
		assert_int_equal(pwrite(fd, hdr, 8, (off_t)off), 8);
		assert_int_equal(pwrite(fd, b[i].data, b[i].len,
		    (off_t)off + 8), (ssize_t)b[i].len);
		off += 8 + b[i].len;
	}
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), 0);
	assert_int_equal(sc.version, 1);
	assert_int_equal(sc.rec_hdr, SPOOL_REC_HDR_V1);
	assert_string_equal(sc.hello.name, "old");
	assert_int_equal(sc.hello_len, hb.len);
	assert_true(spool_input_none(&sc.input));
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.rec[0].seq, 3);
	assert_int_equal(sc.rec[1].seq, 4);
	assert_int_equal(sc.rec[1].off + sc.rec[1].len, off);
	assert_int_equal(sc.rec[0].pos, 0);
	assert_int_equal(sc.resume_pos, 0);
	assert_int_equal(sc.resume_nrec, 2);
	assert_int_equal(sc.skipped, 0);
	spool_scan_clear(&sc);
	/* A torn version 1 tail: the record before it stands. */
	assert_int_equal(ftruncate(fd, (off_t)off - 3), 0);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 1);
	assert_int_equal(sc.skipped, b[1].len + 8 - 3);
	spool_scan_clear(&sc);
	/* A version 1 file is not resumed: it names no input. */
	memset(&none, 0, sizeof(none));
	assert_int_equal(spool_resume(dirfd_, "old", 0, &none, &pos, name,
	    &errstr), 0);
	assert_int_equal(spool_resume(dirfd_, "old", 0, &input1, &pos, name,
	    &errstr), 0);
	/* Cut inside its header: torn while created, as before. */
	assert_int_equal(ftruncate(fd, SPOOL_HDR_V1 - 1), 0);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), -2);
	close(fd);
	spool_file_name(name, sizeof(name), "old", 700);
	assert_int_equal(unlinkat(dirfd_, name, 0), 0);
	proto_buf_clear(&hb);
	proto_buf_clear(&b[0]);
	proto_buf_clear(&b[1]);
}

/* Writes a raw version 2 record at f->end: what the writer would not. */
static void
raw_record(struct spool_file *f, uint32_t len, uint64_t pos, uint32_t flags,
    const struct proto_buf *b)
{
	uint8_t hdr[SPOOL_REC_HDR];
	uint32_t crc;
	int i;

	put32(hdr, len);
	for (i = 0; i < 8; i++)
		hdr[8 + i] = (uint8_t)(pos >> (56 - 8 * i));
	put32(hdr + 16, flags);
	crc = spool_crc32(hdr + 8, 12);
	put32(hdr + 4, b != NULL ? spool_crc32_update(crc, b->data, len) :
	    crc);
	assert_int_equal(pwrite(f->fd, hdr, sizeof(hdr), (off_t)f->end),
	    (ssize_t)sizeof(hdr));
	if (b != NULL)
		assert_int_equal(pwrite(f->fd, b->data, len,
		    (off_t)f->end + SPOOL_REC_HDR), (ssize_t)len);
	f->end += SPOOL_REC_HDR + len;
}

/*
 * Positions and flags: a flush of several frames resumes after its last
 * one only; a falling position, a mark not flagged last, an unknown flag
 * each end the file there, with their CRC right.
 */
static void
test_positions(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	struct proto_buf b;
	const char *errstr;
	uint64_t off, good;

	(void)state;
	make_file(&f, "pos", 800, 1, 1, NULL);		/* seq 1 at POS(0) */
	/* A flush of two frames: seq 2, then 3 flagged last. */
	off = append_batch(&f, 2, POS(1), 0);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.resume_pos, POS(0));
	assert_int_equal(sc.resume_nrec, 1);
	spool_scan_clear(&sc);
	off = append_batch(&f, 3, POS(1), SPOOL_REC_LAST);
	good = f.end;
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.resume_pos, POS(1));
	assert_int_equal(sc.resume_end, good);
	assert_int_equal(sc.resume_nrec, 3);
	spool_scan_clear(&sc);

	/* A position that falls. */
	batch_frame(&b, 4);
	raw_record(&f, (uint32_t)b.len, POS(0), SPOOL_REC_LAST, &b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 3);
	assert_int_equal(sc.torn_at, good);
	spool_scan_clear(&sc);
	/* An unknown flag. */
	f.end = good;
	raw_record(&f, (uint32_t)b.len, POS(2), SPOOL_REC_LAST | 4, &b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 3);
	assert_int_equal(sc.torn_at, good);
	spool_scan_clear(&sc);
	/* A mark not flagged last. */
	assert_int_equal(ftruncate(f.fd, (off_t)good), 0);
	f.end = good;
	raw_record(&f, 0, POS(2), 0, NULL);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.resume_pos, POS(1));
	assert_int_equal(sc.torn_at, good);
	spool_scan_clear(&sc);
	/* The same well made, and a frame after it: both stand. */
	assert_int_equal(ftruncate(f.fd, (off_t)good), 0);
	f.end = good;
	assert_int_equal(spool_mark(&f, POS(2)), 0);
	assert_int_equal(spool_append(&f, b.data, b.len, POS(3),
	    SPOOL_REC_LAST, &off), 0);
	proto_buf_clear(&b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 4);
	assert_int_equal(sc.rec[3].seq, 4);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(sc.resume_pos, POS(3));
	spool_scan_clear(&sc);
	spool_close(&f, 1);
}

/*
 * Drop notes: one before a frame counts once that frame is good, in
 * `carried`, and in `resume_carried` once its flush is whole; a note of
 * another epoch is counted only when asked for; a note whose frame is
 * torn off, or followed by a mark, counts for nothing; a damaged note
 * ends the file.  Notes are not frames: not indexed, passed over by
 * spool_read_next, and they do not break the seq order.
 */
static void
test_notes(void **state)
{
	const struct spool_note own1 = { 1000, 1 }, own2 = { 1000, 2 };
	const struct spool_note own5 = { 1000, 5 }, other = { 77, 9 };
	struct spool_file f;
	struct spool_scan sc;
	struct spool_rec r;
	const char *errstr;
	uint64_t off, at, whole, flip;
	uint8_t byte;
	int i;

	(void)state;
	make_file(&f, "notes", 1000, 1, 1, NULL);	/* seq 1 at POS(0) */
	/* Batch 1 dropped: batch 2, a flush of its own, counts it. */
	assert_int_equal(spool_note(&f, POS(1), &own1), 0);
	assert_int_equal(spool_note(&f, POS(1), &other), 0);
	off = append_batch(&f, 2, POS(1), SPOOL_REC_LAST);
	whole = f.end;
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.rec[1].seq, 2);
	assert_int_equal(sc.rec[1].off, off);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(sc.note_epoch, 1000);
	assert_int_equal(sc.carried, 1);
	assert_int_equal(sc.resume_carried, 1);
	assert_int_equal(sc.resume_end, whole);
	spool_scan_clear(&sc);
	/* The other epoch's note, when asked for. */
	assert_int_equal(spool_scan_fd_notes(f.fd, 77, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.carried, 9);
	assert_int_equal(sc.resume_carried, 9);
	spool_scan_clear(&sc);
	assert_int_equal(spool_scan_fd_notes(f.fd, 78, &sc, &errstr), 0);
	assert_int_equal(sc.carried, 0);
	spool_scan_clear(&sc);
	/* spool_read_next gives the frames only. */
	assert_int_equal(spool_scan_fd_count(f.fd, &sc, &errstr), 0);
	at = sc.data_start;
	for (i = 0; i < 2; i++)
		assert_int_equal(spool_read_next(f.fd, &sc, sc.good_end, &at,
		    &r), 1);
	assert_int_equal(r.off, off);
	assert_int_equal(spool_read_next(f.fd, &sc, sc.good_end, &at, &r), 0);
	spool_scan_clear(&sc);

	/* Batch 2 dropped too: batch 3 counts it, a flush not yet whole. */
	assert_int_equal(spool_note(&f, POS(2), &own2), 0);
	off = append_batch(&f, 3, POS(2), 0);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 3);
	assert_int_equal(sc.carried, 2);
	assert_int_equal(sc.resume_carried, 1);
	spool_scan_clear(&sc);

	/* A note whose frame was torn off says nothing. */
	assert_int_equal(spool_note(&f, POS(3), &own5), 0);
	off = append_batch(&f, 4, POS(3), SPOOL_REC_LAST);
	assert_int_equal(ftruncate(f.fd, (off_t)f.end - 1), 0);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 3);
	assert_int_equal(sc.carried, 2);
	assert_int_equal(sc.torn_at, off - SPOOL_REC_HDR);
	spool_scan_clear(&sc);
	/* Nor one a mark follows. */
	f.end = off - SPOOL_REC_HDR;
	assert_int_equal(ftruncate(f.fd, (off_t)f.end), 0);
	assert_int_equal(spool_mark(&f, POS(3)), 0);
	off = append_batch(&f, 4, POS(4), SPOOL_REC_LAST);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 4);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(sc.carried, 2);
	assert_int_equal(sc.resume_carried, 2);
	spool_scan_clear(&sc);

	/* A flipped byte in a note (its seq) ends the file there. */
	assert_int_equal(spool_cut(&f, whole), 0);
	assert_int_equal(spool_note(&f, POS(2), &own2), 0);
	flip = f.end - 1;
	off = append_batch(&f, 3, POS(2), SPOOL_REC_LAST);
	assert_int_equal(pread(f.fd, &byte, 1, (off_t)flip), 1);
	byte ^= 0x40;
	assert_int_equal(pwrite(f.fd, &byte, 1, (off_t)flip), 1);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.carried, 1);
	assert_int_equal(sc.torn_at, whole);
	spool_scan_clear(&sc);
	spool_close(&f, 1);
}

/*
 * A version 2 file, as an agent before drop notes wrote it (the same
 * bytes but for the magic): read, resumed and cut as before; a record
 * flagged as a note is not one of its records, and ends it.
 */
static void
test_v2_read(void **state)
{
	const struct spool_note n = { 1100, 1 };
	struct spool_file f;
	struct spool_scan sc;
	struct spool_mark m;
	struct proto_buf b;
	const char *errstr;
	char name[SPOOL_NAME_MAX + 1];
	uint64_t ends[NREC], pos, good;

	(void)state;
	make_file(&f, "v2", 1100, 1, NREC, ends);
	assert_int_equal(pwrite(f.fd, SPOOL_MAGIC_V2, SPOOL_MAGIC_LEN, 0),
	    SPOOL_MAGIC_LEN);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.version, 2);
	assert_int_equal(sc.nrec, NREC);
	assert_int_equal(sc.resume_pos, POS(NREC - 1));
	assert_int_equal(sc.carried, 0);
	spool_scan_clear(&sc);
	/* A torn flush after it is cut off by a resume, as before. */
	batch_frame(&b, NREC + 1);
	assert_int_equal(spool_append(&f, b.data, b.len, POS(NREC), 0,
	    &good), 0);
	proto_buf_clear(&b);
	spool_close(&f, 0);		/* a running agent's lock refuses */
	assert_int_equal(spool_resume(dirfd_, "v2", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(NREC - 1));
	assert_string_equal(name, f.name);
	f.fd = openat(dirfd_, f.name, O_RDWR | O_CLOEXEC);
	assert_true(f.fd >= 0);
	f.end = ends[NREC - 1];
	assert_int_equal(lseek(f.fd, 0, SEEK_END), (off_t)f.end);
	/* A note in it: no version 2 record. */
	assert_int_equal(spool_note(&f, POS(NREC), &n), 0);
	batch_frame(&b, NREC + 1);
	assert_int_equal(spool_append(&f, b.data, b.len, POS(NREC),
	    SPOOL_REC_LAST, &good), 0);
	proto_buf_clear(&b);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, NREC);
	assert_int_equal(sc.torn_at, ends[NREC - 1]);
	assert_int_equal(sc.carried, 0);
	spool_scan_clear(&sc);
	/* Cut to a mark of its resume point, as version 2 still. */
	assert_int_equal(spool_scan_fd_count(f.fd, &sc, &errstr), 0);
	spool_mark_of(&sc, &m);
	assert_int_equal(spool_cut_mark(f.fd, &m), 0);
	spool_scan_clear(&sc);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.version, 2);
	assert_int_equal(sc.nrec, 0);
	assert_int_equal(sc.resume_pos, POS(NREC - 1));
	spool_scan_clear(&sc);
	spool_close(&f, 1);
}

/*
 * spool_reset_mark: the file cut back to one mark; a kill between the
 * mark written over the first record and the cut leaves the mark and a
 * torn tail.  spool_cut: back to a record boundary, never below the
 * header or past the end.
 */
static void
test_reset_mark(void **state)
{
	struct spool_file f;
	struct spool_scan sc;
	const char *errstr;
	uint64_t ends[NREC];
	uint8_t rec[SPOOL_REC_HDR];

	(void)state;
	make_file(&f, "rm", 900, 1, NREC, ends);
	assert_int_equal(spool_reset_mark(&f, POS(7)), 0);
	assert_int_equal(f.end, f.hdr_len + SPOOL_REC_HDR);
	assert_int_equal(pread(f.fd, rec, sizeof(rec), (off_t)f.hdr_len),
	    (ssize_t)sizeof(rec));
	spool_close(&f, 1);
	/* What a kill right after the mark's write leaves. */
	make_file(&f, "rm2", 901, 1, NREC, ends);
	assert_int_equal(pwrite(f.fd, rec, sizeof(rec), (off_t)f.hdr_len),
	    (ssize_t)sizeof(rec));
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 0);
	assert_int_equal(sc.resume_pos, POS(7));
	assert_int_equal(sc.resume_end, f.hdr_len + SPOOL_REC_HDR);
	assert_true(sc.skipped > 0);
	spool_scan_clear(&sc);
	/* Done: the mark alone. */
	assert_int_equal(spool_reset_mark(&f, POS(8)), 0);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 0);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(sc.resume_pos, POS(8));
	spool_scan_clear(&sc);
	/* A file with no record keeps its header's position. */
	assert_int_equal(spool_reset(&f), 0);
	assert_int_equal(spool_reset_mark(&f, POS(9)), 0);
	assert_int_equal(f.end, f.hdr_len);
	spool_close(&f, 1);
	/* spool_cut */
	make_file(&f, "cut2", 902, 1, NREC, ends);
	assert_int_equal(spool_cut(&f, f.hdr_len - 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spool_cut(&f, f.end + 1), -1);
	assert_int_equal(spool_cut(&f, ends[1]), 0);
	assert_int_equal(f.end, ends[1]);
	assert_int_equal(spool_scan_fd(f.fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.skipped, 0);
	spool_scan_clear(&sc);
	spool_close(&f, 1);
}

/*
 * spool_resume: the newest file of the agent that names the input; its
 * torn flush cut off; a file of other input, a file of no input, or a
 * damaged header passed over; a locked one refused.
 */
static void
test_resume(void **state)
{
	struct spool_file a, b2, c, d;
	struct spool_scan sc;
	struct proto_hello h;
	struct proto_buf hb, b;
	struct spool_input none;
	char name[SPOOL_NAME_MAX + 1], path[128];
	const char *errstr;
	uint64_t pos, off, cut;
	int fd;

	(void)state;
	memset(&none, 0, sizeof(none));
	/* Epoch 100 of input1: flushes at POS(0), POS(1), then a torn one. */
	make_file(&a, "r", 100, 1, 2, NULL);
	cut = a.end;
	batch_frame(&b, 3);
	assert_int_equal(spool_append(&a, b.data, b.len, POS(2), 0, &off), 0);
	proto_buf_clear(&b);
	spool_close(&a, 0);
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input2, &pos, name,
	    &errstr), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(spool_resume(dirfd_, "r", 0, &none, &pos, name,
	    &errstr), 0);
	assert_int_equal(spool_resume(dirfd_, "r2", 0, &input1, &pos, name,
	    &errstr), 0);
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(1));
	assert_string_equal(name, "r.100.spool");
	/* The torn flush is gone; the whole ones stay. */
	fd = openat(dirfd_, name, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(spool_scan_fd(fd, &sc, &errstr), 0);
	assert_int_equal(sc.nrec, 2);
	assert_int_equal(sc.skipped, 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)cut);
	spool_scan_clear(&sc);
	close(fd);
	/* The epoch left out (the caller's own) is not looked at. */
	assert_int_equal(spool_resume(dirfd_, "r", 100, &input1, &pos, name,
	    &errstr), 0);

	/* Epoch 200 of input1 resumed at POS(1), killed before a flush. */
	hello_of(&h, "r", 200);
	proto_buf_init(&hb);
	assert_int_equal(proto_encode_hello(&hb, &h), 0);
	assert_int_equal(spool_create(&b2, dirfd_, "r", 200, &input1, POS(1),
	    hb.data, hb.len, &errstr), 0);
	proto_buf_clear(&hb);
	/* Epoch 300, of input2, after it: passed over for input1. */
	hello_of(&h, "r", 300);
	proto_buf_init(&hb);
	assert_int_equal(proto_encode_hello(&hb, &h), 0);
	assert_int_equal(spool_create(&c, dirfd_, "r", 300, &input2, 0,
	    hb.data, hb.len, &errstr), 0);
	proto_buf_clear(&hb);
	spool_close(&c, 0);
	/* Epoch 200 is still locked by its (running) agent: refused. */
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input1, &pos, name,
	    &errstr), -1);
	assert_non_null(strstr(errstr, "in use"));
	spool_close(&b2, 0);
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(1));
	assert_string_equal(name, "r.200.spool");
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input2, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, 0);
	assert_string_equal(name, "r.300.spool");

	/* Epoch 400 of input1: cut back after its flushes, then a mark. */
	make_file(&d, "r", 400, 1, 2, NULL);
	assert_int_equal(spool_reset(&d), 0);
	assert_int_equal(spool_mark(&d, POS(5)), 0);
	spool_close(&d, 0);
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(5));
	assert_string_equal(name, "r.400.spool");
	/* An empty file (torn while created) newer still: passed over. */
	snprintf(path, sizeof(path), "%s/r.500.spool", tmpdir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(5));
	unlink(path);

	/*
	 * A run whose epoch looks older (the clock went back) but that got
	 * further: the furthest position wins, and its torn flush goes too.
	 */
	hello_of(&h, "r", 50);
	proto_buf_init(&hb);
	assert_int_equal(proto_encode_hello(&hb, &h), 0);
	assert_int_equal(spool_create(&a, dirfd_, "r", 50, &input1, POS(8),
	    hb.data, hb.len, &errstr), 0);
	proto_buf_clear(&hb);
	batch_frame(&b, 1);
	assert_int_equal(spool_append(&a, b.data, b.len, POS(9),
	    SPOOL_REC_LAST, &off), 0);
	proto_buf_clear(&b);
	cut = a.end;
	batch_frame(&b, 2);
	assert_int_equal(spool_append(&a, b.data, b.len, POS(10), 0, &off), 0);
	proto_buf_clear(&b);
	spool_close(&a, 0);
	assert_int_equal(spool_resume(dirfd_, "r", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(9));
	assert_string_equal(name, "r.50.spool");
	fd = openat(dirfd_, name, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)cut);
	close(fd);
	unlinkat(dirfd_, "r.50.spool", 0);
	unlinkat(dirfd_, "r.100.spool", 0);
	unlinkat(dirfd_, "r.200.spool", 0);
	unlinkat(dirfd_, "r.300.spool", 0);
	unlinkat(dirfd_, "r.400.spool", 0);
}

/* The identity of a regular file, and none for other files. */
static void
test_input_of(void **state)
{
	struct spool_input in, in2;
	char path[128];
	int fd, p[2];

	(void)state;
	snprintf(path, sizeof(path), "%s/in.pcap", tmpdir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(spool_input_of(fd, NULL, &in), 0);
	assert_false(spool_input_none(&in));
	assert_int_equal(in.size, 3);
	assert_int_equal(in.filter, 0);
	assert_int_equal(spool_input_of(fd, "tcp", &in2), 0);
	assert_int_equal(in2.filter, 1ull << 32 | spool_crc32(
	    (const uint8_t *)"tcp", 3));
	in2.filter = 0;
	assert_memory_equal(&in, &in2, sizeof(in));
	/* Rewritten in place: another input. */
	assert_int_equal(write(fd, "d", 1), 1);
	assert_int_equal(spool_input_of(fd, NULL, &in2), 0);
	assert_int_not_equal(in.size, in2.size);
	close(fd);
	unlink(path);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(spool_input_of(p[0], "tcp", &in), 0);
	assert_true(spool_input_none(&in));
	close(p[0]);
	close(p[1]);
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
	size_t total;
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

	n = spool_list(dirfd_, "a", 3000, SPOOL_FILES_MAX, &names, &total,
	    &errstr);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a.1000.spool");
	assert_string_equal(names[1], "a.2000.spool");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	n = spool_list(dirfd_, "a.5", 0, SPOOL_FILES_MAX, &names, &total,
	    &errstr);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "a.5.1500.spool");
	free(names[0]);
	free(names);
	n = spool_list(dirfd_, longname, 0, SPOOL_FILES_MAX, &names, &total,
	    &errstr);
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
	assert_int_equal(spool_create(&dup, dirfd_, "a", 2000, &input1, 0,
	    hb.data, hb.len, &errstr), -1);
	assert_int_equal(errno, EEXIST);
	proto_buf_clear(&hb);
}

/*
 * More files than a start replays: the oldest epochs are the ones listed,
 * whatever order the directory gives them in (which may be any), and the
 * count of all.  A resume still finds the newest run's point among them.
 */
static void
test_list_oldest(void **state)
{
	struct spool_file f;
	char name[SPOOL_NAME_MAX + 1], **names;
	const char *errstr = NULL;
	uint64_t pos;
	size_t total;
	int fd, i, n;

	(void)state;
	for (i = 2 * SPOOL_FILES_MAX; i > 0; i--) {
		spool_file_name(name, sizeof(name), "many", (int64_t)i * 7);
		fd = openat(dirfd_, name, O_CREAT | O_WRONLY, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	n = spool_list(dirfd_, "many", 0, SPOOL_FILES_MAX, &names, &total,
	    &errstr);
	assert_int_equal(n, SPOOL_FILES_MAX);
	assert_int_equal(total, 2 * SPOOL_FILES_MAX);
	for (i = 0; i < n; i++) {
		spool_file_name(name, sizeof(name), "many",
		    (int64_t)(i + 1) * 7);
		assert_string_equal(names[i], name);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* The newest epoch, after all those (unreadable) files. */
	make_file(&f, "many", (2 * SPOOL_FILES_MAX + 1) * 7, 1, 2, NULL);
	spool_close(&f, 0);
	assert_int_equal(spool_resume(dirfd_, "many", 0, &input1, &pos, name,
	    &errstr), 1);
	assert_int_equal(pos, POS(1));
	for (i = 2 * SPOOL_FILES_MAX + 1; i > 0; i--) {
		spool_file_name(name, sizeof(name), "many", (int64_t)i * 7);
		assert_int_equal(unlinkat(dirfd_, name, 0), 0);
	}
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
		cmocka_unit_test(test_v1_read),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_v2_read),
		cmocka_unit_test(test_reset_mark),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_input_of),
		cmocka_unit_test(test_list_and_lock),
		cmocka_unit_test(test_list_oldest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
