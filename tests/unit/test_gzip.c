/*
 * Unit tests: platform/gzip, alone and under the tar reader. Compressed
 * streams come from our compressor or, for the bomb and as an independent
 * check, from zlib directly here; nothing is a binary fixture.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "features.h"
#include "gzip.h"
#include "mem.h"
#include "tap.h"
#include "tar.h"

/* --- sources ------------------------------------------------------------- */

enum mode { WHOLE, BYTE, CHUNKS };

struct src {
	const unsigned char *p;
	size_t len, off;
	enum mode mode;
	unsigned long seed;
};

static int src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->off;

	if (n > len)
		n = len;
	if (s->mode == BYTE && n > 1)
		n = 1;
	if (s->mode == CHUNKS && n > 1) {
		s->seed = s->seed * 1103515245 + 12345;   /* fixed seed */
		n = 1 + (s->seed >> 8) % n;
		if (n > 3000)
			n = 1 + n % 3000;
	}
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (int)n;
}

static struct src src_of(const struct buf *b, enum mode mode)
{
	struct src s = { (const unsigned char *)b->data, b->len, 0, mode, 7 };

	return s;
}

/* --- helpers ------------------------------------------------------------- */

/*
 * Inflate all of gz through our reader with a cap, into out (may be NULL:
 * count only). Returns the final code; *total counts the bytes given out.
 */
static int gunzip(struct src *s, uint64_t cap, struct buf *out, size_t *total,
		  char *msg, size_t msglen)
{
	struct gzip_reader *g;
	unsigned char chunk[4099];
	int rc, k;

	*total = 0;
	rc = gzip_reader_new(&g, src_read, s, cap);
	if (rc)
		return rc;
	while ((k = gzip_read(g, chunk, 1 + *total % sizeof(chunk))) > 0) {
		*total += (size_t)k;
		if (out && buf_add(out, chunk, (size_t)k)) {
			k = E_LIMIT;
			break;
		}
	}
	if (msg)
		snprintf(msg, msglen, "%s", gzip_reader_error(g));
	gzip_reader_free(g);
	return k;
}

static void expect_refusal(const struct buf *gz, uint64_t cap, int e,
			   const char *why, const char *what)
{
	char msg[300];
	size_t total;

	for (int m = WHOLE; m <= BYTE; m++) {
		struct src s = src_of(gz, (enum mode)m);

		tap_quiet(1);
		check_int(gunzip(&s, cap, NULL, &total, msg, sizeof(msg)), ==, e);
		tap_quiet(0);
		if (m == WHOLE)
			tap_diag("%s: %s", what, msg);
		if (!check(strstr(msg, why) != NULL))
			tap_diag("want '%s' in '%s'", why, msg);
	}
}

/* An independent inflate (zlib with its own allocator): 0 or -1. */
static int zlib_gunzip(const struct buf *gz, struct buf *out)
{
	z_stream z;
	unsigned char chunk[8192];
	int zr;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)gz->data;
	z.avail_in = (uInt)gz->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		buf_add(out, chunk, sizeof(chunk) - z.avail_out);
	} while (zr == Z_OK);
	inflateEnd(&z);
	return zr == Z_STREAM_END && z.avail_in == 0 ? 0 : -1;
}

/* n zero bytes gzip-compressed by zlib in pieces: the test never holds n. */
static void make_bomb(struct buf *out, size_t n)
{
	static unsigned char zeros[65536];
	unsigned char chunk[65536];
	z_stream z;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
	do {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		n -= k;
		z.next_in = zeros;
		z.avail_in = (uInt)k;
		do {
			z.next_out = chunk;
			z.avail_out = sizeof(chunk);
			deflate(&z, n ? Z_NO_FLUSH : Z_FINISH);
			buf_add(out, chunk, sizeof(chunk) - z.avail_out);
		} while (z.avail_out == 0);
	} while (n);
	deflateEnd(&z);
}

static void fill_text(struct buf *b, size_t n)
{
	uint64_t x = 1;

	while (b->len < n) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf_addf(b, "line %u: replicas: %u\n", (unsigned)((x >> 40) % 1000),
			 (unsigned)((x >> 20) % 7));
	}
	buf_truncate(b, n);
}

