/*
 * content — the bytes a release carries: its bundle files (what rollback
 * re-applies with the network down), the inventory of objects it applied,
 * and partial downloads kept as 64 KiB-ish chunks for Range resume.
 */
#include <string.h>

#include "buf.h"
#include "error.h"
#include "mem.h"
#include "sql.h"
#include "store.h"

static int release_exists(struct store *st, const char *op, int64_t id)
{
	int64_t one;
	int rc = sql_int(st, op, &one, "SELECT 1 FROM releases WHERE id = ?",
			 "i", id);

	if (rc == 0)
		return error(E_NOTFOUND, "store: %s: no release %lld", op,
			     (long long)id);
	return rc < 0 ? rc : 0;
}

/*
 * Inside a transaction: check the release exists, delete its rows (sql_del)
 * and prepare the insert of the new ones (sql_ins) into *stmt. 0 or an enum
 * err; the caller finalizes *stmt either way (NULL is harmless).
 */
static int rows_replace(struct store *st, const char *op, int64_t release_id,
			const char *sql_del, const char *sql_ins, sqlite3_stmt **stmt)
{
	int rc = release_exists(st, op, release_id);

	if (!rc)
		rc = sql_exec(st, op, sql_del, "i", release_id);
	if (rc < 0)
		return rc;
	return sql_prepare(st, op, sql_ins, stmt);
}

/* --- bundle files ----------------------------------------------------- */

