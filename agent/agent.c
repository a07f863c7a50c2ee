/*
 * agent.c - nettally-agent: count traffic on an interface or in a capture
 * file and ship the counts to nettally-stored.
 *
 * Start-up order matters: parse and validate everything, open the capture
 * (the only step that needs privilege), connect to the store, then count.
 * Every failure before counting is one line on stderr and exit status 1.
 *
 * Threads: one capture thread per --threads (the first is the main
 * thread, which alone takes signals), each counting every -i interface
 * through its own handles into its own two tabsets, and the sender.  A
 * signal sets stop_requested and writes a byte to stop_pipe, which every
 * capture thread polls, so none sleeps through a stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_opts.h"
#include "capture.h"
#include "conf.h"
#include "landlock.h"
#include "log.h"
#include "privdrop.h"
#include "sender.h"
#include "spool.h"

#define OPEN_RETRY_MS		1000	/* a missing interface, at start */
#define LOCALNETS_SHOWN		6	/* in the start-up line */

/* One capture thread with its two tabsets and its outcome. */
struct worker {
	struct capture		 c;
	struct tabset		 sets[2];
	int			 ninit;
	pthread_t		 thread;
	int			 started;
	int			 rc;
	char			 err[PCAP_ERRBUF_SIZE + 256];
};

static int	default_iface(char *, size_t);
static void	on_signal(int);
static void	stop_all(void);
static void	*worker_main(void *);
static int	open_sources(const struct agent_opts *, struct worker *,
		    unsigned int, char *, size_t);
static void	make_names(const struct agent_opts *, struct proto_hello *);
static void	name_clean(char *);

static volatile sig_atomic_t	stop_requested;
static volatile sig_atomic_t	abandon_requested;
static volatile sig_atomic_t	signalled;	/* a signal came: stop_all
						   also ends a file */
static int			stop_pipe[2] = { -1, -1 };

/*
 * Picks the interface of the default route, else the first up, running,
 * non-loopback capture device.
 */
static int
default_iface(char *out, size_t len)
{
	char ebuf[PCAP_ERRBUF_SIZE], line[512], name[64], dest[16];
	pcap_if_t *all, *d;
	FILE *f;
	int rc = -1;

	if ((f = fopen("/proc/net/route", "r")) != NULL) {
		while (rc == -1 && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%63s %15s", name, dest) == 2 &&
			    strcmp(dest, "00000000") == 0 &&
			    strlen(name) < len) {
				strcpy(out, name);
				rc = 0;
			}
		fclose(f);
		if (rc == 0)
			return 0;
	}
	if (pcap_findalldevs(&all, ebuf) == -1) {
		log_err("cannot list interfaces: %s", ebuf);
		return -1;
	}
	for (d = all; d != NULL; d = d->next) {
		if ((d->flags & PCAP_IF_LOOPBACK) || !(d->flags & PCAP_IF_UP) ||
		    !(d->flags & PCAP_IF_RUNNING) || strcmp(d->name, "any") == 0)
			continue;
		if (strlen(d->name) < len) {
			strcpy(out, d->name);
			rc = 0;
			break;
		}
	}
	pcap_freealldevs(all);
	if (rc == -1)
		log_err("no interface is up: give one with -i IFACE");
	return rc;
}

/*
 * The first signal stops counting; the second gives up waiting for the
 * store.  "Second" is counted in signals: stop_requested is also set by
 * the end of a file and by a failed capture thread, which are no signal
 * and must not turn the operator's first one into a second.
 */
static void
on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (signalled)
		abandon_requested = 1;
	signalled = 1;
	stop_all();
	errno = saved;
}

/* Async-signal-safe: a flag and a byte that wakes every capture poll. */
static void
stop_all(void)
{
	char one = 1;

	stop_requested = 1;
	if (stop_pipe[1] != -1)
		(void)write(stop_pipe[1], &one, 1);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	w->rc = capture_run(&w->c, w->err, sizeof(w->err));
	if (w->rc == -1)
		stop_all();	/* one thread failing ends the run */
	return NULL;
}

