/*
 * health — kstatus rules over a loaded API reply.
 *
 * Sources, cited per rule below:
 *   [ks-generic]  sigs.k8s.io/cli-utils pkg/kstatus/status/generic.go
 *   [ks-core]     sigs.k8s.io/cli-utils pkg/kstatus/status/core.go
 *   [ks-status]   sigs.k8s.io/cli-utils pkg/kstatus/status/status.go (Compute)
 *   [kubectl]     kubectl polymorphichelpers/rollout_status.go
 *   [k8s-types]   k8s.io/api core, apps, batch, apiextensions types.go
 *   [helm-ctl]    k3s-io/helm-controller pkg/apis/helm.cattle.io/v1/types.go,
 *                 pkg/controllers/chart/chart.go (install Job naming, replace)
 *
 * Order (as kstatus Compute): the generic rules first, for every kind
 * (deletion, generation, Reconciling/Stalled); then the kind's own rule
 * when the table has one; else a Ready condition if the object has one;
 * else Current (an object without status has nothing to wait for:
 * ConfigMap, Secret, ServiceAccount, RBAC, ...).
 *
 * Where we differ from kstatus, on purpose (each is marked "Differs"):
 *   - a Ready condition on a kind without rules is read (kstatus ignores it
 *     and says Current): custom resources that only report Ready are
 *     waited for; Ready=False stays InProgress, it is usually transient;
 *   - a running Job is InProgress (kstatus: Current once started), as
 *     Flux's own Job reader does: a release waits for its migrations;
 *   - a Pod in phase Failed is Failed (kstatus: Current); image pull and
 *     config errors are named in the message;
 *   - workloads need status.observedGeneration (kstatus: DaemonSet only);
 *   - Deployment: ReplicaFailure=True is reported; with spec.replicas 0
 *     the conditions are not required;
 *   - StatefulSet without a partition also needs currentReplicas and
 *     currentRevision to catch up (kstatus skips both whenever
 *     rollingUpdate.partition is set, and the API sets it to 0 by default);
 *   - DaemonSet with updateStrategy OnDelete is not waited for to update
 *     its pods (nobody deletes them), like StatefulSet OnDelete in kstatus;
 *   - Job FailureTarget=True (failure decided, pods being stopped) is Failed;
 *   - HelmChart (k3s) has a rule: its install Job decides, and only the
 *     Job made for the chart's current generation (health_with());
 *   - a PVC Pending in a WaitForFirstConsumer class is Current (kstatus:
 *     InProgress until Bound), see pvc_with_class().
 * What we relied on from [ks-core] (read at cli-utils master, 2026): the
 * per-kind table, which phases and conditions are terminal, that a Job is
 * Current when suspended only if spec.suspend and Suspended=True agree
 * (jobConditions), and that a PVC is InProgress until Bound
 * (pvcConditions, which we refine); the code is ours.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "health.h"

/* Longest text taken from the object into a message (a condition message). */
#define TEXT_MAX 300

struct ctx {
	const struct node *obj;
	const char *kind;
	char text[512];         /* the reason, without the object's name */
	char why[TEXT_MAX + 80];/* a condition's "Reason: message" */
};

/* --- reading the object ------------------------------------------------------ */

static const char *str_at(const struct node *n, const char *path)
{
	return node_str(node_path(n, path));
}

/* A string field or "" (for messages and comparisons). */
static const char *text_at(const struct node *n, const char *path)
{
	const char *s = str_at(n, path);

	return s ? s : "";
}

static int eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* 1 and *out when path holds an integer, else 0. */
static int int_at(const struct node *n, const char *path, int64_t *out)
{
	return node_int64(node_path(n, path), INT64_MIN, INT64_MAX, out) == 0;
}

static int64_t int_or(const struct node *n, const char *path, int64_t dflt)
{
	int64_t v;

	return int_at(n, path, &v) ? v : dflt;
}

/* The status.conditions[] entry of this type, or NULL. */
static const struct node *cond_find(const struct node *obj, const char *type)
{
	const struct node *list = node_path(obj, "status.conditions");

	if (!list || list->type != NODE_SEQ)
		return NULL;
	for (size_t i = 0; i < list->len; i++)
		if (eq(str_at(list->items[i], "type"), type))
			return list->items[i];
	return NULL;
}

