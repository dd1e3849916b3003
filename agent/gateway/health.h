/*
 * health — the verdict on one Kubernetes object from its JSON as the API
 * returns it (metadata, spec and status), by the kstatus rules
 * (sigs.k8s.io/cli-utils pkg/kstatus/status: generic.go, core.go), with
 * the deviations noted in health.c. A pure function of the object: no I/O,
 * no clock, no allocation but the message. The apply engine fetches the
 * objects (platform/kube.h), loads each reply with doc_load() and asks here.
 *
 * Verdicts:
 *   Current      the object is what its spec asks for
 *   InProgress   not yet; only the release deadline turns it into a failure
 *   Failed       it will not get there by itself (deadline exceeded, Job
 *                failed, crash loop, Stalled=True, ...)
 *   Terminating  metadata.deletionTimestamp is set
 *   Unknown      we could not tell (not an object; or, from the caller,
 *                the API was not reachable): never a failure
 */
#ifndef OUTPOST_HEALTH_H
#define OUTPOST_HEALTH_H

#include <stddef.h>

#include "buf.h"
#include "doc.h"

enum health {
	HEALTH_CURRENT,
	HEALTH_IN_PROGRESS,
	HEALTH_FAILED,
	HEALTH_TERMINATING,
	HEALTH_UNKNOWN
};

/* "Current", "InProgress", "Failed", "Terminating", "Unknown" (kstatus' words). */
const char *health_name(enum health h);

/*
 * The verdict on obj, the root of one API reply loaded with doc_load().
 * msg (may be NULL) is reset and gets one line naming the object and the
 * reason: "Deployment default/web: 2 of 3 replicas available",
 * "Job default/migrate: Failed: BackoffLimitExceeded: Job has reached the
 * specified backoff limit". Texts from the object are cut at 300 bytes and
 * their control characters become spaces; a message that does not fit msg
 * is left out (the verdict never depends on msg). Not a map, or no kind:
 * HEALTH_UNKNOWN.
 */
enum health health_of(const struct node *obj, struct buf *msg);

/*
 * Another object whose verdict decides obj's, when obj's own is
 * InProgress. A k3s HelmChart (helm.cattle.io): helm-controller installs
 * the chart with a Job named in status.jobName, in the chart's namespace.
 * A PersistentVolumeClaim not yet Bound, of a named class: its
 * StorageClass (cluster-scoped), whose volumeBindingMode says whether
 * Pending is the expected state. The fields fit a struct kube_object; they
 * point into obj's doc and static strings (valid until doc_free()).
 */
struct health_ref {
	const char *api_version;    /* "batch/v1", "storage.k8s.io/v1" */
	const char *kind;           /* "Job", "StorageClass" */
	const char *namespace;      /* NULL for a cluster-scoped ref */
	const char *name;
};

/*
 * 1 and *ref when obj's verdict may depend on another object, 0 otherwise.
 * The caller fetches ref and asks health_with().
 */
int health_dependency(const struct node *obj, struct health_ref *ref);

/*
 * The verdict on obj with the object its verdict depends on: dep is the
 * root of ref's reply, or NULL when the API answered 404 (the caller must
 * not pass NULL for any other error: it keeps health_of()'s InProgress
 * instead). stale_uid (may be NULL) is, for a HelmChart whose spec changed
 * in this release, the uid its install Job had before the apply: a Job with
 * that uid is the previous generation's and decides nothing. Without a
 * dependency, the same as health_of(). msg as in health_of().
 *   HelmChart: Current only when its install Job is Complete; Failed when
 *   the Job failed; InProgress while it is missing, stale, suspended or
 *   running. With stale_uid, the chart's own Failed=True is not final
 *   either (it may be about the previous generation): the Job decides.
 *   PVC: Pending in a WaitForFirstConsumer class without a selected node
 *   is Current; a missing class keeps it InProgress.
 */
enum health health_with(const struct node *obj, const struct node *dep,
			const char *stale_uid, struct buf *msg);

/*
 * The verdict on a whole release from the verdicts v[0..n): the worst one,
 * in this order: Failed, InProgress, Terminating, Unknown, Current. So
 * Current means all are Current (or n is 0), and Unknown means the others
 * are Current and only the unknown ones stand in the way (the caller must
 * not fail a release for that). *which (may be NULL) gets the index of the
 * first verdict equal to the result (n when n is 0), to name it.
 */
enum health health_combine(const enum health *v, size_t n, size_t *which);

#endif
