/*
 * metrics — the Prometheus text-format file that node_exporter's textfile
 * collector reads (metrics.path in the configuration, e.g.
 * /var/lib/node_exporter/textfile/outpost.prom), written from the state
 * store at the end of each cycle of `once` and `run`, and after `import`
 * and `rollback`.
 *
 * The file is replaced atomically (file_write_atomic(), mode 0644): the
 * collector sees the old file or the new one, never a part. Its temporary
 * name ends in ".tmp.XXXXXX", which the collector ignores (it reads *.prom).
 *
 * Series (HELP and TYPE lines for every one, label values escaped as the
 * text format says: backslash, double quote, newline):
 *   outpost_info{version,target} 1
 *   outpost_last_poll_success_timestamp_seconds{app}   (when the fetch
 *       module has recorded one: setting METRICS_KEY_LAST_POLL of the
 *       app's channel)
 *   outpost_release_sequence{app}          the last-known-good; 0 when none
 *   outpost_release_healthy{app}           1 when the newest release is healthy
 *   outpost_rollbacks_total{app}           automatic rollbacks
 *   outpost_drift_corrections_total{app}   objects re-applied after drift
 *   outpost_outbox_depth, outpost_outbox_dropped_total
 *   outpost_bytes_downloaded_total         (when the fetch module counts it:
 *       setting METRICS_KEY_BYTES)
 *   outpost_channel_frozen{app}            1 when the channel's pointer expired
 *   outpost_app_paused{app}                1 while the app is paused (pause.h)
 *   outpost_trust_root_expired             1 when updates stop for the root
 *   outpost_clock_floor_timestamp_seconds  the clock floor
 * Counters live in the store's settings so they survive restarts; the
 * agent bumps them with metrics_count() where the thing happens.
 *
 * Compiled only with CONFIG_METRICS. Without it every function below is an
 * inline no-op returning 0, so callers carry no #ifdef.
 */
#ifndef OUTPOST_METRICS_H
#define OUTPOST_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "features.h"

struct store;

/*
 * Settings keys; "%s" is the app name, or the channel for the poll key.
 * The fetch module owns the last two (unix seconds; a running total).
 */
#define METRICS_KEY_ROLLBACKS "metrics/%s/rollbacks"
#define METRICS_KEY_DRIFT "metrics/%s/drift_corrections"
#define METRICS_KEY_LAST_POLL "poll/%s/last_success"
#define METRICS_KEY_BYTES "fetch/bytes_downloaded"
/* The fetch module's alarms (unix seconds since when; 0 or absent: none). */
#define METRICS_KEY_FROZEN "poll/%s/frozen"
#define METRICS_KEY_ROOT_EXPIRED "trust/root_expired"

#define METRICS_FILE_MAX (256 * 1024)

/* The counters the agent bumps. */
enum metrics_counter {
	METRICS_ROLLBACKS,      /* a failed release was rolled back */
	METRICS_DRIFT,          /* objects re-applied after drift */
};

#if IS_ENABLED(CONFIG_METRICS)

/*
 * Append the whole file, as the collector will read it, for the apps of
 * cfg and the state in st, to out. 0, E_LIMIT, E_NOMEM or the store's
 * error (logged).
 */
int metrics_render(struct store *st, const struct config *cfg, struct buf *out);

/*
 * Render and replace cfg->metrics.path atomically; nothing when it is
 * unset. 0 or the error (logged). A metrics file that cannot be written
 * never stops the agent: callers may ignore the result.
 */
int metrics_write(struct store *st, const struct config *cfg);

/* Add n to app's counter c in the store. 0 or the store's error (logged). */
int metrics_count(struct store *st, enum metrics_counter c, const char *app, int64_t n);

/* Append s escaped as a label value (\\, \", \n), without the quotes. */
int metrics_escape_label(struct buf *out, const char *s);

#else

static inline int metrics_render(struct store *st, const struct config *cfg,
				 struct buf *out)
{
	(void)st;
	(void)cfg;
	(void)out;
	return 0;
}

static inline int metrics_write(struct store *st, const struct config *cfg)
{
	(void)st;
	(void)cfg;
	return 0;
}

static inline int metrics_count(struct store *st, enum metrics_counter c,
				const char *app, int64_t n)
{
	(void)st;
	(void)c;
	(void)app;
	(void)n;
	return 0;
}

static inline int metrics_escape_label(struct buf *out, const char *s)
{
	(void)out;
	(void)s;
	return 0;
}

#endif
#endif
