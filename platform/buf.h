/*
 * buf — the one growable byte buffer. Never NULL (an empty buffer points at
 * a static ""), always NUL-terminated, and capped at init: whatever is read
 * from the network or a bundle into a buf is bounded by construction.
 */
#ifndef OUTPOST_BUF_H
#define OUTPOST_BUF_H

#include <stddef.h>

struct buf {
	char *data;     /* len bytes, then a NUL */
	size_t len;
	size_t cap;     /* allocated, 0 while data is the static "" */
	size_t max;     /* len never exceeds it */
};

extern char buf_empty[1];
#define BUF_INIT(limit) { buf_empty, 0, 0, (limit) }

void buf_init(struct buf *b, size_t max);

/* Append n bytes. E_LIMIT past max, E_NOMEM; b is unchanged on failure. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make room for n more bytes without changing len. */
int buf_grow(struct buf *b, size_t n);

/* Truncate to len (<= b->len). */
void buf_truncate(struct buf *b, size_t len);
#define buf_reset(b) buf_truncate((b), 0)

/*
 * Hand the bytes over: returns a NUL-terminated heap string the caller frees
 * with mem_free() (NULL only on allocation failure) and leaves b empty.
 */
char *buf_detach(struct buf *b, size_t *len);

void buf_free(struct buf *b);

#endif
