/*
 * Unit tests: platform/tar. Archives come from our writer or from headers
 * built here field by field (make_header), so no binary fixtures: GNU tar's
 * magic, its "./" directories, and every kind of entry the reader refuses.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
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
	size_t fail_at;         /* with fail: return E_IO once off reaches it */
	int fail;
};

static int src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->off;

	if (s->fail && s->off >= s->fail_at)
		return E_IO;
	if (n > len)
		n = len;
	if (s->mode == BYTE && n > 1)
		n = 1;
	if (s->mode == CHUNKS && n > 1) {
		s->seed = s->seed * 1103515245 + 12345;   /* fixed seed: same run */
		n = 1 + (s->seed >> 8) % n;
		if (n > 1500)
			n = 1 + n % 1500;
	}
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (int)n;
}

static struct src src_of(const struct buf *b, enum mode mode)
{
	struct src s = { (const unsigned char *)b->data, b->len, 0, mode, 42, 0, 0 };

	return s;
}

static const struct tar_limits limits = {
	.max_entries = 1000,
	.max_entry_size = 1 << 20,
	.max_total_size = 4 << 20,
	.max_name_len = TAR_NAME_MAX,
};

/* --- hand-built headers -------------------------------------------------- */

static void set_sum(unsigned char *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 7, "%06o", sum);   /* NUL, then the space */
}

/* A POSIX ustar regular-file header with the fields GNU tar would write. */
static void make_header(unsigned char *h, const char *name, char type,
			unsigned long long size)
{
	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 1000);
	snprintf((char *)h + 116, 8, "%07o", 1000);
	snprintf((char *)h + 124, 12, "%011llo", size);
	snprintf((char *)h + 136, 12, "%011o", 1700000000);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar\0" "00", 8);
	memcpy(h + 265, "user", 4);
	memcpy(h + 297, "group", 5);
	snprintf((char *)h + 329, 8, "%07o", 0);
	snprintf((char *)h + 337, 8, "%07o", 0);
	set_sum(h);
}

/* GNU tar's default format: "ustar  \0" and its own use of the prefix. */
static void make_gnu(unsigned char *h)
{
	memcpy(h + 257, "ustar  \0", 8);
	memset(h + 329, 0, 16);                   /* no device numbers */
	snprintf((char *)h + 345, 12, "%011o", 1700000001);   /* atime */
	set_sum(h);
}

static void add_block(struct buf *b, const unsigned char *h)
{
	buf_add(b, h, 512);
}

static void add_data(struct buf *b, const char *data, size_t len)
{
	static const char zeros[512];

	buf_add(b, data, len);
	buf_add(b, zeros, (512 - len % 512) % 512);
}

static void add_end(struct buf *b)
{
	static const char zeros[1024];

	buf_add(b, zeros, sizeof(zeros));
}

/* --- helpers ------------------------------------------------------------- */

/* Read a whole archive, entries and data; returns the final code. */
static int read_all(struct src *s, const struct tar_limits *lim, int *entries,
		    char *msg, size_t msglen)
{
	struct tar_reader *r;
	struct tar_entry e;
	char data[700];
	int rc;

	*entries = 0;
	rc = tar_reader_new(&r, src_read, s, lim);
	if (rc)
		return rc;
	while ((rc = tar_next(r, &e)) == 1) {
		int k;

		(*entries)++;
		while ((k = tar_read(r, data, sizeof(data))) > 0)
			;
		if (k < 0) {
			rc = k;
			break;
		}
	}
	if (msg)
		snprintf(msg, msglen, "%s", tar_reader_error(r));
	tar_reader_free(r);
	return rc;
}

/* Read up to n bytes of the entry, however the source splits them. */
static int read_n(struct tar_reader *r, char *p, size_t n)
{
	size_t have = 0;
	int k = 0;

	while (have < n && (k = tar_read(r, p + have, n - have)) > 0)
		have += (size_t)k;
	return k < 0 ? k : (int)have;
}

