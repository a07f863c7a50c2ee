/*
 * metrics.h - nettally-stored's Prometheus endpoint (--metrics).
 */
#ifndef NETTALLY_METRICS_H
#define NETTALLY_METRICS_H

#include <stddef.h>

#include <uv.h>

#include "conn.h"

/*
 * Most scrapes served at once; more wait in the kernel's backlog, each
 * closing the oldest client that has not sent its request head yet.
 */
#define METRICS_CLIENTS_MAX	8
#define METRICS_REQUEST_MAX	8192		/* request head, bytes */
#define METRICS_TIMEOUT_MS	10000		/* a request must arrive */

struct metrics;

/*
 * Parses a --metrics value: "PORT" (127.0.0.1:PORT), "ADDR:PORT" or
 * "[ADDR6]:PORT" into *ss.  *loopback tells whether the address is a
 * loopback one.  Returns 0, or -1 with *errstr.
 */
int	metrics_parse_addr(const char *s, struct sockaddr_storage *ss,
	    int *loopback, const char **errstr);

/* Room for "[ffff:...:ffff]:65535" and its NUL. */
#define METRICS_ADDR_LEN	56

/*
 * Writes addr as "a.b.c.d:port" or "[a:b::c]:port" into buf
 * (METRICS_ADDR_LEN bytes or more).
 */
void	metrics_addr_text(const struct sockaddr_storage *addr, char *buf,
	    size_t len);

/*
 * Starts serving GET /metrics on addr over loop: store health from srv,
 * agent and interface counters read from the database at db_path over a
 * read-only connection in libuv's thread pool.  Returns the server, or
 * NULL with err filled.
 */
struct metrics	*metrics_start(uv_loop_t *loop, const struct sockaddr *addr,
		    struct server *srv, const char *db_path, char *err,
		    size_t errlen);

/*
 * Stops accepting and closes every scrape connection; the memory goes
 * once the last handle has closed and no database read is running.
 * Accepts NULL.
 */
void	metrics_stop(struct metrics *m);

#endif
