/*
 * privdrop.c - the one place where the agent gives up privilege.
 *
 * Nothing else in nettally touches uids, gids, capabilities, no_new_privs
 * or seccomp.  The agent needs privilege for one thing only, opening its
 * capture sockets; by the time privdrop_drop returns, every uid and gid
 * (real, effective, saved, filesystem) is the unprivileged user's, exec
 * can never grant anything again (no_new_privs), setuid(0) has been tried
 * and has failed, and the process holds no capability in any set, with
 * one exception: a live agent that reopens a lost interface (keep_raw)
 * keeps CAP_NET_RAW in its permitted and effective sets, never in the
 * inheritable or ambient ones.  That is exactly what opening a packet
 * socket takes, and no more: with it the process can capture and send
 * raw frames, which it could already do on the sockets it holds, but it
 * cannot change an id, a route, an address or a file it could not before.
 * privdrop_seccomp then limits the process to the system calls the
 * capture loop and the sender make, plus, with keep_raw, those libpcap
 * makes to open a live capture again.  What files it may change is
 * landlock.c's to confine: a filter sees a call's numbers, not its path.
 *
 * Invariants: each step is checked and a failure ends the agent (the
 * caller exits); a drop that appears to succeed but leaves root
 * reachable aborts the process on the spot rather than run on.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include <linux/sockios.h>

#include "privdrop.h"

/* Sanitizer runtimes make system calls of their own: see privdrop_san. */
#if defined(__SANITIZE_ADDRESS__)
#define PRIVDROP_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIVDROP_SANITIZER	1
#endif
#endif

static int	privdrop_nthreads(void);
static int	privdrop_clear_caps(int, char *, size_t);
static int	privdrop_read_caps(uint64_t *, uint64_t *, uint64_t *);
static int	privdrop_allow(scmp_filter_ctx, const char *const *, size_t,
		    char *, size_t);

/*
 * The allow-list, by who makes the calls.  A name the running
 * architecture lacks (poll on arm64) is skipped.  Calls allowed only with
 * some arguments are in privdrop_rules.
 */
static const char *const privdrop_syscalls[] = {
	/* Capture loop: the TPACKET_V3 ring is polled; pcap_stats reads
	 * PACKET_STATISTICS and, in promiscuous mode, the interface's
	 * drop counters from sysfs; a file replay reads. */
	"poll", "ppoll", "recvfrom", "recvmsg", "getsockopt", "read",
	"lseek", "fstat", "newfstatat",
	/* libpcap: on ENETDOWN (interface down or deleted) it asks the
	 * packet socket which interface it is bound to, and so does the
	 * capture loop at every flush; it creates an
	 * eventfd when it opens a handle.  pcap_close's
	 * setsockopt(PACKET_RX_RING) is in privdrop_rules. */
	"getsockname", "eventfd2",
	/* Sender: talks to the store, reconnects (socket is AF_UNIX only),
	 * sleeps on a wake pipe. */
	"connect", "sendto", "sendmsg", "write", "writev", "fcntl", "close",
	/* Threads: the sender and capture threads, mutexes, condition
	 * variables; clone only for threads (below). */
	"futex", "set_robust_list", "rseq", "gettid", "getpid",
	"sched_yield", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn",
	"restart_syscall", "exit", "exit_group",
	/* Time: clock reads fall back to system calls without the vDSO. */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"time",
	/* malloc and thread stacks. */
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
};

/*
 * Only with --spool (agent/spool.c): the epoch's file is created, and
 * earlier epochs' files to replay are opened for reading and writing (a
 * file of another -r input is cut back to a mark), before the filter is
 * loaded; after it, records are written and read back at offsets,
 * synced, the files cut back, earlier epochs' files locked against a
 * second agent of the same name and removed once replayed; a replay
 * connection is half-closed when its last batch is acknowledged.  No
 * open for writing: a rule for one could not hold it to the spool
 * directory, since openat ignores the directory for an absolute path.
 */
static const char *const privdrop_spool_calls[] = {
	"pwrite64", "pread64", "fdatasync", "ftruncate", "unlinkat",
	"shutdown", "flock",
};
static int	privdrop_spool;

/*
 * System calls allowed, or refused with an error, only for some
 * arguments; whatever no rule matches kills the process.  A rule may
 * compare two arguments (both must match); libseccomp takes one
 * comparison per argument, and refuses two rules that overlap with
 * different actions, so the socket families are listed one by one.
 */
