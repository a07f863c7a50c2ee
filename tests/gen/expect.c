/*
 * expect.c - the expected counts of everything the model generated, by
 * DESIGN.md's accounting rules, written in tools/oracle.py's CSV formats
 * and sort orders so the two can be compared with diff.
 *
 * Counting uses only struct gen_pkt (what the model decided), never the
 * frame bytes.  Tables are open-addressing hash tables keyed by
 * (interval, host, peer, family, class, port, direction) with unused parts
 * zero; they grow with distinct keys, never with packets.  Timestamps are
 * monotonic, so with --interval the current interval's tables stay small
 * and hot: when the interval ends their rows move to a finished list and
 * into the whole-file tables, and the tables are emptied for the next one.
 * Interface totals are one row per interval, appended the same way.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

enum { DIR_IN = 0, DIR_OUT = 1 };

struct ekey {
	int64_t		 ival;
	uint8_t		 host[16];
	uint8_t		 peer[16];
	uint16_t	 port;
	uint8_t		 fam;		/* 4 or 6 */
	uint8_t		 cls;		/* enum gen_class */
	uint8_t		 dir;
	uint8_t		 pad[3];
};

_Static_assert(sizeof(struct ekey) == 48, "ekey has no hidden padding");

struct eent {
	struct ekey	 k;
	uint64_t	 pk;		/* 0: empty slot */
	uint64_t	 l3;
	uint64_t	 wire;
};

struct etab {
	struct eent	*e;
	size_t		 cap;		/* power of two */
	size_t		 n;
	int		 failed;	/* an insert could not grow the table */
};

/*
 * v[0..6]: the interface.csv columns; v[7..10]: the host_totals.csv
 * columns (host-row packets, bytes, frame bytes: both-local packets twice;
 * and the both-local packets themselves).
 */
struct iface {
	int64_t		 ival;
	uint64_t	 v[11];
};

/* Finished intervals' rows, in no particular order. */
struct erows {
	struct eent	*e;
	size_t		 n;
	size_t		 cap;
};

enum { TAB_HOSTS, TAB_PORTS, TAB_PEERS, TAB__COUNT };

struct expect {
	uint32_t	 interval;
	int		 totals_only;
	struct etab	 cur[TAB__COUNT];	/* keyed with ival (0 without -i) */
	struct etab	 whole[TAB__COUNT];	/* --interval: ival 0, all file */
	struct erows	 done[TAB__COUNT];	/* --interval: finished rows */
	struct iface	*ifs;
	size_t		 nifs, capifs;
	int		 failed;
};

/* One output row with its text forms, so sorting compares text as Python. */
struct row {
	const struct eent *e;
	char		 ival[24];
	char		 host[INET6_ADDRSTRLEN];
	char		 peer[INET6_ADDRSTRLEN];
};


static const char *const class_names[] = {
	"icmp", "icmpv6", "other", "tcp", "udp",
};
static const char *const iface_cols =
    "frames,frame_bytes,ipv4_packets,ipv6_packets,non_ip_frames,"
    "transit_packets,malformed_frames";
static const char *const host_cols =
    "packets,bytes,frame_bytes,both_local_packets";

static uint64_t	 key_hash(const struct ekey *);
static int	 etab_grow(struct etab *);
static void	 etab_add(struct etab *, const struct ekey *, uint64_t,
		    uint64_t, uint64_t);
static void	 etab_clear(struct etab *);
static uint8_t	 class_of(uint8_t proto);
static void	 count_side(struct expect *, const struct gen_pkt *,
		    const uint8_t *host, const uint8_t *peer, uint8_t dir);
static int	 cmp_hosts(const void *, const void *);
static int	 cmp_ports(const void *, const void *);
static int	 cmp_peers(const void *, const void *);
static int	 write_table(const struct eent *, size_t n, int which,
		    int with_ival, const char *path);
static int	 write_iface(const struct expect *, int by_ival, const char *path);
static int	 write_host_totals(const struct expect *, int by_ival,
		    const char *path);
