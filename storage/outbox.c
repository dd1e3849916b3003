/*
 * outbox — reports waiting for the server: idempotent by (app, sequence,
 * step), bounded, with a counter of what the bound dropped so that a later
 * report can say how many were lost.
 */
#include <string.h>

#include "error.h"
#include "mem.h"
#include "sql.h"
#include "store.h"

#define DROPPED "outbox-dropped"

int store_outbox_add(struct store *st, const char *app, int64_t sequence,
		     const char *step, const char *payload, size_t len)
{
	const char *op = "outbox add";
	int64_t count = 0, dropped = 0;
	int rc, tx, added;

	if ((rc = sql_check_name(op, "app", app, STORE_APP_MAX)) ||
	    (rc = sql_check_name(op, "step", step, STORE_STEP_MAX)))
		return rc;
	if (len > (size_t)1 << 20)
		return error(E_LIMIT, "store: %s: report of %zu bytes", op, len);
	tx = tx_begin(st, op);
	if (tx < 0)
		return tx;
	/* payload as TEXT: bind as a blob, then CAST keeps the bytes */
	rc = sql_exec(st, op, "INSERT INTO outbox (app, sequence, step, payload,"
		      " created) VALUES (?, ?, ?, CAST(? AS TEXT), ?)"
		      " ON CONFLICT (app, sequence, step) DO NOTHING", "titbi",
		      app, sequence, step, payload, len, sql_now());
	added = rc > 0;
	if (rc > 0)
		rc = sql_int(st, op, &count, "SELECT count(*) FROM outbox", NULL);
	if (rc > 0 && count > (int64_t)st->outbox_max) {
		rc = sql_exec(st, op, "DELETE FROM outbox WHERE id IN (SELECT id "
			      "FROM outbox ORDER BY id LIMIT ?)", "i",
			      count - (int64_t)st->outbox_max);
		if (rc >= 0)
			rc = store_setting_get_int(st, DROPPED, 0, &dropped);
		if (rc >= 0)
			rc = store_setting_set_int(st, DROPPED, dropped + count -
						   (int64_t)st->outbox_max);
	}
	return tx_end(st, op, tx, rc < 0 ? rc : added);
}

void store_report_clear(struct store_report *r)
{
	mem_free(r->payload);
	memset(r, 0, sizeof(*r));
}

int store_outbox_peek(struct store *st, struct store_report *out)
{
	const char *op = "outbox peek";
	sqlite3_stmt *stmt;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sql_prepare(st, op, "SELECT id, app, sequence, step, payload, "
			 "attempts, created FROM outbox ORDER BY id LIMIT 1", &stmt);
	if (rc)
		return rc;
	rc = sql_step(st, op, stmt);
	if (rc == 1) {
		out->id = sqlite3_column_int64(stmt, 0);
		sql_text(stmt, 1, out->app, sizeof(out->app));
		out->sequence = sqlite3_column_int64(stmt, 2);
		sql_text(stmt, 3, out->step, sizeof(out->step));
		out->payload = sql_strdup(stmt, 4);
		out->len = (size_t)sqlite3_column_bytes(stmt, 4);
		out->attempts = sqlite3_column_int(stmt, 5);
		out->created = sqlite3_column_int64(stmt, 6);
		rc = out->payload ? 0 : error(E_NOMEM, "store: %s: out of memory", op);
	} else if (rc == 0) {
		rc = E_NOTFOUND;
	}
	sqlite3_finalize(stmt);
	if (rc)
		store_report_clear(out);
	return rc;
}

int store_outbox_ack(struct store *st, int64_t id)
{
	int rc = sql_exec(st, "outbox ack", "DELETE FROM outbox WHERE id = ?",
			  "i", id);

	return rc < 0 ? rc : 0;
}

int store_outbox_retry(struct store *st, int64_t id)
{
	int rc = sql_exec(st, "outbox retry", "UPDATE outbox SET attempts = "
			  "attempts + 1 WHERE id = ?", "i", id);

	return rc < 0 ? rc : 0;
}

int store_outbox_count(struct store *st, int64_t *queued, int64_t *dropped)
{
	int64_t q = 0, d = 0;
	int rc;

	rc = sql_int(st, "outbox count", &q, "SELECT count(*) FROM outbox", NULL);
	if (rc >= 0)
		rc = store_setting_get_int(st, DROPPED, 0, &d);
	if (rc < 0)
		return rc;
	if (queued)
		*queued = q;
	if (dropped)
		*dropped = d;
	return 0;
}
