/*
 * capture.c - open capture sources and run one capture thread's loop.
 *
 * The loop owns the thread's current tabset.  Per packet it decodes and
 * counts, nothing else: no allocation, no lock, no system call, no clock
 * read.  Counting goes through tabset_push, which counts each packet a few
 * packets later; every hand-over drains it first (capture_flush, and
 * capture_run before it returns).  Between pcap_dispatch calls it looks
 * at the clock and hands the tabset to the sender every flush interval,
 * through the thread's own hand-off slot.
 * Each hand-over also carries a file's input position (packets libpcap
 * delivered, after the filter, those a resume read past included): drained
 * first, the tabset then holds every packet before it that no earlier
 * tabset held, which is what lets the spool resume a killed run there.
 * Live sources are non-blocking and waited on together with poll() and
 * the agent's stop pipe, so neither a stop nor a flush deadline is ever
 * stuck behind a quiet interface.  A file that is a pipe or FIFO is
 * waited on the same way and read unbuffered, a packet per wake-up, so a
 * quiet writer holds back neither.
 *
 * An interface set down keeps its socket, which counts again once it is
 * up: libpcap says nothing about it, so the interface flags are read at
 * every flush and each change is logged once.  An interface deleted under
 * a live capture leaves its socket bound to nothing, for good, and
 * libpcap notices only if it is asked at the right moment, so the loop
 * also asks the socket at every flush (capture_gone).  Then, or when
 * libpcap reports the capture failed, the handle is read once more after
 * a block timeout (the kernel still hands over the ring's last block),
 * closed, and the name opened again every CAPTURE_REOPEN_MS with the
 * same parameters (the
 * agent keeps CAP_NET_RAW for that, privdrop.c); the thread's tables are
 * untouched, so nothing counted is lost, and the kernel drops of the
 * closed handle are carried to the next swap.  Only the lost source
 * waits: the thread's other interfaces go on counting.  A starting agent
 * waits for a missing interface the same way (capture_open_live returns
 * CAPTURE_AGAIN for the caller to retry).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <net/if.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/if_packet.h>
#endif

#include "capture.h"
#include "decode.h"
#include "clock.h"
#include "log.h"

#define CAPTURE_TIMEOUT_MS	100	/* TPACKET_V3 block retire time */
#define CAPTURE_DRAIN_MS	(2 * CAPTURE_TIMEOUT_MS)
#define CAPTURE_FILE_BURST	4096	/* packets per dispatch from a file */

/* A pcapng Section Header Block's type, the same in either byte order. */
static const uint8_t capture_shb_type[4] = { 0x0a, 0x0d, 0x0d, 0x0a };

static int64_t	capture_ts(struct capture *, int64_t, int);
static void	capture_packet_cb(u_char *, const struct pcap_pkthdr *,
		    const u_char *);
static int	capture_set_filter(struct capture_source *, const char *,
		    char *, size_t);
static void	capture_take_dlt(struct capture_source *);
static FILE	*capture_fopen(const char *, int *, char *, size_t);
static int	capture_stream_wait(struct capture *, int64_t);
static int	capture_read_first(struct capture_source *, char *, size_t);
static void	capture_file_error(const struct capture_source *, char *, size_t);
static off_t	capture_other_order(const struct capture_source *);
static int	capture_join_fanout(struct capture_source *, int, char *,
		    size_t);
static void	capture_close_source(struct capture_source *);
static void	capture_flush(struct capture *, enum sender_wait);
static int	capture_check_up(struct capture *, struct capture_source *,
		    char *, size_t);
static int	capture_gone(struct capture_source *);
static int	capture_lost(struct capture *, struct capture_source *,
		    const char *, char *, size_t);
static void	capture_drain(struct capture_source *);
static int	capture_reopen(struct capture *, struct capture_source *,
		    char *, size_t);
static const char *capture_tag(const struct capture *, char *, size_t);
static int	capture_run_file(struct capture *, char *, size_t);
static int	capture_file_dispatch(struct capture *, int, pcap_handler,
		    u_char *, char *, size_t);
static int	capture_skip(struct capture *, char *, size_t);
static void	capture_progress(const struct capture *);
static void	capture_skip_cb(u_char *, const struct pcap_pkthdr *,
		    const u_char *);
static int	capture_run_live(struct capture *, char *, size_t);

/*
 * Takes the source's link type.  Every frame counts in the interface
 * totals (DESIGN rule 1) whatever its link layer, so a type the decoder
 * does not know (802.11, NFLOG...) is counted, all of it as non-IP, and
 * said once per link type a source comes up with.
 */
static void
capture_take_dlt(struct capture_source *src)
{
	const char *name;
	int dlt = pcap_datalink(src->pcap);

	if (!decode_dlt_supported(dlt) && dlt != src->dlt_warned) {
		name = pcap_datalink_val_to_name(dlt);
		log_warn("%s: link type %d (%s) is not decoded: its frames "
		    "count in the interface totals as non-IP, with no host "
		    "detail", src->name, dlt, name != NULL ? name : "unknown");
		src->dlt_warned = dlt;
	}
	src->dlt = dlt;
	src->pseudo = decode_pseudo_len(dlt);
}

