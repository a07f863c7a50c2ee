/*
 * clock.h - the one monotonic clock of nettally's programs, in milliseconds.
 *
 * The agent's flush deadlines, reconnect back-off and handshake timeouts
 * and the store's retention schedule are measured with it;
 * CLOCK_MONOTONIC so a wall-clock step never fires or stalls them.
 */
#ifndef NETTALLY_CLOCK_H
#define NETTALLY_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
