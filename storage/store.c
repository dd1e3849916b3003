/*
 * store — the connection: open with the durability settings, check the file,
 * move a corrupt one aside, migrate the schema, and the transaction and
 * error helpers the query files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "mem.h"
#include "sql.h"
#include "store.h"

/* An internal answer of open_db(): the file is not a sound database. */
#define CORRUPT 1

#define BUSY_TIMEOUT_MS 5000

const char *store_library_version(void)
{
	return sqlite3_libversion();
}

/* --- SQLite's memory through mem_* ------------------------------------- */

/*
 * SQLite needs the size of an allocation back (xSize): keep it in an 8-byte
 * header, which also keeps the 8-byte alignment SQLite requires.
 */
#define HDR 8

static void *sq_malloc(int n)
{
	unsigned char *p;

	if (n < 0)
		return NULL;
	p = mem_alloc(1, (size_t)n + HDR);
	if (!p)
		return NULL;
	*(uint64_t *)(void *)p = (uint64_t)n;
	return p + HDR;
}

static void sq_free(void *p)
{
	if (p)
		mem_free((unsigned char *)p - HDR);
}

static void *sq_realloc(void *p, int n)
{
	unsigned char *q;

	if (!p)
		return sq_malloc(n);
	if (n < 0)
		return NULL;
	q = mem_realloc((unsigned char *)p - HDR, 1, (size_t)n + HDR);
	if (!q)
		return NULL;
	*(uint64_t *)(void *)q = (uint64_t)n;
	return q + HDR;
}

static int sq_size(void *p)
{
	return p ? (int)*(uint64_t *)(void *)((unsigned char *)p - HDR) : 0;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *unused)
{
	(void)unused;
	return SQLITE_OK;
}

static void sq_shutdown(void *unused)
{
	(void)unused;
}

/* SQLite's own diagnostics (WAL recovery, corruption details) at debug. */
static void sq_log(void *unused, int code, const char *msg)
{
	(void)unused;
	log_debug("sqlite: %s (%d)", msg, code);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_sqlite(void)
{
	static const sqlite3_mem_methods mem = {
		sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup,
		sq_init, sq_shutdown, NULL
	};

	/* SQLITE_MISUSE here means SQLite was initialized already by someone
	 * else: it then keeps the system allocator, which is only a loss for
	 * fault-injection tests. */
	sqlite3_config(SQLITE_CONFIG_MALLOC, &mem);
	sqlite3_config(SQLITE_CONFIG_LOG, sq_log, NULL);
	init_rc = sqlite3_initialize() == SQLITE_OK ? 0 :
		error(E_STORE, "store: cannot initialize SQLite");
}

int store_init(void)
{
	pthread_once(&init_once, init_sqlite);
	return init_rc;
}

/* --- helpers shared by the query files --------------------------------- */

int sql_fail(struct store *st, const char *op)
{
	int code = sqlite3_extended_errcode(st->db);

	switch (code & 0xff) {
	case SQLITE_NOMEM:
		return error(E_NOMEM, "store: %s: out of memory", op);
	case SQLITE_FULL:
		return error(E_STORE, "store: %s: disk full (%s)", op, st->path);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return error(E_STORE, "store: %s: database is corrupt (%s); "
			     "restart outpost to check and recover it", op,
			     sqlite3_errmsg(st->db));
	default:
		return error(E_STORE, "store: %s: %s (%d, %s)", op,
			     sqlite3_errmsg(st->db), code, st->path);
	}
}

static struct {
	const char *op;         /* NULL: any */
	unsigned long left;     /* 0: disarmed */
	int fired;
} inject;

void store_fail_at(const char *op, unsigned long n)
{
	inject.op = op;
	inject.left = n;
	inject.fired = 0;
}

int store_fail_fired(void)
{
	return inject.fired;
}

/* Whether the statement of op is the one store_fail_at() chose. */
static int injected(const char *op)
{
	if (!inject.left || (inject.op && strcmp(inject.op, op) != 0) || --inject.left)
		return 0;
	inject.fired = 1;
	return 1;
}

int sql_prepare(struct store *st, const char *op, const char *sql,
		sqlite3_stmt **stmt)
{
	if (injected(op)) {
		*stmt = NULL;
		return error(E_STORE, "store: %s: disk I/O error (injected, %s)", op, st->path);
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		*stmt = NULL;
		return sql_fail(st, op);
	}
	return 0;
}

int sql_bindv(struct store *st, const char *op, sqlite3_stmt *stmt,
	      const char *fmt, va_list ap)
{
	/* the format must name every parameter: a forgotten one would
	 * silently bind NULL */
	if ((int)(fmt ? strlen(fmt) : 0) != sqlite3_bind_parameter_count(stmt))
		return error(E_INTERNAL, "store: %s: %d parameters, bind format "
			     "\"%s\"", op, sqlite3_bind_parameter_count(stmt),
			     fmt ? fmt : "");
	for (int i = 1; fmt && *fmt; fmt++, i++) {
		int rc;

		switch (*fmt) {
		case 'i':
			rc = sqlite3_bind_int64(stmt, i, va_arg(ap, int64_t));
			break;
		case 't': {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC)
			       : sqlite3_bind_null(stmt, i);
			break;
		}
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			if (n > (size_t)0x7fffffff)
				return error(E_LIMIT, "store: %s: value of %zu "
					     "bytes is too large", op, n);
			rc = p ? sqlite3_bind_blob(stmt, i, p, (int)n, SQLITE_STATIC)
			       : sqlite3_bind_zeroblob(stmt, i, 0);
			break;
		}
		default:
			return error(E_INTERNAL, "store: %s: bad bind format '%c'",
				     op, *fmt);
		}
		if (rc != SQLITE_OK)
			return sql_fail(st, op);
	}
	return 0;
}

