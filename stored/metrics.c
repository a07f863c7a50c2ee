/*
 * metrics.c - Prometheus text exposition (version 0.0.4) over HTTP, for
 * nettally-stored --metrics ADDR:PORT.
 *
 * Off by default; the address is the operator's, 127.0.0.1 when only a
 * port is given, and a non-loopback one is logged as such.  The endpoint
 * is read-only and small on purpose: GET /metrics, one request per
 * connection ("Connection: close"), request heads bounded
 * (METRICS_REQUEST_MAX) and timed (METRICS_TIMEOUT_MS), at most
 * METRICS_CLIENTS_MAX scrapes at a time.  Anything else gets a 4xx and
 * the connection is closed.
 *
 * A connection that sends nothing holds its slot for the whole timeout,
 * so METRICS_CLIENTS_MAX of them (a port scanner, a half-open health
 * check) made a real scrape wait as long as Prometheus's own scrape
 * timeout.  When one arrives with every slot taken, the oldest client
 * still waiting for its request head is closed to make room; one whose
 * request is being answered or whose database read runs is never
 * closed for that.  With no such client the new one waits in the
 * backlog, as before.  These closes are counted, and the first of each
 * minute is logged with how many went unsaid.
 *
 * Two sources: the store's own health comes from struct server on the
 * loop thread, as the reply is built; the agents' counters are sums over
 * the agent_health and interface_traffic views, read in libuv's thread
 * pool over a read-only connection opened for that one scrape (WAL lets
 * it read while the writer writes), so a slow query never stalls the
 * loop and the store's one writer connection is never shared.
 *
 * Ownership: a client embeds its tcp handle and timer; its memory goes
 * when both are closed and its database read (if any) has returned.  The
 * server's memory goes when its listener and its accept retry timer are
 * closed and the last client is gone.
 */
#include <sys/queue.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "metrics.h"
#include "satsum.h"
#include "status.h"

#define METRICS_ROWS_MAX	4096		/* agent/interface pairs */
#define METRICS_BUSY_MS		2000
#define METRICS_SAY_MS		60000		/* idle closes logged */
#define METRICS_ACCEPT_RETRY_MS	100		/* accept without memory */

struct metrics {
	uv_loop_t		*loop;
	uv_tcp_t		 tcp;
	int			 listening;	/* tcp handle not yet closed */
	struct server		*srv;
	char			*db_path;
	TAILQ_HEAD(, mclient)	 clients;	/* oldest first */
	size_t			 nclients;
	int			 backlogged;	/* a connection waits to be accepted */
	/*
	 * An accept without memory for the client: libuv no longer watches
	 * the listener, and with no client to close (client_maybe_free) no
	 * one would accept again, so this timer does.
	 */
	uv_timer_t		 retry;
	int			 retry_open;	/* retry handle not yet closed */
	int			 nomem;		/* logged, until an accept works */
	int			 stopping;
	uint64_t		 nidle_closed;	/* closed to make room */
	uint64_t		 nidle_unsaid;	/* of those, since the last log */
	uint64_t		 idle_said_ms;	/* uv_now of that log, or 0 */
};

struct mclient {
	uv_tcp_t		 tcp;
	uv_timer_t		 timer;
	int			 nopen;		/* handles not yet closed */
	int			 reading;	/* the request head is not all in */
	int			 working;	/* a database read is running */
	int			 closing;
	uint64_t		 accepted_ms;	/* uv_now at accept */
	struct metrics		*m;
	TAILQ_ENTRY(mclient)	 entry;
	char			 req[METRICS_REQUEST_MAX];
	size_t			 len;
	uv_work_t		 work;
	char			*body;		/* the agents' part, from work */
	size_t			 bodylen;
	char			 dberr[256];	/* set by work on failure */
	uv_write_t		 wreq;
	char			*resp;
	size_t			 resplen;
};

