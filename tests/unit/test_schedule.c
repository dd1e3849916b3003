/* Unit tests: agent/gateway/schedule (poll delays, backoff, Retry-After, windows,
 * rollout cohorts) and the bundle URL resolution of agent/gateway/fetch. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fetch.h"
#include "log.h"
#include "schedule.h"
#include "tap.h"

static const struct schedule_bounds B = { 60, 3600, 300 };

/* A small deterministic generator: the tests draw many "random" numbers. */
static uint64_t state = 88172645463325252ull;

static uint64_t xorshift(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static void test_interval(void)
{
	check_int(schedule_interval(&B, 0), ==, 300);
	check_int(schedule_interval(&B, 120), ==, 120);
	check_int(schedule_interval(&B, 1), ==, 60);          /* cannot hammer */
	check_int(schedule_interval(&B, 999999), ==, 3600);   /* cannot silence */
	check_int(schedule_interval(&B, -5), ==, 300);
}

static void test_jitter(void)
{
	int64_t lo = 1 << 30, hi = 0;

	for (int i = 0; i < 10000; i++) {
		int64_t d = schedule_delay(&B, 300, 60, xorshift());

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	check_int(lo, ==, 300);                 /* jitter only adds */
	check_int(hi, ==, 360);                 /* ... at most the jitter */
	check_int(schedule_delay(&B, 300, 0, 12345), ==, 300);
	/* jitter at the top: the window is moved down to end at max */
	lo = 1 << 30, hi = 0;
	for (int i = 0; i < 10000; i++) {
		int64_t d = schedule_delay(&B, 3600, 600, xorshift());

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	check_int(hi, ==, 3600);
	check_int(lo, ==, 3000);
	/* a huge jitter is bounded by the interval, never below min */
	lo = 1 << 30, hi = 0;
	for (int i = 0; i < 10000; i++) {
		int64_t d = schedule_delay(&B, 60, 100000, xorshift());

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	check_int(lo, ==, 60);
	check_int(hi, ==, 120);
	/* min == max leaves no room for jitter */
	{
		struct schedule_bounds one = { 100, 100, 100 };

		check_int(schedule_delay(&one, 50, 50, 777), ==, 100);
	}
}

static void test_backoff(void)
{
	int64_t prev_hi = 0;

	/* the first error waits min; then the window doubles up to max */
	check_int(schedule_backoff(&B, 1, 0), ==, 60);
	check_int(schedule_backoff(&B, 1, ~0ull), ==, 60);
	for (unsigned e = 1; e <= 12; e++) {
		int64_t lo = 1 << 30, hi = 0, ceiling = 60;

		for (unsigned i = 1; i < e && ceiling < 3600; i++)
			ceiling *= 2;
		ceiling = ceiling > 3600 ? 3600 : ceiling;
		for (int i = 0; i < 20000; i++) {
			int64_t d = schedule_backoff(&B, e, xorshift());

			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		tap_diag("backoff after %2u errors: %4lld..%4lld s", e, (long long)lo,
			 (long long)hi);
		check_int(hi, ==, ceiling);
		check_int(lo, >=, ceiling / 2 > 60 ? ceiling / 2 : 60);
		check_int(lo, >=, 60);
		check_int(hi, >=, prev_hi);             /* grows, never shrinks */
		check_int(hi, <=, 3600);                /* bounded: never stops polling */
		prev_hi = hi;
	}
	check_int(schedule_backoff(&B, 1000, ~0ull), <=, 3600);
	check_int(schedule_backoff(&B, 0, 5), ==, 60);
	/* a spread, not one value: a fleet does not retry in lockstep */
	{
		int64_t a = schedule_backoff(&B, 5, 1), b = schedule_backoff(&B, 5, 400);

		check(a != b);
	}
}

static void test_retry_after(void)
{
	check_int(schedule_retry(&B, 1, 120, 0), ==, 120);     /* honoured */
	check_int(schedule_retry(&B, 1, 999999, 0), ==, 3600);  /* clamped to max */
	check_int(schedule_retry(&B, 1, 5, 0), ==, 60);         /* not below backoff */
	check_int(schedule_retry(&B, 1, -1, 0), ==, 60);        /* absent: backoff */
	check_int(schedule_retry(&B, 6, 120, 0), >=, 960);      /* backoff is longer */
	check_int(schedule_retry(&B, 6, 3000, 0), ==, 3000);
}

/* 2026-11-26 00:00:00 UTC, a Thursday. */
#define DAY0 1795651200LL
#define AT(h, m) (DAY0 + (h) * 3600LL + (m) * 60LL)

static void test_window(void)
{
	struct schedule_window none = { 0 };
	struct schedule_window night = { 1, 60, 240, 0 };        /* 01:00-04:00 UTC */
	struct schedule_window cross = { 1, 22 * 60, 2 * 60, 0 }; /* 22:00-02:00 */
	struct schedule_window paris = { 1, 60, 240, 60 };       /* 01:00-04:00 +01:00 */
	struct schedule_window west = { 1, 22 * 60, 60, -300 };  /* 22:00-01:00 -05:00 */

	check_int(schedule_in_window(&none, AT(12, 0)), ==, 1);
	check_int(schedule_window_wait(&none, AT(12, 0)), ==, 0);
	check_int(schedule_in_window(&night, AT(0, 59)), ==, 0);
	check_int(schedule_in_window(&night, AT(1, 0)), ==, 1);  /* start is inside */
	check_int(schedule_in_window(&night, AT(3, 59)), ==, 1);
	check_int(schedule_in_window(&night, AT(4, 0)), ==, 0);  /* end is not */
	check_int(schedule_window_wait(&night, AT(0, 30)), ==, 1800);
	check_int(schedule_window_wait(&night, AT(4, 0)), ==, 21 * 3600);
	check_int(schedule_window_wait(&night, AT(2, 0)), ==, 0);
	/* crossing midnight */
	check_int(schedule_in_window(&cross, AT(21, 59)), ==, 0);
	check_int(schedule_in_window(&cross, AT(22, 0)), ==, 1);
	check_int(schedule_in_window(&cross, AT(23, 59)), ==, 1);
	check_int(schedule_in_window(&cross, AT(0, 0)), ==, 1);
	check_int(schedule_in_window(&cross, AT(1, 59)), ==, 1);
	check_int(schedule_in_window(&cross, AT(2, 0)), ==, 0);
	check_int(schedule_in_window(&cross, AT(12, 0)), ==, 0);
	check_int(schedule_window_wait(&cross, AT(12, 0)), ==, 10 * 3600);
	check_int(schedule_window_wait(&cross, AT(2, 0)), ==, 20 * 3600);
	/* +01:00: 01:00-04:00 local is 00:00-03:00 UTC */
	check_int(schedule_in_window(&paris, AT(23, 59) - 86400), ==, 0);
	check_int(schedule_in_window(&paris, AT(0, 0)), ==, 1);
	check_int(schedule_in_window(&paris, AT(2, 59)), ==, 1);
	check_int(schedule_in_window(&paris, AT(3, 0)), ==, 0);
	check_int(schedule_window_wait(&paris, AT(3, 0)), ==, 21 * 3600);
	/* -05:00, crossing midnight local: 22:00-01:00 local is 03:00-06:00 UTC */
	check_int(schedule_in_window(&west, AT(2, 59)), ==, 0);
	check_int(schedule_in_window(&west, AT(3, 0)), ==, 1);
	check_int(schedule_in_window(&west, AT(5, 59)), ==, 1);
	check_int(schedule_in_window(&west, AT(6, 0)), ==, 0);
	check_int(schedule_window_wait(&west, AT(6, 0)), ==, 21 * 3600);
	/* a clock in 1970 (no RTC) still computes */
	check_int(schedule_in_window(&night, 3600), ==, 1);
	check_int(schedule_in_window(&west, 0), ==, 0);
}

static void test_cohort(void)
{
	static char in10[1000];
	char id[32];
	int n10 = 0, n50 = 0, kept = 1, n0 = 0, n100 = 0;

	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "gw-%04d", i);
		in10[i] = (char)schedule_in_cohort(id, "web-42", 10);
		n10 += in10[i];
		n0 += schedule_in_cohort(id, "web-42", 0);
		n100 += schedule_in_cohort(id, "web-42", 100);
	}
	for (int i = 0; i < 1000; i++) {
		int in50;

		snprintf(id, sizeof(id), "gw-%04d", i);
		in50 = schedule_in_cohort(id, "web-42", 50);
		n50 += in50;
		if (in10[i] && !in50)
			kept = 0;
	}
	tap_diag("cohort of 1000 devices: %d at 10%%, %d at 50%%", n10, n50);
	check_int(n10, >=, 70);                 /* 100 +- 3 % of the fleet */
	check_int(n10, <=, 130);
	check_int(n50, >=, 450);
	check_int(n50, <=, 550);
	check(kept);                            /* widening keeps every member */
	check_int(n0, ==, 0);
	check_int(n100, ==, 1000);
	/* stable for a device and a salt; another salt draws another cohort */
	check_int(schedule_cohort_bucket("gw-0001", "a"), ==,
		  schedule_cohort_bucket("gw-0001", "a"));
	{
		int same = 0;

		for (int i = 0; i < 100; i++) {
			snprintf(id, sizeof(id), "gw-%04d", i);
			same += schedule_cohort_bucket(id, "a") == schedule_cohort_bucket(id, "b");
		}
		check_int(same, <, 20);
	}
	/* known answer: sha256("gw-0001:web-42") mod 100, from Python:
	 * int(hashlib.sha256(b"gw-0001:web-42").hexdigest(), 16) % 100 */
	check_int(schedule_cohort_bucket("gw-0001", "web-42"), ==, 18);
}

static void resolves(const char *base, const char *ref, const char *want)
{
	struct buf out = BUF_INIT(8192);
	int rc = fetch_url_resolve(base, ref, &out);

	check_int(rc, ==, 0);
	check_str(out.data, want);
	buf_free(&out);
}

static void refuses(const char *base, const char *ref)
{
	struct buf out = BUF_INIT(8192);

	check_int(fetch_url_resolve(base, ref, &out), ==, E_FORMAT);
	buf_free(&out);
}

static void test_urls(void)
{
	const char *p = "https://releases.test:8443/fleet/channels/web/release.yaml";

	resolves(p, "../../bundles/web-42.bundle", "https://releases.test:8443/fleet/bundles/web-42.bundle");
	resolves(p, "web-42.bundle", "https://releases.test:8443/fleet/channels/web/web-42.bundle");
	resolves(p, "./b/./c.bundle", "https://releases.test:8443/fleet/channels/web/b/c.bundle");
	resolves(p, "/other/x.bundle", "https://releases.test:8443/other/x.bundle");
	resolves(p, "../../../../../../x", "https://releases.test:8443/x");  /* not above the root */
	resolves(p, "a/../../b", "https://releases.test:8443/fleet/channels/b");
	resolves(p, "..", "https://releases.test:8443/fleet/channels/");
	resolves(p, "x.bundle?sig=abc#frag", "https://releases.test:8443/fleet/channels/web/x.bundle?sig=abc");
	resolves(p, "//cdn.test/b/x.bundle", "https://cdn.test/b/x.bundle");
	resolves(p, "https://cdn.test/b/x.bundle", "https://cdn.test/b/x.bundle");
	resolves(p, "HTTP://cdn.test/x", "HTTP://cdn.test/x");
	resolves(p, "?v=2", "https://releases.test:8443/fleet/channels/web/release.yaml?v=2");
	resolves("http://h/c/release.yaml?x=1", "../b.bundle", "http://h/b.bundle");
	resolves("http://h", "b.bundle", "http://h/b.bundle");
	resolves("http://h/a/b/", "c", "http://h/a/b/c");
	resolves("http://h/a/b/", "c/.", "http://h/a/b/c/");
	resolves("http://h/a/b/", "c//d", "http://h/a/b/c//d");
	refuses(p, "ftp://h/x.bundle");
	refuses(p, "file:///etc/passwd");
	refuses(p, "javascript:alert(1)");
	refuses("ftp://h/release.yaml", "x.bundle");
	{
		struct buf small = BUF_INIT(16);

		check_int(fetch_url_resolve(p, "../../bundles/web-42.bundle", &small), ==, E_LIMIT);
		buf_free(&small);
	}
}

int main(void)
{
	log_set_level(LOG_OFF);
	test_interval();
	test_jitter();
	test_backoff();
	test_retry_after();
	test_window();
	test_cohort();
	test_urls();
	return tap_done();
}