int sql_bind(struct store *st, const char *op, sqlite3_stmt *stmt,
	     const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sql_bindv(st, op, stmt, fmt, ap);
	va_end(ap);
	return rc;
}

int sql_preparev(struct store *st, const char *op, const char *sql,
		 sqlite3_stmt **stmt, const char *fmt, va_list ap)
{
	int rc = sql_prepare(st, op, sql, stmt);

	if (!rc && (rc = sql_bindv(st, op, *stmt, fmt, ap)) != 0) {
		sqlite3_finalize(*stmt);
		*stmt = NULL;
	}
	return rc;
}

int sql_step(struct store *st, const char *op, sqlite3_stmt *stmt)
{
	switch (sqlite3_step(stmt)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		return sql_fail(st, op);
	}
}

int sql_exec(struct store *st, const char *op, const char *sql,
	     const char *fmt, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sql_preparev(st, op, sql, &stmt, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	while ((rc = sql_step(st, op, stmt)) == 1)
		;               /* a statement with RETURNING: drain it */
	sqlite3_finalize(stmt);
	return rc < 0 ? rc : sqlite3_changes(st->db);
}

int sql_int(struct store *st, const char *op, int64_t *value, const char *sql,
	    const char *fmt, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sql_preparev(st, op, sql, &stmt, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	rc = sql_step(st, op, stmt);
	if (rc == 1)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc;
}

void sql_text(sqlite3_stmt *stmt, int col, char *dst, size_t size)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	size_t n = s ? (size_t)sqlite3_column_bytes(stmt, col) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

char *sql_strdup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	if (!s)
		return mem_strdup("");
	return mem_strndup((const char *)s, (size_t)sqlite3_column_bytes(stmt, col));
}

int sql_check_name(const char *op, const char *what, const char *s, size_t max)
{
	size_t n;

	if (!s || !*s)
		return error(E_FORMAT, "store: %s: empty %s", op, what);
	n = strlen(s);
	if (n > max)
		return error(E_LIMIT, "store: %s: %s longer than %zu bytes",
			     op, what, max);
	return 0;
}

int64_t sql_now(void)
{
	return (int64_t)time(NULL);
}

/* A plain statement on the connection, without logging (for cleanup). */
static int exec_quiet(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

int tx_begin(struct store *st, const char *op)
{
	/* Inside a transaction already (a store_begin() group, or a store
	 * function built on others): a savepoint, so that this call is still
	 * all or nothing within it. */
	if (!sqlite3_get_autocommit(st->db)) {
		if (sqlite3_exec(st->db, "SAVEPOINT op", NULL, NULL, NULL) != SQLITE_OK)
			return sql_fail(st, op);
		return 1;
	}
	if (st->in_tx)
		return error(E_STORE, "store: %s: the transaction was rolled back "
			     "after an earlier error; roll the group back", op);
	/* IMMEDIATE takes the write lock now, so that a busy database is
	 * waited for here (busy_timeout) rather than failing mid-way when a
	 * read lock cannot be upgraded. */
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(st, op);
	return 0;
}

int tx_end(struct store *st, const char *op, int tx, int rc)
{
	if (tx == 1) {
		if (rc >= 0) {
			if (exec_quiet(st, "RELEASE op") != SQLITE_OK)
				rc = sql_fail(st, op);
		} else if (!sqlite3_get_autocommit(st->db)) {
			exec_quiet(st, "ROLLBACK TO op");
			exec_quiet(st, "RELEASE op");
		}
		/* After SQLITE_FULL or an I/O error SQLite may have rolled back
		 * the whole transaction; the outer level finds out. */
		return rc;
	}
	if (rc >= 0) {
		if (exec_quiet(st, "COMMIT") == SQLITE_OK)
			return rc;
		rc = sql_fail(st, op);
	}
	if (!sqlite3_get_autocommit(st->db))
		exec_quiet(st, "ROLLBACK");
	return rc;
}

/* --- transactions for callers ----------------------------------------- */

int store_begin(struct store *st)
{
	if (st->in_tx)
		return error(E_STATE, "store: begin: a transaction is already open");
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(st, "begin");
	st->in_tx = 1;
	return 0;
}

int store_commit(struct store *st)
{
	if (!st->in_tx)
		return error(E_STATE, "store: commit: no transaction is open");
	st->in_tx = 0;
	if (sqlite3_get_autocommit(st->db))
		return error(E_STORE, "store: commit: the transaction was rolled "
			     "back after an earlier error; nothing was written");
	if (exec_quiet(st, "COMMIT") == SQLITE_OK)
		return 0;
	{
		int rc = sql_fail(st, "commit");

		if (!sqlite3_get_autocommit(st->db))
			exec_quiet(st, "ROLLBACK");
		return rc;
	}
}

int store_rollback(struct store *st)
{
	if (!st->in_tx)
		return error(E_STATE, "store: rollback: no transaction is open");
	st->in_tx = 0;
	if (!sqlite3_get_autocommit(st->db) &&
	    exec_quiet(st, "ROLLBACK") != SQLITE_OK)
		return sql_fail(st, "rollback");
	return 0;
}

/* --- files: mode, moving aside ------------------------------------------ */

/*
 * Bundles may carry Secrets: the database and its -wal/-shm are 0600. The
 * file is created here before SQLite opens it, because SQLite creates
 * -wal and -shm with the mode of the database file.
 */
static int secure_file(const char *path, int create)
{
	struct stat sb;
	int fd;

	if (create) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return error(E_IO, "store: create %s: %s", path,
				     strerror(errno));
	}
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0;
		return error(E_IO, "store: stat %s: %s", path, strerror(errno));
	}
	if ((sb.st_mode & 077) && chmod(path, sb.st_mode & 0700) != 0)
		return error(E_IO, "store: chmod %s: %s", path, strerror(errno));
	return 0;
}

