/*
 * sender_replay.c - replaying earlier epochs' spool files to the store,
 * ahead of this epoch's frames.
 *
 * Kept apart from the connection and the queue (sender.c): a replay has
 * state of its own (struct replay, s->rp) and speaks for another epoch.
 * Its connection says that epoch's HELLO, stored in the file, and its
 * records are sent straight from the file, in turn, not through the
 * pending list.  sender.c hands the connection over while s->conn_replay
 * is set: the WELCOME (replay_welcome), ACKs (replay_ack), a refusal
 * (replay_rejected), the store's close after the last ACK (replay_done)
 * and room to write (replay_write).
 *
 * Invariants:
 * - Before this epoch's HELLO, the files of earlier epochs of the same
 *   agent name are replayed, oldest first, each on its own connection:
 *   its stored HELLO, so WELCOME names what the store already has of that
 *   epoch (the store keeps the latest epoch per name, which is the
 *   replayed one as long as no newer epoch said HELLO first: hence the
 *   order), then its batches past that, and once all are acknowledged
 *   the file is removed; a file naming another -r file than this run's
 *   is sent up to its resume point and cut to a mark of it instead, for
 *   the next run over that file.  Capture goes on meanwhile into this
 *   epoch.
 * - A replayed batch the store refuses twice is skipped.  Its drop is
 *   counted once: by this run (the next frame it encodes, noted before
 *   it in this epoch's file), unless a drop note says a frame that this
 *   start delivers already counts it: in the same file (the run that
 *   wrote it dropped the batch, then was killed before that frame was
 *   acknowledged) or in a later epoch's file still to replay (a run that
 *   replayed this file dropped it, and was killed before the file was
 *   done).  Such a frame is delivered by this start, or dropped in turn
 *   with its count going on, so the drop is neither lost nor counted
 *   twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "proto.h"
#include "sender_int.h"
#include "spool.h"

static int	 replay_read(struct sender *);
static void	 replay_upto_resume(struct replay *);
static void	 replay_keep_mark(struct sender *, const char *, int,
		    const struct spool_mark *);
static void	 replay_log_kept(const struct sender *, const char *,
		    uint64_t);
static int	 replay_other(const struct spool_input *,
		    const struct spool_input *);
static int	 replay_carried(struct sender *, uint64_t);
static uint64_t	 replay_carried_later(struct sender *);
static void	 replay_keep_file(struct sender *);

/*
 * Opens the next earlier epoch's file and counts its records
 * (spool_scan_fd_count: replay_read reads them in turn, so memory does
 * not grow with the file).  Returns 1 when a file is loaded for replay,
 * 0 when none is left.  A file with no batch in it is removed; one whose
 * header does not check out is left alone.
 */