/*
 * Compiles the filter once per source and keeps the program (freed by
 * capture_close): a reopened handle of the same link type takes it as it
 * is, so a host name in it is not looked up again after the drop.
 */
static int
capture_set_filter(struct capture_source *src, const char *filter, char *err,
    size_t errlen)
{
	if (filter == NULL)
		return 0;
	if (src->has_prog && src->prog_dlt != src->dlt) {
		pcap_freecode(&src->prog);
		src->has_prog = 0;
	}
	if (!src->has_prog) {
		if (pcap_compile(src->pcap, &src->prog, filter, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			snprintf(err, errlen, "bad filter \"%s\": %s", filter,
			    pcap_geterr(src->pcap));
			return -1;
		}
		src->has_prog = 1;
		src->prog_dlt = src->dlt;
	}
	if (pcap_setfilter(src->pcap, &src->prog) == -1) {
		snprintf(err, errlen, "%s: cannot set filter: %s", src->name,
		    pcap_geterr(src->pcap));
		return -1;
	}
	return 0;
}

/*
 * Joins the handle's packet socket to fanout group `group`: the kernel
 * then gives each frame of the interface to one member only, chosen by a
 * symmetric flow hash, so both directions of a flow meet in one thread.
 * No PACKET_FANOUT_FLAG_DEFRAG: fragments must be counted as captured.
 * libpcap has no call for this; the socket is pcap_fileno's.  The handle
 * sees every frame between its activation and this call, microseconds at
 * start-up or at a reopen, which the other members then see too.
 */
static int
capture_join_fanout(struct capture_source *src, int group, char *err,
    size_t errlen)
{
#if defined(__linux__) && defined(PACKET_FANOUT)
	int arg = (group & 0xffff) | (PACKET_FANOUT_HASH << 16), busy;

	if (setsockopt(pcap_fileno(src->pcap), SOL_PACKET, PACKET_FANOUT,
	    &arg, sizeof(arg)) == -1) {
		busy = errno == EINVAL;
		snprintf(err, errlen, "%s: cannot join fanout group %d: %s",
		    src->name, group, strerror(errno));
		return busy ? CAPTURE_FANOUT_BUSY : -1;
	}
	return 0;
#else
	(void)group;
	snprintf(err, errlen, "%s: --threads needs Linux PACKET_FANOUT",
	    src->name);
	return -1;
#endif
}

int
capture_open_live(struct capture_source *src, const char *ifname,
    const struct capture_live_params *lp, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	int rc, any = strcmp(ifname, "any") == 0;

	src->name = ifname;
	src->live = 1;
	if (lp != &src->lp)
		src->lp = *lp;
	ebuf[0] = '\0';
	src->pcap = pcap_create(ifname, ebuf);
	if (src->pcap == NULL) {
		snprintf(err, errlen, "%s: %s", ifname, ebuf);
		return -1;
	}
	/* "any" cannot be promiscuous: asking only earns a warning. */
	if (pcap_set_snaplen(src->pcap, lp->snaplen) != 0 ||
	    (!any && pcap_set_promisc(src->pcap, 1) != 0) ||
	    pcap_set_timeout(src->pcap, CAPTURE_TIMEOUT_MS) != 0 ||
	    pcap_set_buffer_size(src->pcap, lp->bufsize) != 0) {
		snprintf(err, errlen, "%s: cannot configure capture", ifname);
		goto fail;
	}
	rc = pcap_activate(src->pcap);
	if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
		snprintf(err, errlen, "%s: no such interface (see `ip link`)",
		    ifname);
		capture_close_source(src);
		return CAPTURE_AGAIN;
	} else if (rc == PCAP_ERROR_PERM_DENIED) {
		/*
		 * CAP_NET_RAW alone opens every capture the agent makes
		 * (test_privdrop.sh): naming CAP_NET_ADMIN too had operators
		 * grant a capability the agent never needs.
		 */
		snprintf(err, errlen, "%s: permission denied: capturing needs "
		    "CAP_NET_RAW: run as root (the agent then becomes --user), "
		    "or give the binary that capability alone (setcap "
		    "cap_net_raw+ep)", ifname);
		goto fail;
	} else if (rc == PCAP_ERROR_IFACE_NOT_UP) {
		snprintf(err, errlen, "%s: interface is down (ip link set %s "
		    "up)", ifname, ifname);
		capture_close_source(src);
		return CAPTURE_AGAIN;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: cannot capture: %s", ifname,
		    pcap_geterr(src->pcap));
		goto fail;
	} else if (rc > 0) {
		log_warn("%s: %s", ifname, pcap_geterr(src->pcap));
	}
	if (lp->fanout != -1 &&
	    (rc = capture_join_fanout(src, lp->fanout, err, errlen)) != 0) {
		capture_close_source(src);
		return rc;
	}
	/*
	 * SLL2 names the interface of each frame; libpcap opens "any" with
	 * SLL unless asked.  Both decode the same, so a refusal is harmless.
	 */
	if (any)
		(void)pcap_set_datalink(src->pcap, DLT_LINUX_SLL2);
	if (pcap_setnonblock(src->pcap, 1, ebuf) == -1) {
		snprintf(err, errlen, "%s: %s", ifname, ebuf);
		goto fail;
	}
	capture_take_dlt(src);
	if (capture_set_filter(src, lp->filter, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	capture_close_source(src);
	return -1;
}

/*
 * Opens path ("-": standard input) for libpcap.  A pipe, FIFO or terminal
 * is a stream: unbuffered, so that poll() on its fd tells whether a packet
 * is waiting (a stdio buffer would hide what it already read), and read a
 * packet at a time.  A regular file keeps stdio's buffer and big bursts.
 */
static FILE *
capture_fopen(const char *path, int *stream, char *err, size_t errlen)
{
	struct stat st;
	FILE *fp;
	int fd;

	if (strcmp(path, "-") == 0) {
		if ((fd = dup(STDIN_FILENO)) == -1 ||
		    (fp = fdopen(fd, "r")) == NULL) {
			snprintf(err, errlen, "standard input: %s",
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return NULL;
		}
	} else if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* libpcap would say "error reading dump file: Is a directory". */
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory; -r takes a pcap or "
		    "pcapng file", path);
		fclose(fp);
		return NULL;
	}
	*stream = fstat(fileno(fp), &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode));
	if (*stream && setvbuf(fp, NULL, _IONBF, 0) != 0) {
		snprintf(err, errlen, "%s: cannot read it unbuffered", path);
		fclose(fp);
		return NULL;
	}
	return fp;
}

