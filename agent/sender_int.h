/*
 * sender_int.h - the sender's own header: struct sender with its pending
 * list and replay, and the functions one file of the sender calls in
 * another.  Nothing outside agent/sender*.c includes it; the rest of the
 * agent and the tests see sender.h only.
 *
 * The sender is one module in files of one concern each: sender.c (the
 * connection to the store, the pending queue, the thread, the public
 * API), sender_encode.c (a tabset into BATCH frames), sender_spool.c
 * (this epoch's write-ahead spool) and sender_replay.c (earlier epochs'
 * spool files).  The last three run in the sender thread only, on the
 * fields of struct sender it owns, but for sender_spool_open, which
 * sender_new calls before the thread starts.
 */
#ifndef NETTALLY_SENDER_INT_H
#define NETTALLY_SENDER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "flowtab.h"
#include "proto.h"
#include "sender.h"
#include "spool.h"

#define SENDER_BACKOFF_MIN_MS	100
#define SENDER_BACKOFF_MAX_MS	2000

#define SENDER_NOT_SPOOLED	UINT64_MAX

struct pending {
	struct pending	*next;
	uint64_t	 seq;		/* of its first frame */
	uint64_t	 n;		/* frames: more than one only in a run,
					   consecutive records in the file */
	size_t		 len;		/* frame bytes, all of a run's */
	uint8_t		*data;		/* NULL: only in the spool file */
	uint64_t	 off;		/* of the (first) frame in the spool
					   file, or SENDER_NOT_SPOOLED */
	uint64_t	 pos;		/* input position of its (last)
					   frame's tabset */
	int		 last;		/* the (last) frame ends its tabset */
	uint64_t	 carried;	/* agent_health.dropped it reports;
					   0 in a run */
	/*
	 * Owned: the drop notes written before it in the spool file
	 * (spool.h), naming the dropped batches `carried` counts.  Kept
	 * for an append tried again, and to go on with its own drop
	 * should it be dropped too.
	 */
	struct spool_note *notes;
	size_t		 nnotes;
};

/*
 * What a frame of len bytes held in memory costs, counted against
 * max_queue_bytes: a heartbeat's frame is smaller than its entry.
 */
#define PENDING_MEM(len)	((len) + sizeof(struct pending))

/* An earlier epoch's spool file being replayed. */
struct replay {
	int		 loaded;
	int		 fd;
	char		 name[SPOOL_NAME_MAX + 1];
	struct spool_scan sc;		/* counted, not indexed: the file
					   is read in turn */
	uint64_t	 end;		/* where its records to send end */
	uint64_t	 at;		/* the next record's header */
	struct spool_rec cur;		/* the record being sent */
	int		 have_cur;	/* cur read, not all of it sent */
	size_t		 next;		/* records sent (or skipped) */
	size_t		 off;		/* bytes of cur sent */
	uint64_t	 acked;		/* seq the store has committed */
	uint64_t	 floor;		/* seqs up to here refused: skipped */
	uint64_t	 nstored;	/* already there at the first WELCOME */
	int		 welcomed;
	int		 draining;	/* all acked: waiting for the close */
	/*
	 * The highest seq of this epoch that a note in a later epoch's file
	 * still to replay names (its drop counted there), once looked for.
	 */
	uint64_t	 carried_later;
	int		 carried_known;
	/*
	 * The file holds where a run over another -r file stopped: only
	 * the batches before that point are sent, and once they are
	 * delivered the file is cut to a mark holding it, not removed.
	 */
	int		 other;
};

/* A replayed file kept until the drops in memory are counted. */
struct kept_file {
	char			*name;
	int			 fd;		/* a mark's, open; else -1 */
	struct spool_mark	 mark;		/* to cut it to, with fd */
};

struct sender {
	struct sender_config	 cfg;
	/*
	 * Who connects to the store, for the refusal's message: read at
	 * sender_new, after the privilege drop, since seccomp then forbids
	 * asking.
	 */
	uid_t			 euid;
	gid_t			 egid;
	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	/*
	 * One hand-off slot per capture thread, each with its own pair of
	 * tabsets: threads never wait for each other's encodes.  A single
	 * slot (a file replay's) has one tabset, handed over and back.
	 */
	struct {
		struct tabset	*full;		/* mu: to encode */
		struct tabset	*spare;		/* mu: empty, for capture */
		int		 single;	/* its capture has no second */
	}			 slot[SENDER_SLOTS_MAX];
	unsigned int		 nslots;	/* set before the thread starts */
	unsigned int		 next_slot;	/* sender thread: fairness */
	int			 finishing;	/* mu: no more tabsets */
	int			 hold;		/* mu: refuse non-waiting swaps */
	volatile sig_atomic_t	*abandon;	/* set before finishing */
	int			 wake[2];