/* "True", "False", "Unknown" of a condition, or NULL (absent). */
static const char *cond_status(const struct node *obj, const char *type)
{
	const struct node *c = cond_find(obj, type);

	return c ? str_at(c, "status") : NULL;
}

static int cond_true(const struct node *obj, const char *type)
{
	return eq(cond_status(obj, type), "True");
}

/* "Reason: message", "Reason" or "message" (NULL counts as ""), for messages. */
static const char *why_of(struct ctx *c, const char *reason, const char *message)
{
	reason = reason ? reason : "";
	message = message ? message : "";
	snprintf(c->why, sizeof(c->why), "%.60s%s%.*s", reason,
		 *reason && *message ? ": " : "", TEXT_MAX, message);
	return c->why;
}

static const char *cond_why(struct ctx *c, const struct node *cond)
{
	return why_of(c, str_at(cond, "reason"), str_at(cond, "message"));
}

/* --- verdicts and messages ------------------------------------------------- */

static enum health say(struct ctx *c, enum health h, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum health say(struct ctx *c, enum health h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	return h;
}

/*
 * Messages end up in log lines and in JSON reports: control characters
 * become spaces, and a sequence cut by a length limit (or otherwise not
 * UTF-8) becomes '?', so the report encoder never refuses them.
 */
static void text_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t left = strlen(s);

	while (*p) {
		size_t n = doc_utf8_len(p, left);

		if (!n) {
			*p++ = '?';
			left--;
			continue;
		}
		left -= n;
		if (n == 1 && (*p < 0x20 || *p == 0x7f))
			*p = ' ';
		p += n;
	}
}

/* --- generic rules --------------------------------------------------------- */

/*
 * 1 when the generic rules decide (*h set), 0 to go on with the kind's rule.
 * [ks-generic] checkGenericProperties, checkGeneration.
 */