static int	 write_cidrs(const char *path);
static int	 flush_interval(struct expect *);

static uint64_t
key_hash(const struct ekey *k)
{
	uint64_t w[sizeof(*k) / 8], h = 0x243f6a8885a308d3ULL;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / 8; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	return h;
}

static int
etab_grow(struct etab *t)
{
	struct eent *old = t->e, *ne;
	size_t oldcap = t->cap, cap, i, j;

	cap = oldcap ? oldcap * 2 : 1024;
	if ((ne = calloc(cap, sizeof(*ne))) == NULL)
		return -1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].pk == 0)
			continue;
		for (j = key_hash(&old[i].k) & (cap - 1); ne[j].pk != 0;
		    j = (j + 1) & (cap - 1))
			;
		ne[j] = old[i];
	}
	free(old);
	t->e = ne;
	t->cap = cap;
	return 0;
}

/* Adds pk packets of l3 and wire bytes under key k. */
static void
etab_add(struct etab *t, const struct ekey *k, uint64_t pk, uint64_t l3,
    uint64_t wire)
{
	struct eent *e;
	size_t j;

	if ((t->n + 1) * 10 > t->cap * 7 && etab_grow(t) == -1) {
		t->failed = 1;
		return;
	}
	for (j = key_hash(k) & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
		e = &t->e[j];
		if (e->pk == 0) {
			e->k = *k;
			t->n++;
			break;
		}
		if (memcmp(&e->k, k, sizeof(*k)) == 0)
			break;
	}
	e->pk += pk;
	e->l3 += l3;
	e->wire += wire;
}

