/*
 * pcapread.c - the bare libpcap read loop: the floor under any capture tool.
 *
 * Reads a capture file with pcap_dispatch and a callback that only sums
 * frames and wire bytes, so the figure is what libpcap itself costs.  The
 * sums are printed, so the compiler cannot drop the loop and the bench can
 * check that every frame was read.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct sums {
	uint64_t	 frames;
	uint64_t	 bytes;
};

static void	count_cb(u_char *, const struct pcap_pkthdr *, const u_char *);

static void
count_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct sums *s = (struct sums *)(void *)user;

	(void)data;
	s->frames++;
	s->bytes += h->len;
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct sums s = { 0, 0 };
	pcap_t *p;
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapread FILE\n");
		return 2;
	}
	if ((p = pcap_open_offline(argv[1], err)) == NULL) {
		fprintf(stderr, "pcapread: %s: %s\n", argv[1], err);
		return 1;
	}
	while ((n = pcap_dispatch(p, 4096, count_cb, (u_char *)&s)) > 0)
		;
	if (n == -1) {
		fprintf(stderr, "pcapread: %s: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("%llu %llu\n", (unsigned long long)s.frames,
	    (unsigned long long)s.bytes);
	return 0;
}
