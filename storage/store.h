/*
 * store — outpost's state in SQLite, and the only place with SQL.
 */
#ifndef OUTPOST_STORE_H
#define OUTPOST_STORE_H

/* The SQLite version linked in, e.g. "3.40.1". */
const char *store_library_version(void);

#endif