#define PRIVDROP_NOARG	99
enum privdrop_when {
	PRIVDROP_ALWAYS,
	PRIVDROP_NOREOPEN,	/* no capability kept: no capture opens */
	PRIVDROP_REOPEN,	/* keep_raw: a lost interface is reopened */
};
struct privdrop_cmp {
	unsigned int		 arg;	/* PRIVDROP_NOARG: none */
	enum scmp_compare	 op;
	scmp_datum_t		 a, b;	/* SCMP_CMP_MASKED_EQ: mask, value */
};
struct privdrop_rule {
	const char		*name;
	uint32_t		 action;
	enum privdrop_when	 when;
	struct privdrop_cmp	 cmp[2];	/* NOARG in cmp[0]: any args */
};

#define PD_ANY		{ PRIVDROP_NOARG, 0, 0, 0 }
#define PD_EQ(n, v)	{ (n), SCMP_CMP_EQ, (v), 0 }

static const struct privdrop_rule privdrop_rules[] = {
	/* Reconnects to the store: Unix sockets only, never the network.
	 * Without keep_raw, libpcap's attempt to reopen a lost interface
	 * gets EPERM, as it would without CAP_NET_RAW, and reports it. */
	{ "socket", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { PD_EQ(0, AF_UNIX), PD_ANY } },
	{ "socket", SCMP_ACT_ERRNO(EPERM), PRIVDROP_NOREOPEN,
	    { { 0, SCMP_CMP_NE, AF_UNIX, 0 }, PD_ANY } },
	/*
	 * Reopening: the packet socket itself.  libpcap first looks for a
	 * socket to ask interfaces about, trying netlink, then Unix (which
	 * answers), then IPv6 and IPv4: the others get EPERM, and any other
	 * family kills.
	 */
	{ "socket", SCMP_ACT_ALLOW, PRIVDROP_REOPEN,
	    { PD_EQ(0, AF_PACKET), PD_ANY } },
	{ "socket", SCMP_ACT_ERRNO(EPERM), PRIVDROP_REOPEN,
	    { PD_EQ(0, AF_NETLINK), PD_ANY } },
	{ "socket", SCMP_ACT_ERRNO(EPERM), PRIVDROP_REOPEN,
	    { PD_EQ(0, AF_INET), PD_ANY } },
	{ "socket", SCMP_ACT_ERRNO(EPERM), PRIVDROP_REOPEN,
	    { PD_EQ(0, AF_INET6), PD_ANY } },
	/* Threads only: a clone without CLONE_THREAD would be a process.
	 * clone3 passes its flags in memory a filter cannot read: it fails
	 * with ENOSYS and the C library falls back to clone. */
	{ "clone", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD }, PD_ANY } },
	{ "clone3", SCMP_ACT_ERRNO(ENOSYS), PRIVDROP_ALWAYS, { PD_ANY, PD_ANY } },
	/* pcap_stats in promiscuous mode reads the drop counters of the
	 * interface under /sys: read-only opens. */
	{ "openat", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { { 2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
	    O_RDONLY }, PD_ANY } },
	/* pcap_close releases the packet ring through SOL_PACKET; an open
	 * sets the ring, the version, promiscuous membership and fanout
	 * there too. */
	{ "setsockopt", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { PD_EQ(1, SOL_PACKET), PD_ANY } },
	/* An open with a filter attaches it to the socket (first a
	 * reject-all one while the ring drains, then the real one). */
	{ "setsockopt", SCMP_ACT_ALLOW, PRIVDROP_REOPEN,
	    { PD_EQ(1, SOL_SOCKET), PD_EQ(2, SO_ATTACH_FILTER) } },
	{ "setsockopt", SCMP_ACT_ALLOW, PRIVDROP_REOPEN,
	    { PD_EQ(1, SOL_SOCKET), PD_EQ(2, SO_DETACH_FILTER) } },
	/* The capture loop reads each interface's flags to report it going
	 * down and coming back (capture.c); libpcap maps a vanished
	 * interface's index to its name.  Read-only requests only. */
	{ "ioctl", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { PD_EQ(1, SIOCGIFFLAGS), PD_ANY } },
	{ "ioctl", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { PD_EQ(1, SIOCGIFINDEX), PD_ANY } },
	{ "ioctl", SCMP_ACT_ALLOW, PRIVDROP_ALWAYS,
	    { PD_EQ(1, SIOCGIFNAME), PD_ANY } },
	/*
	 * Reopening: the link type comes from the hardware address type.
	 * libpcap asks ethtool for time stamp types the agent never uses;
	 * EOPNOTSUPP, a driver without ethtool, makes it assume them all,
	 * and no ethtool request, reading or writing, reaches a driver.
	 */
	{ "ioctl", SCMP_ACT_ALLOW, PRIVDROP_REOPEN,
	    { PD_EQ(1, SIOCGIFHWADDR), PD_ANY } },
	{ "ioctl", SCMP_ACT_ERRNO(EOPNOTSUPP), PRIVDROP_REOPEN,
	    { PD_EQ(1, SIOCETHTOOL), PD_ANY } },
	/* Reopening: bind the packet socket to the interface; libpcap
	 * reads the kernel's version to work around old rings. */
	{ "bind", SCMP_ACT_ALLOW, PRIVDROP_REOPEN, { PD_ANY, PD_ANY } },
	{ "uname", SCMP_ACT_ALLOW, PRIVDROP_REOPEN, { PD_ANY, PD_ANY } },
};

