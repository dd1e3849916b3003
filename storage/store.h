/*
 * store — outpost's state in SQLite, and the only place with SQL.
 *
 * Everything that must survive power loss lives in one database file: the
 * trust root, releases and their state, the bundle files (so that a rollback
 * needs no network), the inventory of applied objects, last-known-good and
 * the anti-rollback floors, history, the report outbox, partial downloads,
 * the discovery cache and settings. Callers see an opaque struct store and
 * plain C rows; no SQLite type crosses this header.
 *
 * Durability: every write function is one transaction, committed with
 * synchronous=FULL in WAL mode, so a call that returned 0 survives power
 * loss. Several calls can be grouped with store_begin()/store_commit(); a
 * failed call inside a group changes nothing, and the caller decides whether
 * to commit the rest or roll the group back.
 *
 * Errors: negative enum err. E_STORE (with SQLite's message and the
 * operation logged once), E_NOMEM, E_NOTFOUND (lookups: not logged, a normal
 * answer), E_STATE (compare-and-set refused; logged), E_ROLLBACK (a floor
 * would go down; logged), E_LIMIT / E_FORMAT (bad arguments; logged).
 *
 * Threads: a struct store is used by one thread at a time. Threads that work
 * in parallel open their own store on the same file; WAL lets readers run
 * beside the writer and the busy timeout serializes writers.
 */
#ifndef OUTPOST_STORE_H
#define OUTPOST_STORE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;

/* The SQLite version linked in, e.g. "3.40.1". */
const char *store_library_version(void);

/*
 * Route SQLite's memory through mem_* (so mem_fail_after() reaches it) and
 * initialize SQLite. store_open() calls it; call it first yourself only if
 * something else touches SQLite before the first store_open(). Idempotent.
 */
int store_init(void);

/*
 * Fault injection for tests, like mem_fail_after(): after
 * store_fail_at(op, n), the n-th statement from now (counting from 1) of
 * the operation op ("lkg get", the name store's errors carry; NULL: any
 * operation) fails once with E_STORE, logged as an I/O error would be.
 * n 0 disarms. store_fail_fired() says whether it has failed since.
 */
void store_fail_at(const char *op, unsigned long n);
int store_fail_fired(void);

/* --- open, close, transactions ------------------------------------------ */

/*
 * Open (creating if needed, mode 0600) the database at path and bring its
 * schema up to date. A file that fails its check at open (not a database,
 * corrupt pages) is moved aside to "<path>.corrupt-<unix time>" with its
 * -wal and -shm, and a fresh database is created: see store_was_reset().
 * A database written by a newer outpost is refused (E_STORE) and left as it
 * is. On success *out is set; free with store_close().
 */
int store_open(const char *path, struct store **out);

/* Close; NULL is fine. A group still open is rolled back. */
void store_close(struct store *st);

/*
 * True when store_open() found the database corrupt and started a fresh
 * one: the caller must log it loudly, rebuild the inventory from the cluster
 * and fetch its releases again. store_reset_path() names the moved file.
 */
int store_was_reset(const struct store *st);
const char *store_reset_path(const struct store *st);

/* Bounds on kept rows: history per app (default 1000), outbox (500). */
#define STORE_HISTORY_MAX 1000
#define STORE_OUTBOX_MAX 500
void store_set_limits(struct store *st, unsigned history_per_app,
		      unsigned outbox_max);

/*
 * Group the following calls into one transaction. Nested store_begin() is
 * E_STATE; store_commit()/store_rollback() without a group are E_STATE.
 * store_commit() fails with E_STORE (and the group is gone, nothing written)
 * when SQLite had to abandon the transaction after an I/O error.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* Run PRAGMA integrity_check: 0 when it says ok, E_STORE otherwise. */
int store_check(struct store *st);

/* --- releases ------------------------------------------------------------ */

/*
 * The state machine of one release (DESIGN.md):
 *   fetched -> verified -> applying -> applied -> healthy (last-known-good)
 *   applying|applied -> failed -> rolling-back -> rolled-back
 * Failed, rolling-back and rolled-back releases are quarantined: their row
 * stays, store_release_add() refuses the same (app, sequence) again, and
 * the agent does not attempt them until the server publishes a newer
 * sequence.
 */
enum store_state {
	STORE_FETCHED,
	STORE_VERIFIED,
	STORE_APPLYING,
	STORE_APPLIED,
	STORE_HEALTHY,
	STORE_FAILED,
	STORE_ROLLING_BACK,
	STORE_ROLLED_BACK,
	STORE_NSTATES
};

