/*
 * sender_encode.c - a tabset into BATCH frames on the sender's pending
 * list.
 *
 * The one place where the capture's tables (flowtab.h) become the wire's
 * records (proto.h), kept apart from the connection and the queue
 * (sender.c).  It runs in the sender thread as each tabset is handed
 * over, and only queues: each frame takes the next seq and goes to the
 * spool as it is queued, and the tabset's frames are made durable
 * (sender_spool_tabset) before sender.c sends any of them.  What cannot
 * be encoded is counted as dropped (agent_health.dropped).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowtab.h"
#include "log.h"
#include "proto.h"
#include "sender_int.h"

#define SENDER_FRAME_RECORDS	65536	/* records per BATCH frame */

static void	 key_to_rec(const struct ft_key *, struct proto_key *);

static void
key_to_rec(const struct ft_key *k, struct proto_key *r)
{
	r->iface = k->iface;
	r->bucket = k->bucket;
	r->host.family = k->family;
	memcpy(r->host.a, k->host, 16);
	r->proto = k->proto;
	r->dir = k->dir;
}

/*
 * Encodes tabset t into one or more BATCH frames appended to the pending
 * list.  Interface and health records ride in the first frame.
 */
void
sender_encode(struct sender *s, struct tabset *t)
{
	struct proto_batch head;
	struct proto_batch_enc enc;
	struct proto_buf buf;
	struct proto_health_rec health[FLOWTAB_IFACES_MAX];
	struct proto_iface_rec ir;
	struct proto_host_rec hr;
	struct proto_port_rec pr;
	struct proto_peer_rec qr;
	struct pending *p, *first_new = NULL, *before = s->tail;
	uint8_t *shrunk;
	const struct ft_key *k;
	const struct ft_iface_count *ic;
	struct timespec now;
	size_t ih = 0, ip = 0, iq = 0, i, budget, nhealth;
	int64_t res = s->cfg.hello.resolution, hb;
	int first = 1;

	clock_gettime(CLOCK_REALTIME, &now);
	s->flush_start = s->sf.end;
	hb = t->npackets ? t->last_ts : (int64_t)now.tv_sec;
	hb -= hb % res;
	nhealth = s->cfg.hello.niface;
	for (i = 0; i < nhealth; i++) {
		memset(&health[i], 0, sizeof(health[i]));
		health[i].iface = (uint32_t)i;
		health[i].bucket = hb;
		health[i].captured = t->health[i].captured;
		health[i].kernel_drops = t->health[i].kernel_drops;
		health[i].iface_drops = t->health[i].iface_drops;
		health[i].overflow = t->health[i].overflow;
		health[i].malformed = t->health[i].malformed;
		health[i].queued = s->npending;
	}
	if (nhealth > 0) {
		/* Batches lost so far are reported once, on interface 0. */
		health[0].dropped = s->dropped;
		s->dropped = 0;
	}
	proto_buf_init(&buf);
	while (first || ih < t->hosts.n || ip < t->ports.n || iq < t->peers.n) {
		memset(&head, 0, sizeof(head));
		head.seq = s->next_seq;
		head.first_ts = t->npackets ? t->first_ts : (int64_t)now.tv_sec;
		head.last_ts = t->npackets ? t->last_ts : (int64_t)now.tv_sec;
		/* What waits on disk as this frame is built. */
		head.spooled = s->spool_unacked + replay_left(s);
		budget = SENDER_FRAME_RECORDS;
		if (first) {
			head.nifaces = t->ifaces.n;
			head.nhealth = nhealth;
			budget -= t->ifaces.n + nhealth;
		}
		head.nhosts = t->hosts.n - ih < budget ? t->hosts.n - ih : budget;
		budget -= head.nhosts;
		head.nports = t->ports.n - ip < budget ? t->ports.n - ip : budget;
		budget -= head.nports;
		head.npeers = t->peers.n - iq < budget ? t->peers.n - iq : budget;
		if (proto_batch_begin(&enc, &buf, &head) == -1)
			goto fail;
		for (i = 0; i < head.nhosts; i++, ih++) {
			k = flowtab_key(&t->hosts, ih);
			key_to_rec(k, &hr.k);
			hr.c = *flowtab_count(&t->hosts, k);
			proto_batch_add_host(&enc, &hr);
		}
		for (i = 0; i < head.nports; i++, ip++) {
			k = flowtab_key(&t->ports, ip);
			key_to_rec(k, &pr.k);
			pr.port = k->port;
			pr.c = *flowtab_count(&t->ports, k);
			proto_batch_add_port(&enc, &pr);
		}
		for (i = 0; i < head.npeers; i++, iq++) {
			k = flowtab_key(&t->peers, iq);
			key_to_rec(k, &qr.k);
			qr.peer.family = k->family;
			memcpy(qr.peer.a, k->peer, 16);
			qr.c = *flowtab_count(&t->peers, k);
			proto_batch_add_peer(&enc, &qr);
		}
		for (i = 0; i < head.nifaces; i++) {
			k = flowtab_key(&t->ifaces, i);
			ic = flowtab_iface_count(&t->ifaces, k);
			ir.iface = k->iface;
			ir.bucket = k->bucket;
			ir.frames = ic->frames;
			ir.frame_bytes = ic->frame_bytes;
			ir.ipv4_packets = ic->ipv4_packets;
			ir.ipv6_packets = ic->ipv6_packets;
			ir.non_ip_frames = ic->non_ip_frames;
			ir.transit_packets = ic->transit_packets;
			ir.malformed_frames = ic->malformed_frames;
			proto_batch_add_iface(&enc, &ir);
		}
		for (i = 0; i < head.nhealth; i++)
			proto_batch_add_health(&enc, &health[i]);
		if (proto_batch_end(&enc) == -1)
			goto fail;
		/* Kept until acknowledged: not with the room it grew by. */
		if (buf.cap > buf.len &&
		    (shrunk = realloc(buf.data, buf.len)) != NULL) {
			buf.data = shrunk;
			buf.cap = buf.len;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL)
			goto fail;
		p->seq = s->next_seq++;
		p->n = 1;
		p->data = buf.data;
		p->len = buf.len;
		p->off = SENDER_NOT_SPOOLED;
		p->pos = s->in_pos;
		p->last = ih == t->hosts.n && ip == t->ports.n &&
		    iq == t->peers.n;
		p->carried = head.nhealth > 0 ? health[0].dropped : 0;
		if (head.nhealth > 0) {
			sender_take_notes(s, p);
			replay_kept_counted(s, p->seq);
		}
		proto_buf_init(&buf);
		sender_spool(s, p);
		if (s->tail != NULL)
			s->tail->next = p;
		else
			s->head = p;
		s->tail = p;
		/* Set to send, not sent: that waits for the sync below. */
		if (s->unsent == NULL && s->fd != -1 && !s->conn_replay) {
			s->unsent = p;
			s->unsent_off = 0;
		}
		s->npending++;
		s->pending_bytes += p->len;
		s->mem_bytes += PENDING_MEM(p->len);
		if (first_new == NULL)
			first_new = p;
		first = 0;
	}
	sender_spool_tabset(s, first_new, before);
	return;
fail:
	proto_buf_clear(&buf);
	/* What was not encoded is counted as dropped: past it, resume. */
	if (s->tail != NULL && first_new != NULL)
		s->tail->last = 1;
	if (s->spooling)
		sender_spool_mark(s, s->in_pos);
	sender_spool_tabset(s, first_new, before);
	if (first && nhealth > 0)	/* the frame with the health is lost */
		s->dropped += health[0].dropped;
	s->dropped++;
	s->dropped_run++;
	log_err("sender: cannot encode a batch (out of memory, or a value the "
	    "protocol cannot carry); batch dropped and counted in "
	    "agent_health.dropped");
}