#ifdef PRIVDROP_SANITIZER
/*
 * Only in -fsanitize=address builds, for the test suite: LeakSanitizer's
 * check at exit clones a tracer task (not a thread) that ptraces the
 * agent's threads and reads /proc/self; an error report writes through
 * the same calls.  Release builds never contain this list.
 */
static const char *const privdrop_san[] = {
	"clone", "ptrace", "wait4", "waitpid", "prctl", "getdents",
	"getdents64",
	"sigaltstack", "getppid", "sched_getaffinity", "readlink",
	"readlinkat", "pipe", "pipe2", "dup2", "dup3", "execve", "tgkill",
	"kill", "rt_sigaction", "getrlimit", "prlimit64", "setrlimit",
	"arch_prctl", "open", "openat",
};
#endif

/* Counts the threads of this process, or returns -1 when it cannot. */
static int
privdrop_nthreads(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int
privdrop_init(struct privdrop *pd, const char *user, char *err,
    size_t errlen)
{
	struct passwd *pw;
	const char *name;

	memset(pd, 0, sizeof(*pd));
	if (geteuid() != 0) {
		/* No uid change is possible: only capabilities to clear. */
		pd->mode = PRIVDROP_CAPS;
		pd->uid = geteuid();
		pd->gid = getegid();
		if (user == NULL) {
			snprintf(pd->user, sizeof(pd->user), "%lu",
			    (unsigned long)pd->uid);
			return 0;
		}
		errno = 0;
		pw = getpwnam(user);
		if (pw == NULL || pw->pw_uid != pd->uid) {
			snprintf(err, errlen, "--user %s: only root can change "
			    "user; this agent runs as uid %lu: drop --user, or "
			    "start it as root", user, (unsigned long)pd->uid);
			return -1;
		}
		snprintf(pd->user, sizeof(pd->user), "%s", user);
		return 0;
	}
	name = user != NULL ? user : PRIVDROP_USER;
	if (strlen(name) >= sizeof(pd->user)) {
		snprintf(err, errlen, "--user: name longer than %zu bytes",
		    sizeof(pd->user) - 1);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			snprintf(err, errlen, "--user %s: cannot look the user "
			    "up: %s", name, strerror(errno));
		else
			snprintf(err, errlen, "user %s does not exist: the "
			    "agent started as root drops to it after opening "
			    "the capture; create it (systemd-sysusers "
			    "nettally.conf, from the sysusers.d directory) or "
			    "name another with --user", name);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "--user %s: uid %lu gid %lu is root; "
		    "name an unprivileged user", name,
		    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
		return -1;
	}
	pd->mode = PRIVDROP_SETUID;
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	snprintf(pd->user, sizeof(pd->user), "%s", name);
	return 0;
}

/*
 * Reads the kernel's permitted, effective and inheritable sets of this
 * thread directly (64 bits each), not libcap-ng's idea of them.
 */
static int
privdrop_read_caps(uint64_t *prm, uint64_t *eff, uint64_t *inh)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	*prm = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	*eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	*inh = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
	return 0;
}

/*
 * Empties the permitted, effective, inheritable and ambient sets, but for
 * CAP_NET_RAW in the permitted and effective sets when keep_raw is set.
 */
