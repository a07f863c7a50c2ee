/*
 * capture.c - open a capture source and run the per-packet loop.
 *
 * The loop owns the current tabset.  Per packet it decodes and counts,
 * nothing else: no allocation, no lock, no system call.  Between
 * pcap_dispatch calls it looks at the clock and hands the tabset to the
 * sender every flush interval.  A live source is non-blocking and waited
 * on with poll(), so a signal or a flush deadline is never stuck behind a
 * quiet interface.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "decode.h"
#include "log.h"

#define CAPTURE_TIMEOUT_MS	100	/* TPACKET_V3 block retire time */
#define CAPTURE_FILE_BURST	4096	/* packets per dispatch from a file */

static void	capture_packet_cb(u_char *, const struct pcap_pkthdr *,
		    const u_char *);
static int	capture_set_filter(struct capture_source *, const char *,
		    char *, size_t);
static int	capture_check_dlt(struct capture_source *, char *, size_t);
static int	capture_read_first(struct capture_source *, char *, size_t);
static void	capture_flush(struct capture *, int);
static int64_t	now_ms(void);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
capture_check_dlt(struct capture_source *src, char *err, size_t errlen)
{
	const char *name;

	src->dlt = pcap_datalink(src->pcap);
	if (decode_dlt_supported(src->dlt))
		return 0;
	name = pcap_datalink_val_to_name(src->dlt);
	snprintf(err, errlen, "%s: link type %d (%s) is not supported",
	    src->name, src->dlt, name != NULL ? name : "unknown");
	return -1;
}

