/*
 * capture.h - capture sources (live interfaces or a file) and the capture
 * loop that one capture thread runs over them.
 *
 * A capture thread owns a set of sources, one per interface it captures
 * (or the one file), and one current tabset; it polls every source's
 * descriptor and counts into that tabset with no lock per packet.  With
 * --threads N an interface is opened N times, one handle per thread, and
 * the handles join one PACKET_FANOUT group, so the kernel spreads the
 * interface's frames over the threads by flow hash: the threads share
 * nothing per packet.
 *
 * A live source whose interface is deleted is closed (pcap NULL) and
 * opened again by name, with the same parameters, once the interface is
 * back; what its thread counted stays in the thread's tables.
 */
#ifndef NETTALLY_CAPTURE_H
#define NETTALLY_CAPTURE_H

#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>

#include "flowtab.h"
#include "localnet.h"
#include "sender.h"
#include "spool.h"

#define CAPTURE_THREADS_MAX	16
#define CAPTURE_AGAIN		(-2)	/* interface absent or down: retry */
#define CAPTURE_FANOUT_BUSY	(-3)	/* fanout group id held by another */
#define CAPTURE_REOPEN_MS	1000	/* a lost interface: retry period */

struct capture;

/* How a live source is opened. */
struct capture_live_params {
	int		 snaplen;
	int		 bufsize;	/* kernel buffer, bytes */
	const char	*filter;	/* BPF expression or NULL */
	int		 fanout;	/* PACKET_FANOUT group id, -1: none */
};

struct capture_source {
	pcap_t		*pcap;		/* NULL while a live source is lost */
	int		 dlt;
	uint32_t	 pseudo;	/* decode_pseudo_len(dlt) */
	/* The undecoded link type said last; 0 (DLT_NULL, decoded): none. */
	int		 dlt_warned;
	int		 live;
	unsigned int	 iface;		/* index in HELLO's iface list */
	struct pcap_stat last;		/* pcap_stats at the previous swap */
	const char	*name;		/* interface or file name */
	struct capture	*owner;		/* the thread counting this source */
	int		 down;		/* seen administratively down */
	/* A live source: how it was opened, to open it again the same way. */
	struct capture_live_params lp;
	/* The filter compiled at the first open, reused while the link type
	 * stays (a host name in it is not looked up again). */
	struct bpf_program prog;
	int		 has_prog;
	int		 prog_dlt;	/* the link type it was compiled for */
	int		 draining;	/* lost, its ring read once more at retry_ms */
	int64_t		 retry_ms;	/* lost: next step (clock_mono_ms) */
	uint32_t	 lost_drops;	/* kernel drops of a closed handle */
	/*
	 * A file's first packet, read at open: libpcap reports some damage
	 * (pcapng interfaces of different link types) only when the first
	 * packet is read, and the agent must refuse such a file before it
	 * says HELLO to the store.
	 */
	struct pcap_pkthdr first_hdr;
	u_char		*first_data;
	/* A file: its identity, for the spool's resume (spool.h). */
	struct spool_input input;
	/*
	 * A file that is a pipe, FIFO or terminal: read unbuffered, one
	 * packet each time poll() says there is more, so that a slow
	 * writer cannot hold back a flush (capture_run_file).
	 */
	int		 stream;
	/* A file with the magic of the modified tcpdump format, read at
	 * open (seccomp allows no pread later): see capture_file_error. */
	int		 modified_magic;
	/* A pcapng file's first byte-order magic, as its bytes lie in the
	 * file (read at open too); all zero for any other file. */
	uint8_t		 ng_bom[4];
	/* A classic pcap file: 32-bit seconds, sign-extended (capture_ts). */
	int		 ts32;
};

/* One capture thread. */
struct capture {
	struct capture_source	 src[FLOWTAB_IFACES_MAX];
	unsigned int		 nsrc;
	const struct localnets	*ln;
	int64_t			 resolution;
	int64_t			 flush_ms;
	int64_t			 progress_ms;	/* a file's progress lines; 0: none */
	struct tabset		*cur;
	struct sender		*sender;
	unsigned int		 slot;		/* hand-off slot at the sender */
	volatile sig_atomic_t	*stop;
	int			 stop_fd;	/* readable once stopping, or -1 */
	int			 exit_on_error;	/* a lost interface ends the run */
	unsigned int		 thread;	/* index, for messages */
	uint64_t		 npackets;	/* all frames, for the exit log */
	/* A second as libpcap gave it, as counted (capture_ts), its bucket. */
	int64_t			 bucket_ts;
	int64_t			 ts;
	int64_t			 bucket;
	int			 ts_clamped;	/* a time out of range was said */
	/*
	 * A file: packets to read past uncounted before counting (a resume:
	 * an earlier run counted them), those read past so far, and whether
	 * the file was read to its end (or to an error that ends it) rather
	 * than stopped.  skipped + npackets is the input position.
	 */
	uint64_t		 skip;
	uint64_t		 skipped;
	int			 at_end;
};

/*
 * Opens a live capture on ifname (promiscuous, except on "any", which
 * gets the SLL2 link type) with the parameters in *lp (kept in the
 * source: lp->filter must outlive it), joining the PACKET_FANOUT group
 * lp->fanout when it is not -1, or a pcap/pcapng file ("-" = stdin) with
 * an optional BPF filter (a regular file's identity goes into
 * src->input, "-" has none).  On failure returns -1 and writes a one-line
 * reason naming the cause into err; a live source returns CAPTURE_AGAIN
 * instead when the interface does not exist or is down, which may change,
 * and CAPTURE_FANOUT_BUSY when the kernel refuses to join lp->fanout
 * (a group of that id on another interface, such as the members of the
 * group on a deleted interface that other threads have yet to close).
 */
int	capture_open_live(struct capture_source *, const char *ifname,
	    const struct capture_live_params *lp, char *err, size_t errlen);
int	capture_open_file(struct capture_source *, const char *path,
	    const char *filter, char *err, size_t errlen);
/* Closes every source of the thread; safe on a zeroed struct. */
void	capture_close(struct capture *);

/*
 * Counts packets until the end of the file or *stop, swapping tabsets
 * with the sender every flush_ms; a file's first c->skip packets are
 * read and not counted.  A live interface that is set down is
 * logged and counted again once up; one that is deleted (or whose capture
 * fails) is logged, closed, and opened again every CAPTURE_REOPEN_MS
 * until it is back, which needs CAP_NET_RAW.  With exit_on_error either
 * ends the run instead.  Returns 0, or -1 with err set when a source
 * failed (a truncated file, a lost interface with exit_on_error, a
 * reopen refused for a reason other than the interface's absence);
 * everything counted before the failure is still in c->cur for the
 * caller to hand over.
 */
int	capture_run(struct capture *, char *err, size_t errlen);

#endif