static int judge_generic(struct ctx *c, enum health *h)
{
	const struct node *o = c->obj, *list;
	const char *deleted = str_at(o, "metadata.deletionTimestamp");
	int64_t gen, seen;

	/* Scheduled for deletion: whatever its status says, it is going away. */
	if (deleted && *deleted) {
		*h = say(c, HEALTH_TERMINATING, "being deleted (since %.40s)", deleted);
		return 1;
	}
	/*
	 * The controller has not seen the latest spec: its status describes
	 * an older one. Only when both are present (kstatus is lenient here;
	 * the workload rules below require observedGeneration).
	 */
	if (int_at(o, "metadata.generation", &gen) &&
	    int_at(o, "status.observedGeneration", &seen) && gen != seen) {
		*h = say(c, HEALTH_IN_PROGRESS, "generation %lld not yet observed (observed %lld)",
			 (long long)gen, (long long)seen);
		return 1;
	}
	/*
	 * The kstatus conventions for any controller: Reconciling=True is
	 * work under way, Stalled=True is stuck for good. The first of the
	 * two in the list wins, as in kstatus.
	 */
	list = node_path(o, "status.conditions");
	if (list && list->type == NODE_SEQ) {
		for (size_t i = 0; i < list->len; i++) {
			const struct node *cond = list->items[i];
			const char *type = str_at(cond, "type");

			if (!eq(str_at(cond, "status"), "True"))
				continue;
			if (eq(type, "Reconciling")) {
				*h = say(c, HEALTH_IN_PROGRESS, "Reconciling: %s", cond_why(c, cond));
				return 1;
			}
			if (eq(type, "Stalled")) {
				*h = say(c, HEALTH_FAILED, "Stalled: %s", cond_why(c, cond));
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Kinds without a rule of their own. Differs: kstatus says Current here;
 * we also read a Ready condition, the common convention of custom
 * resources (Flux, cert-manager, ...). Ready=False is InProgress, not
 * Failed: it is usually transient, and the release deadline decides.
 */
static enum health judge_default(struct ctx *c)
{
	const struct node *ready = cond_find(c->obj, "Ready");
	const char *st;

	if (!ready)
		return say(c, HEALTH_CURRENT, "no status to wait for");
	st = str_at(ready, "status");
	if (eq(st, "True"))
		return say(c, HEALTH_CURRENT, "Ready");
	return say(c, HEALTH_IN_PROGRESS, "Ready=%.20s: %s", st ? st : "(none)",
		   cond_why(c, ready));
}

/* [ks-core] alwaysReady: ConfigMap, Secret, CronJob. */
static enum health judge_always(struct ctx *c)
{
	return say(c, HEALTH_CURRENT, "nothing to wait for");
}

/*
 * Workloads: the controller must have reported on the current spec. The
 * generic rule caught observed != generation; here the status must exist
 * at all (a Deployment just created has none yet). [kubectl]: "generation
 * <= observedGeneration"; [ks-core] checkGenerationSet (DaemonSet).
 * Differs: kstatus requires it of DaemonSets only.
 */
static int observed(struct ctx *c, enum health *h)
{
	int64_t seen;

	if (int_at(c->obj, "status.observedGeneration", &seen) &&
	    seen >= int_or(c->obj, "metadata.generation", 0))
		return 1;
	*h = say(c, HEALTH_IN_PROGRESS, "not yet observed by its controller");
	return 0;
}

/* --- apps ---------------------------------------------------------------- */

/*
 * Deployment. [ks-core] deploymentConditions, [kubectl] DeploymentStatusViewer,
 * condition reasons from k8s deployment controller (progress.go).
 */
static enum health judge_deployment(struct ctx *c)
{
	const struct node *o = c->obj, *cond;
	int64_t want = int_or(o, "spec.replicas", 1);
	int64_t have = int_or(o, "status.replicas", 0);
	int64_t updated = int_or(o, "status.updatedReplicas", 0);
	int64_t ready = int_or(o, "status.readyReplicas", 0);
	int64_t avail = int_or(o, "status.availableReplicas", 0);
	enum health h;

	if (!observed(c, &h))
		return h;
	/* The only way a Deployment fails by itself: its progressDeadlineSeconds. */
	cond = cond_find(o, "Progressing");
	if (cond && eq(str_at(cond, "reason"), "ProgressDeadlineExceeded"))
		return say(c, HEALTH_FAILED, "%s", cond_why(c, cond));
	/*
	 * Pods cannot be created (quota, admission): kstatus reads this for
	 * ReplicaSets as InProgress. It may clear (quota freed): not Failed,
	 * but the reason is what the operator needs to see.
	 */
	cond = cond_find(o, "ReplicaFailure");
	if (cond && eq(str_at(cond, "status"), "True"))
		return say(c, HEALTH_IN_PROGRESS, "ReplicaFailure: %s", cond_why(c, cond));
	/* Replica counts, in kstatus' order. */
	if (have < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas created",
			   (long long)have, (long long)want);
	if (updated < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas updated",
			   (long long)updated, (long long)want);
	/* Old (or surplus) pods not yet gone; [kubectl] replicas > updatedReplicas. */
	if (have > want)
		return say(c, HEALTH_IN_PROGRESS, "%lld old replicas pending termination",
			   (long long)(have - want));
	if (avail < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas available",
			   (long long)avail, (long long)want);
	if (ready < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas ready",
			   (long long)ready, (long long)want);
	/* Scaled to zero: nothing to become available (differs: kstatus leaves this case open). */
	if (want == 0)
		return say(c, HEALTH_CURRENT, "scaled to 0 replicas");
	/*
	 * The controller's own word. Progressing is absent only without a
	 * progressDeadlineSeconds; when present, the rollout is done once its
	 * reason is NewReplicaSetAvailable.
	 */
	cond = cond_find(o, "Progressing");
	if (cond && !(eq(str_at(cond, "status"), "True") &&
		      eq(str_at(cond, "reason"), "NewReplicaSetAvailable")))
		return say(c, HEALTH_IN_PROGRESS, "rollout not complete: Progressing: %s",
			   cond_why(c, cond));
	if (!cond_true(o, "Available"))
		return say(c, HEALTH_IN_PROGRESS, "not Available");
	return say(c, HEALTH_CURRENT, "%lld of %lld replicas available",
		   (long long)avail, (long long)want);
}

/*
 * StatefulSet. [ks-core] stsConditions, [kubectl] StatefulSetStatusViewer.
 * The controller sets no conditions: a StatefulSet never fails by itself
 * (a pod stuck on a volume looks the same as a slow one); only the
 * release deadline fails it.
 */
static enum health judge_statefulset(struct ctx *c)
{
	const struct node *o = c->obj;
	int64_t want = int_or(o, "spec.replicas", 1);
	int64_t have = int_or(o, "status.replicas", 0);
	int64_t ready = int_or(o, "status.readyReplicas", 0);
	int64_t current = int_or(o, "status.currentReplicas", 0);
	int64_t updated = int_or(o, "status.updatedReplicas", 0);
	int64_t part = int_or(o, "spec.updateStrategy.rollingUpdate.partition", 0);
	const char *cur_rev = text_at(o, "status.currentRevision");
	const char *upd_rev = text_at(o, "status.updateRevision");
	enum health h;

	if (!observed(c, &h))
		return h;
	/* Pods are replaced by the user, not the controller: nothing to wait for. */
	if (eq(str_at(o, "spec.updateStrategy.type"), "OnDelete"))
		return say(c, HEALTH_CURRENT, "update strategy OnDelete");
	if (have < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas created",
			   (long long)have, (long long)want);
	if (ready < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas ready",
			   (long long)ready, (long long)want);
	if (have > want)
		return say(c, HEALTH_IN_PROGRESS, "%lld replicas pending termination",
			   (long long)(have - want));
	/*
	 * A partition holds ordinals below it at the old revision on purpose:
	 * only the pods from the partition up must be updated, and the
	 * current revision never catches up.
	 */
	if (part > 0) {
		int64_t need = want > part ? want - part : 0;

		if (updated < need)
			return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas updated (partition %lld)",
				   (long long)updated, (long long)need, (long long)part);
		return say(c, HEALTH_CURRENT, "partitioned rollout complete: %lld updated (partition %lld)",
			   (long long)updated, (long long)part);
	}
	if (updated < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas updated",
			   (long long)updated, (long long)want);
	/* The controller promotes updateRevision to currentRevision when done. */
	if (current < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld replicas at the current revision",
			   (long long)current, (long long)want);
	if (strcmp(cur_rev, upd_rev) != 0)
		return say(c, HEALTH_IN_PROGRESS, "rolling out revision %.80s (current %.80s)",
			   upd_rev, cur_rev);
	return say(c, HEALTH_CURRENT, "%lld of %lld replicas ready",
		   (long long)ready, (long long)want);
}

/*
 * DaemonSet. [ks-core] daemonsetConditions, [kubectl] DaemonSetStatusViewer.
 * Never Failed by itself, like StatefulSet.
 */
static enum health judge_daemonset(struct ctx *c)
{
	const struct node *o = c->obj;
	int64_t want, sched, updated, avail, ready;
	enum health h;

	if (!observed(c, &h))
		return h;
	if (!int_at(o, "status.desiredNumberScheduled", &want))
		return say(c, HEALTH_IN_PROGRESS, "desiredNumberScheduled not reported yet");
	sched = int_or(o, "status.currentNumberScheduled", 0);
	updated = int_or(o, "status.updatedNumberScheduled", 0);
	avail = int_or(o, "status.numberAvailable", 0);
	ready = int_or(o, "status.numberReady", 0);
	if (sched < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld pods scheduled",
			   (long long)sched, (long long)want);
	/* Differs: with OnDelete the old pods stay until someone deletes them. */
	if (updated < want && !eq(str_at(o, "spec.updateStrategy.type"), "OnDelete"))
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld pods updated",
			   (long long)updated, (long long)want);
	if (avail < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld pods available",
			   (long long)avail, (long long)want);
	if (ready < want)
		return say(c, HEALTH_IN_PROGRESS, "%lld of %lld pods ready",
			   (long long)ready, (long long)want);
	return say(c, HEALTH_CURRENT, "%lld of %lld pods ready",
		   (long long)ready, (long long)want);
}

/* --- batch --------------------------------------------------------------- */

/*
 * Job. [ks-core] jobConditions; conditions per [k8s-types] batch:
 * Complete and Failed are terminal, FailureTarget means Failed is decided
 * (the controller is stopping the pods), Suspended.
 */
static enum health judge_job(struct ctx *c)
{
	const struct node *o = c->obj, *cond;
	int suspend = 0;

	cond = cond_find(o, "Failed");
	if (cond && eq(str_at(cond, "status"), "True"))
		return say(c, HEALTH_FAILED, "Failed: %s", cond_why(c, cond));
	cond = cond_find(o, "FailureTarget");
	if (cond && eq(str_at(cond, "status"), "True"))
		return say(c, HEALTH_FAILED, "Failed: %s", cond_why(c, cond));
	if (cond_true(o, "Complete"))
		return say(c, HEALTH_CURRENT, "Complete: %lld succeeded",
			   (long long)int_or(o, "status.succeeded", 0));
	/*
	 * Suspended: waiting for someone to resume it, not for the cluster
	 * (Current, as [ks-core] jobConditions). Only when both agree: spec.suspend asks for it
	 * and the job controller's Suspended=True says it happened. One
	 * without the other is a transition — a Job created suspended and not
	 * yet synced, or one resumed whose condition still says Suspended (k3s
	 * helm-controller creates its install Jobs suspended, then resumes
	 * them) — and is waited for.
	 */
	if (node_bool(node_path(o, "spec.suspend"), &suspend) != 0)
		suspend = 0;
	if (suspend && cond_true(o, "Suspended"))
		return say(c, HEALTH_CURRENT, "suspended");
	if (suspend)
		return say(c, HEALTH_IN_PROGRESS, "suspend requested, not yet Suspended");
	if (cond_true(o, "Suspended"))
		return say(c, HEALTH_IN_PROGRESS, "resumed, still Suspended");
	/* Differs: kstatus says Current once started; a release waits for it. */
	if (!str_at(o, "status.startTime"))
		return say(c, HEALTH_IN_PROGRESS, "not started");
	return say(c, HEALTH_IN_PROGRESS, "running: %lld active, %lld succeeded, %lld failed",
		   (long long)int_or(o, "status.active", 0),
		   (long long)int_or(o, "status.succeeded", 0),
		   (long long)int_or(o, "status.failed", 0));
}

/* --- core ------------------------------------------------------------------ */

/*
 * The first container (init containers first) waiting with a reason in
 * reasons (NULL-terminated), or with any reason when reasons is NULL.
 */
static const struct node *pod_waiting(const struct node *o, const char *const *reasons)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses",
	};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const struct node *seq = node_path(o, lists[l]);

		if (!seq || seq->type != NODE_SEQ)
			continue;
		for (size_t i = 0; i < seq->len; i++) {
			const char *r = str_at(seq->items[i], "state.waiting.reason");

			if (!r)
				continue;
			if (!reasons)
				return seq->items[i];
			for (const char *const *p = reasons; *p; p++)
				if (strcmp(r, *p) == 0)
					return seq->items[i];
		}
	}
	return NULL;
}

