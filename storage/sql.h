/*
 * sql — internal to storage/: the connection object and the small helpers
 * every query file uses (prepare, bind, step, one transaction per call).
 * Nothing outside storage/ includes this header; agent code sees store.h.
 */
#ifndef OUTPOST_STORAGE_SQL_H
#define OUTPOST_STORAGE_SQL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store {
	sqlite3 *db;
	char *path;
	char *reset_path;       /* where a corrupt database was moved, or NULL */
	int in_tx;              /* inside store_begin() .. store_commit() */
	unsigned history_max;   /* history rows kept per app */
	unsigned outbox_max;    /* report outbox rows kept */
};

/* The migration steps: schema_steps[i] takes user_version i to i + 1. */
extern const char *const schema_steps[];
extern const int schema_version;

/*
 * Turn the connection's last SQLite error into an enum err, logging
 * "store: OP: why" once. SQLITE_FULL becomes a plain "disk full" sentence,
 * SQLITE_NOMEM becomes E_NOMEM; everything else is E_STORE.
 */
int sql_fail(struct store *st, const char *op);

/* Prepare one statement; the caller finalizes it. */
int sql_prepare(struct store *st, const char *op, const char *sql,
		sqlite3_stmt **stmt);

/*
 * Bind parameters 1..n from a format: 'i' int64_t, 't' const char * text
 * (NULL binds NULL), 'b' const void * + size_t blob (NULL pointer with size 0
 * binds an empty blob).
 */
int sql_bindv(struct store *st, const char *op, sqlite3_stmt *stmt,
	      const char *fmt, va_list ap);
int sql_bind(struct store *st, const char *op, sqlite3_stmt *stmt,
	     const char *fmt, ...);

/*
 * sql_prepare() and sql_bindv() in one: 0 with *stmt for the caller to
 * finalize, or an enum err with nothing left to finalize.
 */
int sql_preparev(struct store *st, const char *op, const char *sql,
		 sqlite3_stmt **stmt, const char *fmt, va_list ap);

/* Step once: 1 with a row, 0 when done, a negative enum err on failure. */
int sql_step(struct store *st, const char *op, sqlite3_stmt *stmt);

/*
 * Prepare, bind, run to completion and finalize a statement that returns no
 * rows. Returns the number of rows it changed (>= 0) or an enum err.
 */
int sql_exec(struct store *st, const char *op, const char *sql,
	     const char *fmt, ...);

/*
 * Run a query whose first column of its first row is an integer: 1 and
 * *value set with a row, 0 without one (value untouched), or an enum err.
 */
int sql_int(struct store *st, const char *op, int64_t *value, const char *sql,
	    const char *fmt, ...);

/*
 * One transaction per public write: tx_begin() opens BEGIN IMMEDIATE and
 * returns 0, or, inside a transaction already (a store_begin() group or an
 * outer store call), a SAVEPOINT and returns 1, so that a failed call leaves
 * nothing half-done; a negative enum err on failure. tx_end(st, op, tx, rc)
 * with tx_begin()'s answer commits when rc >= 0 and rolls back otherwise,
 * returning rc or the commit's error.
 *
 *   int tx = tx_begin(st, op);
 *   if (tx < 0) return tx;
 *   rc = ...;
 *   return tx_end(st, op, tx, rc);
 */
int tx_begin(struct store *st, const char *op);
int tx_end(struct store *st, const char *op, int tx, int rc);

/* Wall-clock seconds for created/updated columns. */
int64_t sql_now(void);

/* Copy a TEXT column into a fixed array, truncating; "" for NULL. */
void sql_text(sqlite3_stmt *stmt, int col, char *dst, size_t size);
/* A heap copy of a TEXT column (mem_free), "" for NULL; NULL on no memory. */
char *sql_strdup(sqlite3_stmt *stmt, int col);

/* Check an application name or other key: non-empty, at most max bytes. */
int sql_check_name(const char *op, const char *what, const char *s, size_t max);

#endif