/*
 * Opens worker `t`'s sources: the file, or one handle per -i interface,
 * joined to that interface's fanout group when there are several threads.
 * Group ids differ per interface and per agent process.  Returns 0, -1
 * with err, or 1 when a signal stopped the agent while it waited for a
 * missing interface (said here): a stop as asked, not a failure.
 */
static int
open_sources(const struct agent_opts *o, struct worker *w, unsigned int t,
    char *err, size_t errlen)
{
	struct capture_live_params lp;
	struct capture_source *src;
	unsigned int i;
	int rc, waiting = 0;

	(void)t;
	if (o->file != NULL) {
		w->c.nsrc = 1;
		rc = capture_open_file(&w->c.src[0], o->file, o->filter, err,
		    errlen);
		/* A FIFO's open waits for a writer; a signal ends that wait. */
		if (rc == -1 && stop_requested) {
			log_info("stopped while waiting to open %s", o->file);
			return 1;
		}
		return rc;
	}
	lp.snaplen = (int)o->snaplen;
	lp.bufsize = (int)(o->buffer_mb << 20);
	lp.filter = o->filter;
	for (i = 0; i < o->niface; i++) {
		src = &w->c.src[i];
		src->iface = i;
		lp.fanout = o->nthreads > 1 ?
		    (int)(((unsigned int)getpid() * FLOWTAB_IFACES_MAX + i) &
		    0xffff) : -1;
		w->c.nsrc = i + 1;
		/*
		 * An interface that is missing or down may be on its way (a
		 * restart after it was deleted, boot): wait for it while the
		 * agent still holds the privilege to open it.
		 */
		while ((rc = capture_open_live(src, o->ifaces[i], &lp, err,
		    errlen)) == CAPTURE_AGAIN && !o->exit_on_error) {
			if (!waiting)
				log_warn("%s; waiting for it (--exit-on-error "
				    "to exit instead)", err);
			waiting = 1;
			if (stop_requested) {
				log_info("stopped while waiting for %s",
				    o->ifaces[i]);
				return 1;
			}
			(void)poll(NULL, 0, OPEN_RETRY_MS);
		}
		if (rc != 0)
			return -1;
		if (waiting)
			log_info("%s: interface is there: capturing",
			    o->ifaces[i]);
		waiting = 0;
	}
	return 0;
}

/*
 * Replaces each byte a name may not hold (proto_name_valid: a control
 * character) with '_', in a name the agent made up from a file's or the
 * host's name, which may hold any byte.
 */
static void
name_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '_';
}

/*
 * HELLO's interface names and the agent's name.  Every name comes out
 * valid (proto_name_valid): -i and --name were checked, and one made from
 * a file or host name is cleaned.
 */