static int
capture_set_filter(struct capture_source *src, const char *filter, char *err,
    size_t errlen)
{
	struct bpf_program prog;

	if (filter == NULL)
		return 0;
	if (pcap_compile(src->pcap, &prog, filter, 1,
	    PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, errlen, "bad filter \"%s\": %s", filter,
		    pcap_geterr(src->pcap));
		return -1;
	}
	if (pcap_setfilter(src->pcap, &prog) == -1) {
		snprintf(err, errlen, "%s: cannot set filter: %s", src->name,
		    pcap_geterr(src->pcap));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

int
capture_open_live(struct capture_source *src, const char *ifname,
    int snaplen, int bufsize, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	int rc;

	memset(src, 0, sizeof(*src));
	src->name = ifname;
	src->live = 1;
	ebuf[0] = '\0';
	src->pcap = pcap_create(ifname, ebuf);
	if (src->pcap == NULL) {
		snprintf(err, errlen, "%s: %s", ifname, ebuf);
		return -1;
	}
	if (pcap_set_snaplen(src->pcap, snaplen) != 0 ||
	    pcap_set_promisc(src->pcap, 1) != 0 ||
	    pcap_set_timeout(src->pcap, CAPTURE_TIMEOUT_MS) != 0 ||
	    pcap_set_buffer_size(src->pcap, bufsize) != 0) {
		snprintf(err, errlen, "%s: cannot configure capture", ifname);
		goto fail;
	}
	rc = pcap_activate(src->pcap);
	if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
		snprintf(err, errlen, "%s: no such interface (see `ip link`)",
		    ifname);
		goto fail;
	} else if (rc == PCAP_ERROR_PERM_DENIED) {
		snprintf(err, errlen, "%s: permission denied: run as root or "
		    "give the binary CAP_NET_RAW and CAP_NET_ADMIN", ifname);
		goto fail;
	} else if (rc == PCAP_ERROR_IFACE_NOT_UP) {
		snprintf(err, errlen, "%s: interface is down (ip link set %s "
		    "up)", ifname, ifname);
		goto fail;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: cannot capture: %s", ifname,
		    pcap_geterr(src->pcap));
		goto fail;
	} else if (rc > 0) {
		log_warn("%s: %s", ifname, pcap_geterr(src->pcap));
	}
	if (pcap_setnonblock(src->pcap, 1, ebuf) == -1) {
		snprintf(err, errlen, "%s: %s", ifname, ebuf);
		goto fail;
	}
	if (capture_check_dlt(src, err, errlen) == -1 ||
	    capture_set_filter(src, filter, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	capture_close(src);
	return -1;
}

int
capture_open_file(struct capture_source *src, const char *path,
    const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];

	memset(src, 0, sizeof(*src));
	src->name = path;
	ebuf[0] = '\0';
	src->pcap = pcap_open_offline(path, ebuf);
	if (src->pcap == NULL) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return -1;
	}
	if (capture_check_dlt(src, err, errlen) == -1 ||
	    capture_set_filter(src, filter, err, errlen) == -1)
		goto fail;
	if (capture_read_first(src, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	capture_close(src);
	return -1;
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
		snprintf(err, errlen, "%s: %s", src->name,
		    pcap_geterr(src->pcap));
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

void
capture_close(struct capture_source *src)
{
	if (src->pcap != NULL)
		pcap_close(src->pcap);
	src->pcap = NULL;
	free(src->first_data);
	src->first_data = NULL;
}

/*
 * Hands the current tabset to the sender.  Without `wait` the swap may be
 * refused (the sender is still busy): counting goes on into the same
 * tabset, whose caps and overflow rows keep it bounded.
 */
static void
capture_flush(struct capture *c, int wait)
{
	struct ft_health *h = &c->cur->health[c->src.iface];
	struct pcap_stat st;
	struct tabset *next;
	uint64_t kdrop = 0, idrop = 0;

	if (c->src.live && pcap_stats(c->src.pcap, &st) == 0) {
		/* pcap's counters are 32-bit and wrap: deltas survive that. */
		kdrop = (uint32_t)(st.ps_drop - c->src.last.ps_drop);
		idrop = (uint32_t)(st.ps_ifdrop - c->src.last.ps_ifdrop);
		h->kernel_drops = kdrop;
		h->iface_drops = idrop;
	} else {
		memset(&st, 0, sizeof(st));
	}
	next = sender_swap(c->sender, c->cur, wait);
	if (next == NULL) {
		h->kernel_drops = h->iface_drops = 0;
		return;
	}
	c->cur = next;
	if (c->src.live)
		c->src.last = st;
}

static void
capture_packet_cb(u_char *user, const struct pcap_pkthdr *hdr,
    const u_char *bytes)
{
	struct capture *c = (struct capture *)(void *)user;
	struct decoded d;
	enum decode_kind kind;
	int64_t ts = hdr->ts.tv_sec, bucket;

	/*
	 * A file can always wait for the sender, so replay never overflows;
	 * live capture asks for a swap after this dispatch instead.
	 */
	if (tabset_nearly_full(c->cur)) {
		if (!c->src.live)
			capture_flush(c, 1);
		else if (c->cur->ifaces.n + 1 > c->cur->ifaces.max)
			capture_flush(c, 1);
	}
	bucket = ts - ts % c->resolution;
	if (ts % c->resolution < 0)
		bucket -= c->resolution;
	kind = decode_frame(c->src.dlt, bytes, hdr->caplen, hdr->len, &d);
	tabset_account(c->cur, c->ln, c->src.iface, ts, bucket, kind, &d,
	    hdr->len);
	c->npackets++;
}

int
capture_run(struct capture *c, char *err, size_t errlen)
{
	struct pollfd pfd;
	int64_t next_flush, now;
	int n, timeout;

	pfd.fd = c->src.live ? pcap_get_selectable_fd(c->src.pcap) : -1;
	pfd.events = POLLIN;
	next_flush = now_ms() + c->flush_ms;
	if (c->src.first_data != NULL) {
		capture_packet_cb((u_char *)c, &c->src.first_hdr,
		    c->src.first_data);
		free(c->src.first_data);
		c->src.first_data = NULL;
	}
	while (!*c->stop) {
		if (c->src.live) {
			timeout = (int)(next_flush - now_ms());
			if (timeout < 0)
				timeout = 0;
			if (poll(&pfd, 1, timeout) == -1 && errno != EINTR) {
				snprintf(err, errlen, "%s: poll: %s",
				    c->src.name, strerror(errno));
				return -1;
			}
		}
		n = pcap_dispatch(c->src.pcap,
		    c->src.live ? -1 : CAPTURE_FILE_BURST, capture_packet_cb,
		    (u_char *)c);
		if (n == PCAP_ERROR) {
			snprintf(err, errlen, "%s: %s", c->src.name,
			    pcap_geterr(c->src.pcap));
			return -1;
		}
		if (!c->src.live && n == 0)
			return 0;	/* end of file */
		now = now_ms();
		if (now >= next_flush || (c->src.live &&
		    tabset_nearly_full(c->cur))) {
			capture_flush(c, 0);
			next_flush = now + c->flush_ms;
		}
	}
	return 0;
}