/* One agent/interface row of the two views' sums. */
struct mrow {
	char		*agent, *iface;
	int64_t		 v[7];
};

/* A metric family: name, help, and which column of which query. */
struct family {
	const char	*name;
	const char	*help;
	int		 query;			/* 0 agent_health, 1 interface */
	int		 col;
};

static const char sql_health[] =
    "SELECT agent, iface, nt_sum(captured), nt_sum(kernel_drops),"
    " nt_sum(iface_drops), nt_sum(overflow), nt_sum(malformed),"
    " nt_sum(dropped)"
    " FROM agent_health GROUP BY agent, iface ORDER BY agent, iface";
static const char sql_iface[] =
    "SELECT agent, iface, nt_sum(frames), nt_sum(frame_bytes),"
    " nt_sum(ipv4_packets), nt_sum(ipv6_packets), nt_sum(non_ip_frames),"
    " nt_sum(transit_packets), nt_sum(malformed_frames)"
    " FROM interface_traffic GROUP BY agent, iface ORDER BY agent, iface";

static const struct family families[] = {
	{ "nettally_agent_captured_frames_total",
	    "Frames the agent captured (agent_health.captured).", 0, 0 },
	{ "nettally_agent_kernel_drops_total",
	    "Frames the kernel dropped before the agent read them.", 0, 1 },
	{ "nettally_agent_iface_drops_total",
	    "Frames the interface dropped (pcap ps_ifdrop).", 0, 2 },
	{ "nettally_agent_overflow_packets_total",
	    "Packets counted in overflow rows (tables full).", 0, 3 },
	{ "nettally_agent_malformed_frames_total",
	    "Malformed frames the agent saw.", 0, 4 },
	{ "nettally_agent_dropped_batches_total",
	    "Batches the agent could not keep.", 0, 5 },
	{ "nettally_interface_frames_total",
	    "Frames on the interface (interface_traffic.frames).", 1, 0 },
	{ "nettally_interface_frame_bytes_total",
	    "Bytes on the wire (interface_traffic.frame_bytes).", 1, 1 },
	{ "nettally_interface_ipv4_packets_total",
	    "IPv4 packets (interface_traffic.ipv4_packets).", 1, 2 },
	{ "nettally_interface_ipv6_packets_total",
	    "IPv6 packets (interface_traffic.ipv6_packets).", 1, 3 },
	{ "nettally_interface_non_ip_frames_total",
	    "Frames that were not IP (interface_traffic.non_ip_frames).", 1,
	    4 },
	{ "nettally_interface_transit_packets_total",
	    "Packets between two non-local hosts.", 1, 5 },
	{ "nettally_interface_malformed_frames_total",
	    "Malformed frames (interface_traffic.malformed_frames).", 1, 6 },
};

static void	server_conn_cb(uv_stream_t *, int);
static void	server_make_room(struct metrics *);
static void	server_idle_said(struct metrics *, struct mclient *);
static void	client_alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
static void	client_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	client_read_done(struct mclient *);
static void	client_timeout_cb(uv_timer_t *);
static void	client_write_cb(uv_write_t *, int);
static void	client_close(struct mclient *);
static void	client_close_cb(uv_handle_t *);
static void	client_maybe_free(struct mclient *);
static void	client_request(struct mclient *);
static void	client_reply(struct mclient *, const char *, const char *,
		    size_t);
static void	work_cb(uv_work_t *);
static void	after_work_cb(uv_work_t *, int);
static int	read_rows(sqlite3 *, const char *, int, struct mrow **,
		    size_t *, const char **);
static void	put_label(FILE *, const char *);
static char	*store_text(struct metrics *, size_t *);
static void	server_close_cb(uv_handle_t *);
static void	retry_close_cb(uv_handle_t *);
static void	accept_retry_cb(uv_timer_t *);
static void	metrics_maybe_free(struct metrics *);

