/*
 * privdrop.h - the agent's privilege drop and system call allow-list.
 *
 * privdrop.c is the only file of nettally that touches user and group
 * ids, capabilities, no_new_privs or seccomp.  The agent calls it in this
 * order, each step once:
 *
 *   privdrop_init      while parsing options: decide the mode, resolve
 *                      --user (an unknown user is a configuration error)
 *   ... open every capture, compile every filter, read local networks ...
 *   privdrop_drop      give up every privilege for good (but CAP_NET_RAW
 *                      when keep_raw is set); aborts if root can be
 *                      regained
 *   ... connect to the store as the unprivileged user ...
 *   privdrop_seccomp   load the allow-list (unless --no-seccomp)
 *   ... start threads, count packets ...
 *
 * Both privdrop_drop and privdrop_seccomp must run while the process has
 * one thread: capabilities are per thread, and threads created later
 * inherit what the first one has.
 */
#ifndef NETTALLY_PRIVDROP_H
#define NETTALLY_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#define PRIVDROP_USER		"nettally"	/* default when started as root */

enum privdrop_mode {
	PRIVDROP_SETUID = 1,	/* started as root: become the user */
	PRIVDROP_CAPS,		/* started as a user: clear capabilities */
};

struct privdrop {
	enum privdrop_mode	 mode;
	uid_t			 uid;
	gid_t			 gid;
	char			 user[64];	/* for messages */
	/*
	 * Set by the caller before privdrop_drop: keep CAP_NET_RAW to
	 * reopen a live capture whose interface was deleted.  Cleared by
	 * privdrop_drop when the process does not hold it.
	 */
	int			 keep_raw;
};

/*
 * Decides how to drop.  Started as root: resolves user (NULL means
 * PRIVDROP_USER), which must exist and be neither uid 0 nor gid 0.
 * Started as another user: user must be NULL or name that same user.
 * Returns 0, or -1 with a one-line reason in err.
 */
int	privdrop_init(struct privdrop *, const char *user, char *err,
	    size_t errlen);

/*
 * Drops for good: in PRIVDROP_SETUID mode clears the capability bounding
 * set, then setgroups, setresgid, setresuid to the user; in both modes
 * clears every capability set (permitted, effective, inheritable,
 * ambient), except that with keep_raw CAP_NET_RAW stays permitted and
 * effective, and sets no_new_privs.  Reads the sets back from the kernel
 * and fails unless they are exactly that.  Then proves that setuid(0)
 * fails and aborts the process if it does not.  Returns 0, or -1 with err
 * set (the caller must exit: the process is in an unknown state).
 */
int	privdrop_drop(struct privdrop *, char *err, size_t errlen);

/*
 * Loads the seccomp allow-list for every thread of the process: what the
 * capture loop, the sender and the C library under them need, and with
 * pd->keep_raw what libpcap needs to open a live capture again (a packet
 * socket, bind, read-only interface requests, filter attachment),
 * nothing else.  Any other system call kills the process (SIGSYS).
 * Needs no_new_privs (privdrop_drop).  Returns 0, or -1 with err set.
 */
int	privdrop_seccomp(const struct privdrop *, char *err, size_t errlen);

/*
 * Before privdrop_seccomp: also allow what the spool (--spool) needs to
 * write, read back, sync, cut and remove the files it opened before.
 */
void	privdrop_want_spool(void);

#endif
