/*
 * sender_spool.c - the sender's write-ahead spool: this epoch's frames
 * appended to its spool file before they are sent, read back when they
 * are kept on disk only, and what a failed write or sync leaves.
 *
 * Kept apart from the connection and the queue (sender.c): the spool is
 * optional (--spool) and keeps invariants of its own.  spool.c is the
 * file format, this file what the sender does with it.  sender.c asks it
 * whether a frame may be sent (sender_sendable) and for a frame on disk
 * only (sender_frame); sender_spool_open is sender_new's part with a
 * spool.
 *
 * Invariants:
 * - With a spool (--spool DIR, spool.c) every frame is appended to this
 *   epoch's file, and the file synced once per tabset, before the frame
 *   is first sent: write-ahead.  The store being away then no longer
 *   makes the sender hold; frames past max_queue_bytes are dropped from
 *   memory (pending->data NULL) and read back from the file to be sent;
 *   the sender holds only when the spool files exceed spool_max_bytes.
 *   Frames on disk only that follow each other in the file share one
 *   pending entry (a run), so an outage of days costs no memory per
 *   frame; a run is split, its first frame's record header read back,
 *   as that frame is sent or acknowledged.
 *   When every frame is acknowledged the file is cut back to its header.
 *   An agent killed with frames unacknowledged leaves them in its file.
 * - A tabset's frames are all appended (the last one flagged
 *   SPOOL_REC_LAST, each holding the tabset's input position) and synced
 *   before any of them is sent: sender_encode only queues, and sending
 *   happens after it returns.  So a flush is either wholly in the file or
 *   none of it was sent, and spool_resume may cut a torn one off.  The
 *   cut back to the header is followed by a mark holding the position, so
 *   a -r run killed at any moment resumes where its spooled counts end
 *   (the start position of the next epoch, in its header).
 * - A spool write that fails (a full disk) keeps the frames in memory.
 *   For a live capture or standard input they are sent from there, as
 *   without a spool.  For a -r file (resumable) they are not: a frame
 *   sent but not in the file would be counted again by a resume.  The
 *   tabset being appended is taken out of the file whole, the sender
 *   holds (the file replay waits), and every second the frames kept in
 *   memory are appended again, in order; once that works they are sent.
 *   The file is cut back as soon as every frame in it is acknowledged,
 *   with a mark at the position of the last tabset in it, which frees
 *   what the file itself took of the disk.
 * - A batch the store refused twice is dropped, but stays in its spool
 *   file (never acknowledged), and the next frame encoded counts its drop
 *   in agent_health.dropped.  That frame is appended after a drop note
 *   naming the batch (spool.h), in the same append: the note is in the
 *   file exactly when the frame that counts the drop is.  A replay after
 *   a kill that finds the batch refused again then knows its drop is
 *   counted by a frame it delivers too, and does not count it again
 *   (sender_replay.c); with no note, the drop was counted by nothing
 *   that survived, and the replay counts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sender.h"
#include "sender_int.h"
#include "spool.h"

#define SENDER_SPOOL_RETRY_MS	1000	/* a failed spool, resumable */

static void	 sender_spool_whole(struct sender *, struct pending *);
static void	 sender_spool_unwind(struct sender *, struct pending *);
static void	 sender_spool_sync(struct sender *, struct pending *);
static int	 sender_spool_open_old(struct sender *, const char **);
static int	 spool_append_noted(struct spool_file *, struct pending *,
		    uint64_t *);

/*
 * Appends p's drop notes, then p's frame, to the end of sf; *off gets
 * the frame's offset.  A note says something only of the frame after it,
 * so when that frame cannot be appended the notes are cut off too.
 * Returns as spool_append.
 */
static int
spool_append_noted(struct spool_file *sf, struct pending *p, uint64_t *off)
{
	uint64_t start = sf->end;
	size_t i;
	int rc = 0;

	for (i = 0; i < p->nnotes && rc == 0; i++)
		rc = spool_note(sf, p->pos, &p->notes[i]);
	if (rc == 0)
		rc = spool_append(sf, p->data, p->len, p->pos,
		    p->last ? SPOOL_REC_LAST : 0, off);
	if (rc == -1 && sf->end > start && spool_cut(sf, start) == -1)
		rc = -2;
	return rc;
}

/*
 * Appends frame p to the spool file, write-ahead, with its input
 * position and its last flag.  A failure (a full disk) keeps p in memory
 * only and stops appends until the file is cut back to its header (or,
 * resumable, sender_spool_retry succeeds): a file must never skip a seq.
 */