static void fill_random(struct buf *b, size_t n)
{
	uint64_t x = 99;

	while (b->len < n) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf_addch(b, (char)(x >> 56));
	}
}

/* --- tests --------------------------------------------------------------- */

static void test_round_trip(void)
{
	struct buf in[4] = { BUF_INIT(1 << 20), BUF_INIT(1 << 20),
			     BUF_INIT(1 << 20), BUF_INIT(1 << 20) };

	buf_addstr(&in[1], "hello\n");
	fill_text(&in[2], 200000);
	fill_random(&in[3], 100000);
	for (int i = 0; i < 4; i++) {
		struct buf gz = BUF_INIT(1 << 20), a = BUF_INIT(1 << 20);

		check_int(gzip_compress(&gz, in[i].data, in[i].len), ==, 0);
		/* zlib itself reads it */
		check_int(zlib_gunzip(&gz, &a), ==, 0);
		check_mem(a.data, a.len, in[i].data, in[i].len);
		for (int m = WHOLE; m <= CHUNKS; m++) {
			struct buf out = BUF_INIT(1 << 20);
			struct src s = src_of(&gz, (enum mode)m);
			size_t total;

			check_int(gunzip(&s, in[i].len, &out, &total, NULL, 0), ==, 0);
			check_mem(out.data, out.len, in[i].data, in[i].len);
			check_int(s.off, ==, gz.len);
			buf_free(&out);
		}
		tap_diag("%zu bytes -> %zu compressed", in[i].len, gz.len);
		buf_free(&gz);
		buf_free(&a);
		buf_free(&in[i]);
	}
}

/* The same bytes as `gzip -9n`: mtime 0, no name, level 9, OS 3. */
static void test_deterministic(void)
{
	static const unsigned char empty[] = {
		0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03,
		0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const unsigned char hello[] = {
		0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03,
		0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
		0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
	};
	struct buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);

	check_int(gzip_compress(&a, "", 0), ==, 0);
	check_mem(a.data, a.len, empty, sizeof(empty));
	buf_reset(&a);
	check_int(gzip_compress(&a, "hello\n", 6), ==, 0);
	check_mem(a.data, a.len, hello, sizeof(hello));
	buf_reset(&a);
	fill_text(&b, 50000);
	{
		struct buf x = BUF_INIT(1 << 20), y = BUF_INIT(1 << 20);

		gzip_compress(&x, b.data, b.len);
		gzip_compress(&y, b.data, b.len);
		check_mem(x.data, x.len, y.data, y.len);
		buf_free(&x);
		buf_free(&y);
	}
	/* appends to what out holds; out->max is a hard cap, all or nothing */
	{
		struct buf small = BUF_INIT(100);

		buf_addstr(&small, "prefix");
		tap_quiet(1);
		check_int(gzip_compress(&small, b.data, b.len), ==, E_LIMIT);
		tap_quiet(0);
		check_str(small.data, "prefix");
		check_int(gzip_compress(&small, "hello\n", 6), ==, 0);
		check_mem(small.data + 6, small.len - 6, hello, sizeof(hello));
		buf_free(&small);
	}
	buf_free(&a);
	buf_free(&b);
}

/* Cut anywhere, a gzip stream is refused: never taken as complete. */
static void test_truncated(void)
{
	struct buf in = BUF_INIT(1 << 20), gz = BUF_INIT(1 << 20);
	char msg[300];
	int bad = 0;

	fill_text(&in, 3000);
	gzip_compress(&gz, in.data, in.len);
	tap_quiet(1);
	for (size_t cut = 0; cut < gz.len; cut++) {
		for (int m = WHOLE; m <= CHUNKS; m++) {
			struct buf part = gz;
			struct src s;
			size_t total;

			part.len = cut;
			s = src_of(&part, (enum mode)m);
			if (gunzip(&s, 1 << 20, NULL, &total, msg, sizeof(msg)) !=
			    E_TRUNCATED) {
				bad++;
				tap_diag("cut at %zu: %s", cut, msg);
			}
		}
	}
	tap_quiet(0);
	check_int(bad, ==, 0);
	gz.len = 1;
	expect_refusal(&gz, 1 << 20, E_TRUNCATED, "ends before the gzip header",
		       "one byte");
	gz.len = 30;
	expect_refusal(&gz, 1 << 20, E_TRUNCATED, "truncated: the stream ends after "
		       "30 bytes", "30 bytes");
	buf_free(&in);
	buf_free(&gz);
}