int
replay_load(struct sender *s)
{
	struct replay *rp = &s->rp;
	const char *errstr;
	const char *name;
	int rc;

	while (!rp->loaded && s->iold < s->nold) {
		name = s->old[s->iold];
		memset(rp, 0, sizeof(*rp));
		snprintf(rp->name, sizeof(rp->name), "%s", name);
		/* Opened by sender_spool_open_old, which said any failure. */
		rp->fd = s->old_fd[s->iold];
		s->old_fd[s->iold++] = -1;
		if (rp->fd == -1)
			continue;
		if (spool_lock(rp->fd) == -1) {
			log_warn("spool: %s/%s: locked by another agent of this "
			    "name: not replayed", s->cfg.spool_dir, name);
			close(rp->fd);
			continue;
		}
		if ((rc = spool_scan_fd_count(rp->fd, &rp->sc,
		    &errstr)) == -2) {
			/* Killed while creating it: no batch can be in it. */
			log_info("spool: %s/%s: %s, no batch in it; removed",
			    s->cfg.spool_dir, name, errstr);
			close(rp->fd);
			(void)unlinkat(s->cfg.spool_dirfd, name, 0);
			continue;
		}
		if (rc < 0) {
			log_err("spool: %s/%s: %s; not replayed, left in place",
			    s->cfg.spool_dir, name, errstr);
			close(rp->fd);
			continue;
		}
		if (strcmp(rp->sc.hello.name, s->cfg.hello.name) != 0) {
			log_err("spool: %s/%s: written by agent \"%s\"; not "
			    "replayed, left in place", s->cfg.spool_dir, name,
			    rp->sc.hello.name);
			spool_scan_clear(&rp->sc);
			close(rp->fd);
			continue;
		}
		if (rp->sc.skipped > 0)
			log_warn("spool: %s/%s: torn or corrupt record at offset "
			    "%llu: %llu byte(s) skipped, %zu batch(es) before "
			    "it intact", s->cfg.spool_dir, name,
			    (unsigned long long)rp->sc.torn_at,
			    (unsigned long long)rp->sc.skipped, rp->sc.nrec);
		/*
		 * Where a run over another -r file stopped: were it removed,
		 * the next run over that file would find no resume point and
		 * count its first packets again.  It is sent up to that point
		 * and kept as a mark of it (replay_keep_mark); records past
		 * the point are a flush the kill tore, never sent, which that
		 * run counts.  The same file (device and inode) rewritten
		 * since is not coming back: its file goes as a live run's.
		 */
		rp->other = replay_other(&rp->sc.input, &s->cfg.input);
		rp->end = rp->sc.good_end;
		if (rp->other)
			replay_upto_resume(rp);
		if (rp->sc.nrec == 0 && rp->other) {
			replay_log_kept(s, name, rp->sc.resume_pos);
			spool_scan_clear(&rp->sc);
			close(rp->fd);
			continue;
		}
		if (rp->sc.nrec == 0) {
			log_info("spool: %s/%s: no batch to replay; removed",
			    s->cfg.spool_dir, name);
			spool_scan_clear(&rp->sc);
			close(rp->fd);
			(void)unlinkat(s->cfg.spool_dirfd, name, 0);
			continue;
		}
		rp->loaded = 1;
		log_info("spool: %s/%s: replaying %zu batch(es) of epoch %lld "
		    "(%llu bytes)", s->cfg.spool_dir, name, rp->sc.nrec,
		    (long long)rp->sc.hello.start_time,
		    (unsigned long long)rp->sc.bytes);
	}
	return rp->loaded;
}

/*
 * Whether a file of a run over input `was` holds where a run over
 * another input than `now` stopped: another file, or the same file
 * unchanged read through another filter.  The same file rewritten since
 * (same device and inode, another size or time) is not coming back.
 */
static int
replay_other(const struct spool_input *was, const struct spool_input *now)
{
	if (spool_input_none(was))
		return 0;
	if (was->dev != now->dev || was->ino != now->ino)
		return 1;
	return was->size == now->size && was->mtime_ns == now->mtime_ns &&
	    was->filter != now->filter;
}

/* Record bytes of the file being replayed: on disk until it is done. */
uint64_t
replay_left(const struct sender *s)
{
	const struct replay *rp = &s->rp;

	return rp->loaded ? rp->sc.bytes + rp->sc.nrec * rp->sc.rec_hdr : 0;
}

/* The store has last_seq of the replayed epoch: send what follows. */
void
replay_welcome(struct sender *s, uint64_t last_seq)
{
	struct replay *rp = &s->rp;

	if (!rp->welcomed) {
		rp->nstored = last_seq;
		rp->welcomed = 1;
	}
	rp->acked = last_seq > rp->floor ? last_seq : rp->floor;
	rp->next = 0;
	rp->at = rp->sc.data_start;
	rp->have_cur = 0;
	rp->off = 0;
	/* Record k holds seq first_seq + k (spool_scan checks it). */
	if (rp->acked >= rp->sc.last_seq)
		rp->next = rp->sc.nrec;		/* the store has it all */
	while (rp->next < rp->sc.nrec &&
	    rp->sc.first_seq + rp->next <= rp->acked) {
		/* replay_read tries it again, and says why. */
		if (spool_read_next(rp->fd, &rp->sc, rp->end, &rp->at,
		    &rp->cur) != 1)
			break;
		rp->next++;
	}
	replay_ack(s, rp->acked);
}

/*
 * Every batch up to seq is committed.  After the last one the sender
 * half-closes and waits for the store to close: once it has, the name is
 * free for the next HELLO.
 */
void
replay_ack(struct sender *s, uint64_t seq)
{
	struct replay *rp = &s->rp;

	if (seq > rp->acked)
		rp->acked = seq;
	if (rp->draining || rp->acked < rp->sc.last_seq)
		return;
	rp->draining = 1;
	if (shutdown(s->fd, SHUT_WR) == -1)
		replay_done(s);
}

