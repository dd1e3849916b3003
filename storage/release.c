/*
 * release — the release rows and their state machine (compare-and-set,
 * history in the same transaction), last-known-good, and the floors.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "sql.h"
#include "store.h"

static const char *const state_names[STORE_NSTATES] = {
	[STORE_FETCHED] = "fetched",
	[STORE_VERIFIED] = "verified",
	[STORE_APPLYING] = "applying",
	[STORE_APPLIED] = "applied",
	[STORE_HEALTHY] = "healthy",
	[STORE_FAILED] = "failed",
	[STORE_ROLLING_BACK] = "rolling-back",
	[STORE_ROLLED_BACK] = "rolled-back",
};

const char *store_state_name(int state)
{
	if (state < 0 || state >= STORE_NSTATES)
		return "?";
	return state_names[state];
}

int store_state_parse(const char *s)
{
	for (int i = 0; s && i < STORE_NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

int store_state_quarantined(int state)
{
	return state == STORE_FAILED || state == STORE_ROLLING_BACK ||
	       state == STORE_ROLLED_BACK;
}

static int check_digest(const char *op, const char *d)
{
	size_t n = d ? strlen(d) : 0;

	if (n != 64 || strspn(d, "0123456789abcdef") != 64)
		return error(E_FORMAT, "store: %s: digest is not 64 lowercase "
			     "hex digits", op);
	return 0;
}

/* --- history ---------------------------------------------------------- */

/* Insert one history row and keep only the newest history_max of app. */
static int history_add(struct store *st, const char *app, int64_t sequence,
		       int from, int to, const char *msg)
{
	int rc;

	rc = sql_exec(st, "history", "INSERT INTO history (app, sequence, "
		      "from_state, to_state, message, time) "
		      "VALUES (?, ?, ?, ?, ?, ?)", "tittti", app, sequence,
		      from < 0 ? "" : state_names[from], state_names[to],
		      msg ? msg : "", sql_now());
	if (rc < 0)
		return rc;
	/* history_by_app (app, id) makes both the OFFSET probe and the
	 * range delete index walks. */
	rc = sql_exec(st, "history prune", "DELETE FROM history WHERE app = ?1 "
		      "AND id <= (SELECT id FROM history WHERE app = ?1 "
		      "ORDER BY id DESC LIMIT 1 OFFSET ?2)", "ti", app,
		      (int64_t)st->history_max);
	return rc < 0 ? rc : 0;
}

