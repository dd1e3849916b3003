/* schedule — poll delays, backoff, maintenance windows, rollout cohorts. */
#include <string.h>

#include "crypto.h"
#include "schedule.h"

#define DAY 86400

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Uniform in [lo, hi] (lo <= hi) from a random number. */
static int64_t pick(int64_t lo, int64_t hi, uint64_t rnd)
{
	return lo + (int64_t)(rnd % (uint64_t)(hi - lo + 1));
}

int64_t schedule_interval(const struct schedule_bounds *b, int64_t interval)
{
	return clamp(interval > 0 ? interval : b->def, b->min, b->max);
}

int64_t schedule_delay(const struct schedule_bounds *b, int64_t interval,
		       int64_t jitter, uint64_t rnd)
{
	int64_t i = schedule_interval(b, interval), lo;

	jitter = clamp(jitter, 0, i);
	jitter = clamp(jitter, 0, b->max - b->min);
	lo = i + jitter > b->max ? b->max - jitter : i;
	return pick(lo, lo + jitter, rnd);
}

int64_t schedule_backoff(const struct schedule_bounds *b, unsigned errors,
			 uint64_t rnd)
{
	int64_t ceiling = b->min, lo;

	for (unsigned i = 1; i < errors && ceiling < b->max; i++)
		ceiling *= 2;
	ceiling = clamp(ceiling, b->min, b->max);
	lo = ceiling / 2 > b->min ? ceiling / 2 : b->min;
	return pick(lo, ceiling, rnd);
}

int64_t schedule_retry(const struct schedule_bounds *b, unsigned errors,
		       long retry_after, uint64_t rnd)
{
	int64_t d = schedule_backoff(b, errors, rnd);

	if (retry_after > d)
		d = retry_after < b->max ? retry_after : b->max;
	return d;
}

/* Seconds since local midnight at the window's offset. */
static int64_t local_seconds(const struct schedule_window *w, int64_t now)
{
	int64_t t = (now + (int64_t)w->utc_offset * 60) % DAY;

	return t < 0 ? t + DAY : t;
}

int schedule_in_window(const struct schedule_window *w, int64_t now)
{
	int64_t t, start, end;

	if (!w->set)
		return 1;
	t = local_seconds(w, now);
	start = (int64_t)w->start * 60;
	end = (int64_t)w->end * 60;
	if (start < end)
		return t >= start && t < end;
	return t >= start || t < end;     /* crosses midnight */
}

int64_t schedule_window_wait(const struct schedule_window *w, int64_t now)
{
	int64_t wait;

	if (schedule_in_window(w, now))
		return 0;
	wait = ((int64_t)w->start * 60 - local_seconds(w, now)) % DAY;
	return wait < 0 ? wait + DAY : wait;
}

int schedule_cohort_bucket(const char *device, const char *salt)
{
	unsigned char d[SHA256_LEN];
	struct sha256 c;
	unsigned r = 0;

	sha256_init(&c);
	sha256_update(&c, device, strlen(device));
	sha256_update(&c, ":", 1);
	sha256_update(&c, salt, strlen(salt));
	sha256_final(&c, d);
	/* the whole digest, big-endian, modulo 100: Horner's rule */
	for (size_t i = 0; i < SHA256_LEN; i++)
		r = (r * 256 + d[i]) % 100;
	return (int)r;
}

int schedule_in_cohort(const char *device, const char *salt, int percent)
{
	if (percent >= 100)
		return 1;
	if (percent <= 0)
		return 0;
	return schedule_cohort_bucket(device, salt) < percent;
}