static void test_corrupt(void)
{
	struct buf in = BUF_INIT(1 << 20), gz = BUF_INIT(1 << 20);

	fill_text(&in, 3000);
	gzip_compress(&gz, in.data, in.len);
	gz.data[gz.len - 8] ^= 1;          /* CRC-32 */
	expect_refusal(&gz, 1 << 20, E_FORMAT, "incorrect data check", "crc");
	gz.data[gz.len - 8] ^= 1;
	gz.data[gz.len - 4] ^= 1;          /* ISIZE */
	expect_refusal(&gz, 1 << 20, E_FORMAT, "incorrect length check", "isize");
	gz.data[gz.len - 4] ^= 1;
	gz.data[2] = 7;                    /* compression method */
	expect_refusal(&gz, 1 << 20, E_FORMAT, "unknown compression method",
		       "method");
	gz.data[2] = 8;
	gz.data[20] ^= 0x55;               /* deflate data */
	{
		struct src s = src_of(&gz, WHOLE);
		size_t total;

		tap_quiet(1);
		check(gunzip(&s, 1 << 20, NULL, &total, NULL, 0) < 0);
		tap_quiet(0);
	}
	buf_reset(&gz);
	buf_addstr(&gz, "ustar data, not gzip");
	expect_refusal(&gz, 1 << 20, E_FORMAT, "not gzip data (no 1f 8b magic)",
		       "not gzip");
	buf_free(&in);
	buf_free(&gz);
}

static void test_trailing(void)
{
	struct buf gz = BUF_INIT(1 << 20), one = BUF_INIT(1 << 20);

	gzip_compress(&one, "hello\n", 6);
	buf_add(&gz, one.data, one.len);
	buf_addch(&gz, 'x');
	expect_refusal(&gz, 1 << 20, E_FORMAT, "trailing data after the gzip "
		       "stream (at compressed offset 26)", "garbage");
	gz.data[gz.len - 1] = '\0';
	expect_refusal(&gz, 1 << 20, E_FORMAT, "trailing data", "a zero byte");
	buf_truncate(&gz, one.len);
	buf_add(&gz, one.data, one.len);
	expect_refusal(&gz, 1 << 20, E_FORMAT, "a second gzip member follows",
		       "concatenated");
	buf_free(&gz);
	buf_free(&one);
}

/* 64 MiB of zeros in ~64 KiB: refused at a 1 MiB cap, after ~1 MiB. */
static void test_bomb(void)
{
	struct buf gz = BUF_INIT(8 << 20), in = BUF_INIT(1 << 20);
	char msg[300];
	size_t total;
	struct src s;

	make_bomb(&gz, (size_t)64 << 20);
	tap_diag("64 MiB of zeros: %zu bytes compressed", gz.len);
	s = src_of(&gz, WHOLE);
	tap_quiet(1);
	check_int(gunzip(&s, 1 << 20, NULL, &total, msg, sizeof(msg)), ==, E_LIMIT);
	tap_quiet(0);
	check_str(msg, "gzip: more than 1048576 bytes once decompressed (the cap)");
	check_int(total, <=, 1 << 20);             /* never past the cap */
	check_int(total, >=, (1 << 20) - 4099);    /* and filled to it */
	/* it stopped reading soon after: one input buffer, not the stream */
	tap_diag("compressed bytes read: %zu of %zu", s.off, gz.len);
	check_int(s.off, <=, 16384);
	check_int(s.off, <, gz.len / 2);

	/* exactly at the cap is fine, one byte over is not */
	buf_reset(&gz);
	fill_text(&in, 100000);
	gzip_compress(&gz, in.data, in.len);
	s = src_of(&gz, BYTE);
	check_int(gunzip(&s, 100000, NULL, &total, NULL, 0), ==, 0);
	check_int(total, ==, 100000);
	expect_refusal(&gz, 99999, E_LIMIT, "more than 99999 bytes", "cap - 1");
	s = src_of(&gz, CHUNKS);
	tap_quiet(1);
	check_int(gunzip(&s, 0, NULL, &total, NULL, 0), ==, E_LIMIT);
	tap_quiet(0);
	buf_free(&gz);
	buf_free(&in);
}

