/*
 * spool.h - the agent's write-ahead spool: BATCH frames on disk until the
 * store acknowledges them (--spool DIR), and for a -r file, how far into
 * the file those frames reach, so that a killed run can be resumed.
 *
 * One file per epoch, DIR/<name>.<start>.spool (the name with bytes
 * outside [A-Za-z0-9._:+-] written as %XX, a long one cut and marked with
 * its CRC-32), mode 0600.  Version 3, written today (all integers big
 * endian):
 *
 *   header  "NTSPOOL3", u32 length L of the HELLO, u32 CRC-32 of the 48
 *           bytes that follow and the HELLO; the input's identity: u64
 *           st_dev, u64 st_ino, u64 st_size, u64 st_mtim in ns, u64 filter
 *           (2^32 | CRC-32 of the BPF expression; 0 without one), all zero
 *           for a live capture or standard input; u64 the input position
 *           the epoch started at; then the epoch's HELLO frame (L bytes,
 *           its own 4-byte header included): what a replay needs to say
 *           HELLO for that epoch
 *   record  u32 length L of the frame, u32 CRC-32 of the 12 bytes that
 *           follow and the frame, u64 input position, u32 flags (bit 0,
 *           SPOOL_REC_LAST: the last frame of its flush; bit 1,
 *           SPOOL_REC_NOTE: a drop note, below; no other bit is defined),
 *           then one BATCH frame of L bytes exactly as it is sent.  L = 0
 *           is a mark: no frame, the position alone, flags SPOOL_REC_LAST.
 *   note    a record flagged SPOOL_REC_NOTE alone, L = 16, the position
 *           of the frame after it: u64 epoch, u64 seq.  It says that
 *           batch seq of that epoch (this file's or an earlier one
 *           replayed) was refused by the store and dropped, and that its
 *           drop, with every drop of that epoch up to seq, is counted in
 *           the health record of the next frame in this file.  It is
 *           written just before that frame, in the same flush, so it
 *           counts only when that frame is good: a note whose frame was
 *           torn off says nothing.  Why: the dropped batch stays in its
 *           file (it was never acknowledged), and a replay after a kill
 *           offers it again; refused again, it must not be counted again
 *           while the frame that already counts it is delivered too.
 *
 * The input position is the number of packets libpcap delivered from the
 * -r file (after the filter) before the counts of the flush ended: every
 * packet before it is counted in this flush's frames or an earlier one's,
 * none after it.  It never falls along a file.  A file's resume point is
 * the position of the last record flagged SPOOL_REC_LAST (a mark
 * included), else the header's start position.  Records after it belong
 * to a flush the writer never finished appending, so none of them was
 * ever sent (sender_spool.c appends a whole flush before sending any of
 * it); spool_resume cuts them off, and the next run counts their packets
 * again from the input, which it reads from the furthest resume point of
 * the files that name it.
 *
 * Version 2 ("NTSPOOL2", written before drop notes existed) is version 3
 * without notes, and is read, resumed and cut as version 3.  The magic
 * changed so that an older agent leaves a file with notes in place
 * ("no spool header") rather than reading it up to the first note, an
 * unknown flag to it, and dropping the frames past it as a torn tail.
 *
 * Version 1 ("NTSPOOL1", written before resume existed) is still read, for
 * replay only: header "NTSPOOL1", u32 L, u32 CRC-32 of the HELLO, the
 * HELLO; records u32 length, u32 CRC-32 of the frame, the frame.  Its
 * identity and positions read as zero: it is never resumed.
 *
 * Records follow each other with seq growing by one.  A record that does
 * not check out (short, bad length, bad CRC, not a BATCH, seq out of
 * order, position falling, unknown flags) ends the file for a reader: a
 * torn tail from a crash is counted and ignored, never sent.  The writer
 * appends whole records, syncs once per flush, and when every batch in
 * the file is acknowledged cuts it back to its header, for a -r file to
 * its header and a mark holding the position reached (written over the
 * first record before the cut), so that the position survives the cut.
 */