/*
 * Pod. [ks-core] podConditions. A container in CrashLoopBackOff (init
 * containers too: the pod never starts) is Failed, as in kstatus (which
 * checks running pods' containers only). Differs: phase Failed is Failed.
 * An image that cannot be pulled may appear later (a registry mirror
 * syncing on an edge site): InProgress, with the reason.
 */
static enum health judge_pod(struct ctx *c)
{
	static const char *const crash[] = { "CrashLoopBackOff", NULL };
	const struct node *o = c->obj, *w, *cond;
	const char *phase = str_at(o, "status.phase");

	if (eq(phase, "Succeeded"))
		return say(c, HEALTH_CURRENT, "Succeeded");
	if (eq(phase, "Failed"))
		return say(c, HEALTH_FAILED, "Failed: %s",
			   why_of(c, str_at(o, "status.reason"), str_at(o, "status.message")));
	w = pod_waiting(o, crash);
	if (w)
		return say(c, HEALTH_FAILED, "container %.63s: CrashLoopBackOff: %.*s",
			   text_at(w, "name"), TEXT_MAX, text_at(w, "state.waiting.message"));
	if (cond_true(o, "Ready"))
		return say(c, HEALTH_CURRENT, "Ready");
	/* ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ... */
	w = pod_waiting(o, NULL);
	if (w && !eq(str_at(w, "state.waiting.reason"), "ContainerCreating") &&
	    !eq(str_at(w, "state.waiting.reason"), "PodInitializing"))
		return say(c, HEALTH_IN_PROGRESS, "container %.63s: %.60s: %.*s",
			   text_at(w, "name"), text_at(w, "state.waiting.reason"), TEXT_MAX,
			   text_at(w, "state.waiting.message"));
	/* kstatus fails Unschedulable after 15 s; without a clock, the deadline does. */
	cond = cond_find(o, "PodScheduled");
	if (cond && eq(str_at(cond, "status"), "False"))
		return say(c, HEALTH_IN_PROGRESS, "not scheduled: %s", cond_why(c, cond));
	if (!phase)
		return say(c, HEALTH_IN_PROGRESS, "not yet observed by the kubelet");
	return say(c, HEALTH_IN_PROGRESS, "%.20s, not Ready", phase);
}