static int
privdrop_clear_caps(int keep_raw, char *err, size_t errlen)
{
	uint64_t prm, eff, inh, want;
	int cap, set;

	want = keep_raw ? (uint64_t)1 << CAP_NET_RAW : 0;
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (keep_raw && capng_update(CAPNG_ADD, CAPNG_PERMITTED |
	    CAPNG_EFFECTIVE, CAP_NET_RAW) != 0) {
		snprintf(err, errlen, "privdrop: cannot keep CAP_NET_RAW");
		return -1;
	}
	if (capng_apply(CAPNG_SELECT_CAPS) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1) {
		snprintf(err, errlen, "privdrop: cannot clear capabilities: "
		    "%s", strerror(errno));
		return -1;
	}
	/* Read back what the kernel holds now, not what we asked for. */
	if (privdrop_read_caps(&prm, &eff, &inh) == -1) {
		snprintf(err, errlen, "privdrop: cannot read capabilities "
		    "back: %s", strerror(errno));
		return -1;
	}
	if (prm != want || eff != want || inh != 0) {
		snprintf(err, errlen, "privdrop: capabilities after the drop "
		    "are permitted %#llx effective %#llx inheritable %#llx, "
		    "not %#llx %#llx 0", (unsigned long long)prm,
		    (unsigned long long)eff, (unsigned long long)inh,
		    (unsigned long long)want, (unsigned long long)want);
		return -1;
	}
	/* The kernel answers EINVAL past its last capability. */
	for (cap = 0; (set = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
	    (unsigned long)cap, 0, 0)) != -1; cap++)
		if (set == 1) {
			snprintf(err, errlen, "privdrop: ambient capability "
			    "%d remains after clearing", cap);
			return -1;
		}
	return 0;
}

int
privdrop_drop(struct privdrop *pd, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int n;

	if ((n = privdrop_nthreads()) > 1) {
		snprintf(err, errlen, "privdrop: %d threads are running: the "
		    "drop must come before any thread starts", n);
		return -1;
	}
	if (capng_get_caps_process() != 0) {
		snprintf(err, errlen, "privdrop: cannot read capabilities");
		return -1;
	}
	/* A capability not held cannot be kept: the caller is told. */
	if (pd->keep_raw &&
	    !capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW))
		pd->keep_raw = 0;
	/*
	 * Changing the uid from 0 empties the permitted set unless asked
	 * to keep it; privdrop_clear_caps then keeps CAP_NET_RAW alone.
	 */
	if (pd->mode == PRIVDROP_SETUID && pd->keep_raw &&
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "privdrop: PR_SET_KEEPCAPS: %s",
		    strerror(errno));
		return -1;
	}
	if (pd->mode == PRIVDROP_SETUID) {
		/*
		 * The bounding set limits what exec could ever grant; clear
		 * it while CAP_SETPCAP is still held.  Without CAP_SETPCAP
		 * (a unit that withholds it) no_new_privs below forbids any
		 * gain through exec all the same.
		 */
		if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
			capng_clear(CAPNG_SELECT_BOUNDS);
			if (capng_apply(CAPNG_SELECT_BOUNDS) != 0) {
				snprintf(err, errlen, "privdrop: cannot clear "
				    "the capability bounding set");
				return -1;
			}
		}
		if (setgroups(1, &pd->gid) == -1) {
			snprintf(err, errlen, "privdrop: setgroups: %s",
			    strerror(errno));
			return -1;
		}
		if (setresgid(pd->gid, pd->gid, pd->gid) == -1) {
			snprintf(err, errlen, "privdrop: setresgid %lu: %s",
			    (unsigned long)pd->gid, strerror(errno));
			return -1;
		}
		if (setresuid(pd->uid, pd->uid, pd->uid) == -1) {
			snprintf(err, errlen, "privdrop: setresuid %lu: %s",
			    (unsigned long)pd->uid, strerror(errno));
			return -1;
		}
	} else {
		/*
		 * A saved or real id of 0 (a set-uid start) would let
		 * setuid(0) succeed without any capability: set all three
		 * to the effective ids, which needs no privilege.
		 */
		if (setresgid(pd->gid, pd->gid, pd->gid) == -1 ||
		    setresuid(pd->uid, pd->uid, pd->uid) == -1) {
			snprintf(err, errlen, "privdrop: cannot settle the "
			    "real and saved ids: %s", strerror(errno));
			return -1;
		}
	}
	if (privdrop_clear_caps(pd->keep_raw, err, errlen) == -1)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1) {
		snprintf(err, errlen, "privdrop: PR_SET_KEEPCAPS: %s",
		    strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "privdrop: PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != pd->uid || eu != pd->uid || su != pd->uid ||
	    rg != pd->gid || eg != pd->gid || sg != pd->gid) {
		snprintf(err, errlen, "privdrop: ids are not %lu/%lu after the "
		    "drop", (unsigned long)pd->uid, (unsigned long)pd->gid);
		return -1;
	}
	/* The proof: if root is reachable, nothing below may run. */
	if (setuid(0) != -1 || setgid(0) != -1 || setegid(0) != -1) {
		fprintf(stderr, "nettally-agent: privdrop: root regained "
		    "after the drop; aborting\n");
		abort();
	}
#ifdef PRIVDROP_SANITIZER
	/*
	 * A set-uid change, or a start with file capabilities, makes the
	 * process non-dumpable, and then LeakSanitizer's tracer may not
	 * ptrace it at exit.  Test builds only; a release agent stays as
	 * the kernel made it.
	 */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

/* Adds an unconditional allow rule for each name the arch knows. */
static int
privdrop_allow(scmp_filter_ctx ctx, const char *const *names, size_t n,
    char *err, size_t errlen)
{
	size_t i;
	int nr, rc;

	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0) {
			snprintf(err, errlen, "seccomp: %s: %s", names[i],
			    strerror(-rc));
			return -1;
		}
	}
	return 0;
}

