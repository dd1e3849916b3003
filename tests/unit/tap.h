/*
 * tap — the unit-test harness: TAP lines, checks that print both sides on
 * failure, and a last line "N passed, N failed". No framework.
 *
 *   check(cond);                      ok N - cond
 *   check_int(got, ==, want);         prints both numbers when false
 *   check_str(got, want);             prints both strings when different
 *   return tap_done();                exit status: 0 only if all passed
 */
#ifndef OUTPOST_TAP_H
#define OUTPOST_TAP_H

#include <stddef.h>

int tap_check(int ok, const char *file, int line, const char *expr);
int tap_check_int(long long a, const char *op, long long b,
		  const char *file, int line, const char *expr);
int tap_check_str(const char *a, const char *b, const char *file, int line,
		  const char *expr);
int tap_check_mem(const void *a, size_t alen, const void *b, size_t blen,
		  const char *file, int line, const char *expr);
/*
 * Capture what is written to stderr (error() and the log) between
 * tap_capture_begin() and tap_capture_end(), which returns it (the first
 * 16 KiB; valid until the next capture), so tests can check messages.
 */
void tap_capture_begin(void);
const char *tap_capture_end(void);

/*
 * tap_quiet(1) silences stderr (the log) for loops that fail on purpose
 * many times, tap_quiet(0) restores it; TAP_VERBOSE=1 keeps it on.
 */
void tap_quiet(int on);

/*
 * The fixtures that record real systems: ../shared/fixtures from the
 * project root, where the tests run, or $OUTPOST_FIXTURES. tap_fixture()
 * appends the file rel below it (at most max bytes) to out: 0, or -1 with a
 * comment line naming the path when it cannot be read.
 */
struct buf;
const char *tap_fixtures(void);
int tap_fixture(const char *rel, size_t max, struct buf *out);

/* A comment line "# ..." between checks. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);

#define check(c) tap_check(!!(c), __FILE__, __LINE__, #c)
/* Each side is evaluated once; op is one of == != < <= > >=. */
#define check_int(a, op, b) \
	tap_check_int((long long)(a), #op, (long long)(b), \
		      __FILE__, __LINE__, #a " " #op " " #b)
#define check_str(a, b) tap_check_str((a), (b), __FILE__, __LINE__, #a " == " #b)
#define check_mem(a, alen, b, blen) \
	tap_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__, #a " == " #b)

#endif