int
metrics_parse_addr(const char *s, struct sockaddr_storage *ss, int *loopback,
    const char **errstr)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *portp, *p;
	int bracket, bare = 0;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	unsigned long port = 0;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*errstr = "give PORT, ADDR:PORT or [ADDR6]:PORT, e.g. 127.0.0.1:9469";
	bracket = s[0] == '[';
	if (bracket) {
		if ((p = strchr(s, ']')) == NULL || p[1] != ':')
			return -1;
		hl = (size_t)(p - s - 1);
		portp = p + 2;
		s++;
	} else if ((p = strrchr(s, ':')) != NULL) {
		hl = (size_t)(p - s);
		portp = p + 1;
	} else {
		hl = 0;
		portp = s;		/* the whole string is the port */
		bare = 1;
	}
	if (hl >= sizeof(host) || (hl == 0 && !bare))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	/* An IPv6 address needs its brackets: "::1:80" is ambiguous. */
	if (!bracket && strchr(host, ':') != NULL)
		return -1;
	for (p = portp; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return -1;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (p == portp || port == 0 || port > 65535) {
		*errstr = "the port must be from 1 to 65535";
		return -1;
	}
	if (bare)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		return 0;
	}
	*errstr = "not a numeric IPv4 or IPv6 address";
	return -1;
}

void
metrics_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	else if (ss->ss_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	else
		snprintf(buf, len, "?");
}

struct metrics *
metrics_start(uv_loop_t *loop, const struct sockaddr *addr,
    struct server *srv, const char *db_path, char *err, size_t errlen)
{
	struct metrics *m;
	int rc;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->db_path = strdup(db_path)) == NULL) {
		free(m);
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->loop = loop;
	m->srv = srv;
	TAILQ_INIT(&m->clients);
	if ((rc = uv_tcp_init(loop, &m->tcp)) != 0) {
		snprintf(err, errlen, "metrics: %s", uv_strerror(rc));
		free(m->db_path);
		free(m);
		return NULL;
	}
	m->tcp.data = m;
	m->listening = 1;
	/* Cannot fail: libuv's timer init only fills the struct. */
	uv_timer_init(loop, &m->retry);
	m->retry.data = m;
	m->retry_open = 1;
	if ((rc = uv_tcp_bind(&m->tcp, addr, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&m->tcp, 16, server_conn_cb)) !=
	    0) {
		snprintf(err, errlen, "metrics: cannot listen: %s; is the "
		    "port in use?", uv_strerror(rc));
		m->stopping = 1;
		uv_close((uv_handle_t *)&m->tcp, server_close_cb);
		uv_close((uv_handle_t *)&m->retry, retry_close_cb);
		return NULL;
	}
	return m;
}