/* Expect the archive refused with code e and a message containing why. */
static void expect_refusal(const struct buf *b, const struct tar_limits *lim,
			   int e, const char *why, const char *what)
{
	struct src s = src_of(b, WHOLE);
	char msg[1200];
	int n, rc;

	tap_quiet(1);
	rc = read_all(&s, lim ? lim : &limits, &n, msg, sizeof(msg));
	tap_quiet(0);
	tap_diag("%s: %s", what, msg);
	check_int(rc, ==, e);
	if (!check(strstr(msg, why) != NULL))
		tap_diag("want '%s' in the message", why);
}

/* One entry with a header tweaked by the caller, then an end marker. */
static void one_entry(struct buf *b, const unsigned char *h, const char *data,
		      size_t len)
{
	buf_reset(b);
	add_block(b, h);
	add_data(b, data, len);
	add_end(b);
}

/* --- tests --------------------------------------------------------------- */

static const char *long_name(void)
{
	/* 154-byte prefix, '/', 99-byte name: the longest ustar holds. */
	static char n[TAR_NAME_MAX + 1];

	memset(n, 'p', 154);
	n[40] = '/';
	n[154] = '/';
	memset(n + 155, 'n', 99);
	n[254] = '\0';
	return n;
}

struct file {
	const char *name;
	size_t len;
};

static const struct file files[] = {
	{ "bundle.yaml", 300 },
	{ "bundle.yaml.sig", 120 },
	{ "manifests/empty.yaml", 0 },
	{ "manifests/block.yaml", 512 },
	{ "manifests/deploy.yaml", 5000 },
	{ "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4/5/6/7/8/9/"
	  "some-rather-long-file-name-that-needs-the-prefix.yaml", 33 },
	{ NULL, 77 },   /* long_name() */
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static const char *file_name(size_t i)
{
	return files[i].name ? files[i].name : long_name();
}

static void file_data(size_t i, char *p)
{
	for (size_t j = 0; j < files[i].len; j++)
		p[j] = (char)('a' + (i * 7 + j * 13) % 26);
}

static void build(struct buf *b)
{
	char data[5000];

	for (size_t i = 0; i < NFILES; i++) {
		file_data(i, data);
		check_int(tar_write_entry(b, file_name(i), data, files[i].len), ==, 0);
	}
	check_int(tar_write_end(b), ==, 0);
}

static void test_round_trip(void)
{
	struct buf b = BUF_INIT(1 << 20);
	static const char *modes[] = { "whole", "byte by byte", "random chunks" };

	build(&b);
	check_int(b.len % 512, ==, 0);
	for (int m = WHOLE; m <= CHUNKS; m++) {
		struct src s = src_of(&b, (enum mode)m);
		struct tar_reader *r;
		struct tar_entry e;
		int rc, ok = 1;
		size_t i = 0;

		tap_diag("round trip, source %s", modes[m]);
		check_int(tar_reader_new(&r, src_read, &s, &limits), ==, 0);
		while ((rc = tar_next(r, &e)) == 1 && i < NFILES) {
			char want[5000], got[5000];
			size_t n = 0;
			int k;

			file_data(i, want);
			/* odd read sizes: entries cross any buffer boundary */
			while ((k = tar_read(r, got + n, 1 + (n % 997))) > 0)
				n += (size_t)k;
			ok &= k == 0 && strcmp(e.name, file_name(i)) == 0 &&
			      e.size == files[i].len && n == files[i].len &&
			      memcmp(got, want, n) == 0;
			i++;
		}
		check(ok);
		check_int(rc, ==, 0);
		check_int(i, ==, NFILES);
		check_int(s.off, ==, b.len);             /* read to the end */
		check_int(tar_next(r, &e), ==, 0);       /* and stays there */
		tar_reader_free(r);
	}
	buf_free(&b);
}

static void test_writer_deterministic(void)
{
	struct buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);
	const unsigned char *h;

	build(&a);
	build(&b);
	check_mem(a.data, a.len, b.data, b.len);
	h = (const unsigned char *)a.data;
	check_str((const char *)h, "bundle.yaml");
	check_mem(h + 100, 8, "0000644", 8);       /* mode */
	check_mem(h + 108, 16, "0000000\0" "0000000", 16);   /* uid, gid */
	check_mem(h + 124, 12, "00000000454", 12); /* size 300 */
	check_mem(h + 136, 12, "00000000000", 12); /* mtime 0 */
	check_int(h[156], ==, '0');
	check_mem(h + 257, 8, "ustar\0" "00", 8);
	check_str((const char *)h + 265, "root");
	check_str((const char *)h + 297, "root");
	check_int(h[148 + 6], ==, 0);               /* checksum "%06o\0 " */
	check_int(h[148 + 7], ==, ' ');
	/* The end marker: two zero blocks, nothing after them. */
	check(a.len >= 1024);
	for (size_t i = a.len - 1024; i < a.len; i++)
		if (a.data[i]) {
			check(!"end marker is zero");
			break;
		}
	buf_free(&a);
	buf_free(&b);
}

