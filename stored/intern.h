/*
 * intern.h - address -> address.id for the writer, a cache in front of
 * the address table.
 *
 * A batch's addresses are asked for first (intern_id), which answers
 * from the cache or queues the question; then intern_resolve answers the
 * queued ones with SQL, each distinct address once and in key order.
 * One thread at a time uses it, as db.c's connection (the writer thread
 * between db_open and db_close), or db.c's lookahead thread for the
 * intern_id calls of one section, handed over and back under a mutex
 * (lookahead.c) while the writer leaves the intern alone.
 */
#ifndef NETTALLY_INTERN_H
#define NETTALLY_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "proto.h"

struct intern;

/*
 * An empty cache over db's address table, its statements prepared; or
 * NULL with *errstr (SQLite's text, or out of memory).  intern_free
 * finalizes them: before the connection closes.
 */
struct intern	*intern_new(sqlite3 *db, const char **errstr);
void		 intern_free(struct intern *);	/* NULL-safe */

/*
 * Forgets every cached id: after a rollback, the ids that transaction
 * inserted no longer exist.
 */
void		 intern_forget(struct intern *);

/* Room for n queued questions.  Returns 0, or -1 when out of memory. */
int		 intern_reserve(struct intern *, size_t n);

/*
 * a's id: 0 with *id set from the cache; 1 when queued, *id being set by
 * intern_resolve (id must stay valid until then); -1 when a's family is
 * not 0, 4 or 6; -2 when the room intern_reserve made is full.
 */
int		 intern_id(struct intern *, const struct proto_addr *a,
		    int64_t *id);

/*
 * Puts the queued questions in the order intern_resolve answers them in
 * (it does so itself otherwise), so that this part of its work can be
 * done ahead; returns how many are queued.
 */
size_t		 intern_sort(struct intern *);

/*
 * Answers the queued questions, inserting the addresses that are new.
 * Returns 0, or -1 with the failing statement in *failed (reset; its
 * error is the connection's), or *failed NULL and the reason in *why.
 * After -1 some ids may be set and cached that the transaction's
 * rollback takes back: the caller rolls back and calls intern_forget.
 */
int		 intern_resolve(struct intern *, sqlite3_stmt **failed,
		    const char **why);

#endif