int
capture_open_file(struct capture_source *src, const char *path,
    const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	uint8_t m[12];
	FILE *fp;

	src->name = path;
	src->live = 0;
	ebuf[0] = '\0';
	if ((fp = capture_fopen(path, &src->stream, err, errlen)) == NULL)
		return -1;
	/*
	 * A short or failed read leaves zeros, which are neither magic (a
	 * pipe is not read: its bytes cannot be read twice).
	 */
	memset(m, 0, sizeof(m));
	if (!src->stream && pread(fileno(fp), m, sizeof(m), 0) == -1)
		memset(m, 0, sizeof(m));
	src->modified_magic =
	    (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0xcd && m[3] == 0x34) ||
	    (m[0] == 0x34 && m[1] == 0xcd && m[2] == 0xb2 && m[3] == 0xa1);
	memset(src->ng_bom, 0, sizeof(src->ng_bom));
	if (memcmp(m, capture_shb_type, sizeof(capture_shb_type)) == 0)
		memcpy(src->ng_bom, m + 8, sizeof(src->ng_bom));
	/* pcap_close closes fp from here; a failed open leaves it to us. */
	src->pcap = pcap_fopen_offline(fp, ebuf);
	if (src->pcap == NULL) {
		/*
		 * libpcap's words alone ("unknown file format") did not say
		 * which option or what it wants.
		 */
		snprintf(err, errlen, "%s: not a capture file libpcap reads "
		    "(%s); -r takes a pcap or pcapng file, as tcpdump -w or "
		    "dumpcap writes", path, ebuf);
		fclose(fp);
		return -1;
	}
	capture_take_dlt(src);
	/*
	 * libpcap refuses a classic pcap file older than version 2; a pcapng
	 * file reports its section's version, 1.
	 */
	src->ts32 = pcap_major_version(src->pcap) >= 2;
	if (capture_set_filter(src, filter, err, errlen) == -1)
		goto fail;
	/*
	 * The file itself, as opened: a path may name another by now.  A
	 * stream has no identity: what it sends next time is other data.
	 */
	memset(&src->input, 0, sizeof(src->input));
	if (strcmp(path, "-") != 0 && !src->stream &&
	    pcap_file(src->pcap) != NULL &&
	    spool_input_of(fileno(pcap_file(src->pcap)), filter,
	    &src->input) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (capture_read_first(src, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	capture_close_source(src);
	return -1;
}

/*
 * libpcap's error reading file source src, into err.  The magic of the
 * modified tcpdump format was also written by Nokia, Red Hat 6.1 and
 * SuSE 6.3 tcpdump, with record headers of other sizes that libpcap
 * cannot tell apart: it misreads them, and says only that a length is
 * wrong.  For such a file the error says what it may be and how to
 * convert it.  (A pipe is not looked at: its magic cannot be read twice.)
 */
static void
capture_file_error(const struct capture_source *src, char *err,
    size_t errlen)
{
	const char *why = pcap_geterr(src->pcap), *hint = "";
	off_t at;

	if ((at = capture_other_order(src)) != -1) {
		snprintf(err, errlen, "%s: %s (at byte %lld a section in the "
		    "other byte order begins, which libpcap cannot read: "
		    "editcap -F pcapng writes the whole file in one)",
		    src->name, why, (long long)at);
		return;
	}
	if (src->modified_magic)
		hint = " (a modified tcpdump header, which Nokia, Red Hat 6.1 "
		    "and SuSE 6.3 tcpdump wrote over records libpcap "
		    "misreads: convert the file with editcap -F pcap)";
	/*
	 * libpcap 1.10's words for a pcapng file whose interfaces differ
	 * ("an interface has a type 0 different from the type of the first
	 * interface", or a snapshot length): the cause, not the rule.
	 * Interfaces of one link type are what mergecap (pcapng by
	 * default) makes of captures taken with different snapshot
	 * lengths; editcap -F pcap writes them as one classic file, of the
	 * largest snapshot length, which libpcap reads whole.  Two link
	 * types fit in no classic file.
	 */
	else if (strstr(why, "snapshot length") != NULL &&
	    strstr(why, "different from the") != NULL)
		hint = " (libpcap reads a pcapng file only while all of its "
		    "interfaces have one snapshot length, and mergecap joins "
		    "captures of different ones into one file without: "
		    "editcap -F pcap FILE NEW writes one it reads whole)";
	else if (strstr(why, "different from the") != NULL)
		hint = " (libpcap reads a pcapng file only while all of its "
		    "interfaces have one link type and one snapshot length: "
		    "replay a capture of one interface, such as dumpcap -i "
		    "IFACE -w FILE writes)";
	snprintf(err, errlen, "%s: %s%s", src->name, why, hint);
}

/*
 * Returns where a pcapng section in the other byte order than the file's
 * first begins, if libpcap failed on its header, else -1.  A pcapng file
 * may be several joined, each section in its own byte order (the pcapng
 * specification, draft-ietf-opsawg-pcapng), as cat makes of the files
 * of two hosts; tshark reads them.  libpcap 1.10 reads every block
 * header in the first section's order: the next section's length comes
 * out byte-swapped, 2^24 or more unless it is a multiple of 256, and
 * libpcap stops right after the 8 bytes of type and length with only
 * "pcapng block size ... > maximum".  (A length it can take sends it
 * elsewhere, and then its own words stand alone.)  The type reads the
 * same either way; the byte-order magic after it is the first one
 * reversed.  Reading moves the file's position (lseek and read, which
 * the seccomp filter allows); it is put back, though nothing reads the
 * file after its error.
 */
static off_t
capture_other_order(const struct capture_source *src)
{
	static const uint8_t le[4] = { 0x4d, 0x3c, 0x2b, 0x1a };
	static const uint8_t be[4] = { 0x1a, 0x2b, 0x3c, 0x4d };
	uint8_t b[12];
	FILE *fp;
	off_t pos, at = -1;

	if (src->stream || (memcmp(src->ng_bom, le, 4) != 0 &&
	    memcmp(src->ng_bom, be, 4) != 0) ||
	    (fp = pcap_file(src->pcap)) == NULL ||
	    (pos = ftello(fp)) == -1 || pos < 8)
		return -1;
	if (fseeko(fp, pos - 8, SEEK_SET) == 0 &&
	    fread(b, 1, sizeof(b), fp) == sizeof(b) &&
	    memcmp(b, capture_shb_type, 4) == 0 &&
	    b[8] == src->ng_bom[3] && b[9] == src->ng_bom[2] &&
	    b[10] == src->ng_bom[1] && b[11] == src->ng_bom[0])
		at = pos - 8;
	(void)fseeko(fp, pos, SEEK_SET);
	return at;
}

/* Reads and keeps the first packet (or notes an empty file). */
static int
capture_read_first(struct capture_source *src, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;

	rc = pcap_next_ex(src->pcap, &hdr, &data);
	if (rc == PCAP_ERROR) {
		capture_file_error(src, err, errlen);
		return -1;
	}
	if (rc != 1)
		return 0;	/* an empty file */
	if ((src->first_data = malloc(hdr->caplen + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", src->name);
		return -1;
	}
	memcpy(src->first_data, data, hdr->caplen);
	src->first_hdr = *hdr;
	return 0;
}

static void
capture_close_source(struct capture_source *src)
{
	if (src->pcap != NULL)
		pcap_close(src->pcap);
	src->pcap = NULL;
	free(src->first_data);
	src->first_data = NULL;
}

void
capture_close(struct capture *c)
{
	unsigned int i;

	for (i = 0; i < c->nsrc; i++) {
		capture_close_source(&c->src[i]);
		if (c->src[i].has_prog)
			pcap_freecode(&c->src[i].prog);
		c->src[i].has_prog = 0;
	}
}

/*
 * Hands the current tabset to the sender.  Without `wait` the swap may be
 * refused (the sender is still busy): counting goes on into the same
 * tabset, whose caps and overflow rows keep it bounded, and the drop
 * counters are read again at the next swap.
 */
static void
capture_flush(struct capture *c, enum sender_wait wait)
{
	struct pcap_stat st[FLOWTAB_IFACES_MAX];
	struct capture_source *src;
	struct ft_health *h;
	struct tabset *next;
	unsigned int i;
	uint32_t ifd;

	/* The sender must get every packet taken so far counted. */
	tabset_drain(c->cur);
	for (i = 0; i < c->nsrc; i++) {
		src = &c->src[i];
		h = &c->cur->health[src->iface];
		memset(&st[i], 0, sizeof(st[i]));
		/* What a handle closed since the last swap had dropped. */
		h->kernel_drops = src->lost_drops;
		if (!src->live || src->pcap == NULL ||
		    pcap_stats(src->pcap, &st[i]) != 0) {
			st[i] = src->last;
			continue;
		}
		/* pcap's counters are 32-bit and wrap: deltas survive that. */
		h->kernel_drops += (uint32_t)(st[i].ps_drop - src->last.ps_drop);
		/*
		 * libpcap adds the change of the interface's sysfs counters;
		 * once the interface is deleted they read 0 and the sum falls
		 * back: no drop, not four billion.
		 */
		ifd = (uint32_t)(st[i].ps_ifdrop - src->last.ps_ifdrop);
		h->iface_drops = (int32_t)ifd < 0 ? 0 : ifd;
	}
	c->cur->in_pos = c->skipped + c->npackets;
	next = sender_swap_slot(c->sender, c->slot, c->cur, wait);
	if (next == NULL) {
		for (i = 0; i < c->nsrc; i++) {
			h = &c->cur->health[c->src[i].iface];
			h->kernel_drops = h->iface_drops = 0;
		}
		return;
	}
	c->cur = next;
	for (i = 0; i < c->nsrc; i++) {
		c->src[i].last = st[i];
		c->src[i].lost_drops = 0;
	}
}

/*
 * The capture time of a frame as a batch can carry it, 0 to PROTO_TS_MAX.
 * Classic pcap files (ts32) hold unsigned 32-bit seconds, which libpcap
 * 1.10 sign-extends on a little-endian file: a time from 2038 on arrives
 * negative, and is read back as unsigned, as tshark reads it.  Only
 * there: a pcapng time is 64-bit, so a negative one really is before
 * 1970 (an interface's if_tsoffset can put it there).  Any other time
 * out of range (that, a corrupt time past the year 9999) is clamped, and
 * said once: the frame still counts (DESIGN rule 1), in the nearest
 * bucket a store keeps, where a batch holding it would have been refused
 * whole.
 */
static int64_t
capture_ts(struct capture *c, int64_t ts, int ts32)
{
	char tag[32];
	int64_t in = ts;

	if (ts32 && ts < 0 && ts >= INT32_MIN)
		return ts + ((int64_t)1 << 32);
	if (ts >= 0 && ts <= PROTO_TS_MAX)
		return ts;
	ts = ts < 0 ? 0 : PROTO_TS_MAX;
	if (!c->ts_clamped) {
		log_warn("%scapture time %lld is outside the years 1970 to "
		    "9999: its frames count at %lld (said once)",
		    capture_tag(c, tag, sizeof(tag)), (long long)in,
		    (long long)ts);
		c->ts_clamped = 1;
	}
	return ts;
}

static void
capture_packet_cb(u_char *user, const struct pcap_pkthdr *hdr,
    const u_char *bytes)
{
	struct capture_source *src = (struct capture_source *)(void *)user;
	struct capture *c = src->owner;
	struct decoded d;
	enum decode_kind kind;
	int64_t ts = hdr->ts.tv_sec;

	/*
	 * A file can always wait for the sender, so replay never overflows;
	 * live capture asks for a swap after this dispatch instead, and
	 * waits only when even the interface rows, or a table's room for
	 * overflow rows, are full.
	 */
	if (tabset_nearly_full(c->cur)) {
		if (!src->live)
			capture_flush(c, SENDER_WAIT_QUEUE);
		else if (c->cur->ifaces.n + 1 > c->cur->ifaces.max ||
		    tabset_overflow_full(c->cur))
			capture_flush(c, SENDER_WAIT);
	}
	/*
	 * floor(ts / resolution) * resolution of a time capture_ts made
	 * 0 or more; the packets of one second share it, so one division a
	 * second.  The zeroed cache holds a true triple: second 0 counts as
	 * 0, in bucket 0.
	 */
	if (ts != c->bucket_ts) {
		c->bucket_ts = ts;
		c->ts = capture_ts(c, ts, src->ts32);
		c->bucket = c->ts - c->ts % c->resolution;
	}
	kind = decode_frame(src->dlt, bytes, hdr->caplen, hdr->len, &d);
	tabset_push(c->cur, c->ln, src->iface, c->ts, c->bucket, kind, &d,
	    hdr->len > src->pseudo ? hdr->len - src->pseudo : 0);
	c->npackets++;
}

/*
 * Reads the interface flags through the capture socket itself (any socket
 * answers SIOCGIFFLAGS) and logs a change between up and down.
 */
static int
capture_check_up(struct capture *c, struct capture_source *src, char *err,
    size_t errlen)
{
	struct ifreq ifr;
	char tag[32];
	int down;

	if (src->pcap == NULL || src->draining ||
	    strcmp(src->name, "any") == 0 ||
	    strlen(src->name) >= sizeof(ifr.ifr_name))
		return 0;
	if (capture_gone(src))
		return capture_lost(c, src, NULL, err, errlen);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, src->name, strlen(src->name));
	if (ioctl(pcap_fileno(src->pcap), SIOCGIFFLAGS, &ifr) == -1)
		return 0;	/* gone: pcap_dispatch reports that */
	down = !(ifr.ifr_flags & IFF_UP);
	if (down == src->down)
		return 0;
	src->down = down;
	if (!down) {
		log_info("%s%s: interface is up again: capture resumed",
		    capture_tag(c, tag, sizeof(tag)), src->name);
		return 0;
	}
	if (c->exit_on_error) {
		snprintf(err, errlen, "%s: interface went down", src->name);
		return -1;
	}
	log_err("%s%s: interface went down; counting resumes when it is up",
	    capture_tag(c, tag, sizeof(tag)), src->name);
	return 0;
}

/* "capture thread N: " for the threads after the first, else "". */
static const char *
capture_tag(const struct capture *c, char *buf, size_t len)
{
	if (c->thread == 0)
		return "";
	snprintf(buf, len, "capture thread %u: ", c->thread);
	return buf;
}

/*
 * Whether the interface of a live source was deleted: the kernel then
 * unbinds its packet sockets for good (index -1), even if an interface
 * of the same name comes back.  libpcap checks the same, but only when
 * it is called again soon after the one error it got, and so may never
 * report it to a loop that waits for the socket to be readable.  While
 * the deletion is under way the socket may still hold the old index when
 * the name is already gone, or names a new interface: gone too.
 */
static int
capture_gone(struct capture_source *src)
{
#ifdef __linux__
	struct sockaddr_ll sll;
	struct ifreq ifr;
	socklen_t len = sizeof(sll);
	int fd = pcap_fileno(src->pcap);

	memset(&sll, 0, sizeof(sll));
	if (getsockname(fd, (struct sockaddr *)&sll, &len) == -1 ||
	    sll.sll_family != AF_PACKET || sll.sll_ifindex == 0)
		return 0;	/* not bound to one interface: "any" */
	if (sll.sll_ifindex == -1)
		return 1;
	if (strlen(src->name) >= sizeof(ifr.ifr_name))
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, src->name, strlen(src->name));
	if (ioctl(fd, SIOCGIFINDEX, &ifr) == -1)
		return errno == ENODEV || errno == ENXIO;
	return ifr.ifr_ifindex != sll.sll_ifindex;
#else
	(void)src;
	return 0;
#endif
}

/*
 * A live source lost its interface (why NULL: deleted) or its capture
 * failed (why: libpcap's reason).  With exit_on_error that ends the run.
 * Otherwise the source is set aside for capture_drain.  The tables keep
 * whatever was counted.
 */
static int
capture_lost(struct capture *c, struct capture_source *src, const char *why,
    char *err, size_t errlen)
{
	char tag[32];
	int gone = why == NULL || capture_gone(src);

	if (gone)
		why = "the interface went away";
	if (c->exit_on_error) {
		snprintf(err, errlen, "%s: capture failed: %s; exiting "
		    "(--exit-on-error)", src->name, why);
		/* The run ends: the ring's last block first, as below. */
		(void)poll(NULL, 0, CAPTURE_DRAIN_MS);
		(void)pcap_dispatch(src->pcap, -1, capture_packet_cb,
		    (u_char *)src);
		return -1;
	}
	if (gone)
		log_err("%sinterface %s went away; reopening every %d s "
		    "(--exit-on-error to stop instead)",
		    capture_tag(c, tag, sizeof(tag)), src->name,
		    CAPTURE_REOPEN_MS / 1000);
	else
		log_err("%s%s: capture failed: %s; reopening every %d s "
		    "(--exit-on-error to stop instead)",
		    capture_tag(c, tag, sizeof(tag)), src->name, why,
		    CAPTURE_REOPEN_MS / 1000);
	src->draining = 1;
	src->retry_ms = clock_mono_ms() + CAPTURE_DRAIN_MS;
	return 0;
}

/*
 * Closes a lost source.  Frames of the ring's last block, not yet handed
 * over when the interface went, are handed over by the kernel's block
 * timer after all: read them first (libpcap then reports the loss again,
 * which is known).  Keeps the kernel drops the handle counted since the
 * last swap for the next one.
 */
static void
capture_drain(struct capture_source *src)
{
	struct pcap_stat st;

	(void)pcap_dispatch(src->pcap, -1, capture_packet_cb, (u_char *)src);
	/* Only the socket's own count: the interface's went with it. */
	memset(&st, 0, sizeof(st));
	if (pcap_stats(src->pcap, &st) == 0)
		src->lost_drops += (uint32_t)(st.ps_drop - src->last.ps_drop);
	capture_close_source(src);
	/* A new handle's counters start at 0. */
	memset(&src->last, 0, sizeof(src->last));
	src->down = 0;
	src->draining = 0;
	src->retry_ms = clock_mono_ms() + CAPTURE_REOPEN_MS - CAPTURE_DRAIN_MS;
}

/*
 * Opens a lost source again by its name, with the parameters of its first
 * open.  An interface still absent or down is tried again later, and so
 * is a fanout group the kernel still keeps on the deleted interface
 * because another thread has not closed its member yet (it does at its
 * next flush at the latest).  Any other refusal (no permission, say)
 * ends the run.
 */
static int
capture_reopen(struct capture *c, struct capture_source *src, char *err,
    size_t errlen)
{
	char why[PCAP_ERRBUF_SIZE + 256], tag[32];
	int rc;

	rc = capture_open_live(src, src->name, &src->lp, why, sizeof(why));
	if (rc == CAPTURE_FANOUT_BUSY)
		log_debug("%s; trying again", why);
	if (rc == CAPTURE_AGAIN || rc == CAPTURE_FANOUT_BUSY) {
		src->retry_ms = clock_mono_ms() + CAPTURE_REOPEN_MS;
		return 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot reopen the capture: %s",
		    src->name, why);
		return -1;
	}
	log_info("%sinterface %s is back: capturing again",
	    capture_tag(c, tag, sizeof(tag)), src->name);
	return 0;
}

static void
capture_skip_cb(u_char *user, const struct pcap_pkthdr *hdr,
    const u_char *bytes)
{
	(void)hdr;
	(void)bytes;
	(*(uint64_t *)(void *)user)++;
}

/*
 * One pcap_dispatch of at most cnt packets of the file.  Returns its
 * count; at the end of the file (0) or on a read error (PCAP_ERROR, the
 * cause in err) the file is done: at_end is set.
 */
static int
capture_file_dispatch(struct capture *c, int cnt, pcap_handler cb,
    u_char *user, char *err, size_t errlen)
{
	struct capture_source *src = &c->src[0];
	int n;

	n = pcap_dispatch(src->pcap, cnt, cb, user);
	if (n == PCAP_ERROR)
		capture_file_error(src, err, errlen);
	if (n == PCAP_ERROR || n == 0)
		c->at_end = 1;
	return n;
}

/*
 * Reads past the file's first c->skip packets without counting them: an
 * earlier run counted them.  They are counted as the counting is, after
 * the filter; read, not sought, since pcapng has no index.
 */
static int
capture_skip(struct capture *c, char *err, size_t errlen)
{
	struct capture_source *src = &c->src[0];
	uint64_t left;
	int n;

	if (c->skip > 0 && src->first_data != NULL) {
		free(src->first_data);
		src->first_data = NULL;
		c->skipped++;
	}
	while (c->skipped < c->skip && !*c->stop) {
		left = c->skip - c->skipped;
		n = capture_file_dispatch(c, left < CAPTURE_FILE_BURST ?
		    (int)left : CAPTURE_FILE_BURST, capture_skip_cb,
		    (u_char *)&c->skipped, err, errlen);
		if (n == PCAP_ERROR)
			return -1;
		if (n == 0) {
			log_warn("%s: ends after %llu packets, before packet "
			    "%llu where the earlier run left off", src->name,
			    (unsigned long long)c->skipped,
			    (unsigned long long)c->skip);
			break;
		}
	}
	return 0;
}

/*
 * One line on how far the replay of a regular file is: frames read so far
 * and the share of its bytes libpcap has read (its buffer included).
 */
static void
capture_progress(const struct capture *c)
{
	const struct capture_source *src = &c->src[0];
	FILE *f = pcap_file(src->pcap);
	long pos;

	if (f == NULL || src->input.size == 0 || (pos = ftell(f)) < 0)
		return;
	log_info("%s: %llu frames read so far, %.0f %% of the file",
	    src->name, (unsigned long long)(c->skipped + c->npackets),
	    100.0 * (double)pos / (double)src->input.size);
}

static int
capture_run_file(struct capture *c, char *err, size_t errlen)
{
	struct capture_source *src = &c->src[0];
	int64_t next_flush, next_progress, now;
	int n;

	if (capture_skip(c, err, errlen) == -1)
		return -1;
	if (c->at_end || *c->stop)
		return 0;
	next_flush = clock_mono_ms() + c->flush_ms;
	/* A pipe may run for days: no progress to speak of. */
	next_progress = c->progress_ms > 0 && !src->stream ?
	    clock_mono_ms() + c->progress_ms : INT64_MAX;
	if (src->first_data != NULL) {
		capture_packet_cb((u_char *)src, &src->first_hdr,
		    src->first_data);
		free(src->first_data);
		src->first_data = NULL;
	}
	while (!*c->stop) {
		if (src->stream) {
			if (capture_stream_wait(c, next_flush) == 0) {
				capture_flush(c, SENDER_NOWAIT);
				next_flush = clock_mono_ms() + c->flush_ms;
				continue;
			}
			if (*c->stop)
				break;
		}
		n = capture_file_dispatch(c, src->stream ? 1 :
		    CAPTURE_FILE_BURST, capture_packet_cb, (u_char *)src, err,
		    errlen);
		if (n == PCAP_ERROR)
			return -1;
		if (n == 0)
			return 0;	/* end of file */
		now = clock_mono_ms();
		if (now >= next_flush) {
			capture_flush(c, SENDER_NOWAIT);
			next_flush = now + c->flush_ms;
		}
		if (now >= next_progress) {
			capture_progress(c);
			next_progress = now + c->progress_ms;
		}
	}
	return 0;
}

/*
 * A stream: waits until its fd is readable (a packet, or the end), the
 * agent stops, or the flush deadline passes.  Returns 0 when the deadline
 * passed with nothing to read, 1 otherwise (a poll error included: the
 * read that follows reports it).
 */
static int
capture_stream_wait(struct capture *c, int64_t next_flush)
{
	struct pollfd pfd[2];
	int64_t wait;
	nfds_t nfd = 1;
	int rc;

	pfd[0].fd = fileno(pcap_file(c->src[0].pcap));
	pfd[0].events = POLLIN;
	if (c->stop_fd != -1) {
		pfd[1].fd = c->stop_fd;
		pfd[1].events = POLLIN;
		nfd = 2;
	}
	for (;;) {
		wait = next_flush - clock_mono_ms();
		if (wait <= 0)
			return 0;
		rc = poll(pfd, nfd, (int)wait);
		if (rc > 0 || (rc == -1 && errno != EINTR))
			return 1;
		if (rc == -1 && *c->stop)
			return 1;
	}
}

static int
capture_run_live(struct capture *c, char *err, size_t errlen)
{
	struct pollfd pfd[FLOWTAB_IFACES_MAX + 1];
	struct capture_source *map[FLOWTAB_IFACES_MAX];
	struct capture_source *src;
	int64_t next_flush, now, wake;
	unsigned int i, nfd, npcap;
	int n, timeout;

	next_flush = clock_mono_ms() + c->flush_ms;
	while (!*c->stop) {
		now = clock_mono_ms();
		wake = next_flush;
		nfd = 0;
		for (i = 0; i < c->nsrc; i++) {
			src = &c->src[i];
			if (src->pcap == NULL || src->draining) {
				/* lost: wait for its next step */
				if (src->retry_ms < wake)
					wake = src->retry_ms;
				continue;
			}
			pfd[nfd].fd = pcap_get_selectable_fd(src->pcap);
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			map[nfd++] = src;
		}
		npcap = nfd;
		if (c->stop_fd != -1) {
			pfd[nfd].fd = c->stop_fd;
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			nfd++;
		}
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(pfd, nfd, timeout) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < npcap; i++) {
			src = map[i];
			/*
			 * Dispatch on errors too: libpcap turns POLLERR into
			 * the reason (the interface went down or away).
			 */
			if (pfd[i].revents == 0)
				continue;
			n = pcap_dispatch(src->pcap, -1, capture_packet_cb,
			    (u_char *)src);
			if (n == PCAP_ERROR && capture_lost(c, src,
			    pcap_geterr(src->pcap), err, errlen) == -1)
				return -1;
		}
		now = clock_mono_ms();
		for (i = 0; i < c->nsrc && !*c->stop; i++) {
			src = &c->src[i];
			if (src->draining && now >= src->retry_ms)
				capture_drain(src);
			else if (src->pcap == NULL && now >= src->retry_ms &&
			    capture_reopen(c, src, err, errlen) == -1)
				return -1;
		}
		if (now >= next_flush || tabset_nearly_full(c->cur)) {
			for (i = 0; i < c->nsrc; i++)
				if (capture_check_up(c, &c->src[i], err,
				    errlen) == -1)
					return -1;
			capture_flush(c, SENDER_NOWAIT);
			next_flush = now + c->flush_ms;
		}
	}
	/*
	 * Stopped: frames the kernel took before the signal may still wait
	 * in the ring's last block for its timer; read them, as a lost
	 * interface's, so that a stop counts everything that came before.
	 */
	(void)poll(NULL, 0, CAPTURE_DRAIN_MS);
	for (i = 0; i < c->nsrc; i++)
		if (c->src[i].pcap != NULL && !c->src[i].draining)
			(void)pcap_dispatch(c->src[i].pcap, -1,
			    capture_packet_cb, (u_char *)&c->src[i]);
	return 0;
}

int
capture_run(struct capture *c, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	for (i = 0; i < c->nsrc; i++)
		c->src[i].owner = c;
	if (c->nsrc == 1 && !c->src[0].live)
		rc = capture_run_file(c, err, errlen);
	else
		rc = capture_run_live(c, err, errlen);
	/* The caller hands c->cur over: nothing may stay pending in it. */
	tabset_drain(c->cur);
	c->cur->in_pos = c->skipped + c->npackets;
	return rc;
}
