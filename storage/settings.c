/*
 * settings — small keyed values, the cached API discovery document, and
 * the trust root with the history of accepted roots.
 */
#include <string.h>

#include "buf.h"
#include "error.h"
#include "sql.h"
#include "store.h"

#define KEY_MAX 255

/* Append column col of the first row of a one-row query to out. */
static int blob_to_buf(struct store *st, const char *op, sqlite3_stmt *stmt,
		       int col, struct buf *out)
{
	const void *p = sqlite3_column_blob(stmt, col);
	size_t n = (size_t)sqlite3_column_bytes(stmt, col);

	if (!p && n)
		return sql_fail(st, op);
	return n ? buf_add(out, p, n) : 0;
}

/* --- settings --------------------------------------------------------- */

int store_setting_get(struct store *st, const char *key, struct buf *out)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "setting get", "SELECT value FROM settings "
			 "WHERE key = ?", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, "setting get", stmt, "t", key);
	if (!rc)
		rc = sql_step(st, "setting get", stmt);
	if (rc == 1)
		rc = blob_to_buf(st, "setting get", stmt, 0, out);
	else if (rc == 0)
		rc = E_NOTFOUND;
	sqlite3_finalize(stmt);
	return rc;
}

int store_setting_set(struct store *st, const char *key, const void *value,
		      size_t len)
{
	int rc = sql_check_name("setting set", "key", key, KEY_MAX);

	if (rc)
		return rc;
	rc = sql_exec(st, "setting set", "INSERT INTO settings (key, value) "
		      "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
		      "tb", key, value, len);
	return rc < 0 ? rc : 0;
}

int store_setting_delete(struct store *st, const char *key)
{
	int rc = sql_exec(st, "setting delete", "DELETE FROM settings "
			  "WHERE key = ?", "t", key);

	return rc < 0 ? rc : 0;
}

int store_setting_get_int(struct store *st, const char *key, int64_t def,
			  int64_t *value)
{
	int64_t v = def;
	int rc = sql_int(st, "setting get", &v, "SELECT CAST(value AS INTEGER) "
			 "FROM settings WHERE key = ?", "t", key);

	if (rc < 0)
		return rc;
	*value = v;
	return 0;
}

int store_setting_set_int(struct store *st, const char *key, int64_t value)
{
	int rc = sql_check_name("setting set", "key", key, KEY_MAX);

	if (rc)
		return rc;
	rc = sql_exec(st, "setting set", "INSERT INTO settings (key, value) "
		      "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
		      "ti", key, value);
	return rc < 0 ? rc : 0;
}

/* --- discovery cache -------------------------------------------------- */

int store_discovery_put(struct store *st, const char *json, size_t len,
			int64_t fetched)
{
	int rc = sql_exec(st, "discovery put", "INSERT INTO discovery (id, "
			  "fetched, json) VALUES (1, ?1, ?2) ON CONFLICT (id) "
			  "DO UPDATE SET fetched = ?1, json = ?2", "ib",
			  fetched, json, len);

	return rc < 0 ? rc : 0;
}

int store_discovery_get(struct store *st, struct buf *out, int64_t *fetched)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "discovery get", "SELECT fetched, json FROM "
			 "discovery WHERE id = 1", &stmt);
	if (rc)
		return rc;
	rc = sql_step(st, "discovery get", stmt);
	if (rc == 1) {
		if (fetched)
			*fetched = sqlite3_column_int64(stmt, 0);
		rc = blob_to_buf(st, "discovery get", stmt, 1, out);
	} else if (rc == 0) {
		rc = E_NOTFOUND;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* --- trust root ------------------------------------------------------- */

int store_root_put(struct store *st, int64_t version, int64_t expires,
		   const void *root, size_t root_len, const void *sig,
		   size_t sig_len)
{
	const char *op = "root put";
	sqlite3_stmt *stmt = NULL;
	int rc, tx, same = 0;
	int64_t cur = -1;

	if (!root_len || !sig_len)
		return error(E_FORMAT, "store: %s: empty root or signature", op);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = sql_prepare(st, op, "SELECT version, root = ?1 AND sig = ?2 FROM "
			 "trust_roots ORDER BY version DESC LIMIT 1", &stmt);
	if (!rc)
		rc = sql_bind(st, op, stmt, "bb", root, root_len, sig, sig_len);
	if (!rc)
		rc = sql_step(st, op, stmt);
	if (rc == 1) {
		cur = sqlite3_column_int64(stmt, 0);
		same = sqlite3_column_int(stmt, 1);
		rc = 0;
	}
	sqlite3_finalize(stmt);
	if (!rc && version == cur && same)
		return tx_end(st, op, tx, 0);
	if (!rc && version <= cur)
		rc = error(E_ROLLBACK, "store: %s: root version %lld is not newer "
			   "than the accepted %lld", op, (long long)version,
			   (long long)cur);
	if (!rc)
		rc = sql_exec(st, op, "INSERT INTO trust_roots (version, expires, "
			      "root, sig, accepted) VALUES (?, ?, ?, ?, ?)",
			      "iibbi", version, expires, root, root_len, sig,
			      sig_len, sql_now());
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

/* The newest root (after < 0), or the lowest version above after. */
static int root_get(struct store *st, int64_t after, struct buf *root, struct buf *sig,
		    int64_t *version, int64_t *expires)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "root get", after < 0 ?
			 "SELECT version, expires, root, sig FROM trust_roots "
			 "WHERE ?1 < 0 ORDER BY version DESC LIMIT 1" :
			 "SELECT version, expires, root, sig FROM trust_roots "
			 "WHERE version > ?1 ORDER BY version LIMIT 1", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, "root get", stmt, "i", after);
	if (!rc)
		rc = sql_step(st, "root get", stmt);
	if (rc == 1) {
		if (version)
			*version = sqlite3_column_int64(stmt, 0);
		if (expires)
			*expires = sqlite3_column_int64(stmt, 1);
		rc = root ? blob_to_buf(st, "root get", stmt, 2, root) : 0;
		if (!rc && sig)
			rc = blob_to_buf(st, "root get", stmt, 3, sig);
	} else if (rc == 0) {
		rc = E_NOTFOUND;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_root_get(struct store *st, struct buf *root, struct buf *sig,
		   int64_t *version, int64_t *expires)
{
	return root_get(st, -1, root, sig, version, expires);
}

int store_root_next(struct store *st, int64_t after, struct buf *root,
		    struct buf *sig, int64_t *version)
{
	return root_get(st, after < 0 ? 0 : after, root, sig, version, NULL);
}

int store_root_history(struct store *st, store_root_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "root history", "SELECT version, expires, accepted "
			 "FROM trust_roots ORDER BY version", &stmt);
	if (rc)
		return rc;
	while ((rc = sql_step(st, "root history", stmt)) == 1) {
		rc = fn(ctx, sqlite3_column_int64(stmt, 0),
			sqlite3_column_int64(stmt, 1),
			sqlite3_column_int64(stmt, 2));
		if (rc)
			break;
	}
	sqlite3_finalize(stmt);
	return rc;
}