void
sender_spool(struct sender *s, struct pending *p)
{
	uint64_t off;
	int rc;

	if (!s->spooling)
		return;
	if ((rc = spool_append_noted(&s->sf, p, &off)) < 0) {
		sender_spool_failed(s, rc == -2 ? "write failed and the file "
		    "could not be cut back" : "write failed");
		return;
	}
	p->off = off;
	s->spool_unacked += SPOOL_REC_HDR + p->len;
}

/*
 * For a -r file: appends and syncs a mark holding input position pos:
 * after a tabset that could not be encoded whole, it says its packets
 * are accounted for (sent, or counted as dropped).
 */
void
sender_spool_mark(struct sender *s, uint64_t pos)
{
	int rc;

	if (!s->resumable)
		return;
	if ((rc = spool_mark(&s->sf, pos)) < 0) {
		sender_spool_failed(s, rc == -2 ? "write failed and the file "
		    "could not be cut back" : "write failed");
		return;
	}
	if (spool_sync(&s->sf) == -1)
		sender_spool_failed(s, "fdatasync failed");
}

/*
 * A tabset's frames are queued from `from` on (`before` the entry ahead
 * of them, NULL for none): makes them whole in the file and durable,
 * then joins those left on disk only into runs.
 */
void
sender_spool_tabset(struct sender *s, struct pending *from,
    struct pending *before)
{
	sender_spool_whole(s, from);
	sender_spool_sync(s, from);
	pending_coalesce(s, before != NULL ? before : s->head);
}

/*
 * After a tabset's frames were appended from `from` on: a resumable
 * input's tabset is in the file whole or not at all, so that no frame of
 * it is sent unless all are there (sender_sendable).  When an append
 * failed, takes the frames appended out again (sender_spool_sync records
 * the position the file reaches once they are durable).
 */
static void
sender_spool_whole(struct sender *s, struct pending *from)
{
	if (s->resumable && from != NULL && !s->spooling)
		sender_spool_unwind(s, from);
}

/* Takes a resumable input's frames from `from` on out of the file. */
static void
sender_spool_unwind(struct sender *s, struct pending *from)
{
	struct pending *p;

	for (p = from; p != NULL; p = p->next) {
		if (p->off == SENDER_NOT_SPOOLED)
			continue;
		p->off = SENDER_NOT_SPOOLED;
		s->spool_unacked -= SPOOL_REC_HDR + p->len;
	}
	/* Left there, a resume would cut them off: not sent either way. */
	if (s->sf.end > s->flush_start)
		(void)spool_cut(&s->sf, s->flush_start);
	s->rbuf_fd = -1;
}

/*
 * A resumable input whose spool failed: appends the frames kept in
 * memory only (whole tabsets, in order, each with its position) and
 * syncs them, every SENDER_SPOOL_RETRY_MS; once that works they may be
 * sent and appends go on.  A failed attempt is cut back off the file.
 */
void
sender_spool_retry(struct sender *s)
{
	struct pending *p, *first;
	uint64_t start;
	int64_t now;
	size_t n = 0;

	if (!s->resumable || s->spooling || s->sf.fd == -1)
		return;
	now = clock_mono_ms();
	if (now < s->spool_retry)
		return;
	s->spool_retry = now + SENDER_SPOOL_RETRY_MS;
	for (first = s->head; first != NULL &&
	    first->off != SENDER_NOT_SPOOLED; first = first->next)
		continue;
	start = s->sf.end;
	for (p = first; p != NULL; p = p->next, n++)
		if (p->data == NULL || spool_append_noted(&s->sf, p,
		    &p->off) < 0)
			goto fail;
	if (spool_sync(&s->sf) == -1)
		goto fail;
	for (p = first; p != NULL; p = p->next) {
		s->spool_unacked += SPOOL_REC_HDR + p->len;
		if (p->last)
			s->spooled_pos = p->pos;
	}
	s->spooling = 1;
	s->spool_logged = 0;
	log_info("spool: %s/%s: written again, with the %zu batch(es) kept in "
	    "memory meanwhile; sending them", s->cfg.spool_dir, s->sf.name, n);
	return;
fail:
	for (p = first; p != NULL; p = p->next)
		p->off = SENDER_NOT_SPOOLED;
	if (s->sf.end > start)
		(void)spool_cut(&s->sf, start);
	s->rbuf_fd = -1;
}

/* Whether p may go to the store: not a resumable input's frame that is
 * in memory only. */
int
sender_sendable(const struct sender *s, const struct pending *p)
{
	return !s->resumable || p->off != SENDER_NOT_SPOOLED;
}