/* Entries not read, or read in part, are skipped by tar_next. */
static void test_skip(void)
{
	struct buf b = BUF_INIT(1 << 20);
	struct src s;
	struct tar_reader *r;
	struct tar_entry e;
	char c[4];

	build(&b);
	s = src_of(&b, CHUNKS);
	tar_reader_new(&r, src_read, &s, &limits);
	check_int(tar_next(r, &e), ==, 1);
	check_int(read_n(r, c, 3), ==, 3);
	check_mem(c, 3, "ana", 3);
	check_int(tar_next(r, &e), ==, 1);           /* partly read: skipped */
	check_str(e.name, "bundle.yaml.sig");
	check_int(tar_next(r, &e), ==, 1);
	check_int(tar_next(r, &e), ==, 1);           /* not read at all */
	check_int(tar_next(r, &e), ==, 1);
	check_str(e.name, "manifests/deploy.yaml");
	check_int(tar_read(r, c, 1), ==, 1);
	check_int(tar_next(r, &e), ==, 1);
	check_int(tar_next(r, &e), ==, 1);
	check_str(e.name, long_name());
	check_int(tar_next(r, &e), ==, 0);
	check_int(tar_read(r, c, 1), ==, E_STATE);
	tar_reader_free(r);
	tar_reader_free(NULL);
	buf_free(&b);
}

/*
 * What GNU tar writes in its own format (`tar -C dir -c ./ bundle.yaml
 * manifests`): the root directory "./", GNU magic, times in the prefix
 * field. Directories are skipped. Names under "./" are refused
 * (test_refuse_names): a '.' component is not a name formats.md allows.
 */
static void test_gnu_archive(void)
{
	struct buf b = BUF_INIT(1 << 16);
	unsigned char h[512];
	struct src s;
	struct tar_reader *r;
	struct tar_entry e;
	char data[16];

	make_header(h, "./", '5', 0);
	make_gnu(h);
	add_block(&b, h);
	make_header(h, "bundle.yaml", '0', 5);
	make_gnu(h);
	add_block(&b, h);
	add_data(&b, "hello", 5);
	make_header(h, "manifests/", '5', 0);
	make_gnu(h);
	add_block(&b, h);
	make_header(h, "manifests/a.yaml", '\0', 3);   /* old-style type */
	make_gnu(h);
	add_block(&b, h);
	add_data(&b, "abc", 3);
	add_end(&b);
	buf_add(&b, "\0\0\0\0", 4);   /* record padding after the end: ignored */

	s = src_of(&b, BYTE);
	check_int(tar_reader_new(&r, src_read, &s, &limits), ==, 0);
	check_int(tar_next(r, &e), ==, 1);
	check_str(e.name, "bundle.yaml");
	check_int(read_n(r, data, sizeof(data)), ==, 5);
	check_mem(data, 5, "hello", 5);
	check_int(tar_read(r, data, sizeof(data)), ==, 0);
	check_int(tar_next(r, &e), ==, 1);
	check_str(e.name, "manifests/a.yaml");
	check_int(e.size, ==, 3);
	check_int(tar_next(r, &e), ==, 0);
	tar_reader_free(r);
	buf_free(&b);
}

