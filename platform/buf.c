/* buf — capped growable buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "mem.h"

char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
}

int buf_grow(struct buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->err)
		return b->err;
	if (n > b->max - b->len)
		return b->err = E_LIMIT;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap > (size_t)-1 / 2 ? want : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = mem_realloc(b->cap ? b->data : NULL, cap, 1);
	if (!p)
		return b->err = E_NOMEM;
	if (!b->cap)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int rc = buf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->err)
		return b->err;
	if (n < 0)
		return b->err = E_FORMAT;
	rc = buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_truncate(struct buf *b, size_t len)
{
	b->err = 0;
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->cap ? b->data : mem_strdup("");

	if (len)
		*len = b->cap ? b->len : 0;
	buf_init(b, b->max);
	return p;
}

void buf_free(struct buf *b)
{
	if (b->cap)
		mem_free(b->data);
	buf_init(b, b->max);
}

int error_to(struct buf *why, int e, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (why)
		buf_addstr(why, msg);
	return error(e, "%s", msg);
}