/* Logs the first of a run of spool failures; appends stop. */
void
sender_spool_failed(struct sender *s, const char *what)
{
	if (!s->spool_logged && s->resumable)
		log_err("spool: %s/%s: %s: %s; the replay of %s waits, its "
		    "batches in memory, until they can be written (tried "
		    "every %d s)", s->cfg.spool_dir, s->sf.name, what,
		    strerror(errno), s->cfg.hello.iface[0],
		    SENDER_SPOOL_RETRY_MS / 1000);
	else if (!s->spool_logged)
		log_err("spool: %s/%s: %s: %s; batches stay in memory only "
		    "until every batch is acknowledged", s->cfg.spool_dir,
		    s->sf.name, what, strerror(errno));
	s->spool_logged = 1;
	s->spooling = 0;
}

/*
 * Opens every earlier epoch's file to replay, now: the seccomp filter,
 * loaded before the first replay, allows no open for writing, and a
 * replay writes to its file (a file of another -r input is cut to a
 * mark of its resume point).  A filter rule for it could not hold the
 * open to the spool directory: openat ignores the directory for an
 * absolute path.  A file that cannot be opened is said now and skipped.
 * Returns 0, or -1 with *errstr when out of memory.
 */
static int
sender_spool_open_old(struct sender *s, const char **errstr)
{
	size_t i;

	if (s->nold == 0)
		return 0;
	if ((s->old_fd = calloc(s->nold, sizeof(*s->old_fd))) == NULL) {
		*errstr = "out of memory for the spool's earlier files";
		return -1;
	}
	for (i = 0; i < s->nold; i++) {
		s->old_fd[i] = openat(s->cfg.spool_dirfd, s->old[i], O_RDWR |
		    O_CLOEXEC | O_NOFOLLOW);
		if (s->old_fd[i] == -1)
			log_err("spool: %s/%s: %s; not replayed",
			    s->cfg.spool_dir, s->old[i], strerror(errno));
	}
	return 0;
}

/*
 * Batch seq of epoch was dropped and its drop added to s->dropped: the
 * next frame encoded counts it, and gets a note naming it.  One note an
 * epoch, its highest seq dropped: drops are taken at the head of the
 * queue, in seq order, so every batch of that epoch up to it that a
 * replay could offer again (past what the store committed) was dropped,
 * and counted.  Out of memory, the note is missing (logged): a replay
 * after a kill may then count the drop again, as before notes.
 */
void
sender_note_drop(struct sender *s, int64_t epoch, uint64_t seq)
{
	struct spool_note *n;
	size_t i, cap;

	if (s->cfg.spool_dir == NULL)
		return;
	for (i = 0; i < s->nnotes; i++)
		if (s->notes[i].epoch == epoch) {
			if (seq > s->notes[i].seq)
				s->notes[i].seq = seq;
			return;
		}
	if (s->nnotes == s->notes_cap) {
		cap = s->notes_cap ? s->notes_cap * 2 : 4;
		if ((n = realloc(s->notes, cap * sizeof(*n))) == NULL) {
			log_err("sender: out of memory noting dropped batch "
			    "%llu in the spool: should the agent be killed "
			    "before it is delivered, its drop may be counted "
			    "twice", (unsigned long long)seq);
			return;
		}
		s->notes = n;
		s->notes_cap = cap;
	}
	s->notes[s->nnotes].epoch = epoch;
	s->notes[s->nnotes++].seq = seq;
}

/*
 * p is the frame that takes s->dropped into its health: it takes over
 * the notes of those drops, written before it (sender_spool).
 */
void
sender_take_notes(struct sender *s, struct pending *p)
{
	p->notes = s->notes;
	p->nnotes = s->nnotes;
	s->notes = NULL;
	s->nnotes = s->notes_cap = 0;
}

/*
 * Makes the frames appended since `from` durable (one fdatasync per
 * tabset), then lets the memory cap drop this tabset's frames from
 * memory: older ones are sent sooner, so they stay.  A failed sync
 * keeps them in memory, where they are safe from everything but a kill;
 * a resumable input's are also taken out of the file, to be appended
 * again by sender_spool_retry before any is sent.
 */
