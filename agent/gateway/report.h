/*
 * report — status reports to the server (CONFIG_REPORTS): each transition
 * of a release is queued in the state store's outbox as a JSON document,
 * then POSTed to the config's reports.url when the server is reachable.
 *
 * The outbox (storage/outbox.c) is idempotent, keyed by (app, sequence,
 * step = the state entered), and bounded: the oldest reports are dropped
 * and counted, and every report sent says how many were ("dropped"), so
 * the server knows what it missed. A report carries its key ("key":
 * "app/sequence/step") so that the receiver can drop duplicates after a
 * POST whose answer was lost.
 *
 * Compiled out, both functions are empty inlines: call sites need no #ifdef.
 */
#ifndef OUTPOST_REPORT_H
#define OUTPOST_REPORT_H

#include <stdint.h>

#include "config.h"
#include "features.h"

struct store;
struct upstream;

#ifdef CONFIG_REPORTS

/*
 * Queue the report of (app, sequence) entering state (enum store_state),
 * with msg (may be NULL) as its message: device id and labels, app,
 * sequence, version, state, error (the release's last error once it
 * failed), time and agent version. Nothing when cfg has no reports.url.
 * 0 (also when that key was queued already), or the store's error, logged.
 */
int report_queue(struct store *st, const struct config *cfg, const char *app,
		 int64_t sequence, int state, const char *msg);

/*
 * Queue a report of a condition of app that holds updates back while its
 * current release runs on ("frozen", "root-expired"), as the state of the
 * app's newest stored release (sequence 0 when none): keyed by (app, that
 * sequence, condition), so it is sent once per release it holds back.
 * 0 or the store's error, logged.
 */
int report_queue_condition(struct store *st, const struct config *cfg, const char *app,
			   const char *condition, const char *msg);
/*
 * POST the queued reports of st, oldest first, to cfg's reports.url over up: a 2xx
 * answer removes one; a network error or an error status stops the flush
 * and backs off (exponentially, bounded by the poll interval bounds); a
 * report the server refuses outright (4xx other than 408 and 429) is
 * dropped with a warning, as retrying cannot help. Unless force, nothing
 * is sent before the backoff has passed. The schedule is s, the caller's
 * (zeroed at first, kept between flushes): it is what counts, mirrored
 * in the store. Returns the number sent, or E_NETWORK / E_HTTP when the
 * server did not take them, E_STORE when the outbox or the schedule could
 * not be written (an ack that keeps failing, a full disk): every error
 * backs off (logged).
 */
struct schedule_state;
int report_flush(struct upstream *up, struct store *st, const struct config *cfg,
		 struct schedule_state *s, int force);

#else

static inline int report_queue(struct store *st, const struct config *cfg,
			       const char *app, int64_t sequence, int state,
			       const char *msg)
{
	(void)st, (void)cfg, (void)app, (void)sequence, (void)state, (void)msg;
	return 0;
}

static inline int report_queue_condition(struct store *st, const struct config *cfg,
					 const char *app, const char *condition,
					 const char *msg)
{
	(void)st, (void)cfg, (void)app, (void)condition, (void)msg;
	return 0;
}
struct schedule_state;
static inline int report_flush(struct upstream *up, struct store *st,
			       const struct config *cfg, struct schedule_state *s,
			       int force)
{
	(void)up, (void)st, (void)cfg, (void)s, (void)force;
	return 0;
}

#endif
#endif
