/*
 * apply — putting one release's objects into the cluster and judging them:
 * the order (waves), server-side apply of each wave in parallel, the
 * inventory labels, prune, and the health wait with one deadline.
 *
 * Order. Every object gets a wave: the annotation outpost.dev/wave (an
 * integer from -100 to 100) when present, else its kind's class —
 *   0 CustomResourceDefinition, Namespace
 *   1 cluster-wide classes, RBAC, policies (StorageClass, PriorityClass,
 *     IngressClass, RuntimeClass, ClusterRole(Binding), Role(Binding),
 *     NetworkPolicy, ResourceQuota, LimitRange, PodSecurityPolicy)
 *   2 config: ConfigMap, Secret, ServiceAccount, PersistentVolume(Claim)
 *   3 Service, Endpoints, EndpointSlice
 *   4 workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Job,
 *     CronJob, HelmChart (k3s), HorizontalPodAutoscaler, PodDisruptionBudget
 *   5 everything else (Ingress, custom resources, ...)
 * Waves run in ascending order; the objects of one wave are applied in
 * parallel. After a wave with CRDs, the engine waits until they are
 * Established and refreshes discovery, so custom resources of the same
 * release resolve in later waves. Prune runs in the reverse order.
 *
 * Waiting. An answer that says "not yet" is retried (about once a second)
 * until the set's deadline: a namespace being terminated (403
 * NamespaceTerminating), a kind the server does not serve yet (a 404 that
 * is not a Status, as right after its CRD), a 409 that is not a field
 * manager conflict. A field that cannot change (422 "field is immutable":
 * a Job's template, a Deployment's selector, ...) makes the object be
 * deleted, waited for until it is gone, and applied again when it is
 * annotated outpost.dev/recreate: "true" — the default for Jobs, which are
 * mostly migrations run again — and is a refusal naming the annotation
 * otherwise. Every other refusal (422, 403, 400, the 500 of a patch that
 * cannot be typed) fails the release with the server's words.
 *
 * Inventory. Every object applied carries the labels outpost.dev/app and
 * outpost.dev/sequence, so orphans can be found from the cluster alone. An
 * object annotated outpost.dev/prune: disabled is never deleted.
 *
 * Ownership. Before the first wave, every object is read from the cluster:
 * one that carries another app's outpost.dev/app label is never taken (a
 * conflict naming both apps), and one that exists without that label was
 * not made by outpost and is taken only when the bundle annotates it
 * outpost.dev/adopt: "true". The annotation outpost.dev/origin says which
 * ("created": this app made it; "adopted"; a bundle may not set it), and
 * prune deletes only what this app created. Any refusal here comes before
 * anything is applied.
 */
#ifndef OUTPOST_APPLY_H
#define OUTPOST_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "health.h"
#include "kube.h"

#define LABEL_APP "outpost.dev/app"
#define LABEL_SEQUENCE "outpost.dev/sequence"
#define ANNOTATION_WAVE "outpost.dev/wave"
#define ANNOTATION_PRUNE "outpost.dev/prune"
#define ANNOTATION_RECREATE "outpost.dev/recreate"
#define ANNOTATION_ADOPT "outpost.dev/adopt"
#define ANNOTATION_ORIGIN "outpost.dev/origin"
#define ORIGIN_CREATED "created"
#define ORIGIN_ADOPTED "adopted"
#define APPLY_WAIT_SECONDS 300

/* One object of a release, as applied and as recorded in the inventory. */
struct release_obj {
	char *api_version, *kind, *ns, *name;   /* ns "" for cluster-scoped */
	int wave;
	char *json;                             /* the body to apply */
	size_t json_len;
	char rv[64], uid[64];                   /* after apply */
	int changed;                            /* apply changed it (drift, create) */
	int applied, created;                   /* the API took it; it was new */
	int recreated;                          /* deleted and applied again */
	int err;                                /* the API's refusal, or E_UNAVAILABLE */
	char *message;                          /* why err: "file:line: the API's words" */
	char *where;                            /* "file:line" it came from, or "" */
	int no_prune;
	int recreate;                           /* may be deleted and re-created when
						 * a field it changes is immutable */
	int adopt;                              /* the bundle lets it be adopted */
	const char *const *headers;             /* its set's, for every request */
	enum health health;
	int current;                            /* judged Current: not polled again */
	int seen;                               /* a health poll found it */
	char dep_uid[64];                       /* HelmChart: its Job's uid before the apply */
	int64_t dep_gen;                        /* ... and the chart's generation then (0: none) */
};

struct release_set {
	char app[64];
	int64_t sequence;
	int64_t deadline;                       /* when waits in apply and prune give
						 * up (unix s); 0: APPLY_WAIT_SECONDS
						 * from the start of each call */
	size_t n;
	struct release_obj *objs;               /* sorted by wave */
	char *as_user;                          /* "Impersonate-User: ..." or NULL */
	const char *headers[2];                 /* { as_user, NULL } */
};

