/* schedule — poll delays, backoff, maintenance windows, rollout cohorts. */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "log.h"
#include "schedule.h"
#include "store.h"

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

/* --- a schedule in memory, mirrored in the store ------------------------------ */

#define STATE_KEY_MAX 192

static void state_key(char k[STATE_KEY_MAX], const char *prefix, const char *what)
{
	snprintf(k, STATE_KEY_MAX, "%s/%s", prefix, what);
}

int schedule_state_load(struct schedule_state *s, struct store *st, const char *prefix)
{
	char k[STATE_KEY_MAX];
	int64_t next = 0, errors = 0;
	int rc;

	if (s->loaded)
		return 0;
	s->loaded = 1;
	state_key(k, prefix, "next");
	rc = store_setting_get_int(st, k, 0, &next);
	state_key(k, prefix, "errors");
	if (!rc)
		rc = store_setting_get_int(st, k, 0, &errors);
	if (rc) {
		log_warn("%s: the stored schedule cannot be read (%s): due at once", prefix,
			 err_str(rc));
		return rc;
	}
	s->next = next;
	s->errors = errors > 0 ? errors : 0;
	return 0;
}

static int state_save(const struct schedule_state *s, struct store *st, const char *prefix)
{
	char k[STATE_KEY_MAX];
	int rc = store_begin(st);

	if (rc)
		return rc;
	state_key(k, prefix, "next");
	rc = store_setting_set_int(st, k, s->next);
	state_key(k, prefix, "errors");
	if (!rc)
		rc = store_setting_set_int(st, k, s->errors);
	if (!rc)
		return store_commit(st);
	store_rollback(st);
	return rc;
}

static void state_fail(struct schedule_state *s, const struct schedule_bounds *b, int64_t now,
		       long retry_after, uint64_t rnd)
{
	s->errors++;
	s->next = now + schedule_retry(b, (unsigned)(s->errors > 64 ? 64 : s->errors),
				       retry_after, rnd);
}

/* Mirror s in the store; when that fails, one more failure (unless the
 * attempt's own already counted). */
static int mirror(struct schedule_state *s, const struct schedule_bounds *b,
		  struct store *st, const char *prefix, int64_t now, int counted, uint64_t rnd)
{
	int rc = state_save(s, st, prefix);

	if (!rc)
		return 0;
	if (!counted)
		state_fail(s, b, now, -1, rnd);
	return error(E_STORE, "%s: the next attempt cannot be stored (%s): kept in memory",
		     prefix, err_str(rc));
}

int schedule_state_record(struct schedule_state *s, const struct schedule_bounds *b,
			  struct store *st, const char *prefix, int64_t now, int failed,
			  int64_t interval, int64_t jitter, long retry_after, uint64_t rnd,
			  int64_t *delay)
{
	int rc;

	if (failed) {
		state_fail(s, b, now, retry_after, rnd);
	} else {
		s->errors = 0;
		s->next = now + schedule_delay(b, interval, jitter, rnd);
	}
	rc = mirror(s, b, st, prefix, now, failed, rnd);
	*delay = s->next - now;
	return rc;
}

int schedule_state_reset(struct schedule_state *s, const struct schedule_bounds *b,
			 struct store *st, const char *prefix, int64_t now, uint64_t rnd)
{
	s->errors = 0;
	s->next = 0;
	return mirror(s, b, st, prefix, now, 0, rnd);
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
