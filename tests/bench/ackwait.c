/*
 * ackwait.c - ingest latency of nettally-stored: BATCH sent to its ACK.
 *
 * usage: ackwait SOCKET NAME SECONDS INTERVAL_MS NHOSTS
 *
 * Speaks the wire protocol as an agent named NAME would: HELLO, WELCOME,
 * then one BATCH every INTERVAL_MS for SECONDS, each of NHOSTS host, port
 * and peer records (distinct hosts, the current minute) and one interface
 * and one health record, waiting for each batch's ACK before the next.
 * The time from the batch's last byte written to its ACK read is the
 * store's receive, decode, queue, commit and acknowledge: what an agent
 * waits.  Prints "batches p50_ms p99_ms max_ms" (nearest rank); exit 1
 * on any protocol or socket failure, or when the store sends an ERROR.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define ACK_MAX		100000
#define NHOSTS_MAX	20000
#define RES		60

static int64_t	mono_us(void);
static int	write_all(int, const uint8_t *, size_t);
static int	read_frame(int, struct proto_buf *, size_t *, uint32_t *,
		    uint64_t *);
static int	send_batch(int, struct proto_buf *, uint64_t, uint32_t);
static int	cmp_i64(const void *, const void *);

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads until in holds one whole frame; *blen gets its body length and
 * *type, *seq its envelope.  The caller consumes the frame.
 */
