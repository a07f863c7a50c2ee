/*
 * retention.h - retention tiers: roll-up, top-N trimming, expiry, vacuum.
 *
 * The writer thread owns a struct retention and calls retention_step
 * whenever it has no batch to commit (and once after each commit while
 * there is work), so ingest always goes first and waits at most one step.
 * See retention.c for the design and its invariants.
 */
#ifndef NETTALLY_RETENTION_H
#define NETTALLY_RETENTION_H

#include <stdint.h>

#include "db.h"

/* Resolutions of the roll-up tiers, as stored in the counter tables. */
#define RETENTION_RES_HOUR	3600
#define RETENTION_RES_DAY	86400
#define RETENTION_RES_MONTH	2592000		/* a calendar month, UTC */

/* What the operator chose (stored's --keep-raw ... options). */
struct retention_conf {
	int64_t		 keep_raw;	/* seconds; 0: roll up at once */
	int64_t		 keep_hourly;	/* seconds; 0: no hourly tier */
	int64_t		 keep_daily;	/* seconds; 0: no daily tier */
	int		 monthly;	/* 1: a monthly tier, kept forever */
	uint32_t	 top_ports;	/* per host per roll-up bucket; 0: all */
	uint32_t	 top_peers;	/* per host per roll-up bucket; 0: all */
	int		 data_clock;	/* 1: ages count from the newest bucket */
	uint32_t	 step_rows;	/* source rows per step (transaction) */
};

struct retention;

/*
 * Fills c with the defaults: 7 days raw, 90 days hourly, 5 years daily,
 * ages counted from the newest bucket (data_clock).
 */
void	retention_conf_default(struct retention_conf *c);

/*
 * Parses a duration: a number of seconds, or a number followed by s, m,
 * h, d, w or y (365 days); "off" is 0.  Returns 0, or -1 when s is not one
 * or is longer than 1000 years.
 */
int	retention_parse_duration(const char *s, int64_t *secs);

/*
 * Prepares the statements of c on d (migrated to schema version 2 or
 * later) and returns the state, or NULL with *errstr (static or sqlite's
 * text).  d must outlive it; call from the thread that will step it or
 * before that thread uses d.
 */
struct retention	*retention_new(struct db *d, const struct retention_conf *c,
			    const char **errstr);

/* Finalizes the statements.  NULL-safe. */
void	retention_free(struct retention *);

/*
 * Milliseconds until a step is due: 0 when the last step left work, else
 * the time to the next periodic check (or the end of a failure back-off).
 */
int64_t	retention_wait_ms(const struct retention *);

/*
 * One bounded step at wall time now (epoch seconds): in one transaction,
 * hands on at most step_rows rows of expired buckets (or trims roll-up
 * buckets to the top N), records the progress, frees pages.  A step with
 * nothing to do costs a few index probes.  Returns 0, or -1 when the
 * transaction failed: it was rolled back, logged once per streak, and the
 * next step waits a back-off.
 */
int	retention_step(struct retention *, int64_t now);

#endif
