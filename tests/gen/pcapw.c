/*
 * pcapw.c - where frames go: a capture file written by hand, no libpcap
 * (little-endian, the link type --link asks for; classic pcap 2.4 with
 * microsecond or nanosecond timestamps, or pcapng with one section and
 * one interface, microsecond timestamps, enhanced packet blocks) or, for
 * the live test, an AF_PACKET socket on a named interface.
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
#define PCAP_MAGIC_NS	0xa1b23c4d
#define PCAPNG_SHB	0x0a0d0d0a	/* section header block */
#define PCAPNG_BOM	0x1a2b3c4d	/* byte-order magic */
#define PCAPNG_IDB	1		/* interface description block */
#define PCAPNG_EPB	6		/* enhanced packet block */
#define PCAP_SNAPLEN	262144
#define PCAPW_BUFSZ	(1 << 20)

struct pcapw {
	FILE		*fp;
	char		*buf;
	uint32_t	 snaplen;	/* 0: whole frames */
	int		 format;	/* enum gen_format */
	int		 failed;
};

static void	 le32(uint8_t *, uint32_t);
static int	 pcapw_header(struct pcapw *, uint32_t linktype);

static void
le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* The file header: pcap's, or pcapng's section and interface blocks. */
static int
pcapw_header(struct pcapw *w, uint32_t linktype)
{
	uint8_t h[48];
	size_t n;

	memset(h, 0, sizeof(h));
	if (w->format == GEN_FORMAT_PCAPNG) {
		le32(h, PCAPNG_SHB);
		le32(h + 4, 28);
		le32(h + 8, PCAPNG_BOM);
		h[12] = 1;			/* version 1.0 */
		le32(h + 16, UINT32_MAX);	/* section length -1: unknown */
		le32(h + 20, UINT32_MAX);
		le32(h + 24, 28);
		le32(h + 28, PCAPNG_IDB);
		le32(h + 32, 20);
		h[36] = (uint8_t)linktype;	/* 16 bits, then 16 reserved */
		h[37] = (uint8_t)(linktype >> 8);
		le32(h + 40, w->snaplen ? w->snaplen : PCAP_SNAPLEN);
		le32(h + 44, 20);
		n = 48;
	} else {
		le32(h, w->format == GEN_FORMAT_PCAP_NS ? PCAP_MAGIC_NS :
		    PCAP_MAGIC);
		h[4] = 2;			/* version 2.4 */
		h[6] = 4;
		le32(h + 16, w->snaplen ? w->snaplen : PCAP_SNAPLEN);
		le32(h + 20, linktype);
		n = 24;
	}
	return fwrite(h, n, 1, w->fp) == 1 ? 0 : -1;
}

struct pcapw *
pcapw_open(const char *path, int format, uint32_t linktype,
    uint32_t snaplen, const char **errstr)
{
	struct pcapw *w;

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
	w->format = format;
	if (pcapw_header(w, linktype) == -1)
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
	uint8_t h[28], tail[8];
	size_t caplen = len, n, ntail = 0, npad;
	uint32_t blen;
	uint64_t us;

	if (w->snaplen != 0 && caplen > w->snaplen)
		caplen = w->snaplen;
	if (w->format == GEN_FORMAT_PCAPNG) {
		/*
		 * Block, interface 0, 64-bit microseconds, lengths; the data
		 * padded to 32 bits, then the block length again.
		 */
		npad = (4 - caplen % 4) % 4;
		blen = (uint32_t)(32 + caplen + npad);
		us = (uint64_t)sec * 1000000 + usec;
		le32(h, PCAPNG_EPB);
		le32(h + 4, blen);
		le32(h + 8, 0);
		le32(h + 12, (uint32_t)(us >> 32));
		le32(h + 16, (uint32_t)us);
		le32(h + 20, (uint32_t)caplen);
		le32(h + 24, (uint32_t)len);
		n = 28;
		memset(tail, 0, npad);
		le32(tail + npad, blen);
		ntail = npad + 4;
	} else {
		le32(h, (uint32_t)sec);
		le32(h + 4, w->format == GEN_FORMAT_PCAP_NS ? usec * 1000 :
		    usec);
		le32(h + 8, (uint32_t)caplen);
		le32(h + 12, (uint32_t)len);
		n = 16;
	}
	if (fwrite(h, n, 1, w->fp) != 1 ||
	    fwrite(b, caplen, 1, w->fp) != 1 ||
	    (ntail > 0 && fwrite(tail, ntail, 1, w->fp) != 1)) {
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
