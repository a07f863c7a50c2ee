/*
 * report_status.h - nettally status: asks the running store over its
 * socket how it is (STATUS / STATUS_REPLY, proto/PROTOCOL.md).
 */
#ifndef NETTALLY_REPORT_STATUS_H
#define NETTALLY_REPORT_STATUS_H

#include <stddef.h>
#include <stdio.h>

#include "proto.h"
#include "report_format.h"

/* Seconds a connect, send or receive may take before status gives up. */
#define REPORT_STATUS_TIMEOUT	5

/*
 * Connects to the store's socket at path, sends STATUS and reads the
 * STATUS_REPLY into *st.  Returns 0, or -1 with the reason in err (what
 * is wrong and what to do, one line).
 */
int	report_status_fetch(const char *path, struct proto_status *st,
	    char *err, size_t errlen);

/*
 * Prints st in fmt: a table (one line about the store, then one row per
 * agent), CSV (the agent rows) or JSON (the store's fields and an agents
 * array).  Record rates are over the time since prev when prev holds the
 * same agent connection (--watch), else since the agent connected.
 * Returns 0, or -1 when out has an error.
 */
int	report_status_write(FILE *out, enum report_fmt fmt,
	    const struct proto_status *st, const struct proto_status *prev);

#endif
