/*
 * spool.c - the spool files: create, append, cut back, list and read.
 *
 * The file format is in spool.h.  Invariants:
 * - The writer only ever appends whole records at `end` and cuts back to
 *   a record boundary (a failed append, a tabset that could not be
 *   appended whole, or the header when everything is acknowledged), so a
 *   file holds a header, whole records and at most one torn record at its
 *   tail, left by a crash mid-append.  The one write in place is the mark
 *   spool_reset_mark puts over the first record before it cuts the rest:
 *   killed in between, the file is a mark and a torn tail.  It writes
 *   version 3 only; the reader takes versions 1 and 2 too, so that the
 *   files an older agent left are still replayed after an upgrade.
 * - A drop note is appended just before the frame that counts its drop,
 *   in that frame's flush, and a reader takes it into account only once
 *   that frame checked out: a note never outlives its frame.
 * - spool_resume cuts a file only at a resume point (the end of a record
 *   flagged SPOOL_REC_LAST, or the header), and only in a file no running
 *   agent holds: what it removes was never sent.
 * - A reader trusts nothing: a spool file is bytes from disk.  Every
 *   length is checked against the file size and the frame cap before
 *   anything is allocated or read, every record against its CRC and its
 *   envelope, and the first bad record ends the file.
 * - The directory was opened while privileged (spool_dir_open); files are
 *   created in it with openat as the unprivileged user, never followed
 *   through a symbolic link.
 * - A running agent holds an exclusive flock on its epoch's file, so a
 *   second agent of the same name never replays a file still in use.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

#define SPOOL_HELLO_MAX		(16u << 10)	/* HELLO frames are ~4 KiB */
#define SPOOL_PREFIX_MAX	200	/* escaped name bytes in a file name */
#define SPOOL_SUFFIX		".spool"

struct spool_entry {
	int64_t		 start;
	char		*name;
};

static void	spool_crc_init(void);
static void	put_u32(uint8_t *, uint32_t);
static uint32_t	get_u32(const uint8_t *);
static void	put_u64(uint8_t *, uint64_t);
static uint64_t	get_u64(const uint8_t *);
static int	spool_append_rec(struct spool_file *, const uint8_t *, size_t,
		    uint64_t, uint32_t, uint64_t *);
static int	spool_scan_header(int, uint64_t, struct spool_scan *,
		    uint64_t *, const char **);
static int	input_equal(const struct spool_input *,
		    const struct spool_input *);
static int	write_at(int, uint64_t, const uint8_t *, size_t);
static size_t	spool_name_prefix(char *, size_t, const char *);
static int	entry_cmp(const void *, const void *);
static int	spool_scan(int, struct spool_scan *, int, const int64_t *,
		    const char **);
static int	note_check(const uint8_t *, uint32_t, uint32_t,
		    struct spool_note *);
static void	rec_header(const uint8_t *, int, uint64_t, struct spool_rec *);
static int	spool_add_rec(struct spool_scan *, size_t *, uint64_t,
		    uint64_t, uint32_t, uint32_t, uint64_t);

static uint32_t	crc_table[256];
static int	crc_ready;

/* The table for the reflected polynomial 0xedb88320, built once. */
static void
spool_crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = 1;
}

uint32_t
spool_crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	uint32_t c = crc ^ 0xffffffffu;

	if (!crc_ready)
		spool_crc_init();
	while (len-- > 0)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