/* Every entry type but regular files and directories, by its name. */
static void test_refuse_types(void)
{
	static const char types[] = "123467xgLKSV";
	struct buf b = BUF_INIT(1 << 16);
	unsigned char h[512];

	for (const char *t = types; *t; t++) {
		char why[40];

		make_header(h, *t == 'x' ? "./PaxHeaders/x" : "link", *t, 0);
		one_entry(&b, h, "", 0);
		snprintf(why, sizeof(why), "unsupported entry type '%c'", *t);
		expect_refusal(&b, NULL, E_FORMAT, why, why);
	}
	/* pax header in GNU format with data, as `tar --format=pax` writes */
	make_header(h, "./PaxHeaders.1/a", 'x', 30);
	one_entry(&b, h, "30 mtime=1700000000.123456789\n", 30);
	expect_refusal(&b, NULL, E_FORMAT, "(pax extended header)", "pax");
	make_header(h, "././@LongLink", 'L', 120);
	make_gnu(h);
	one_entry(&b, h, "x", 1);
	expect_refusal(&b, NULL, E_FORMAT, "(GNU long name)", "GNU long name");
	/* a directory with data is not a directory */
	make_header(h, "dir/", '5', 10);
	one_entry(&b, h, "0123456789", 10);
	expect_refusal(&b, NULL, E_FORMAT, "directory entry with 10 bytes", "dir");
	/* control byte as a type */
	make_header(h, "a", '\x01', 0);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "unsupported entry type 0x01", "0x01");
	buf_free(&b);
}

static void test_refuse_names(void)
{
	static const struct {
		const char *name, *why;
	} bad[] = {
		{ "/etc/passwd", "absolute path" },
		{ ".//etc/passwd", "'.' path component" },
		{ "./bundle.yaml", "'.' path component" },
		{ "./manifests/a.yaml", "'.' path component" },
		{ "../outside", "'..' path component" },
		{ "a/../../outside", "'..' path component" },
		{ "a/..", "'..' path component" },
		{ "./..", "'.' path component" },
		{ "a//b", "empty path component" },
		{ "a/", "empty path component" },
		{ "a/./b", "'.' path component" },
		{ ".", "'.' path component" },
		{ "./", "'.' path component" },
		{ "", "empty name" },
		{ "a\nb", "control character" },
		{ "a\x1b[2Jb", "control character" },
		{ "a\x7f", "control character" },
		{ "caf\xc3\xa9.yaml", "non-ASCII byte" },
	};
	struct buf b = BUF_INIT(1 << 16);
	unsigned char h[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_header(h, bad[i].name, '0', 0);
		one_entry(&b, h, "", 0);
		expect_refusal(&b, NULL, E_FORMAT, bad[i].why, bad[i].why);
		/* directories are validated the same way */
		if (strcmp(bad[i].name, "./") && strcmp(bad[i].name, ".") &&
		    strcmp(bad[i].name, "a/")) {
			make_header(h, bad[i].name, '5', 0);
			one_entry(&b, h, "", 0);
			expect_refusal(&b, NULL, E_FORMAT, bad[i].why, "directory");
		}
	}

	/* the messages show hostile bytes escaped */
	make_header(h, "a\nb", '0', 0);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "entry 1 'a\\x0ab'", "escaped");

	/* a name that fills its field has no NUL inside it */
	make_header(h, "x", '0', 0);
	memset(h, 'n', 100);
	set_sum(h);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "name field is not NUL-terminated",
		       "name field full");
	make_header(h, "x", '0', 0);
	memset(h + 345, 'p', 155);
	set_sum(h);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "prefix field is not NUL-terminated",
		       "prefix field full");
	/* both fields full of bytes that messages must escape */
	make_header(h, "x", '0', 0);
	memset(h, 0x01, 100);
	memset(h + 345, 0xff, 155);
	set_sum(h);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "\\xff\\xff/\\x01\\x01",
		       "escaped fields");
	make_header(h, "good", '0', 0);
	h[50] = 'x';   /* hidden after the NUL */
	set_sum(h);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "bytes after the NUL", "hidden bytes");
	/* the POSIX prefix joins the name, and is checked with it */
	make_header(h, "passwd", '0', 0);
	memcpy(h + 345, "/etc", 4);
	set_sum(h);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "absolute path", "absolute prefix");
	make_header(h, "x", '0', 0);
	memcpy(h + 345, "a/..", 4);
	set_sum(h);
	one_entry(&b, h, "", 0);
	expect_refusal(&b, NULL, E_FORMAT, "'..' path component", ".. prefix");
	buf_free(&b);
}

