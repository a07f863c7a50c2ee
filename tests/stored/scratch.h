/*
 * scratch.h - what the store's unit tests share: a scratch directory
 * under /tmp, and the store's database opened in it.  Each function
 * fails the running cmocka test rather than return an error.
 */
#ifndef NETTALLY_TEST_SCRATCH_H
#define NETTALLY_TEST_SCRATCH_H

#include <stddef.h>

struct db;

/* Makes a new directory /tmp/nt-test-NAME.XXXXXX, its path in dir. */
void		 scratch_dir(char *dir, size_t len, const char *name);

/* The store's connection to the database at path (db_open). */
struct db	*scratch_db(const char *path);

/* Removes dir and everything below it. */
void		 scratch_remove(const char *dir);

#endif