uint32_t
spool_crc32(const uint8_t *p, size_t len)
{
	return spool_crc32_update(0, p, len);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static int
write_at(int fd, uint64_t off, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int
spool_lock(int fd)
{
	return flock(fd, LOCK_EX | LOCK_NB);
}

int
spool_read(int fd, uint64_t off, uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads a record header (version 2 or 3 when v2, else 1) into *r, for the
 * frame that follows it at frame_off; the one place that knows its
 * layout.  The seq is not in it.
 */
static void
rec_header(const uint8_t *hdr, int v2, uint64_t frame_off,
    struct spool_rec *r)
{
	r->off = frame_off;
	r->len = get_u32(hdr);
	r->pos = v2 ? get_u64(hdr + 8) : 0;
	r->flags = v2 ? get_u32(hdr + 16) : 0;
}

int
spool_read_rec(int fd, uint64_t off, struct spool_rec *r)
{
	uint8_t hdr[SPOOL_REC_HDR];

	if (off < SPOOL_REC_HDR) {
		errno = EINVAL;
		return -1;
	}
	if (spool_read(fd, off - SPOOL_REC_HDR, hdr, sizeof(hdr)) == -1)
		return -1;
	rec_header(hdr, 1, off, r);
	/* Written by this process: anything else is a damaged disk. */
	if (r->len == 0 || (r->flags & ~SPOOL_REC_LAST) != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
spool_dir_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "--spool %s: %s: create it, owned by the "
		    "user the agent runs as (mode 0700)", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "--spool %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/*
	 * Anyone who may write into the directory could plant a file that
	 * the agent would replay into the database as its own counts.
	 */
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "--spool %s: the directory is writable "
		    "by every user, who could plant batches in it: chmod o-w "
		    "%s (mode 0700, owned by the agent's user)", path, path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Writes the escaped agent name and a dot; returns its length.  A dot is
 * escaped in front, so that no name makes a hidden file or "..".  An
 * escaped name past SPOOL_PREFIX_MAX bytes (a file name has at most 255)
 * is cut and ends in "~" and the CRC-32 of the whole name; the header's
 * name tells two such files apart.
 */
static size_t
spool_name_prefix(char *buf, size_t len, const char *agent)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n = 0;

	for (p = (const unsigned char *)agent; *p != '\0' &&
	    n + 3 <= SPOOL_PREFIX_MAX && n + 5 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p == '.' && n > 0) ||
		    strchr("_:+-", *p) != NULL) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 0xf];
		}
	}
	if (*p != '\0' && n + 11 < len)
		n += (size_t)snprintf(buf + n, len - n, "~%08x",
		    (unsigned int)spool_crc32((const uint8_t *)agent,
		    strlen(agent)));
	buf[n++] = '.';
	buf[n] = '\0';
	return n;
}

void
spool_file_name(char *buf, size_t len, const char *agent, int64_t start)
{
	size_t n;

	n = spool_name_prefix(buf, len, agent);
	snprintf(buf + n, len - n, "%" PRId64 SPOOL_SUFFIX, start);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int
spool_list(int dirfd, const char *agent, int64_t except, size_t max,
    char ***names, size_t *total, const char **errstr)
{
	char prefix[SPOOL_NAME_MAX + 1];
	struct spool_entry *e = NULL, *ne;
	struct dirent *de;
	size_t plen, slen = strlen(SPOOL_SUFFIX), nlen, n = 0, cap = 0, i;
	const char *mid;
	char *end, **out;
	long long start;
	DIR *d;
	int fd;

	*names = NULL;
	plen = spool_name_prefix(prefix, sizeof(prefix), agent);
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		*errstr = "cannot read the spool directory";
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (nlen <= plen + slen ||
		    strncmp(de->d_name, prefix, plen) != 0 ||
		    strcmp(de->d_name + nlen - slen, SPOOL_SUFFIX) != 0)
			continue;
		/* Exactly <prefix><decimal start>.spool: nothing else. */
		mid = de->d_name + plen;
		if (*mid < '0' || *mid > '9')
			continue;
		errno = 0;
		start = strtoll(mid, &end, 10);
		if (errno != 0 || end != de->d_name + nlen - slen ||
		    start == except)
			continue;
		if (n == (size_t)INT_MAX)
			break;		/* what the count returned can say */
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((ne = realloc(e, cap * sizeof(*e))) == NULL)
				goto nomem;
			e = ne;
		}
		if ((e[n].name = strdup(de->d_name)) == NULL)
			goto nomem;
		e[n++].start = start;
	}
	closedir(d);
	if (n > 0)
		qsort(e, n, sizeof(*e), entry_cmp);
	*total = n;
	while (n > max)
		free(e[--n].name);
	if ((out = calloc(n + 1, sizeof(*out))) == NULL) {
		d = NULL;
		goto nomem;
	}
	for (i = 0; i < n; i++)
		out[i] = e[i].name;
	free(e);
	*names = out;
	return (int)n;