void
metrics_stop(struct metrics *m)
{
	struct mclient *c, *next;

	if (m == NULL || m->stopping)
		return;
	m->stopping = 1;
	if (m->nidle_closed > 0)
		log_info("metrics: stopped: %llu connections closed without "
		    "a request to make room for new ones",
		    (unsigned long long)m->nidle_closed);
	uv_close((uv_handle_t *)&m->tcp, server_close_cb);
	uv_close((uv_handle_t *)&m->retry, retry_close_cb);
	for (c = TAILQ_FIRST(&m->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_close(c);
	}
}

static void
server_close_cb(uv_handle_t *h)
{
	struct metrics *m = h->data;

	m->listening = 0;
	metrics_maybe_free(m);
}

static void
retry_close_cb(uv_handle_t *h)
{
	struct metrics *m = h->data;

	m->retry_open = 0;
	metrics_maybe_free(m);
}

static void
metrics_maybe_free(struct metrics *m)
{
	if (!m->stopping || m->listening || m->retry_open || m->nclients > 0)
		return;
	free(m->db_path);
	free(m);
}

static void
server_conn_cb(uv_stream_t *s, int status)
{
	struct metrics *m = s->data;
	struct mclient *c;
	int rc;

	if (status < 0) {
		log_warn("metrics: accept: %s", uv_strerror(status));
		return;
	}
	/*
	 * Full: leave the connection unaccepted; libuv stops watching the
	 * listener until it is, which client_maybe_free does once a slot
	 * is free, whether server_make_room freed one or not.
	 */
	if (m->nclients >= METRICS_CLIENTS_MAX) {
		server_make_room(m);
		m->backlogged = 1;
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		m->backlogged = 1;
		if (!m->nomem) {
			/* Once per episode: the retries would flood the log. */
			log_err("metrics: accept: out of memory: the "
			    "connection waits, tried again every %d ms",
			    METRICS_ACCEPT_RETRY_MS);
			m->nomem = 1;
		}
		if ((rc = uv_timer_start(&m->retry, accept_retry_cb,
		    METRICS_ACCEPT_RETRY_MS, 0)) != 0)
			log_err("metrics: accept: cannot retry: %s",
			    uv_strerror(rc));
		return;
	}
	if (m->nomem) {
		log_info("metrics: accept: memory found again");
		m->nomem = 0;
	}
	c->m = m;
	/* Cannot fail: both only fill their structs. */
	uv_tcp_init(m->loop, &c->tcp);
	uv_timer_init(m->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->nopen = 2;
	c->accepted_ms = uv_now(m->loop);
	TAILQ_INSERT_TAIL(&m->clients, c, entry);
	m->nclients++;
	if (uv_accept(s, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, client_alloc_cb,
	    client_read_cb) != 0 ||
	    uv_timer_start(&c->timer, client_timeout_cb, METRICS_TIMEOUT_MS,
	    0) != 0) {
		client_close(c);
		return;
	}
	c->reading = 1;
}

/*
 * Every slot is taken and a connection waits: closes the oldest client
 * still waiting for its request head, unless a slot is already on its
 * way.  With every client being answered, closes none: the connection
 * waits, as any did before.
 */
static void
server_make_room(struct metrics *m)
{
	struct mclient *c, *idle = NULL;

	TAILQ_FOREACH(c, &m->clients, entry) {
		/*
		 * Closed earlier in this loop iteration (a timeout, a
		 * reply sent) and freed at its end: that slot is the one
		 * to wait for, no other client need go.
		 */
		if (c->closing && !c->working)
			return;
		if (idle == NULL && c->reading && !c->working && !c->closing)
			idle = c;
	}
	if (idle == NULL)
		return;
	server_idle_said(m, idle);
	client_close(idle);
}

/*
 * Counts c's close to make room; the first of a minute is logged, with
 * how many went unsaid since the last: a scanner would flood the log.
 */
static void
server_idle_said(struct metrics *m, struct mclient *c)
{
	struct sockaddr_storage ss;
	char peer[METRICS_ADDR_LEN];
	char more[64];
	uint64_t now = uv_now(m->loop);
	int len = (int)sizeof(ss);

	m->nidle_closed++;
	m->nidle_unsaid++;
	if (m->idle_said_ms != 0 && now - m->idle_said_ms < METRICS_SAY_MS)
		return;
	memset(&ss, 0, sizeof(ss));
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
		ss.ss_family = AF_UNSPEC;
	metrics_addr_text(&ss, peer, sizeof(peer));
	if (m->nidle_unsaid > 1)
		snprintf(more, sizeof(more), " (%llu such closes since the "
		    "last message)", (unsigned long long)m->nidle_unsaid);
	else
		more[0] = '\0';
	log_warn("metrics: %s: closed after %llu ms without a request, to "
	    "make room: all %d scrape slots were taken%s; does a port "
	    "scanner or a TCP health check connect here?", peer,
	    (unsigned long long)(now - c->accepted_ms), METRICS_CLIENTS_MAX,
	    more);
	m->idle_said_ms = now;
	m->nidle_unsaid = 0;
}

static void
client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct mclient *c = h->data;

	(void)suggested;
	b->base = c->req + c->len;
	b->len = sizeof(c->req) - 1 - c->len;
}

/* The request head is in, or refused: c may no longer be closed as idle. */
static void
client_read_done(struct mclient *c)
{
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = 0;
}

static void
client_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mclient *c = s->data;

	(void)b;
	if (n < 0) {
		client_close(c);
		return;
	}
	/*
	 * No HTTP head holds a NUL; past one, strstr below never saw the
	 * blank line that ends the head, and the client waited for the
	 * timeout to close it unanswered.
	 */
	if (memchr(c->req + c->len, '\0', (size_t)n) != NULL) {
		client_read_done(c);
		client_reply(c, "400 Bad Request", "NUL byte in the request\n",
		    0);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (strstr(c->req, "\r\n\r\n") != NULL ||
	    strstr(c->req, "\n\n") != NULL) {
		client_read_done(c);
		client_request(c);
		return;
	}
	if (c->len == sizeof(c->req) - 1) {
		client_read_done(c);
		client_reply(c, "431 Request Header Fields Too Large",
		    "request head too long\n", 0);
	}
}

static void
client_timeout_cb(uv_timer_t *t)
{
	struct mclient *c = t->data;

	if (!c->working)
		client_close(c);
}

/* Reads the request line; /metrics goes to the thread pool. */
static void
client_request(struct mclient *c)
{
	const char *path;
	size_t n;

	if (strncmp(c->req, "GET ", 4) != 0) {
		client_reply(c, "405 Method Not Allowed", "only GET\n", 0);
		return;
	}
	path = c->req + 4;
	n = strcspn(path, " ?\r\n");
	if (!((n == 8 && strncmp(path, "/metrics", 8) == 0) ||
	    (n == 1 && path[0] == '/'))) {
		client_reply(c, "404 Not Found", "try /metrics\n", 0);
		return;
	}
	c->work.data = c;
	if (uv_queue_work(c->m->loop, &c->work, work_cb, after_work_cb) != 0) {
		client_reply(c, "500 Internal Server Error", "queue\n", 0);
		return;
	}
	c->working = 1;
}

/* Reads the rows of one query; owns nothing on failure. */
static int
read_rows(sqlite3 *db, const char *sql, int nval, struct mrow **rows,
    size_t *nrows, const char **errstr)
{
	sqlite3_stmt *st;
	struct mrow *r;
	const unsigned char *a, *i;
	int rc, k;

	*rows = NULL;
	*nrows = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*errstr = sqlite3_errmsg(db);
		return -1;
	}
	if ((*rows = calloc(METRICS_ROWS_MAX, sizeof(**rows))) == NULL) {
		sqlite3_finalize(st);
		*errstr = "out of memory";
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    *nrows < METRICS_ROWS_MAX) {
		r = &(*rows)[*nrows];
		a = sqlite3_column_text(st, 0);
		i = sqlite3_column_text(st, 1);
		if ((r->agent = strdup(a != NULL ? (const char *)a : "")) ==
		    NULL || (r->iface = strdup(i != NULL ? (const char *)i :
		    "")) == NULL) {
			free(r->agent);
			rc = SQLITE_NOMEM;
			break;
		}
		for (k = 0; k < nval; k++)
			r->v[k] = sqlite3_column_int64(st, 2 + k);
		(*nrows)++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*errstr = rc == SQLITE_NOMEM ? "out of memory" :
		    sqlite3_errmsg(db);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Writes a label value escaped as the exposition format asks. */
static void
put_label(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			putc(*s, out);
	}
}

/* In the thread pool: the agents' counters as exposition text. */
static void
work_cb(uv_work_t *w)
{
	struct mclient *c = w->data;
	struct mrow *rows[2] = { NULL, NULL };
	size_t nrows[2] = { 0, 0 }, f, r;
	const char *errstr = NULL;
	sqlite3 *db = NULL;
	FILE *out = NULL;

	if (sqlite3_open_v2(c->m->db_path, &db, SQLITE_OPEN_READONLY,
	    NULL) != SQLITE_OK) {
		errstr = db != NULL ? sqlite3_errmsg(db) : "out of memory";
		goto fail;
	}
	sqlite3_busy_timeout(db, METRICS_BUSY_MS);
	if (satsum_register(db) != SQLITE_OK) {
		errstr = sqlite3_errmsg(db);
		goto fail;
	}
	if (read_rows(db, sql_health, 6, &rows[0], &nrows[0], &errstr) ==
	    -1 || read_rows(db, sql_iface, 7, &rows[1], &nrows[1],
	    &errstr) == -1)
		goto fail;
	if ((out = open_memstream(&c->body, &c->bodylen)) == NULL) {
		errstr = "out of memory";
		goto fail;
	}
	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n",
		    families[f].name, families[f].help, families[f].name);
		for (r = 0; r < nrows[families[f].query]; r++) {
			fprintf(out, "%s{agent=\"", families[f].name);
			put_label(out, rows[families[f].query][r].agent);
			fputs("\",iface=\"", out);
			put_label(out, rows[families[f].query][r].iface);
			fprintf(out, "\"} %" PRId64 "\n",
			    rows[families[f].query][r].v[families[f].col]);
		}
	}
	if (fclose(out) != 0) {
		out = NULL;
		errstr = "out of memory";
		goto fail;
	}
	out = NULL;
	goto done;