#ifndef NETTALLY_SPOOL_H
#define NETTALLY_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SPOOL_MAGIC		"NTSPOOL3"
#define SPOOL_MAGIC_V2		"NTSPOOL2"
#define SPOOL_MAGIC_V1		"NTSPOOL1"
#define SPOOL_VERSION		3
#define SPOOL_MAGIC_LEN		8
#define SPOOL_HDR_V1		(SPOOL_MAGIC_LEN + 8)	/* u32 L, u32 CRC */
#define SPOOL_HDR_FIXED		(SPOOL_HDR_V1 + 48)	/* + identity, start */
#define SPOOL_REC_HDR_V1	8	/* u32 length, u32 CRC-32 */
#define SPOOL_REC_HDR		20	/* + u64 position, u32 flags */
#define SPOOL_REC_LAST		0x1u	/* the last frame of its flush */
#define SPOOL_REC_NOTE		0x2u	/* a drop note (version 3) */
#define SPOOL_NOTE_LEN		16	/* u64 epoch, u64 seq */
#define SPOOL_MAX_DEFAULT	(1024ull << 20)	/* --spool-max-mb 1024 */
/*
 * Old files replayed per start.  Each is opened when the sender starts,
 * before the seccomp filter, which allows no open for writing after it
 * (privdrop.c): they are all held open until replayed, so the count
 * stays well under the usual limit of 1,024 descriptors.
 */
#define SPOOL_FILES_MAX		256
#define SPOOL_NAME_MAX		(PROTO_NAME_MAX * 3 + 32)

/*
 * What a spool file's positions count packets of: a -r regular file, as
 * fstat saw it when it was opened, and the filter applied to it.  All
 * zero: nothing to resume (a live capture, standard input, a pipe).
 */
struct spool_input {
	uint64_t	 dev;
	uint64_t	 ino;
	uint64_t	 size;
	int64_t		 mtime_ns;
	uint64_t	 filter;	/* 2^32 | CRC-32 of the expression, or 0 */
};

/*
 * A drop note: batch seq of epoch (and every earlier drop of that epoch)
 * was refused and dropped, its drop counted by the frame that follows.
 */
struct spool_note {
	int64_t		 epoch;
	uint64_t	 seq;
};

/* The epoch file being written. */
struct spool_file {
	int		 dirfd;		/* not owned */
	int		 fd;
	char		 name[SPOOL_NAME_MAX + 1];
	uint64_t	 hdr_len;	/* the file is never cut below this */
	uint64_t	 end;		/* where the next record goes */
};

/* Where one record's frame lies in its file. */
struct spool_rec {
	uint64_t	 seq;
	uint64_t	 off;		/* of the frame, past the record header */
	uint32_t	 len;		/* frame bytes */
	uint32_t	 flags;		/* SPOOL_REC_LAST; 0 in version 1 */
	uint64_t	 pos;		/* input position; 0 in version 1 */
};

/* What a reader found in one file. */
struct spool_scan {
	int			 version;	/* 1, 2 or 3 */
	struct proto_hello	 hello;
	uint8_t			*hello_frame;	/* owned, hello_len bytes */
	size_t			 hello_len;
	struct spool_input	 input;		/* zero in version 1 */
	uint64_t		 start_pos;	/* position the epoch began at */
	size_t			 rec_hdr;	/* record header bytes */
	struct spool_rec	*rec;		/* owned, nrec entries (frames;
						   marks, notes not listed); NULL
						   from spool_scan_fd_count */
	size_t			 nrec;
	uint64_t		 first_seq;	/* of the first record, and */
	uint64_t		 last_seq;	/* the last; 0 without any */
	uint64_t		 data_start;	/* where the records begin, */
	uint64_t		 good_end;	/* and the good ones end */
	uint64_t		 bytes;		/* frame bytes of the records */
	uint64_t		 skipped;	/* bytes past the last good record */
	uint64_t		 torn_at;	/* offset of the first bad record */
	/*
	 * The resume point: the position of the last record flagged
	 * SPOOL_REC_LAST (or mark), else start_pos; resume_end is where that
	 * record ends (else the header's end), and resume_nrec the frames
	 * before it.  Version 1: 0, the end of the good records, nrec.
	 */
	uint64_t		 resume_pos;
	uint64_t		 resume_end;
	size_t			 resume_nrec;
	uint64_t		 resume_bytes;	/* frame bytes before it */
	/*
	 * Drop notes of epoch note_epoch (the file's own, or the one
	 * spool_scan_fd_notes asked for): the highest seq noted, among the
	 * notes whose frame is good, and among those before the resume
	 * point.  0: none (always in versions 1 and 2).
	 */
	int64_t			 note_epoch;
	uint64_t		 carried;
	uint64_t		 resume_carried;
};