/* Fail each allocation in turn: E_NOMEM, no leak (ASan checks at exit). */
static void test_alloc_failure(void)
{
	struct buf in = BUF_INIT(1 << 20), gz = BUF_INIT(1 << 20);
	int nomem = 0, other = 0, ok = 0;

	fill_text(&in, 100000);
	gzip_compress(&gz, in.data, in.len);
	tap_quiet(1);
	for (unsigned long n = 1; n < 100 && !ok; n++) {
		struct src s = src_of(&gz, CHUNKS);
		size_t total;
		int rc;

		mem_fail_after(n);
		rc = gunzip(&s, 1 << 20, NULL, &total, NULL, 0);
		mem_fail_after(0);
		if (rc == 0 && total == in.len)
			ok = 1;
		else if (rc == E_NOMEM)
			nomem++;
		else
			other++;
	}
	check(ok);
	check_int(nomem, >=, 3);    /* the reader, zlib's state, its window */
	check_int(other, ==, 0);

	ok = nomem = other = 0;
	for (unsigned long n = 1; n < 100 && !ok; n++) {
		struct buf out = BUF_INIT(1 << 20);
		int rc;

		mem_fail_after(n);
		rc = gzip_compress(&out, in.data, in.len);
		mem_fail_after(0);
		if (rc == 0)
			ok = 1;
		else if (rc == E_NOMEM && out.len == 0)
			nomem++;
		else
			other++;
		buf_free(&out);
	}
	tap_quiet(0);
	check(ok);
	check_int(nomem, >=, 5);    /* deflate's buffers, then the output */
	check_int(other, ==, 0);
	buf_free(&in);
	buf_free(&gz);
}

/* Telling gzip from tar without losing the bytes looked at. */
static void test_peek(void)
{
	struct buf gz = BUF_INIT(1 << 20), plain = BUF_INIT(1 << 20);
	struct gzip_peek p;
	struct src s;
	char out[64];
	size_t n = 0;
	int k;

	gzip_compress(&gz, "hello\n", 6);
	s = src_of(&gz, BYTE);
	check_int(gzip_peek_init(&p, src_read, &s), ==, 1);
	{
		struct gzip_reader *g;

		check_int(gzip_reader_new(&g, gzip_peek_read, &p, 100), ==, 0);
		while ((k = gzip_read(g, out + n, sizeof(out) - n)) > 0)
			n += (size_t)k;
		check_int(k, ==, 0);
		check_mem(out, n, "hello\n", 6);
		gzip_reader_free(g);
	}
	/* not gzip: every byte comes back, in order */
	buf_addstr(&plain, "\x1f" "not gzip after all");
	s = src_of(&plain, BYTE);
	check_int(gzip_peek_init(&p, src_read, &s), ==, 0);
	n = 0;
	while ((k = gzip_peek_read(&p, out + n, 3)) > 0)
		n += (size_t)k;
	check_mem(out, n, plain.data, plain.len);
	/* shorter than the magic */
	buf_truncate(&plain, 1);
	s = src_of(&plain, WHOLE);
	check_int(gzip_peek_init(&p, src_read, &s), ==, 0);
	check_int(gzip_peek_read(&p, out, sizeof(out)), ==, 1);
	check_int(gzip_peek_read(&p, out, sizeof(out)), ==, 0);
	buf_reset(&plain);
	s = src_of(&plain, WHOLE);
	check_int(gzip_peek_init(&p, src_read, &s), ==, 0);
	check_int(gzip_peek_read(&p, out, sizeof(out)), ==, 0);
	buf_free(&gz);
	buf_free(&plain);
}

