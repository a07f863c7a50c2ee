/*
 * report_status.c - the client side of STATUS.
 *
 * One short connection per question: connect, one STATUS frame, one
 * reply frame, close.  A store that refuses the peer answers ERROR and
 * closes, maybe before STATUS is sent: a failed send still reads the
 * reply, so the store's reason is shown rather than "Broken pipe".
 * Every step has a timeout (SO_SNDTIMEO and SO_RCVTIMEO), so a wedged
 * store makes status fail, never hang.  The reply is bounded before it
 * is buffered (REPLY_MAX, far above what PROTO_STATUS_AGENTS_MAX records
 * take) and decoded by the strict decoder, like any frame from outside.
 * Names from the store are printed through the same sanitising writers
 * as the reports.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_query.h"
#include "report_status.h"
#include "report_time.h"

#define REPLY_MAX	(1u << 20)

static int	sock_connect(const char *, char *, size_t);
static int	send_all(int, const uint8_t *, size_t);
static double	agent_rate(const struct proto_status_agent *,
		    const struct proto_status *, const struct proto_status *);
static int	fill_agents(struct report_result *,
		    const struct proto_status *, const struct proto_status *);
static int64_t	sat64(uint64_t);

static const struct report_column cols_agents[] = {
	{ "agent",		REPORT_COL_TEXT },
	{ "connected",		REPORT_COL_TEXT },
	{ "connected_epoch",	REPORT_COL_COUNT },
	{ "last_batch",		REPORT_COL_TEXT },
	{ "last_batch_epoch",	REPORT_COL_COUNT },
	{ "last_batch_age",	REPORT_COL_COUNT },
	{ "batches",		REPORT_COL_COUNT },
	{ "records",		REPORT_COL_COUNT },
	{ "records_per_s",	REPORT_COL_REAL },
	{ "kernel_drops",	REPORT_COL_COUNT },
	{ "iface_drops",	REPORT_COL_COUNT },
	{ "dropped",		REPORT_COL_COUNT },
	{ "queued",		REPORT_COL_COUNT },
};
#define NCOLS	(sizeof(cols_agents) / sizeof(cols_agents[0]))

/* Connects with timeouts set; returns the socket, or -1 with err. */
static int
sock_connect(const char *path, char *err, size_t errlen)
{
	struct timeval tv = { REPORT_STATUS_TIMEOUT, 0 };
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* The socket is there and the store may well run. */
		if (errno == EACCES || errno == EPERM)
			snprintf(err, errlen, "%s: cannot connect: %s; only "
			    "the socket's owner and group may (ls -l %s): "
			    "join its group, or run as root", path,
			    strerror(errno), path);
		else
			snprintf(err, errlen, "%s: cannot connect: %s; is "
			    "nettally-stored running? give its socket with "
			    "--socket PATH", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
report_status_fetch(const char *path, struct proto_status *st, char *err,
    size_t errlen)
{
	struct proto_buf b;
	struct proto_error pe;
	uint32_t version, type;
	uint64_t seq;
	enum proto_err e;
	uint8_t *buf = NULL;
	size_t have = 0, cap = 4096, body;
	ssize_t r;
	int fd, rc = -1, senderr = 0;

	proto_buf_init(&b);
	if ((fd = sock_connect(path, err, errlen)) == -1)
		return -1;
	if (proto_encode_status(&b) == -1 || (buf = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (send_all(fd, b.data, b.len) == -1) {
		/*
		 * A store that refuses this peer sends ERROR with the reason
		 * and closes at once, which can be before STATUS is sent:
		 * the reason is still queued here, so read it first.
		 */
		if (errno != EPIPE && errno != ECONNRESET) {
			snprintf(err, errlen, "%s: send: %s", path,
			    strerror(errno));
			goto done;
		}
		senderr = errno;
	}
	for (;;) {
		e = proto_frame_check(buf, have, REPLY_MAX, &body);
		if (e == PROTO_OK)
			break;
		if (e != PROTO_E_SHORT) {
			snprintf(err, errlen, "%s: reply: %s", path,
			    proto_strerror(e));
			goto done;
		}
		if (have == cap) {
			uint8_t *nb;

			if ((nb = realloc(buf, cap * 2)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto done;
			}
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + have, cap - have, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (senderr != 0)
				snprintf(err, errlen, "%s: send: %s; the store "
				    "closed the connection without saying why",
				    path, strerror(senderr));
			else if (r == 0)
				snprintf(err, errlen, "%s: the store closed "
				    "the connection without a reply", path);
			else
				snprintf(err, errlen, "%s: no reply: %s; is it "
				    "nettally-stored's socket?", path,
				    errno == EAGAIN ? "timed out" :
				    strerror(errno));
			goto done;
		}
		have += (size_t)r;
	}
	e = proto_decode_envelope(buf + PROTO_HDR_LEN, body, &version, &type,
	    &seq);
	if (e == PROTO_OK && type == PROTO_ERROR &&
	    proto_decode_error(buf + PROTO_HDR_LEN, body, &pe) == PROTO_OK) {
		snprintf(err, errlen, "%s: the store refused: %s", path,
		    pe.text);
		goto done;
	}
	if (e == PROTO_OK)
		e = proto_decode_status_reply(buf + PROTO_HDR_LEN, body, st);
	if (e != PROTO_OK) {
		snprintf(err, errlen, "%s: bad reply: %s", path,
		    proto_strerror(e));
		goto done;
	}
	rc = 0;
done:
	close(fd);
	free(buf);
	proto_buf_clear(&b);
	return rc;
}

/* A counter from the wire as a byte count to print: past INT64_MAX, that. */
static int64_t
sat64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Records per second: since prev for the same connection, else since
 * the agent connected. */
static double
agent_rate(const struct proto_status_agent *a, const struct proto_status *st,
    const struct proto_status *prev)
{
	const struct proto_status_agent *p;
	uint32_t i;
	int64_t dt;

	for (i = 0; prev != NULL && i < prev->nagents; i++) {
		p = &prev->agent[i];
		if (strcmp(p->name, a->name) != 0 ||
		    p->connected != a->connected || a->records < p->records)
			continue;
		dt = st->time - prev->time;
		if (dt > 0)
			return (double)(a->records - p->records) / (double)dt;
	}
	dt = st->time - a->connected;
	return (double)a->records / (double)(dt > 0 ? dt : 1);
}

static int
fill_agents(struct report_result *res, const struct proto_status *st,
    const struct proto_status *prev)
{
	char iso[REPORT_TIME_ISO_LEN];
	const struct proto_status_agent *a;
	struct report_value *row;
	size_t c;
	uint32_t i;

	res->name = "status";
	for (c = 0; c < NCOLS; c++)
		if (report_result_col(res, cols_agents[c].name,
		    cols_agents[c].type) == -1)
			return -1;
	for (i = 0; i < st->nagents; i++) {
		a = &st->agent[i];
		if ((row = report_result_row(res)) == NULL ||
		    (row[0].text = strdup(a->name)) == NULL)
			return -1;
		for (c = 0; c < NCOLS; c++)
			row[c].isnull = 0;
		if (report_time_format(a->connected, iso, sizeof(iso)) == -1 ||
		    (row[1].text = strdup(iso)) == NULL)
			return -1;
		row[2].num = a->connected;
		if (a->last_batch == 0) {
			row[3].isnull = row[4].isnull = row[5].isnull = 1;
		} else {
			if (report_time_format(a->last_batch, iso,
			    sizeof(iso)) == -1 ||
			    (row[3].text = strdup(iso)) == NULL)
				return -1;
			row[4].num = a->last_batch;
			row[5].num = st->time - a->last_batch;
		}
		row[6].num = (int64_t)a->batches;
		row[7].num = (int64_t)a->records;
		row[8].real = agent_rate(a, st, prev);
		row[9].num = (int64_t)a->kernel_drops;
		row[10].num = (int64_t)a->iface_drops;
		row[11].num = (int64_t)a->dropped;
		row[12].num = (int64_t)a->queued;
	}
	return 0;
}

int
report_status_write(FILE *out, enum report_fmt fmt,
    const struct proto_status *st, const struct proto_status *prev)
{
	struct report_window win;
	struct report_result res;
	char db[REPORT_BYTES_LEN], wal[REPORT_BYTES_LEN], q[REPORT_BYTES_LEN];
	char size[2 * REPORT_BYTES_LEN + 32];
	const struct report_value *v;
	double ingest = 0;
	int64_t up = st->time - st->start;
	size_t r, c;
	int rc = -1;

	memset(&win, 0, sizeof(win));
	win.norange = 1;
	report_result_init(&res);
	if (fill_agents(&res, st, prev) == -1)
		goto done;
	for (r = 0; r < res.nrows; r++)
		ingest += res.cells[r * res.ncols + 8].real;
	switch (fmt) {
	case REPORT_FMT_TABLE:
		/*
		 * The file and its -wal apart, as summary shows them; a store
		 * older than wal_bytes sent only their sum.
		 */
		if (st->has_wal_bytes) {
			report_format_bytes(sat64(st->db_bytes - st->wal_bytes),
			    db, sizeof(db));
			report_format_bytes(sat64(st->wal_bytes), wal,
			    sizeof(wal));
			snprintf(size, sizeof(size), "database %s, WAL %s", db,
			    wal);
		} else {
			report_format_bytes(sat64(st->db_bytes), db, sizeof(db));
			snprintf(size, sizeof(size), "database and WAL %s", db);
		}
		report_format_bytes(sat64(st->queued), q, sizeof(q));
		fprintf(out, "store: up %" PRId64 "d %02" PRId64 ":%02" PRId64
		    ":%02" PRId64 ", protocol %u, schema %u, %u %s, "
		    "%s, queue %s in %" PRIu64 " %s, %" PRIu64
		    " %s committed, %" PRIu64 " %s, %" PRIu64
		    " rejected, ingest %.1f records/s\n",
		    up / 86400, up % 86400 / 3600, up % 3600 / 60, up % 60,
		    st->version, st->schema, st->nagents,
		    report_format_noun(st->nagents, "agent", "agents"), size,
		    q, st->pending,
		    report_format_noun(st->pending, "item", "items"),
		    st->batches,
		    report_format_noun(st->batches, "batch", "batches"),
		    st->duplicates,
		    report_format_noun(st->duplicates, "duplicate",
		    "duplicates"), st->rejected, ingest);
		if (report_format_write(out, fmt, &res, &win) == -1)
			goto done;
		break;
	case REPORT_FMT_CSV:
		if (report_format_write(out, fmt, &res, &win) == -1)
			goto done;
		break;
	case REPORT_FMT_JSON:
		fputs("{\"report\":\"status\"", out);
		report_format_json_time(out, "time", st->time);
		report_format_json_time(out, "start", st->start);
		fprintf(out, ",\"protocol\":%u,\"schema\":%u", st->version,
		    st->schema);
		fprintf(out, ",\"uptime\":%" PRId64 ",\"db_bytes\":%" PRIu64,
		    up, st->db_bytes);
		if (st->has_wal_bytes)
			fprintf(out, ",\"wal_bytes\":%" PRIu64, st->wal_bytes);
		else
			fputs(",\"wal_bytes\":null", out);
		fprintf(out, ",\"queued\":%" PRIu64 ",\"pending\":%" PRIu64
		    ",\"batches\":%" PRIu64 ",\"duplicates\":%" PRIu64
		    ",\"rejected\":%" PRIu64 ",\"records_per_s\":%.3f"
		    ",\"agents\":[", st->queued, st->pending, st->batches,
		    st->duplicates, st->rejected, ingest);
		for (r = 0; r < res.nrows; r++) {
			fputs(r == 0 ? "\n{" : ",\n{", out);
			for (c = 0; c < res.ncols; c++) {
				v = &res.cells[r * res.ncols + c];
				if (c > 0)
					putc(',', out);
				report_format_json_string(out,
				    res.cols[c].name);
				putc(':', out);
				if (v->isnull)
					fputs("null", out);
				else if (res.cols[c].type == REPORT_COL_TEXT)
					report_format_json_string(out,
					    v->text);
				else if (res.cols[c].type == REPORT_COL_REAL)
					fprintf(out, "%.3f", v->real);
				else
					fprintf(out, "%" PRId64, v->num);
			}
			putc('}', out);
		}
		fputs(res.nrows > 0 ? "\n]}\n" : "]}\n", out);
		break;
	}
	rc = ferror(out) ? -1 : 0;
done:
	report_result_clear(&res);
	return rc;
}
