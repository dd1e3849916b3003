/* tar — bounded ustar reader and deterministic writer (see tar.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "mem.h"
#include "tar.h"

/* The ustar header (POSIX.1-1988): offset and length of each field. */
enum {
	H_NAME = 0, L_NAME = 100,
	H_MODE = 100, L_MODE = 8,
	H_UID = 108, L_UID = 8,
	H_GID = 116, L_GID = 8,
	H_SIZE = 124, L_SIZE = 12,
	H_MTIME = 136, L_MTIME = 12,
	H_CHKSUM = 148, L_CHKSUM = 8,
	H_TYPE = 156,
	H_MAGIC = 257,
	H_VERSION = 263,
	H_UNAME = 265,
	H_GNAME = 297,
	H_DEVMAJOR = 329, L_DEVMAJOR = 8,
	H_DEVMINOR = 337, L_DEVMINOR = 8,
	H_PREFIX = 345, L_PREFIX = 155,
};

/* The largest size 11 octal digits hold (8 GiB - 1). */
#define SIZE_FIELD_MAX 077777777777ULL

enum state { ST_NONE, ST_ENTRY, ST_END };

struct tar_reader {
	read_fn read;
	void *ctx;
	struct tar_limits lim;
	int err;                /* sticky: the first error */
	enum state state;
	uint64_t left;          /* data bytes of the current entry not yet read */
	size_t pad;             /* then this many bytes up to the block end */
	unsigned long entries;  /* headers seen */
	unsigned long cur;      /* the entry errors are about, 0 for none */
	uint64_t total;         /* data bytes declared so far */
	char **names;           /* open-addressing set of the accepted names */
	size_t nslots, nnames;
	char name[TAR_NAME_MAX + 1];
	/* the raw name as messages show it: every byte may take 4 */
	char shown[(L_PREFIX + 1 + L_NAME) * 4 + 1];
	char msg[(L_PREFIX + 1 + L_NAME) * 4 + 256];
	unsigned char block[TAR_BLOCK];
	unsigned char scratch[4096];
};

/* --- messages ------------------------------------------------------------ */