static void test_refuse_duplicates(void)
{
	struct buf b = BUF_INIT(1 << 16);
	unsigned char h[512];

	make_header(h, "bundle.yaml", '0', 1);
	add_block(&b, h);
	add_data(&b, "a", 1);
	make_header(h, "./bundle.yaml", '0', 1);
	add_block(&b, h);
	add_data(&b, "b", 1);
	add_end(&b);
	/* no "./" is stripped, so no alias of a name gets past the check */
	expect_refusal(&b, NULL, E_FORMAT, "entry 2 './bundle.yaml': '.' path component",
		       "a second name under ./");
	buf_reset(&b);
	check_int(tar_write_entry(&b, "m/a.yaml", "1", 1), ==, 0);
	check_int(tar_write_entry(&b, "m/b.yaml", "1", 1), ==, 0);
	check_int(tar_write_entry(&b, "m/a.yaml", "2", 1), ==, 0);
	check_int(tar_write_end(&b), ==, 0);
	expect_refusal(&b, NULL, E_FORMAT, "entry 3 'm/a.yaml': duplicate name",
		       "duplicate");
	buf_free(&b);
}

static void test_refuse_header_fields(void)
{
	static const struct {
		int off, len;
		const char *value, *why;
	} bad[] = {
		{ 124, 12, "0000000009\0", "size field is not octal" },
		{ 124, 12, "00000000001x", "size field is not octal" },
		{ 124, 12, "000000000012", "size field overflows its field" },
		{ 124, 12, "\0\0\0\0\0\0\0\0\0\0\0", "size field is empty" },
		{ 124, 12, "-0000000001\0", "size field is not octal" },
		{ 124, 12, "\x80\0\0\0\0\0\0\0\0\0\0\x01", "size field is a base-256" },
		{ 124, 12, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
		  "size field is a base-256" },
		{ 100, 8, "0000988\0", "mode field is not octal" },
		{ 108, 8, "\x80\0\0\0\0\0\0\x01", "uid field is a base-256" },
		{ 116, 8, "00000000", "gid field overflows" },
		{ 136, 12, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe",
		  "mtime field is a base-256" },
		{ 329, 8, "abc\0\0\0\0\0", "devmajor field is not octal" },
	};
	struct buf b = BUF_INIT(1 << 16);
	unsigned char h[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_header(h, "file", '0', 1);
		memcpy(h + bad[i].off, bad[i].value, (size_t)bad[i].len);
		set_sum(h);
		one_entry(&b, h, "x", 1);
		expect_refusal(&b, NULL, E_FORMAT, bad[i].why, bad[i].why);
	}
	/* leading spaces and a space terminator are POSIX too */
	make_header(h, "file", '0', 1);
	memcpy(h + 124, "          1 ", 12);
	memcpy(h + 100, "   644 \0", 8);
	set_sum(h);
	one_entry(&b, h, "x", 1);
	{
		struct src s = src_of(&b, WHOLE);
		int n;

		check_int(read_all(&s, &limits, &n, NULL, 0), ==, 0);
		check_int(n, ==, 1);
	}
	/* checksum */
	make_header(h, "file", '0', 1);
	h[0] = 'F';
	one_entry(&b, h, "x", 1);
	expect_refusal(&b, NULL, E_FORMAT, "header checksum mismatch", "checksum");
	make_header(h, "file", '0', 1);
	memcpy(h + 148, "zzzzzz\0 ", 8);
	one_entry(&b, h, "x", 1);
	expect_refusal(&b, NULL, E_FORMAT, "checksum field is not octal",
		       "checksum field");
	/* magic: v7 (none), and an unknown version */
	make_header(h, "file", '0', 1);
	memset(h + 257, 0, 8);
	set_sum(h);
	one_entry(&b, h, "x", 1);
	expect_refusal(&b, NULL, E_FORMAT, "not a ustar header", "v7");
	make_header(h, "file", '0', 1);
	memcpy(h + 263, "01", 2);
	set_sum(h);
	one_entry(&b, h, "x", 1);
	expect_refusal(&b, NULL, E_FORMAT, "not a ustar header", "version 01");
	/* something that is not tar at all */
	buf_reset(&b);
	buf_add(&b, "\x1f\x8b\x08\0\0\0\0\0\x02\x03", 10);
	while (b.len < 2048)
		buf_addch(&b, 'z');
	expect_refusal(&b, NULL, E_FORMAT, "gzip-compressed", "gzip data");
	buf_free(&b);
}