static void
make_names(const struct agent_opts *o, struct proto_hello *h)
{
	char host[HOST_NAME_MAX + 1], list[PROTO_NAME_MAX + 1];
	const char *base;
	size_t len = 0;
	unsigned int i;

	if (o->file != NULL) {
		base = strrchr(o->file, '/') != NULL ?
		    strrchr(o->file, '/') + 1 : o->file;
		if (strcmp(o->file, "-") == 0)
			base = "stdin";
		h->niface = 1;
		snprintf(h->iface[0], sizeof(h->iface[0]), "%s",
		    *base != '\0' ? base : o->file);
		name_clean(h->iface[0]);
	} else {
		h->niface = o->niface;
		for (i = 0; i < o->niface; i++)
			snprintf(h->iface[i], sizeof(h->iface[i]), "%s",
			    o->ifaces[i]);
	}
	list[0] = '\0';
	for (i = 0; i < h->niface && len < sizeof(list) - 1; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s%s", i > 0 ? "+" : "", h->iface[i]);
	if (o->name != NULL) {
		snprintf(h->name, sizeof(h->name), "%s", o->name);
		return;
	}
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	/* A name past PROTO_NAME_MAX is cut: it stays unique enough. */
	if (snprintf(h->name, sizeof(h->name), "%s:%s", host, list) >=
	    (int)sizeof(h->name))
		log_debug("agent name cut to %zu bytes", sizeof(h->name) - 1);
	name_clean(h->name);
}

int
main(int argc, char **argv)
{
	static struct agent_opts o;
	struct privdrop pd;
	static struct worker w[CAPTURE_THREADS_MAX];
	struct sender_config scfg;
	struct tabset_limits rlim;
	struct sigaction sa, old_hup;
	struct timespec now;
	struct sender *snd = NULL;
	char err[PCAP_ERRBUF_SIZE + 256], ifbuf[PROTO_IFNAME_MAX + 1];
	char nets[LOCALNETS_SHOWN * (INET6_ADDRSTRLEN + 5) + 32];
	const char *errstr, *srcname, *resume_file;
	sigset_t all, old;
	uint64_t left, dropped, npackets = 0, nlocal = 0, ntransit = 0;
	uint64_t stopped_at;
	unsigned int i, t, nthreads;
	int status = 1, failed = 0, slot, spool_fd = -1, complete, rc;

	log_init("nettally-agent", LOG_TO_STDERR);
	if (agent_opts_parse(argc, argv, &o) == -1) {
		/* A value getopt's loop refused may come from the file. */
		if (conf_where(&o.conf, optind - 1, err, sizeof(err)) != NULL)
			log_err("%s: the setting refused above", err);
		conf_clear(&o.conf);
		return 1;
	}
	if (o.verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	nthreads = (unsigned int)o.nthreads;
	/* An unknown --user is a configuration error: before any capture. */
	if (privdrop_init(&pd, o.user, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}

	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_err("cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* One handler at a time, so two signals at once count as two. */
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * A hangup (the terminal of an agent started by hand closed, or a
	 * kill -HUP meant as a reload, which the agent has none of) killed
	 * it with every count since the last flush unsent and unsaid.  An
	 * agent started with SIGHUP ignored (nohup, to outlive its terminal)
	 * keeps ignoring it, as the store does.
	 */
	if (sigaction(SIGHUP, NULL, &old_hup) == -1 ||
	    old_hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (o.file == NULL && o.niface == 0) {
		if (default_iface(ifbuf, sizeof(ifbuf)) == -1)
			goto out;
		o.ifaces[o.niface++] = ifbuf;
	}
	for (t = 0; t < nthreads; t++)
		if ((rc = open_sources(&o, &w[t], t, err, sizeof(err))) != 0) {
			if (rc == -1)
				log_err("%s", err);
			else
				status = 0;	/* a stop as asked */
			goto out;
		}

	if (o.ln.n == 0) {
		if (o.file != NULL) {
			if (localnet_add_private(&o.ln, &errstr) == -1)
				goto fail_errstr;
		} else {
			for (i = 0; i < o.niface; i++)
				if (localnet_add_iface(&o.ln, o.ifaces[i],
				    &errstr) == -1)
					goto fail_errstr;
			if (o.ln.n == 0) {
				log_err("%s has no IP address to tell local "
				    "from remote: give the local networks with "
				    "-n CIDR", o.ifaces[0]);
				goto out;
			}
		}
	}

	/*
	 * The spool directory may be one only root can reach (under
	 * /var/lib): open it now, create files in it after the drop.
	 */
	if (o.spool_dir != NULL && (spool_fd = spool_dir_open(o.spool_dir,
	    err, sizeof(err))) == -1) {
		log_err("%s", err);
		goto out;
	}
	if (o.spool_dir != NULL)
		privdrop_want_spool();

	/*
	 * Every capture is open: nothing privileged from here on, but for
	 * CAP_NET_RAW in a live agent that reopens a deleted interface.
	 */
	pd.keep_raw = o.file == NULL && !o.exit_on_error;
	if (privdrop_drop(&pd, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	if (o.file == NULL && !o.exit_on_error && !pd.keep_raw)
		log_warn("no CAP_NET_RAW to keep: an interface deleted under "
		    "the capture will end the run");

	memset(&scfg, 0, sizeof(scfg));
	scfg.socket_path = o.socket_path;
	scfg.heartbeat = o.file == NULL;
	scfg.max_queue_bytes = (size_t)o.max_queue_mb << 20;
	scfg.stop = &stop_requested;
	scfg.signalled = &signalled;
	scfg.spool_dir = o.spool_dir;
	scfg.spool_dirfd = spool_fd;
	scfg.spool_max_bytes = (uint64_t)o.spool_max_mb << 20;
	if (o.file != NULL)
		scfg.input = w[0].c.src[0].input;
	scfg.hello.version = PROTO_VERSION;
	scfg.hello.resolution = (uint32_t)o.resolution;
	/*
	 * The epoch must differ between two runs even when an agent restarts
	 * within a second: the store's duplicate check is keyed on it.
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	scfg.hello.start_time = (int64_t)now.tv_sec * 1000000 +
	    now.tv_nsec / 1000;
	make_names(&o, &scfg.hello);
	srcname = o.file != NULL ? o.file : scfg.hello.name;

	/*
	 * Live, each capture thread counts into one tabset while the sender
	 * encodes the other.  A file replay can wait for the encode, so it
	 * keeps one tabset with the memory of both: twice the caps, half the
	 * flushes, and fewer keys of one bucket split over two batches (on
	 * the bench's 64-byte capture 9 % fewer records, 19 % less store
	 * CPU, 20 % less wall time; agent peak RSS 30.9 -> 32.6 MiB).
	 */
	if (o.file != NULL) {
		rlim = o.lim;
		rlim.max_hosts *= 2;
		rlim.max_ports *= 2;
		rlim.max_peers *= 2;
		rlim.max_buckets *= 2;
		if (tabset_init(&w[0].sets[0], &rlim, &errstr) == -1)
			goto fail_errstr;
		w[0].ninit = 1;
	}
	for (t = 0; t < nthreads && o.file == NULL; t++)
		for (; w[t].ninit < 2; w[t].ninit++)
			if (tabset_init(&w[t].sets[w[t].ninit], &o.lim,
			    &errstr) == -1)
				goto fail_errstr;

	if ((snd = sender_new(&scfg, &errstr)) == NULL) {
		/*
		 * A signal while waiting for the store's WELCOME ends that
		 * wait at once: a stop as asked, nothing counted yet.
		 */
		if (signalled) {
			log_info("%s", errstr);
			status = 0;
		} else
			log_err("%s", errstr);
		goto out;
	}
	if (sender_resume_at(snd, &w[0].c.skip, &resume_file))
		log_info("resuming %s at packet %llu, where a run killed or "
		    "stopped earlier left off (spool %s/%s)", o.file,
		    (unsigned long long)w[0].c.skip, o.spool_dir, resume_file);
	/*
	 * Connected as the unprivileged user; no thread runs yet, so every
	 * thread started below inherits the confinement and the filter.
	 */
	if (landlock_confine(spool_fd, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	if (!o.no_seccomp && privdrop_seccomp(&pd, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	for (t = 1; t < nthreads; t++) {
		if ((slot = sender_add_slot(snd, &w[t].sets[1], &errstr)) == -1)
			goto fail_errstr;
		w[t].c.slot = (unsigned int)slot;
	}
	if (sender_start(snd, o.file != NULL ? NULL : &w[0].sets[1],
	    &errstr) == -1)
		goto fail_errstr;
	for (t = 0; t < nthreads; t++) {
		w[t].c.ln = &o.ln;
		w[t].c.resolution = o.resolution;
		w[t].c.flush_ms = o.flush_ms;
		w[t].c.progress_ms = o.progress_s * 1000;
		w[t].c.cur = &w[t].sets[0];
		w[t].c.sender = snd;
		w[t].c.stop = &stop_requested;
		w[t].c.stop_fd = stop_pipe[0];
		w[t].c.exit_on_error = o.exit_on_error;
		w[t].c.thread = t;
	}
	log_info("%s: counting as \"%s\" with %u thread(s), local networks "
	    "%s, store %s", o.file != NULL ? o.file : "capture",
	    scfg.hello.name, nthreads, localnet_format(&o.ln, LOCALNETS_SHOWN,
	    nets, sizeof(nets)), o.socket_path);

	/* Signals stay with the main thread, which runs worker 0. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (t = 1; t < nthreads; t++) {
		if (pthread_create(&w[t].thread, NULL, worker_main,
		    &w[t]) != 0) {
			log_err("cannot start capture thread %u", t);
			stop_all();
			failed = 1;
			break;
		}
		w[t].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!failed)
		worker_main(&w[0]);
	stop_all();
	for (t = 0; t < nthreads; t++) {
		if (t > 0 && w[t].started)
			pthread_join(w[t].thread, NULL);
		if (w[t].rc == -1) {
			log_err("%s", w[t].err);
			failed = 1;
		}
		npackets += w[t].c.npackets;
		for (i = 0; i < (unsigned int)w[t].ninit; i++) {
			nlocal += w[t].sets[i].nlocal_run;
			ntransit += w[t].sets[i].ntransit_run;
		}
		if (nthreads > 1)
			log_info("capture thread %u: %llu frames", t,
			    (unsigned long long)w[t].c.npackets);
	}
	/* Every thread's last tabset goes to the store too. */
	for (t = 1; t < nthreads; t++)
		(void)sender_swap_slot(snd, w[t].c.slot, w[t].c.cur,
		    SENDER_WAIT);
	complete = o.file == NULL || w[0].c.at_end;
	left = sender_finish(snd, w[0].c.cur, complete, &abandon_requested);
	/*
	 * A replay stopped before its end: the counts that follow are not
	 * the file's.  A file's capture fails only at its end, so what
	 * stopped it was a signal.
	 */
	/* Stopped while still reading past a resume's packets: there. */
	stopped_at = w[0].c.skipped < w[0].c.skip ? w[0].c.skip :
	    w[0].c.skipped + w[0].c.npackets;
	if (!complete && o.spool_dir != NULL &&
	    !spool_input_none(&scfg.input))
		log_warn("%s: stopped by signal at packet %llu; the rest of "
		    "the file was not counted: a start on the same file with "
		    "--spool %s and this --name resumes there", o.file,
		    (unsigned long long)stopped_at, o.spool_dir);
	else if (!complete)
		log_warn("%s: stopped by signal at packet %llu; the rest of "
		    "the file was not counted", o.file,
		    (unsigned long long)stopped_at);
	/*
	 * Direction, and so every host, port and peer row, comes from the
	 * local networks: a run where they matched nothing wrote only
	 * interface totals, more often for a wrong -n than for traffic
	 * between foreign networks alone.
	 */
	if (nlocal == 0 && ntransit > 0)
		log_warn("%s: not one of %llu IP packets had an address in the "
		    "local networks: all were transit, counted in the interface "
		    "totals only, with no host, port or peer rows; check -n "
		    "(local networks: %s)", srcname,
		    (unsigned long long)ntransit, localnet_format(&o.ln,
		    LOCALNETS_SHOWN, nets, sizeof(nets)));
	if (left > 0 && o.spool_dir != NULL) {
		/* On disk since before they were first sent: nothing lost. */
		log_warn("%llu batch(es) not acknowledged by the store kept in "
		    "spool %s for the next start", (unsigned long long)left,
		    o.spool_dir);
		status = failed ? 1 : 0;
		goto out;
	}
	if (left > 0) {
		log_err("%llu batch(es) not acknowledged by the store were "
		    "lost", (unsigned long long)left);
		goto out;
	}
	if ((dropped = sender_dropped(snd)) > 0)
		log_err("%s: %llu frames counted, but %llu batch(es) of them "
		    "were dropped (above) and only counted in "
		    "agent_health.dropped", srcname,
		    (unsigned long long)npackets, (unsigned long long)dropped);
	else
		log_info("%s: %llu frames counted and delivered, %llu IP "
		    "packets of them transit (no local address)", srcname,
		    (unsigned long long)npackets, (unsigned long long)ntransit);
	/*
	 * A replay that lost a batch failed at its one job; a service
	 * stopping as asked did not (its drops are in agent_health).
	 */
	status = failed || (dropped > 0 && o.file != NULL) ? 1 : 0;
	goto out;
fail_errstr:
	log_err("%s", errstr);
out:
	sender_free(snd);
	for (t = 0; t < CAPTURE_THREADS_MAX; t++) {
		capture_close(&w[t].c);
		while (w[t].ninit-- > 0)
			tabset_clear(&w[t].sets[w[t].ninit]);
	}
	if (spool_fd != -1)
		close(spool_fd);
	free(o.filter);
	conf_clear(&o.conf);
	return status;
}