/* Keep printable ASCII, escape the rest: hostile names reach logs. */
static void show_name(char *dst, const unsigned char *s, size_t n)
{
	char *o = dst;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			*o++ = (char)c;
		} else {
			snprintf(o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	*o = '\0';
}

/* "tar: entry 3 'name': " into r->msg; returns its length. */
static size_t msg_prefix(struct tar_reader *r)
{
	int n;

	if (r->cur && r->shown[0])
		n = snprintf(r->msg, sizeof(r->msg), "tar: entry %lu '%s': ",
			     r->cur, r->shown);
	else if (r->cur)
		n = snprintf(r->msg, sizeof(r->msg), "tar: entry %lu: ", r->cur);
	else
		n = snprintf(r->msg, sizeof(r->msg), "tar: ");
	return n > 0 && (size_t)n < sizeof(r->msg) ? (size_t)n : 0;
}

/* Record and log a refusal about the current entry; returns e. */
static int fail(struct tar_reader *r, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct tar_reader *r, int e, const char *fmt, ...)
{
	size_t n = msg_prefix(r);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
	r->err = e;
	return error(e, "%s", r->msg);
}

/*
 * The source failed: it reported its own reason, so record ours for
 * tar_reader_error() without logging the failure twice.
 */
static int src_fail(struct tar_reader *r, int rc, const char *what)
{
	size_t n;

	if (rc == E_INTERNAL)
		return fail(r, rc, "%s: the source returned more bytes than asked",
			    what);
	n = msg_prefix(r);
	snprintf(r->msg + n, sizeof(r->msg) - n, "%s: %s", what, err_str(rc));
	r->err = rc;
	return rc;
}

/* --- reading the source -------------------------------------------------- */

/*
 * Fill p with n bytes; *got says how many arrived before the end of the
 * stream. Returns 0 or the source's error (E_INTERNAL if it overran).
 */
static int src_full(struct tar_reader *r, void *p, size_t n, size_t *got)
{
	size_t have = 0;

	while (have < n) {
		size_t want = n - have > INT_MAX ? INT_MAX : n - have;
		int k = r->read(r->ctx, (char *)p + have, want);

		if (k < 0)
			return k;
		if (k == 0)
			break;
		if ((size_t)k > want)
			return E_INTERNAL;
		have += (size_t)k;
	}
	*got = have;
	return 0;
}

/* Read and drop n bytes that belong to the archive (data or padding). */
static int skip(struct tar_reader *r, uint64_t n, const char *what)
{
	while (n) {
		size_t want = n < sizeof(r->scratch) ? (size_t)n : sizeof(r->scratch);
		size_t got;
		int rc = src_full(r, r->scratch, want, &got);

		if (rc)
			return src_fail(r, rc, what);
		if (got < want)
			return fail(r, E_TRUNCATED, "truncated: the stream ends "
				    "%llu bytes short in the entry's %s",
				    (unsigned long long)(n - got), what);
		n -= got;
	}
	return 0;
}

static int is_zero(const unsigned char *p, size_t n);

/*
 * After the end-of-archive marker: read the source to its end, so that a
 * filter below it (gzip) sees its own end and checks its trailer. Record
 * padding (zeros) is allowed up to TAR_TAIL_MAX; any other byte there (a
 * member appended after the end, garbage) is refused.
 */
static int drain(struct tar_reader *r)
{
	size_t seen = 0;

	for (;;) {
		int k = r->read(r->ctx, r->scratch, sizeof(r->scratch));

		if (k < 0)
			return src_fail(r, k, "after the end-of-archive marker");
		if (k == 0)
			return 0;
		if ((size_t)k > sizeof(r->scratch))
			return src_fail(r, E_INTERNAL, "after the end-of-archive marker");
		if (!is_zero(r->scratch, (size_t)k))
			return fail(r, E_FORMAT, "data after the end-of-archive "
				    "marker (only zero padding may follow it)");
		seen += (size_t)k;
		if (seen > TAR_TAIL_MAX)
			return fail(r, E_LIMIT, "more than %d bytes after the "
				    "end-of-archive marker", TAR_TAIL_MAX);
	}
}

/* --- header fields ------------------------------------------------------- */

static int is_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * A numeric field as POSIX has it: optional leading spaces, octal digits,
 * then at least one NUL or space inside the field and nothing else after.
 * Returns NULL and sets *v, or why the field is refused.
 */
static const char *parse_octal(const unsigned char *f, size_t n, int allow_empty,
			       uint64_t *v)
{
	size_t i = 0, digits = 0;
	uint64_t x = 0;

	if (f[0] & 0x80)
		return "is a base-256 number (GNU extension), not octal";
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++)
		x = x * 8 + (uint64_t)(f[i] - '0');   /* at most 11 digits */
	if (i == n)
		return digits ? "overflows its field (no NUL or space after the digits)"
			      : "is not octal";
	for (; i < n; i++)
		if (f[i] != '\0' && f[i] != ' ')
			return "is not octal";
	if (!digits && !allow_empty)
		return "is empty";
	*v = x;
	return NULL;
}

/*
 * A text field: NUL-terminated inside the field, only NULs after the NUL
 * (nothing hidden behind the terminator). Sets *len or returns why not.
 */
static const char *text_field(const unsigned char *f, size_t n, size_t *len)
{
	const unsigned char *z = memchr(f, 0, n);

	if (!z)
		return "is not NUL-terminated within its field";
	if (!is_zero(z, (size_t)(f + n - z)))
		return "has bytes after the NUL that ends it";
	*len = (size_t)(z - f);
	return NULL;
}

/*
 * Why a normalized name is refused, or NULL. Shared by the reader and the
 * writer so that the writer never makes an archive the reader refuses.
 */
