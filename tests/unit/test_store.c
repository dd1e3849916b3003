/*
 * Unit tests: storage/ — schema and migrations, durability settings, the
 * release state machine's compare-and-set, bounds, corruption recovery,
 * and fault injection (a VFS shim failing the N-th write or fsync, and
 * mem_fail_after() failing the N-th allocation) with the rule: a call that
 * fails leaves the previous state intact, and the database passes its
 * integrity check after reopening.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "error.h"
#include "fault.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "tap.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

static char dir[64];

static const char *path_of(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void remove_db(const char *path)
{
	char p[300];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int copy_file(const char *from, const char *to)
{
	char b[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, b, sizeof(b))) > 0)
		if (write(out, b, (size_t)n) != n)
			n = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

/* Read an integer pragma or query straight from a file, bypassing store. */
static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

/* --- small fixtures --------------------------------------------------- */

static struct store *open_ok(const char *path)
{
	struct store *st = NULL;

	check_int(store_open(path, &st), ==, 0);
	return st;
}

static int count_history(void *ctx, const struct store_history *h)
{
	(void)h;
	(*(int *)ctx)++;
	return 0;
}

static int history_rows(struct store *st, const char *app)
{
	int n = 0;

	store_history_list(st, app, 100000, count_history, &n);
	return n;
}

/* A release walked to state `to` through the happy path. */
static int64_t release_at(struct store *st, const char *app, int64_t seq,
			  enum store_state to)
{
	int64_t id = -1;

	if (store_release_add(st, app, seq, "1.0", D1, &id))
		return -1;
	for (int s = STORE_FETCHED; s < (int)to && s < STORE_HEALTHY; s++)
		if (store_release_set_state(st, app, seq, s, s + 1, "step"))
			return -1;
	return id;
}

/* --- tests -------------------------------------------------------------- */

