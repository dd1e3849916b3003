/*
 * version — what this binary is: outpost's version and git revision, the
 * target, the features compiled in, and the versions of the libraries it
 * was linked with (as they report themselves) and the Debian source
 * packages they came from.
 */
#ifndef OUTPOST_VERSION_H
#define OUTPOST_VERSION_H

#include "buf.h"

/*
 * Append the multi-line version report to out. sqlite_version is the state
 * store's library version (storage/ owns SQLite: the command line asks it).
 */
int version_describe(struct buf *out, const char *sqlite_version);

/* "0.1.0 (abcdef123456)" — for User-Agent headers and reports. */
const char *version_short(void);

#endif