static const char *path_problem(const char *p, size_t n)
{
	size_t start = 0;

	if (n == 0)
		return "empty name";
	if (p[0] == '/')
		return "absolute path";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			return "control character in name";
		if (c >= 0x80)
			return "non-ASCII byte in name";
	}
	for (size_t i = 0; i <= n; i++) {
		size_t len;

		if (i < n && p[i] != '/')
			continue;
		len = i - start;
		if (len == 0)
			return "empty path component ('//' or a trailing '/')";
		if (len == 1 && p[start] == '.')
			return "'.' path component";
		if (len == 2 && p[start] == '.' && p[start + 1] == '.')
			return "'..' path component (would leave the archive)";
		start = i + 1;
	}
	return NULL;
}

static const char *type_name(unsigned char t)
{
	switch (t) {
	case '1': return "hard link";
	case '2': return "symbolic link";
	case '3': return "character device";
	case '4': return "block device";
	case '6': return "FIFO";
	case '7': return "contiguous file";
	case 'x': return "pax extended header";
	case 'g': return "pax global header";
	case 'L': return "GNU long name";
	case 'K': return "GNU long link name";
	case 'S': return "GNU sparse file";
	case 'D': return "GNU directory dump";
	case 'M': return "GNU multi-volume continuation";
	case 'V': return "GNU volume label";
	case 'N': return "old GNU long name";
	default: return "unknown";
	}
}

/* --- the set of names ---------------------------------------------------- */

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* Slot for name: where it is, or the empty slot where it would go. */
static size_t name_slot(char **slots, size_t nslots, const char *name)
{
	size_t i = name_hash(name) & (nslots - 1);

	while (slots[i] && strcmp(slots[i], name) != 0)
		i = (i + 1) & (nslots - 1);
	return i;
}

static int names_grow(struct tar_reader *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 64;
	char **slots = mem_zalloc(n, sizeof(*slots));

	if (!slots)
		return E_NOMEM;
	for (size_t i = 0; i < r->nslots; i++)
		if (r->names[i])
			slots[name_slot(slots, n, r->names[i])] = r->names[i];
	mem_free(r->names);
	r->names = slots;
	r->nslots = n;
	return 0;
}

/* 0 when added, 1 when already there, E_NOMEM. */
static int names_add(struct tar_reader *r, const char *name)
{
	size_t i;
	char *copy;

	if ((r->nnames + 1) * 2 > r->nslots && names_grow(r))
		return E_NOMEM;
	i = name_slot(r->names, r->nslots, name);
	if (r->names[i])
		return 1;
	copy = mem_strdup(name);
	if (!copy)
		return E_NOMEM;
	r->names[i] = copy;
	r->nnames++;
	return 0;
}

/* --- the reader ---------------------------------------------------------- */

int tar_reader_new(struct tar_reader **out, read_fn read, void *ctx,
		   const struct tar_limits *limits)
{
	struct tar_reader *r;

	*out = NULL;
	if (!read || !limits || limits->max_name_len < 1 ||
	    limits->max_name_len > TAR_NAME_MAX)
		return error(E_USAGE, "tar: max_name_len must be 1..%d",
			     TAR_NAME_MAX);
	r = mem_zalloc(1, sizeof(*r));
	if (!r)
		return error(E_NOMEM, "tar: out of memory");
	r->read = read;
	r->ctx = ctx;
	r->lim = *limits;
	*out = r;
	return 0;
}

void tar_reader_free(struct tar_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nslots; i++)
		mem_free(r->names[i]);
	mem_free(r->names);
	mem_free(r);
}

const char *tar_reader_error(const struct tar_reader *r)
{
	return r->msg;
}

/* Both end-of-archive blocks: the first is in r->block. 0 or error. */
static int read_end(struct tar_reader *r)
{
	size_t got;
	int rc = src_full(r, r->block, TAR_BLOCK, &got);

	if (rc)
		return src_fail(r, rc, "reading the end-of-archive marker");
	if (got < TAR_BLOCK)
		return fail(r, E_TRUNCATED, "truncated: the end-of-archive "
			    "marker after entry %lu has one zero block, not two",
			    r->entries);
	if (!is_zero(r->block, TAR_BLOCK))
		return fail(r, E_FORMAT, "a zero block after entry %lu is "
			    "followed by data, not by a second zero block",
			    r->entries);
	rc = drain(r);
	if (rc)
		return rc;
	r->state = ST_END;
	return 0;
}