static void test_limits(void)
{
	struct buf b = BUF_INIT(1 << 20);
	struct tar_limits lim = limits;
	char data[2048];
	struct src s;
	int n;

	memset(data, 'd', sizeof(data));
	tar_write_entry(&b, "a", data, 1024);
	tar_write_entry(&b, "b", data, 1024);
	tar_write_entry(&b, "c", data, 1025);
	tar_write_end(&b);

	lim.max_entry_size = 1024;
	expect_refusal(&b, &lim, E_LIMIT, "entry 3 'c': size 1025 exceeds the "
		       "limit of 1024 bytes per entry", "entry size");
	lim = limits;
	lim.max_total_size = 3072;
	expect_refusal(&b, &lim, E_LIMIT, "entry 3 'c': size 1025 takes the "
		       "archive past its limit of 3072", "total size");
	lim.max_total_size = 3073;
	s = src_of(&b, WHOLE);
	check_int(read_all(&s, &lim, &n, NULL, 0), ==, 0);   /* exactly at it */
	lim = limits;
	lim.max_entries = 2;
	expect_refusal(&b, &lim, E_LIMIT, "entry 3: more than 2 entries", "entries");
	lim.max_entries = 3;
	s = src_of(&b, WHOLE);
	check_int(read_all(&s, &lim, &n, NULL, 0), ==, 0);
	check_int(n, ==, 3);

	/* directories count as entries too: a flood of them is bounded */
	buf_reset(&b);
	for (int i = 0; i < 10; i++) {
		unsigned char h[512];
		char name[16];

		snprintf(name, sizeof(name), "d%d/", i);
		make_header(h, name, '5', 0);
		add_block(&b, h);
	}
	add_end(&b);
	lim.max_entries = 9;
	expect_refusal(&b, &lim, E_LIMIT, "more than 9 entries", "directories");

	/* name length, after dropping "./" */
	buf_reset(&b);
	tar_write_entry(&b, "0123456789", "", 0);
	tar_write_entry(&b, "01234567890", "", 0);
	tar_write_end(&b);
	lim = limits;
	lim.max_name_len = 10;
	expect_refusal(&b, &lim, E_LIMIT, "entry 2 '01234567890': name longer "
		       "than 10 bytes", "name length");

	/* limits out of range are the caller's mistake */
	{
		struct tar_reader *r = (struct tar_reader *)&b;

		lim.max_name_len = TAR_NAME_MAX + 1;
		tap_quiet(1);
		check_int(tar_reader_new(&r, src_read, &s, &lim), ==, E_USAGE);
		tap_quiet(0);
		check(r == NULL);
	}
	buf_free(&b);
}

