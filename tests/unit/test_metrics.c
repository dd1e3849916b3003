/*
 * Unit tests: agent/gateway/metrics — the exact text for a known state (every
 * family with HELP and TYPE, series the fetch module has not recorded
 * left out), label escaping, persistent counters, and the file: mode 0644,
 * replaced atomically (a reader racing the writer only ever sees a whole
 * file, no temporary file is left), untouched when rendering fails.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "buildinfo.h"
#include "config.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "pause.h"
#include "store.h"
#include "tap.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

#define INFO \
	"# HELP outpost_info The outpost agent's version and build target.\n" \
	"# TYPE outpost_info gauge\n" \
	"outpost_info{version=\"" OUTPOST_VERSION "\",target=\"" OUTPOST_TARGET "\"} 1\n"
#define POLL \
	"# HELP outpost_last_poll_success_timestamp_seconds When the release server " \
	"last answered a poll for the app (unix time).\n" \
	"# TYPE outpost_last_poll_success_timestamp_seconds gauge\n"
#define SEQ \
	"# HELP outpost_release_sequence Sequence of the app's current (last-known-good) " \
	"release; 0 when none is healthy yet.\n" \
	"# TYPE outpost_release_sequence gauge\n"
#define HEALTHY \
	"# HELP outpost_release_healthy 1 when the app's newest release is healthy; 0 " \
	"while it is being applied, after it failed, or when there is none.\n" \
	"# TYPE outpost_release_healthy gauge\n"
#define ROLLBACKS \
	"# HELP outpost_rollbacks_total Failed releases of the app rolled back " \
	"automatically.\n" \
	"# TYPE outpost_rollbacks_total counter\n"
#define DRIFT \
	"# HELP outpost_drift_corrections_total Objects of the app re-applied because " \
	"they had drifted from the current release.\n" \
	"# TYPE outpost_drift_corrections_total counter\n"
#define OUTBOX \
	"# HELP outpost_outbox_depth Reports queued for the release server.\n" \
	"# TYPE outpost_outbox_depth gauge\n"
#define DROPPED \
	"# HELP outpost_outbox_dropped_total Reports dropped because the outbox was full.\n" \
	"# TYPE outpost_outbox_dropped_total counter\n"
#define BYTES \
	"# HELP outpost_bytes_downloaded_total Bytes of release bundles downloaded from " \
	"the release server.\n" \
	"# TYPE outpost_bytes_downloaded_total counter\n"
#define FROZEN \
	"# HELP outpost_channel_frozen 1 when the release server keeps answering with an " \
	"expired pointer for the app: nothing new is applied, the current release runs on.\n" \
	"# TYPE outpost_channel_frozen gauge\n"
#define PAUSED \
	"# HELP outpost_app_paused 1 while the app is paused (outpost pause, or the site's " \
	"pause file): new releases are verified, none is applied.\n" \
	"# TYPE outpost_app_paused gauge\n"
#define TRUST \
	"# HELP outpost_trust_root_expired 1 when the trust root has expired: every update " \
	"is refused until a new root is installed.\n" \
	"# TYPE outpost_trust_root_expired gauge\n" \
	"outpost_trust_root_expired 0\n" \
	"# HELP outpost_clock_floor_timestamp_seconds The newest signed creation time " \
	"accepted: expiry is never judged against an earlier clock (unix time).\n" \
	"# TYPE outpost_clock_floor_timestamp_seconds gauge\n" \
	"outpost_clock_floor_timestamp_seconds 0\n"

/* A gateway that has done nothing yet: only what needs no history. */
static const char fresh_text[] =
	INFO POLL
	SEQ "outpost_release_sequence{app=\"web\"} 0\noutpost_release_sequence{app=\"db\"} 0\n"
	HEALTHY "outpost_release_healthy{app=\"web\"} 0\noutpost_release_healthy{app=\"db\"} 0\n"
	ROLLBACKS "outpost_rollbacks_total{app=\"web\"} 0\noutpost_rollbacks_total{app=\"db\"} 0\n"
	DRIFT "outpost_drift_corrections_total{app=\"web\"} 0\n"
	"outpost_drift_corrections_total{app=\"db\"} 0\n"
	FROZEN "outpost_channel_frozen{app=\"web\"} 0\noutpost_channel_frozen{app=\"db\"} 0\n"
	PAUSED "outpost_app_paused{app=\"web\"} 0\noutpost_app_paused{app=\"db\"} 0\n"
	OUTBOX "outpost_outbox_depth 0\n"
	DROPPED "outpost_outbox_dropped_total 0\n"
	BYTES TRUST;