/*
 * Join prefix and name (the prefix only under the POSIX magic: GNU tar
 * keeps times there), for messages first, then checked.
 */
static int header_name(struct tar_reader *r, int posix, int is_dir)
{
	const unsigned char *h = r->block;
	size_t nlen, plen = 0, len;
	const char *why;
	char *p = r->name;

	/* First what messages show, even from malformed fields. */
	{
		unsigned char raw[L_PREFIX + 1 + L_NAME];
		size_t rp = posix ? strnlen((const char *)h + H_PREFIX, L_PREFIX) : 0;
		size_t rn = strnlen((const char *)h + H_NAME, L_NAME);

		memcpy(raw, h + H_PREFIX, rp);
		if (rp)
			raw[rp++] = '/';
		memcpy(raw + rp, h + H_NAME, rn);
		show_name(r->shown, raw, rp + rn);
	}
	why = text_field(h + H_NAME, L_NAME, &nlen);
	if (why)
		return fail(r, E_FORMAT, "name field %s", why);
	if (posix) {
		why = text_field(h + H_PREFIX, L_PREFIX, &plen);
		if (why)
			return fail(r, E_FORMAT, "prefix field %s", why);
	}
	if (plen) {
		memcpy(p, h + H_PREFIX, plen);
		p[plen] = '/';
		memcpy(p + plen + 1, h + H_NAME, nlen);
		len = plen + 1 + nlen;
	} else {
		memcpy(p, h + H_NAME, nlen);
		len = nlen;
	}
	p[len] = '\0';
	/* Directories: "dir/" and the archive root "./" or ".". */
	if (is_dir && len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	if (is_dir && len == 1 && p[0] == '.')
		return 0;
	why = path_problem(p, len);
	if (why)
		return fail(r, E_FORMAT, "%s", why);
	if (len > r->lim.max_name_len)
		return fail(r, E_LIMIT, "name longer than %zu bytes",
			    r->lim.max_name_len);
	return 0;
}

/* Numeric fields: size into *size, the others only checked. */
static int header_numbers(struct tar_reader *r, uint64_t *size)
{
	static const struct {
		const char *name;
		int off, len, allow_empty;
	} f[] = {
		{ "size", H_SIZE, L_SIZE, 0 },
		{ "mode", H_MODE, L_MODE, 1 },
		{ "uid", H_UID, L_UID, 1 },
		{ "gid", H_GID, L_GID, 1 },
		{ "mtime", H_MTIME, L_MTIME, 1 },
		{ "devmajor", H_DEVMAJOR, L_DEVMAJOR, 1 },
		{ "devminor", H_DEVMINOR, L_DEVMINOR, 1 },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		uint64_t v;
		const char *why = parse_octal(r->block + f[i].off, (size_t)f[i].len,
					      f[i].allow_empty, &v);

		if (why)
			return fail(r, E_FORMAT, "%s field %s", f[i].name, why);
		if (i == 0)
			*size = v;
	}
	return 0;
}

/*
 * One header block is in r->block and is not all zeros. Returns 1 for a
 * regular file (r->name, r->left set), 2 for a skipped directory, or an
 * error.
 */
static int header_parse(struct tar_reader *r)
{
	const unsigned char *h = r->block;
	unsigned char type = h[H_TYPE];
	uint64_t stored, sum = 0, size = 0;
	int posix, is_dir, rc;
	const char *why;

	r->cur = ++r->entries;
	r->shown[0] = '\0';
	if (r->entries > r->lim.max_entries)
		return fail(r, E_LIMIT, "more than %lu entries",
			    r->lim.max_entries);
	if (r->entries == 1 && h[0] == 0x1f && h[1] == 0x8b)
		return fail(r, E_FORMAT, "not a tar archive: the data is "
			    "gzip-compressed");
	posix = memcmp(h + H_MAGIC, "ustar\0" "00", 8) == 0;
	if (!posix && memcmp(h + H_MAGIC, "ustar  \0", 8) != 0)
		return fail(r, E_FORMAT, "not a ustar header (magic and version "
			    "are neither POSIX \"ustar\\0\" \"00\" nor GNU "
			    "\"ustar  \\0\")");
	why = parse_octal(h + H_CHKSUM, L_CHKSUM, 0, &stored);
	if (why)
		return fail(r, E_FORMAT, "checksum field %s", why);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += i >= H_CHKSUM && i < H_CHKSUM + L_CHKSUM ? ' ' : h[i];
	if (sum != stored)
		return fail(r, E_FORMAT, "header checksum mismatch (stored %llo, "
			    "computed %llo, octal)", (unsigned long long)stored,
			    (unsigned long long)sum);
	is_dir = type == '5';
	if (type != '0' && type != '\0' && !is_dir) {
		/* Before the name: these types often carry odd names. */
		show_name(r->shown, h + H_NAME, strnlen((const char *)h + H_NAME, L_NAME));
		if (type >= 0x21 && type < 0x7f)
			return fail(r, E_FORMAT, "unsupported entry type '%c' (%s)",
				    type, type_name(type));
		return fail(r, E_FORMAT, "unsupported entry type 0x%02x", type);
	}
	rc = header_name(r, posix, is_dir);
	if (rc)
		return rc;
	rc = header_numbers(r, &size);
	if (rc)
		return rc;
	if (is_dir) {
		if (size)
			return fail(r, E_FORMAT, "directory entry with %llu bytes "
				    "of data", (unsigned long long)size);
		return 2;
	}
	if (size > r->lim.max_entry_size)
		return fail(r, E_LIMIT, "size %llu exceeds the limit of %llu "
			    "bytes per entry", (unsigned long long)size,
			    (unsigned long long)r->lim.max_entry_size);
	if (size > r->lim.max_total_size - r->total)
		return fail(r, E_LIMIT, "size %llu takes the archive past its "
			    "limit of %llu bytes in all", (unsigned long long)size,
			    (unsigned long long)r->lim.max_total_size);
	rc = names_add(r, r->name);
	if (rc < 0)
		return fail(r, rc, "out of memory");
	if (rc)
		return fail(r, E_FORMAT, "duplicate name");
	r->total += size;
	r->left = size;
	r->pad = (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
	return 1;
}

int tar_next(struct tar_reader *r, struct tar_entry *e)
{
	int rc;

	if (r->err)
		return r->err;
	if (r->state == ST_END)
		return 0;
	if (r->state == ST_ENTRY) {
		rc = skip(r, r->left, "data");
		if (rc)
			return rc;
		r->left = 0;
		rc = skip(r, r->pad, "padding");
		if (rc)
			return rc;
		r->pad = 0;
		r->state = ST_NONE;
	}
	for (;;) {
		size_t got;

		r->cur = 0;
		rc = src_full(r, r->block, TAR_BLOCK, &got);
		if (rc)
			return src_fail(r, rc, "reading a header");
		if (got == 0)
			return fail(r, E_TRUNCATED, "truncated: the stream ends "
				    "after entry %lu without the end-of-archive "
				    "marker", r->entries);
		if (got < TAR_BLOCK)
			return fail(r, E_TRUNCATED, "truncated: the stream ends "
				    "inside the header after entry %lu", r->entries);
		if (is_zero(r->block, TAR_BLOCK)) {
			rc = read_end(r);
			return rc ? rc : 0;
		}
		rc = header_parse(r);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;
	}
	r->state = ST_ENTRY;
	e->name = r->name;
	e->size = r->left;
	return 1;
}

int tar_read(struct tar_reader *r, void *buf, size_t len)
{
	size_t want;
	int k;

	if (r->err)
		return r->err;
	if (r->state != ST_ENTRY)
		return error(E_STATE, "tar: read without a current entry");
	if (!r->left || !len)
		return 0;
	want = len;
	if (want > r->left)
		want = (size_t)r->left;
	if (want > INT_MAX)
		want = INT_MAX;
	k = r->read(r->ctx, buf, want);
	if (k < 0)
		return src_fail(r, k, "reading data");
	if (k == 0)
		return fail(r, E_TRUNCATED, "truncated: the stream ends %llu "
			    "bytes short in the entry's data",
			    (unsigned long long)r->left);
	if ((size_t)k > want)
		return src_fail(r, E_INTERNAL, "reading data");
	r->left -= (size_t)k;
	return k;
}

/* --- the writer ---------------------------------------------------------- */

/* n - 1 octal digits and a NUL. */
static void put_octal(unsigned char *f, size_t n, uint64_t v)
{
	snprintf((char *)f, n, "%0*llo", (int)(n - 1), (unsigned long long)v);
}

int tar_write_entry(struct buf *out, const char *name, const void *data,
		    size_t len)
{
	static const unsigned char zeros[TAR_BLOCK];
	unsigned char h[TAR_BLOCK];
	size_t n = strlen(name), split = 0, pad, total;
	const char *why = path_problem(name, n);
	uint64_t size64 = len;   /* a variable: on 32 bits it cannot be big */
	unsigned sum = 0;
	int rc;

	if (why)
		return error(E_FORMAT, "tar: cannot write '%s': %s", name, why);
	if (n > TAR_NAME_MAX)
		return error(E_LIMIT, "tar: cannot write '%s': name longer than "
			     "%d bytes", name, TAR_NAME_MAX);
	if (size64 > SIZE_FIELD_MAX || len > (size_t)-1 - 2 * TAR_BLOCK)
		return error(E_LIMIT, "tar: cannot write '%s': %zu bytes is "
			     "more than ustar holds", name, len);
	memset(h, 0, sizeof(h));
	if (n < L_NAME) {
		memcpy(h + H_NAME, name, n);
	} else {
		/* Split at the first '/' that leaves a short enough name. */
		for (split = 0; split < n; split++)
			if (name[split] == '/' && n - split - 1 < L_NAME)
				break;
		if (split == n || split >= L_PREFIX)
			return error(E_LIMIT, "tar: cannot write '%s': no '/' "
				     "splits it into a ustar prefix and name",
				     name);
		memcpy(h + H_PREFIX, name, split);
		memcpy(h + H_NAME, name + split + 1, n - split - 1);
	}
	put_octal(h + H_MODE, L_MODE, 0644);
	put_octal(h + H_UID, L_UID, 0);
	put_octal(h + H_GID, L_GID, 0);
	put_octal(h + H_SIZE, L_SIZE, len);
	put_octal(h + H_MTIME, L_MTIME, 0);
	h[H_TYPE] = '0';
	memcpy(h + H_MAGIC, "ustar\0" "00", 8);
	memcpy(h + H_UNAME, "root", 4);
	memcpy(h + H_GNAME, "root", 4);
	put_octal(h + H_DEVMAJOR, L_DEVMAJOR, 0);
	put_octal(h + H_DEVMINOR, L_DEVMINOR, 0);
	memset(h + H_CHKSUM, ' ', L_CHKSUM);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	put_octal(h + H_CHKSUM, 7, sum);   /* six digits, NUL, space */

	pad = (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK;
	total = TAR_BLOCK + len + pad;     /* no overflow: len < 8 GiB */
	rc = buf_grow(out, total);         /* all or nothing */
	if (rc)
		return error(rc, "tar: cannot write '%s': %s", name, err_str(rc));
	buf_add(out, h, TAR_BLOCK);
	buf_add(out, data, len);
	buf_add(out, zeros, pad);
	return 0;
}

int tar_write_end(struct buf *out)
{
	static const unsigned char zeros[2 * TAR_BLOCK];
	int rc = buf_add(out, zeros, sizeof(zeros));

	if (rc)
		return error(rc, "tar: cannot write the end-of-archive marker: %s",
			     err_str(rc));
	return 0;
}
