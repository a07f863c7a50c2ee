/*
 * sender.h - the agent's sender thread: encode, ship, keep until ACK.
 *
 * The capture thread never touches the socket.  It hands a full tabset to
 * the sender and takes back an empty one (two tabsets in all).  The sender
 * encodes the full one into BATCH frames, empties it, returns it as the
 * spare, and keeps every frame until the store acknowledges its sequence
 * number, resending after a reconnect.  A thread rather than a
 * non-blocking loop in the capture thread: encoding a large tabset takes
 * milliseconds, and capture must not pause for it.
 */
#ifndef NETTALLY_SENDER_H
#define NETTALLY_SENDER_H

#include <signal.h>
#include <stdint.h>

#include "flowtab.h"
#include "proto.h"
#include "spool.h"

#define SENDER_SLOTS_MAX	16	/* capture threads */
#define SENDER_QUEUE_DEFAULT	(8u << 20)	/* --max-queue-mb 8 */

struct sender;

struct sender_config {
	const char		*socket_path;
	struct proto_hello	 hello;
	int			 heartbeat;	/* ship empty tabsets too */
	size_t			 max_queue_bytes; /* frames kept before holding;
						    0: SENDER_QUEUE_DEFAULT */
	volatile sig_atomic_t	*stop;		/* ends a SENDER_WAIT_QUEUE */
	volatile sig_atomic_t	*signalled;	/* with a spool: a finish does
						   not wait for an absent store;
						   at start, a wait for WELCOME
						   ends */
	/*
	 * --spool: every frame is written to a file in spool_dir before it
	 * is sent, frames past max_queue_bytes are then kept on disk only,
	 * older epochs' files are replayed first, and the store being away
	 * no longer makes the sender hold: only spool_max_bytes does.
	 */
	const char		*spool_dir;	/* NULL: no spool */
	int			 spool_dirfd;	/* opened while privileged */
	uint64_t		 spool_max_bytes; /* 0: SPOOL_MAX_DEFAULT */
	/*
	 * A -r file's identity (zero otherwise): with a spool, a run over
	 * the same input resumes where the last one's spooled flushes end,
	 * and every spooled frame holds the input position of its tabset
	 * (tabset.in_pos).
	 */
	struct spool_input	 input;
};

/* How a swap may wait. */
enum sender_wait {
	SENDER_NOWAIT = 0,	/* refuse when busy or holding */
	SENDER_WAIT = 1,	/* wait for the slot's spare tabset */
	SENDER_WAIT_QUEUE = 2,	/* also wait while the queue is over its cap:
				   a file source, which can pause */
};

/*
 * Connects to the store and completes HELLO/WELCOME before any capture
 * starts, so an unreachable store is reported at once.  Returns NULL with
 * *errstr (a static string naming the store or spool file when about
 * one) on failure; detail is logged.  With a spool
 * it lists the earlier epochs' files and creates this epoch's instead
 * (failing only when that fails): the store may be away, and the files
 * of earlier runs go first.  With cfg->input set, it first looks in the
 * spool for where an earlier run over that input left off
 * (spool_resume); this epoch's file then starts at that position.
 * A signal (cfg->signalled) while it waits for WELCOME ends the wait at
 * once: NULL, *errstr saying so.
 */
struct sender	*sender_new(const struct sender_config *, const char **errstr);
/*
 * 1 when sender_new found a spool file of an earlier run over the same
 * input: *pos is the count of packets of the input to read past, already
 * counted, and *file that spool file's name.  0 (*pos 0) otherwise.
 */
int		 sender_resume_at(const struct sender *, uint64_t *pos,
		    const char **file);
/*
 * Starts the thread with `spare` as the first empty tabset it owns.  A
 * NULL spare makes slot 0 single: its capture thread has one tabset,
 * which each swap hands over and gets back once encoded (a file replay,
 * which can wait, and so has the memory of two for one larger tabset).
 */
int		 sender_start(struct sender *, struct tabset *spare,
		    const char **errstr);
/*
 * Before sender_start: adds the hand-off slot of one more capture thread,
 * with `spare` as its first empty tabset (NULL: single, as above).
 * Returns the slot number (slot 0 is sender_start's), or -1 with *errstr.
 */
int		 sender_add_slot(struct sender *, struct tabset *spare,
		    const char **errstr);
/*
 * Hands `full` over through slot `slot` and returns that slot's empty
 * tabset.  When the sender still holds the slot's previous one, or holds
 * back (store away, queue over its cap), waits as `wait` says, else
 * returns NULL and the caller keeps counting into `full`.  A single slot
 * returns `full` itself, emptied, once encoded (a wait of one encode).
 * One thread per slot.
 */
struct tabset	*sender_swap_slot(struct sender *, unsigned int slot,
		    struct tabset *full, enum sender_wait wait);
/*
 * Hands over slot 0's last tabset and waits until every batch is
 * acknowledged (earlier epochs' spool files included), or until *abandon
 * becomes non-zero; the other slots' last tabsets must have been handed
 * over with sender_swap_slot (wait) first.  Returns the number of this
 * epoch's batches left unacknowledged (0 on a clean finish); with a
 * spool they stay in its file for the next start, and a clean finish
 * removes the file, unless `complete` is 0 for a -r file (stopped before
 * its end): then the file stays, holding the position to resume at.
 */
uint64_t	 sender_finish(struct sender *, struct tabset *last,
		    int complete, volatile sig_atomic_t *abandon);
/*
 * Batches this run dropped (refused twice by the store, or not encodable),
 * each logged and counted in agent_health.dropped.  After sender_finish.
 */
uint64_t	 sender_dropped(const struct sender *);
/* NULL-safe; the thread must have finished (or never started). */
void		 sender_free(struct sender *);

#endif
