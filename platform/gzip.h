/*
 * gzip — gzip-compressed bundles: a bounded streaming inflate filter with
 * the same read-callback shape as the tar reader's source, so it sits
 * between the file or network source and tar_reader_new(); a way to tell
 * whether a stream is gzip without losing its first bytes; and the
 * deterministic compressor of `outpost bundle pack`.
 *
 * The input is hostile. The filter refuses (each with its own message):
 * a stream that does not start with the gzip magic; more decompressed
 * bytes than the cap (checked before inflating past it, so a bomb costs
 * about cap bytes of work); a stream that ends before the gzip trailer
 * (E_TRUNCATED); a bad CRC, length or deflate data (E_FORMAT); and any
 * byte after the first gzip member: trailing garbage, and also a second
 * concatenated member (what `cat a.gz b.gz` makes) — our packer writes one
 * member, and a bundle has no reason to hold two.
 *
 * Compiled only with CONFIG_GZIP. Without it the functions below are
 * inline fallbacks that return E_UNSUPPORTED with a clear message, and
 * gzip_peek_*() still work, so callers carry no #ifdef and can say "this
 * bundle is gzip-compressed and this build cannot read it".
 */
#ifndef OUTPOST_GZIP_H
#define OUTPOST_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "features.h"

#ifndef OUTPOST_READ_FN
#define OUTPOST_READ_FN
/*
 * A pull source (also in tar.h): put up to len bytes in buf and return how
 * many (at least 1), 0 at the end of the stream, or a negative enum err.
 * Callers never ask for more than INT_MAX bytes.
 */
typedef int (*read_fn)(void *ctx, void *buf, size_t len);
#endif

/*
 * Peek at a stream's first two bytes and replay them. gzip_peek_init()
 * returns 1 when the stream starts with the gzip magic (1f 8b), 0 when
 * not (also for a stream shorter than two bytes), or the source's error.
 * Then read the whole stream, first bytes included, with
 * gzip_peek_read(p, ...), a read_fn. p owns nothing; it may live on the
 * stack for as long as it is read from.
 */
struct gzip_peek {
	read_fn read;
	void *ctx;
	unsigned char head[2];
	size_t n, off;          /* bytes held in head, bytes replayed */
};

static inline int gzip_peek_init(struct gzip_peek *p, read_fn read, void *ctx)
{
	p->read = read;
	p->ctx = ctx;
	p->n = p->off = 0;
	while (p->n < sizeof(p->head)) {
		int k = read(ctx, p->head + p->n, sizeof(p->head) - p->n);

		if (k < 0)
			return k;
		if (k == 0)
			break;
		if ((size_t)k > sizeof(p->head) - p->n)
			return E_INTERNAL;
		p->n += (size_t)k;
	}
	return p->n == 2 && p->head[0] == 0x1f && p->head[1] == 0x8b;
}

static inline int gzip_peek_read(void *ctx, void *buf, size_t len)
{
	struct gzip_peek *p = ctx;
	size_t k = p->n - p->off;

	if (k == 0)
		return p->read(p->ctx, buf, len);
	if (k > len)
		k = len;
	for (size_t i = 0; i < k; i++)
		((unsigned char *)buf)[i] = p->head[p->off + i];
	p->off += k;
	return (int)k;
}

struct gzip_reader;

#if IS_ENABLED(CONFIG_GZIP)

/*
 * An inflate filter pulling gzip data from read(ctx, ...), giving at most
 * max_out decompressed bytes. Returns 0 and sets *out, or E_NOMEM. Read
 * with gzip_read(*out, ...); free with gzip_reader_free(). The source
 * stays the caller's.
 */
int gzip_reader_new(struct gzip_reader **out, read_fn read, void *ctx,
		    uint64_t max_out);

/*
 * A read_fn (ctx is the gzip_reader): up to len decompressed bytes, 0
 * once the member ended, its CRC and length matched and the source ended
 * right after it; or E_FORMAT, E_TRUNCATED, E_LIMIT, E_NOMEM, or the
 * source's error. Errors are sticky.
 */
int gzip_read(void *ctx, void *buf, size_t len);

/* The last refusal ("gzip: why"), or "" when none. */
const char *gzip_reader_error(const struct gzip_reader *g);

/* Accepts NULL. */
void gzip_reader_free(struct gzip_reader *g);

/*
 * Append len bytes of data, gzip-compressed, to out: level 9, mtime 0, no
 * name, OS byte 3 (Unix), so the same input and zlib version give the same
 * bytes. Returns 0, E_LIMIT (out->max), E_NOMEM; out is unchanged on error.
 */
int gzip_compress(struct buf *out, const void *data, size_t len);

#else

static inline int gzip_unsupported(void)
{
	return error(E_UNSUPPORTED, "gzip: this build cannot read or write "
		     "gzip-compressed bundles (CONFIG_GZIP is off); use a plain "
		     "tar bundle");
}

static inline int gzip_reader_new(struct gzip_reader **out, read_fn read,
				  void *ctx, uint64_t max_out)
{
	(void)read;
	(void)ctx;
	(void)max_out;
	*out = NULL;
	return gzip_unsupported();
}

static inline int gzip_read(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return E_UNSUPPORTED;
}

static inline const char *gzip_reader_error(const struct gzip_reader *g)
{
	(void)g;
	return "gzip: compiled out (CONFIG_GZIP is off)";
}

static inline void gzip_reader_free(struct gzip_reader *g)
{
	(void)g;
}

static inline int gzip_compress(struct buf *out, const void *data, size_t len)
{
	(void)out;
	(void)data;
	(void)len;
	return gzip_unsupported();
}

#endif
#endif