/* A manifest file of a release: name and bytes. */
struct release_file {
	const char *name;
	const char *data;
	size_t len;
};

/*
 * Build the objects of a release from its manifest files: parse, stamp the
 * inventory labels, give namespaced objects without a namespace
 * default_ns (k resolves which kinds are namespaced; a kind it cannot
 * resolve yet — a custom resource whose CRD comes in this release — keeps
 * its namespace or gets default_ns), compute waves and sort. Errors name
 * the file and object. *out is the caller's (release_set_free()).
 * app NULL: objects as written, without inventory labels (`outpost kube
 * apply`, which shows what the engine sends).
 */
int release_set_build(struct kube *k, const char *app, int64_t sequence,
		      const char *default_ns, const struct release_file *files,
		      size_t nfiles, struct release_set **out);
void release_set_free(struct release_set *s);

/*
 * Make every request for s's objects as the ServiceAccount name of
 * namespace ns (Impersonate-User: system:serviceaccount:NS:NAME; both
 * DNS labels), so that the API server's RBAC decides what the app may
 * touch. 0 or E_NOMEM.
 */
int release_set_impersonate(struct release_set *s, const char *ns, const char *name);

/*
 * Where an app's objects may go: namespaces[0..nns) and cluster-scoped
 * kinds[0..nkinds), each "*" for any. A Namespace object is allowed when
 * its name is one of namespaces.
 */
struct apply_scope {
	const char *const *namespaces;
	size_t nns;
	const char *const *kinds;
	size_t nkinds;
	const char *source;                     /* who set it, for messages */
};

/*
 * 0 when every object of s is inside scope, else E_DENIED, each object
 * outside logged ("file:line: app web may not apply Secret kube-system/x:
 * ...") and the first one's words in why (why may be NULL).
 */
int release_set_confine(const struct release_set *s, const struct apply_scope *scope,
			struct buf *why);

/* The wave of a kind without an annotation (the table above). */
int apply_kind_wave(const char *kind);

/*
 * Apply every object, wave by wave, each wave in parallel. Returns 0;
 * E_UNAVAILABLE when the API could not be reached (nothing is judged: try
 * again later); E_API when the API refused an object (the release is
 * bad), with the reason logged. *changed counts objects the apply created
 * or changed (for drift, a changed resourceVersion means drift corrected).
 * Each object says what became of it (applied, created, err); a wave after
 * one with an error is not attempted (applied 0, err 0), and when the API
 * could not be reached neither are the objects of that wave it did not
 * answer for (err E_UNAVAILABLE).
 */
int apply_release(struct kube *k, struct release_set *s, size_t *changed);

/* The first refusal of the last apply_release(s) ("file:line: apply ...:
 * the API's words"), or NULL. Valid while s is. */
const char *apply_refusal(const struct release_set *s);

/*
 * Read the resourceVersion each object has in the cluster now (empty when
 * it is missing), so that apply_release() can tell what it changed: an
 * apply that changes nothing keeps the resourceVersion; and, for a set of
 * an app, its owner (see Ownership above): an object this app adopted is
 * applied with outpost.dev/origin: adopted. 0, E_UNAVAILABLE, E_NOMEM, or
 * E_DENIED (each refusal in its object's message and logged).
 */
int apply_observe(struct kube *k, struct release_set *s);

/*
 * Take out of s the Jobs with spec.ttlSecondsAfterFinished that are gone
 * from the cluster (404): the TTL controller removed them once they
 * finished, and applying them again would run them again (drift
 * correction must not). *dropped counts them. 0, or the API's error (an
 * error is never read as "gone": nothing is dropped for it).
 */
int apply_drop_finished(struct kube *k, struct release_set *s, size_t *dropped);

/*
 * Delete the objects of old that are not in keep (keep may be NULL:
 * delete all of old), and only those that still carry LABEL_APP = app in
 * the cluster and are not annotated prune: disabled; never the namespaces
 * default, kube-system, kube-public and kube-node-lease. Wave by wave, the
 * last first: each wave's deletions are waited for until they are gone
 * (finalizers run, a namespace is emptied) or old's deadline passes, so
 * that custom resources go while their operator still runs. A delete the
 * API refuses is logged and the rest go on. 0 (refusals and what is still
 * terminating were logged), E_UNAVAILABLE or E_NOMEM. *deleted counts
 * deletions.
 */
int apply_prune(struct kube *k, const char *app, const struct release_set *old,
		const struct release_set *keep, size_t *deleted);

/*
 * Judge the release once: fetch every object not yet found Current by an
 * earlier call on s and combine the verdicts (a HelmChart is judged by the
 * install Job made for its current generation, a Pending PVC with its
 * StorageClass). A Job with spec.ttlSecondsAfterFinished that is gone
 * (404) after this release applied it or a poll saw it was removed by the
 * TTL controller: Current. Returns the verdict; an unreachable API gives
 * HEALTH_UNKNOWN. msg gets the first object that is not Current, with its
 * reason.
 */
enum health apply_health(struct kube *k, struct release_set *s, struct buf *msg);

#endif
