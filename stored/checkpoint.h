/*
 * checkpoint.h - WAL checkpoints in a thread of their own.
 *
 * The writer's connection does not checkpoint as it commits: its WAL hook
 * (db.c) asks this thread, which copies the WAL into the database and
 * syncs both files on a connection of its own while the writer goes on.
 */
#ifndef NETTALLY_CHECKPOINT_H
#define NETTALLY_CHECKPOINT_H

#include <stdint.h>

struct checkpoint;

/*
 * Opens a second connection to the WAL database at path (which the
 * writer's connection has opened and set up) and starts the thread.
 * Returns it, or NULL with *errstr.
 */
struct checkpoint *checkpoint_start(const char *path, const char **errstr);

/* Asks for a checkpoint soon; requests made while one runs become one. */
void		 checkpoint_request(struct checkpoint *);

/* Checkpoints the thread has run to completion (for tests). */
uint64_t	 checkpoint_count(struct checkpoint *);

/* Stops and joins the thread and closes its connection.  NULL-safe. */
void		 checkpoint_stop(struct checkpoint *);

#endif
