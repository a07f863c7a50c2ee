/*
 * pcapw.c - where frames go: a classic pcap file (written by hand, no
 * libpcap: little-endian, microsecond timestamps, version 2.4, the link
 * type --link asks for) or, for the live test, an AF_PACKET socket on a
 * named interface.
 *
 * The file writer owns its FILE and its buffer; the socket writer owns its
 * descriptor.  Each has one release point (pcapw_close, sendw_close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#endif

#include "gen.h"

#define PCAP_MAGIC	0xa1b2c3d4
#define PCAP_SNAPLEN	262144
#define PCAPW_BUFSZ	(1 << 20)

struct pcapw {
	FILE		*fp;
	char		*buf;
	uint32_t	 snaplen;	/* 0: whole frames */
	int		 failed;
};

static void	 le32(uint8_t *, uint32_t);

static void
le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

struct pcapw *
pcapw_open(const char *path, uint32_t linktype, uint32_t snaplen,
    const char **errstr)
{
	struct pcapw *w;
	uint8_t h[24];

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->buf = malloc(PCAPW_BUFSZ)) == NULL) {
		*errstr = "out of memory";
		goto fail;
	}
	w->fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	if (w->fp == NULL) {
		*errstr = strerror(errno);
		goto fail;
	}
	setvbuf(w->fp, w->buf, _IOFBF, PCAPW_BUFSZ);
	w->snaplen = snaplen;
	le32(h, PCAP_MAGIC);
	h[4] = 2;			/* version 2.4 */
	h[5] = 0;
	h[6] = 4;
	h[7] = 0;
	le32(h + 8, 0);			/* thiszone */
	le32(h + 12, 0);		/* sigfigs */
	le32(h + 16, snaplen ? snaplen : PCAP_SNAPLEN);
	le32(h + 20, linktype);
	if (fwrite(h, sizeof(h), 1, w->fp) != 1)
		w->failed = 1;
	return w;
fail:
	if (w != NULL)
		free(w->buf);
	free(w);
	return NULL;
}

/* caplen is len, or the snapshot length when the frame is longer. */
int
pcapw_write(struct pcapw *w, int64_t sec, uint32_t usec, const uint8_t *b,
    size_t len)
{
	uint8_t h[16];
	size_t caplen = len;

	if (w->snaplen != 0 && caplen > w->snaplen)
		caplen = w->snaplen;
	le32(h, (uint32_t)sec);
	le32(h + 4, usec);
	le32(h + 8, (uint32_t)caplen);
	le32(h + 12, (uint32_t)len);
	if (fwrite(h, sizeof(h), 1, w->fp) != 1 ||
	    fwrite(b, caplen, 1, w->fp) != 1) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

int
pcapw_close(struct pcapw *w)
{
	int rc;

	if (w == NULL)
		return 0;
	rc = w->failed ? -1 : 0;
	if (w->fp == stdout) {
		if (fflush(stdout) != 0)
			rc = -1;
		setvbuf(stdout, NULL, _IONBF, 0);
	} else if (w->fp != NULL && fclose(w->fp) != 0)
		rc = -1;
	free(w->buf);
	free(w);
	return rc;
}

#ifdef __linux__

struct sendw {
	int		 fd;
	int		 ifindex;
	uint64_t	 rate;
	uint64_t	 nsent;
	uint64_t	 nfailed;
	struct timespec	 t0;
};

/*
 * SOCK_RAW with protocol 0: this socket only sends, it never receives a
 * copy of the traffic.  The frame carries its own Ethernet header.
 */
struct sendw *
sendw_open(const char *iface, uint64_t rate, const char **errstr)
{
	struct sendw *s;
	unsigned int idx;

	if ((idx = if_nametoindex(iface)) == 0) {
		*errstr = "no such interface";
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	s->ifindex = (int)idx;
	s->rate = rate;
	if ((s->fd = socket(AF_PACKET, SOCK_RAW, 0)) == -1) {
		*errstr = strerror(errno);
		free(s);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	return s;
}

/* Paces to the rate (absolute deadlines: no drift), retries a full queue. */
int
sendw_write(struct sendw *s, const uint8_t *b, size_t len)
{
	struct sockaddr_ll sll;
	struct timespec due;
	int tries;

	if (s->rate != 0) {
		uint64_t ns = s->nsent / s->rate * 1000000000ULL +
		    s->nsent % s->rate * 1000000000ULL / s->rate;

		due.tv_sec = s->t0.tv_sec + (time_t)(ns / 1000000000ULL);
		due.tv_nsec = s->t0.tv_nsec + (long)(ns % 1000000000ULL);
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due,
		    NULL) == EINTR)
			;
	}
	s->nsent++;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = s->ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, b, 6);
	for (tries = 0; tries < 1000; tries++) {
		if (sendto(s->fd, b, len, 0, (struct sockaddr *)&sll,
		    sizeof(sll)) == (ssize_t)len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			break;
		usleep(100);
	}
	s->nfailed++;
	return -1;
}

uint64_t
sendw_close(struct sendw *s)
{
	uint64_t n;

	if (s == NULL)
		return 0;
	n = s->nfailed;
	close(s->fd);
	free(s);
	return n;
}

#else /* !__linux__ */

struct sendw *
sendw_open(const char *iface, uint64_t rate, const char **errstr)
{
	(void)iface;
	(void)rate;
	*errstr = "--send needs Linux AF_PACKET";
	return NULL;
}

int
sendw_write(struct sendw *s, const uint8_t *b, size_t len)
{
	(void)s;
	(void)b;
	(void)len;
	return -1;
}

uint64_t
sendw_close(struct sendw *s)
{
	(void)s;
	return 0;
}

#endif