/* web: v1 healthy, v2 failed and rolled back; db: v1 healthy and newest. */
static const char busy_text[] =
	INFO
	POLL "outpost_last_poll_success_timestamp_seconds{app=\"web\"} 1700000000\n"
	SEQ "outpost_release_sequence{app=\"web\"} 1\noutpost_release_sequence{app=\"db\"} 7\n"
	HEALTHY "outpost_release_healthy{app=\"web\"} 0\noutpost_release_healthy{app=\"db\"} 1\n"
	ROLLBACKS "outpost_rollbacks_total{app=\"web\"} 1\noutpost_rollbacks_total{app=\"db\"} 0\n"
	DRIFT "outpost_drift_corrections_total{app=\"web\"} 3\n"
	"outpost_drift_corrections_total{app=\"db\"} 0\n"
	FROZEN "outpost_channel_frozen{app=\"web\"} 1\noutpost_channel_frozen{app=\"db\"} 0\n"
	PAUSED "outpost_app_paused{app=\"web\"} 0\noutpost_app_paused{app=\"db\"} 1\n"
	OUTBOX "outpost_outbox_depth 2\n"
	DROPPED "outpost_outbox_dropped_total 0\n"
	BYTES "outpost_bytes_downloaded_total 123456789\n" TRUST;

static char dir[64];
static struct store *st;
static struct config cfg;

