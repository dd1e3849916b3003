/* metrics — the node_exporter textfile, from the state store. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buildinfo.h"
#include "error.h"
#include "file.h"
#include "mem.h"
#include "metrics.h"
#include "pause.h"
#include "store.h"

#define KEY_MAX 256

/* What the file says about one app. */
struct app_metrics {
	int64_t sequence, healthy, rollbacks, drift;
	int64_t last_poll;      /* -1: never recorded */
	int64_t frozen;         /* 1: the channel's pointer expired (fetch) */
	int64_t paused;         /* 1: the app applies nothing new (pause.h) */
};

int metrics_escape_label(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_addstr(out, "\\\\");
		else if (*s == '"')
			buf_addstr(out, "\\\"");
		else if (*s == '\n')
			buf_addstr(out, "\\n");
		else
			buf_addch(out, *s);
	}
	return buf_error(out);
}

/* The appends below are checked once, by metrics_render() (buf's error is
 * sticky). */
static void family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{app="..."} value, or name value when app is NULL */
static void sample(struct buf *out, const char *name, const char *app, int64_t value)
{
	buf_addstr(out, name);
	if (app) {
		buf_addstr(out, "{app=\"");
		metrics_escape_label(out, app);
		buf_addstr(out, "\"}");
	}
	buf_addf(out, " %lld\n", (long long)value);
}

static int counter_key(char key[KEY_MAX], enum metrics_counter c, const char *app)
{
	int n = c == METRICS_ROLLBACKS ? snprintf(key, KEY_MAX, METRICS_KEY_ROLLBACKS, app) :
		snprintf(key, KEY_MAX, METRICS_KEY_DRIFT, app);

	if (n < 0 || n >= KEY_MAX)
		return error(E_LIMIT, "metrics: app name too long: %s", app);
	return 0;
}

static int get_counter(struct store *st, enum metrics_counter c, const char *app,
		       int64_t *v)
{
	char key[KEY_MAX];
	int rc = counter_key(key, c, app);

	return rc ? rc : store_setting_get_int(st, key, 0, v);
}

int metrics_count(struct store *st, enum metrics_counter c, const char *app, int64_t n)
{
	char key[KEY_MAX];
	int64_t v = 0;
	int rc = counter_key(key, c, app);

	if (!rc)
		rc = store_setting_get_int(st, key, 0, &v);
	if (!rc)
		rc = store_setting_set_int(st, key, v + n);
	return rc;
}

static int app_state(struct store *st, const struct config *cfg, const struct config_app *ca,
		     struct app_metrics *m)
{
	/* the agent keys releases, counters and poll state by channel: the
	 * bundle's app is its channel's (docs/formats.md); the file labels
	 * them with the app's name */
	const char *app = ca->channel ? ca->channel : ca->name, *channel = app;
	struct store_release latest, lkg;
	char key[KEY_MAX];
	int64_t id = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = store_lkg_get(st, app, &id);
	if (!rc && id)
		rc = store_release_get_id(st, id, &lkg);
	if (!rc && id)
		m->sequence = lkg.sequence;
	if (rc == E_NOTFOUND)
		rc = 0;
	if (!rc) {
		rc = store_release_latest(st, app, &latest);
		/* healthy means the newest release made it: one in progress,
		 * failed or rolled back is not, whatever still runs */
		m->healthy = !rc && latest.state == STORE_HEALTHY;
		if (rc == E_NOTFOUND)
			rc = 0;
	}
	if (!rc)
		rc = get_counter(st, METRICS_ROLLBACKS, app, &m->rollbacks);
	if (!rc)
		rc = get_counter(st, METRICS_DRIFT, app, &m->drift);
	if (!rc && snprintf(key, sizeof(key), METRICS_KEY_LAST_POLL, channel) >= (int)sizeof(key))
		rc = error(E_LIMIT, "metrics: channel name too long: %s", channel);
	if (!rc)
		rc = store_setting_get_int(st, key, -1, &m->last_poll);
	if (!rc && snprintf(key, sizeof(key), METRICS_KEY_FROZEN, channel) >= (int)sizeof(key))
		rc = error(E_LIMIT, "metrics: channel name too long: %s", channel);
	if (!rc)
		rc = store_setting_get_int(st, key, 0, &m->frozen);
	m->frozen = m->frozen != 0;
	if (!rc) {
		struct pause p;

		rc = pause_get(st, cfg, ca->name, (int64_t)time(NULL), &p);
		m->paused = !rc && p.paused;
	}
	return rc;
}

