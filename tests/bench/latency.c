/*
 * latency.c - capture-to-visible latency of nettally, measured from outside.
 *
 * Sends COUNT UDP datagrams over loopback, one every INTERVAL_MS, marker i
 * from its own source address 127.77.x.y to 127.0.0.1:PORT, noting the
 * wall-clock time of each send; meanwhile polls the database read-only
 * every 2 ms for address rows of the markers.  The store interns an
 * address in the same transaction that upserts its host row, so the
 * address becoming visible is the host row becoming visible.  On loopback
 * the capture timestamp is within microseconds of the send, so each figure
 * is capture-to-visible plus at most that.  Prints "seen p50_ms p99_ms
 * max_ms"; exit 1 when a marker never showed up within 10 s of the last.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAT_MAX		10000
#define POLL_MS		2

static int64_t	now_us(void);
static int	send_marker(int, int);
static int	poll_db(sqlite3_stmt *, int64_t *, int64_t *, int, int *);
static int	cmp_i64(const void *, const void *);

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sends marker i from 127.77.(i/250).(i%250+1) to 127.0.0.1:port. */
static int
send_marker(int i, int port)
{
	struct sockaddr_in src, dst;
	char payload[16] = "nettally-bench";
	int fd, rc = -1;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f4d0000u | (uint32_t)(i / 250) << 8 |
	    (uint32_t)(i % 250 + 1));
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0 &&
	    sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&dst,
	    sizeof(dst)) == (ssize_t)sizeof(payload))
		rc = 0;
	close(fd);
	return rc;
}

/* Marks the markers whose address rows are new since *last_id. */
static int
poll_db(sqlite3_stmt *st, int64_t *last_id, int64_t *seen, int count,
    int *nseen)
{
	unsigned int a, b, c, d;
	const unsigned char *text;
	int64_t t = now_us(), id;
	int i, rc;

	if (sqlite3_bind_int64(st, 1, *last_id) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (id > *last_id)
			*last_id = id;
		text = sqlite3_column_text(st, 1);
		if (text == NULL || sscanf((const char *)text, "%u.%u.%u.%u",
		    &a, &b, &c, &d) != 4 || a != 127 || b != 77 || d == 0)
			continue;
		i = (int)(c * 250 + d - 1);
		if (i < count && seen[i] == 0) {
			seen[i] = t;
			(*nseen)++;
		}
	}
	sqlite3_reset(st);
	/* A busy or locked snapshot is retried at the next poll. */
	return rc == SQLITE_DONE || rc == SQLITE_BUSY || rc == SQLITE_LOCKED ?
	    0 : -1;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

int
main(int argc, char **argv)
{
	static int64_t sent[LAT_MAX], seen[LAT_MAX], lat[LAT_MAX];
	struct timespec pause = { 0, POLL_MS * 1000000L };
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t interval, next, deadline = INT64_MAX, last_id = 0;
	int count, port, nsent = 0, nseen = 0, i, n;

	if (argc != 5) {
		fprintf(stderr, "usage: latency DB PORT COUNT INTERVAL_MS\n");
		return 2;
	}
	port = atoi(argv[2]);
	count = atoi(argv[3]);
	interval = atoll(argv[4]) * 1000;
	if (count < 1 || count > LAT_MAX || port < 1 || port > 65535 ||
	    interval < 1000) {
		fprintf(stderr, "latency: COUNT 1..%d, PORT 1..65535, "
		    "INTERVAL_MS >= 1\n", LAT_MAX);
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_busy_timeout(db, 1) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id, text FROM address WHERE id > ?1",
	    -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "latency: %s: %s\n", argv[1],
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return 1;
	}
	next = now_us();
	while (nseen < count && now_us() < deadline) {
		if (nsent < count && now_us() >= next) {
			sent[nsent] = now_us();
			if (send_marker(nsent, port) == -1) {
				perror("latency: send");
				goto fail;
			}
			nsent++;
			next += interval;
			if (nsent == count)
				deadline = now_us() + 10000000;
		}
		if (poll_db(st, &last_id, seen, count, &nseen) == -1) {
			fprintf(stderr, "latency: %s\n", sqlite3_errmsg(db));
			goto fail;
		}
		nanosleep(&pause, NULL);
	}
	for (i = n = 0; i < count; i++)
		if (seen[i] != 0)
			lat[n++] = seen[i] - sent[i];
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp_i64);
	if (n == 0) {
		fprintf(stderr, "latency: no marker became visible\n");
		goto fail;
	}
	printf("%d %.1f %.1f %.1f\n", n, lat[(n - 1) / 2] / 1000.0,
	    lat[(n * 99 + 99) / 100 - 1] / 1000.0, lat[n - 1] / 1000.0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n == count ? 0 : 1;
fail:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 1;
}