/* Cut anywhere, an archive is refused as truncated: never a smaller one. */
static void test_truncated(void)
{
	struct buf b = BUF_INIT(1 << 16);
	int bad = 0, n;
	struct src s;

	tar_write_entry(&b, "bundle.yaml", "signed: yes\n", 12);
	tar_write_entry(&b, "m/a.yaml", "kind: ConfigMap\n", 16);
	tar_write_end(&b);
	tap_quiet(1);
	for (size_t cut = 0; cut < b.len; cut++) {
		for (int m = WHOLE; m <= CHUNKS; m++) {
			struct buf part = b;

			part.len = cut;
			s = src_of(&part, (enum mode)m);
			if (read_all(&s, &limits, &n, NULL, 0) != E_TRUNCATED)
				bad++;
		}
	}
	tap_quiet(0);
	check_int(bad, ==, 0);

	/* the messages say where */
	b.len -= 1024;
	expect_refusal(&b, NULL, E_TRUNCATED, "after entry 2 without the "
		       "end-of-archive marker", "no end marker");
	b.len += 512;
	expect_refusal(&b, NULL, E_TRUNCATED, "one zero block, not two",
		       "one zero block");
	b.len = 512 + 5;
	expect_refusal(&b, NULL, E_TRUNCATED, "entry 1 'bundle.yaml': truncated",
		       "in data");
	b.len = 1024 + 100;
	expect_refusal(&b, NULL, E_TRUNCATED, "inside the header after entry 1",
		       "in a header");
	b.len = 0;
	expect_refusal(&b, NULL, E_TRUNCATED, "after entry 0 without", "empty");
	buf_free(&b);
}

/* Data where the second end block should be is not taken for entries. */
static void test_end_marker(void)
{
	struct buf b = BUF_INIT(4 << 20);
	static const char zeros[512];
	struct src s;
	int n;

	tar_write_entry(&b, "a", "1", 1);
	buf_add(&b, zeros, 512);
	tar_write_entry(&b, "evil", "2", 1);
	tar_write_end(&b);
	expect_refusal(&b, NULL, E_FORMAT, "zero block after entry 1 is followed "
		       "by data", "lone zero block");

	/* an empty archive is fine */
	buf_reset(&b);
	tar_write_end(&b);
	s = src_of(&b, BYTE);
	check_int(read_all(&s, &limits, &n, NULL, 0), ==, 0);
	check_int(n, ==, 0);

	/* after the end: record padding (zeros) is read and allowed, to a bound */
	buf_reset(&b);
	tar_write_entry(&b, "a", "1", 1);
	tar_write_end(&b);
	while (b.len < 10240)
		buf_addch(&b, 0);
	s = src_of(&b, CHUNKS);
	check_int(read_all(&s, &limits, &n, NULL, 0), ==, 0);
	check_int(n, ==, 1);
	check_int(s.off, ==, b.len);
	/* garbage, or a whole member appended after the end, is refused */
	buf_addstr(&b, "garbage that no entry comes from");
	expect_refusal(&b, NULL, E_FORMAT, "data after the end-of-archive marker",
		       "garbage after the end");
	buf_reset(&b);
	tar_write_entry(&b, "a", "1", 1);
	tar_write_end(&b);
	tar_write_entry(&b, "b", "2", 1);
	tar_write_end(&b);
	expect_refusal(&b, NULL, E_FORMAT, "data after the end-of-archive marker",
		       "a member after the end");
	buf_reset(&b);
	tar_write_entry(&b, "a", "1", 1);
	tar_write_end(&b);
	while (b.len <= 1024 + 1024 + TAR_TAIL_MAX)
		buf_add(&b, zeros, sizeof(zeros));
	expect_refusal(&b, NULL, E_LIMIT, "bytes after the end-of-archive marker",
		       "long tail");
	buf_free(&b);
}