static void
sender_spool_sync(struct sender *s, struct pending *from)
{
	struct pending *p;

	if (from == NULL || s->sf.fd == -1 || from->off == SENDER_NOT_SPOOLED)
		return;
	if (spool_sync(&s->sf) == -1) {
		sender_spool_failed(s, "fdatasync failed");
		/*
		 * Maybe not on disk: sent, a resume after a crash would
		 * count its packets again.  It waits for sender_spool_retry.
		 */
		if (s->resumable)
			sender_spool_unwind(s, from);
		return;
	}
	s->spool_logged = 0;
	if (s->resumable)
		s->spooled_pos = s->tail->pos;
	if (s->mem_bytes <= s->cfg.max_queue_bytes)
		return;
	for (p = from; p != NULL && s->mem_bytes > s->cfg.max_queue_bytes;
	    p = p->next) {
		if (p->data == NULL || p->off == SENDER_NOT_SPOOLED ||
		    p == s->unsent)
			continue;
		free(p->data);
		p->data = NULL;
		s->mem_bytes -= PENDING_MEM(p->len);
	}
}

/*
 * Returns frame bytes read back from spool file fd at off, in the
 * sender's buffer (valid until the next call), or NULL (logged).
 */
const uint8_t *
sender_frame(struct sender *s, int fd, uint64_t off, size_t len)
{
	uint8_t *b;

	if (s->rbuf_fd == fd && s->rbuf_off == off)
		return s->rbuf;
	if (len > s->rbuf_cap) {
		if ((b = realloc(s->rbuf, len)) == NULL) {
			log_err("spool: out of memory reading a batch back");
			return NULL;
		}
		s->rbuf = b;
		s->rbuf_cap = len;
	}
	s->rbuf_fd = -1;
	if (spool_read(fd, off, s->rbuf, len) == -1) {
		log_err("spool: reading a batch back at offset %llu: %s",
		    (unsigned long long)off, strerror(errno));
		return NULL;
	}
	s->rbuf_fd = fd;
	s->rbuf_off = off;
	return s->rbuf;
}

/*
 * sender_new with a spool: for a -r file, finds where an earlier run over
 * it left off; lists the earlier epochs' files, creates this epoch's
 * (starting at that position), and tries the store unless those files go
 * first.  Frees s on failure.
 */
int
sender_spool_open(struct sender *s, const char **errstr)
{
	static char reason[2 * SPOOL_NAME_MAX + 512];
	const char *why;
	size_t total;
	int n;

	n = spool_resume(s->cfg.spool_dirfd, s->cfg.hello.name,
	    s->cfg.hello.start_time, &s->cfg.input, &s->resume_at,
	    s->resume_name, &why);
	if (n == -1) {
		snprintf(reason, sizeof(reason), "spool %s/%s: %s: %s",
		    s->cfg.spool_dir, s->resume_name, why, strerror(errno));
		*errstr = reason;
		goto fail;
	}
	s->resumed = n == 1;
	s->in_pos = s->spooled_pos = s->resume_at;
	s->resumable = !spool_input_none(&s->cfg.input);
	n = spool_list(s->cfg.spool_dirfd, s->cfg.hello.name,
	    s->cfg.hello.start_time, SPOOL_FILES_MAX, &s->old, &total, &why);
	if (n == -1) {
		snprintf(reason, sizeof(reason), "spool %s: %s",
		    s->cfg.spool_dir, why);
		*errstr = reason;
		goto fail;
	}
	s->nold = (size_t)n;
	if (total > s->nold)
		log_warn("spool: %s: %zu files of earlier runs, more than a "
		    "start replays: the oldest %zu now, the rest at the next "
		    "start", s->cfg.spool_dir, total, s->nold);
	if (sender_spool_open_old(s, errstr) == -1)
		goto fail;
	if (spool_create(&s->sf, s->cfg.spool_dirfd, s->cfg.hello.name,
	    s->cfg.hello.start_time, &s->cfg.input, s->resume_at,
	    s->hello.data, s->hello.len, &why) == -1) {
		snprintf(reason, sizeof(reason), "%s %s/%s: %s (the directory "
		    "must be writable by the agent's user)", why,
		    s->cfg.spool_dir, s->sf.name, strerror(errno));
		*errstr = reason;
		goto fail;
	}
	s->spooling = 1;
	s->clean_end = s->sf.end;
	if (s->nold > 0) {
		log_info("spool: %s: %zu file(s) of earlier runs to replay "
		    "first", s->cfg.spool_dir, s->nold);
		return 0;
	}
	if (sender_connect(s, &why) != 0) {
		log_warn("store %s: %s; batches wait in the spool %s until it "
		    "answers", s->cfg.socket_path, why, s->cfg.spool_dir);
		s->connect_logged = 1;
		s->next_connect = clock_mono_ms() + s->backoff_ms;
	}
	return 0;
fail:
	sender_free(s);
	return -1;
}