/* The families with one sample per app, in the file's order. */
static const struct {
	const char *name, *type, *help;
	size_t field;           /* of struct app_metrics */
} per_app[] = {
	{ "outpost_last_poll_success_timestamp_seconds", "gauge",
	  "When the release server last answered a poll for the app (unix time).",
	  offsetof(struct app_metrics, last_poll) },
	{ "outpost_release_sequence", "gauge",
	  "Sequence of the app's current (last-known-good) release; 0 when "
	  "none is healthy yet.", offsetof(struct app_metrics, sequence) },
	{ "outpost_release_healthy", "gauge",
	  "1 when the app's newest release is healthy; 0 while it is being "
	  "applied, after it failed, or when there is none.",
	  offsetof(struct app_metrics, healthy) },
	{ "outpost_rollbacks_total", "counter",
	  "Failed releases of the app rolled back automatically.",
	  offsetof(struct app_metrics, rollbacks) },
	{ "outpost_drift_corrections_total", "counter",
	  "Objects of the app re-applied because they had drifted from "
	  "the current release.", offsetof(struct app_metrics, drift) },
	{ "outpost_channel_frozen", "gauge",
	  "1 when the release server keeps answering with an expired pointer "
	  "for the app: nothing new is applied, the current release runs on.",
	  offsetof(struct app_metrics, frozen) },
	{ "outpost_app_paused", "gauge",
	  "1 while the app is paused (outpost pause, or the site's pause file): "
	  "new releases are verified, none is applied.",
	  offsetof(struct app_metrics, paused) },
};

int metrics_render(struct store *st, const struct config *cfg, struct buf *out)
{
	struct app_metrics *m = mem_zalloc(cfg->napps ? cfg->napps : 1, sizeof(*m));
	int64_t queued = 0, dropped = 0, bytes = -1, root_expired = 0, floor = 0;
	size_t start = out->len, i;
	int rc = m ? 0 : E_NOMEM;

	for (i = 0; !rc && i < cfg->napps; i++)
		rc = app_state(st, cfg, &cfg->apps[i], &m[i]);
	if (!rc)
		rc = store_outbox_count(st, &queued, &dropped);
	if (!rc)
		rc = store_setting_get_int(st, METRICS_KEY_BYTES, -1, &bytes);
	if (!rc)
		rc = store_setting_get_int(st, METRICS_KEY_ROOT_EXPIRED, 0, &root_expired);
	if (!rc)
		rc = store_clock_floor_get(st, &floor);
	if (rc)
		goto out;

	family(out, "outpost_info", "gauge", "The outpost agent's version and build target.");
	buf_addstr(out, "outpost_info{version=\"");
	metrics_escape_label(out, OUTPOST_VERSION);
	buf_addstr(out, "\",target=\"");
	metrics_escape_label(out, OUTPOST_TARGET);
	buf_addstr(out, "\"} 1\n");

	for (size_t f = 0; f < sizeof(per_app) / sizeof(per_app[0]); f++) {
		family(out, per_app[f].name, per_app[f].type, per_app[f].help);
		for (i = 0; i < cfg->napps; i++) {
			int64_t v = *(const int64_t *)((const char *)&m[i] + per_app[f].field);

			if (v >= 0)     /* -1: never recorded */
				sample(out, per_app[f].name, cfg->apps[i].name, v);
		}
	}

	family(out, "outpost_outbox_depth", "gauge", "Reports queued for the release server.");
	sample(out, "outpost_outbox_depth", NULL, queued);
	family(out, "outpost_outbox_dropped_total", "counter",
	       "Reports dropped because the outbox was full.");
	sample(out, "outpost_outbox_dropped_total", NULL, dropped);

	family(out, "outpost_bytes_downloaded_total", "counter",
	       "Bytes of release bundles downloaded from the release server.");
	if (bytes >= 0)
		sample(out, "outpost_bytes_downloaded_total", NULL, bytes);

	family(out, "outpost_trust_root_expired", "gauge",
	       "1 when the trust root has expired: every update is refused until a "
	       "new root is installed.");
	sample(out, "outpost_trust_root_expired", NULL, root_expired != 0);
	family(out, "outpost_clock_floor_timestamp_seconds", "gauge",
	       "The newest signed creation time accepted: expiry is never judged "
	       "against an earlier clock (unix time).");
	sample(out, "outpost_clock_floor_timestamp_seconds", NULL, floor);
	rc = buf_error(out);
	if (rc == E_LIMIT)
		rc = error(rc, "metrics: the file would be larger than %zu bytes", out->max);
out:
	if (rc)
		buf_truncate(out, start);
	mem_free(m);
	return rc;
}

int metrics_write(struct store *st, const struct config *cfg)
{
	struct buf text = BUF_INIT(METRICS_FILE_MAX);
	int rc;

	if (!cfg->metrics.path)
		return 0;
	rc = metrics_render(st, cfg, &text);
	if (!rc)
		rc = file_write_atomic(cfg->metrics.path, text.data, text.len, 0644);
	buf_free(&text);
	return rc;
}