/* How the agent stacks them: source -> peek -> gzip -> tar. */
static int read_bundle(const struct buf *file, int *entries, char *first,
		       size_t firstlen)
{
	static const struct tar_limits lim = { 100, 1 << 20, 4 << 20, TAR_NAME_MAX };
	struct src s = src_of(file, CHUNKS);
	struct gzip_peek p;
	struct gzip_reader *g = NULL;
	struct tar_reader *t = NULL;
	struct tar_entry e;
	int rc = gzip_peek_init(&p, src_read, &s);

	*entries = 0;
	if (rc == 1)
		rc = gzip_reader_new(&g, gzip_peek_read, &p, 8 << 20);
	if (rc == 0)
		rc = g ? tar_reader_new(&t, gzip_read, g, &lim)
		       : tar_reader_new(&t, gzip_peek_read, &p, &lim);
	while (rc >= 0 && (rc = tar_next(t, &e)) == 1)
		if ((*entries)++ == 0)
			snprintf(first, firstlen, "%s", e.name);
	tar_reader_free(t);
	gzip_reader_free(g);
	return rc;
}

static void test_tar_gz(void)
{
	struct buf tar = BUF_INIT(1 << 20), tgz = BUF_INIT(1 << 20);
	char first[64] = "";
	int n;

	tar_write_entry(&tar, "bundle.yaml", "app: x\n", 7);
	tar_write_entry(&tar, "bundle.yaml.sig", "key sig\n", 8);
	tar_write_entry(&tar, "manifests/cm.yaml", "kind: ConfigMap\n", 16);
	tar_write_end(&tar);
	gzip_compress(&tgz, tar.data, tar.len);

	check_int(read_bundle(&tar, &n, first, sizeof(first)), ==, 0);
	check_int(n, ==, 3);
	check_str(first, "bundle.yaml");
	check_int(read_bundle(&tgz, &n, first, sizeof(first)), ==, 0);
	check_int(n, ==, 3);
	check_str(first, "bundle.yaml");

	/*
	 * A bad CRC is only seen at the gzip trailer, after the tar end
	 * marker: the tar reader reads on to the end so it is not missed.
	 */
	tgz.data[tgz.len - 8] ^= 1;
	tap_quiet(1);
	check_int(read_bundle(&tgz, &n, first, sizeof(first)), ==, E_FORMAT);
	tap_quiet(0);
	check_int(n, ==, 3);
	tgz.data[tgz.len - 8] ^= 1;
	buf_addstr(&tgz, "junk");
	tap_quiet(1);
	check_int(read_bundle(&tgz, &n, first, sizeof(first)), ==, E_FORMAT);
	tap_quiet(0);
	buf_free(&tar);
	buf_free(&tgz);
}

/* Built without CONFIG_GZIP: a clear refusal, and peeking still works. */
static void test_compiled_out(void)
{
	struct buf gz = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
	struct gzip_reader *g = (struct gzip_reader *)&gz;
	struct gzip_peek p;
	struct src s;

	make_bomb(&gz, 10);
	s = src_of(&gz, WHOLE);
	check_int(gzip_peek_init(&p, src_read, &s), ==, 1);
	check_int(gzip_reader_new(&g, gzip_peek_read, &p, 100), ==, E_UNSUPPORTED);
	check(g == NULL);
	check_int(gzip_compress(&out, "x", 1), ==, E_UNSUPPORTED);
	check_int(out.len, ==, 0);
	gzip_reader_free(g);
	buf_free(&gz);
	buf_free(&out);
}

int main(void)
{
	if (!IS_ENABLED(CONFIG_GZIP)) {
		tap_diag("built without CONFIG_GZIP");
		test_compiled_out();
		return tap_done();
	}
	test_round_trip();
	test_deterministic();
	test_truncated();
	test_corrupt();
	test_trailing();
	test_bomb();
	test_alloc_failure();
	test_peek();
	test_tar_gz();
	return tap_done();
}
