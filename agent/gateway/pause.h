/*
 * pause — apps held still on purpose: by `outpost pause` (kept in the
 * store's settings, so it survives a restart; until a time or until
 * `outpost resume`) or by the site (the configuration's pause_file: while
 * that file exists every app is paused). A paused app still downloads and
 * verifies new releases; it applies none and corrects no drift. A release
 * already being applied goes on, rollback included (agent.c).
 *
 * Settings keys: "pause/<app>/until" (unix seconds; 0: until resumed)
 * and "pause/<app>/reason". A pause whose time has passed is over.
 *
 * Compiled only with CONFIG_PAUSE; without it nothing is ever paused and
 * pause_set() says so (E_UNSUPPORTED).
 */
#ifndef OUTPOST_PAUSE_H
#define OUTPOST_PAUSE_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "features.h"

#define PAUSE_REASON_MAX 200      /* bytes of --reason */

struct store;

struct pause {
	int paused;
	int by_file;                    /* the site's pause_file exists */
	int64_t until;                  /* 0: until resumed */
	char reason[PAUSE_REASON_MAX + 1];
};

#if IS_ENABLED(CONFIG_PAUSE)

/*
 * Whether app (a configured app's name) is paused at now: the store's
 * pause first, then cfg->pause_file. 0 or the store's error (never read
 * as "not paused"). A pause_file that cannot be looked at (not ENOENT)
 * counts as present: the site asked for nothing to change.
 */
int pause_get(struct store *st, const struct config *cfg, const char *app, int64_t now,
	      struct pause *p);

/*
 * Pause app until (0: until resumed) for reason (may be empty; at most
 * PAUSE_REASON_MAX printable bytes, E_USAGE otherwise), or resume it
 * (pause_clear(); resuming an app that is not paused is fine). A report
 * ("paused" / "resumed") is queued. 0 or the store's error.
 */
int pause_set(struct store *st, const struct config *cfg, const char *app, int64_t until,
	      const char *reason);
int pause_clear(struct store *st, const struct config *cfg, const char *app);

/* "paused until 2026-12-02T18:00:00Z by \"inventory count\"" and the like. */
int pause_describe(const struct pause *p, struct buf *out);

#else

static inline int pause_get(struct store *st, const struct config *cfg, const char *app,
			    int64_t now, struct pause *p)
{
	(void)st, (void)cfg, (void)app, (void)now;
	p->paused = 0;
	return 0;
}

static inline int pause_set(struct store *st, const struct config *cfg, const char *app,
			    int64_t until, const char *reason)
{
	(void)st, (void)cfg, (void)app, (void)until, (void)reason;
	return error(E_UNSUPPORTED, "pause: this build has no pause support (CONFIG_PAUSE)");
}

static inline int pause_clear(struct store *st, const struct config *cfg, const char *app)
{
	(void)st, (void)cfg, (void)app;
	return error(E_UNSUPPORTED, "resume: this build has no pause support (CONFIG_PAUSE)");
}

static inline int pause_describe(const struct pause *p, struct buf *out)
{
	(void)p, (void)out;
	return 0;
}

#endif
#endif