/*
 * PersistentVolumeClaim. [ks-core] pvcConditions; phases per [k8s-types]:
 * Pending, Bound, Lost (the bound volume is gone: it will not come back
 * by itself; differs: kstatus says InProgress for any phase but Bound).
 * A Pending claim of a named class is decided with its StorageClass, see
 * pvc_with_class().
 */
static enum health judge_pvc(struct ctx *c)
{
	const char *phase = str_at(c->obj, "status.phase");

	if (eq(phase, "Bound"))
		return say(c, HEALTH_CURRENT, "Bound");
	if (eq(phase, "Lost"))
		return say(c, HEALTH_FAILED, "Lost: its volume is gone");
	return say(c, HEALTH_IN_PROGRESS, "%.20s, not Bound", phase ? phase : "no phase yet");
}

/* The annotation the scheduler sets on a claim once a Pod using it is placed. */
#define SELECTED_NODE "volume.kubernetes.io/selected-node"

/*
 * Differs from kstatus (Pending is InProgress there): a claim of a class
 * with volumeBindingMode WaitForFirstConsumer — k3s's default local-path —
 * stays Pending by design until a Pod that uses it is scheduled; the
 * volume is provisioned then, on that Pod's node. Waiting for it would
 * fail every release with a claim that nothing mounts yet, so it is
 * Current; once the scheduler picked a node (the selected-node
 * annotation), provisioning is under way and is waited for again.
 * [k8s-types] storage/v1 VolumeBindingMode; the annotation is the one
 * kube-scheduler's volume binder writes.
 */
