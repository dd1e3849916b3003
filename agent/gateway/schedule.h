/*
 * schedule — when a gateway polls, when it may apply, and whether a staged
 * rollout includes it. Pure functions: the clock and the random numbers
 * are arguments, so that every rule is tested without waiting (but for
 * schedule_state_load/record, which also mirror a schedule in the store).
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
 * A retry schedule held in memory and mirrored in the store: what the
 * running process goes by is the memory (a store that cannot be written,
 * a full disk, must not leave an old, past time in charge: that polled as
 * fast as the loop ran); the store lets a restart resume it. Keys are
 * "<prefix>/next" and "<prefix>/errors". Zero-initialise; the first use
 * loads it.
 */
struct store;
struct schedule_state {
	int64_t next;           /* unix time of the next attempt; 0: at once */
	int64_t errors;         /* failures in a row */
	int loaded;
};

/*
 * Load s from the store once (later calls do nothing). A store error is
 * logged and leaves s due at once with no errors counted (the attempt is
 * due either way; its outcome sets s); returns it.
 */
int schedule_state_load(struct schedule_state *s, struct store *st, const char *prefix);

/*
 * Record an attempt made at now: failed, the errors-th in a row, backs
 * off (schedule_retry with retry_after); else the next is schedule_delay
 * of interval and jitter. Then mirror s in the store: when that fails the
 * store error is one more failure (s backs off in memory all the same)
 * and E_STORE is returned (logged); else 0. *delay gets s->next - now.
 */
int schedule_state_record(struct schedule_state *s, const struct schedule_bounds *b,
			  struct store *st, const char *prefix, int64_t now, int failed,
			  int64_t interval, int64_t jitter, long retry_after, uint64_t rnd,
			  int64_t *delay);

/*
 * Clear s after a success that ended a run of errors: due at once, no
 * errors. A store error backs off and returns E_STORE as above.
 */
int schedule_state_reset(struct schedule_state *s, const struct schedule_bounds *b,
			 struct store *st, const char *prefix, int64_t now, uint64_t rnd);

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