static int secure_files(const char *path, int create)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct buf name = BUF_INIT(4096);
	int rc = 0;

	for (size_t i = 0; i < 3 && !rc; i++) {
		buf_reset(&name);
		rc = buf_addf(&name, "%s%s", path, sfx[i]);
		if (!rc)
			rc = secure_file(name.data, create && i == 0);
	}
	buf_free(&name);
	return rc;
}

static void sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? mem_strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : mem_strdup(".");
	int fd;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	mem_free(dir);
}

/* Move path, path-wal and path-shm to path.corrupt-<time>[.<n>]. */
static int move_aside(struct store *st)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct buf to = BUF_INIT(4096), from = BUF_INIT(4096);
	struct stat sb;
	long long t = (long long)sql_now();
	int rc = 0;

	for (int n = 0; n < 100; n++) {
		buf_reset(&to);
		rc = n ? buf_addf(&to, "%s.corrupt-%lld.%d", st->path, t, n)
		       : buf_addf(&to, "%s.corrupt-%lld", st->path, t);
		if (rc || lstat(to.data, &sb) != 0)
			break;
	}
	if (rc)
		goto out;
	mem_free(st->reset_path);
	st->reset_path = mem_strdup(to.data);
	if (!st->reset_path) {
		rc = E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		buf_reset(&from);
		buf_truncate(&to, strlen(st->reset_path));
		if ((rc = buf_addf(&from, "%s%s", st->path, sfx[i])) ||
		    (rc = buf_addstr(&to, sfx[i])))
			goto out;
		if (rename(from.data, to.data) != 0 && errno != ENOENT) {
			rc = error(E_IO, "store: move %s to %s: %s", from.data,
				   to.data, strerror(errno));
			goto out;
		}
	}
	sync_dir_of(st->path);
