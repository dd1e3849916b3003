/*
 * schedule — when a gateway polls, when it may apply, and whether a staged
 * rollout includes it. Pure functions: the clock and the random numbers
 * are arguments, so that every rule is tested without waiting.
 *
 * All times are unix seconds and all delays seconds. The bounds come from
 * the local config (poll.min_interval, max_interval, default_interval);
 * the server's wishes (the signed pointer's interval and jitter, a
 * Retry-After) are moved into them, so a mistaken or malicious server can
 * neither hammer itself nor silence a fleet: every delay returned here is
 * at most max (no gateway stops polling for good) and at least min.
 */
#ifndef OUTPOST_SCHEDULE_H
#define OUTPOST_SCHEDULE_H

#include <stdint.h>

struct schedule_bounds {
	int64_t min, max, def;  /* 0 < min <= def <= max */
};

/* The interval the server asked for (0: not set, the default), in bounds. */
int64_t schedule_interval(const struct schedule_bounds *b, int64_t interval);

/*
 * The delay after a successful poll: the interval in bounds plus a random
 * share (rnd) of the jitter, uniform in [0, jitter]. Jitter is at most the
 * interval; a window that would pass max is moved down to end at max (but
 * never starts below min), so jitter spreads a fleet even at max.
 */
int64_t schedule_delay(const struct schedule_bounds *b, int64_t interval,
		       int64_t jitter, uint64_t rnd);

/*
 * The delay after the errors-th consecutive failure (errors >= 1):
 * exponential backoff with jitter. The ceiling doubles from min with each
 * error up to max; the delay is uniform in [max(min, ceiling / 2),
 * ceiling]. (Fully jittered backoff draws from [0, ceiling]; a floor at
 * half keeps a gateway from retrying at once and makes the waits grow
 * with every error, while still spreading a fleet over a wide window.)
 */
int64_t schedule_backoff(const struct schedule_bounds *b, unsigned errors,
			 uint64_t rnd);

/*
 * The delay after a failure for which the server sent Retry-After
 * (seconds; < 0 when it did not): the longer of the backoff and the
 * server's wish, the latter clamped to max.
 */
int64_t schedule_retry(const struct schedule_bounds *b, unsigned errors,
		       long retry_after, uint64_t rnd);

/*
 * A daily maintenance window: [start, end) in minutes after midnight at
 * utc_offset minutes east of UTC. end < start crosses midnight.
 */
struct schedule_window {
	int set;                /* 0: always inside */
	int start, end;         /* 0..1439, start != end */
	int utc_offset;         /* -840..840 */
};

/* 1 when now is inside w, else 0. */
int schedule_in_window(const struct schedule_window *w, int64_t now);

/* Seconds from now until w opens; 0 when inside. */
int64_t schedule_window_wait(const struct schedule_window *w, int64_t now);

/*
 * Staged rollout: the device's bucket 0..99 for a rollout salt, the
 * SHA-256 of "<device>:<salt>" read as a big-endian number, modulo 100.
 * Stable for a device and a salt, so raising the percent only adds
 * devices: a device is in the cohort when bucket < percent.
 */
int schedule_cohort_bucket(const char *device, const char *salt);
int schedule_in_cohort(const char *device, const char *salt, int percent);

#endif
