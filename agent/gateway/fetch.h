/*
 * fetch — the gateway's side of the central server protocol (docs/server.md):
 * poll each app's channel, download and verify a new release into the
 * state store, and say when a stored release may be applied.
 *
 * A poll is a conditional GET of channels/<channel>/release.yaml under the
 * config's server (If-None-Match / If-Modified-Since from the last answer),
 * so an unchanged pointer costs one small 304. A changed pointer is fetched
 * with its .sig and verified against the agent's trust root (release
 * threshold, expiry at the agent's clock, the app's anti-rollback floor);
 * only then are its ETag and bytes kept. The bundle it names (relative to
 * the pointer's URL, or absolute http(s)) streams into the store in chunks
 * and resumes with a Range request after a cut; it is capped at the
 * pointer's size and limits.max_bundle_kb, aborted by a low-speed limit,
 * checked against the pointer's sha256, verified in full like a side-loaded
 * bundle, and stored by agent_store_stream() as the app's newest release.
 *
 * Schedule (agent/gateway/schedule.h), per app, kept in the store's settings so a
 * restart keeps it: the pointer's interval and jitter in the config's poll
 * bounds after a good poll; exponential backoff after errors; Retry-After
 * on 429 and 503. Staged rollout: a gateway outside the pointer's cohort
 * keeps its release and polls again. Maintenance window: a release is
 * downloaded at any time but applied only inside its pointer's window.
 *
 * Settings keys, per channel: poll/<channel>/{next,errors,etag,modified,
 * pointer,sig,pending,interval,jitter,window,noted}.
 */
#ifndef OUTPOST_FETCH_H
#define OUTPOST_FETCH_H

#include <stdint.h>

#include "agent.h"
#include "buf.h"
#include "config.h"

struct fetch;
struct store;

/*
 * A fetcher for the agent a and its configuration, speaking HTTP through
 * up (all three must outlive it). *out is the caller's (fetch_free()).
 */
struct upstream;
int fetch_new(struct fetch **out, struct agent *a, struct upstream *up,
	      const struct config *cfg);
void fetch_free(struct fetch *f);

/*
 * Poll app's channel if it is due (or at once when force), and store the
 * release it points at when that is new, verified and this gateway is in
 * its cohort. 1 when a new release was stored; 0 when there was nothing to
 * do (not due, 304, already stored, quarantined, not in the cohort);
 * E_NETWORK / E_HTTP when the server could not be reached or answered
 * with an error (backed off); the verification errors (E_SIGNATURE,
 * E_EXPIRED, E_ROLLBACK, E_DIGEST, E_TRUNCATED, E_LIMIT, ...) when what
 * the server published is refused (nothing stored, backed off); E_STORE
 * when the store failed, also when only the next poll time could not be
 * stored: that backs off like any error, from the schedule f keeps in
 * memory (a full disk must not leave a past time in charge). Logged.
 */
int fetch_poll(struct fetch *f, const struct config_app *app, int force);

/*
 * Whether app's newest release may be carried on now: 0 only when it is a
 * release fetched from the server, not yet attempted (verified), and its
 * pointer's maintenance window is closed (logged); otherwise 1 (a release
 * already on its way, a rollback or a side-loaded bundle always goes on).
 */
int fetch_may_apply(struct fetch *f, const struct config_app *app, int64_t now);

/*
 * The earliest time something of f is due: an app's next poll, a waiting
 * release's window opening, or the report outbox's retry.
 */
int64_t fetch_next_due(struct fetch *f, int64_t now);

/* The next poll time and the count of consecutive errors of a channel (0
 * when unknown), for `outpost status`. */
int fetch_poll_info(struct store *st, const char *channel, int64_t *next,
		    int64_t *errors);

/*
 * Resolve ref against base (RFC 3986 section 5.2, for http and https):
 * an absolute http(s) URL is taken as it is; "//host/p", "/p", "p",
 * "../../p" are resolved against base, dot segments removed (never above
 * the root); a fragment is dropped. Appends to out. E_FORMAT for another
 * scheme or a base that is not http(s), E_LIMIT past out's cap.
 */
int fetch_url_resolve(const char *base, const char *ref, struct buf *out);

#endif
