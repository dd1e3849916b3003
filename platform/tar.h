/*
 * tar — a bounded, pull-style reader of release bundles (ustar archives),
 * and the deterministic writer that `outpost bundle pack` uses.
 *
 * A bundle arrives from the network or a USB stick: it is hostile. The
 * reader pulls 512-byte blocks from a read callback, never reads past a
 * bound, allocates nothing according to a size field (only a copy of each
 * accepted name, bounded by the limits), and refuses anything but plain
 * regular files with one specific error each, naming the entry and the
 * reason. The reader owns its entry names; the caller owns the source.
 *
 * What is accepted:
 *  - POSIX ustar headers (magic "ustar\0", version "00") and GNU tar's
 *    ("ustar " " \0"; its prefix field holds other data and is ignored);
 *  - typeflag '0' or '\0' (regular file). Directory entries ('5') are
 *    skipped silently, because `tar -C dir -c .` writes them ("./",
 *    "./sub/"): they carry no data, must have size 0 and a valid name, and
 *    count against max_entries. Every other type is refused: hard links,
 *    symlinks, devices, FIFOs, pax headers ('x', 'g'), GNU long names
 *    ('L', 'K'), sparse files, "contiguous" files ('7')...;
 *  - names: prefix "/" name when the prefix is set; each field NUL-
 *    terminated inside it with only NULs after the terminator (so a name
 *    holds at most 99 + 1 + 154 = TAR_NAME_MAX bytes); printable ASCII;
 *    relative; no empty, "." or ".." component; one leading "./" is
 *    removed ("./a" and "a" are the same name and a duplicate);
 *  - numeric fields in octal, terminated by a NUL or space inside the
 *    field (GNU base-256 numbers are refused); a correct header checksum
 *    (unsigned sum, as every current tar writes it).
 * The end: two zero blocks, as POSIX says. A stream that ends after
 * complete entries without them is refused as truncated (a cut download
 * must not pass for a smaller bundle). A zero block followed by anything
 * but a second zero block is refused. After the end marker the reader
 * reads the source to its end (so a filter below, e.g. gzip, checks its
 * trailer) and allows up to TAR_TAIL_MAX zero bytes there (tar pads
 * archives to 10 KiB records); a non-zero byte or more than that is
 * refused.
 *
 * Errors: E_FORMAT malformed or refused entry, E_TRUNCATED the stream
 * ended early, E_LIMIT a limit was passed, E_NOMEM, or the source's own
 * negative code. Each refusal is logged once with error() and kept for
 * tar_reader_error(). Errors are sticky: after one, every call returns it.
 */
#ifndef OUTPOST_TAR_H
#define OUTPOST_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#ifndef OUTPOST_READ_FN
#define OUTPOST_READ_FN
/*
 * A pull source (also in gzip.h): put up to len bytes in buf and return how
 * many (at least 1), 0 at the end of the stream, or a negative enum err.
 * Callers never ask for more than INT_MAX bytes.
 */
typedef int (*read_fn)(void *ctx, void *buf, size_t len);
#endif

#define TAR_BLOCK 512
/* The longest name ustar holds with NUL-terminated fields: 154 "/" 99. */
#define TAR_NAME_MAX 254
/* Bytes tolerated (and ignored) after the end-of-archive blocks. */
#define TAR_TAIL_MAX (1024 * 1024)

struct tar_limits {
	unsigned long max_entries;  /* headers, directories included */
	uint64_t max_entry_size;    /* data bytes of one entry */
	uint64_t max_total_size;    /* data bytes of all entries together */
	size_t max_name_len;        /* 1..TAR_NAME_MAX, after normalizing */
};

struct tar_entry {
	const char *name;   /* normalized, owned by the reader, valid until
			       the next tar_next() or tar_reader_free() */
	uint64_t size;
};

struct tar_reader;

/*
 * A reader pulling from read(ctx, ...). Returns 0 and sets *out, or
 * E_USAGE for limits out of range, E_NOMEM. Free with tar_reader_free();
 * the source stays the caller's.
 */
int tar_reader_new(struct tar_reader **out, read_fn read, void *ctx,
		   const struct tar_limits *limits);

/*
 * Advance to the next regular file, skipping what is left of the current
 * one. Returns 1 and fills *e, 0 at the clean end of the archive, or a
 * negative enum err.
 */
int tar_next(struct tar_reader *r, struct tar_entry *e);

/*
 * Read up to len bytes of the current entry's data: returns how many, 0 at
 * the end of the entry, a negative enum err (E_TRUNCATED when the stream
 * ends inside the data; E_STATE when tar_next() has not given an entry).
 */
int tar_read(struct tar_reader *r, void *buf, size_t len);

/* The last refusal, "tar: entry 3 'a.yaml': why", or "" when none. */
const char *tar_reader_error(const struct tar_reader *r);

/* Accepts NULL. */
void tar_reader_free(struct tar_reader *r);

/*
 * Append one regular file to out, deterministically: ustar, mode 0644,
 * uid/gid 0, uname/gname "root", mtime 0, so the same files give the same
 * bytes. name must be what the reader would return (normalized: no leading
 * "./"); the writer cannot see duplicates, the caller must avoid them.
 * Returns 0, E_FORMAT for a name the reader would refuse, E_LIMIT (len
 * past what ustar holds, or out->max), E_NOMEM; out is unchanged on error.
 */
int tar_write_entry(struct buf *out, const char *name, const void *data,
		    size_t len);

/* Append the end-of-archive marker (two zero blocks). 0 or buf's error. */
int tar_write_end(struct buf *out);

#endif