static const char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* Walk a release through the states to `to` (healthy or rolled-back). */
static int release(const char *app, int64_t seq, const char *digest, enum store_state to)
{
	static const enum store_state good[] = { STORE_FETCHED, STORE_VERIFIED, STORE_APPLYING,
						  STORE_APPLIED, STORE_HEALTHY };
	static const enum store_state bad[] = { STORE_FETCHED, STORE_VERIFIED, STORE_APPLYING,
						 STORE_APPLIED, STORE_FAILED, STORE_ROLLING_BACK,
						 STORE_ROLLED_BACK };
	const enum store_state *s = to == STORE_HEALTHY ? good : bad;
	size_t n = to == STORE_HEALTHY ? 5 : 7;
	int64_t id;
	int rc = store_release_add(st, app, seq, "v", digest, &id);

	for (size_t i = 1; !rc && i < n; i++)
		rc = store_release_set_state(st, app, seq, s[i - 1], s[i], NULL);
	if (!rc && to == STORE_HEALTHY)
		rc = store_lkg_set(st, app, id);
	return rc;
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_fresh(void)
{
	struct buf out = BUF_INIT(METRICS_FILE_MAX);

	check_int(metrics_render(st, &cfg, &out), ==, 0);
	check_str(out.data, fresh_text);
	buf_free(&out);
}

static void test_busy(void)
{
	struct buf out = BUF_INIT(METRICS_FILE_MAX);

	/* the agent keys releases and counters by channel (web follows
	 * web-stable); the file labels them with the app's name */
	check_int(release("web-stable", 1, D1, STORE_HEALTHY), ==, 0);
	check_int(release("web-stable", 2, D2, STORE_ROLLED_BACK), ==, 0);
	check_int(release("db", 7, D1, STORE_HEALTHY), ==, 0);
	/* a release stored under the name (never applied) does not count */
	check_int(release("web", 9, D1, STORE_HEALTHY), ==, 0);
	check_int(metrics_count(st, METRICS_ROLLBACKS, "web-stable", 1), ==, 0);
	check_int(metrics_count(st, METRICS_DRIFT, "web-stable", 1), ==, 0);
	check_int(metrics_count(st, METRICS_DRIFT, "web-stable", 2), ==, 0);
	check_int(metrics_count(st, METRICS_ROLLBACKS, "web", 4), ==, 0);
	check_int(store_setting_set_int(st, "poll/web-stable/last_success", 1700000000), ==, 0);
	check_int(store_setting_set_int(st, METRICS_KEY_BYTES, 123456789), ==, 0);
	check_int(store_setting_set_int(st, "poll/web-stable/frozen", 1700000001), ==, 0);
	check_int(pause_set(st, &cfg, "db", 0, "inventory count"), ==, 0);
	check_int(store_outbox_add(st, "web", 1, "healthy", "{}", 2), ==, 1);
	check_int(store_outbox_add(st, "web", 2, "rolled-back", "{}", 2), ==, 1);
	check_int(metrics_render(st, &cfg, &out), ==, 0);
	check_str(out.data, busy_text);
	/* appended: what out held stays */
	check_int(metrics_render(st, &cfg, &out), ==, 0);
	check_int(out.len, ==, 2 * strlen(busy_text));
	buf_free(&out);

	/* counters live in the store: a new process sees them */
	store_close(st);
	check_int(store_open(path_of("outpost.db"), &st), ==, 0);
	check_int(metrics_render(st, &cfg, &out), ==, 0);
	check_str(out.data, busy_text);
	buf_free(&out);
}

static void test_escape(void)
{
	struct buf out = BUF_INIT(1024);
	struct config odd = { 0 };
	const char *want = "outpost_release_sequence{app=\"a\\\"b\\\\c\\nd\"} 0\n";

	check_int(metrics_escape_label(&out, "plain-app"), ==, 0);
	check_str(out.data, "plain-app");
	buf_reset(&out);
	check_int(metrics_escape_label(&out, "a\"b\\c\nd"), ==, 0);
	check_str(out.data, "a\\\"b\\\\c\\nd");
	buf_free(&out);

	/* config refuses such names; the renderer escapes them anyway */
	odd.napps = 1;
	odd.apps[0].name = "a\"b\\c\nd";
	buf_init(&out, METRICS_FILE_MAX);
	check_int(metrics_render(st, &odd, &out), ==, 0);
	check(strstr(out.data, want) != NULL);
	buf_free(&out);

	/* a file that does not fit: E_LIMIT and nothing appended */
	buf_init(&out, 100);
	check_int(metrics_render(st, &cfg, &out), ==, E_LIMIT);
	check_int(out.len, ==, 0);
	buf_free(&out);
}

static int read_whole(const char *path, struct buf *out)
{
	buf_reset(out);
	return file_read(path, METRICS_FILE_MAX, out);
}

static void test_write(void)
{
	struct buf text = BUF_INIT(METRICS_FILE_MAX), want = BUF_INIT(METRICS_FILE_MAX);
	const char *path = path_of("outpost.prom");
	struct stat sb;
	int before = count_entries();

	/* no path: no file */
	check_int(metrics_write(st, &cfg), ==, 0);
	check_int(count_entries(), ==, before);

	cfg.metrics.path = path;
	umask(077);             /* the mode is set, not left to the umask */
	check_int(metrics_write(st, &cfg), ==, 0);
	umask(022);
	check_int(read_whole(path, &text), ==, 0);
	check_str(text.data, busy_text);
	check(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);

	/* a second write replaces the first, and leaves no temporary file */
	check_int(metrics_count(st, METRICS_ROLLBACKS, "db", 5), ==, 0);
	check_int(metrics_write(st, &cfg), ==, 0);
	check_int(read_whole(path, &text), ==, 0);
	check_int(metrics_render(st, &cfg, &want), ==, 0);
	check_str(text.data, want.data);
	check(strstr(text.data, "outpost_rollbacks_total{app=\"db\"} 5\n") != NULL);
	check_int(count_entries(), ==, before + 1);
	buf_free(&text);
	buf_free(&want);
}

/*
 * A reader racing the writer: every time it opens the file it reads a
 * whole one (it starts with the first HELP line and ends with the last
 * sample). Writing in place would show it empty or cut files.
 */
static void test_race(void)
{
	const char *path = cfg.metrics.path;
	static const char head[] = "# HELP outpost_info ";
	static const char tail[] = "\noutpost_clock_floor_timestamp_seconds 0\n";
	struct buf text = BUF_INIT(METRICS_FILE_MAX);
	int status = 0, rc = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int bad = 0;

		log_set_level(LOG_OFF);
		for (int i = 0; i < 3000; i++) {
			if (read_whole(path, &text) || text.len < sizeof(tail) ||
			    strncmp(text.data, head, strlen(head)) ||
			    strcmp(text.data + text.len - strlen(tail), tail))
				bad++;
		}
		_exit(bad ? 1 : 0);
	}
	check(pid > 0);
	for (int i = 0; i < 60 && !rc; i++) {
		rc = metrics_count(st, METRICS_DRIFT, "db", 1);
		if (!rc)
			rc = metrics_write(st, &cfg);
	}
	check_int(rc, ==, 0);
	check(waitpid(pid, &status, 0) == pid);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_int(read_whole(path, &text), ==, 0);
	check(strstr(text.data, "outpost_drift_corrections_total{app=\"db\"} 60\n") != NULL);
	check_int(count_entries(), ==, 2 + (access(path_of("outpost.db-wal"), F_OK) == 0) +
		  (access(path_of("outpost.db-shm"), F_OK) == 0));
	buf_free(&text);
}

