/*
 * events — Kubernetes Events for what happens to a release (applied and
 * healthy, failed, rolled back), so that `kubectl get events` and
 * `kubectl describe` show outpost's verdicts beside the cluster's own.
 *
 * Each is a core/v1 Event created with POST in the legacy form every API
 * server accepts (no eventTime; see shared notes, Events): a generated name
 * "outpost-xxxxx", metadata.namespace equal to involvedObject.namespace,
 * type Normal or Warning, reason ReleaseApplied / ReleaseFailed /
 * RolledBack, or ChannelFrozen / TrustRootExpired (no release of its own:
 * set NULL, on the app's namespace), a message of at most EVENT_MESSAGE_MAX bytes (cut at a UTF-8
 * character boundary), source.component and reportingComponent "outpost",
 * reportingInstance the device id, firstTimestamp = lastTimestamp and
 * count 1.
 *
 * The involved object is the release's most significant object: its first
 * Deployment, else its first namespaced object; a release with neither is
 * represented by its namespace (Namespace `ns`, in `ns`).
 *
 * Events are best effort: a post that fails is logged as a warning and
 * changes nothing else; the release's outcome never depends on it.
 */
#ifndef OUTPOST_EVENTS_H
#define OUTPOST_EVENTS_H

#include <stdint.h>

#include "apply.h"
#include "buf.h"
#include "kube.h"

#define EVENT_MESSAGE_MAX 1024

enum event_reason {
	EVENT_APPLIED,          /* Normal  ReleaseApplied */
	EVENT_FAILED,           /* Warning ReleaseFailed */
	EVENT_ROLLED_BACK,      /* Warning RolledBack */
	EVENT_FROZEN,           /* Warning ChannelFrozen: the pointer expired */
	EVENT_ROOT_EXPIRED,     /* Warning TrustRootExpired */
};

struct event {
	enum event_reason reason;
	const struct release_set *set;  /* the release's objects, or NULL */
	const char *ns;         /* the app's namespace, for a set without one */
	const char *instance;   /* reportingInstance: the device id */
	const char *message;    /* cut to EVENT_MESSAGE_MAX bytes */
	int64_t time;           /* unix seconds */
};

/*
 * The object an event about set is attached to: the first Deployment,
 * else the first namespaced object, else NULL. Points into set.
 */
const struct release_obj *event_subject(const struct release_set *set);

/* Append the Event as JSON to out. 0, E_LIMIT or E_NOMEM (out unchanged). */
int event_json(const struct event *e, struct buf *out);

/*
 * Create the Event in the cluster. 0, or the error, logged as a warning:
 * callers need not look at it.
 */
int event_post(struct kube *k, const struct event *e);

#endif