	/* Owned by the sender thread once started. */
	int			 fd;
	struct pending		*head, *tail, *unsent;
	size_t			 unsent_off;
	uint64_t		 npending;
	size_t			 pending_bytes;	/* frames kept, bytes */
	uint64_t		 next_seq;
	uint64_t		 dropped;	/* batches lost, not yet reported */
	uint64_t		 dropped_run;	/* batches this run lost */
	/*
	 * With a spool: the batches counted in `dropped` by their epoch and
	 * highest seq, for the notes before the next frame (spool.h).
	 */
	struct spool_note	*notes;
	size_t			 nnotes, notes_cap;
	struct proto_buf	 in;
	int64_t			 backoff_ms;
	int64_t			 next_connect;
	int			 connect_logged;
	uint64_t		 reject_seq;	/* head seq the store refused */
	int			 nreject;	/* times in a row */
	struct proto_buf	 hello;		/* this epoch's HELLO frame */
	size_t			 mem_bytes;	/* frames held in memory, with
						   their entries (PENDING_MEM) */

	/* The spool (cfg.spool_dir set). */
	struct spool_file	 sf;
	uint64_t		 in_pos;	/* input position reached */
	uint64_t		 resume_at;	/* where this run started */
	int			 resumed;	/* resume_at from resume_name */
	char			 resume_name[SPOOL_NAME_MAX + 1];
	uint64_t		 clean_end;	/* sf.end when nothing is kept */
	int			 resumable;	/* a -r file: positions matter */
	uint64_t		 flush_start;	/* sf.end before this tabset */
	uint64_t		 spooled_pos;	/* of the last tabset in sf */
	int64_t			 spool_retry;	/* resumable, not spooling:
						   next append attempt */
	int			 spooling;	/* sf takes appends */
	int			 spool_logged;	/* a failure was logged */
	uint64_t		 spool_unacked;	/* record bytes not acked */
	uint8_t			*rbuf;		/* a frame read back */
	size_t			 rbuf_cap;
	int			 rbuf_fd;	/* what rbuf holds: -1 none */
	uint64_t		 rbuf_off;
	char			**old;		/* earlier epochs' files */
	int			*old_fd;	/* each opened read-write at
						   the start, or -1 */
	size_t			 nold, iold;
	/*
	 * Replayed files delivered while a drop was counted in memory only
	 * (s->dropped): one may hold a refused batch that nothing else
	 * would count after a kill.  Removed, or cut to their mark, once
	 * batch kept_until, the first encoded since that counts those
	 * drops, is acknowledged (0: not encoded yet).
	 */
	struct kept_file	*kept;
	size_t			 nkept;
	uint64_t		 kept_until;
	struct replay		 rp;
	int			 conn_replay;	/* fd speaks for rp */
	int			 finish_logged;
	int			 signal_said;	/* "a second signal gives up" */
	int64_t			 signal_say_at;	/* when to say it; 0: not yet */
	int			 drops_sent;	/* the closing health batch */
};

/* sender.c */
int		 sender_connect(struct sender *, const char **);
int		 sender_readback_failed(struct sender *);
int		 sender_write_failed(struct sender *);
void		 pending_coalesce(struct sender *, struct pending *);

/* sender_encode.c */
void		 sender_encode(struct sender *, struct tabset *);

/* sender_spool.c */
int		 sender_spool_open(struct sender *, const char **);
void		 sender_spool(struct sender *, struct pending *);
void		 sender_spool_tabset(struct sender *, struct pending *,
		    struct pending *);
void		 sender_spool_mark(struct sender *, uint64_t);
void		 sender_spool_retry(struct sender *);
int		 sender_sendable(const struct sender *,
		    const struct pending *);
void		 sender_spool_failed(struct sender *, const char *);
void		 sender_note_drop(struct sender *, int64_t, uint64_t);
void		 sender_take_notes(struct sender *, struct pending *);
const uint8_t	*sender_frame(struct sender *, int, uint64_t, size_t);

/* sender_replay.c */
int		 replay_load(struct sender *);
uint64_t	 replay_left(const struct sender *);
void		 replay_welcome(struct sender *, uint64_t);
void		 replay_ack(struct sender *, uint64_t);
void		 replay_done(struct sender *);
void		 replay_rejected(struct sender *);
void		 replay_kept_counted(struct sender *, uint64_t);
void		 replay_kept_acked(struct sender *, uint64_t);
void		 replay_kept_remove(struct sender *, int);
int		 replay_write(struct sender *);

#endif