static enum health pvc_with_class(struct ctx *c, const struct node *sc)
{
	const char *mode = sc ? str_at(sc, "volumeBindingMode") : NULL;
	const struct node *ann = node_path(c->obj, "metadata.annotations");
	const char *node = ann ? node_str(node_map_get(ann, SELECTED_NODE)) : NULL;

	if (!sc)
		return say(c, HEALTH_IN_PROGRESS, "Pending: StorageClass %.253s not found",
			   text_at(c->obj, "spec.storageClassName"));
	if (!eq(mode, "WaitForFirstConsumer"))
		return judge_pvc(c);
	if (node && *node)
		return say(c, HEALTH_IN_PROGRESS, "Pending: being provisioned on node %.253s",
			   node);
	return say(c, HEALTH_CURRENT, "Pending: waits for its first consumer "
		   "(StorageClass %.253s binds WaitForFirstConsumer)",
		   text_at(c->obj, "spec.storageClassName"));
}

/*
 * Service. [ks-core] serviceConditions: Current (it only waits for
 * spec.clusterIP of a LoadBalancer, which the API server assigns on
 * create). A LoadBalancer's status.loadBalancer.ingress is not waited
 * for: on k3s, ServiceLB leaves it empty while the port is taken on every
 * node, and that would hold the whole release.
 */
static enum health judge_service(struct ctx *c)
{
	return say(c, HEALTH_CURRENT, "type %.20s", str_at(c->obj, "spec.type") ?
		   str_at(c->obj, "spec.type") : "ClusterIP");
}

/* Namespace: status.phase Terminating while its content is being deleted. */
static enum health judge_namespace(struct ctx *c)
{
	if (eq(str_at(c->obj, "status.phase"), "Terminating"))
		return say(c, HEALTH_TERMINATING, "phase Terminating");
	return say(c, HEALTH_CURRENT, "Active");
}

/* --- other groups ---------------------------------------------------------- */

/*
 * CustomResourceDefinition. [ks-core] crdConditions. NamesAccepted=False
 * (a name conflict) will not resolve by itself; Established is sticky.
 */
static enum health judge_crd(struct ctx *c)
{
	const struct node *cond = cond_find(c->obj, "NamesAccepted");

	if (cond && eq(str_at(cond, "status"), "False"))
		return say(c, HEALTH_FAILED, "NamesAccepted=False: %s", cond_why(c, cond));
	if (cond_true(c->obj, "Established"))
		return say(c, HEALTH_CURRENT, "Established");
	return say(c, HEALTH_IN_PROGRESS, "not yet Established");
}

/*
 * k3s HelmChart. [helm-ctl]: status.jobName names the install Job (in the
 * chart's namespace, "helm-install-<chart>") and conditions JobCreated,
 * Failed. The Job's verdict is the chart's: see helmchart_with_job().
 * Failed=True is final here.
 */
