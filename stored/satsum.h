/*
 * satsum.h - saturating counter sums for the roll-ups.
 *
 * Every stored counter is at most INT64_MAX (validate.c), but SQLite's
 * sum() fails with "integer overflow" once the counters it adds pass
 * that, and an upsert's a + b turns into an inexact REAL.  A roll-up that
 * failed so would fail again at every retry and hold back retention for
 * every agent.  These add what SQLite adds, exactly, and stop at
 * INT64_MAX instead: a counter that large is no traffic, only an agent's
 * error, and the roll-up goes on.
 */
#ifndef NETTALLY_SATSUM_H
#define NETTALLY_SATSUM_H

#include <sqlite3.h>

/*
 * Registers on db the aggregate nt_sum(x) (sum() that saturates; NULL
 * for no rows, as sum()) and the function nt_add(a, b) (a + b that
 * saturates).  A REAL argument, left by an older overflow, counts as the
 * integer it rounds to, saturated.  Returns an SQLite result code.
 */
int	satsum_register(sqlite3 *db);

#endif