/*
 * Fail the n-th allocation for every n: each failing write leaves the
 * previous file whole and no temporary file behind.
 */
static void test_alloc_failures(void)
{
	struct buf before = BUF_INIT(METRICS_FILE_MAX), now = BUF_INIT(METRICS_FILE_MAX);
	const char *path = cfg.metrics.path;
	int entries = count_entries(), rc = -1, bad = 0;
	unsigned long n;

	check_int(read_whole(path, &before), ==, 0);
	log_set_level(LOG_OFF);
	for (n = 1; n < 10000 && rc; n++) {
		mem_fail_after(n);
		rc = metrics_write(st, &cfg);
		mem_fail_after(0);
		if (rc && (read_whole(path, &now) || strcmp(now.data, before.data) ||
			   count_entries() != entries))
			bad++;
	}
	log_set_level(LOG_ERROR);
	check_int(rc, ==, 0);
	check_int(bad, ==, 0);
	check(n > 2);           /* some allocations did fail */
	buf_free(&before);
	buf_free(&now);
}

/* Built without CONFIG_METRICS: no file, nothing rendered, nothing counted. */
static void test_compiled_out(void)
{
	struct buf out = BUF_INIT(METRICS_FILE_MAX);
	int64_t v = -1;

	cfg.metrics.path = path_of("outpost.prom");
	check_int(metrics_write(st, &cfg), ==, 0);
	check(access(cfg.metrics.path, F_OK) != 0);
	check_int(metrics_render(st, &cfg, &out), ==, 0);
	check_int(out.len, ==, 0);
	check_int(metrics_count(st, METRICS_ROLLBACKS, "web", 1), ==, 0);
	check_int(store_setting_get_int(st, "metrics/web/rollbacks", 0, &v), ==, 0);
	check_int(v, ==, 0);
	buf_free(&out);
}

int main(void)
{
	char tmpl[] = "/tmp/test_metrics.XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	check_int(store_open(path_of("outpost.db"), &st), ==, 0);
	cfg.napps = 2;
	cfg.apps[0].name = "web";
	cfg.apps[1].name = "db";
	cfg.apps[0].channel = "web-stable";     /* the fetch module's key */
	cfg.apps[1].channel = "db";

	if (!IS_ENABLED(CONFIG_METRICS)) {
		tap_diag("built without CONFIG_METRICS");
		test_compiled_out();
	} else {
		test_fresh();
		test_busy();
		test_escape();
		test_write();
		test_race();
		test_alloc_failures();
	}

	store_close(st);
	unlink(path_of("outpost.prom"));
	unlink(path_of("outpost.db"));
	unlink(path_of("outpost.db-wal"));
	unlink(path_of("outpost.db-shm"));
	rmdir(dir);
	return tap_done();
}
