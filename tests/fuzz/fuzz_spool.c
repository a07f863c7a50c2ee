/*
 * fuzz_spool.c - libFuzzer target for the spool file reader
 * (agent/spool.c): a spool file is bytes from disk, replayed into the
 * store by the next agent start.
 *
 * Input: the bytes of a file, put in a memfd and scanned.  Whatever the
 * scanner accepts is checked again here: the header's HELLO decodes, the
 * records (version 1, 2 or 3) lie inside the file in order, their seqs
 * follow, their positions do not fall, each reads back, matches its
 * CRC-32 and is a BATCH envelope of that seq; between them only marks
 * (version 2 on) and drop notes (version 3); the notes of the file's
 * epoch that a good frame follows make `carried` (and `resume_carried`
 * up to the resume point); the resume point is a record boundary no
 * later than the last good record; what it skips is exactly the rest of
 * the file.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "spool.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* What the records between frames said, as the reader goes. */
struct walk {
	int		 version;
	int64_t		 epoch;		/* the file's */
	uint64_t	 lastpos;
	uint64_t	 noted;		/* notes waiting for their frame */
	uint64_t	 carried;	/* noted, a good frame after them */
	uint64_t	 rcarried;	/* that, at the last flush's end */
};

static uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* A good note at data + end (off: where the records end): 1, or 0. */
static int
note_at(const uint8_t *data, uint64_t end, uint64_t off, struct walk *w)
{
	uint64_t seq;

	if (w->version < 3 || off - end < SPOOL_REC_HDR + SPOOL_NOTE_LEN ||
	    be32(data + end) != SPOOL_NOTE_LEN ||
	    be32(data + end + 16) != SPOOL_REC_NOTE ||
	    spool_crc32(data + end + 8, 12 + SPOOL_NOTE_LEN) !=
	    be32(data + end + 4))
		return 0;
	seq = be64(data + end + SPOOL_REC_HDR + 8);
	if (seq == 0)
		return 0;
	if ((int64_t)be64(data + end + SPOOL_REC_HDR) == w->epoch &&
	    seq > w->noted)
		w->noted = seq;
	return 1;
}

/*
 * Steps over the marks and notes from end to the record at off; returns
 * 1 when only good ones lie between, checking their CRC and position.
 */
static int
marks_between(const uint8_t *data, uint64_t end, uint64_t off,
    struct walk *w)
{
	uint64_t pos;
	int note;

	while (end < off) {
		if (w->version < 2 || off - end < SPOOL_REC_HDR)
			return 0;
		note = note_at(data, end, off, w);
		if (!note && (be32(data + end) != 0 ||
		    be32(data + end + 16) != SPOOL_REC_LAST ||
		    spool_crc32(data + end + 8, 12) != be32(data + end + 4)))
			return 0;
		pos = be64(data + end + 8);
		if (pos < w->lastpos)
			return 0;
		w->lastpos = pos;
		end += SPOOL_REC_HDR + (note ? SPOOL_NOTE_LEN : 0);
		if (!note) {
			w->noted = 0;		/* a mark: no frame follows */
			w->rcarried = w->carried;
		}
	}
	return end == off;
}

