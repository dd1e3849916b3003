/*
 * buf — the one growable byte buffer. Never NULL (an empty buffer points at
 * a static ""), always NUL-terminated, and capped at init: whatever is read
 * from the network or a bundle into a buf is bounded by construction.
 *
 * Its error is sticky: the first append that fails (E_LIMIT, E_NOMEM)
 * records its error, and every append after it does nothing and returns
 * that error, so the bytes are never a text with a hole in the middle.
 * Code that builds a document appends without a check per call and asks
 * buf_error() once at the end. Truncating (buf_truncate, buf_reset) gives a
 * prefix that is whole again and clears the error.
 */
#ifndef OUTPOST_BUF_H
#define OUTPOST_BUF_H

#include <stddef.h>

struct buf {
	char *data;     /* len bytes, then a NUL */
	size_t len;
	size_t cap;     /* allocated, 0 while data is the static "" */
	size_t max;     /* len never exceeds it */
	int err;        /* the first failed append's error, 0 while none failed */
};

extern char buf_empty[1];
#define BUF_INIT(limit) { buf_empty, 0, 0, (limit), 0 }

void buf_init(struct buf *b, size_t max);

/*
 * Append n bytes. E_LIMIT past max, E_NOMEM, or the error an earlier append
 * failed with; b's bytes are unchanged on failure.
 */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make room for n more bytes without changing len; fails as buf_add(). */
int buf_grow(struct buf *b, size_t n);

/* 0 while every append succeeded, else the first failure's error. */
static inline int buf_error(const struct buf *b)
{
	return b->err;
}

/* Truncate to len (<= b->len; a longer len keeps b as it is) and clear the
 * error: what is left was appended whole. */
void buf_truncate(struct buf *b, size_t len);
#define buf_reset(b) buf_truncate((b), 0)

/*
 * Hand the bytes over: returns a NUL-terminated heap string the caller frees
 * with mem_free() (NULL only on allocation failure) and leaves b empty.
 */
char *buf_detach(struct buf *b, size_t *len);

void buf_free(struct buf *b);

/*
 * error() (error.h), and the same sentence appended to why when it is not
 * NULL, for a caller that shows it elsewhere too (a status line, a test).
 */
int error_to(struct buf *why, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