/*
 * Opens DIR for the spool; call it while still privileged.  Refuses what
 * is not a directory and a directory any user may write into.  Returns
 * the fd, or -1 with a one-line reason and its fix in err.
 */
int	spool_dir_open(const char *path, char *err, size_t errlen);

/* The file name of an epoch, into buf (SPOOL_NAME_MAX + 1 bytes). */
void	spool_file_name(char *buf, size_t len, const char *agent,
	    int64_t start);

/*
 * Lists the spool files of agent in dirfd, oldest epoch first, leaving
 * out the epoch `except`: the oldest `max` of them, and in *total how
 * many there are.  Returns the count listed (*names is owned by the
 * caller, free each then the array), or -1 with *errstr.
 */
int	spool_list(int dirfd, const char *agent, int64_t except, size_t max,
	    char ***names, size_t *total, const char **errstr);

/*
 * The identity of the capture file open at fd, read with filter (NULL:
 * none), into *in; all zero when fd is not a regular file.  0, or -1
 * (errno) when fstat fails.
 */
int	spool_input_of(int fd, const char *filter, struct spool_input *in);
/* 1 when *in is all zero: an input that cannot be resumed. */
int	spool_input_none(const struct spool_input *in);

/*
 * Finds where an earlier run of agent over input *in left off: the
 * furthest resume point among agent's files in dirfd (but the epoch
 * `except`) whose header names that input, which is the newest run's
 * (each run starts where the last left off).  In each of those files the
 * records past its resume point (a flush torn by a kill, never sent) are
 * cut off and the cut synced.  Returns 1 with *pos (the resume point) and
 * name (SPOOL_NAME_MAX + 1 bytes) set, 0 when no file names the input
 * (*in all zero: always), or -1 with *errstr (errno kept) and name set
 * to the file when one cannot be cut, cannot be read to its end
 * (SPOOL_SCAN_UNREAD), or is locked by a running agent of the same name.
 */
int	spool_resume(int dirfd, const char *agent, int64_t except,
	    const struct spool_input *in, uint64_t *pos, char *name,
	    const char **errstr);

/*
 * Creates the epoch's file with its header (in: the input's identity,
 * start_pos: the position the epoch starts at, hello_frame: the encoded
 * HELLO) and syncs it.  Returns 0, or -1 with *errstr (errno kept).
 */
int	spool_create(struct spool_file *, int dirfd, const char *agent,
	    int64_t start, const struct spool_input *in, uint64_t start_pos,
	    const uint8_t *hello_frame, size_t len, const char **errstr);
/*
 * Appends one record holding frame at the end, with the input position
 * pos and flags (SPOOL_REC_LAST on a flush's last frame); *off gets the
 * frame's offset.  On failure the file is cut back to where it was and -1
 * returned (errno kept); -2 when even that failed, and then the file must
 * not be appended to again.
 */
int	spool_append(struct spool_file *, const uint8_t *frame, size_t len,
	    uint64_t pos, uint32_t flags, uint64_t *off);
/*
 * Appends a drop note (the format above) with input position pos, the
 * position of the frame that must follow it; returns as spool_append.
 */
int	spool_note(struct spool_file *, uint64_t pos,
	    const struct spool_note *);