/* "fetched", "rolling-back", ...; "?" for a value out of range. */
const char *store_state_name(int state);
/* The state named s, or -1. */
int store_state_parse(const char *s);
/* True for the states that must never be attempted again. */
int store_state_quarantined(int state);

#define STORE_APP_MAX 63        /* bytes in an app (channel) name */
#define STORE_VERSION_MAX 127   /* bytes in a release version string */
#define STORE_ERROR_MAX 511     /* bytes of last_error kept */

struct store_release {
	int64_t id;
	char app[STORE_APP_MAX + 1];
	int64_t sequence;
	char version[STORE_VERSION_MAX + 1];
	char digest[65];        /* bundle sha256, lowercase hex */
	enum store_state state;
	int attempts;           /* times it entered applying */
	char last_error[STORE_ERROR_MAX + 1];
	int64_t created, updated;   /* unix seconds */
};

/*
 * Record a newly fetched release in state fetched (and a history row).
 * E_STATE when (app, sequence) is already known, whatever its state: look
 * at it with store_release_get(). *id (may be NULL) gets the release id.
 */
int store_release_add(struct store *st, const char *app, int64_t sequence,
		      const char *version, const char *digest, int64_t *id);

/*
 * Compare-and-set: move (app, sequence) from state `from` to `to` and write
 * a history row with msg (may be NULL), in one transaction. E_STATE when
 * the release is not in `from` (nothing changes), E_NOTFOUND when there is
 * no such release. Entering applying counts an attempt (from == to is
 * allowed: a resumed step); entering failed stores msg as last_error.
 */
int store_release_set_state(struct store *st, const char *app,
			    int64_t sequence, enum store_state from,
			    enum store_state to, const char *msg);

/*
 * Set the bundle digest of release id (a release added before its whole
 * bundle was read). E_NOTFOUND when there is no such release.
 */
int store_release_set_digest(struct store *st, int64_t id, const char *digest);

/* Lookups fill *out; E_NOTFOUND (not logged) when there is none. */
int store_release_get(struct store *st, const char *app, int64_t sequence,
		      struct store_release *out);
int store_release_get_id(struct store *st, int64_t id,
			 struct store_release *out);
/*
 * The release of app accepted last: the one with the highest sequence, as
 * the floor only rises, except after a rotation that reset the floors.
 */
int store_release_latest(struct store *st, const char *app,
			 struct store_release *out);

/*
 * Call fn for each release of app (every app when app is NULL), app by
 * app, newest sequence first. A non-zero return from fn stops the walk and
 * is returned. fn must not call the store.
 */
typedef int (*store_release_fn)(void *ctx, const struct store_release *r);
int store_release_list(struct store *st, const char *app, store_release_fn fn,
		       void *ctx);

/*
 * Drop the releases of app that are no longer needed, in one transaction:
 * every one but its last-known-good, its newest and the `keep` newest of
 * the others goes, row, files, inventory and its settings (keys under
 * "release/<app>/<sequence>/"), with the app's partial downloads of a
 * sequence not above the newest. The anti-rollback floor stays in apps, so
 * a dropped sequence (always below it) is still refused for good. Returns
 * the number of releases dropped. The space goes to the free list; see
 * store_vacuum().
 */
int store_release_gc(struct store *st, const char *app, unsigned keep);

/*
 * Give free pages back to the file system (PRAGMA incremental_vacuum: the
 * database is in incremental auto-vacuum mode). Outside a group. Returns
 * the number of pages freed, or an enum err.
 */
int store_vacuum(struct store *st);

/* --- last-known-good and floors --------------------------------------- */

/* The last-known-good release id of app; E_NOTFOUND when none. */
int store_lkg_get(struct store *st, const char *app, int64_t *release_id);
/* Make a healthy release of app its last-known-good (E_STATE otherwise). */
int store_lkg_set(struct store *st, const char *app, int64_t release_id);

/*
 * Anti-rollback floor: the highest sequence of app accepted so far (0 when
 * none). store_floor_raise() refuses a lower value with E_ROLLBACK and
 * changes nothing; an equal value is a no-op.
 */
int store_floor_get(struct store *st, const char *app, int64_t *sequence);
int store_floor_raise(struct store *st, const char *app, int64_t sequence);

/*
 * Clock floor: the newest signed time accepted (unix seconds, 0 when
 * none), a lower bound for "now" on devices without a real-time clock.
 * Raising to an older time is a no-op.
 */
