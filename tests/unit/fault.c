/* fault — the fault-injecting SQLite VFS of the unit tests (fault.h). */
#include <stddef.h>

#include <sqlite3.h>

#include "fault.h"

struct fault F;

struct ffile {
	sqlite3_file base;
	sqlite3_file *real;
};

static sqlite3_vfs *rvfs;
static sqlite3_vfs fvfs;

static int fault_now(int kind)
{
	if (!F.armed || !(F.kinds & kind))
		return 0;
	F.count++;
	if (F.count == F.at || (F.sticky && F.count > F.at)) {
		F.triggered = 1;
		return 1;
	}
	return 0;
}

void fault_arm(long at, int kinds, int code, int sticky, int torn)
{
	F.armed = 1;
	F.at = at;
	F.count = 0;
	F.kinds = kinds;
	F.code = code;
	F.sticky = sticky;
	F.torn = torn;
	F.triggered = 0;
}

void fault_disarm(void)
{
	F.armed = 0;
}

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	if (fault_now(F_WRITE)) {
		if (F.torn && F.count == F.at && n > 1)
			REAL(f)->pMethods->xWrite(REAL(f), p, n / 2, off);
		return F.code;
	}
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (fault_now(F_TRUNC))
		return F.code == SQLITE_FULL ? SQLITE_IOERR_TRUNCATE : F.code;
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	if (fault_now(F_SYNC))
		return F.code == SQLITE_FULL ? SQLITE_IOERR_FSYNC : F.code;
	if (F.nosync)
		return SQLITE_OK;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}

static int f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void f_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods fio = {
	3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock,
	f_unlock, f_reserved, f_fcntl, f_sector, f_devchar, f_shmmap,
	f_shmlock, f_shmbarrier, f_shmunmap, f_fetch, f_unfetch
};

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
		  int flags, int *out)
{
	struct ffile *f = (struct ffile *)file;
	int rc;

	(void)vfs;
	f->real = (sqlite3_file *)&f[1];
	rc = rvfs->xOpen(rvfs, name, f->real, flags, out);
	f->base.pMethods = f->real->pMethods ? &fio : NULL;
	return rc;
}

static int f_delete(sqlite3_vfs *vfs, const char *name, int syncdir)
{
	(void)vfs;
	return rvfs->xDelete(rvfs, name, syncdir);
}

static int f_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return rvfs->xAccess(rvfs, name, flags, out);
}

static int f_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return rvfs->xFullPathname(rvfs, name, n, out);
}

void fault_vfs_install(void)
{
	rvfs = sqlite3_vfs_find(NULL);
	fvfs = *rvfs;
	fvfs.zName = "fault";
	fvfs.szOsFile = (int)sizeof(struct ffile) + rvfs->szOsFile;
	fvfs.xOpen = f_open;
	fvfs.xDelete = f_delete;
	fvfs.xAccess = f_access;
	fvfs.xFullPathname = f_fullpath;
	sqlite3_vfs_register(&fvfs, 1);
}
