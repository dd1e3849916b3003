/*
 * fault — a SQLite VFS for tests that wraps the default one and fails the
 * N-th write, fsync or truncate (or every one from the N-th: the disk is
 * gone or full), optionally tearing the failing write in half. Installed
 * as the default VFS, so every store_open() after fault_vfs_install() goes
 * through it; disarmed, it only passes calls on.
 */
#ifndef OUTPOST_FAULT_H
#define OUTPOST_FAULT_H

enum { F_WRITE = 1, F_SYNC = 2, F_TRUNC = 4 };

struct fault {
	int armed;
	int kinds;          /* which operations count */
	long at, count;     /* fail the at-th counted operation */
	int sticky;         /* and every one after it: the disk is gone */
	int torn;           /* the failing write writes half its bytes first */
	int code;           /* SQLITE_IOERR_WRITE, SQLITE_FULL, ... */
	int triggered;
	int nosync;         /* skip real fsyncs: tests need no durability */
};
extern struct fault F;

void fault_vfs_install(void);
/* Fail the at-th operation of kinds from now with code (SQLite's). */
void fault_arm(long at, int kinds, int code, int sticky, int torn);
void fault_disarm(void);

#endif
