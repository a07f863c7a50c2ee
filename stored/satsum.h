/*
 * satsum.h - a sum() of counters that saturates instead of failing.
 *
 * Every stored counter is at most INT64_MAX (validate.c, and the upserts'
 * SCHEMA_SAT_ADD), but SQLite's sum() fails with "integer overflow" once
 * the counters it adds pass that.  A roll-up that failed so would fail
 * again at every retry and hold back retention for every agent, and a
 * report over such rows would print nothing.  nt_sum adds what sum()
 * adds, exactly, and stops at INT64_MAX instead: a counter that large is
 * no traffic, only an agent's error, and the roll-up or report goes on.
 */
#ifndef NETTALLY_SATSUM_H
#define NETTALLY_SATSUM_H

#include <sqlite3.h>

/*
 * Registers on db the aggregate nt_sum(x): sum() that saturates at
 * INT64_MAX (and INT64_MIN), NULL for no rows as sum().  A REAL argument,
 * left by an older store's overflow, counts as the integer it rounds to,
 * saturated.  Returns an SQLite result code.
 */
int	satsum_register(sqlite3 *db);

#endif