static void
etab_clear(struct etab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

struct expect *
expect_new(uint32_t interval, int totals_only)
{
	struct expect *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->interval = interval;
	x->totals_only = totals_only;
	return x;
}

void
expect_free(struct expect *x)
{
	int i;

	if (x == NULL)
		return;
	for (i = 0; i < TAB__COUNT; i++) {
		etab_clear(&x->cur[i]);
		etab_clear(&x->whole[i]);
		free(x->done[i].e);
	}
	free(x->ifs);
	free(x);
}

static uint8_t
class_of(uint8_t proto)
{
	switch (proto) {
	case 1:
		return GEN_CLASS_ICMP;
	case 58:
		return GEN_CLASS_ICMPV6;
	case 6:
		return GEN_CLASS_TCP;
	case 17:
		return GEN_CLASS_UDP;
	default:
		return GEN_CLASS_OTHER;
	}
}

/* The rows of one host: hosts, peers and (with ports) ports. */
static void
count_side(struct expect *x, const struct gen_pkt *p, const uint8_t *host,
    const uint8_t *peer, uint8_t dir)
{
	struct ekey k;

	memset(&k, 0, sizeof(k));
	k.ival = x->interval ? p->ts_sec - p->ts_sec % x->interval : 0;
	k.fam = p->kind == GEN_KIND_IPV6 ? 6 : 4;
	k.cls = class_of(p->proto);
	k.dir = dir;
	memcpy(k.host, host, 16);
	etab_add(&x->cur[TAB_HOSTS], &k, 1, p->l3_len, p->frame_bytes);
	if (p->has_ports) {
		/* rule 5: the service port is the smaller port, both ways */
		k.port = p->sport < p->dport ? p->sport : p->dport;
		etab_add(&x->cur[TAB_PORTS], &k, 1, p->l3_len, p->frame_bytes);
		k.port = 0;
	}
	memcpy(k.peer, peer, 16);
	etab_add(&x->cur[TAB_PEERS], &k, 1, p->l3_len, p->frame_bytes);
}

void
expect_add(struct expect *x, const struct gen_pkt *p)
{
	struct iface *f;
	int64_t ival;

	ival = x->interval ? p->ts_sec - p->ts_sec % x->interval : 0;
	if (x->nifs == 0 || x->ifs[x->nifs - 1].ival != ival) {
		if (x->nifs != 0 && flush_interval(x) == -1) {
			x->failed = 1;
			return;
		}
		if (x->nifs == x->capifs) {
			size_t cap = x->capifs ? x->capifs * 2 : 64;
			struct iface *n = realloc(x->ifs, cap * sizeof(*n));

			if (n == NULL) {
				x->failed = 1;
				return;
			}
			x->ifs = n;
			x->capifs = cap;
		}
		f = &x->ifs[x->nifs++];
		memset(f, 0, sizeof(*f));
		f->ival = ival;
	}
	f = &x->ifs[x->nifs - 1];
	f->v[0]++;
	f->v[1] += p->frame_bytes;
	/* The link hides the packet: a frame, not an IP packet (rule 1). */
	if (p->opaque) {
		f->v[4]++;
		return;
	}
	switch (p->kind) {
	case GEN_KIND_IPV4:
		f->v[2]++;
		break;
	case GEN_KIND_IPV6:
		f->v[3]++;
		break;
	case GEN_KIND_NON_IP:
		f->v[4]++;
		return;
	default:
		f->v[6]++;
		return;
	}
	if (!p->src_local && !p->dst_local) {
		f->v[5]++;
		return;
	}
	/* rule 6: both local counts once for each host */
	f->v[7] += (uint64_t)(p->src_local + p->dst_local);
	f->v[8] += (uint64_t)(p->src_local + p->dst_local) * p->l3_len;
	f->v[9] += (uint64_t)(p->src_local + p->dst_local) * p->frame_bytes;
	f->v[10] += p->src_local && p->dst_local;
	if (x->totals_only)
		return;
	if (p->src_local)
		count_side(x, p, p->src, p->dst, DIR_OUT);
	if (p->dst_local)
		count_side(x, p, p->dst, p->src, DIR_IN);
}

/* oracle.py's orders: hosts (ival, family, host, proto, direction), ports
 * (..., proto, port, direction), peers (ival, family, host, peer, ...).
 * ival and addresses compare as text; family, class, direction codes are
 * numbered in the text order of their names; port compares as a number. */
#define CMP(a, b)	do { if ((a) != (b)) return (a) < (b) ? -1 : 1; } while (0)

static int
cmp_hosts(const void *va, const void *vb)
{
	const struct row *a = va, *b = vb;
	int c;

	if ((c = strcmp(a->ival, b->ival)) != 0)
		return c;
	CMP(a->e->k.fam, b->e->k.fam);
	if ((c = strcmp(a->host, b->host)) != 0)
		return c;
	CMP(a->e->k.cls, b->e->k.cls);
	CMP(a->e->k.dir, b->e->k.dir);
	return 0;
}

static int
cmp_ports(const void *va, const void *vb)
{
	const struct row *a = va, *b = vb;
	int c;

	if ((c = strcmp(a->ival, b->ival)) != 0)
		return c;
	CMP(a->e->k.fam, b->e->k.fam);
	if ((c = strcmp(a->host, b->host)) != 0)
		return c;
	CMP(a->e->k.cls, b->e->k.cls);
	CMP(a->e->k.port, b->e->k.port);
	CMP(a->e->k.dir, b->e->k.dir);
	return 0;
}

static int
cmp_peers(const void *va, const void *vb)
{
	const struct row *a = va, *b = vb;
	int c;

	if ((c = strcmp(a->ival, b->ival)) != 0)
		return c;
	CMP(a->e->k.fam, b->e->k.fam);
	if ((c = strcmp(a->host, b->host)) != 0)
		return c;
	if ((c = strcmp(a->peer, b->peer)) != 0)
		return c;
	CMP(a->e->k.cls, b->e->k.cls);
	CMP(a->e->k.dir, b->e->k.dir);
	return 0;
}

/* Writes the n entries at e (empty slots skipped) sorted as oracle.py. */
static int
write_table(const struct eent *e, size_t ne, int which, int with_ival,
    const char *path)
{
	static const char *const heads[] = {
		"host,family,proto,direction",
		"host,family,proto,port,direction",
		"host,peer,family,proto,direction",
	};
	struct row *rows = NULL;
	FILE *fp = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (ne != 0 && (rows = calloc(ne, sizeof(*rows))) == NULL)
		goto fail;
	for (i = 0; i < ne; i++) {
		struct row *r;
		int af;

		if (e[i].pk == 0)
			continue;
		r = &rows[n++];
		r->e = &e[i];
		if (with_ival)
			snprintf(r->ival, sizeof(r->ival), "%" PRId64,
			    e[i].k.ival);
		af = e[i].k.fam == 6 ? AF_INET6 : AF_INET;
		inet_ntop(af, e[i].k.host, r->host, sizeof(r->host));
		if (which == TAB_PEERS)
			inet_ntop(af, e[i].k.peer, r->peer, sizeof(r->peer));
	}
	/* No rows (a capture with no host traffic) leaves rows NULL. */
	if (n != 0)
		qsort(rows, n, sizeof(*rows), which == TAB_HOSTS ? cmp_hosts :
		    which == TAB_PORTS ? cmp_ports : cmp_peers);
	if ((fp = fopen(path, "w")) == NULL)
		goto fail;
	fprintf(fp, "%s%s,packets,bytes_l3,bytes_wire\n",
	    with_ival ? "interval," : "", heads[which]);
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct ekey *k = &r->e->k;

		if (with_ival)
			fprintf(fp, "%s,", r->ival);
		fprintf(fp, "%s,", r->host);
		if (which == TAB_PEERS)
			fprintf(fp, "%s,", r->peer);
		fprintf(fp, "%s,%s,", k->fam == 6 ? "ipv6" : "ipv4",
		    class_names[k->cls]);
		if (which == TAB_PORTS)
			fprintf(fp, "%u,", k->port);
		fprintf(fp, "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
		    k->dir == DIR_OUT ? "out" : "in", r->e->pk, r->e->l3,
		    r->e->wire);
	}
	rc = 0;
fail:
	if (fp != NULL && fclose(fp) != 0)
		rc = -1;
	free(rows);
	return rc;
}