int store_clock_floor_get(struct store *st, int64_t *t);
int store_clock_floor_raise(struct store *st, int64_t t);

/* Call fn for each app's floor above 0, by app; a non-zero return stops. */
typedef int (*store_floor_fn)(void *ctx, const char *app, int64_t sequence);
int store_floor_list(struct store *st, store_floor_fn fn, void *ctx);

/*
 * Forget every app's sequence floor and the clock floor, in one
 * transaction: only for a trust root that replaced the release keys those
 * floors rest on (fast-forward recovery, docs/formats.md).
 */
int store_floors_reset(struct store *st);

/* --- bundle files ----------------------------------------------------- */

/* One file of a bundle; data points at size bytes. */
struct store_file {
	const char *name;
	const void *data;
	size_t size;
	const char *sha256;     /* lowercase hex, as pinned by bundle.yaml */
};

/*
 * Store the files of a release, in bundle order, replacing any it had, in
 * one transaction. The sha256 is the caller's (verified) digest; the store
 * does not hash. E_NOTFOUND when the release does not exist.
 */
int store_files_put(struct store *st, int64_t release_id,
		    const struct store_file *files, size_t n);

/*
 * Call fn for each file of the release in bundle order; f and its data are
 * valid only during the call, and fn must not call the store. A non-zero
 * return stops the walk and is returned. Returns 0 for a release without
 * files.
 */
typedef int (*store_file_fn)(void *ctx, const struct store_file *f);
int store_files_get(struct store *st, int64_t release_id, store_file_fn fn,
		    void *ctx);

/*
 * Files written piece by piece (a bundle stored as it is read), inside the
 * caller's group: store_file_add() makes the row of a file of size bytes,
 * zero-filled, at position; store_file_write() writes len bytes of it at
 * offset (E_LIMIT past its size, E_NOTFOUND without the row). The caller
 * commits only when every file was written whole and verified.
 */
int store_file_add(struct store *st, int64_t release_id, size_t position,
		   const char *name, uint64_t size, const char *sha256);
int store_file_write(struct store *st, int64_t release_id, const char *name,
		     uint64_t offset, const void *data, size_t len);

/* Append the content of one file to out; E_NOTFOUND when absent. */
int store_file_get(struct store *st, int64_t release_id, const char *name,
		   struct buf *out);

/* --- inventory -------------------------------------------------------- */

/* An object applied to the cluster. Strings never NULL ("" when unset). */
struct store_object {
	char *api_version;      /* "apps/v1", "v1" */
	char *kind;
	char *ns;               /* "" for cluster-scoped objects */
	char *name;
	char *uid;
	char *resource_version;
	int wave;               /* its wave when applied ... */
	int has_wave;           /* ... if known (get: rows stored before
				 * schema 2 have none; put always stores it) */
};

/* Replace the inventory of a release with objs[0..n), one transaction. */
int store_inventory_put(struct store *st, int64_t release_id,
			const struct store_object *objs, size_t n);

/*
 * The inventory of a release, ordered by wave (unknown ones first), then
 * apiVersion, kind, namespace, name: *objs is allocated (NULL when *n is 0) and freed with
 * store_objects_free().
 */
int store_inventory_get(struct store *st, int64_t release_id,
			struct store_object **objs, size_t *n);
void store_objects_free(struct store_object *objs, size_t n);

/* --- history ---------------------------------------------------------- */

struct store_history {
	int64_t id;
	const char *app;
	int64_t sequence;
	int from;               /* enum store_state, -1 for a new release */
	int to;
	const char *message;
	int64_t time;
};

/*
 * Call fn for the newest `limit` history rows of app (every app when NULL),
 * newest first; strings are valid during the call only and fn must not call
 * the store. Each app keeps its newest STORE_HISTORY_MAX rows.
 */
typedef int (*store_history_fn)(void *ctx, const struct store_history *h);
int store_history_list(struct store *st, const char *app, size_t limit,
		       store_history_fn fn, void *ctx);

/* --- report outbox ---------------------------------------------------- */

#define STORE_STEP_MAX 31

struct store_report {
	int64_t id;
	char app[STORE_APP_MAX + 1];
	int64_t sequence;
	char step[STORE_STEP_MAX + 1];
	char *payload;          /* JSON, NUL-terminated; store_report_clear() */
	size_t len;
	int attempts;
	int64_t created;
};

