/* tap — TAP output for the unit tests. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "tap.h"

static int passed, failed;

static int report(int ok, const char *file, int line, const char *expr)
{
	if (ok)
		passed++;
	else
		failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", passed + failed, expr);
	if (!ok)
		printf("#   at %s:%d\n", file, line);
	fflush(stdout);
	return ok;
}

int tap_check(int ok, const char *file, int line, const char *expr)
{
	return report(ok, file, line, expr);
}

int tap_check_int(long long a, const char *op, long long b,
		  const char *file, int line, const char *expr)
{
	int ok = strcmp(op, "==") == 0 ? a == b :
		 strcmp(op, "!=") == 0 ? a != b :
		 strcmp(op, "<") == 0 ? a < b :
		 strcmp(op, "<=") == 0 ? a <= b :
		 strcmp(op, ">") == 0 ? a > b :
		 strcmp(op, ">=") == 0 ? a >= b : 0;

	if (!report(ok, file, line, expr))
		printf("#   got %lld, want %s %lld\n", a, op, b);
	return ok;
}

int tap_check_str(const char *a, const char *b, const char *file, int line,
		  const char *expr)
{
	int ok = a && b ? strcmp(a, b) == 0 : a == b;

	if (!report(ok, file, line, expr))
		printf("#   got  \"%s\"\n#   want \"%s\"\n", a ? a : "(null)",
		       b ? b : "(null)");
	return ok;
}

int tap_check_mem(const void *a, size_t alen, const void *b, size_t blen,
		  const char *file, int line, const char *expr)
{
	int ok = alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);

	if (!report(ok, file, line, expr))
		printf("#   lengths %zu and %zu%s\n", alen, blen,
		       alen == blen ? ", contents differ" : "");
	return ok;
}

static FILE *cap_file;
static int cap_saved = -1;
static char cap_text[16384];

void tap_capture_begin(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cap_saved = dup(2);
	if (cap_file)
		dup2(fileno(cap_file), 2);
}

const char *tap_capture_end(void)
{
	size_t n = 0;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	if (cap_file) {
		rewind(cap_file);
		n = fread(cap_text, 1, sizeof(cap_text) - 1, cap_file);
		fclose(cap_file);
		cap_file = NULL;
	}
	cap_text[n] = '\0';
	return cap_text;
}

static int quiet_saved = -1;

void tap_quiet(int on)
{
	if (getenv("TAP_VERBOSE"))
		return;
	if (on && quiet_saved < 0) {
		int null = open("/dev/null", O_WRONLY);

		fflush(stderr);
		quiet_saved = dup(2);
		dup2(null, 2);
		close(null);
	} else if (!on && quiet_saved >= 0) {
		fflush(stderr);
		dup2(quiet_saved, 2);
		close(quiet_saved);
		quiet_saved = -1;
	}
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int tap_done(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed || !passed;
}

const char *tap_fixtures(void)
{
	const char *d = getenv("OUTPOST_FIXTURES");

	return d && *d ? d : "../shared/fixtures";
}

int tap_fixture(const char *rel, size_t max, struct buf *out)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", tap_fixtures(), rel);
	if (file_read(path, max, out)) {
		tap_diag("cannot read %s (the fixtures live in ../shared)", path);
		return -1;
	}
	return 0;
}