static int
write_iface(const struct expect *x, int by_ival, const char *path)
{
	struct iface sum;
	FILE *fp;
	size_t i;
	int j;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "%s%s\n", by_ival ? "interval," : "", iface_cols);
	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < x->nifs; i++) {
		const struct iface *f = &x->ifs[i];

		for (j = 0; j < 7; j++)
			sum.v[j] += f->v[j];
		if (!by_ival)
			continue;
		fprintf(fp, "%" PRId64, f->ival);
		for (j = 0; j < 7; j++)
			fprintf(fp, ",%" PRIu64, f->v[j]);
		fputc('\n', fp);
	}
	if (!by_ival) {
		for (j = 0; j < 7; j++)
			fprintf(fp, "%s%" PRIu64, j ? "," : "", sum.v[j]);
		fputc('\n', fp);
	}
	return fclose(fp) == 0 ? 0 : -1;
}

/* host_totals.csv: the sums of the host rows, whole file or per interval. */
static int
write_host_totals(const struct expect *x, int by_ival, const char *path)
{
	uint64_t sum[4] = { 0, 0, 0, 0 };
	FILE *fp;
	size_t i;
	int j;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "%s%s\n", by_ival ? "interval," : "", host_cols);
	for (i = 0; i < x->nifs; i++) {
		const struct iface *f = &x->ifs[i];

		for (j = 0; j < 4; j++)
			sum[j] += f->v[7 + j];
		if (!by_ival)
			continue;
		fprintf(fp, "%" PRId64, f->ival);
		for (j = 0; j < 4; j++)
			fprintf(fp, ",%" PRIu64, f->v[7 + j]);
		fputc('\n', fp);
	}
	if (!by_ival) {
		for (j = 0; j < 4; j++)
			fprintf(fp, "%s%" PRIu64, j ? "," : "", sum[j]);
		fputc('\n', fp);
	}
	return fclose(fp) == 0 ? 0 : -1;
}

