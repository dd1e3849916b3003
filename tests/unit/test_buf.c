/* Unit tests: platform/buf and platform/mem. */
#include <string.h>

#include "buf.h"
#include "error.h"
#include "mem.h"
#include "tap.h"

static void test_empty(void)
{
	struct buf b = BUF_INIT(16);

	check(b.data != NULL);
	check_str(b.data, "");
	buf_free(&b);
	check_str(b.data, "");
}

static void test_cap(void)
{
	struct buf b = BUF_INIT(8);

	check_int(buf_addstr(&b, "1234"), ==, 0);
	check_int(buf_addstr(&b, "5678"), ==, 0);
	check_int(b.len, ==, 8);
	/* one byte past the cap is refused and changes nothing */
	check_int(buf_addch(&b, 'x'), ==, E_LIMIT);
	check_int(b.len, ==, 8);
	check_str(b.data, "12345678");
	check_int(buf_addf(&b, "%d", 1), ==, E_LIMIT);
	check_str(b.data, "12345678");
	buf_free(&b);
}

static void test_addf_and_detach(void)
{
	struct buf b = BUF_INIT(1 << 20);
	size_t len;
	char *s;

	int rc = 0;

	for (int i = 0; i < 1000 && !rc; i++)
		rc = buf_addf(&b, "%04d,", i);
	check_int(rc, ==, 0);
	check_int(b.len, ==, 5000);
	check(memcmp(b.data + 4995, "0999,", 5) == 0);
	s = buf_detach(&b, &len);
	check_int(len, ==, 5000);
	check_int(strlen(s), ==, 5000);
	check_int(b.len, ==, 0);
	check_str(b.data, "");
	mem_free(s);
	s = buf_detach(&b, &len);   /* detaching an empty buffer gives "" */
	check_str(s, "");
	check_int(len, ==, 0);
	mem_free(s);
}

static void test_truncate(void)
{
	struct buf b = BUF_INIT(64);

	buf_addstr(&b, "hello world");
	buf_truncate(&b, 5);
	check_str(b.data, "hello");
	buf_truncate(&b, 50);   /* longer than len: no change */
	check_str(b.data, "hello");
	buf_reset(&b);
	check_str(b.data, "");
	buf_free(&b);
}

/* Every allocation failure leaves the buffer as it was. */
static void test_alloc_failure(void)
{
	struct buf b = BUF_INIT(1 << 16);
	int failures = 0;

	for (unsigned long n = 1; n < 20; n++) {
		buf_reset(&b);
		mem_fail_after(n);
		for (int i = 0; i < 100; i++) {
			size_t before = b.len;
			int rc = buf_addstr(&b, "0123456789abcdef");

			if (rc) {
				failures++;
				check_int(rc, ==, E_NOMEM);
				check_int(b.len, ==, before);
				check_int(strlen(b.data), ==, before);
				break;
			}
		}
		mem_fail_after(0);
	}
	check(failures > 0);
	buf_free(&b);
}

/* The first failure sticks: later appends, even small ones that would fit,
 * are refused with it, so a document with a hole is never built. */
static void test_sticky_error(void)
{
	struct buf b = BUF_INIT(8);

	check_int(buf_error(&b), ==, 0);
	check_int(buf_addstr(&b, "head"), ==, 0);
	check_int(buf_addstr(&b, "too long"), ==, E_LIMIT);
	check_int(buf_error(&b), ==, E_LIMIT);
	check_int(buf_addch(&b, '!'), ==, E_LIMIT);
	check_int(buf_addf(&b, "%d", 7), ==, E_LIMIT);
	check_int(buf_add(&b, "x", 1), ==, E_LIMIT);
	check_int(buf_grow(&b, 1), ==, E_LIMIT);
	check_str(b.data, "head");
	/* a truncated prefix is whole: the error is cleared */
	buf_truncate(&b, 2);
	check_int(buf_error(&b), ==, 0);
	check_int(buf_addstr(&b, "lp"), ==, 0);
	check_str(b.data, "help");
	check_int(buf_addstr(&b, "123456"), ==, E_LIMIT);
	buf_reset(&b);
	check_int(buf_error(&b), ==, 0);
	check_int(buf_addstr(&b, "again"), ==, 0);
	buf_free(&b);
	check_int(buf_error(&b), ==, 0);

	/* out of memory sticks the same way */
	mem_fail_after(1);
	check_int(buf_addstr(&b, "abc"), ==, E_NOMEM);
	mem_fail_after(0);
	check_int(buf_addstr(&b, "abc"), ==, E_NOMEM);
	check_int(buf_error(&b), ==, E_NOMEM);
	check_str(b.data, "");
	buf_free(&b);
	check_int(buf_addstr(&b, "abc"), ==, 0);
	buf_free(&b);
}

static void test_mem_overflow(void)
{
	check(mem_alloc((size_t)-1 / 2, 4) == NULL);
	check(mem_realloc(NULL, (size_t)-1, 2) == NULL);
}

int main(void)
{
	test_empty();
	test_cap();
	test_addf_and_detach();
	test_truncate();
	test_alloc_failure();
	test_sticky_error();
	test_mem_overflow();
	return tap_done();
}
