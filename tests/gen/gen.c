/*
 * gen.c - nettally-gen: main and options.
 *
 * Writes a deterministic synthetic capture (a pcap file, or frames sent
 * out of an interface) and, with -e, the exact counts nettally must report
 * for it.  The same options always give byte-identical output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

enum {
	OPT_PACKETS = 256, OPT_SEED, OPT_LOCAL, OPT_REMOTE, OPT_FLOWS,
	OPT_SIZE, OPT_V6, OPT_START, OPT_DURATION, OPT_INTERVAL, OPT_VLAN,
	OPT_MIX, OPT_SEND, OPT_RATE, OPT_HELP, OPT_FLOOD, OPT_SNAPLEN,
	OPT_TOTALS, OPT_LINK, OPT_FORMAT, OPT_TAGS, OPT_MPLS, OPT_ACI,
	OPT_SLL_TYPE, OPT_SLL_PROTO, OPT_TEB, OPT_PPP_COMPRESS, OPT_INET6_AF,
};

static const struct option longopts[] = {
	{ "packets",		required_argument,	NULL, OPT_PACKETS },
	{ "seed",		required_argument,	NULL, OPT_SEED },
	{ "local-hosts",	required_argument,	NULL, OPT_LOCAL },
	{ "remote-hosts",	required_argument,	NULL, OPT_REMOTE },
	{ "flows",		required_argument,	NULL, OPT_FLOWS },
	{ "size",		required_argument,	NULL, OPT_SIZE },
	{ "ipv6-share",		required_argument,	NULL, OPT_V6 },
	{ "start",		required_argument,	NULL, OPT_START },
	{ "duration",		required_argument,	NULL, OPT_DURATION },
	{ "interval",		required_argument,	NULL, OPT_INTERVAL },
	{ "link",		required_argument,	NULL, OPT_LINK },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "vlan",		no_argument,		NULL, OPT_VLAN },
	{ "tags",		required_argument,	NULL, OPT_TAGS },
	{ "mpls",		required_argument,	NULL, OPT_MPLS },
	{ "aci",		no_argument,		NULL, OPT_ACI },
	{ "teb",		no_argument,		NULL, OPT_TEB },
	{ "ppp-compress",	no_argument,		NULL, OPT_PPP_COMPRESS },
	{ "inet6-family",	required_argument,	NULL, OPT_INET6_AF },
	{ "sll-type",		required_argument,	NULL, OPT_SLL_TYPE },
	{ "sll-proto",		required_argument,	NULL, OPT_SLL_PROTO },
	{ "mix",		no_argument,		NULL, OPT_MIX },
	{ "send",		required_argument,	NULL, OPT_SEND },
	{ "rate",		required_argument,	NULL, OPT_RATE },
	{ "flood",		required_argument,	NULL, OPT_FLOOD },
	{ "snaplen",		required_argument,	NULL, OPT_SNAPLEN },
	{ "totals-only",	no_argument,		NULL, OPT_TOTALS },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ NULL,			0,			NULL, 0 },
};

static void	 usage(FILE *);
static int	 parse_u64(const char *, uint64_t lo, uint64_t hi, uint64_t *);
static int	 parse_tags(const char *, struct gen_opts *);

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: nettally-gen -o FILE.pcap | --send IFACE [-e DIR] [options]\n"
"  -o FILE            write a capture file (little-endian); - = stdout\n"
"  --format F         pcap (microseconds), pcap-ns (nanoseconds) or pcapng\n"
"                     (one interface, microseconds) [pcap]\n"
"  -e DIR             write the expected counts: hosts.csv ports.csv peers.csv\n"
"                     (tools/oracle.py formats), interface.csv, cidrs.txt\n"
"  --send IFACE       send the frames out of IFACE (AF_PACKET), not a file\n"
"  --rate PPS         --send pace in packets per second (0 = flat out) [0]\n"
"  --packets N        frames to generate [100000]\n"
"  --seed S           random seed [1]\n"
"  --local-hosts N    hosts in 10.1.0.0/16 and fd00:1::/64 [100]\n"
"  --remote-hosts N   hosts in 198.18.0.0/15 and 2001:db8::/32 [1000]\n"
"  --flows N          distinct host/peer/proto/port tuples [5000]\n"
"  --size 64|imix|N   frame length (pcap len, no FCS); imix = 7:4:1 of\n"
"                     64/576/1500; a frame too short for its headers grows,\n"
"                     one under 60 bytes is zero-padded to 60 [imix]\n"
"  --ipv6-share PCT   share of IPv6 flows [20]\n"
"  --start EPOCH      timestamp of the first frame [1700000000]\n"
"  --duration SEC     frames are spread evenly over SEC seconds [600]\n"
"  --interval N       also write *_by_interval.csv with N-second buckets\n"
"  --link TYPE        the framing under IP [en10mb]: en10mb (Ethernet),\n"
"                     pppoe (Ethernet, PPPoE session, PPP; ARP outside it),\n"
"                     sll, sll2 (Linux cooked v1, v2), null (BSD loopback,\n"
"                     little-endian), null-be (big-endian), loop (OpenBSD\n"
"                     loopback), raw (no header), raw-ppp (LINKTYPE_RAW\n"
"                     holding ff 03 and PPP), ppp, ppp-serial (PPP in\n"
"                     HDLC-like framing), ppp-dir (pppd's direction byte,\n"
"                     PPP), ppp-ether (PPPoE session header, PPP), chdlc\n"
"                     (Cisco HDLC), null-ppp (LINKTYPE_NULL holding ff 03\n"
"                     and PPP), ppp-chdlc (LINKTYPE_PPP holding Cisco\n"
"                     HDLC), null-ethertype (LINKTYPE_NULL whose family\n"
"                     is an ethertype), raw-isdn (LINKTYPE_RAW holding a\n"
"                     6-byte ISDN header, ff 03, PPP), ipv4, ipv6 (no\n"
"                     header, one IP version: --ipv6-share 0 or 100; --mix\n"
"                     sends transit for ARP, and on ipv6 for malformed IPv4\n"
"                     too); only Ethernet frames are padded to 60 bytes\n"
"  --inet6-family N   IPv6's loopback family with null, null-be, loop: 24,\n"
"                     28 or 30 [30; loop: 24]\n"
"  --vlan             wrap every frame in an 802.1Q tag (VID 100): --tags 8100\n"
"  --tags LIST        a stack of tags, outer first, of TPIDs 8100, 88a8 and\n"
"                     9100 (hex, comma-separated, at most 4; VIDs 100, 101,\n"
"                     ...); with en10mb, pppoe, sll and sll2\n"
"  --mpls N           put IP packets under N MPLS labels (1-8; ethertype\n"
"                     8847, PPP 0281); not with null, null-be, loop, raw\n"
"  --aci              send IPv4 as ethertype fff2 (Cisco ACI ARP gleaning);\n"
"                     IPv6 and ARP keep their own; with en10mb, sll, sll2\n"
"  --teb              bridge every frame: ethertype 6558 and an inner\n"
"                     Ethernet header (with en10mb, sll, sll2, chdlc)\n"
"  --ppp-compress     leave out PPP's ff 03 and send IP's protocol in one\n"
"                     byte (ACFC, PFC; LCP and MPLS keep theirs)\n"
"  --sll-type N       the cooked header's device (ARPHRD) type [1]\n"
"  --sll-proto P      its protocol field [ethertype]: ethertype, ethernet\n"
"                     (0003 and an Ethernet frame), ppp (0007, ff 03, PPP),\n"
"                     gre-ethernet, gre-ppp (GRE types 6400, 880b: needs\n"
"                     --sll-type 778), gre-wccp (883e and IPv4: needs\n"
"                     --sll-type 778 --ipv6-share 0), pppoe (8864, a\n"
"                     PPPoE session, PPP; ARP outside it).  Every frame is\n"
"                     non-IP under ethernet or ppp on a Frame Relay (770)\n"
"                     or radiotap (803) device and under any protocol on a\n"
"                     netlink one (824)\n"
"  --mix              add ARP, transit, local-to-local, ICMP/ICMPv6, SCTP,\n"
"                     GRE, fragments, IPv6 hop-by-hop, IPv4 source-routed\n"
"                     and malformed frames\n"
"  --flood PCT        make PCT%% of the packets a flood: spoofed random\n"
"                     sources (never local) and random ports, TCP SYN or\n"
"                     UDP, to random local hosts\n"
"  --snaplen N        keep at most N bytes of each frame in the pcap, as a\n"
"                     capture with a small snapshot length (the expected\n"
"                     counts do not change: they come from the headers)\n"
"  --totals-only      with -e, write interface.csv and host_totals.csv\n"
"                     only (their size does not grow with a flood's keys)\n"
"  --help             this text\n");
}

static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* --tags: hex TPIDs 8100, 88a8 or 9100, comma-separated, outer first. */
static int
parse_tags(const char *s, struct gen_opts *o)
{
	unsigned long v;
	char *end;

	o->ntags = 0;
	for (;;) {
		if (o->ntags == GEN_TAGS_MAX || *s == '\0' || *s == '-')
			return -1;
		errno = 0;
		v = strtoul(s, &end, 16);
		if (errno != 0 || end == s ||
		    (v != 0x8100 && v != 0x88a8 && v != 0x9100))
			return -1;
		o->tags[o->ntags++] = (uint16_t)v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

int
main(int argc, char *argv[])
{
	static uint8_t buf[GEN_FRAME_MAX + 64];
	struct gen_opts o;
	struct traffic *t = NULL;
	struct expect *x = NULL;
	struct pcapw *pw = NULL;
	struct sendw *sw = NULL;
	struct gen_pkt p;
	const char *errstr = NULL, *what = NULL;
	uint64_t v, i, nfail;
	int ch, rc = 1;

	memset(&o, 0, sizeof(o));
	o.npackets = 100000;
	o.seed = 1;
	o.nlocal = 100;
	o.nremote = 1000;
	o.nflows = 5000;
	o.size_mode = GEN_SIZE_IMIX;
	o.ipv6_pct = 20;
	o.start = 1700000000;
	o.duration = 600;
	o.sll_type = 1;				/* ARPHRD_ETHER */

	while ((ch = getopt_long(argc, argv, "o:e:h", longopts, NULL)) != -1) {
		what = ch == 'o' ? "-o" : ch == 'e' ? "-e" : "option";
		for (v = 0; longopts[v].name != NULL; v++)
			if (longopts[v].val == ch)
				what = longopts[v].name;
		switch (ch) {
		case 'o':
			o.out = optarg;
			break;
		case 'e':
			o.expdir = optarg;
			break;
		case OPT_PACKETS:
			if (parse_u64(optarg, 1, UINT64_C(1) << 40, &o.npackets))
				goto badarg;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &o.seed))
				goto badarg;
			break;
		case OPT_LOCAL:
			if (parse_u64(optarg, 1, GEN_LOCAL_MAX, &v))
				goto badarg;
			o.nlocal = (uint32_t)v;
			break;
		case OPT_REMOTE:
			if (parse_u64(optarg, 1, GEN_REMOTE_MAX, &v))
				goto badarg;
			o.nremote = (uint32_t)v;
			break;
		case OPT_FLOWS:
			if (parse_u64(optarg, 1, 10000000, &v))
				goto badarg;
			o.nflows = (uint32_t)v;
			break;
		case OPT_SIZE:
			if (strcmp(optarg, "imix") == 0) {
				o.size_mode = GEN_SIZE_IMIX;
				break;
			}
			if (parse_u64(optarg, 1, GEN_FRAME_MAX, &v))
				goto badarg;
			o.size_mode = GEN_SIZE_FIXED;
			o.size = (uint32_t)v;
			break;
		case OPT_V6:
			if (parse_u64(optarg, 0, 100, &v))
				goto badarg;
			o.ipv6_pct = (uint32_t)v;
			break;
		case OPT_START:
			if (parse_u64(optarg, 0, UINT32_MAX, &v))
				goto badarg;
			o.start = (int64_t)v;
			break;
		case OPT_DURATION:
			if (parse_u64(optarg, 0, 100L * 365 * 86400, &o.duration))
				goto badarg;
			break;
		case OPT_INTERVAL:
			if (parse_u64(optarg, 1, 86400 * 366, &v))
				goto badarg;
			o.interval = (uint32_t)v;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "pcap") == 0)
				o.format = GEN_FORMAT_PCAP;
			else if (strcmp(optarg, "pcap-ns") == 0)
				o.format = GEN_FORMAT_PCAP_NS;
			else if (strcmp(optarg, "pcapng") == 0)
				o.format = GEN_FORMAT_PCAPNG;
			else
				goto badarg;
			break;
		case OPT_LINK:
			if ((o.link = frame_link_parse(optarg)) == -1)
				goto badarg;
			break;
		case OPT_VLAN:
			o.tags[0] = 0x8100;
			o.ntags = 1;
			break;
		case OPT_TAGS:
			if (parse_tags(optarg, &o) == -1)
				goto badarg;
			break;
		case OPT_MPLS:
			if (parse_u64(optarg, 1, GEN_MPLS_MAX, &v))
				goto badarg;
			o.mpls = (uint32_t)v;
			break;
		case OPT_ACI:
			o.aci = 1;
			break;
		case OPT_TEB:
			o.teb = 1;
			break;
		case OPT_PPP_COMPRESS:
			o.ppp_compress = 1;
			break;
		case OPT_INET6_AF:
			if (parse_u64(optarg, 24, 30, &v) ||
			    (v != 24 && v != 28 && v != 30))
				goto badarg;
			o.inet6_af = (uint32_t)v;
			break;
		case OPT_SLL_TYPE:
			if (parse_u64(optarg, 0, UINT16_MAX, &v))
				goto badarg;
			o.sll_type = (uint16_t)v;
			break;
		case OPT_SLL_PROTO:
			if ((o.sll_proto = frame_sll_proto_parse(optarg)) == -1)
				goto badarg;
			break;
		case OPT_MIX:
			o.mix = 1;
			break;
		case OPT_SEND:
			o.iface = optarg;
			break;
		case OPT_FLOOD:
			if (parse_u64(optarg, 0, 100, &v))
				goto badarg;
			o.flood_pct = (uint32_t)v;
			break;
		case OPT_SNAPLEN:
			if (parse_u64(optarg, 1, GEN_FRAME_MAX, &v))
				goto badarg;
			o.snaplen = (uint32_t)v;
			break;
		case OPT_TOTALS:
			o.totals_only = 1;
			break;
		case OPT_RATE:
			if (parse_u64(optarg, 0, UINT64_C(1) << 32, &o.rate))
				goto badarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (o.out == NULL && o.iface == NULL)) {
		usage(stderr);
		return 2;
	}
	if (frame_check(&o, &errstr) == -1) {
		fprintf(stderr, "nettally-gen: %s\n", errstr);
		return 2;
	}
	if (o.iface != NULL && !frame_link_padded(o.link)) {
		fprintf(stderr, "nettally-gen: --send: an interface sends "
		    "Ethernet frames; use --link en10mb or pppoe\n");
		return 2;
	}
	if ((uint64_t)o.start + o.duration > UINT32_MAX) {
		fprintf(stderr, "nettally-gen: --start + --duration: past 2106\n");
		return 2;
	}

	if ((t = traffic_new(&o, &errstr)) == NULL) {
		fprintf(stderr, "nettally-gen: model: %s\n", errstr);
		goto fail;
	}
	if (o.expdir != NULL && (x = expect_new(o.interval, o.totals_only)) == NULL) {
		fprintf(stderr, "nettally-gen: expect: out of memory\n");
		goto fail;
	}
	if (o.out != NULL && (pw = pcapw_open(o.out, o.format,
	    frame_linktype(o.link), o.snaplen, &errstr)) == NULL) {
		fprintf(stderr, "nettally-gen: %s: %s\n", o.out, errstr);
		goto fail;
	}
	if (o.iface != NULL &&
	    (sw = sendw_open(o.iface, o.rate, &errstr)) == NULL) {
		fprintf(stderr, "nettally-gen: %s: %s\n", o.iface, errstr);
		goto fail;
	}
	for (i = 0; i < o.npackets; i++) {
		size_t len;

		traffic_next(t, &p);
		if (x != NULL)
			expect_add(x, &p);
		len = frame_build(&p, &o, buf);
		if (pw != NULL &&
		    pcapw_write(pw, p.ts_sec, p.ts_usec, buf, len) == -1) {
			fprintf(stderr, "nettally-gen: %s: %s\n", o.out,
			    strerror(errno));
			goto fail;
		}
		if (sw != NULL)
			(void)sendw_write(sw, buf, len);
	}
	rc = 0;
	if (pw != NULL) {
		if (pcapw_close(pw) == -1) {
			fprintf(stderr, "nettally-gen: %s: write failed\n",
			    o.out);
			rc = 1;
		}
		pw = NULL;
	}
	if (sw != NULL) {
		if ((nfail = sendw_close(sw)) != 0) {
			fprintf(stderr, "nettally-gen: %s: %" PRIu64
			    " frames not sent\n", o.iface, nfail);
			rc = 1;
		}
		sw = NULL;
	}
	if (x != NULL && expect_write(x, o.expdir, &errstr) == -1) {
		fprintf(stderr, "nettally-gen: %s: %s\n", o.expdir, errstr);
		rc = 1;
	}
fail:
	(void)pcapw_close(pw);
	(void)sendw_close(sw);
	expect_free(x);
	traffic_free(t);
	return rc;
badarg:
	fprintf(stderr, "nettally-gen: %s: bad value '%s'\n", what, optarg);
	return 2;
}