/*
 * Queue a report keyed by (app, sequence, step). Returns 1 when queued, 0
 * when that key was already queued (the payload is not replaced). When the
 * outbox is over its bound the oldest reports are dropped and counted.
 */
int store_outbox_add(struct store *st, const char *app, int64_t sequence,
		     const char *step, const char *payload, size_t len);
/* The oldest queued report; E_NOTFOUND when empty. */
int store_outbox_peek(struct store *st, struct store_report *out);
void store_report_clear(struct store_report *r);
/* Delivered: remove it. Removing an id that is gone is not an error. */
int store_outbox_ack(struct store *st, int64_t id);
/* Not delivered this time: count the attempt. */
int store_outbox_retry(struct store *st, int64_t id);
/* How many are queued, and how many were ever dropped for the bound. */
int store_outbox_count(struct store *st, int64_t *queued, int64_t *dropped);

/* --- partial downloads (Range resume) ----------------------------------- */

/*
 * Find or start the partial download of (app, sequence). A stored one for
 * another url, size or sha256 is discarded and started again, and so is
 * every download of app for an older sequence (the pointer moved on: it
 * would never be resumed). *id gets its id and *received the bytes already
 * stored: ask the server for the rest.
 */
int store_download_open(struct store *st, const char *app, int64_t sequence,
			const char *url, int64_t size, const char *sha256,
			int64_t *id, int64_t *received);
/*
 * Append a chunk at offset, which must equal the bytes received so far
 * (E_STATE otherwise); E_LIMIT past the expected size. One transaction:
 * a chunk is either stored whole or not at all.
 */
int store_download_append(struct store *st, int64_t id, int64_t offset,
			  const void *data, size_t len);
/*
 * Call fn for each stored chunk in order; the data is valid during the call
 * only, and fn must not call the store. A non-zero return stops the walk.
 */
typedef int (*store_chunk_fn)(void *ctx, const void *data, size_t len);
int store_download_read(struct store *st, int64_t id, store_chunk_fn fn,
			void *ctx);
/*
 * Append the stored chunk of download id that starts at offset to out;
 * E_NOTFOUND when none starts there (offset is the download's size: the
 * end). Reads a download back one chunk at a time.
 */
int store_download_chunk(struct store *st, int64_t id, int64_t offset,
			 struct buf *out);
/* Forget a download and its bytes (done, or to start over). */
int store_download_delete(struct store *st, int64_t id);

/* --- trust root --------------------------------------------------------- */

/*
 * Accept a new trust root (the exact root.yaml and .sig bytes, already
 * verified by the caller): it becomes current and is kept in the history
 * of accepted roots. A version not above the current one is E_ROLLBACK,
 * except the identical current root, which is a no-op.
 */
int store_root_put(struct store *st, int64_t version, int64_t expires,
		   const void *root, size_t root_len, const void *sig,
		   size_t sig_len);
/*
 * The current root: bytes appended to root and sig (either may be NULL),
 * version and expires (either may be NULL). E_NOTFOUND when none yet.
 */
int store_root_get(struct store *st, struct buf *root, struct buf *sig,
		   int64_t *version, int64_t *expires);
/*
 * The accepted root with the lowest version above `after`, as
 * store_root_get(): walks the stored chain of roots upwards. E_NOTFOUND.
 */
int store_root_next(struct store *st, int64_t after, struct buf *root,
		    struct buf *sig, int64_t *version);
/* Each accepted root, oldest first: version, expiry, time accepted. */
typedef int (*store_root_fn)(void *ctx, int64_t version, int64_t expires,
			     int64_t accepted);
int store_root_history(struct store *st, store_root_fn fn, void *ctx);

/* --- settings and the discovery cache ---------------------------------- */

/*
 * Small values by key (ETags, next poll time per channel, device id...).
 * get appends the value to out; E_NOTFOUND when unset.
 */
int store_setting_get(struct store *st, const char *key, struct buf *out);
int store_setting_set(struct store *st, const char *key, const void *value,
		      size_t len);
int store_setting_delete(struct store *st, const char *key);
/* Integer values; get sets *value to def when unset. */
int store_setting_get_int(struct store *st, const char *key, int64_t def,
			  int64_t *value);
int store_setting_set_int(struct store *st, const char *key, int64_t value);

/* The cached API discovery document and when it was fetched. */
int store_discovery_put(struct store *st, const char *json, size_t len,
			int64_t fetched);
/* Appends the JSON to out; E_NOTFOUND when nothing is cached. */
int store_discovery_get(struct store *st, struct buf *out, int64_t *fetched);

#endif