out:
	buf_free(&to);
	buf_free(&from);
	return rc;
}

/* --- open ------------------------------------------------------------- */

static int is_corrupt_code(int code)
{
	return (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB;
}

/* A failed statement at open: CORRUPT when the file is bad, else an error. */
static int open_fail(struct store *st, const char *op)
{
	if (is_corrupt_code(sqlite3_extended_errcode(st->db))) {
		log_warn("store: %s: %s: %s", st->path, op, sqlite3_errmsg(st->db));
		return CORRUPT;
	}
	return sql_fail(st, op);
}

static int pragma_int(struct store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return open_fail(st, sql);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : open_fail(st, sql);
}

/*
 * Run a check pragma; CORRUPT unless its single row says "ok". Open runs
 * quick_check: it reads every page and verifies every b-tree, which is what
 * a torn write or a bad flash sector breaks. integrity_check also matches
 * every index entry against its row (O(N log N), and what it adds catches
 * bugs rather than bad media); store_check() offers it on demand. Measured
 * on x86_64, warm cache, 1,000 releases with files and inventory (5.2 MB):
 * open with quick_check 14 ms, integrity_check 18 ms.
 */
static int run_check(struct store *st, const char *pragma)
{
	sqlite3_stmt *stmt;
	int rc, step;

	if (sqlite3_prepare_v2(st->db, pragma, -1, &stmt, NULL) != SQLITE_OK)
		return open_fail(st, pragma);
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(stmt, 0);

		if (r && strcmp(r, "ok") == 0) {
			rc = 0;
		} else {
			log_warn("store: %s: %s: %s", st->path, pragma,
				 r ? r : "(no answer)");
			rc = CORRUPT;
		}
	} else {
		rc = open_fail(st, pragma);
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int too_new(struct store *st, int64_t v)
{
	return error(E_STORE, "store: %s has schema version %lld, newer than "
		     "this outpost knows (%d): refusing to use it; run a newer "
		     "outpost", st->path, (long long)v, schema_version);
}

/* Apply the missing migration steps, each in its own transaction. */
static int migrate(struct store *st)
{
	for (;;) {
		char sql[64];
		int64_t v;
		int rc;

		/* Re-read inside the write lock: another process may have
		 * migrated since we looked. */
		if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return open_fail(st, "migrate");
		rc = pragma_int(st, "PRAGMA user_version", &v);
		if (!rc && v > schema_version)
			rc = too_new(st, v);
		if (!rc && v == schema_version) {
			exec_quiet(st, "ROLLBACK");
			return 0;
		}
		if (!rc && v < 0)
			rc = CORRUPT;
		if (!rc && sqlite3_exec(st->db, schema_steps[v], NULL, NULL,
					NULL) != SQLITE_OK)
			rc = open_fail(st, "migrate");
		if (!rc) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
				 (long long)v + 1);
			if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
			    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
				rc = open_fail(st, "migrate");
		}
		if (rc) {
			if (!sqlite3_get_autocommit(st->db))
				exec_quiet(st, "ROLLBACK");
			return rc;
		}
		log_info("store: %s: schema migrated to version %lld", st->path,
			 (long long)v + 1);
	}
}

