/*
 * mem — every allocation of outpost goes through here: sizes are
 * overflow-checked, and tests can make the N-th allocation fail to prove
 * that each failure path is clean.
 */
#ifndef OUTPOST_MEM_H
#define OUTPOST_MEM_H

#include <stddef.h>

/* malloc(n * size); NULL on overflow or exhaustion. Free with mem_free(). */
void *mem_alloc(size_t n, size_t size);
/* The same, zeroed. */
void *mem_zalloc(size_t n, size_t size);
/* Resize p to n * size; on failure p is left as it was and NULL returned. */
void *mem_realloc(void *p, size_t n, size_t size);
/* A copy of the first len bytes of s, NUL-terminated. */
char *mem_strndup(const char *s, size_t len);
char *mem_strdup(const char *s);
void mem_free(void *p);

/*
 * Fault injection: after mem_fail_after(n), the n-th allocation from now
 * (counting from 1) and every one after it fail until mem_fail_after(0).
 * mem_allocations() counts allocations since start, for tests that want to
 * walk every failure point.
 */
void mem_fail_after(unsigned long n);
unsigned long mem_allocations(void);

#endif