static int
write_cidrs(const char *path)
{
	FILE *fp;
	int i;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	for (i = 0; traffic_cidrs[i] != NULL; i++)
		fprintf(fp, "%s\n", traffic_cidrs[i]);
	return fclose(fp) == 0 ? 0 : -1;
}

/*
 * The current interval is over: its rows go to the finished lists and are
 * summed into the whole-file tables; the tables are emptied (capacity kept,
 * so cost stays proportional to the keys of one interval).
 */
static int
flush_interval(struct expect *x)
{
	struct ekey k;
	size_t j;
	int i;

	if (x->interval == 0)
		return 0;
	for (i = 0; i < TAB__COUNT; i++) {
		struct etab *t = &x->cur[i];
		struct erows *d = &x->done[i];

		if (d->n + t->n > d->cap) {
			size_t cap = d->cap ? d->cap : 1024;
			struct eent *ne;

			while (cap < d->n + t->n)
				cap *= 2;
			if ((ne = realloc(d->e, cap * sizeof(*ne))) == NULL)
				return -1;
			d->e = ne;
			d->cap = cap;
		}
		for (j = 0; j < t->cap && t->n != 0; j++) {
			struct eent *e = &t->e[j];

			if (e->pk == 0)
				continue;
			d->e[d->n++] = *e;
			k = e->k;
			k.ival = 0;
			etab_add(&x->whole[i], &k, e->pk, e->l3, e->wire);
			memset(e, 0, sizeof(*e));
			t->n--;
		}
		if (x->whole[i].failed)
			return -1;
	}
	return 0;
}

int
expect_write(struct expect *x, const char *dir, const char **errstr)
{
	static const char *const names[] = { "hosts", "ports", "peers" };
	char path[4096], name[64];
	int i;

	if (x->nifs != 0 && flush_interval(x) == -1)
		x->failed = 1;
	for (i = 0; i < TAB__COUNT; i++)
		if (x->cur[i].failed || x->whole[i].failed)
			x->failed = 1;
	if (x->failed) {
		*errstr = "out of memory while counting";
		return -1;
	}
	if (mkdir(dir, 0777) == -1 && errno != EEXIST) {
		*errstr = strerror(errno);
		return -1;
	}
	*errstr = "cannot write expected files";
#define PATH(n)	(snprintf(path, sizeof(path), "%s/%s", dir, (n)) < \
		    (int)sizeof(path) ? path : NULL)
	if (PATH("cidrs.txt") == NULL || write_cidrs(path) == -1)
		return -1;
	if (PATH("interface.csv") == NULL || write_iface(x, 0, path) == -1)
		return -1;
	if (x->interval && (PATH("interface_by_interval.csv") == NULL ||
	    write_iface(x, 1, path) == -1))
		return -1;
	if (PATH("host_totals.csv") == NULL ||
	    write_host_totals(x, 0, path) == -1)
		return -1;
	if (x->interval && (PATH("host_totals_by_interval.csv") == NULL ||
	    write_host_totals(x, 1, path) == -1))
		return -1;
	for (i = 0; i < TAB__COUNT && !x->totals_only; i++) {
		const struct etab *w = x->interval ? &x->whole[i] : &x->cur[i];

		snprintf(name, sizeof(name), "%s.csv", names[i]);
		if (PATH(name) == NULL ||
		    write_table(w->e, w->cap, i, 0, path) == -1)
			return -1;
		if (x->interval == 0)
			continue;
		snprintf(name, sizeof(name), "%s_by_interval.csv", names[i]);
		if (PATH(name) == NULL || write_table(x->done[i].e,
		    x->done[i].n, i, 1, path) == -1)
			return -1;
	}
#undef PATH
	return 0;
}