nomem:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
	*errstr = "out of memory";
	return -1;
}

int
spool_input_of(int fd, const char *filter, struct spool_input *in)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode))
		return 0;
	in->dev = (uint64_t)st.st_dev;
	in->ino = (uint64_t)st.st_ino;
	in->size = (uint64_t)st.st_size;
	in->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec;
	/* Another filter delivers other packets: positions would differ. */
	if (filter != NULL)
		in->filter = 1ull << 32 | spool_crc32((const uint8_t *)filter,
		    strlen(filter));
	return 0;
}

int
spool_input_none(const struct spool_input *in)
{
	return in->dev == 0 && in->ino == 0 && in->size == 0 &&
	    in->mtime_ns == 0 && in->filter == 0;
}

static int
input_equal(const struct spool_input *a, const struct spool_input *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && a->filter == b->filter;
}

int
spool_create(struct spool_file *f, int dirfd, const char *agent,
    int64_t start, const struct spool_input *in, uint64_t start_pos,
    const uint8_t *hello_frame, size_t len, const char **errstr)
{
	uint8_t hdr[SPOOL_HDR_FIXED];
	uint32_t crc;
	int saved;

	memset(f, 0, sizeof(*f));
	f->dirfd = dirfd;
	f->fd = -1;
	if (len > SPOOL_HELLO_MAX) {
		*errstr = "HELLO too large for a spool header";
		errno = EINVAL;
		return -1;
	}
	spool_file_name(f->name, sizeof(f->name), agent, start);
	f->fd = openat(dirfd, f->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (f->fd == -1) {
		*errstr = "cannot create the spool file";
		return -1;
	}
	if (flock(f->fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		*errstr = "cannot lock the spool file";
		spool_close(f, 1);
		errno = saved;
		return -1;
	}
	memcpy(hdr, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	put_u32(hdr + SPOOL_MAGIC_LEN, (uint32_t)len);
	put_u64(hdr + SPOOL_HDR_V1, in->dev);
	put_u64(hdr + SPOOL_HDR_V1 + 8, in->ino);
	put_u64(hdr + SPOOL_HDR_V1 + 16, in->size);
	put_u64(hdr + SPOOL_HDR_V1 + 24, (uint64_t)in->mtime_ns);
	put_u64(hdr + SPOOL_HDR_V1 + 32, in->filter);
	put_u64(hdr + SPOOL_HDR_V1 + 40, start_pos);
	crc = spool_crc32(hdr + SPOOL_HDR_V1, SPOOL_HDR_FIXED - SPOOL_HDR_V1);
	put_u32(hdr + SPOOL_MAGIC_LEN + 4, spool_crc32_update(crc, hello_frame,
	    len));
	if (write_at(f->fd, 0, hdr, sizeof(hdr)) == -1 ||
	    write_at(f->fd, sizeof(hdr), hello_frame, len) == -1 ||
	    fdatasync(f->fd) == -1 || fsync(dirfd) == -1) {
		saved = errno;
		*errstr = "cannot write the spool file's header";
		spool_close(f, 1);
		errno = saved;
		return -1;
	}
	f->hdr_len = f->end = sizeof(hdr) + len;
	return 0;
}

/* One record (len 0: a mark) at the end, or the file as it was. */
static int
spool_append_rec(struct spool_file *f, const uint8_t *frame, size_t len,
    uint64_t pos, uint32_t flags, uint64_t *off)
{
	uint8_t hdr[SPOOL_REC_HDR];
	uint32_t crc;
	int saved;

	put_u32(hdr, (uint32_t)len);
	put_u64(hdr + 8, pos);
	put_u32(hdr + 16, flags);
	crc = spool_crc32(hdr + 8, SPOOL_REC_HDR - 8);
	put_u32(hdr + 4, spool_crc32_update(crc, frame, len));
	if (write_at(f->fd, f->end, hdr, sizeof(hdr)) == -1 ||
	    write_at(f->fd, f->end + sizeof(hdr), frame, len) == -1) {
		saved = errno;
		/* Leave whole records only, or say the file is unusable. */
		if (ftruncate(f->fd, (off_t)f->end) == -1) {
			errno = saved;
			return -2;
		}
		errno = saved;
		return -1;
	}
	if (off != NULL)
		*off = f->end + sizeof(hdr);
	f->end += sizeof(hdr) + len;
	return 0;
}

int
spool_append(struct spool_file *f, const uint8_t *frame, size_t len,
    uint64_t pos, uint32_t flags, uint64_t *off)
{
	if (len == 0 || (flags & ~SPOOL_REC_LAST) != 0) {
		errno = EINVAL;
		return -1;
	}
	return spool_append_rec(f, frame, len, pos, flags, off);
}

int
spool_note(struct spool_file *f, uint64_t pos, const struct spool_note *n)
{
	uint8_t body[SPOOL_NOTE_LEN];

	put_u64(body, (uint64_t)n->epoch);
	put_u64(body + 8, n->seq);
	return spool_append_rec(f, body, sizeof(body), pos, SPOOL_REC_NOTE,
	    NULL);
}

int
spool_mark(struct spool_file *f, uint64_t pos)
{
	return spool_append_rec(f, NULL, 0, pos, SPOOL_REC_LAST, NULL);
}

int
spool_sync(struct spool_file *f)
{
	return fdatasync(f->fd);
}

int
spool_reset(struct spool_file *f)
{
	if (f->end == f->hdr_len)
		return 0;
	if (ftruncate(f->fd, (off_t)f->hdr_len) == -1)
		return -1;
	f->end = f->hdr_len;
	return 0;
}

int
spool_reset_mark(struct spool_file *f, uint64_t pos)
{
	uint8_t rec[SPOOL_REC_HDR];

	if (f->end < f->hdr_len + SPOOL_REC_HDR)
		return 0;
	memset(rec, 0, sizeof(rec));
	put_u64(rec + 8, pos);
	put_u32(rec + 16, SPOOL_REC_LAST);
	put_u32(rec + 4, spool_crc32(rec + 8, SPOOL_REC_HDR - 8));
	/*
	 * The mark reaches the disk before the cut may: a power loss could
	 * otherwise keep the cut and lose the mark, leaving the first
	 * record's stale header where it goes, read as a torn record, and
	 * the next run would resume from the header's start again.
	 */
	if (write_at(f->fd, f->hdr_len, rec, sizeof(rec)) == -1 ||
	    fdatasync(f->fd) == -1 ||
	    ftruncate(f->fd, (off_t)(f->hdr_len + SPOOL_REC_HDR)) == -1)
		return -1;
	f->end = f->hdr_len + SPOOL_REC_HDR;
	return 0;
}

int
spool_cut(struct spool_file *f, uint64_t end)
{
	if (end < f->hdr_len || end > f->end) {
		errno = EINVAL;
		return -1;
	}
	if (ftruncate(f->fd, (off_t)end) == -1)
		return -1;
	f->end = end;
	return 0;
}

void
spool_close(struct spool_file *f, int remove)
{
	if (f == NULL || f->fd == -1)
		return;
	close(f->fd);
	f->fd = -1;
	if (remove)
		(void)unlinkat(f->dirfd, f->name, 0);
}

/* Appends the index entry of record sc->nrec, growing the array. */
static int
spool_add_rec(struct spool_scan *sc, size_t *cap, uint64_t seq, uint64_t off,
    uint32_t len, uint32_t flags, uint64_t pos)
{
	struct spool_rec *r;

	if (sc->nrec == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((r = realloc(sc->rec, *cap * sizeof(*r))) == NULL)
			return -1;
		sc->rec = r;
	}
	r = &sc->rec[sc->nrec];
	r->seq = seq;
	r->off = off;
	r->len = len;
	r->flags = flags;
	r->pos = pos;
	return 0;
}

/*
 * Reads and checks the header of a file of `size` bytes: version, HELLO,
 * identity.  *end gets the header's end.  Returns as spool_scan_fd.
 */
static int
spool_scan_header(int fd, uint64_t size, struct spool_scan *sc,
    uint64_t *end, const char **errstr)
{
	uint8_t hdr[SPOOL_HDR_FIXED];
	uint64_t fixed, have;
	uint32_t len, crc;
	size_t blen;

	have = size < sizeof(hdr) ? size : sizeof(hdr);
	if (spool_read(fd, 0, hdr, (size_t)have) == -1) {
		*errstr = "cannot read the spool header";
		return SPOOL_SCAN_UNREAD;
	}
	*errstr = "no spool header";
	if (have < SPOOL_MAGIC_LEN) {
		/* A prefix of the magic: the creator died mid-header. */
		return memcmp(hdr, SPOOL_MAGIC, (size_t)have) == 0 ? -2 : -1;
	}
	if (memcmp(hdr, SPOOL_MAGIC, SPOOL_MAGIC_LEN) == 0) {
		sc->version = SPOOL_VERSION;
		fixed = SPOOL_HDR_FIXED;
		sc->rec_hdr = SPOOL_REC_HDR;
	} else if (memcmp(hdr, SPOOL_MAGIC_V2, SPOOL_MAGIC_LEN) == 0) {
		/* Version 3 without notes: the same header and records. */
		sc->version = 2;
		fixed = SPOOL_HDR_FIXED;
		sc->rec_hdr = SPOOL_REC_HDR;
	} else if (memcmp(hdr, SPOOL_MAGIC_V1, SPOOL_MAGIC_LEN) == 0) {
		sc->version = 1;
		fixed = SPOOL_HDR_V1;
		sc->rec_hdr = SPOOL_REC_HDR_V1;
	} else
		return -1;
	if (size < fixed)
		return -2;
	len = get_u32(hdr + SPOOL_MAGIC_LEN);
	if (len > PROTO_HDR_LEN && len <= SPOOL_HELLO_MAX &&
	    len > size - fixed) {
		*errstr = "spool header cut short";
		return -2;
	}
	if (len <= PROTO_HDR_LEN || len > SPOOL_HELLO_MAX) {
		*errstr = "spool header has a bad HELLO length";
		return -1;
	}
	if ((sc->hello_frame = malloc(len)) == NULL) {
		*errstr = "out of memory";
		return SPOOL_SCAN_UNREAD;
	}
	sc->hello_len = len;
	crc = sc->version >= 2 ? spool_crc32(hdr + SPOOL_HDR_V1,
	    SPOOL_HDR_FIXED - SPOOL_HDR_V1) : 0;
	if (spool_read(fd, fixed, sc->hello_frame, len) == -1) {
		*errstr = "cannot read the spool header";
		return SPOOL_SCAN_UNREAD;
	}
	if (spool_crc32_update(crc, sc->hello_frame, len) !=
	    get_u32(hdr + SPOOL_MAGIC_LEN + 4) ||
	    proto_frame_check(sc->hello_frame, len, SPOOL_HELLO_MAX, &blen) !=
	    PROTO_OK || blen != len - PROTO_HDR_LEN ||
	    proto_decode_hello(sc->hello_frame + PROTO_HDR_LEN, blen,
	    &sc->hello) != PROTO_OK) {
		*errstr = "spool header's HELLO does not check out";
		return -1;
	}
	if (sc->version >= 2) {
		sc->input.dev = get_u64(hdr + SPOOL_HDR_V1);
		sc->input.ino = get_u64(hdr + SPOOL_HDR_V1 + 8);
		sc->input.size = get_u64(hdr + SPOOL_HDR_V1 + 16);
		sc->input.mtime_ns = (int64_t)get_u64(hdr + SPOOL_HDR_V1 + 24);
		sc->input.filter = get_u64(hdr + SPOOL_HDR_V1 + 32);
		sc->start_pos = get_u64(hdr + SPOOL_HDR_V1 + 40);
	}
	*end = fixed + len;
	return 0;
}

int
spool_scan_fd(int fd, struct spool_scan *sc, const char **errstr)
{
	return spool_scan(fd, sc, 1, NULL, errstr);
}

int
spool_scan_fd_count(int fd, struct spool_scan *sc, const char **errstr)
{
	return spool_scan(fd, sc, 0, NULL, errstr);
}

int
spool_scan_fd_notes(int fd, int64_t epoch, struct spool_scan *sc,
    const char **errstr)
{
	return spool_scan(fd, sc, 0, &epoch, errstr);
}

int
spool_read_next(int fd, const struct spool_scan *sc, uint64_t end,
    uint64_t *at, struct spool_rec *r)
{
	uint8_t hdr[SPOOL_REC_HDR];
	size_t rh = sc->rec_hdr;

	for (;;) {
		if (end < rh || *at > end - rh)
			return 0;
		if (spool_read(fd, *at, hdr, rh) == -1)
			return -1;
		rec_header(hdr, sc->version >= 2, *at + rh, r);
		if (r->len > end - r->off) {
			errno = EIO;
			return -1;
		}
		*at = r->off + r->len;
		/* Marks and notes are no frames: passed over. */
		if (r->len > 0 && (r->flags & SPOOL_REC_NOTE) == 0)
			return 1;
	}
}

/*
 * Checks the version 3 note record whose header is hdr, its body of len
 * bytes right after it, and reads it into *n.  0, or -1 when it is no
 * good note: that ends the file, as any bad record.
 */
static int
note_check(const uint8_t *hdr, uint32_t len, uint32_t flags,
    struct spool_note *n)
{
	const uint8_t *p = hdr + SPOOL_REC_HDR;
	uint32_t crc;

	if (flags != SPOOL_REC_NOTE || len != SPOOL_NOTE_LEN)
		return -1;
	crc = spool_crc32_update(spool_crc32(hdr + 8, SPOOL_REC_HDR - 8), p,
	    len);
	if (crc != get_u32(hdr + 4))
		return -1;
	n->epoch = (int64_t)get_u64(p);
	n->seq = get_u64(p + 8);
	return n->seq == 0 ? -1 : 0;
}

/*
 * spool_scan_fd, and with `index` the records listed in sc->rec.  The
 * frame of each record is read and checked whole, one at a time.  The
 * notes gathered are those of *epoch (NULL: the file's own).
 */
static int
spool_scan(int fd, struct spool_scan *sc, int index, const int64_t *epoch,
    const char **errstr)
{
	uint8_t hdr[SPOOL_REC_HDR + SPOOL_NOTE_LEN], *buf = NULL, *nb;
	struct spool_note note;
	struct spool_rec hr;
	struct stat st;
	uint64_t size, off, seq, pos, lastpos, noted = 0;
	uint32_t len, version, type, flags, crc;
	size_t cap = 0, bufcap = 0, blen, rh;
	int rc, v2, v3;

	memset(sc, 0, sizeof(*sc));
	if (fstat(fd, &st) == -1) {
		*errstr = "cannot stat the spool file";
		return -1;
	}
	size = (uint64_t)st.st_size;
	if ((rc = spool_scan_header(fd, size, sc, &off, errstr)) < 0) {
		spool_scan_clear(sc);
		return rc;
	}
	v2 = sc->version >= 2;
	v3 = sc->version >= 3;
	rh = sc->rec_hdr;
	sc->note_epoch = epoch != NULL ? *epoch : sc->hello.start_time;
	sc->resume_pos = lastpos = sc->start_pos;
	sc->resume_end = sc->data_start = off;
	seq = 0;
	while (size - off >= rh) {
		/*
		 * Inside the file, a read fails only by the disk's fault:
		 * that is no torn tail, which a replay would leave unsent.
		 */
		if (spool_read(fd, off, hdr, rh) == -1)
			goto unreadable;
		rec_header(hdr, v2, off + rh, &hr);
		len = hr.len;
		pos = hr.pos;
		flags = hr.flags;
		if (len > PROTO_HDR_LEN + PROTO_FRAME_MAX ||
		    len > size - off - rh || pos < lastpos ||
		    (flags & ~(SPOOL_REC_LAST | SPOOL_REC_NOTE)) != 0)
			break;
		crc = v2 ? spool_crc32(hdr + 8, rh - 8) : 0;
		if (flags & SPOOL_REC_NOTE) {
			/*
			 * Held until the next record: it counts only when
			 * that one is the good frame that carries the drop.
			 */
			if (!v3 || len != SPOOL_NOTE_LEN)
				break;
			if (spool_read(fd, off + rh, hdr + rh, len) == -1)
				goto unreadable;
			if (note_check(hdr, len, flags, &note) == -1)
				break;
			if (note.epoch == sc->note_epoch && note.seq > noted)
				noted = note.seq;
		} else if (len == 0) {
			/* A mark: version 2 on, and it ends a flush. */
			if (!v2 || flags != SPOOL_REC_LAST ||
			    crc != get_u32(hdr + 4))
				break;
			noted = 0;	/* a note's frame follows it */
		} else {
			if (len <= PROTO_HDR_LEN)
				break;
			if (len > bufcap) {
				if ((nb = realloc(buf, len)) == NULL) {
					*errstr = "out of memory reading a "
					    "record";
					goto fail;
				}
				buf = nb;
				bufcap = len;
			}
			if (spool_read(fd, off + rh, buf, len) == -1)
				goto unreadable;
			if (spool_crc32_update(crc, buf, len) !=
			    get_u32(hdr + 4) ||
			    proto_frame_check(buf, len, PROTO_FRAME_MAX,
			    &blen) != PROTO_OK || blen != len - PROTO_HDR_LEN ||
			    proto_decode_envelope(buf + PROTO_HDR_LEN, blen,
			    &version, &type, &seq) != PROTO_OK ||
			    version != PROTO_VERSION || type != PROTO_BATCH ||
			    seq == 0 || (sc->nrec > 0 && seq != sc->last_seq + 1))
				break;
			if (index && spool_add_rec(sc, &cap, seq, off + rh, len,
			    flags, pos) == -1) {
				*errstr = "out of memory indexing the records";
				goto fail;
			}
			if (sc->nrec++ == 0)
				sc->first_seq = seq;
			sc->last_seq = seq;
			sc->bytes += len;
			if (noted > sc->carried)
				sc->carried = noted;
			noted = 0;
		}
		off += rh + (uint64_t)len;
		lastpos = pos;
		if (flags & SPOOL_REC_LAST) {
			sc->resume_pos = pos;
			sc->resume_end = off;
			sc->resume_nrec = sc->nrec;
			sc->resume_bytes = sc->bytes;
			sc->resume_carried = sc->carried;
		}
	}
	free(buf);
	if (!v2) {
		/* No flushes recorded: every good record stands. */
		sc->resume_end = off;
		sc->resume_nrec = sc->nrec;
		sc->resume_bytes = sc->bytes;
		sc->resume_carried = sc->carried;
	}
	sc->good_end = off;
	if (off < size) {
		sc->torn_at = off;
		sc->skipped = size - off;
	}
	return 0;
unreadable:
	*errstr = "cannot read the file";
fail:
	/* Past here would read as torn, and be left unsent: say why. */
	free(buf);
	spool_scan_clear(sc);
	return SPOOL_SCAN_UNREAD;
}

int
spool_resume(int dirfd, const char *agent, int64_t except,
    const struct spool_input *in, uint64_t *pos, char *name,
    const char **errstr)
{
	struct spool_scan sc;
	struct stat st;
	const char *why;
	char **names;
	size_t total;
	int n, i, fd, rc, found = 0, saved;

	*pos = 0;
	if (spool_input_none(in))
		return 0;
	/* All of them: the newest, which a replay may leave for later. */
	if ((n = spool_list(dirfd, agent, except, SIZE_MAX, &names, &total,
	    errstr)) == -1)
		return -1;
	/*
	 * Every file naming the input: the runs over it form one chain,
	 * each resumed where the one before left off, so the furthest
	 * position is the newest run's, whatever the clock did between
	 * them (newest first: a tie goes to the newer).
	 */
	for (i = n - 1; i >= 0 && found != -1; i--) {
		fd = openat(dirfd, names[i], O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd == -1)
			continue;	/* the replay says why */
		if (spool_lock(fd) == -1) {
			*errstr = "a spool file of this agent name is in use by "
			    "a running agent";
			snprintf(name, SPOOL_NAME_MAX + 1, "%s", names[i]);
			errno = EWOULDBLOCK;
			close(fd);
			found = -1;
			break;
		}
		if ((rc = spool_scan_fd_count(fd, &sc, &why)) ==
		    SPOOL_SCAN_UNREAD) {
			/*
			 * Passed over, its run's packets would be counted
			 * again from the input and replayed from it too.
			 */
			saved = errno;
			*errstr = "cannot read it to its end (check the disk; "
			    "moved out of the directory, its batches are not "
			    "sent)";
			snprintf(name, SPOOL_NAME_MAX + 1, "%s", names[i]);
			close(fd);
			errno = saved;
			found = -1;
			break;
		}
		if (rc < 0 || sc.version < 2 ||
		    !input_equal(&sc.input, in) ||
		    strcmp(sc.hello.name, agent) != 0) {
			spool_scan_clear(&sc);
			close(fd);
			continue;
		}
		/*
		 * A torn flush: none of it was sent, and its packets are
		 * counted again from the input by this start or were by the
		 * start that followed its run.
		 */
		if (fstat(fd, &st) == -1 ||
		    ((uint64_t)st.st_size > sc.resume_end &&
		    (ftruncate(fd, (off_t)sc.resume_end) == -1 ||
		    fdatasync(fd) == -1))) {
			saved = errno;
			*errstr = "cannot cut a torn flush off the spool file";
			snprintf(name, SPOOL_NAME_MAX + 1, "%s", names[i]);
			spool_scan_clear(&sc);
			close(fd);
			errno = saved;
			found = -1;
			break;
		}
		if (found == 0 || sc.resume_pos > *pos) {
			*pos = sc.resume_pos;
			snprintf(name, SPOOL_NAME_MAX + 1, "%s", names[i]);
			found = 1;
		}
		spool_scan_clear(&sc);
		close(fd);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (found == -1)
		*pos = 0;
	return found;
}

void
spool_mark_of(const struct spool_scan *sc, struct spool_mark *m)
{
	m->version = sc->version;
	m->hello_len = sc->hello_len;
	m->resume_pos = sc->resume_pos;
}

int
spool_cut_mark(int fd, const struct spool_mark *m)
{
	struct spool_file f;
	struct stat st;

	if (m->version < 2 || fstat(fd, &st) == -1) {
		if (m->version < 2)
			errno = EINVAL;
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.fd = fd;
	f.hdr_len = SPOOL_HDR_FIXED + m->hello_len;
	f.end = (uint64_t)st.st_size;
	if (spool_reset_mark(&f, m->resume_pos) == -1)
		return -1;
	return spool_sync(&f);
}

void
spool_scan_clear(struct spool_scan *sc)
{
	if (sc == NULL)
		return;
	free(sc->hello_frame);
	free(sc->rec);
	memset(sc, 0, sizeof(*sc));
}
