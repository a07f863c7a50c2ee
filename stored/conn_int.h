/*
 * conn_int.h - what conn.c, conn_evict.c and conn_flow.c share: the
 * connection itself and the functions each calls in the others.  Private
 * to those three files (and tests/stored/test_conn.c, which needs the
 * size of a connection); the rest of the store sees conn.h only.  Each
 * function's contract is the comment at its definition.
 */
#ifndef NETTALLY_CONN_INT_H
#define NETTALLY_CONN_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "conn.h"
#include "db.h"
#include "proto.h"

#define CONN_BUF_MIN	(64u << 10)	/* a connection's buffer, at least */

enum conn_state {
	CONN_NEW = 0,		/* waiting for HELLO */
	CONN_HELLO,		/* HELLO in the writer, not read meanwhile */
	CONN_READY,		/* WELCOME sent: batches */
	CONN_CLOSING,
};

struct conn {
	uv_pipe_t		 pipe;		/* data points back here */
	uv_timer_t		 stall;		/* read timeout */
	int			 nopen;		/* handles not yet closed */
	uv_shutdown_t		 sreq;
	struct server		*srv;
	LIST_ENTRY(conn)	 entry;
	int			 inlist;
	uint64_t		 id;
	enum conn_state		 state;
	int			 reading;
	int			 starved;	/* its frame waits for input_max */
	uint64_t		 starved_at;	/* order it began to wait in */
	/* Loop ms of its last bytes, or later when reading began. */
	uint64_t		 quiet_since;
	size_t			 nwriter;	/* its items in the writer */
	uint8_t			*buf;
	size_t			 len, cap;
	size_t			 last_frame;	/* bytes of the last whole one */
	pid_t			 pid;
	uid_t			 uid;
	char			 name[PROTO_NAME_MAX + 1];
	struct db_session	 session;
	struct proto_status_agent stat;		/* for STATUS replies */
};

/* Names a connection in log lines: the agent if known, else its pid. */
#define CONN_WHO(c)	((c)->name[0] != '\0' ? (c)->name : "(no HELLO yet)")

/* conn.c */
void	conn_close(struct conn *);
void	conn_fail(struct conn *, enum proto_error_code, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	conn_say_error(struct conn *, const struct proto_error *);
void	conn_reading(struct conn *);
void	conn_process(struct conn *);

/* conn_evict.c */
int	server_evict(struct server *, struct conn *);
int	conn_release_gone(struct conn *, const struct conn *, const char *);

/* conn_flow.c */
void	server_flow(struct server *);
int	conn_reserve(struct conn *);
void	server_input_free(struct server *, size_t);

#endif