static void test_open_new(void)
{
	const char *p = path_of("new.db");
	struct store *st = open_ok(p);
	char wal[300];

	check(st != NULL);
	if (!st)
		return;
	check(!store_was_reset(st));
	check(store_reset_path(st) == NULL);
	check_int(file_mode(p), ==, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	check_int(file_mode(wal), ==, 0600);
	snprintf(wal, sizeof(wal), "%s-shm", p);
	check_int(file_mode(wal), ==, 0600);
	check_int(store_check(st), ==, 0);
	store_close(st);
	/* migrated from an empty file: WAL, the newest schema, tables there */
	check_int(raw_int(p, "PRAGMA user_version"), ==, 2);
	check_int(raw_int(p, "SELECT count(*) FROM sqlite_schema WHERE type = "
			  "'table'"), ==, 11);
	check_int(raw_int(p, "PRAGMA journal_mode = wal"), !=, -1);
}

static void test_mode_fixed(void)
{
	const char *p = path_of("mode.db");
	struct store *st = open_ok(p);
	char wal[300];

	store_close(st);
	check_int(chmod(p, 0644), ==, 0);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	close(open(wal, O_WRONLY | O_CREAT, 0666));
	chmod(wal, 0666);
	st = open_ok(p);
	check_int(file_mode(p), ==, 0600);
	check_int(file_mode(wal), ==, 0600);
	store_close(st);
}

static void test_reopen_keeps_data(void)
{
	const char *p = path_of("reopen.db");
	struct store *st = open_ok(p);
	struct store_release r;
	struct buf b = BUF_INIT(1 << 20), sig = BUF_INIT(1024);
	int64_t id, v = 0, e = 0;

	check_int(store_release_add(st, "web", 7, "1.2.3", D1, &id), ==, 0);
	check_int(store_setting_set(st, "etag/web", "\"abc\"", 5), ==, 0);
	check_int(store_root_put(st, 1, 2000000000, "root: 1\n", 8, "k sig\n", 6), ==, 0);
	check_int(store_discovery_put(st, "{\"x\":1}", 7, 1234), ==, 0);
	store_close(st);

	st = open_ok(p);
	check(!store_was_reset(st));
	check_int(store_release_get(st, "web", 7, &r), ==, 0);
	check_int(r.id, ==, id);
	check_str(r.version, "1.2.3");
	check_str(r.digest, D1);
	check_int(r.state, ==, STORE_FETCHED);
	check_int(store_setting_get(st, "etag/web", &b), ==, 0);
	check_str(b.data, "\"abc\"");
	buf_reset(&b);
	check_int(store_setting_get(st, "nope", &b), ==, E_NOTFOUND);
	check_int(store_root_get(st, &b, &sig, &v, &e), ==, 0);
	check_str(b.data, "root: 1\n");
	check_str(sig.data, "k sig\n");
	check_int(v, ==, 1);
	check_int(e, ==, 2000000000);
	buf_reset(&b);
	check_int(store_discovery_get(st, &b, &v), ==, 0);
	check_str(b.data, "{\"x\":1}");
	check_int(v, ==, 1234);
	store_close(st);
	buf_free(&b);
	buf_free(&sig);
}

static void test_compare_and_set(void)
{
	struct store *st = open_ok(path_of("cas.db"));
	struct store_release r;
	int h;

	check_int(store_release_add(st, "web", 1, "1.0", D1, NULL), ==, 0);
	/* the same (app, sequence) again is refused, whatever the digest */
	check_int(store_release_add(st, "web", 1, "1.0", D2, NULL), ==, E_STATE);
	check_int(store_release_add(st, "web", 2, "2.0", "ABC", NULL), ==, E_FORMAT);
	check_int(store_release_set_state(st, "web", 1, STORE_FETCHED,
					  STORE_VERIFIED, "sig ok"), ==, 0);
	h = history_rows(st, "web");
	check_int(h, ==, 2);
	/* a wrong `from` changes nothing: state, attempts, history */
	check_int(store_release_set_state(st, "web", 1, STORE_FETCHED,
					  STORE_APPLYING, NULL), ==, E_STATE);
	check_int(store_release_get(st, "web", 1, &r), ==, 0);
	check_int(r.state, ==, STORE_VERIFIED);
	check_int(r.attempts, ==, 0);
	check_int(history_rows(st, "web"), ==, h);
	check_int(store_release_set_state(st, "web", 9, STORE_FETCHED,
					  STORE_VERIFIED, NULL), ==, E_NOTFOUND);
	/* applying counts attempts, resuming it counts again */
	check_int(store_release_set_state(st, "web", 1, STORE_VERIFIED,
					  STORE_APPLYING, NULL), ==, 0);
	check_int(store_release_set_state(st, "web", 1, STORE_APPLYING,
					  STORE_APPLYING, "resumed"), ==, 0);
	check_int(store_release_set_state(st, "web", 1, STORE_APPLYING,
					  STORE_FAILED, "Deployment web: "
					  "ProgressDeadlineExceeded"), ==, 0);
	check_int(store_release_get(st, "web", 1, &r), ==, 0);
	check_int(r.attempts, ==, 2);
	check_str(r.last_error, "Deployment web: ProgressDeadlineExceeded");
	check(store_state_quarantined(r.state));
	check(!store_state_quarantined(STORE_HEALTHY));
	check_str(store_state_name(STORE_ROLLING_BACK), "rolling-back");
	check_int(store_state_parse("rolled-back"), ==, STORE_ROLLED_BACK);
	check_int(store_state_parse("nope"), ==, -1);
	/* latest is the one accepted last: the highest sequence while floors
	 * only rise, a lower one after a rotation reset them */
	check_int(store_release_add(st, "web", 3, "3.0", D2, NULL), ==, 0);
	check_int(store_release_add(st, "db", 9, "9.0", D2, NULL), ==, 0);
	check_int(store_release_latest(st, "web", &r), ==, 0);
	check_int(r.sequence, ==, 3);
	check_int(store_release_add(st, "web", 2, "2.0", D2, NULL), ==, 0);
	check_int(store_release_latest(st, "web", &r), ==, 0);
	check_int(r.sequence, ==, 2);
	check_int(store_release_latest(st, "none", &r), ==, E_NOTFOUND);
	store_close(st);
}

struct hist_ctx {
	int n;
	int64_t first_seq;
	int first_from, first_to, last_from;
	char first_msg[32];
};

static int first_history(void *ctx, const struct store_history *h)
{
	struct hist_ctx *c = ctx;

	c->last_from = h->from;
	if (c->n++ == 0) {
		c->first_seq = h->sequence;
		c->first_from = h->from;
		c->first_to = h->to;
		snprintf(c->first_msg, sizeof(c->first_msg), "%s", h->message);
	}
	return 0;
}

static void test_history_bound(void)
{
	struct store *st = open_ok(path_of("hist.db"));
	struct hist_ctx c = { 0 };
	char msg[32];
	int rc = 0;

	store_set_limits(st, 10, 100);
	release_at(st, "other", 1, STORE_APPLYING);
	release_at(st, "web", 1, STORE_APPLYING);
	for (int i = 0; i < 25 && !rc; i++) {
		snprintf(msg, sizeof(msg), "retry %d", i);
		rc = store_release_set_state(st, "web", 1, STORE_APPLYING,
					     STORE_APPLYING, msg);
	}
	check_int(rc, ==, 0);
	check_int(history_rows(st, "web"), ==, 10);
	check_int(history_rows(st, "other"), ==, 3);
	check_int(store_history_list(st, "web", 3, first_history, &c), ==, 0);
	check_int(c.n, ==, 3);
	check_str(c.first_msg, "retry 24");     /* newest first */
	check_int(c.first_seq, ==, 1);
	check_int(c.first_from, ==, STORE_APPLYING);
	check_int(c.first_to, ==, STORE_APPLYING);
	/* a new release's row has no from state */
	memset(&c, 0, sizeof(c));
	check_int(store_history_list(st, "other", 100, first_history, &c), ==, 0);
	check_int(c.n, ==, 3);
	check_int(c.first_from, ==, STORE_VERIFIED);
	check_int(c.first_to, ==, STORE_APPLYING);
	check_str(c.first_msg, "step");
	check_int(c.last_from, ==, -1);
	store_close(st);
}

static void test_outbox(void)
{
	struct store *st = open_ok(path_of("outbox.db"));
	struct store_report r;
	int64_t q = -1, d = -1;

	store_set_limits(st, 100, 3);
	check_int(store_outbox_add(st, "web", 1, "applying", "{\"a\":1}", 7), ==, 1);
	check_int(store_outbox_add(st, "web", 1, "applying", "{\"a\":2}", 7), ==, 0);
	check_int(store_outbox_count(st, &q, &d), ==, 0);
	check_int(q, ==, 1);
	check_int(d, ==, 0);
	check_int(store_outbox_add(st, "web", 1, "applied", "{}", 2), ==, 1);
	check_int(store_outbox_add(st, "web", 1, "healthy", "{}", 2), ==, 1);
	check_int(store_outbox_add(st, "db", 4, "failed", "{}", 2), ==, 1);
	check_int(store_outbox_add(st, "db", 4, "rolled-back", "{}", 2), ==, 1);
	check_int(store_outbox_count(st, &q, &d), ==, 0);
	check_int(q, ==, 3);
	check_int(d, ==, 2);
	/* the two oldest went; the oldest left is web/1/healthy */
	check_int(store_outbox_peek(st, &r), ==, 0);
	check_str(r.step, "healthy");
	check_str(r.payload, "{}");
	check_int(r.attempts, ==, 0);
	check_int(store_outbox_retry(st, r.id), ==, 0);
	store_report_clear(&r);
	check_int(store_outbox_peek(st, &r), ==, 0);
	check_int(r.attempts, ==, 1);
	check_int(store_outbox_ack(st, r.id), ==, 0);
	check_int(store_outbox_ack(st, r.id), ==, 0);
	store_report_clear(&r);
	check_int(store_outbox_peek(st, &r), ==, 0);
	check_str(r.app, "db");
	check_int(r.sequence, ==, 4);
	check_str(r.step, "failed");
	store_report_clear(&r);
	/* a dropped key can be queued again: the bound is not a tombstone */
	check_int(store_outbox_add(st, "web", 1, "applying", "{}", 2), ==, 1);
	store_close(st);
}

static int floor_sum(void *ctx, const char *app, int64_t sequence)
{
	(void)app;
	*(int64_t *)ctx += sequence;
	return 0;
}

static void test_floors(void)
{
	struct store *st = open_ok(path_of("floor.db"));
	int64_t v = -1;

	check_int(store_floor_get(st, "web", &v), ==, 0);
	check_int(v, ==, 0);
	check_int(store_floor_raise(st, "web", 5), ==, 0);
	check_int(store_floor_raise(st, "web", 3), ==, E_ROLLBACK);
	check_int(store_floor_get(st, "web", &v), ==, 0);
	check_int(v, ==, 5);
	check_int(store_floor_raise(st, "web", 5), ==, 0);
	check_int(store_floor_raise(st, "web", 8), ==, 0);
	check_int(store_floor_get(st, "web", &v), ==, 0);
	check_int(v, ==, 8);
	check_int(store_floor_get(st, "db", &v), ==, 0);
	check_int(v, ==, 0);
	check_int(store_clock_floor_raise(st, 1700000000), ==, 0);
	check_int(store_clock_floor_raise(st, 1600000000), ==, 0);
	check_int(store_clock_floor_get(st, &v), ==, 0);
	check_int(v, ==, 1700000000);
	/* trust root versions only go up too */
	check_int(store_root_put(st, 2, 9, "r2", 2, "s", 1), ==, 0);
	check_int(store_root_put(st, 2, 9, "r2", 2, "s", 1), ==, 0);
	check_int(store_root_put(st, 2, 9, "other", 5, "s", 1), ==, E_ROLLBACK);
	check_int(store_root_put(st, 1, 9, "r1", 2, "s", 1), ==, E_ROLLBACK);
	check_int(store_root_put(st, 3, 9, "r3", 2, "s", 1), ==, 0);
	/* the chain, walked upwards from any version */
	{
		struct buf r = BUF_INIT(64), sg = BUF_INIT(64);
		int64_t ver = 0;

		check_int(store_root_next(st, 0, &r, &sg, &ver), ==, 0);
		check_int(ver, ==, 2);
		check(strcmp(r.data, "r2") == 0 && strcmp(sg.data, "s") == 0);
		buf_reset(&r);
		check_int(store_root_next(st, 2, &r, NULL, &ver), ==, 0);
		check_int(ver, ==, 3);
		check(strcmp(r.data, "r3") == 0);
		check_int(store_root_next(st, 3, &r, NULL, &ver), ==, E_NOTFOUND);
		buf_free(&r);
		buf_free(&sg);
	}
	/* every floor listed, then reset by a rotation that replaced the keys */
	{
		int64_t sum = 0;

		check_int(store_floor_raise(st, "db", 3), ==, 0);
		check_int(store_floor_list(st, floor_sum, &sum), ==, 0);
		check_int(sum, ==, 11);
		check_int(store_floors_reset(st), ==, 0);
		check_int(store_floor_get(st, "web", &v), ==, 0);
		check_int(v, ==, 0);
		check_int(store_clock_floor_get(st, &v), ==, 0);
		check_int(v, ==, 0);
		sum = 0;
		check_int(store_floor_list(st, floor_sum, &sum), ==, 0);
		check_int(sum, ==, 0);
		/* and they rise again from any sequence */
		check_int(store_floor_raise(st, "web", 2), ==, 0);
	}
	store_close(st);
}

static void test_lkg_and_group(void)
{
	struct store *st = open_ok(path_of("lkg.db"));
	struct store_release r;
	int64_t id1, id2, lkg = 0;

	id1 = release_at(st, "web", 1, STORE_HEALTHY);
	id2 = release_at(st, "web", 2, STORE_APPLIED);
	check_int(store_lkg_get(st, "web", &lkg), ==, E_NOTFOUND);
	check_int(store_lkg_set(st, "web", id2), ==, E_STATE);
	check_int(store_lkg_set(st, "db", id1), ==, E_STATE);
	check_int(store_lkg_set(st, "web", id1), ==, 0);
	check_int(store_lkg_get(st, "web", &lkg), ==, 0);
	check_int(lkg, ==, id1);

	/* a group rolled back leaves nothing */
	check_int(store_commit(st), ==, E_STATE);
	check_int(store_begin(st), ==, 0);
	check_int(store_begin(st), ==, E_STATE);
	check_int(store_release_set_state(st, "web", 2, STORE_APPLIED,
					  STORE_HEALTHY, NULL), ==, 0);
	check_int(store_lkg_set(st, "web", id2), ==, 0);
	check_int(store_rollback(st), ==, 0);
	check_int(store_rollback(st), ==, E_STATE);
	check_int(store_lkg_get(st, "web", &lkg), ==, 0);
	check_int(lkg, ==, id1);
	check_int(store_release_get_id(st, id2, &r), ==, 0);
	check_int(r.state, ==, STORE_APPLIED);

	/* inside a group a failed call changes nothing, the rest commits */
	check_int(store_begin(st), ==, 0);
	check_int(store_release_set_state(st, "web", 2, STORE_APPLIED,
					  STORE_HEALTHY, "ok"), ==, 0);
	check_int(store_release_add(st, "web", 2, "x", D1, NULL), ==, E_STATE);
	check_int(store_lkg_set(st, "web", id2), ==, 0);
	check_int(store_commit(st), ==, 0);
	check_int(store_lkg_get(st, "web", &lkg), ==, 0);
	check_int(lkg, ==, id2);
	store_close(st);
}

struct files_ctx {
	int n;
	char names[8][32];
	size_t sizes[8];
	int ok;
};

static int collect_file(void *ctx, const struct store_file *f)
{
	struct files_ctx *c = ctx;

	if (c->n < 8) {
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s", f->name);
		c->sizes[c->n] = f->size;
		if (f->size && ((const unsigned char *)f->data)[f->size - 1] !=
		    (unsigned char)(c->n + 'a'))
			c->ok = 0;
	}
	c->n++;
	return 0;
}

static void test_files_inventory_gc(void)
{
	struct store *st = open_ok(path_of("files.db"));
	static unsigned char big[300000];
	struct store_file files[3] = {
		{ "bundle.yaml", "app: web\na", 10, D1 },
		{ "empty.yaml", NULL, 0, D2 },
		{ "big.yaml", big, sizeof(big), D1 },
	};
	struct store_object objs[2] = {
		{ "apps/v1", "Deployment", "web", "web", "u-1", "11", 4, 1 },
		{ "v1", "Namespace", "", "web", "u-2", "3", 0, 1 },
	};
	struct store_object dup[2] = { objs[0], objs[0] };
	struct files_ctx c = { .ok = 1 };
	struct store_object *got;
	struct buf b = BUF_INIT(1 << 20);
	size_t n;
	int64_t id1, id2, id3;

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'c';
	id1 = release_at(st, "web", 1, STORE_HEALTHY);
	check_int(store_files_put(st, id1, files, 3), ==, 0);
	check_int(store_files_put(st, 999, files, 3), ==, E_NOTFOUND);
	check_int(store_files_get(st, id1, collect_file, &c), ==, 0);
	check_int(c.n, ==, 3);
	check_str(c.names[0], "bundle.yaml");
	check_str(c.names[2], "big.yaml");
	check_int(c.sizes[1], ==, 0);
	check_int(c.sizes[2], ==, sizeof(big));
	check(c.ok);
	check_int(store_file_get(st, id1, "big.yaml", &b), ==, 0);
	check_mem(b.data, b.len, big, sizeof(big));
	check_int(store_file_get(st, id1, "nope", &b), ==, E_NOTFOUND);

	check_int(store_inventory_put(st, id1, objs, 2), ==, 0);
	/* a duplicate object is refused and the old inventory stays */
	check_int(store_inventory_put(st, id1, dup, 2), <, 0);
	check_int(store_inventory_get(st, id1, &got, &n), ==, 0);
	check_int(n, ==, 2);
	/* in wave order, each with its wave: prune walks it backwards */
	if (n == 2) {
		check_str(got[0].kind, "Namespace");
		check_str(got[0].ns, "");
		check_int(got[0].has_wave, ==, 1);
		check_int(got[0].wave, ==, 0);
		check_str(got[1].api_version, "apps/v1");
		check_str(got[1].uid, "u-1");
		check_int(got[1].wave, ==, 4);
	}
	store_objects_free(got, n);
	check_int(store_inventory_get(st, 12345, &got, &n), ==, 0);
	check_int(n, ==, 0);
	check(got == NULL);

	/* gc (keeping no older one) keeps the lkg and the newest only */
	check_int(store_lkg_set(st, "web", id1), ==, 0);
	id2 = release_at(st, "web", 2, STORE_HEALTHY);
	id3 = release_at(st, "web", 3, STORE_FETCHED);
	check_int(store_files_put(st, id2, files, 1), ==, 0);
	check_int(store_files_put(st, id3, files, 1), ==, 0);
	check_int(store_release_gc(st, "web", 0), ==, 1);
	c.n = 0;
	check_int(store_files_get(st, id2, collect_file, &c), ==, 0);
	check_int(c.n, ==, 0);
	{
		struct store_release r;

		check_int(store_release_get_id(st, id2, &r), ==, E_NOTFOUND);
	}
	c.n = 0;
	check_int(store_files_get(st, id1, collect_file, &c), ==, 0);
	check_int(c.n, ==, 3);
	c.n = 0;
	check_int(store_files_get(st, id3, collect_file, &c), ==, 0);
	check_int(c.n, ==, 1);
	check_int(store_release_gc(st, "web", 0), ==, 0);
	store_close(st);
	buf_free(&b);
}

static int seq_of(void *ctx, const struct store_release *r)
{
	struct buf *b = ctx;

	return buf_addf(b, "%lld ", (long long)r->sequence);
}

/*
 * gc after many releases: the lkg, the newest and `keep` older ones stay,
 * with their files; the others go, rows, files, inventory, their settings
 * (release/<app>/<seq>/...) and stale partial downloads, and another app
 * is untouched. The file shrinks (incremental auto-vacuum).
 */
static void test_gc_keep(void)
{
	const char *p = path_of("gc.db");
	struct store *st = open_ok(p);
	static unsigned char big[200000];
	struct store_file files[1] = { { "big.yaml", big, sizeof(big), D1 } };
	struct store_object objs[1] = { { "v1", "ConfigMap", "web", "web", "u", "1", 2, 1 } };
	struct buf seqs = BUF_INIT(256), v = BUF_INIT(1 << 20);
	int64_t ids[11], other, dl, rcv, x;
	struct store_object *inv = NULL;
	size_t ninv = 0;
	long before, after;

	check_int(raw_int(p, "PRAGMA auto_vacuum"), ==, 2);    /* incremental */
	memset(big, 'g', sizeof(big));
	for (int i = 1; i <= 10; i++) {
		char key[64];

		ids[i] = release_at(st, "web", i, i <= 6 ? STORE_HEALTHY : STORE_FETCHED);
		check_int(store_files_put(st, ids[i], files, 1), ==, 0);
		check_int(store_inventory_put(st, ids[i], objs, 1), ==, 0);
		snprintf(key, sizeof(key), "release/web/%d/health_timeout", i);
		check_int(store_setting_set_int(st, key, 30), ==, 0);
	}
	check_int(store_lkg_set(st, "web", ids[3]), ==, 0);
	other = release_at(st, "db", 1, STORE_HEALTHY);
	check_int(store_files_put(st, other, files, 1), ==, 0);
	/* a download cut at sequence 4, the one of the newest (10) under way */
	check_int(store_download_open(st, "web", 4, "http://x/4", 10, D1, &dl, &rcv), ==, 0);
	check_int(store_download_append(st, dl, 0, "0123", 4), ==, 0);
	check_int(store_download_open(st, "web", 11, "http://x/11", 10, D1, &dl, &rcv), ==, 0);
	check_int(store_download_append(st, dl, 0, "0123", 4), ==, 0);
	store_close(st);
	before = file_size(p);
	st = open_ok(p);

	/* keep 2 older: 10 (newest), 9, 8, and 3 (lkg) */
	check_int(store_release_gc(st, "web", 2), ==, 6);
	check_int(store_release_list(st, "web", seq_of, &seqs), ==, 0);
	check_str(seqs.data, "10 9 8 3 ");
	check_int(store_inventory_get(st, ids[8], &inv, &ninv), ==, 0);
	check_int(ninv, ==, 1);
	store_objects_free(inv, ninv);
	check_int(store_file_get(st, ids[8], "big.yaml", &v), ==, 0);
	check_int(v.len, ==, sizeof(big));
	buf_reset(&v);
	check_int(store_file_get(st, ids[3], "big.yaml", &v), ==, 0);
	buf_reset(&v);
	check_int(store_file_get(st, ids[5], "big.yaml", &v), ==, E_NOTFOUND);
	check_int(store_file_get(st, other, "big.yaml", &v), ==, 0);
	buf_reset(&v);
	check_int(store_setting_get(st, "release/web/5/health_timeout", &v), ==, E_NOTFOUND);
	check_int(store_setting_get_int(st, "release/web/9/health_timeout", 0, &x), ==, 0);
	check_int(x, ==, 30);
	/* the cut download of sequence 4 is stale; 11 resumes */
	check_int(store_download_open(st, "web", 4, "http://x/4", 10, D1, &dl, &rcv), ==, 0);
	check_int(rcv, ==, 0);
	check_int(store_download_open(st, "web", 11, "http://x/11", 10, D1, &dl, &rcv), ==, 0);
	check_int(rcv, ==, 4);
	/* nothing more to collect */
	check_int(store_release_gc(st, "web", 2), ==, 0);
	check_int(store_vacuum(st), >=, 0);
	store_close(st);
	after = file_size(p);
	tap_diag("gc of 6 releases of 200 KB: %ld -> %ld bytes", before, after);
	check_int(after, <, before - 5 * (long)sizeof(big));
	check_int(raw_int(p, "PRAGMA freelist_count"), <, 16);
	buf_free(&seqs);
	buf_free(&v);
}

/*
 * A database made before incremental auto-vacuum (auto_vacuum NONE) is
 * converted once, at open, with its data; a fresh one has it from the
 * start.
 */
static void test_auto_vacuum_migration(void)
{
	const char *p = path_of("old-av.db");
	struct store *st = open_ok(p);
	sqlite3 *db;
	int64_t v = 0;

	check_int(store_setting_set_int(st, "kept", 42), ==, 0);
	store_close(st);
	check_int(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	check_int(sqlite3_exec(db, "PRAGMA auto_vacuum = NONE; VACUUM;", NULL, NULL, NULL), ==,
		  SQLITE_OK);
	sqlite3_close(db);
	check_int(raw_int(p, "PRAGMA auto_vacuum"), ==, 0);
	st = open_ok(p);
	check(st != NULL);
	check_int(store_setting_get_int(st, "kept", 0, &v), ==, 0);
	check_int(v, ==, 42);
	store_close(st);
	check_int(raw_int(p, "PRAGMA auto_vacuum"), ==, 2);
}

/* A file written piece by piece, a download read back chunk by chunk. */
static void test_pieces(void)
{
	struct store *st = open_ok(path_of("pieces.db"));
	struct buf b = BUF_INIT(1 << 20);
	struct store_release r;
	int64_t id = release_at(st, "web", 1, STORE_FETCHED), dl, rcv;

	check_int(store_begin(st), ==, 0);
	check_int(store_file_add(st, id, 2, "a.yaml", 10, D1), ==, 0);
	check_int(store_file_add(st, 999, 3, "b.yaml", 10, D1), ==, E_NOTFOUND);
	check_int(store_file_write(st, id, "a.yaml", 0, "01234", 5), ==, 0);
	check_int(store_file_write(st, id, "a.yaml", 5, "56789", 5), ==, 0);
	check_int(store_file_write(st, id, "a.yaml", 8, "xyz", 3), ==, E_LIMIT);
	check_int(store_file_write(st, id, "nope.yaml", 0, "x", 1), ==, E_NOTFOUND);
	check_int(store_release_set_digest(st, id, D2), ==, 0);
	check_int(store_release_set_digest(st, 999, D2), ==, E_NOTFOUND);
	check_int(store_commit(st), ==, 0);
	check_int(store_file_get(st, id, "a.yaml", &b), ==, 0);
	check_mem(b.data, b.len, "0123456789", 10);
	check_int(store_release_get_id(st, id, &r), ==, 0);
	check_str(r.digest, D2);
	/* rolled back: nothing of it stays */
	check_int(store_begin(st), ==, 0);
	check_int(store_file_add(st, id, 3, "c.yaml", 4, D1), ==, 0);
	check_int(store_file_write(st, id, "c.yaml", 0, "abcd", 4), ==, 0);
	check_int(store_rollback(st), ==, 0);
	buf_reset(&b);
	check_int(store_file_get(st, id, "c.yaml", &b), ==, E_NOTFOUND);

	check_int(store_download_open(st, "web", 2, "http://x/2", 9, D1, &dl, &rcv), ==, 0);
	check_int(store_download_append(st, dl, 0, "abcd", 4), ==, 0);
	check_int(store_download_append(st, dl, 4, "efghi", 5), ==, 0);
	buf_reset(&b);
	check_int(store_download_chunk(st, dl, 0, &b), ==, 0);
	check_int(store_download_chunk(st, dl, 4, &b), ==, 0);
	check_mem(b.data, b.len, "abcdefghi", 9);
	check_int(store_download_chunk(st, dl, 9, &b), ==, E_NOTFOUND);
	check_int(store_download_chunk(st, dl, 2, &b), ==, E_NOTFOUND);
	store_close(st);
	buf_free(&b);
}

/* Opening a download of a newer sequence drops the app's older ones. */
static void test_download_stale(void)
{
	struct store *st = open_ok(path_of("dl-stale.db"));
	int64_t a, b, c, rcv;

	check_int(store_download_open(st, "web", 4, "http://x/4", 10, D1, &a, &rcv), ==, 0);
	check_int(store_download_append(st, a, 0, "0123", 4), ==, 0);
	check_int(store_download_open(st, "db", 2, "http://x/d2", 10, D1, &c, &rcv), ==, 0);
	check_int(store_download_append(st, c, 0, "0123", 4), ==, 0);
	/* the pointer moved on to 5: 4 is never resumed again */
	check_int(store_download_open(st, "web", 5, "http://x/5", 10, D1, &b, &rcv), ==, 0);
	check_int(store_download_append(st, a, 4, "4567", 4), ==, E_NOTFOUND);
	/* another app's download stays */
	check_int(store_download_open(st, "db", 2, "http://x/d2", 10, D1, &c, &rcv), ==, 0);
	check_int(rcv, ==, 4);
	store_close(st);
}

static int append_chunk(void *ctx, const void *data, size_t len)
{
	return buf_add(ctx, data, len);
}

static void test_downloads(void)
{
	const char *p = path_of("dl.db");
	struct store *st = open_ok(p);
	static unsigned char data[3 * 65536 + 100];
	struct buf got = BUF_INIT(1 << 20);
	int64_t id, id2, rcv = -1;
	const int64_t size = (int64_t)sizeof(data);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	check_int(store_download_open(st, "web", 4, "http://x/b", size, D1,
				      &id, &rcv), ==, 0);
	check_int(rcv, ==, 0);
	check_int(store_download_append(st, id, 0, data, 65536), ==, 0);
	check_int(store_download_append(st, id, 65536, data + 65536, 65536), ==, 0);
	/* a chunk at the wrong offset is refused */
	check_int(store_download_append(st, id, 0, data, 65536), ==, E_STATE);
	store_close(st);

	st = open_ok(p);
	check_int(store_download_open(st, "web", 4, "http://x/b", size, D1,
				      &id2, &rcv), ==, 0);
	check_int(id2, ==, id);
	check_int(rcv, ==, 131072);
	check_int(store_download_append(st, id, rcv, data + rcv, 65536), ==, 0);
	check_int(store_download_append(st, id, rcv + 65536, data + rcv + 65536,
					200), ==, E_LIMIT);
	check_int(store_download_append(st, id, rcv + 65536, data + rcv + 65536,
					100), ==, 0);
	check_int(store_download_read(st, id, append_chunk, &got), ==, 0);
	check_mem(got.data, got.len, data, sizeof(data));
	/* the server now serves other bytes: start over */
	check_int(store_download_open(st, "web", 4, "http://x/b", size, D2,
				      &id2, &rcv), ==, 0);
	check_int(rcv, ==, 0);
	buf_reset(&got);
	check_int(store_download_read(st, id2, append_chunk, &got), ==, 0);
	check_int(got.len, ==, 0);
	check_int(store_download_delete(st, id2), ==, 0);
	check_int(store_download_append(st, id2, 0, data, 1), ==, E_NOTFOUND);
	store_close(st);
	buf_free(&got);
}

/* A populated database: n releases with files, inventory and history. */
static void populate(struct store *st, int n)
{
	static char content[4096];
	struct store_file files[3] = {
		{ "bundle.yaml", content, 600, D1 },
		{ "deploy.yaml", content, 2500, D1 },
		{ "svc.yaml", content, 400, D1 },
	};
	struct store_object objs[4] = {
		{ "apps/v1", "Deployment", "web", "web", "0b3c1f0e-9a2d-4c4f-8d1e-5a6b7c8d9e0f", "123456", 4, 1 },
		{ "v1", "Service", "web", "web", "0b3c1f0e-9a2d-4c4f-8d1e-5a6b7c8d9e10", "123457", 3, 1 },
		{ "v1", "ConfigMap", "web", "web-config", "0b3c1f0e-9a2d-4c4f-8d1e-5a6b7c8d9e11", "123458", 2, 1 },
		{ "v1", "Namespace", "", "web", "0b3c1f0e-9a2d-4c4f-8d1e-5a6b7c8d9e12", "123459", 0, 1 },
	};

	memset(content, 'k', sizeof(content));
	store_begin(st);
	for (int i = 1; i <= n; i++) {
		char app[16];
		int64_t id;

		snprintf(app, sizeof(app), "app%d", i % 10);
		id = release_at(st, app, i, STORE_HEALTHY);
		store_files_put(st, id, files, 3);
		store_inventory_put(st, id, objs, 4);
		store_outbox_add(st, app, i, "healthy", "{\"state\":\"healthy\"}", 19);
	}
	check_int(store_commit(st), ==, 0);
}

static int count_release(void *ctx, const struct store_release *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static int releases(struct store *st)
{
	int n = 0;

	store_release_list(st, NULL, count_release, &n);
	return n;
}

static void corrupt_bytes(const char *path, long off, size_t n)
{
	unsigned char junk[16384];
	int fd = open(path, O_WRONLY);

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 17);
	if (n > sizeof(junk))
		n = sizeof(junk);
	check(fd >= 0 && pwrite(fd, junk, n, off) == (ssize_t)n);
	close(fd);
}

static void test_corrupt_header(void)
{
	const char *p = path_of("bad-header.db");
	struct store *st = open_ok(p);

	populate(st, 5);
	store_close(st);
	corrupt_bytes(p, 0, 100);
	st = open_ok(p);
	if (!st)
		return;
	check(store_was_reset(st));
	check(store_reset_path(st) && strstr(store_reset_path(st), ".corrupt-"));
	check_int(file_size(store_reset_path(st)), >, 0);
	check_int(releases(st), ==, 0);
	check_int(file_mode(p), ==, 0600);
	/* the fresh database works */
	check_int(store_release_add(st, "web", 1, "1", D1, NULL), ==, 0);
	store_close(st);
	st = open_ok(p);
	check(!store_was_reset(st));
	check_int(releases(st), ==, 1);
	store_close(st);
}

static void test_corrupt_page(void)
{
	const char *p = path_of("bad-page.db");
	struct store *st = open_ok(p);
	long size;

	populate(st, 200);
	check_int(releases(st), ==, 200);
	store_close(st);
	size = file_size(p);
	check_int(size, >, 100000);
	/* four pages in the middle: some b-tree page among them */
	corrupt_bytes(p, (size / 2) & ~4095L, 16384);
	st = open_ok(p);
	if (!st)
		return;
	check(store_was_reset(st));
	check_int(releases(st), ==, 0);
	check_int(store_check(st), ==, 0);
	store_close(st);
}

/* Schema 1 stored no wave: its inventory rows migrate as "wave unknown". */
static void test_migrate_inventory_wave(void)
{
	const char *p = path_of("schema1.db");
	struct store *st = open_ok(p);
	struct store_object obj = { "v1", "ConfigMap", "web", "cfg", "u-9", "7", 2, 1 };
	struct store_object *got = NULL;
	size_t n = 0;
	int64_t id = release_at(st, "web", 1, STORE_HEALTHY);
	sqlite3 *db;

	check_int(store_inventory_put(st, id, &obj, 1), ==, 0);
	store_close(st);
	/* back to what schema 1 was */
	check_int(sqlite3_open(p, &db), ==, SQLITE_OK);
	check_int(sqlite3_exec(db, "ALTER TABLE inventory DROP COLUMN wave;"
			       "PRAGMA user_version = 1", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	st = open_ok(p);
	check_int(raw_int(p, "PRAGMA user_version"), ==, 2);
	check_int(store_inventory_get(st, id, &got, &n), ==, 0);
	check_int(n, ==, 1);
	if (n == 1) {
		check_str(got[0].name, "cfg");
		check_int(got[0].has_wave, ==, 0);
	}
	store_objects_free(got, n);
	store_close(st);
}

static void test_newer_version(void)
{
	const char *p = path_of("newer.db");
	struct store *st = open_ok(p);
	sqlite3 *db;
	long size;

	store_close(st);
	check_int(sqlite3_open(p, &db), ==, SQLITE_OK);
	check_int(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
		  ==, SQLITE_OK);
	sqlite3_close(db);
	size = file_size(p);
	st = NULL;
	check_int(store_open(p, &st), ==, E_STORE);
	check(st == NULL);
	check_int(raw_int(p, "PRAGMA user_version"), ==, 99);
	check_int(file_size(p), ==, size);
	/* not mistaken for corruption: nothing moved aside */
	check_int(raw_int(p, "SELECT count(*) FROM releases"), ==, 0);
}

static void test_not_a_file(void)
{
	const char *p = path_of("adir.db");
	struct store *st = NULL;

	mkdir(p, 0700);
	check_int(store_open(p, &st), <, 0);
	check(st == NULL);
	/* a directory is an error, never "corrupt": it is not moved */
	check_int(file_mode(p), ==, 0700);
}

/*
 * The transition under faults: release 2 goes applied -> healthy, becomes
 * last-known-good and queues its report, as one group.
 */
static int transition(struct store *st, int64_t id2)
{
	int rc = store_begin(st);

	if (rc)
		return rc;
	if ((rc = store_release_set_state(st, "web", 2, STORE_APPLIED,
					  STORE_HEALTHY, "healthy")) ||
	    (rc = store_lkg_set(st, "web", id2)) ||
	    (rc = store_outbox_add(st, "web", 2, "healthy", "{}", 2)) < 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st);
}

/* 1 when the transition happened entirely, 0 when not at all, -1 mixed. */
static int transition_outcome(struct store *st, int64_t id1, int64_t id2,
			      int base_hist)
{
	struct store_release r;
	int64_t lkg = 0, q = 0;
	int done, hist;

	if (store_release_get_id(st, id2, &r) || store_lkg_get(st, "web", &lkg) ||
	    store_outbox_count(st, &q, NULL))
		return -1;
	hist = history_rows(st, "web");
	done = r.state == STORE_HEALTHY;
	if (done && lkg == id2 && q == 1 && hist == base_hist + 1)
		return 1;
	if (!done && r.state == STORE_APPLIED && lkg == id1 && q == 0 &&
	    hist == base_hist)
		return 0;
	return -1;
}

static void fault_loop(const char *what, int kinds, int code, int sticky,
		       int torn)
{
	const char *base = path_of("fault-base.db"), *work = path_of("fault.db");
	struct store *st;
	int64_t id1, id2;
	int base_hist, bad = 0, silent = 0, reset = 0, nocheck = 0, n, rc = -1;
	int did = 0, undone = 0;

	remove_db(base);
	st = open_ok(base);
	if (!st)
		return;
	id1 = release_at(st, "web", 1, STORE_HEALTHY);
	store_lkg_set(st, "web", id1);
	id2 = release_at(st, "web", 2, STORE_APPLIED);
	base_hist = history_rows(st, "web");
	store_close(st);

	tap_quiet(1);
	for (n = 1; n < 200; n++) {
		int out;

		remove_db(work);
		copy_file(base, work);
		st = NULL;
		if (store_open(work, &st)) {
			bad++;
			break;
		}
		fault_arm(n, kinds, code, sticky, torn);
		rc = transition(st, id2);
		fault_disarm();
		store_close(st);
		st = NULL;
		if (store_open(work, &st)) {
			bad++;
			break;
		}
		reset += store_was_reset(st);
		nocheck += store_check(st) != 0;
		out = transition_outcome(st, id1, id2, base_hist);
		store_close(st);
		if (out < 0)
			bad++;
		if (!F.triggered) {
			/* past the last write of the transition: it succeeded */
			if (rc != 0 || out != 1)
				bad++;
			break;
		}
		if (rc == 0)
			silent++;       /* a failure the caller never heard of */
		if (out == 1)
			did++;
		else
			undone++;
	}
	tap_quiet(0);
	tap_diag("%s: %d fault points: %d undone, %d done despite the error",
		 what, n - 1, undone, did);
	check_int(n, >, 2);
	check_int(n, <, 200);
	check_int(bad, ==, 0);
	check_int(silent, ==, 0);
	check_int(reset, ==, 0);
	check_int(nocheck, ==, 0);
	check_int(rc, ==, 0);
}

/* Faults while creating and migrating a fresh database. */
static void fault_open_loop(void)
{
	const char *p = path_of("fault-open.db");
	struct store *st;
	int n, rc = -1, bad = 0, reset = 0;

	tap_quiet(1);
	for (n = 1; n < 200; n++) {
		remove_db(p);
		st = NULL;
		fault_arm(n, F_WRITE | F_SYNC | F_TRUNC, SQLITE_IOERR_WRITE, 1, 1);
		rc = store_open(p, &st);
		fault_disarm();
		store_close(st);
		if (!rc != !F.triggered)
			bad += !F.triggered || rc == 0;
		st = NULL;
		if (store_open(p, &st) != 0) {
			bad++;
			break;
		}
		reset += store_was_reset(st);
		bad += raw_int(p, "PRAGMA user_version") != 2;
		bad += store_release_add(st, "web", 1, "1", D1, NULL) != 0;
		store_close(st);
		if (!F.triggered)
			break;
	}
	tap_quiet(0);
	tap_diag("open: %d fault points", n - 1);
	check_int(n, <, 200);
	check_int(bad, ==, 0);
	check_int(reset, ==, 0);
	check_int(rc, ==, 0);
}

static void test_faults(void)
{
	fault_loop("write IOERR, disk gone, torn", F_WRITE | F_SYNC | F_TRUNC,
		   SQLITE_IOERR_WRITE, 1, 1);
	fault_loop("write FULL once", F_WRITE, SQLITE_FULL, 0, 0);
	fault_loop("fsync IOERR once", F_SYNC, SQLITE_IOERR_FSYNC, 0, 0);
	fault_loop("fsync IOERR, disk gone", F_SYNC | F_WRITE,
		   SQLITE_IOERR_FSYNC, 1, 0);
	fault_open_loop();
}

/* Every allocation failure over open + a transition: clean error, no leak
 * (ASan), and the database is sound afterwards. */
static void test_alloc_failures(void)
{
	const char *p = path_of("nomem.db");
	struct store *st;
	unsigned long n;
	int rc = -1, bad = 0, reset = 0, kinds = 0;

	tap_quiet(1);
	for (n = 1; n < 20000; n++) {
		remove_db(p);
		st = NULL;
		mem_fail_after(n);
		rc = store_open(p, &st);
		if (!rc && (rc = store_release_add(st, "web", 1, "1", D1, NULL)) == 0)
			rc = store_release_set_state(st, "web", 1, STORE_FETCHED,
						     STORE_VERIFIED, "ok");
		mem_fail_after(0);
		store_close(st);
		if (rc && rc != E_NOMEM && rc != E_STORE)
			bad++;
		kinds |= rc == E_NOMEM ? 1 : rc == E_STORE ? 2 : 0;
		st = NULL;
		if (store_open(p, &st) != 0) {
			bad++;
			break;
		}
		reset += store_was_reset(st);
		bad += store_check(st) != 0;
		store_close(st);
		if (!rc)
			break;
	}
	tap_quiet(0);
	tap_diag("allocation failures: %lu points", n - 1);
	check_int(rc, ==, 0);
	check_int(bad, ==, 0);
	check_int(reset, ==, 0);
	check(kinds & 1);
}

/* A real disk-full on a 256 KiB tmpfs, where mounting is allowed. */
static void test_disk_full(void)
{
	const char *mnt = path_of("tiny");
	char p[300];
	static unsigned char blob[32768];
	struct store *st;
	struct store_file f = { "big.yaml", blob, sizeof(blob), D1 };
	int64_t id = 0;
	int rc = 0, i;

	mkdir(mnt, 0700);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
		tap_diag("skip disk-full test: cannot mount tmpfs (%s)",
			 strerror(errno));
		rmdir(mnt);
		return;
	}
	snprintf(p, sizeof(p), "%s/outpost.db", mnt);
	st = open_ok(p);
	if (st) {
		check_int(store_release_add(st, "web", 1, "1", D1, &id), ==, 0);
		tap_quiet(1);
		for (i = 2; i < 100 && !rc; i++) {
			int64_t n;

			rc = store_release_add(st, "web", i, "1", D1, &n);
			if (!rc)
				rc = store_files_put(st, n, &f, 1);
		}
		tap_quiet(0);
		check_int(rc, ==, E_STORE);
		/* what was committed is there; the failed call left nothing */
		check_int(store_release_get_id(st, id, &(struct store_release){ 0 }), ==, 0);
		check_int(store_check(st), ==, 0);
		store_close(st);
		st = NULL;
		/* after freeing space the database opens and works */
		tap_quiet(1);
		rc = store_open(p, &st);
		tap_quiet(0);
		if (rc == 0) {
			check(!store_was_reset(st));
			check_int(store_check(st), ==, 0);
			store_close(st);
		} else {
			tap_diag("reopen on a full disk: %s", err_str(rc));
			check_int(rc, ==, E_STORE);
		}
	}
	umount(mnt);
	rmdir(mnt);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Figures for the report, when asked: OUTPOST_STORE_BENCH=1. */
static void bench(void)
{
	const char *p = path_of("bench.db");
	struct store *st = open_ok(p);
	double t;

	if (!st)
		return;
	populate(st, 1000);
	store_close(st);
	t = now_ms();
	st = open_ok(p);
	tap_diag("open with quick_check, 1000 releases: %.1f ms", now_ms() - t);
	t = now_ms();
	store_check(st);
	tap_diag("integrity_check, 1000 releases: %.1f ms", now_ms() - t);
	store_close(st);
	tap_diag("database size: %ld bytes", file_size(p));
}

int main(void)
{
	char tmpl[] = "/tmp/outpost-store-XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", tmpl);
	store_init();
	fault_vfs_install();
	F.nosync = !getenv("OUTPOST_STORE_BENCH");

	test_open_new();
	test_mode_fixed();
	test_reopen_keeps_data();
	test_compare_and_set();
	test_history_bound();
	test_outbox();
	test_floors();
	test_lkg_and_group();
	test_files_inventory_gc();
	test_gc_keep();
	test_auto_vacuum_migration();
	test_downloads();
	test_download_stale();
	test_pieces();
	test_corrupt_header();
	test_corrupt_page();
	test_migrate_inventory_wave();
	test_newer_version();
	test_not_a_file();
	test_faults();
	test_alloc_failures();
	test_disk_full();
	if (getenv("OUTPOST_STORE_BENCH"))
		bench();

	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (!getenv("OUTPOST_KEEP"))
			(void)!system(cmd);
	}
	return tap_done();
}
