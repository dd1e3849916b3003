/* gzip — bounded inflate filter and deterministic compressor (see gzip.h). */
#define ZLIB_CONST
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "gzip.h"
#include "mem.h"

enum state { ST_RUN, ST_TAIL, ST_DONE };

struct gzip_reader {
	read_fn read;
	void *ctx;
	uint64_t max_out;       /* decompressed bytes allowed */
	uint64_t produced;      /* decompressed bytes given out */
	uint64_t consumed;      /* compressed bytes taken from the source */
	z_stream z;
	int err;                /* sticky: the first error */
	enum state state;
	int src_eof;
	char msg[256];
	unsigned char in[16384];
};

/* zlib allocates through mem_* so that mem_fail_after() reaches it. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	return mem_alloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	mem_free(p);
}

static int fail(struct gzip_reader *g, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct gzip_reader *g, int e, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(g->msg, sizeof(g->msg), "gzip: ");

	va_start(ap, fmt);
	vsnprintf(g->msg + n, sizeof(g->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	g->err = e;
	return error(e, "%s", g->msg);
}

/* The source reported its own failure: record it, do not log it twice. */
static int src_fail(struct gzip_reader *g, int rc)
{
	if (rc == E_INTERNAL)
		return fail(g, rc, "the source returned more bytes than asked");
	snprintf(g->msg, sizeof(g->msg), "gzip: reading the compressed "
		 "stream: %s", err_str(rc));
	g->err = rc;
	return rc;
}

/* Refill the input when it is empty. 0 (src_eof set at the end) or error. */
static int fill(struct gzip_reader *g)
{
	int k;

	if (g->z.avail_in || g->src_eof)
		return 0;
	k = g->read(g->ctx, g->in, sizeof(g->in));
	if (k < 0)
		return src_fail(g, k);
	if ((size_t)k > sizeof(g->in))
		return src_fail(g, E_INTERNAL);
	if (k == 0)
		g->src_eof = 1;
	g->z.next_in = g->in;
	g->z.avail_in = (uInt)k;
	g->consumed += (uInt)k;
	return 0;
}

int gzip_reader_new(struct gzip_reader **out, read_fn read, void *ctx,
		    uint64_t max_out)
{
	struct gzip_reader *g;
	int zr;

	*out = NULL;
	g = mem_zalloc(1, sizeof(*g));
	if (!g)
		return error(E_NOMEM, "gzip: out of memory");
	g->read = read;
	g->ctx = ctx;
	g->max_out = max_out;
	g->z.zalloc = z_alloc;
	g->z.zfree = z_free;
	/* 16 + MAX_WBITS: a gzip wrapper only, checked CRC-32 and length. */
	zr = inflateInit2(&g->z, 16 + MAX_WBITS);
	if (zr != Z_OK) {
		mem_free(g);
		if (zr == Z_MEM_ERROR)
			return error(E_NOMEM, "gzip: out of memory");
		return error(E_INTERNAL, "gzip: inflateInit2 failed (%d)", zr);
	}
	*out = g;
	return 0;
}

void gzip_reader_free(struct gzip_reader *g)
{
	if (!g)
		return;
	inflateEnd(&g->z);
	mem_free(g);
}

const char *gzip_reader_error(const struct gzip_reader *g)
{
	return g->msg;
}

/* The member ended: nothing may follow it. 0 or error. */
static int check_tail(struct gzip_reader *g)
{
	unsigned char head[2];
	size_t n = 0;

	while (n < sizeof(head)) {
		int rc = fill(g);

		if (rc)
			return rc;
		if (!g->z.avail_in)
			break;
		head[n++] = *g->z.next_in++;
		g->z.avail_in--;
	}
	if (n == 2 && head[0] == 0x1f && head[1] == 0x8b)
		return fail(g, E_FORMAT, "a second gzip member follows the "
			    "first (concatenated gzip streams are refused)");
	if (n)
		return fail(g, E_FORMAT, "trailing data after the gzip stream "
			    "(at compressed offset %llu)",
			    (unsigned long long)(g->consumed - g->z.avail_in - n));
	g->state = ST_DONE;
	return 0;
}

/* The first bytes must be the gzip magic: say so rather than zlib's words. */
static int check_magic(struct gzip_reader *g)
{
	int rc;

	while (g->z.avail_in < 2 && !g->src_eof) {
		/* Gather two bytes even from a source giving one at a time. */
		if (g->z.avail_in == 1) {
			int k;

			g->in[0] = *g->z.next_in;
			k = g->read(g->ctx, g->in + 1, sizeof(g->in) - 1);
			if (k < 0)
				return src_fail(g, k);
			if ((size_t)k > sizeof(g->in) - 1)
				return src_fail(g, E_INTERNAL);
			if (k == 0)
				g->src_eof = 1;
			g->z.next_in = g->in;
			g->z.avail_in = 1 + (uInt)k;
			g->consumed += (uInt)k;
		} else {
			rc = fill(g);
			if (rc)
				return rc;
		}
	}
	if (g->z.avail_in < 2)
		return fail(g, E_TRUNCATED, "truncated: the stream ends before "
			    "the gzip header");
	if (g->z.next_in[0] != 0x1f || g->z.next_in[1] != 0x8b)
		return fail(g, E_FORMAT, "not gzip data (no 1f 8b magic)");
	return 0;
}

