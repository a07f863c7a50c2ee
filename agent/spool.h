/*
 * spool.h - the agent's write-ahead spool: BATCH frames on disk until the
 * store acknowledges them (--spool DIR).
 *
 * One file per epoch, DIR/<name>.<start>.spool (the name with bytes
 * outside [A-Za-z0-9._:+-] written as %XX, a long one cut and marked with
 * its CRC-32), mode 0600:
 *
 *   header  "NTSPOOL1", u32 BE length L, u32 BE CRC-32 of the L bytes,
 *           then the epoch's HELLO frame (L bytes, its own 4-byte header
 *           included): what a replay needs to say HELLO for that epoch
 *   record  u32 BE length L, u32 BE CRC-32 of the L bytes, then one
 *           BATCH frame of L bytes exactly as it is sent
 *
 * Records follow each other with seq growing by one.  A record that does
 * not check out (short, bad length, bad CRC, not a BATCH, seq out of
 * order) ends the file for a reader: a torn tail from a crash is counted
 * and ignored, never sent.  The writer appends whole records, syncs once
 * per flush, and cuts the file back to its header when every batch in it
 * is acknowledged.
 */
#ifndef NETTALLY_SPOOL_H
#define NETTALLY_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SPOOL_MAGIC		"NTSPOOL1"
#define SPOOL_MAGIC_LEN		8
#define SPOOL_REC_HDR		8	/* u32 length, u32 CRC-32 */
#define SPOOL_HDR_MIN		(SPOOL_MAGIC_LEN + SPOOL_REC_HDR)
#define SPOOL_MAX_DEFAULT	(1024ull << 20)	/* --spool-max-mb 1024 */
#define SPOOL_FILES_MAX		4096	/* old files replayed per start */
#define SPOOL_NAME_MAX		(PROTO_NAME_MAX * 3 + 32)

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
};

/* What a reader found in one file. */
struct spool_scan {
	struct proto_hello	 hello;
	uint8_t			*hello_frame;	/* owned, hello_len bytes */
	size_t			 hello_len;
	struct spool_rec	*rec;		/* owned, nrec entries */
	size_t			 nrec;
	uint64_t		 bytes;		/* frame bytes of the records */
	uint64_t		 skipped;	/* bytes past the last good record */
	uint64_t		 torn_at;	/* offset of the first bad record */
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
 * out the epoch `except`.  Returns the count (at most SPOOL_FILES_MAX;
 * *names is owned by the caller, free each then the array), or -1 with
 * *errstr.
 */
int	spool_list(int dirfd, const char *agent, int64_t except,
	    char ***names, const char **errstr);

/*
 * Creates the epoch's file with its header (hello_frame: the encoded
 * HELLO) and syncs it.  Returns 0, or -1 with *errstr (errno kept).
 */
int	spool_create(struct spool_file *, int dirfd, const char *agent,
	    int64_t start, const uint8_t *hello_frame, size_t len,
	    const char **errstr);
/*
 * Appends one record holding frame at the end; *off gets the frame's
 * offset.  On failure the file is cut back to where it was and -1
 * returned (errno kept); -2 when even that failed, and then the file
 * must not be appended to again.
 */
int	spool_append(struct spool_file *, const uint8_t *frame, size_t len,
	    uint64_t *off);
/* fdatasync: makes the appended records durable.  0 or -1 (errno). */
int	spool_sync(struct spool_file *);
/* Cuts the file back to its header.  0 or -1 (errno). */
int	spool_reset(struct spool_file *);
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
 * Reads the header and indexes every good record of the file at fd.
 * Returns 0 (a torn tail is reported in skipped/torn_at), or -1 with
 * *errstr when the header itself is unusable (no record can be trusted),
 * or -2 when the file ends inside a header it began: torn while it was
 * created, before any record could be written.  Release with
 * spool_scan_clear.
 */
int	spool_scan_fd(int fd, struct spool_scan *, const char **errstr);
void	spool_scan_clear(struct spool_scan *);	/* NULL-safe */

/* CRC-32 (ISO-HDLC, as zlib's crc32) of p. */
uint32_t spool_crc32(const uint8_t *p, size_t len);

#endif