fail:
	snprintf(c->dberr, sizeof(c->dberr), "%s", errstr != NULL ? errstr :
	    "failed");
	if (out != NULL)
		fclose(out);
	free(c->body);
	c->body = NULL;
done:
	for (f = 0; f < 2; f++) {
		for (r = 0; r < nrows[f]; r++) {
			free(rows[f][r].agent);
			free(rows[f][r].iface);
		}
		free(rows[f]);
	}
	sqlite3_close(db);
}

/* The store's own health, from the loop thread's struct server. */
static char *
store_text(struct metrics *m, size_t *len)
{
	struct proto_status *st;
	char *text = NULL;
	FILE *out;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	status_fill(st, m->srv, (int64_t)time(NULL));
	if ((out = open_memstream(&text, len)) == NULL) {
		free(st);
		return NULL;
	}
	fprintf(out,
	    "# HELP nettally_store_start_time_seconds When the store started.\n"
	    "# TYPE nettally_store_start_time_seconds gauge\n"
	    "nettally_store_start_time_seconds %" PRId64 "\n"
	    "# HELP nettally_store_batches_committed_total Batches committed "
	    "since the store started.\n"
	    "# TYPE nettally_store_batches_committed_total counter\n"
	    "nettally_store_batches_committed_total %" PRIu64 "\n"
	    "# HELP nettally_store_batches_duplicate_total Resent batches "
	    "acknowledged without counting them again.\n"
	    "# TYPE nettally_store_batches_duplicate_total counter\n"
	    "nettally_store_batches_duplicate_total %" PRIu64 "\n"
	    "# HELP nettally_store_rejected_total Invalid frames and peers "
	    "refused.\n"
	    "# TYPE nettally_store_rejected_total counter\n"
	    "nettally_store_rejected_total %" PRIu64 "\n"
	    "# HELP nettally_store_queue_bytes Batch bytes received and not "
	    "yet committed.\n"
	    "# TYPE nettally_store_queue_bytes gauge\n"
	    "nettally_store_queue_bytes %" PRIu64 "\n"
	    "# HELP nettally_store_pending Messages in the writer's queue.\n"
	    "# TYPE nettally_store_pending gauge\n"
	    "nettally_store_pending %" PRIu64 "\n"
	    "# HELP nettally_store_connections Open agent connections.\n"
	    "# TYPE nettally_store_connections gauge\n"
	    "nettally_store_connections %zu\n"
	    "# HELP nettally_store_database_bytes Database and WAL file size.\n"
	    "# TYPE nettally_store_database_bytes gauge\n"
	    "nettally_store_database_bytes %" PRIu64 "\n"
	    "# HELP nettally_store_metrics_idle_closed_total Connections to "
	    "this endpoint closed without a request to make room for a new "
	    "one.\n"
	    "# TYPE nettally_store_metrics_idle_closed_total counter\n"
	    "nettally_store_metrics_idle_closed_total %" PRIu64 "\n",
	    st->start, st->batches, st->duplicates, st->rejected, st->queued,
	    st->pending, m->srv->nconns, st->db_bytes, m->nidle_closed);
	free(st);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void
after_work_cb(uv_work_t *w, int status)
{
	struct mclient *c = w->data;
	char *store, *all;
	size_t slen;

	c->working = 0;
	if (c->closing) {
		client_maybe_free(c);
		return;
	}
	if (status != 0) {
		client_close(c);
		return;
	}
	if (c->body == NULL) {
		log_warn("metrics: %s: %s", c->m->db_path, c->dberr);
		client_reply(c, "503 Service Unavailable",
		    "cannot read the database\n", 0);
		return;
	}
	if ((store = store_text(c->m, &slen)) == NULL ||
	    (all = malloc(slen + c->bodylen + 1)) == NULL) {
		free(store);
		client_reply(c, "500 Internal Server Error", "memory\n", 0);
		return;
	}
	memcpy(all, store, slen);
	memcpy(all + slen, c->body, c->bodylen);
	all[slen + c->bodylen] = '\0';
	free(store);
	client_reply(c, "200 OK", all, slen + c->bodylen);
	free(all);
}

/* Sends one whole response, then closes; len 0 means strlen(body). */
static void
client_reply(struct mclient *c, const char *code, const char *body,
    size_t len)
{
	uv_buf_t b;
	int n;

	if (len == 0)
		len = strlen(body);
	if ((c->resp = malloc(len + 256)) == NULL) {
		client_close(c);
		return;
	}
	n = snprintf(c->resp, 256, "HTTP/1.1 %s\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", code, len);
	if (n < 0 || n >= 256) {
		client_close(c);
		return;
	}
	memcpy(c->resp + n, body, len);
	c->resplen = (size_t)n + len;
	b = uv_buf_init(c->resp, (unsigned int)c->resplen);
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1,
	    client_write_cb) != 0)
		client_close(c);
}