int gzip_read(void *ctx, void *buf, size_t len)
{
	struct gzip_reader *g = ctx;
	int rc;

	if (g->err)
		return g->err;
	if (g->state == ST_DONE)
		return 0;
	if (g->state == ST_TAIL)
		return check_tail(g);
	if (len == 0)
		return 0;
	if (len > INT_MAX)
		len = INT_MAX;
	if (g->consumed == 0) {
		rc = check_magic(g);
		if (rc)
			return rc;
	}
	for (;;) {
		unsigned char one;
		uint64_t room = g->max_out - g->produced;
		uInt avail;
		size_t got;
		int zr;

		rc = fill(g);
		if (rc)
			return rc;
		if (room == 0) {
			/* At the cap: one byte more is a refusal. */
			g->z.next_out = &one;
			avail = 1;
		} else {
			g->z.next_out = buf;
			avail = (uInt)(len < room ? len : room);
		}
		g->z.avail_out = avail;
		zr = inflate(&g->z, Z_NO_FLUSH);
		got = avail - g->z.avail_out;
		if (room == 0 && got)
			return fail(g, E_LIMIT, "more than %llu bytes once "
				    "decompressed (the cap)",
				    (unsigned long long)g->max_out);
		g->produced += got;
		switch (zr) {
		case Z_STREAM_END:
			g->state = ST_TAIL;
			return got ? (int)got : check_tail(g);
		case Z_OK:
			if (got)
				return (int)got;
			break;
		case Z_BUF_ERROR:
			/* No progress: it needs input that is not coming. */
			if (got)
				return (int)got;
			if (g->z.avail_in)
				return fail(g, E_INTERNAL, "inflate made no "
					    "progress");
			if (g->src_eof)
				return fail(g, E_TRUNCATED, "truncated: the stream "
					    "ends after %llu bytes, inside the "
					    "compressed data or its trailer",
					    (unsigned long long)g->consumed);
			break;
		case Z_MEM_ERROR:
			return fail(g, E_NOMEM, "out of memory");
		case Z_DATA_ERROR:
		case Z_NEED_DICT:
			return fail(g, E_FORMAT, "corrupt data at compressed offset "
				    "%llu: %s",
				    (unsigned long long)(g->consumed - g->z.avail_in),
				    g->z.msg ? g->z.msg : "needs a dictionary");
		default:
			return fail(g, E_INTERNAL, "inflate failed (%d)", zr);
		}
	}
}

int gzip_compress(struct buf *out, const void *data, size_t len)
{
	z_stream z;
	gz_header hd;
	size_t before = out->len, left = len;
	int zr, rc = 0;

	memset(&z, 0, sizeof(z));
	memset(&hd, 0, sizeof(hd));
	z.zalloc = z_alloc;
	z.zfree = z_free;
	zr = deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	if (zr != Z_OK)
		return error(zr == Z_MEM_ERROR ? E_NOMEM : E_INTERNAL,
			     "gzip: cannot start compressing: %s",
			     zr == Z_MEM_ERROR ? "out of memory" : "deflateInit2 failed");
	/* Fixed header fields: no name, mtime 0, and the OS byte said once. */
	hd.os = 3;
	deflateSetHeader(&z, &hd);
	z.next_in = data;
	for (;;) {
		size_t want = out->max - out->len, got;
		int flush;

		if (!z.avail_in && left) {
			uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;

			z.avail_in = chunk;
			left -= chunk;
		}
		flush = left ? Z_NO_FLUSH : Z_FINISH;
		if (want == 0) {
			rc = E_LIMIT;
			break;
		}
		rc = buf_grow(out, want < 65536 ? want : 65536);
		if (rc)
			break;
		want = out->cap - out->len - 1;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = want > UINT_MAX ? UINT_MAX : (uInt)want;
		got = z.avail_out;
		zr = deflate(&z, flush);
		got -= z.avail_out;
		out->len += got;
		out->data[out->len] = '\0';
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = E_INTERNAL;
			break;
		}
	}
	deflateEnd(&z);
	if (rc) {
		buf_truncate(out, before);
		return error(rc, "gzip: cannot compress %zu bytes: %s", len,
			     err_str(rc));
	}
	return 0;
}