int store_history_list(struct store *st, const char *app, size_t limit,
		       store_history_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "history list", app ?
			 "SELECT id, app, sequence, from_state, to_state, message,"
			 " time FROM history WHERE app = ?1 ORDER BY id DESC LIMIT ?2" :
			 "SELECT id, app, sequence, from_state, to_state, message,"
			 " time FROM history WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2",
			 &stmt);
	if (rc)
		return rc;
	/* LIMIT is signed; anything past INT32_MAX means "all" anyway */
	rc = sql_bind(st, "history list", stmt, "ti", app,
		      (int64_t)(limit > 0x7fffffff ? 0x7fffffff : limit));
	while (!rc && (rc = sql_step(st, "history list", stmt)) == 1) {
		struct store_history h = {
			.id = sqlite3_column_int64(stmt, 0),
			.app = (const char *)sqlite3_column_text(stmt, 1),
			.sequence = sqlite3_column_int64(stmt, 2),
			.from = store_state_parse((const char *)sqlite3_column_text(stmt, 3)),
			.to = store_state_parse((const char *)sqlite3_column_text(stmt, 4)),
			.message = (const char *)sqlite3_column_text(stmt, 5),
			.time = sqlite3_column_int64(stmt, 6),
		};

		if (!h.app || !h.message) {
			rc = sql_fail(st, "history list");
			break;
		}
		rc = fn(ctx, &h);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* --- releases --------------------------------------------------------- */

#define RELEASE_COLS "id, app, sequence, version, digest, state, attempts, " \
		     "last_error, created, updated"

static void release_row(sqlite3_stmt *stmt, struct store_release *r)
{
	char state[32];

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(stmt, 0);
	sql_text(stmt, 1, r->app, sizeof(r->app));
	r->sequence = sqlite3_column_int64(stmt, 2);
	sql_text(stmt, 3, r->version, sizeof(r->version));
	sql_text(stmt, 4, r->digest, sizeof(r->digest));
	sql_text(stmt, 5, state, sizeof(state));
	r->state = (enum store_state)store_state_parse(state);
	r->attempts = sqlite3_column_int(stmt, 6);
	sql_text(stmt, 7, r->last_error, sizeof(r->last_error));
	r->created = sqlite3_column_int64(stmt, 8);
	r->updated = sqlite3_column_int64(stmt, 9);
}

/* One release by a query; E_NOTFOUND without a row. */
static int release_query(struct store *st, const char *op, const char *sql,
			 struct store_release *out, const char *fmt, ...)
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
	if (rc == 1) {
		release_row(stmt, out);
		rc = 0;
	} else if (rc == 0) {
		rc = E_NOTFOUND;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_release_get(struct store *st, const char *app, int64_t sequence,
		      struct store_release *out)
{
	return release_query(st, "release get", "SELECT " RELEASE_COLS
			     " FROM releases WHERE app = ? AND sequence = ?",
			     out, "ti", app, sequence);
}

int store_release_get_id(struct store *st, int64_t id, struct store_release *out)
{
	return release_query(st, "release get", "SELECT " RELEASE_COLS
			     " FROM releases WHERE id = ?", out, "i", id);
}

int store_release_latest(struct store *st, const char *app,
			 struct store_release *out)
{
	return release_query(st, "release latest", "SELECT " RELEASE_COLS
			     " FROM releases WHERE app = ? ORDER BY id DESC"
			     " LIMIT 1", out, "t", app);
}

int store_release_list(struct store *st, const char *app, store_release_fn fn,
		       void *ctx)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "release list", "SELECT " RELEASE_COLS " FROM "
			 "releases WHERE ?1 IS NULL OR app = ?1 "
			 "ORDER BY app, sequence DESC", &stmt);
	if (rc)
		return rc;
	rc = sql_bind(st, "release list", stmt, "t", app);
	while (!rc && (rc = sql_step(st, "release list", stmt)) == 1) {
		struct store_release r;

		release_row(stmt, &r);
		rc = fn(ctx, &r);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_release_add(struct store *st, const char *app, int64_t sequence,
		      const char *version, const char *digest, int64_t *id)
{
	const char *op = "release add";
	int64_t now = sql_now();
	int rc, tx;

	if ((rc = sql_check_name(op, "app", app, STORE_APP_MAX)) ||
	    (rc = sql_check_name(op, "version", version, STORE_VERSION_MAX)) ||
	    (rc = check_digest(op, digest)))
		return rc;
	if (sequence < 0)
		return error(E_FORMAT, "store: %s: negative sequence", op);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = sql_exec(st, op, "INSERT INTO releases (app, sequence, version, "
		      "digest, state, created, updated) VALUES (?, ?, ?, ?, "
		      "'fetched', ?, ?) ON CONFLICT (app, sequence) DO NOTHING",
		      "tittii", app, sequence, version, digest, now, now);
	if (rc == 0)
		rc = error(E_STATE, "store: %s: %s sequence %lld is already "
			   "known", op, app, (long long)sequence);
	if (rc > 0) {
		if (id)
			*id = sqlite3_last_insert_rowid(st->db);
		rc = sql_exec(st, op, "INSERT INTO apps (app) VALUES (?) "
			      "ON CONFLICT DO NOTHING", "t", app);
	}
	if (rc >= 0)
		rc = history_add(st, app, sequence, -1, STORE_FETCHED, NULL);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_release_set_state(struct store *st, const char *app,
			    int64_t sequence, enum store_state from,
			    enum store_state to, const char *msg)
{
	const char *op = "release state";
	struct store_release r;
	char err[STORE_ERROR_MAX + 1];
	int rc, tx;

	if ((unsigned)from >= STORE_NSTATES || (unsigned)to >= STORE_NSTATES)
		return error(E_INTERNAL, "store: %s: no such state", op);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	/* Read and update inside one write transaction: nobody can move the
	 * release between our look and our change. */
	rc = store_release_get(st, app, sequence, &r);
	if (rc == E_NOTFOUND)
		rc = error(E_NOTFOUND, "store: %s: no release %s sequence %lld",
			   op, app, (long long)sequence);
	else if (!rc && r.state != from)
		rc = error(E_STATE, "store: %s: %s sequence %lld is %s, not %s; "
			   "not moved to %s", op, app, (long long)sequence,
			   store_state_name(r.state), store_state_name(from),
			   store_state_name(to));
	if (!rc) {
		/* last_error keeps a bounded prefix; history keeps it whole */
		snprintf(err, sizeof(err), "%s", msg ? msg : "");
		rc = sql_exec(st, op, "UPDATE releases SET state = ?, updated = ?,"
			      " attempts = attempts + ?,"
			      " last_error = CASE WHEN ? THEN ? ELSE last_error END"
			      " WHERE id = ? AND state = ?", "tiiitit",
			      state_names[to], sql_now(),
			      (int64_t)(to == STORE_APPLYING),
			      (int64_t)(to == STORE_FAILED), err, r.id,
			      state_names[from]);
		if (rc == 0)
			rc = error(E_INTERNAL, "store: %s: release changed "
				   "under a write lock", op);
	}
	if (rc >= 0)
		rc = history_add(st, app, sequence, from, to, msg);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_release_gc(struct store *st, const char *app, unsigned keep)
{
	const char *op = "release gc";
	int64_t n = 0;
	int rc, tx;

	if ((rc = sql_check_name(op, "app", app, STORE_APP_MAX)))
		return rc;
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	/* The victims: every release of app but the newest, the lkg and the
	 * `keep` newest of the rest. */
	rc = sql_exec(st, op, "CREATE TEMP TABLE IF NOT EXISTS gc_victims "
		      "(id INTEGER PRIMARY KEY, sequence INTEGER NOT NULL)", NULL);
	if (rc >= 0)
		rc = sql_exec(st, op, "DELETE FROM temp.gc_victims", NULL);
	if (rc >= 0)
		rc = sql_exec(st, op, "INSERT INTO temp.gc_victims (id, sequence) "
			      "SELECT id, sequence FROM releases WHERE app = ?1"
			      " AND id IS NOT (SELECT lkg_release_id FROM apps WHERE app = ?1)"
			      " AND sequence < (SELECT max(sequence) FROM releases WHERE app = ?1)"
			      " ORDER BY sequence DESC LIMIT -1 OFFSET ?2", "ti", app,
			      (int64_t)keep);
	if (rc >= 0)
		rc = sql_int(st, op, &n, "SELECT count(*) FROM temp.gc_victims", NULL);
	/* settings of a release: "release/<app>/<sequence>/..." */
	if (rc >= 0)
		rc = sql_exec(st, op, "DELETE FROM settings WHERE key IN (SELECT s.key "
			      "FROM settings AS s, temp.gc_victims AS v WHERE substr(s.key, 1, "
			      "length('release/' || ?1 || '/' || v.sequence || '/')) = "
			      "'release/' || ?1 || '/' || v.sequence || '/')", "t", app);
	/* files and inventory go with the row (ON DELETE CASCADE) */
	if (rc >= 0)
		rc = sql_exec(st, op, "DELETE FROM releases WHERE id IN "
			      "(SELECT id FROM temp.gc_victims)", NULL);
	if (rc >= 0)
		rc = sql_exec(st, op, "DELETE FROM downloads WHERE app = ?1 AND "
			      "sequence <= (SELECT max(sequence) FROM releases WHERE app = ?1)",
			      "t", app);
	if (rc >= 0)
		rc = sql_exec(st, op, "DELETE FROM temp.gc_victims", NULL);
	return tx_end(st, op, tx, rc < 0 ? rc : (int)n);
}

int store_release_set_digest(struct store *st, int64_t id, const char *digest)
{
	const char *op = "release set digest";
	int rc = sql_check_name(op, "digest", digest, 64);

	if (!rc)
		rc = sql_exec(st, op, "UPDATE releases SET digest = ? WHERE id = ?", "ti",
			      digest, id);
	if (rc == 0)
		return error(E_NOTFOUND, "store: %s: no release %lld", op, (long long)id);
	return rc < 0 ? rc : 0;
}

int store_vacuum(struct store *st)
{
	const char *op = "vacuum";
	int64_t before = 0, after = 0;
	int rc;

	if (st->in_tx)
		return error(E_STATE, "store: %s: inside a group", op);
	rc = sql_int(st, op, &before, "PRAGMA freelist_count", NULL);
	if (rc >= 0)
		rc = sql_exec(st, op, "PRAGMA incremental_vacuum", NULL);
	if (rc >= 0)
		rc = sql_int(st, op, &after, "PRAGMA freelist_count", NULL);
	return rc < 0 ? rc : (int)(before > after ? before - after : 0);
}

/* --- last-known-good and floors --------------------------------------- */

int store_lkg_get(struct store *st, const char *app, int64_t *release_id)
{
	int64_t id;
	int rc = sql_int(st, "lkg get", &id, "SELECT lkg_release_id FROM apps "
			 "WHERE app = ? AND lkg_release_id IS NOT NULL", "t", app);

	if (rc == 1) {
		*release_id = id;
		return 0;
	}
	return rc < 0 ? rc : E_NOTFOUND;
}

int store_lkg_set(struct store *st, const char *app, int64_t release_id)
{
	const char *op = "lkg set";
	struct store_release r;
	int rc, tx;

	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = store_release_get_id(st, release_id, &r);
	if (rc == E_NOTFOUND)
		rc = error(E_NOTFOUND, "store: %s: no release %lld", op,
			   (long long)release_id);
	else if (!rc && strcmp(r.app, app) != 0)
		rc = error(E_STATE, "store: %s: release %lld belongs to %s, not %s",
			   op, (long long)release_id, r.app, app);
	else if (!rc && r.state != STORE_HEALTHY)
		rc = error(E_STATE, "store: %s: %s sequence %lld is %s, not healthy",
			   op, app, (long long)r.sequence, store_state_name(r.state));
	if (!rc)
		rc = sql_exec(st, op, "INSERT INTO apps (app, lkg_release_id) "
			      "VALUES (?1, ?2) ON CONFLICT (app) DO UPDATE SET "
			      "lkg_release_id = ?2", "ti", app, release_id);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

int store_floor_get(struct store *st, const char *app, int64_t *sequence)
{
	int64_t v = 0;
	int rc = sql_int(st, "floor get", &v, "SELECT sequence_floor FROM apps "
			 "WHERE app = ?", "t", app);

	if (rc < 0)
		return rc;
	*sequence = v;
	return 0;
}

int store_floor_raise(struct store *st, const char *app, int64_t sequence)
{
	const char *op = "floor raise";
	int64_t cur = 0;
	int rc, tx;

	if ((rc = sql_check_name(op, "app", app, STORE_APP_MAX)))
		return rc;
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = sql_int(st, op, &cur, "SELECT sequence_floor FROM apps WHERE app = ?",
		     "t", app);
	if (rc >= 0 && sequence < cur)
		rc = error(E_ROLLBACK, "store: %s: %s sequence %lld is below the "
			   "accepted %lld", op, app, (long long)sequence,
			   (long long)cur);
	if (rc >= 0)
		rc = sql_exec(st, op, "INSERT INTO apps (app, sequence_floor) "
			      "VALUES (?1, ?2) ON CONFLICT (app) DO UPDATE SET "
			      "sequence_floor = max(sequence_floor, ?2)", "ti",
			      app, sequence);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}

#define CLOCK_FLOOR "clock-floor"

int store_clock_floor_get(struct store *st, int64_t *t)
{
	return store_setting_get_int(st, CLOCK_FLOOR, 0, t);
}

int store_clock_floor_raise(struct store *st, int64_t t)
{
	const char *op = "clock floor raise";
	int64_t cur = 0;
	int rc, tx;

	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	rc = store_clock_floor_get(st, &cur);
	if (!rc && t > cur)
		rc = store_setting_set_int(st, CLOCK_FLOOR, t);
	return tx_end(st, op, tx, rc);
}

int store_floor_list(struct store *st, store_floor_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sql_prepare(st, "floor list", "SELECT app, sequence_floor FROM apps "
			 "WHERE sequence_floor > 0 ORDER BY app", &stmt);
	if (rc)
		return rc;
	while ((rc = sql_step(st, "floor list", stmt)) == 1) {
		rc = fn(ctx, (const char *)sqlite3_column_text(stmt, 0),
			sqlite3_column_int64(stmt, 1));
		if (rc)
			break;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_floors_reset(struct store *st)
{
	const char *op = "floors reset";
	int rc, tx = tx_begin(st, op);

	if (tx < 0)
		return tx;
	rc = sql_exec(st, op, "UPDATE apps SET sequence_floor = 0", "");
	if (rc >= 0)
		rc = store_setting_delete(st, CLOCK_FLOOR);
	return tx_end(st, op, tx, rc < 0 ? rc : 0);
}
