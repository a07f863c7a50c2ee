/*
 * fuzz_spool.c - libFuzzer target for the spool file reader
 * (agent/spool.c): a spool file is bytes from disk, replayed into the
 * store by the next agent start.
 *
 * Input: the bytes of a file, put in a memfd and scanned.  Whatever the
 * scanner accepts is checked again here: the header's HELLO decodes, the
 * records lie inside the file one after the other, their seqs follow,
 * each reads back, matches its CRC-32 and is a BATCH envelope of that
 * seq; what it skips is exactly the rest of the file.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_scan sc;
	const char *errstr = NULL;
	uint8_t *frame;
	uint64_t end, seq;
	uint32_t version, type;
	size_t i, blen;
	int fd, rc;

	if ((fd = memfd_create("fuzz_spool", 0)) == -1)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	if ((rc = spool_scan_fd(fd, &sc, &errstr)) < 0) {
		CHECK(rc == -1 || rc == -2);
		CHECK(errstr != NULL && *errstr != '\0');
		/* -2 only for a file shorter than the header it began. */
		CHECK(rc == -1 || size < SPOOL_HDR_MIN ||
		    memcmp(data, SPOOL_MAGIC, SPOOL_MAGIC_LEN) == 0);
		CHECK(sc.rec == NULL && sc.hello_frame == NULL);
		close(fd);
		return 0;
	}
	CHECK(sc.hello_len > PROTO_HDR_LEN && sc.hello_len <= size);
	CHECK(memcmp(data + SPOOL_HDR_MIN, sc.hello_frame, sc.hello_len) == 0);
	CHECK(sc.hello.name[0] != '\0' && sc.hello.niface >= 1);
	end = SPOOL_HDR_MIN + sc.hello_len;
	for (i = 0; i < sc.nrec; i++) {
		CHECK(sc.rec[i].off == end + SPOOL_REC_HDR);
		CHECK(sc.rec[i].len > PROTO_HDR_LEN);
		CHECK(sc.rec[i].off + sc.rec[i].len <= size);
		CHECK(i == 0 || sc.rec[i].seq == sc.rec[i - 1].seq + 1);
		frame = malloc(sc.rec[i].len);
		CHECK(frame != NULL);
		CHECK(spool_read(fd, sc.rec[i].off, frame, sc.rec[i].len) == 0);
		CHECK(memcmp(frame, data + sc.rec[i].off, sc.rec[i].len) == 0);
		CHECK(spool_crc32(frame, sc.rec[i].len) ==
		    ((uint32_t)data[end + 4] << 24 |
		    (uint32_t)data[end + 5] << 16 |
		    (uint32_t)data[end + 6] << 8 | data[end + 7]));
		CHECK(proto_frame_check(frame, sc.rec[i].len, PROTO_FRAME_MAX,
		    &blen) == PROTO_OK && blen == sc.rec[i].len - PROTO_HDR_LEN);
		CHECK(proto_decode_envelope(frame + PROTO_HDR_LEN, blen,
		    &version, &type, &seq) == PROTO_OK);
		CHECK(type == PROTO_BATCH && seq == sc.rec[i].seq && seq > 0);
		free(frame);
		end = sc.rec[i].off + sc.rec[i].len;
	}
	CHECK(end + sc.skipped == size);
	CHECK(sc.skipped == 0 || sc.torn_at == end);
	spool_scan_clear(&sc);
	close(fd);
	return 0;
}