int store_files_put(struct store *st, int64_t release_id,
		    const struct store_file *files, size_t n)
{
	const char *op = "files put";
	sqlite3_stmt *stmt = NULL;
	int rc, tx;

	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = rows_replace(st, op, release_id,
			  "DELETE FROM release_files WHERE release_id = ?",
			  "INSERT INTO release_files (release_id, position, name, "
			  "size, sha256, content) VALUES (?, ?, ?, ?, ?, ?)", &stmt);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		const struct store_file *f = &files[i];

		if ((rc = sql_check_name(op, "file name", f->name, 4096)))
			break;
		sqlite3_reset(stmt);
		rc = sql_bind(st, op, stmt, "iitit" "b", release_id, (int64_t)i,
			      f->name, (int64_t)f->size, f->sha256 ? f->sha256 : "",
			      f->data, f->size);
		if (!rc)
			rc = sql_step(st, op, stmt);
	}
	sqlite3_finalize(stmt);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_files_get(struct store *st, int64_t release_id, store_file_fn fn,
		    void *ctx)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "files get", "SELECT name, sha256, content FROM "
			 "release_files WHERE release_id = ? ORDER BY position",
			 &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, "files get", stmt, "i", release_id);
	while (!rc && (rc = sql_step(st, "files get", stmt)) == 1) {
		struct store_file f;

		f.name = (const char *)sqlite3_column_text(stmt, 0);
		f.sha256 = (const char *)sqlite3_column_text(stmt, 1);
		f.data = sqlite3_column_blob(stmt, 2);
		f.size = (size_t)sqlite3_column_bytes(stmt, 2);
		if (!f.name || !f.sha256 || (!f.data && f.size)) {
			rc = sql_fail(st, "files get");
			break;
		}
		if (!f.data)
			f.data = "";
		rc = fn(ctx, &f);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_file_add(struct store *st, int64_t release_id, size_t position,
		   const char *name, uint64_t size, const char *sha256)
{
	const char *op = "file add";
	int rc, tx;

	if ((rc = sql_check_name(op, "file name", name, 4096)))
		return rc;
	if (size > (uint64_t)0x7fffffff)
		return error(E_LIMIT, "store: %s: %s is %llu bytes, too large", op, name,
			     (unsigned long long)size);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = release_exists(st, op, release_id);
	if (!rc)
		rc = sql_exec(st, op, "INSERT INTO release_files (release_id, position, name, "
			      "size, sha256, content) VALUES (?, ?, ?, ?, ?, zeroblob(?))",
			      "iititi", release_id, (int64_t)position, name, (int64_t)size,
			      sha256 ? sha256 : "", (int64_t)size);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_file_write(struct store *st, int64_t release_id, const char *name,
		     uint64_t offset, const void *data, size_t len)
{
	const char *op = "file write";
	int64_t rowid = 0, size = 0;
	sqlite3_blob *blob = NULL;
	int rc;

	if (!len)
		return 0;
	rc = sql_int(st, op, &rowid, "SELECT rowid FROM release_files WHERE "
		     "release_id = ? AND name = ?", "it", release_id, name);
	if (rc == 0)
		return error(E_NOTFOUND, "store: %s: release %lld has no file %s", op,
			     (long long)release_id, name);
	if (rc < 0)
		return rc;
	rc = sql_int(st, op, &size, "SELECT size FROM release_files WHERE rowid = ?", "i",
		     rowid);
	if (rc < 0)
		return rc;
	if (offset > (uint64_t)size || len > (uint64_t)size - offset)
		return error(E_LIMIT, "store: %s: %s: %zu bytes at %llu, past its %lld", op,
			     name, len, (unsigned long long)offset, (long long)size);
	if (sqlite3_blob_open(st->db, "main", "release_files", "content", rowid, 1,
			      &blob) != SQLITE_OK) {
		rc = sql_fail(st, op);
		sqlite3_blob_close(blob);
		return rc;
	}
	rc = sqlite3_blob_write(blob, data, (int)len, (int)offset) == SQLITE_OK ? 0 :
	     sql_fail(st, op);
	if (sqlite3_blob_close(blob) != SQLITE_OK && !rc)
		rc = sql_fail(st, op);
	return rc;
}

int store_file_get(struct store *st, int64_t release_id, const char *name,
		   struct buf *out)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "file get", "SELECT content FROM release_files "
			 "WHERE release_id = ? AND name = ?", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, "file get", stmt, "it", release_id, name);
	if (!rc)
		rc = sql_step(st, "file get", stmt);
	if (rc == 1) {
		const void *p = sqlite3_column_blob(stmt, 0);
		size_t n = (size_t)sqlite3_column_bytes(stmt, 0);

		rc = !p && n ? sql_fail(st, "file get") : n ? buf_add(out, p, n) : 0;
	} else if (rc == 0) {
		rc = E_NOTFOUND;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* --- inventory -------------------------------------------------------- */

int store_inventory_put(struct store *st, int64_t release_id,
			const struct store_object *objs, size_t n)
{
	const char *op = "inventory put";
	sqlite3_stmt *stmt = NULL;
	int rc, tx;

	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = rows_replace(st, op, release_id,
			  "DELETE FROM inventory WHERE release_id = ?",
			  "INSERT INTO inventory (release_id, api_version, kind, "
			  "namespace, name, uid, resource_version, wave) "
			  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &stmt);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		const struct store_object *o = &objs[i];

		if (!o->api_version || !*o->api_version || !o->kind || !*o->kind ||
		    !o->name || !*o->name) {
			rc = error(E_FORMAT, "store: %s: object %zu lacks "
				   "apiVersion, kind or name", op, i);
			break;
		}
		sqlite3_reset(stmt);
		rc = sql_bind(st, op, stmt, "itttttti", release_id, o->api_version,
			      o->kind, o->ns ? o->ns : "", o->name,
			      o->uid ? o->uid : "",
			      o->resource_version ? o->resource_version : "",
			      (int64_t)o->wave);
		if (!rc)
			rc = sql_step(st, op, stmt);
	}
	sqlite3_finalize(stmt);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

void store_objects_free(struct store_object *objs, size_t n)
{
	if (!objs)
		return;
	for (size_t i = 0; i < n; i++) {
		mem_free(objs[i].api_version);
		mem_free(objs[i].kind);
		mem_free(objs[i].ns);
		mem_free(objs[i].name);
		mem_free(objs[i].uid);
		mem_free(objs[i].resource_version);
	}
	mem_free(objs);
}

int store_inventory_get(struct store *st, int64_t release_id,
			struct store_object **objs, size_t *n)
{
	const char *op = "inventory get";
	struct store_object *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *stmt;
	int rc;

	*objs = NULL;
	*n = 0;
	rc = sql_prepare(st, op, "SELECT api_version, kind, namespace, name, uid,"
			 " resource_version, wave FROM inventory WHERE release_id = ?"
			 " ORDER BY wave, api_version, kind, namespace, name", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, op, stmt, "i", release_id);
	while (!rc && (rc = sql_step(st, op, stmt)) == 1) {
		struct store_object *o;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_object *nv = mem_realloc(v, ncap, sizeof(*v));

			if (!nv) {
				rc = error(E_NOMEM, "store: %s: out of memory", op);
				break;
			}
			v = nv;
			cap = ncap;
		}
		o = &v[len++];
		o->api_version = sql_strdup(stmt, 0);
		o->kind = sql_strdup(stmt, 1);
		o->ns = sql_strdup(stmt, 2);
		o->name = sql_strdup(stmt, 3);
		o->uid = sql_strdup(stmt, 4);
		o->resource_version = sql_strdup(stmt, 5);
		o->has_wave = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
		o->wave = o->has_wave ? sqlite3_column_int(stmt, 6) : 0;
		rc = o->api_version && o->kind && o->ns && o->name && o->uid &&
		     o->resource_version ? 0 :
		     error(E_NOMEM, "store: %s: out of memory", op);
	}
	sqlite3_finalize(stmt);
	if (rc) {
		store_objects_free(v, len);
		return rc;
	}
	*objs = v;
	*n = len;
	return 0;
}

/* --- partial downloads ------------------------------------------------ */

int store_download_open(struct store *st, const char *app, int64_t sequence,
			const char *url, int64_t size, const char *sha256,
			int64_t *id, int64_t *received)
{
	const char *op = "download open";
	sqlite3_stmt *stmt = NULL;
	int64_t now = sql_now();
	int rc, tx, same = 0;

	if ((rc = sql_check_name(op, "app", app, STORE_APP_MAX)) ||
	    (rc = sql_check_name(op, "url", url, 8192)) ||
	    (rc = sql_check_name(op, "sha256", sha256, 64)))
		return rc;
	if (size < 0)
		return error(E_FORMAT, "store: %s: negative size", op);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = sql_prepare(st, op, "SELECT id, received, url = ?3 AND size = ?4 "
			 "AND sha256 = ?5 FROM downloads WHERE app = ?1 AND "
			 "sequence = ?2", &stmt);
	if (!rc)
		rc = sql_bind(st, op, stmt, "titit", app, sequence, url, size, sha256);
	if (!rc)
		rc = sql_step(st, op, stmt);
	if (rc == 1) {
		*id = sqlite3_column_int64(stmt, 0);
		*received = sqlite3_column_int64(stmt, 1);
		same = sqlite3_column_int(stmt, 2);
		rc = 0;
	}
	sqlite3_finalize(stmt);
	/* a download of an older sequence would never be resumed: the
	 * pointer moved on */
	if (!rc && (rc = sql_exec(st, op, "DELETE FROM downloads WHERE app = ? AND "
				  "sequence < ?", "ti", app, sequence)) > 0)
		rc = 0;
	if (rc || same)
		return tx_end(st, op, tx, rc);
	/* new, or the server now serves other bytes: start from zero */
	rc = sql_exec(st, op, "DELETE FROM downloads WHERE app = ? AND sequence = ?",
		      "ti", app, sequence);
	if (rc >= 0)
		rc = sql_exec(st, op, "INSERT INTO downloads (app, sequence, url, "
			      "size, sha256, created, updated) VALUES "
			      "(?, ?, ?, ?, ?, ?, ?)", "tititii", app, sequence,
			      url, size, sha256, now, now);
	if (rc >= 0) {
		*id = sqlite3_last_insert_rowid(st->db);
		*received = 0;
	}
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_download_append(struct store *st, int64_t id, int64_t offset,
			  const void *data, size_t len)
{
	const char *op = "download append";
	sqlite3_stmt *stmt = NULL;
	int64_t received = 0, size = 0;
	int rc, tx;

	if (len > (size_t)64 << 20)
		return error(E_LIMIT, "store: %s: chunk of %zu bytes", op, len);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = sql_prepare(st, op, "SELECT received, size FROM downloads "
			 "WHERE id = ?", &stmt);
	if (!rc)
		rc = sql_bind(st, op, stmt, "i", id);
	if (!rc)
		rc = sql_step(st, op, stmt);
	if (rc == 1) {
		received = sqlite3_column_int64(stmt, 0);
		size = sqlite3_column_int64(stmt, 1);
		rc = 0;
	} else if (rc == 0) {
		rc = error(E_NOTFOUND, "store: %s: no download %lld", op,
			   (long long)id);
	}
	sqlite3_finalize(stmt);
	if (!rc && offset != received)
		rc = error(E_STATE, "store: %s: chunk at %lld, but %lld bytes "
			   "are stored", op, (long long)offset,
			   (long long)received);
	if (!rc && (int64_t)len > size - received)
		rc = error(E_LIMIT, "store: %s: %lld + %zu bytes exceed the "
			   "expected %lld", op, (long long)received, len,
			   (long long)size);
	if (!rc && len)
		rc = sql_exec(st, op, "INSERT INTO download_chunks (download_id, "
			      "offset, data) VALUES (?, ?, ?)", "iib", id,
			      offset, data, len);
	if (rc >= 0)
		rc = sql_exec(st, op, "UPDATE downloads SET received = ?, "
			      "updated = ? WHERE id = ?", "iii",
			      received + (int64_t)len, sql_now(), id);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_download_read(struct store *st, int64_t id, store_chunk_fn fn,
			void *ctx)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "download read", "SELECT data FROM download_chunks "
			 "WHERE download_id = ? ORDER BY offset", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, "download read", stmt, "i", id);
	while (!rc && (rc = sql_step(st, "download read", stmt)) == 1) {
		const void *p = sqlite3_column_blob(stmt, 0);
		size_t n = (size_t)sqlite3_column_bytes(stmt, 0);

		rc = !p && n ? sql_fail(st, "download read") : fn(ctx, p ? p : "", n);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_download_chunk(struct store *st, int64_t id, int64_t offset,
			 struct buf *out)
{
	const char *op = "download chunk";
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, op, "SELECT data FROM download_chunks WHERE "
			 "download_id = ? AND offset = ?", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, op, stmt, "ii", id, offset);
	if (!rc)
		rc = sql_step(st, op, stmt);
	if (rc == 1) {
		const void *p = sqlite3_column_blob(stmt, 0);
		size_t n = (size_t)sqlite3_column_bytes(stmt, 0);

		rc = !p && n ? sql_fail(st, op) : n ? buf_add(out, p, n) : 0;
	} else if (rc == 0) {
		rc = E_NOTFOUND;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_download_delete(struct store *st, int64_t id)
{
	int rc = sql_exec(st, "download delete", "DELETE FROM downloads "
			  "WHERE id = ?", "i", id);

	return rc < 0 ? rc : 0;
}
