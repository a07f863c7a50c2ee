/*
 * capture.h - capture sources (live interface or file) and the capture loop.
 */
#ifndef NETTALLY_CAPTURE_H
#define NETTALLY_CAPTURE_H

#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>

#include "flowtab.h"
#include "localnet.h"
#include "sender.h"

struct capture_source {
	pcap_t		*pcap;
	int		 dlt;
	int		 live;
	unsigned int	 iface;		/* index in HELLO's iface list */
	struct pcap_stat last;		/* pcap_stats at the previous swap */
	const char	*name;		/* interface or file name */
	/*
	 * A file's first packet, read at open: libpcap reports some damage
	 * (pcapng interfaces of different link types) only when the first
	 * packet is read, and the agent must refuse such a file before it
	 * says HELLO to the store.
	 */
	struct pcap_pkthdr first_hdr;
	u_char		*first_data;
};

struct capture {
	struct capture_source	 src;
	const struct localnets	*ln;
	int64_t			 resolution;
	int64_t			 flush_ms;
	struct tabset		*cur;
	struct sender		*sender;
	volatile sig_atomic_t	*stop;
	uint64_t		 npackets;	/* all frames, for the exit log */
};

/*
 * Opens a live capture on ifname (promiscuous, snaplen bytes per frame,
 * kernel buffer of bufsize bytes) or a pcap/pcapng file ("-" = stdin),
 * and applies the BPF filter when not NULL.  On failure returns -1 and
 * writes a one-line reason naming the cause into err.
 */
int	capture_open_live(struct capture_source *, const char *ifname,
	    int snaplen, int bufsize, const char *filter, char *err,
	    size_t errlen);
int	capture_open_file(struct capture_source *, const char *path,
	    const char *filter, char *err, size_t errlen);
void	capture_close(struct capture_source *);

/*
 * Counts packets until the end of the file or *stop, swapping tabsets
 * with the sender every flush_ms.  Returns 0, or -1 with err set when the
 * source failed (a truncated file, an interface gone); everything counted
 * before the failure is still in c->cur for the caller to hand over.
 */
int	capture_run(struct capture *, char *err, size_t errlen);

#endif