/* The source's error comes back as it is, and errors are sticky. */
static void test_source_error(void)
{
	struct buf b = BUF_INIT(1 << 16);
	struct tar_reader *r;
	struct tar_entry e;
	char data[64];
	struct src s;

	build(&b);
	s = src_of(&b, WHOLE);
	s.fail = 1;
	s.fail_at = 812;    /* where the first entry's padding starts */
	tar_reader_new(&r, src_read, &s, &limits);
	check_int(tar_next(r, &e), ==, 1);
	check_int(tar_read(r, data, sizeof(data)), >, 0);
	while (tar_read(r, data, sizeof(data)) > 0)
		;
	check_int(tar_next(r, &e), ==, E_IO);
	check_str(tar_reader_error(r), "tar: entry 1 'bundle.yaml': padding: "
		  "input/output error");
	s.fail = 0;
	check_int(tar_next(r, &e), ==, E_IO);       /* sticky */
	check_int(tar_read(r, data, 1), ==, E_IO);
	tar_reader_free(r);
	buf_free(&b);
}

static void test_writer_refusals(void)
{
	static const struct {
		const char *name;
		int e;
	} bad[] = {
		{ "", E_FORMAT }, { "/abs", E_FORMAT }, { "../up", E_FORMAT },
		{ "./a", E_FORMAT }, { "a//b", E_FORMAT }, { "a/", E_FORMAT },
		{ "a\tb", E_FORMAT }, { "a/./b", E_FORMAT },
	};
	struct buf b = BUF_INIT(1 << 16), small = BUF_INIT(1500);
	char name[300];

	tar_write_entry(&b, "ok", "1", 1);
	tap_quiet(1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_int(tar_write_entry(&b, bad[i].name, "x", 1), ==, bad[i].e);
	/* too long for ustar, or no '/' to split it at */
	memset(name, 'n', 255);
	name[100] = '/';
	name[255] = '\0';
	check_int(tar_write_entry(&b, name, "x", 1), ==, E_LIMIT);
	name[254] = '\0';
	name[100] = 'n';
	check_int(tar_write_entry(&b, name, "x", 1), ==, E_LIMIT);
	memset(name, 'n', 100);
	name[100] = '\0';
	check_int(tar_write_entry(&b, name, "x", 1), ==, E_LIMIT);
	/* past the buffer's cap: nothing written at all */
	check_int(tar_write_entry(&small, "a", name, 100), ==, 0);
	check_int(tar_write_entry(&small, "b", name, 100), ==, E_LIMIT);
	tap_quiet(0);
	check_int(small.len, ==, 1024);
	check_int(b.len, ==, 1024);                 /* unchanged by refusals */
	/* 99 bytes still fit the name field alone */
	name[99] = '\0';
	check_int(tar_write_entry(&b, name, "x", 1), ==, 0);
	check_int(b.data[1024 + 345], ==, 0);       /* no prefix */
	buf_free(&b);
	buf_free(&small);
}

/* Fail each allocation in turn: E_NOMEM, no leak (ASan checks at exit). */
static void test_alloc_failure(void)
{
	struct buf b = BUF_INIT(1 << 20);
	int nomem = 0, other = 0, ok = 0;

	for (int i = 0; i < 150; i++) {
		char name[32];

		snprintf(name, sizeof(name), "manifests/%03d.yaml", i);
		tar_write_entry(&b, name, name, strlen(name));
	}
	tar_write_end(&b);
	tap_quiet(1);
	for (unsigned long n = 1; n < 1000 && !ok; n++) {
		struct src s = src_of(&b, CHUNKS);
		int entries, rc;

		mem_fail_after(n);
		rc = read_all(&s, &limits, &entries, NULL, 0);
		mem_fail_after(0);
		if (rc == 0 && entries == 150)
			ok = 1;
		else if (rc == E_NOMEM)
			nomem++;
		else
			other++;
	}
	tap_quiet(0);
	check(ok);
	check_int(nomem, >=, 3);    /* reader, names, the set growing */
	check_int(other, ==, 0);
	buf_free(&b);
}

int main(void)
{
	test_round_trip();
	test_writer_deterministic();
	test_skip();
	test_gnu_archive();
	test_refuse_types();
	test_refuse_names();
	test_refuse_duplicates();
	test_refuse_header_fields();
	test_limits();
	test_truncated();
	test_end_marker();
	test_source_error();
	test_writer_refusals();
	test_alloc_failure();
	return tap_done();
}