/*
 * Incremental auto-vacuum, so that store_vacuum() can give the pages of
 * collected releases back: a fresh file took the mode in open_db(); a
 * file made before (auto_vacuum NONE) changes mode only with a VACUUM,
 * once. A VACUUM that cannot run now (disk full: it needs room
 * for a copy) leaves the file as it was, to try again at the next open.
 */
static int auto_vacuum(struct store *st)
{
	int64_t mode = 0, tables = 0;
	int rc = pragma_int(st, "PRAGMA auto_vacuum", &mode);

	if (rc || mode == 2)
		return rc;
	if (sqlite3_exec(st->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL,
			 NULL) != SQLITE_OK)
		return open_fail(st, "auto_vacuum");
	rc = pragma_int(st, "SELECT count(*) FROM sqlite_schema", &tables);
	if (rc || tables == 0)
		return rc;
	if (sqlite3_exec(st->db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK) {
		if (is_corrupt_code(sqlite3_extended_errcode(st->db)))
			return open_fail(st, "vacuum");
		log_warn("store: %s: cannot switch to incremental auto-vacuum now (%s): "
			 "freed space is reused but the file does not shrink; trying "
			 "again at the next start", st->path, sqlite3_errmsg(st->db));
		return 0;
	}
	log_info("store: %s: switched to incremental auto-vacuum (one VACUUM)", st->path);
	return 0;
}

static void close_db(struct store *st)
{
	if (st->db) {
		if (st->in_tx && !sqlite3_get_autocommit(st->db))
			exec_quiet(st, "ROLLBACK");
		st->in_tx = 0;
		/* the last connection checkpoints and removes the WAL */
		sqlite3_close(st->db);
		st->db = NULL;
	}
}

/* 0 open and migrated, CORRUPT, or a negative enum err. */
static int open_db(struct store *st)
{
	int64_t v = 0, tables = -1;
	char *mode = NULL;
	sqlite3_stmt *stmt;
	int rc;

	rc = secure_files(st->path, 1);
	if (rc)
		return rc;
	rc = sqlite3_open_v2(st->path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		if (!st->db)
			return error(E_NOMEM, "store: open %s: out of memory",
				     st->path);
		return is_corrupt_code(rc) ? CORRUPT : sql_fail(st, "open");
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);

	/* Read the version before anything writes: a database from a newer
	 * outpost is left exactly as it is. This is also the first read of
	 * the header, where a file that is not a database shows. */
	rc = pragma_int(st, "PRAGMA user_version", &v);
	if (rc)
		return rc;
	if (v > schema_version)
		return too_new(st, v);
	/* a fresh file takes its vacuum mode before anything is written
	 * (switching to WAL writes the header) */
	if (v == 0 && pragma_int(st, "SELECT count(*) FROM sqlite_schema", &tables) == 0 &&
	    tables == 0 && sqlite3_exec(st->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL,
					NULL, NULL) != SQLITE_OK)
		return open_fail(st, "auto_vacuum");

	/*
	 * WAL with synchronous=FULL. In WAL mode, NORMAL syncs the WAL only
	 * at checkpoints: SQLite's docs (pragma.html#pragma_synchronous,
	 * wal.html "Performance Considerations") say a transaction committed
	 * under NORMAL "might roll back following a power loss or system
	 * crash", while FULL syncs the WAL at every commit, so a commit that
	 * returned is durable. A release transition that returned must not
	 * come undone at the next boot (a rollback could re-apply a release
	 * already marked failed), so FULL it is: one fsync per transition is
	 * cheap at our rate. The build default SQLITE_DEFAULT_WAL_SYNCHRONOUS
	 * is NORMAL, hence the explicit pragma.
	 */
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt,
			       NULL) != SQLITE_OK)
		return open_fail(st, "journal_mode");
	if (sqlite3_step(stmt) == SQLITE_ROW)
		mode = mem_strdup((const char *)sqlite3_column_text(stmt, 0) ?
				  (const char *)sqlite3_column_text(stmt, 0) : "");
	sqlite3_finalize(stmt);
	if (!mode)
		return open_fail(st, "journal_mode");
	rc = strcmp(mode, "wal") == 0 ? 0 :
		error(E_STORE, "store: %s: cannot use WAL (journal mode %s)",
		      st->path, mode);
	mem_free(mode);
	if (rc)
		return rc;
	if (sqlite3_exec(st->db, "PRAGMA synchronous = FULL;"
			 "PRAGMA foreign_keys = ON;"
			 /* zero freed content when it costs no extra I/O:
			  * released bundles may have carried Secrets */
			 "PRAGMA secure_delete = FAST;"
			 /* a 64 MiB bundle grows the WAL to its size: give the
			  * space back after the checkpoint */
			 "PRAGMA journal_size_limit = 4194304;", NULL, NULL,
			 NULL) != SQLITE_OK)
		return open_fail(st, "pragmas");
	if (pragma_int(st, "PRAGMA synchronous", &v) == 0 && v != 2)
		return error(E_STORE, "store: %s: synchronous=FULL not taken",
			     st->path);

	rc = run_check(st, "PRAGMA quick_check(1)");
	if (!rc)
		rc = auto_vacuum(st);
	if (rc)
		return rc;
	rc = migrate(st);
	if (rc)
		return rc;
	/* -wal and -shm now exist: make sure of their mode too */
	return secure_files(st->path, 0);
}