static void	same_without_index(int, const struct spool_scan *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_scan sc;
	const char *errstr = NULL;
	uint8_t *frame;
	struct walk w;
	uint64_t end, seq, hdr, rend;
	uint32_t version, type, crc;
	size_t i, blen, rh;
	int fd, rc, v2;
	const char *magic;

	if ((fd = memfd_create("fuzz_spool", 0)) == -1)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	if ((rc = spool_scan_fd(fd, &sc, &errstr)) < 0) {
		/* A memfd is always read whole. */
		CHECK(rc == -1 || rc == -2);
		CHECK(errstr != NULL && *errstr != '\0');
		/* -2 only for a file shorter than the header it began. */
		CHECK(rc == -1 || size < SPOOL_MAGIC_LEN ||
		    memcmp(data, SPOOL_MAGIC, SPOOL_MAGIC_LEN) == 0 ||
		    memcmp(data, SPOOL_MAGIC_V2, SPOOL_MAGIC_LEN) == 0 ||
		    memcmp(data, SPOOL_MAGIC_V1, SPOOL_MAGIC_LEN) == 0);
		CHECK(sc.rec == NULL && sc.hello_frame == NULL);
		close(fd);
		return 0;
	}
	v2 = sc.version >= 2;
	CHECK(sc.version >= 1 && sc.version <= SPOOL_VERSION);
	hdr = v2 ? SPOOL_HDR_FIXED : SPOOL_HDR_V1;
	rh = v2 ? SPOOL_REC_HDR : SPOOL_REC_HDR_V1;
	CHECK(sc.rec_hdr == rh);
	magic = sc.version == 3 ? SPOOL_MAGIC : v2 ? SPOOL_MAGIC_V2 :
	    SPOOL_MAGIC_V1;
	CHECK(memcmp(data, magic, SPOOL_MAGIC_LEN) == 0);
	CHECK(sc.hello_len > PROTO_HDR_LEN && sc.hello_len <= size);
	CHECK(memcmp(data + hdr, sc.hello_frame, sc.hello_len) == 0);
	CHECK(sc.hello.name[0] != '\0' && sc.hello.niface >= 1);
	CHECK(v2 || (spool_input_none(&sc.input) && sc.start_pos == 0));
	end = hdr + sc.hello_len;
	memset(&w, 0, sizeof(w));
	w.version = sc.version;
	w.epoch = sc.hello.start_time;
	w.lastpos = sc.start_pos;
	rend = end;
	CHECK(sc.note_epoch == w.epoch);
	for (i = 0; i < sc.nrec; i++) {
		CHECK(marks_between(data, end, sc.rec[i].off - rh, &w));
		end = sc.rec[i].off - rh;
		CHECK(sc.rec[i].len > PROTO_HDR_LEN);
		CHECK(sc.rec[i].off + sc.rec[i].len <= size);
		CHECK(be32(data + end) == sc.rec[i].len);
		CHECK(i == 0 || sc.rec[i].seq == sc.rec[i - 1].seq + 1);
		CHECK(sc.rec[i].pos >= w.lastpos);
		CHECK(v2 || (sc.rec[i].pos == 0 && sc.rec[i].flags == 0));
		CHECK((sc.rec[i].flags & ~SPOOL_REC_LAST) == 0);
		w.lastpos = sc.rec[i].pos;
		if (w.noted > w.carried)
			w.carried = w.noted;
		w.noted = 0;
		if (sc.rec[i].flags & SPOOL_REC_LAST)
			w.rcarried = w.carried;
		frame = malloc(sc.rec[i].len);
		CHECK(frame != NULL);
		CHECK(spool_read(fd, sc.rec[i].off, frame, sc.rec[i].len) == 0);
		CHECK(memcmp(frame, data + sc.rec[i].off, sc.rec[i].len) == 0);
		crc = v2 ? spool_crc32(data + end + 8, 12) : 0;
		CHECK(spool_crc32_update(crc, frame, sc.rec[i].len) ==
		    be32(data + end + 4));
		if (sc.rec[i].flags & SPOOL_REC_LAST)
			rend = sc.rec[i].off + sc.rec[i].len;
		CHECK(proto_frame_check(frame, sc.rec[i].len, PROTO_FRAME_MAX,
		    &blen) == PROTO_OK && blen == sc.rec[i].len - PROTO_HDR_LEN);
		CHECK(proto_decode_envelope(frame + PROTO_HDR_LEN, blen,
		    &version, &type, &seq) == PROTO_OK);
		CHECK(type == PROTO_BATCH && seq == sc.rec[i].seq && seq > 0);
		free(frame);
		end = sc.rec[i].off + sc.rec[i].len;
	}
	/* Marks (and notes) may follow the last frame too. */
	CHECK(sc.skipped == 0 || sc.torn_at >= end);
	if (sc.skipped > 0)
		CHECK(marks_between(data, end, sc.torn_at, &w));
	else
		CHECK(marks_between(data, end, size, &w));
	/* Version 1 has no flushes: every good record stands. */
	if (!v2)
		w.rcarried = w.carried;
	CHECK(sc.carried == w.carried && sc.resume_carried == w.rcarried);
	CHECK(sc.version == 3 || sc.carried == 0);
	end = sc.skipped > 0 ? sc.torn_at : size;
	/* The resume point: a flush's end, or a mark's, or the header's. */
	CHECK(sc.resume_end >= rend && sc.resume_end <= end);
	CHECK(sc.resume_nrec <= sc.nrec);
	CHECK(v2 || (sc.resume_end == end && sc.resume_nrec == sc.nrec &&
	    sc.resume_pos == 0));
	CHECK(sc.resume_nrec == 0 || sc.rec[sc.resume_nrec - 1].off +
	    sc.rec[sc.resume_nrec - 1].len <= sc.resume_end);
	CHECK(sc.resume_pos >= sc.start_pos && sc.resume_pos <= w.lastpos);
	CHECK(sc.skipped == 0 ? sc.torn_at == 0 :
	    sc.torn_at + sc.skipped == size);
	CHECK(sc.good_end == end);
	same_without_index(fd, &sc);
	spool_scan_clear(&sc);
	close(fd);
	return 0;
}

/*
 * The scan without the index finds the same, and reading the records in
 * turn gives the index's records, in order, then the end.
 */
static void
same_without_index(int fd, const struct spool_scan *ix)
{
	struct spool_scan sc;
	struct spool_rec r;
	const char *errstr = NULL;
	uint64_t at;
	size_t i;

	CHECK(spool_scan_fd_count(fd, &sc, &errstr) == 0);
	CHECK(sc.rec == NULL && sc.nrec == ix->nrec && sc.bytes == ix->bytes);
	CHECK(sc.first_seq == (ix->nrec ? ix->rec[0].seq : 0));
	CHECK(sc.last_seq == (ix->nrec ? ix->rec[ix->nrec - 1].seq : 0));
	CHECK(sc.data_start == ix->data_start && sc.good_end == ix->good_end);
	CHECK(sc.resume_pos == ix->resume_pos &&
	    sc.resume_end == ix->resume_end &&
	    sc.resume_nrec == ix->resume_nrec &&
	    sc.resume_bytes == ix->resume_bytes &&
	    sc.carried == ix->carried &&
	    sc.resume_carried == ix->resume_carried);
	at = sc.data_start;
	for (i = 0; i < ix->nrec; i++) {
		CHECK(spool_read_next(fd, &sc, sc.good_end, &at, &r) == 1);
		CHECK(r.off == ix->rec[i].off && r.len == ix->rec[i].len &&
		    r.flags == ix->rec[i].flags && r.pos == ix->rec[i].pos);
	}
	CHECK(spool_read_next(fd, &sc, sc.good_end, &at, &r) == 0);
	spool_scan_clear(&sc);
}