static enum health judge_helmchart(struct ctx *c)
{
	const struct node *cond = cond_find(c->obj, "Failed");
	const char *job = str_at(c->obj, "status.jobName");

	if (cond && eq(str_at(cond, "status"), "True"))
		return say(c, HEALTH_FAILED, "Failed: %s", cond_why(c, cond));
	if (!job || !*job)
		return say(c, HEALTH_IN_PROGRESS, "waiting for helm-controller to create the install Job");
	return say(c, HEALTH_IN_PROGRESS, "install Job %.253s decides", job);
}

/*
 * The chart and its install Job (NULL: not there). [helm-ctl]
 * pkg/controllers/chart/chart.go: on a change of the chart, helm-controller
 * suspends the current Job, deletes it and creates a new one of the same
 * name — suspended, resumed once the job controller has synced it. Until
 * then the Job under that name is the previous generation's, and it still
 * says Complete: stale_uid is that Job's uid (recorded before the apply),
 * and a Job with it is not the chart's verdict. Only a Complete Job
 * (Complete=True, not a suspended one) makes the chart Current.
 */
static enum health helmchart_with_job(struct ctx *c, const struct node *job,
				      const char *stale_uid)
{
	struct ctx jc = { .obj = job, .kind = "Job" };
	const char *name = text_at(c->obj, "status.jobName");
	enum health h;

	if (!job)
		return say(c, HEALTH_IN_PROGRESS, "waiting for its install Job %.253s", name);
	if (stale_uid && *stale_uid && eq(str_at(job, "metadata.uid"), stale_uid))
		return say(c, HEALTH_IN_PROGRESS, "install Job %.253s is the previous "
			   "generation's; waiting for helm-controller to replace it", name);
	if (judge_generic(&jc, &h))
		h = h == HEALTH_FAILED ? h : HEALTH_IN_PROGRESS;
	else
		h = judge_job(&jc);
	if (h == HEALTH_CURRENT && !cond_true(job, "Complete"))
		h = HEALTH_IN_PROGRESS;         /* suspended: not run yet */
	text_clean(jc.text);
	return say(c, h, "install Job %.253s: %s", name, jc.text);
}

/* --- dispatch ------------------------------------------------------------- */

/* Kind rules by API group ("" is the core group) and kind; kstatus' table. */
static const struct rule {
	const char *group, *kind;
	enum health (*judge)(struct ctx *c);
} rules[] = {
	{ "apps", "Deployment", judge_deployment },
	{ "apps", "StatefulSet", judge_statefulset },
	{ "apps", "DaemonSet", judge_daemonset },
	{ "batch", "Job", judge_job },
	{ "batch", "CronJob", judge_always },
	{ "", "Pod", judge_pod },
	{ "", "PersistentVolumeClaim", judge_pvc },
	{ "", "Service", judge_service },
	{ "", "Namespace", judge_namespace },
	{ "", "ConfigMap", judge_always },
	{ "", "Secret", judge_always },
	{ "apiextensions.k8s.io", "CustomResourceDefinition", judge_crd },
	{ "helm.cattle.io", "HelmChart", judge_helmchart },
};

/* apiVersion "apps/v1" is in group "apps"; "v1" is the core group "". */
static int group_is(const char *api_version, const char *group)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;

	return strlen(group) == n && strncmp(api_version, group, n) == 0;
}

static const struct rule *rule_find(const struct node *obj)
{
	const char *av = str_at(obj, "apiVersion");
	const char *kind = str_at(obj, "kind");

	if (!av || !kind)
		return NULL;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].kind, kind) == 0 && group_is(av, rules[i].group))
			return &rules[i];
	return NULL;
}

const char *health_name(enum health h)
{
	switch (h) {
	case HEALTH_CURRENT: return "Current";
	case HEALTH_IN_PROGRESS: return "InProgress";
	case HEALTH_FAILED: return "Failed";
	case HEALTH_TERMINATING: return "Terminating";
	case HEALTH_UNKNOWN: return "Unknown";
	}
	return "Unknown";
}

