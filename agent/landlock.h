/*
 * landlock.h - the agent's file system confinement after the drop.
 */
#ifndef NETTALLY_LANDLOCK_H
#define NETTALLY_LANDLOCK_H

#include <stddef.h>

/*
 * Forbids the process, and every thread it starts, to create, write,
 * rename or remove any file, but to remove files beneath the spool
 * directory spool_dirfd (-1: none).  Reading stays as it was.  Files
 * already open stay usable: the spool's are opened before this.  Needs
 * no_new_privs (privdrop_drop).  Returns 1 when confined, 0 when the
 * kernel has no Landlock (it is then said at debug level), or -1 with
 * err set.
 */
int	landlock_confine(int spool_dirfd, char *err, size_t errlen);

#endif