void
privdrop_want_spool(void)
{
	privdrop_spool = 1;
}

int
privdrop_seccomp(const struct privdrop *pd, char *err, size_t errlen)
{
	const struct privdrop_rule *r;
	scmp_filter_ctx ctx;
	const char *what, *hook;
	size_t i;
	int n, nr, rc;

	if ((n = privdrop_nthreads()) > 1) {
		snprintf(err, errlen, "seccomp: %d threads are running: the "
		    "filter must be loaded before any thread starts", n);
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp: cannot create a filter");
		return -1;
	}
	if (privdrop_allow(ctx, privdrop_syscalls, sizeof(privdrop_syscalls) /
	    sizeof(privdrop_syscalls[0]), err, errlen) == -1)
		goto fail;
	if (privdrop_spool && privdrop_allow(ctx, privdrop_spool_calls,
	    sizeof(privdrop_spool_calls) / sizeof(privdrop_spool_calls[0]),
	    err, errlen) == -1)
		goto fail;
#ifdef PRIVDROP_SANITIZER
	if (privdrop_allow(ctx, privdrop_san, sizeof(privdrop_san) /
	    sizeof(privdrop_san[0]), err, errlen) == -1)
		goto fail;
#endif
	for (i = 0; i < sizeof(privdrop_rules) / sizeof(privdrop_rules[0]);
	    i++) {
		r = &privdrop_rules[i];
		if ((r->when == PRIVDROP_REOPEN && !pd->keep_raw) ||
		    (r->when == PRIVDROP_NOREOPEN && pd->keep_raw))
			continue;
		what = r->name;
		nr = seccomp_syscall_resolve_name(r->name);
		if (nr == __NR_SCMP_ERROR)
			continue;
		if (r->cmp[0].arg == PRIVDROP_NOARG)
			rc = seccomp_rule_add(ctx, r->action, nr, 0);
		else if (r->cmp[1].arg == PRIVDROP_NOARG)
			rc = seccomp_rule_add(ctx, r->action, nr, 1,
			    SCMP_CMP(r->cmp[0].arg, r->cmp[0].op, r->cmp[0].a,
			    r->cmp[0].b));
		else
			rc = seccomp_rule_add(ctx, r->action, nr, 2,
			    SCMP_CMP(r->cmp[0].arg, r->cmp[0].op, r->cmp[0].a,
			    r->cmp[0].b),
			    SCMP_CMP(r->cmp[1].arg, r->cmp[1].op, r->cmp[1].a,
			    r->cmp[1].b));
		if (rc != 0)
			goto fail_rule;
	}
	/* Every thread, including any a library started behind our back. */
	what = "tsync";
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0)
		goto fail_rule;
	what = "load";
	if ((rc = seccomp_load(ctx)) != 0)
		goto fail_rule;
	seccomp_release(ctx);
	/*
	 * Test hook: make one system call outside the list, which must
	 * kill the process by SIGSYS (tests/system/test_privdrop.sh).
	 */
	if ((hook = getenv("NETTALLY_SECCOMP_SELFTEST")) != NULL &&
	    strcmp(hook, "1") == 0)
		syscall(SYS_getpgid, 0);
	return 0;
fail_rule:
	snprintf(err, errlen, "seccomp: %s: %s", what, strerror(-rc));
fail:
	seccomp_release(ctx);
	return -1;
}
