/*
 * landlock.c - the agent's file system confinement, with Landlock.
 *
 * The seccomp filter (privdrop.c) can compare a system call's numbers,
 * not the path it names: it allows unlinkat for the spool, and openat
 * ignores its directory for an absolute path, so a rule there could not
 * keep a compromised agent off the store's database, which the same
 * user owns.  Landlock can: once confined, the agent may not create,
 * write, rename or remove a file anywhere, but remove one beneath its
 * spool directory.  It needs nothing else after the drop: its capture
 * files, spool files and sockets are open by then, and reading, which it
 * still does (a -r file, the interface counters under /sys), is not
 * confined.
 *
 * Only the access rights of Landlock's first version are handled, so the
 * rule set is the same on every kernel that has Landlock (5.13 on); on a
 * kernel without it the agent runs as before, confined by seccomp alone.
 * libc has no wrappers: the system calls are made directly.
 */
#include <sys/syscall.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "landlock.h"
#include "log.h"

#define LANDLOCK_WRITES	(LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)

static void	landlock_selftest(void);

int
landlock_confine(int spool_dirfd, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr;
	struct landlock_path_beneath_attr spool;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LANDLOCK_WRITES;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd == -1 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		log_debug("landlock: not in this kernel (%s): files are "
		    "confined by the seccomp filter alone", strerror(errno));
		return 0;
	}
	if (fd == -1) {
		snprintf(err, errlen, "landlock: cannot create a rule set: %s",
		    strerror(errno));
		return -1;
	}
	if (spool_dirfd != -1) {
		memset(&spool, 0, sizeof(spool));
		spool.allowed_access = LANDLOCK_ACCESS_FS_REMOVE_FILE;
		spool.parent_fd = spool_dirfd;
		if (syscall(SYS_landlock_add_rule, (int)fd,
		    LANDLOCK_RULE_PATH_BENEATH, &spool, 0) == -1) {
			snprintf(err, errlen, "landlock: the spool directory: "
			    "%s", strerror(errno));
			close((int)fd);
			return -1;
		}
	}
	if (syscall(SYS_landlock_restrict_self, (int)fd, 0) == -1) {
		snprintf(err, errlen, "landlock: cannot confine the agent: %s",
		    strerror(errno));
		close((int)fd);
		return -1;
	}
	close((int)fd);
	landlock_selftest();
	return 1;
}

/*
 * Test hook: try to remove the file NETTALLY_LANDLOCK_SELFTEST names,
 * which a confined agent may not do outside its spool directory
 * (tests/system/test_privdrop.sh).  Before the seccomp filter, which
 * would kill the process for the system call instead.
 */
static void
landlock_selftest(void)
{
	const char *path = getenv("NETTALLY_LANDLOCK_SELFTEST");

	if (path == NULL || *path == '\0')
		return;
	if (unlink(path) == 0)
		log_err("landlock: self-test: %s removed", path);
	else
		log_info("landlock: self-test: %s not removed: %s", path,
		    strerror(errno));
}
