/* mem — checked allocation with fault injection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static unsigned long count, fail_at;

static int should_fail(void)
{
	count++;
	return fail_at && count >= fail_at;
}

void mem_fail_after(unsigned long n)
{
	fail_at = n ? count + n : 0;
}

unsigned long mem_allocations(void)
{
	return count;
}

void *mem_alloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (should_fail())
		return NULL;
	return malloc(n * size > 0 ? n * size : 1);
}

void *mem_zalloc(size_t n, size_t size)
{
	void *p = mem_alloc(n, size);

	if (p)
		memset(p, 0, n * size);
	return p;
}

void *mem_realloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (should_fail())
		return NULL;
	return realloc(p, n * size > 0 ? n * size : 1);
}

char *mem_strndup(const char *s, size_t len)
{
	char *d = mem_alloc(len + 1, 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

void mem_free(void *p)
{
	free(p);
}