/* Keeps only the records of the replayed file before its resume point. */
static void
replay_upto_resume(struct replay *rp)
{
	struct spool_scan *sc = &rp->sc;

	if (sc->resume_nrec >= sc->nrec)
		return;
	sc->nrec = sc->resume_nrec;
	sc->bytes = sc->resume_bytes;
	sc->last_seq = sc->nrec > 0 ? sc->first_seq + sc->nrec - 1 : 0;
	rp->end = sc->resume_end;
}

/*
 * The replayed file of another -r file's run is delivered: cut it to its
 * header and a mark holding where that run stopped, for the next run over
 * that file.  Failing, the file stays whole: its batches are offered
 * again (the store drops them) and the resume point is kept either way.
 */
static void
replay_keep_mark(struct sender *s, const char *name, int fd,
    const struct spool_mark *m)
{
	if (spool_cut_mark(fd, m) == -1) {
		log_err("spool: %s/%s: cannot cut it to its resume point: %s; "
		    "its batches would be offered again (the store drops them)",
		    s->cfg.spool_dir, name, strerror(errno));
		return;
	}
	replay_log_kept(s, name, m->resume_pos);
}

/* Says a replayed file stays, as a mark of its run's resume point. */
static void
replay_log_kept(const struct sender *s, const char *name, uint64_t pos)
{
	log_info("spool: %s/%s: kept as where a run over another file or "
	    "filter stopped (packet %llu), for the next run over that input",
	    s->cfg.spool_dir, name, (unsigned long long)pos);
}

/* The replayed file is delivered: close, remove it, go on. */
void
replay_done(struct sender *s)
{
	struct replay *rp = &s->rp;
	struct spool_mark mark;
	uint64_t n = rp->sc.nrec, first = rp->sc.first_seq;
	uint64_t stored = rp->nstored >= first ? rp->nstored - first + 1 : 0;

	if (stored > n)
		stored = n;
	log_info("spool: %s/%s: replayed: %llu batch(es) sent, %llu already "
	    "stored, %llu byte(s) in all", s->cfg.spool_dir, rp->name,
	    (unsigned long long)(n - stored), (unsigned long long)stored,
	    (unsigned long long)rp->sc.bytes);
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->conn_replay = 0;
	proto_buf_consume(&s->in, s->in.len);
	if (s->rbuf_fd == rp->fd)
		s->rbuf_fd = -1;
	if (s->dropped > 0)
		replay_keep_file(s);
	else if (rp->other) {
		spool_mark_of(&rp->sc, &mark);
		replay_keep_mark(s, rp->name, rp->fd, &mark);
	} else if (unlinkat(s->cfg.spool_dirfd, rp->name, 0) == -1)
		log_err("spool: %s/%s: cannot remove it: %s; its batches "
		    "would be offered again (the store drops them)",
		    s->cfg.spool_dir, rp->name, strerror(errno));
	if (rp->fd != -1)
		close(rp->fd);
	spool_scan_clear(&rp->sc);
	memset(rp, 0, sizeof(*rp));
	rp->fd = -1;
	/* The next epoch's seqs are other batches: their refusals start anew. */
	s->reject_seq = 0;
	s->nreject = 0;
	s->next_connect = clock_mono_ms();
	s->backoff_ms = SENDER_BACKOFF_MIN_MS;
}

/*
 * The replayed file is delivered, but a drop is counted in memory only:
 * the batch it refused may be in it, and a kill before a frame counts
 * the drop would lose it with the file.  So it stays whole, until the
 * frame that counts the drops is acknowledged (replay_kept_acked); a
 * start after a kill replays it again (its other batches are stored: the
 * store says so) and counts the refused batch unless a drop note names
 * it.  A file of another input's run (rp->other) is then cut to its
 * mark, through its descriptor, kept open for that; any other is
 * removed.  Out of memory, that is done now, as before.
 */
static void
replay_keep_file(struct sender *s)
{
	struct replay *rp = &s->rp;
	struct kept_file *k;
	struct spool_mark mark;
	char *name;

	spool_mark_of(&rp->sc, &mark);
	if ((name = strdup(rp->name)) == NULL ||
	    (k = realloc(s->kept, (s->nkept + 1) * sizeof(*k))) == NULL) {
		free(name);
		log_err("spool: %s/%s: out of memory keeping it until its "
		    "dropped batch is counted: %s now", s->cfg.spool_dir,
		    rp->name, rp->other ? "cut to its mark" : "removed");
		if (rp->other)
			replay_keep_mark(s, rp->name, rp->fd, &mark);
		else if (unlinkat(s->cfg.spool_dirfd, rp->name, 0) == -1)
			log_err("spool: %s/%s: cannot remove it: %s",
			    s->cfg.spool_dir, rp->name, strerror(errno));
		return;
	}
	s->kept = k;
	k = &s->kept[s->nkept++];
	k->name = name;
	k->mark = mark;
	k->fd = -1;
	if (rp->other) {
		k->fd = rp->fd;
		rp->fd = -1;
	}
	/* Counted only by a frame encoded from now on. */
	s->kept_until = 0;
}