static void
client_write_cb(uv_write_t *req, int status)
{
	struct mclient *c = req->data;

	(void)status;
	client_close(c);
}

static void
client_close(struct mclient *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->tcp, client_close_cb);
	uv_close((uv_handle_t *)&c->timer, client_close_cb);
}

static void
client_close_cb(uv_handle_t *h)
{
	struct mclient *c = h->data;

	c->nopen--;
	client_maybe_free(c);
}

/*
 * Unless a client's close has accepted since (client_maybe_free) or the
 * slots are full again (then it will), tries the waiting connection.
 */
static void
accept_retry_cb(uv_timer_t *h)
{
	struct metrics *m = h->data;

	if (!m->backlogged || m->stopping ||
	    m->nclients >= METRICS_CLIENTS_MAX)
		return;
	m->backlogged = 0;
	server_conn_cb((uv_stream_t *)&m->tcp, 0);
}

static void
client_maybe_free(struct mclient *c)
{
	struct metrics *m = c->m;

	if (c->nopen > 0 || c->working)
		return;
	TAILQ_REMOVE(&m->clients, c, entry);
	m->nclients--;
	free(c->body);
	free(c->resp);
	free(c);
	if (m->backlogged && !m->stopping &&
	    m->nclients < METRICS_CLIENTS_MAX) {
		m->backlogged = 0;
		server_conn_cb((uv_stream_t *)&m->tcp, 0);
	}
	metrics_maybe_free(m);
}