int store_open(const char *path, struct store **out)
{
	struct store *st;
	int rc;

	*out = NULL;
	rc = store_init();
	if (rc)
		return rc;
	st = mem_zalloc(1, sizeof(*st));
	if (!st)
		return error(E_NOMEM, "store: open: out of memory");
	st->history_max = STORE_HISTORY_MAX;
	st->outbox_max = STORE_OUTBOX_MAX;
	st->path = mem_strdup(path);
	if (!st->path) {
		rc = error(E_NOMEM, "store: open: out of memory");
		goto fail;
	}
	rc = open_db(st);
	if (rc == CORRUPT) {
		close_db(st);
		rc = move_aside(st);
		if (rc)
			goto fail;
		log_error("store: %s is corrupt: moved to %s; starting with an "
			  "empty database", st->path, st->reset_path);
		rc = open_db(st);
		if (rc == CORRUPT)
			rc = error(E_STORE, "store: %s: a fresh database fails "
				   "its check", st->path);
	}
	if (rc)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	close_db(st);
	mem_free(st->path);
	mem_free(st->reset_path);
	mem_free(st);
}

int store_was_reset(const struct store *st)
{
	return st->reset_path != NULL;
}

const char *store_reset_path(const struct store *st)
{
	return st->reset_path;
}

void store_set_limits(struct store *st, unsigned history_per_app,
		      unsigned outbox_max)
{
	st->history_max = history_per_app ? history_per_app : 1;
	st->outbox_max = outbox_max ? outbox_max : 1;
}

int store_check(struct store *st)
{
	int rc = run_check(st, "PRAGMA integrity_check(1)");

	return rc == CORRUPT ? error(E_STORE, "store: %s: integrity check failed",
				     st->path) : rc;
}