/* "<Kind> <ns>/<name>: <reason>" into msg, which was reset. */
static void message(struct ctx *c, struct buf *msg)
{
	const char *ns = str_at(c->obj, "metadata.namespace");
	const char *name = str_at(c->obj, "metadata.name");

	buf_reset(msg);
	text_clean(c->text);
	/* Best effort: a message that does not fit is left out, never the verdict. */
	buf_addf(msg, "%.63s %.253s%s%.253s: %s", c->kind, ns && *ns ? ns : "",
		 ns && *ns ? "/" : "", name ? name : "(unnamed)", c->text);
}

enum health health_of(const struct node *obj, struct buf *msg)
{
	struct ctx c = { .obj = obj };
	const struct rule *r;
	enum health h;

	if (msg)
		buf_reset(msg);
	if (!obj || obj->type != NODE_MAP || !str_at(obj, "kind")) {
		if (msg)
			buf_addstr(msg, "not a Kubernetes object");
		return HEALTH_UNKNOWN;
	}
	c.kind = str_at(obj, "kind");
	if (!judge_generic(&c, &h)) {
		r = rule_find(obj);
		h = r ? r->judge(&c) : judge_default(&c);
	}
	if (msg)
		message(&c, msg);
	return h;
}

/* A PersistentVolumeClaim waiting for a volume, of a named class. */
static int pvc_pending_in_class(const struct node *obj)
{
	const char *av = str_at(obj, "apiVersion"), *sc = str_at(obj, "spec.storageClassName");
	const char *phase = str_at(obj, "status.phase");

	return av && group_is(av, "") && eq(str_at(obj, "kind"), "PersistentVolumeClaim") &&
	       sc && *sc && !eq(phase, "Bound") && !eq(phase, "Lost");
}

static int is_helmchart(const struct node *obj)
{
	const char *av = str_at(obj, "apiVersion");

	return av && group_is(av, "helm.cattle.io") && eq(str_at(obj, "kind"), "HelmChart");
}

int health_dependency(const struct node *obj, struct health_ref *ref)
{
	const char *job = str_at(obj, "status.jobName");

	if (obj && obj->type == NODE_MAP && pvc_pending_in_class(obj) &&
	    !str_at(obj, "metadata.deletionTimestamp")) {
		ref->api_version = "storage.k8s.io/v1";
		ref->kind = "StorageClass";
		ref->namespace = NULL;
		ref->name = str_at(obj, "spec.storageClassName");
		return 1;
	}
	if (!obj || obj->type != NODE_MAP || !is_helmchart(obj) || !job || !*job)
		return 0;
	ref->api_version = "batch/v1";
	ref->kind = "Job";
	ref->namespace = str_at(obj, "metadata.namespace");
	ref->name = job;
	return 1;
}

enum health health_with(const struct node *obj, const struct node *dep,
			const char *stale_uid, struct buf *msg)
{
	struct ctx c = { .obj = obj };
	struct health_ref ref;
	enum health h = health_of(obj, msg);
	int stale = stale_uid && *stale_uid && is_helmchart(obj);

	/*
	 * Only where the object's own verdict leaves the question open; and
	 * for a changed HelmChart also when it says Failed: until its Job is
	 * replaced, that condition is the previous generation's (a rollback
	 * after a failed install re-applies a chart that still says so).
	 */
	if (!(h == HEALTH_IN_PROGRESS || (h == HEALTH_FAILED && stale)) ||
	    !health_dependency(obj, &ref))
		return h;
	if (dep && (dep->type != NODE_MAP || !eq(str_at(dep, "kind"), ref.kind)))
		return h;       /* not the object asked for: keep the own verdict */
	c.kind = str_at(obj, "kind");
	h = is_helmchart(obj) ? helmchart_with_job(&c, dep, stale_uid) : pvc_with_class(&c, dep);
	if (msg)
		message(&c, msg);
	return h;
}

/* Worse verdicts rank higher. */
static int rank(enum health h)
{
	switch (h) {
	case HEALTH_CURRENT: return 0;
	case HEALTH_UNKNOWN: return 1;
	case HEALTH_TERMINATING: return 2;
	case HEALTH_IN_PROGRESS: return 3;
	case HEALTH_FAILED: return 4;
	}
	return 1;
}

enum health health_combine(const enum health *v, size_t n, size_t *which)
{
	enum health worst = HEALTH_CURRENT;
	size_t at = n;

	for (size_t i = 0; i < n; i++) {
		if (rank(v[i]) > rank(worst) || (at == n && v[i] == worst)) {
			worst = v[i];
			at = i;
		}
	}
	if (which)
		*which = at;
	return worst;
}
