/*
 * file — reading and writing whole files, bounded and crash-safe.
 */
#ifndef OUTPOST_FILE_H
#define OUTPOST_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/*
 * Append the contents of path to out, at most max bytes ("-" is standard
 * input). The read buffer is wiped: key files pass through here. 0; E_NOTFOUND when it does not exist; E_LIMIT when it is larger
 * than max or than out's cap (nothing appended); E_IO otherwise. Each
 * error is logged with the path.
 */
int file_read(const char *path, size_t max, struct buf *out);

/*
 * Replace path with data atomically: write a temporary file beside it with
 * mode, fsync it, rename it over path and fsync the directory, so a power
 * cut leaves either the old or the new file. 0 or E_IO (logged).
 */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Create path with mode, failing if it exists (E_STATE), and write data,
 * fsynced. For secrets (mode 0600): the file never exists with wider
 * permissions. 0, E_STATE or E_IO (logged).
 */
int file_create(const char *path, const void *data, size_t len, mode_t mode);

#endif