/* Batch seq, just encoded, counts the drops in memory (sender_encode). */
void
replay_kept_counted(struct sender *s, uint64_t seq)
{
	if (s->nkept > 0 && s->kept_until == 0)
		s->kept_until = seq;
}

/*
 * The store acknowledged every batch up to seq: once that includes the
 * frame counting the drops, the files kept for them go.
 */
void
replay_kept_acked(struct sender *s, uint64_t seq)
{
	if (s->nkept > 0 && s->kept_until != 0 && seq >= s->kept_until)
		replay_kept_remove(s, 1);
}

/*
 * Forgets the files kept for a drop (replay_keep_file), with `remove`
 * (their drops counted by an acknowledged frame) removing them or
 * cutting them to their mark; left whole, the next start replays them.
 */
void
replay_kept_remove(struct sender *s, int remove)
{
	struct kept_file *k;
	size_t i;

	for (i = 0; i < s->nkept; i++) {
		k = &s->kept[i];
		if (remove && k->fd != -1)
			replay_keep_mark(s, k->name, k->fd, &k->mark);
		else if (remove && unlinkat(s->cfg.spool_dirfd, k->name, 0) ==
		    -1 && errno != ENOENT)
			log_err("spool: %s/%s: cannot remove it: %s; its "
			    "batches would be offered again (the store drops "
			    "them)", s->cfg.spool_dir, k->name,
			    strerror(errno));
		if (k->fd != -1)
			close(k->fd);
		free(k->name);
	}
	free(s->kept);
	s->kept = NULL;
	s->nkept = 0;
	s->kept_until = 0;
}

/*
 * The agent_health.dropped that replayed batch seq reported, read back
 * from the file: skipped, it must not take those drops with it.  0 when
 * it cannot be read or decoded, which is logged.
 */
static uint64_t
replay_dropped_in(struct sender *s, uint64_t seq)
{
	struct replay *rp = &s->rp;
	struct spool_rec r;
	struct proto_batch b;
	const uint8_t *data;
	uint64_t at = rp->sc.data_start, k, n = 0;
	size_t i;
	int rc = 0;

	/* Record k holds seq first_seq + k (spool_scan checks it). */
	for (k = 0; k <= seq - rp->sc.first_seq; k++)
		if ((rc = spool_read_next(rp->fd, &rp->sc, rp->end, &at,
		    &r)) != 1)
			break;
	if (rc != 1 ||
	    (data = sender_frame(s, rp->fd, r.off, r.len)) == NULL ||
	    r.len < PROTO_HDR_LEN || proto_decode_batch(data + PROTO_HDR_LEN,
	    r.len - PROTO_HDR_LEN, &b) != PROTO_OK) {
		log_err("spool: %s/%s: batch %llu cannot be read back: the "
		    "earlier drops it reported are missing from "
		    "agent_health.dropped", s->cfg.spool_dir, rp->name,
		    (unsigned long long)seq);
		return 0;
	}
	for (i = 0; i < b.nhealth; i++)
		n += b.health[i].dropped;
	proto_batch_clear(&b);
	return n;
}

/*
 * The highest seq of the replayed epoch that a note in one of the later
 * files still to replay names, among the notes whose frame that file's
 * replay sends (the frames a run over another -r file tore past its
 * resume point are not sent).  Files a replay would pass over (another
 * agent's, locked, unreadable) deliver nothing, so count for nothing.
 */