/* Appends a mark record holding pos; returns as spool_append. */
int	spool_mark(struct spool_file *, uint64_t pos);
/* fdatasync: makes the appended records durable.  0 or -1 (errno). */
int	spool_sync(struct spool_file *);
/* Cuts the file back to its header.  0 or -1 (errno). */
int	spool_reset(struct spool_file *);
/*
 * Cuts the file back to its header and one mark holding pos.  The mark
 * is written over the first record and synced before the cut, so no
 * moment leaves the file without the position: killed (or the power
 * lost) in between, the file is the mark and a torn tail.  A file with no record is left as it is (its
 * header holds the position).  0 or -1 (errno; the file unchanged but
 * maybe for the mark, which reads as where the file ends).
 */
int	spool_reset_mark(struct spool_file *, uint64_t pos);
/*
 * Cuts the file back to `end`, a record boundary at or past the header
 * and at or before the end (records appended since end are dropped).
 * 0 or -1 (errno).
 */
int	spool_cut(struct spool_file *, uint64_t end);
/* Closes the file; removes it too when `remove` is set.  NULL-safe. */
void	spool_close(struct spool_file *, int remove);

/*
 * Takes the exclusive lock a running agent holds on its epoch's file
 * (released when the fd closes, or the process dies).  0, or -1 with
 * errno EWOULDBLOCK when another agent still uses the file.
 */
int	spool_lock(int fd);

/* Reads len bytes at off into buf.  0, or -1 (errno; EIO when short). */
int	spool_read(int fd, uint64_t off, uint8_t *buf, size_t len);

/*
 * Reads the version 2 or 3 record header in front of the frame at off into
 * *r (seq untouched).  0, or -1 (errno; EIO for a short read, a mark or
 * unknown flags).
 */
int	spool_read_rec(int fd, uint64_t off, struct spool_rec *r);

/*
 * Reads the header and indexes every good frame record of the file at fd
 * (version 1, 2 or 3).  Returns 0 (a torn tail is reported in
 * skipped/torn_at), or -1 with *errstr when the header itself is
 * unusable (no record can be trusted), or -2 when the file ends inside a
 * header it began: torn while it was created, before any record could be
 * written, or SPOOL_SCAN_UNREAD (errno kept) when the file could not be
 * read to its end (an I/O error, no memory): nothing can be said of the
 * rest, which is no torn tail.  Release with spool_scan_clear.
 */
#define SPOOL_SCAN_UNREAD	(-3)
int	spool_scan_fd(int fd, struct spool_scan *, const char **errstr);
/*
 * As spool_scan_fd, but without the index (rec NULL): memory does not
 * grow with the records; spool_read_next reads them in turn.
 */
int	spool_scan_fd_count(int fd, struct spool_scan *, const char **errstr);
/*
 * Reads the record at *at (a record header's offset, first
 * sc->data_start) of the file sc scanned into *r (seq untouched), passing
 * over marks and notes, and moves *at past it.  Only records before
 * `end` (at most where the scan stopped) are read.  1, 0 at `end`, or -1
 * (errno; EIO for a record that is not as the scan found it).
 */
int	spool_read_next(int fd, const struct spool_scan *sc, uint64_t end,
	    uint64_t *at, struct spool_rec *r);
/*
 * As spool_scan_fd_count, but the notes gathered in sc->carried and
 * sc->resume_carried are those naming epoch, not the file's own.
 */
int	spool_scan_fd_notes(int fd, int64_t epoch, struct spool_scan *,
	    const char **errstr);
void	spool_scan_clear(struct spool_scan *);	/* NULL-safe */
/* What cutting a scanned file to a mark of its resume point needs. */
struct spool_mark {
	int		 version;
	size_t		 hello_len;
	uint64_t	 resume_pos;
};
void	spool_mark_of(const struct spool_scan *, struct spool_mark *);
/*
 * Cuts the version 2 or 3 file at fd (open for writing), as scanned into
 * mark, back to its header and a mark of its resume point
 * (spool_reset_mark), and syncs it.  0 or -1 (errno).
 */
int	spool_cut_mark(int fd, const struct spool_mark *);

/* CRC-32 (ISO-HDLC, as zlib's crc32) of p; _update goes on from crc. */
uint32_t spool_crc32(const uint8_t *p, size_t len);
uint32_t spool_crc32_update(uint32_t crc, const uint8_t *p, size_t len);

#endif