static int
read_frame(int fd, struct proto_buf *in, size_t *blen, uint32_t *type,
    uint64_t *seq)
{
	uint8_t chunk[65536];
	uint32_t version;
	enum proto_err e;
	uint8_t *d;
	ssize_t r;

	for (;;) {
		e = proto_frame_check(in->data, in->len, PROTO_FRAME_MAX, blen);
		if (e == PROTO_OK)
			break;
		if (e != PROTO_E_SHORT)
			return -1;
		if ((r = read(fd, chunk, sizeof(chunk))) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (in->len + (size_t)r > in->cap) {
			if ((d = realloc(in->data, in->len + (size_t)r)) == NULL)
				return -1;
			in->data = d;
			in->cap = in->len + (size_t)r;
		}
		memcpy(in->data + in->len, chunk, (size_t)r);
		in->len += (size_t)r;
	}
	return proto_decode_envelope(in->data + PROTO_HDR_LEN, *blen, &version,
	    type, seq) == PROTO_OK ? 0 : -1;
}

/* Encodes and writes batch seq with n records of each traffic kind. */
static int
send_batch(int fd, struct proto_buf *out, uint64_t seq, uint32_t n)
{
	struct proto_batch head;
	struct proto_batch_enc enc;
	struct proto_host_rec h;
	struct proto_port_rec p;
	struct proto_peer_rec q;
	struct proto_iface_rec ir;
	struct proto_health_rec hr;
	int64_t now = (int64_t)time(NULL), bucket = now - now % RES;
	uint32_t i;

	memset(&head, 0, sizeof(head));
	head.seq = seq;
	head.first_ts = head.last_ts = now;
	head.nhosts = head.nports = head.npeers = n;
	head.nifaces = head.nhealth = 1;
	out->len = 0;
	if (proto_batch_begin(&enc, out, &head) == -1)
		return -1;
	memset(&h, 0, sizeof(h));
	h.k.bucket = bucket;
	h.k.proto = 6;
	h.k.dir = PROTO_DIR_OUT;
	h.k.host.family = PROTO_AF_INET;
	h.k.host.a[0] = 10;
	h.k.host.a[1] = 201;
	h.c.packets = 10;
	h.c.bytes = 15000;
	h.c.frame_bytes = 15140;
	for (i = 0; i < n; i++) {
		h.k.host.a[2] = (uint8_t)(i >> 8);
		h.k.host.a[3] = (uint8_t)i;
		proto_batch_add_host(&enc, &h);
	}
	memset(&p, 0, sizeof(p));
	p.k = h.k;
	p.port = 443;
	p.c = h.c;
	for (i = 0; i < n; i++) {
		p.k.host.a[2] = (uint8_t)(i >> 8);
		p.k.host.a[3] = (uint8_t)i;
		proto_batch_add_port(&enc, &p);
	}
	memset(&q, 0, sizeof(q));
	q.k = h.k;
	q.peer.family = PROTO_AF_INET;
	q.peer.a[0] = 192;
	q.peer.a[1] = 0;
	q.peer.a[2] = 2;
	q.peer.a[3] = 1;
	q.c = h.c;
	for (i = 0; i < n; i++) {
		q.k.host.a[2] = (uint8_t)(i >> 8);
		q.k.host.a[3] = (uint8_t)i;
		proto_batch_add_peer(&enc, &q);
	}
	memset(&ir, 0, sizeof(ir));
	ir.bucket = bucket;
	ir.frames = ir.ipv4_packets = (uint64_t)n * 10;
	ir.frame_bytes = (uint64_t)n * 15140;
	proto_batch_add_iface(&enc, &ir);
	memset(&hr, 0, sizeof(hr));
	hr.bucket = bucket;
	hr.captured = (uint64_t)n * 10;
	proto_batch_add_health(&enc, &hr);
	if (proto_batch_end(&enc) == -1)
		return -1;
	return write_all(fd, out->data, out->len);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static int64_t lat[ACK_MAX];
	struct sockaddr_un sun;
	struct proto_hello hello;
	struct proto_buf out, in;
	struct timespec ts;
	int64_t end, t0, t1, next;
	uint64_t seq = 0, aseq;
	uint32_t type = 0, nhosts;
	size_t blen, n = 0, k99;
	long secs, interval;
	int fd;

	if (argc != 6 || (secs = atol(argv[3])) <= 0 ||
	    (interval = atol(argv[4])) <= 0 ||
	    (nhosts = (uint32_t)atol(argv[5])) == 0 || nhosts > NHOSTS_MAX ||
	    strlen(argv[1]) >= sizeof(sun.sun_path) ||
	    strlen(argv[2]) > PROTO_NAME_MAX) {
		fprintf(stderr, "usage: ackwait SOCKET NAME SECONDS "
		    "INTERVAL_MS NHOSTS (1..%d)\n", NHOSTS_MAX);
		return 2;
	}
	proto_buf_init(&out);
	proto_buf_init(&in);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "ackwait: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&hello, 0, sizeof(hello));
	hello.version = PROTO_VERSION;
	memcpy(hello.name, argv[2], strlen(argv[2]));
	hello.niface = 1;
	memcpy(hello.iface[0], "bench0", sizeof("bench0"));
	hello.resolution = RES;
	clock_gettime(CLOCK_REALTIME, &ts);
	hello.start_time = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (proto_encode_hello(&out, &hello) == -1 ||
	    write_all(fd, out.data, out.len) == -1 ||
	    read_frame(fd, &in, &blen, &type, &aseq) == -1 ||
	    type != PROTO_WELCOME) {
		fprintf(stderr, "ackwait: no WELCOME from the store\n");
		return 1;
	}
	proto_buf_consume(&in, PROTO_HDR_LEN + blen);
	end = mono_us() + (int64_t)secs * 1000000;
	next = mono_us();
	while (mono_us() < end && n < ACK_MAX) {
		seq++;
		if (send_batch(fd, &out, seq, nhosts) == -1) {
			fprintf(stderr, "ackwait: batch %llu: cannot send\n",
			    (unsigned long long)seq);
			return 1;
		}
		t0 = mono_us();
		do {
			if (read_frame(fd, &in, &blen, &type, &aseq) == -1 ||
			    type != PROTO_ACK) {
				fprintf(stderr, "ackwait: batch %llu: no ACK "
				    "(type %u)\n", (unsigned long long)seq,
				    type);
				return 1;
			}
			proto_buf_consume(&in, PROTO_HDR_LEN + blen);
		} while (aseq < seq);
		t1 = mono_us();
		lat[n++] = t1 - t0;
		next += (int64_t)interval * 1000;
		if (next > t1) {
			ts.tv_sec = (time_t)((next - t1) / 1000000);
			ts.tv_nsec = (long)((next - t1) % 1000000 * 1000);
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
	}
	close(fd);
	proto_buf_clear(&out);
	proto_buf_clear(&in);
	if (n == 0)
		return 1;
	qsort(lat, n, sizeof(lat[0]), cmp_i64);
	k99 = (n * 99 + 99) / 100;	/* nearest rank: ceil(0.99 n) */
	printf("%zu %.1f %.1f %.1f\n", n, lat[(n + 1) / 2 - 1] / 1000.0,
	    lat[k99 - 1] / 1000.0, lat[n - 1] / 1000.0);
	return 0;
}