static uint64_t
replay_carried_later(struct sender *s)
{
	struct replay *rp = &s->rp;
	struct spool_scan sc;
	const char *why;
	uint64_t max = 0, seq;
	size_t i;
	int fd;

	/* Each already open (sender_spool_open_old), and locked here. */
	for (i = s->iold; i < s->nold; i++) {
		if ((fd = s->old_fd[i]) == -1 || spool_lock(fd) == -1 ||
		    spool_scan_fd_notes(fd, rp->sc.hello.start_time, &sc,
		    &why) != 0)
			continue;
		if (strcmp(sc.hello.name, s->cfg.hello.name) == 0) {
			seq = replay_other(&sc.input, &s->cfg.input) ?
			    sc.resume_carried : sc.carried;
			if (seq > max)
				max = seq;
		}
		spool_scan_clear(&sc);
	}
	return max;
}

/*
 * Whether the drop of replayed batch seq, refused again, is counted by a
 * frame this start delivers (a drop note names it): in this file, past
 * it, or in a later epoch's file.  Looked for in the later files once a
 * file, at its first such refusal.
 */
static int
replay_carried(struct sender *s, uint64_t seq)
{
	struct replay *rp = &s->rp;

	if (seq <= (rp->other ? rp->sc.resume_carried : rp->sc.carried))
		return 1;
	if (!rp->carried_known) {
		rp->carried_later = replay_carried_later(s);
		rp->carried_known = 1;
	}
	return seq <= rp->carried_later;
}

/*
 * The store refused a replayed batch as invalid: as sender_rejected, the
 * first time reconnects, the second skips it, logged and counted with
 * the drops it was to report, unless a drop note says they are counted
 * already (replay_carried).
 */
void
replay_rejected(struct sender *s)
{
	struct replay *rp = &s->rp;
	uint64_t seq;

	if (rp->next >= rp->sc.nrec && rp->acked >= rp->sc.last_seq)
		return;
	/* A file cut back starts past 1; a store may have none of it. */
	seq = rp->acked >= rp->sc.first_seq ? rp->acked + 1 :
	    rp->sc.first_seq;
	if (seq != s->reject_seq) {
		s->reject_seq = seq;
		s->nreject = 1;
		return;
	}
	if (++s->nreject < 2)
		return;
	rp->floor = seq;
	s->nreject = 0;
	if (replay_carried(s, seq)) {
		/* Dropped by an earlier run, which counted it. */
		log_warn("spool: %s/%s: the store refuses batch %llu as "
		    "invalid again; skipped, its drop already counted by a "
		    "later batch in the spool", s->cfg.spool_dir, rp->name,
		    (unsigned long long)seq);
		return;
	}
	log_err("spool: %s/%s: the store refuses batch %llu as invalid; "
	    "dropped and counted in agent_health.dropped", s->cfg.spool_dir,
	    rp->name, (unsigned long long)seq);
	s->dropped += 1 + replay_dropped_in(s, seq);
	s->dropped_run++;
	/*
	 * Its file stays until the frame that counts it, which notes it,
	 * is acknowledged (replay_keep_file when the replay is done before
	 * that).  The notes before it in the file name older epochs'
	 * batches (whose files were replayed first) or this epoch's up to
	 * it, which seq's note covers.
	 */
	sender_note_drop(s, rp->sc.hello.start_time, seq);
}

/* Writes as much of the replayed file as the socket takes. */
int
replay_write(struct sender *s)
{
	struct replay *rp = &s->rp;
	const struct spool_rec *r;
	const uint8_t *data;
	ssize_t n;

	while (rp->next < rp->sc.nrec) {
		if (!rp->have_cur && replay_read(s) == -1)
			return sender_readback_failed(s);
		r = &rp->cur;
		if ((data = sender_frame(s, rp->fd, r->off, r->len)) == NULL)
			return sender_readback_failed(s);
		n = send(s->fd, data + rp->off, r->len - rp->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return sender_write_failed(s);
		}
		rp->off += (size_t)n;
		if (rp->off == r->len) {
			rp->next++;
			rp->off = 0;
			rp->have_cur = 0;
		}
	}
	return 0;
}

/* Reads the next record of the replayed file into rp->cur; 0 or -1. */
static int
replay_read(struct sender *s)
{
	struct replay *rp = &s->rp;
	int rc;

	if ((rc = spool_read_next(rp->fd, &rp->sc, rp->end, &rp->at,
	    &rp->cur)) != 1) {
		log_err("spool: %s/%s: reading batch %llu back: %s",
		    s->cfg.spool_dir, rp->name, (unsigned long long)
		    (rp->sc.first_seq + rp->next), rc == 0 ? "the file is "
		    "shorter than when it was checked" : strerror(errno));
		return -1;
	}
	rp->have_cur = 1;
	return 0;
}
