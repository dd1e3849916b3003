/*
 * agent — the release state machine of every app on this gateway, on top
 * of the state store: verified bundles in, a cluster on a known release
 * out, through crashes, outages and bad releases.
 *
 *   verified -> applying -> applied -> healthy (the last-known-good)
 *   applying|applied -> failed -> rolling-back -> rolled-back
 *
 * Each transition is one transaction in the store, so a crash anywhere
 * resumes from the stored state: agent_step() looks at an app's newest
 * release and carries it on. An unreachable Kubernetes API is never a
 * failure: the step returns E_UNAVAILABLE and the state stays where it was.
 * A release that failed its health check (or its deadline) is rolled back
 * to the last-known-good release, re-applied from the store alone (no
 * network), and its sequence stays quarantined until a newer one arrives.
 */
#ifndef OUTPOST_AGENT_H
#define OUTPOST_AGENT_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "tar.h"

struct agent;

/*
 * Open the state store in cfg->state_dir (created 0700; refused, E_CONFIG,
 * when it or its files are not this user's or root's, or group/other
 * writable), take the floors file's floors where they are higher, load the
 * trust root (the configured one, then each stored root above it, each a
 * verified rotation of the one before, else E_UNTRUSTED; a newer root.yaml
 * on disk is accepted only as a valid rotation), and connect lazily to the
 * Kubernetes API. *out is the caller's (agent_close()).
 */
int agent_open(struct agent **out, const struct config *cfg);

/*
 * The check agent_open() makes of a state directory that exists: it and
 * its database and floors files (those that exist) are owned by this user
 * or root and not writable by group or others, symlinks followed. 0, or
 * E_CONFIG / E_IO, logged naming the path and why.
 */
int agent_state_dir_check(const char *dir);
void agent_close(struct agent *a);

/*
 * Side-load a bundle (a USB stick): verify it fully against the trust root
 * and the anti-rollback floor, store it, and make it the app's newest
 * release. The bundle's app must be a configured app's channel. A
 * sequence that failed before is refused unless force. Nothing is stored when anything is wrong. app gets
 * the bundle's app name.
 */
int agent_import(struct agent *a, const char *path, int force, char app[64]);

/*
 * Read a bundle from read(ctx, ...), verify it in full (signature, expiry,
 * every file's digest, anti-rollback) and store it as the app's newest
 * release, in state verified: the one path shared by import and the
 * server (fetch, with p the verified pointer it must match: app, sequence,
 * size and sha256). It is stored as it is read, inside one transaction
 * committed only when all of it was verified: memory holds one manifest
 * at a time, not the bundle. b's app must be the channel of a configured
 * app (E_CONFIG otherwise, also for the name of an app that follows
 * another channel: one identity, docs/formats.md); a sequence below the
 * anti-rollback floor is refused, and so is a quarantined one unless
 * force; a sequence already stored with the same content is a no-op (0).
 * Raises the floors. name is for messages; app gets the bundle's app.
 */
struct pointer;
int agent_store_stream(struct agent *a, read_fn read, void *ctx, const char *name,
		       int force, const struct pointer *p, char app[64]);

/*
 * The health deadline the release pointer of (app, sequence) set: it
 * overrides the bundle's own. 0 or E_STORE.
 */
int agent_set_health_timeout(struct agent *a, const char *app, int64_t sequence,
			      int64_t seconds);

/*
 * Carry the app's newest release on through the state machine until it is
 * healthy or rolled back. 0 when the app ends healthy or has nothing to
 * do; E_UNAVAILABLE when the API could not be reached (try again later);
 * E_STATE when the release failed and was rolled back (the rollback
 * itself succeeded or was recorded).
 */
int agent_step(struct agent *a, const char *app);

/*
 * The same, without ever blocking on a wait: one look at a release's
 * health (or at its last-known-good's during a rollback) and back. 0 with
 * *wake 0 when the app is done or has nothing to do; 0 with *wake a unix
 * time when it waits (for health, for a dependency on its way): step it
 * again then. The store's state is where the release is, so the next step
 * (or the next start) carries it on from there. Errors as agent_step().
 *
 * A new release (verified, nothing applied) is held back, not failed,
 * while the app is paused (pause.h) or an app it depends on
 * (apps[].depends_on) is not healthy on its newest release. A release
 * already being applied goes on, rollback included, paused or not.
 */
int agent_advance(struct agent *a, const char *app, int64_t *wake);

/* 1 when app is paused now (pause.h), 0 when not, or the store's error. */
int agent_paused(struct agent *a, const char *app);

/*
 * Append what app is doing now and what it waits for, for `outpost
 * status` ("waiting: dependency 'db' not healthy: ...", "applying sequence
 * 7: waiting for health, 41 s of 300", "paused until ... by \"...\"");
 * nothing when it waits for nothing. 0 or the store's error.
 */
int agent_describe(struct agent *a, const char *app, struct buf *out);

/*
 * Drift: re-apply the app's last-known-good release; *corrected counts
 * objects that had changed or were missing. E_UNAVAILABLE as above.
 */
int agent_drift(struct agent *a, const char *app, size_t *corrected);

/*
 * Roll the app back by hand to a stored release (sequence 0: the release
 * before the current one that was healthy). The release becomes current
 * again; the one it replaces is not quarantined.
 */
int agent_rollback(struct agent *a, const char *app, int64_t sequence);

/*
 * For the agent's own modules (fetch, report): the state store and trust
 * root the agent holds (valid until agent_close()), and "now" for expiry
 * checks (the clock, never earlier than the newest signed time accepted).
 */
struct store;
struct trust;
struct store *agent_store(struct agent *a);
/* The gateway's own age recipient ("age1..."), "" without CONFIG_SECRETS. */
const char *agent_recipient(struct agent *a);

const struct trust *agent_trust(struct agent *a);
int64_t agent_clock(struct agent *a);
/*
 * Say loudly that channel takes no update while its current release runs
 * on: its server's pointer expired (frozen), or the trust root did
 * (root_expired). Logged at error level, a report queued, a Warning Event
 * (ChannelFrozen / TrustRootExpired) posted; all best effort. The caller
 * says it once per occurrence.
 */
void agent_alarm(struct agent *a, const char *channel, int root_expired, const char *msg);
/* The max_created of a verify_ctx now (trust_created_limit()). */
int64_t agent_created_limit(struct agent *a);

/*
 * The floors kept outside the database (state_dir/floors, fsync'd): the
 * highest root version, the clock floor and each app's sequence floor, so
 * that a database lost or replaced does not forget them.
 */
#define AGENT_FLOORS_FILE "floors"
#define AGENT_FLOORS_MAX (256 * 1024)

/* Raise the clock floor to t (a verified update's time), in both places. */
int agent_clock_floor_raise(struct agent *a, int64_t t);

/*
 * Accept root (root.yaml bytes, with sig) as the successor of the agent's
 * root (trust_rotate(), its expiry not checked: a gateway that was offline
 * walks through links that expired since, and the root it ends on is
 * checked before every update) and make it current; a root that replaces
 * the release keys resets the floors resting on them. The trust_rotate()
 * and store errors; nothing changes on error.
 */
int agent_root_rotate(struct agent *a, const char *name, const struct buf *root,
		      const struct buf *sig);

/*
 * E_ROLLBACK (logged, naming what) when the agent's root is older than a
 * root version this gateway accepted before (the floors file outlives a
 * lost database): no update is taken until the root is brought forward.
 */
int agent_root_floor_check(struct agent *a, const char *what);

#endif
