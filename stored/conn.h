/*
 * conn.h - agent connections of nettally-stored and the state they share.
 */
#ifndef NETTALLY_CONN_H
#define NETTALLY_CONN_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "recspare.h"
#include "writer.h"

#define CONN_MAX		256		/* live connections */
#define CONN_QUEUED_MAX		(12u << 20)	/* decoded batches, writer */
#define CONN_ALLOW_MAX		32		/* --allow-uid, --allow-group */
#define CONN_AGENT_USER		"nettally"	/* the agent's user by default */
#define CONN_READ_TIMEOUT_MS	30000		/* a frame begun must end */
#define CONN_INPUT_MAX		(32u << 20)	/* frames being read, all */
#define CONN_UNREAD_MAX		(256u << 10)	/* reply bytes left unread */
#define CONN_GOODBYE_MS		2000		/* a last ERROR may take */
#define CONN_PAUSE_SAY_MS	60000		/* backpressure logged */
#define CONN_EVICT_IDLE_MS	30000		/* silence that may be evicted */
#define CONN_ACCEPT_RETRY_MS	100		/* accept without memory */

struct conn;

/* Everything the connections share; embedded in main's state. */
struct server {
	uv_loop_t		*loop;
	struct recspare		 spare;		/* record arrays to decode into */
	struct writer		*writer;
	LIST_HEAD(, conn)	 conns;
	size_t			 nconns;	/* allocated, closing ones too */
	size_t			 nlive;		/* in conns: not closing */
	/*
	 * Live connections served before eviction or refusal: CONN_MAX,
	 * or fewer when the open files limit leaves no room for that many
	 * (fdlimit.c).
	 */
	size_t			 conn_max;
	uint64_t		 next_id;
	size_t			 queued;	/* memory of batches in the writer */
	size_t			 queued_max;	/* stop reading above this */
	size_t			 noutstanding;	/* items in the writer */
	int			 paused;	/* reading stopped: backpressure */
	/* The pause last logged (loop ms, 0: none), and those since. */
	uint64_t		 pause_said_ms;
	uint64_t		 npauses;
	int			 pause_said;	/* this pause was logged */
	/*
	 * A peer that is read from for read_timeout_ms while it owes the
	 * rest of a frame (or its HELLO) is closed, however slowly it
	 * trickles bytes meanwhile; so is one that leaves more than
	 * unread_max bytes of replies its socket will not take.
	 */
	uint64_t		 read_timeout_ms;
	size_t			 unread_max;
	/*
	 * Buffer memory of the frames being read, beyond each peer's
	 * CONN_BUF_MIN, and its bound: a peer whose frame does not fit
	 * waits, unread, until another frame is done.  At least
	 * PROTO_FRAME_MAX, so the largest frame fits alone.
	 */
	size_t			 input_used;
	size_t			 input_max;
	uint64_t		 starve_seq;	/* last conn->starved_at given */
	/*
	 * A connection being closed gets goodbye_ms to take its last
	 * replies and ERROR; a peer that does not read them is then cut
	 * off, so neither a shutdown nor a connection slot waits on it.
	 */
	uint64_t		 goodbye_ms;
	/*
	 * With more than CONN_MAX live connections, a new one closes those
	 * whose peer is gone unnoticed, else the one read from longest ago,
	 * if that is evict_idle_ms or more and nothing is owed either way
	 * (conn_evict.c says what counts); with no such connection the new one
	 * is refused.  Agents are idle between
	 * flushes, however long: idleness alone closes nothing.
	 */
	uint64_t		 evict_idle_ms;
	/*
	 * A connection the listener holds while no memory could be found
	 * for it: libuv watches the listener again only once that one is
	 * accepted, so accept_retry tries every CONN_ACCEPT_RETRY_MS.  The
	 * timer is initialised when first needed and closed by
	 * server_shutdown: a store failing at start-up closes its loop
	 * without a server_shutdown.  accept_nomem_at is when the memory ran
	 * out (loop ms), for the one line saying it is back.
	 */
	uv_timer_t		 accept_retry;
	int			 accept_retry_init;
	uv_stream_t		*accept_waiting;	/* listener; NULL: none */
	uint64_t		 accept_nomem_at;
	int			 shutting;
	void			(*closed)(struct server *);
	/*
	 * Who may connect (SO_PEERCRED): uid 0, a uid listed here, or a
	 * peer whose gid or one of whose groups is listed here.
	 */
	uid_t			 allow_uid[CONN_ALLOW_MAX];
	size_t			 nallow_uid;
	gid_t			 allow_gid[CONN_ALLOW_MAX];
	size_t			 nallow_gid;
	/* Counters, logged at exit. */
	uint64_t		 nbatches, nduplicates, nrejected;
	/* For STATUS replies (status.c). */
	int64_t			 started;	/* server_init's time */
	const char		*db_path;	/* NULL: size unknown */
};

/*
 * Initialises srv for loop and writer (writer may be set later).  The
 * allow lists start empty; server_allow_default fills them with the
 * store's own uid and gid when the operator listed none.
 */
void	server_init(struct server *, uv_loop_t *, struct writer *);

/* Adds one allowed uid / gid.  Returns 0, or -1 when the list is full. */
int	server_allow_uid(struct server *, uid_t);
int	server_allow_gid(struct server *, gid_t);
/*
 * When no --allow-uid or --allow-group was given: the store's own uid
 * and gid, and those of the CONN_AGENT_USER system user if it exists.
 */
void	server_allow_default(struct server *);

/*
 * The listener's connection callback: accepts one agent, logs its
 * credentials at debug, starts reading.  Without memory for it, the
 * connection waits in the listener and is tried again every
 * CONN_ACCEPT_RETRY_MS (logged once until it succeeds); any other
 * failure is logged and the connection dropped.  The listener's data is
 * the struct server; a server serves one listener.
 */
void	conn_accept_cb(uv_stream_t *listener, int status);

/* The writer's done callback (arg is the struct server). */
void	server_writer_done(struct writer_item *, void *arg);

/*
 * Stops reading from every connection, lets the writer finish (commit and
 * ack what was received), tells each agent PROTO_ERR_SHUTDOWN, closes the
 * connections, then calls closed(srv) once nothing is left.
 */
void	server_shutdown(struct server *, void (*closed)(struct server *));

#endif
