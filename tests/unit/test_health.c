/* Unit tests: agent/gateway/health — kstatus verdicts from API replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doc.h"
#include "error.h"
#include "health.h"
#include "mem.h"
#include "tap.h"

/* --- helpers --------------------------------------------------------------- */

/*
 * The rows are written with single quotes for readability; they become
 * real JSON (double quotes) before loading, as the API sends it.
 */
static struct doc *load(const char *text)
{
	size_t len = strlen(text);
	char *json = malloc(len + 1);
	struct doc *d = NULL;

	if (!json)
		abort();
	for (size_t i = 0; i <= len; i++)
		json[i] = text[i] == '\'' ? '"' : text[i];
	if (doc_load("reply.json", json, len, NULL, &d) || doc_count(d) != 1) {
		tap_diag("cannot load: %s", text);
		abort();
	}
	free(json);
	return d;
}

struct row {
	const char *what;
	const char *json;
	enum health want;
	const char *msg;        /* a substring of the message */
};

#define META(kind, av) "'apiVersion':'" av "','kind':'" kind "'," \
	"'metadata':{'name':'web','namespace':'default','generation':2}"

static const struct row rows[] = {
	/* --- generic, every kind --- */
	{ "ConfigMap: nothing to wait for",
	  "{" META("ConfigMap", "v1") ",'data':{'a':'b'}}",
	  HEALTH_CURRENT, "ConfigMap default/web: nothing to wait for" },
	{ "Secret", "{" META("Secret", "v1") "}", HEALTH_CURRENT, "Secret default/web" },
	{ "ServiceAccount: no rule, no status",
	  "{" META("ServiceAccount", "v1") "}", HEALTH_CURRENT, "no status to wait for" },
	{ "cluster-scoped ClusterRole is named without a namespace",
	  "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole',"
	  "'metadata':{'name':'reader'},'rules':[]}",
	  HEALTH_CURRENT, "ClusterRole reader: " },
	{ "deletionTimestamp → Terminating, before the kind's rule",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	  "'namespace':'default','generation':2,'deletionTimestamp':'2026-01-02T03:04:05Z'},"
	  "'status':{'observedGeneration':2,'replicas':1,'updatedReplicas':1,"
	  "'readyReplicas':1,'availableReplicas':1}}",
	  HEALTH_TERMINATING, "being deleted (since 2026-01-02T03:04:05Z)" },
	{ "empty deletionTimestamp is not a deletion (kstatus)",
	  "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'web',"
	  "'deletionTimestamp':''}}",
	  HEALTH_CURRENT, "" },
	{ "generation not yet observed, on any kind",
	  "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w',"
	  "'generation':3},'status':{'observedGeneration':2,"
	  "'conditions':[{'type':'Ready','status':'True'}]}}",
	  HEALTH_IN_PROGRESS, "Widget w: generation 3 not yet observed (observed 2)" },
	{ "generation without observedGeneration: generic rule is lenient",
	  "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w',"
	  "'generation':3}}",
	  HEALTH_CURRENT, "" },
	{ "Reconciling=True → InProgress",
	  "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'},"
	  "'status':{'conditions':[{'type':'Ready','status':'True'},"
	  "{'type':'Reconciling','status':'True','reason':'Progressing','message':'working'}]}}",
	  HEALTH_IN_PROGRESS, "Reconciling: Progressing: working" },
	{ "Stalled=True → Failed, even with Ready=True",
	  "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'},"
	  "'status':{'conditions':[{'type':'Ready','status':'True'},"
	  "{'type':'Stalled','status':'True','reason':'InvalidSpec','message':'bad url'}]}}",
	  HEALTH_FAILED, "Stalled: InvalidSpec: bad url" },
	{ "Stalled=True on a built-in kind too (generic rules come first)",
	  "{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':'data'},"
	  "'status':{'phase':'Bound','conditions':[{'type':'Stalled','status':'True'}]}}",
	  HEALTH_FAILED, "Stalled" },
	{ "Stalled=False and Reconciling=False count for nothing",
	  "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'},"
	  "'status':{'conditions':[{'type':'Stalled','status':'False'},"
	  "{'type':'Reconciling','status':'False'},{'type':'Ready','status':'True'}]}}",
	  HEALTH_CURRENT, "Ready" },
	{ "Ready=True → Current",
	  "{'apiVersion':'cert-manager.io/v1','kind':'Certificate','metadata':{'name':'tls',"
	  "'namespace':'edge'},'status':{'conditions':[{'type':'Ready','status':'True'}]}}",
	  HEALTH_CURRENT, "Certificate edge/tls: Ready" },
	{ "Ready=False → InProgress, not Failed",
	  "{'apiVersion':'cert-manager.io/v1','kind':'Certificate','metadata':{'name':'tls'},"
	  "'status':{'conditions':[{'type':'Ready','status':'False','reason':'Issuing',"
	  "'message':'waiting for the CA'}]}}",
	  HEALTH_IN_PROGRESS, "Ready=False: Issuing: waiting for the CA" },
	{ "Ready=Unknown → InProgress",
	  "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'},"
	  "'status':{'conditions':[{'type':'Ready','status':'Unknown'}]}}",
	  HEALTH_IN_PROGRESS, "Ready=Unknown" },
	{ "Namespace Terminating",
	  "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'edge'},"
	  "'status':{'phase':'Terminating'}}",
	  HEALTH_TERMINATING, "Namespace edge: phase Terminating" },
	{ "Namespace Active",
	  "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'edge'},"
	  "'status':{'phase':'Active'}}",
	  HEALTH_CURRENT, "Namespace edge" },
	{ "Service LoadBalancer without ingress is Current (kstatus)",
	  "{" META("Service", "v1") ",'spec':{'type':'LoadBalancer','clusterIP':'10.43.0.9'},"
	  "'status':{'loadBalancer':{}}}",
	  HEALTH_CURRENT, "type LoadBalancer" },

	/* --- Deployment --- */
	{ "Deployment just created: no status yet",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3}}",
	  HEALTH_IN_PROGRESS, "not yet observed by its controller" },
	{ "Deployment: old generation observed",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':1,'replicas':3,'updatedReplicas':3,"
	  "'readyReplicas':3,'availableReplicas':3}}",
	  HEALTH_IN_PROGRESS, "generation 2 not yet observed (observed 1)" },
	{ "Deployment complete",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':2,'replicas':3,'updatedReplicas':3,"
	  "'readyReplicas':3,'availableReplicas':3,'conditions':["
	  "{'type':'Available','status':'True','reason':'MinimumReplicasAvailable'},"
	  "{'type':'Progressing','status':'True','reason':'NewReplicaSetAvailable'}]}}",
	  HEALTH_CURRENT, "Deployment default/web: 3 of 3 replicas available" },
	{ "Deployment: 2 of 3 available",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':2,'replicas':3,'updatedReplicas':3,"
	  "'readyReplicas':2,'availableReplicas':2,'conditions':["
	  "{'type':'Available','status':'True'},"
	  "{'type':'Progressing','status':'True','reason':'ReplicaSetUpdated'}]}}",
	  HEALTH_IN_PROGRESS, "Deployment default/web: 2 of 3 replicas available" },
	{ "Deployment: progress deadline exceeded → Failed",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':2,'replicas':3,'updatedReplicas':1,"
	  "'conditions':[{'type':'Progressing','status':'False',"
	  "'reason':'ProgressDeadlineExceeded',"
	  "'message':'ReplicaSet \\'web-5d9\\' has timed out progressing.'}]}}",
	  HEALTH_FAILED, "ProgressDeadlineExceeded: ReplicaSet \"web-5d9\" has timed out" },
	{ "Deployment: ReplicaFailure stays InProgress, with the reason",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':2},"
	  "'status':{'observedGeneration':2,'replicas':1,'conditions':["
	  "{'type':'ReplicaFailure','status':'True','reason':'FailedCreate',"
	  "'message':'exceeded quota: pods'}]}}",
	  HEALTH_IN_PROGRESS, "ReplicaFailure: FailedCreate: exceeded quota: pods" },
	{ "Deployment: fewer updated than wanted",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':2,'replicas':4,'updatedReplicas':1,"
	  "'readyReplicas':3,'availableReplicas':3}}",
	  HEALTH_IN_PROGRESS, "1 of 3 replicas updated" },
	{ "Deployment: old pods still terminating",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':2,'replicas':4,'updatedReplicas':3,"
	  "'readyReplicas':3,'availableReplicas':3}}",
	  HEALTH_IN_PROGRESS, "1 old replicas pending termination" },
	{ "Deployment: spec.replicas defaults to 1",
	  "{" META("Deployment", "apps/v1") ",'spec':{},"
	  "'status':{'observedGeneration':2}}",
	  HEALTH_IN_PROGRESS, "0 of 1 replicas created" },
	{ "Deployment scaled to 0: Current once observed",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':0},"
	  "'status':{'observedGeneration':2}}",
	  HEALTH_CURRENT, "scaled to 0 replicas" },
	{ "Deployment: counts done, Progressing still mid-rollout",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':1},"
	  "'status':{'observedGeneration':2,'replicas':1,'updatedReplicas':1,"
	  "'readyReplicas':1,'availableReplicas':1,'conditions':["
	  "{'type':'Available','status':'True'},"
	  "{'type':'Progressing','status':'True','reason':'ReplicaSetUpdated'}]}}",
	  HEALTH_IN_PROGRESS, "rollout not complete: Progressing: ReplicaSetUpdated" },
	{ "Deployment: counts done, not Available",
	  "{" META("Deployment", "apps/v1") ",'spec':{'replicas':1},"
	  "'status':{'observedGeneration':2,'replicas':1,'updatedReplicas':1,"
	  "'readyReplicas':1,'availableReplicas':1,'conditions':["
	  "{'type':'Available','status':'False','reason':'MinimumReplicasUnavailable'}]}}",
	  HEALTH_IN_PROGRESS, "not Available" },
	{ "a Deployment of another group gets the generic rules only",
	  "{" META("Deployment", "example.com/v1") "}",
	  HEALTH_CURRENT, "no status to wait for" },

	/* --- StatefulSet --- */
	{ "StatefulSet complete",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':3,'updateStrategy':"
	  "{'type':'RollingUpdate','rollingUpdate':{'partition':0}}},"
	  "'status':{'observedGeneration':2,'replicas':3,'readyReplicas':3,"
	  "'currentReplicas':3,'updatedReplicas':3,'currentRevision':'web-7c',"
	  "'updateRevision':'web-7c'}}",
	  HEALTH_CURRENT, "StatefulSet default/web: 3 of 3 replicas ready" },
	{ "StatefulSet: 1 of 3 ready",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':3},"
	  "'status':{'observedGeneration':2,'replicas':3,'readyReplicas':1,"
	  "'currentReplicas':3,'updatedReplicas':3}}",
	  HEALTH_IN_PROGRESS, "1 of 3 replicas ready" },
	{ "StatefulSet: revision not rolled out (no partition)",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':2},"
	  "'status':{'observedGeneration':2,'replicas':2,'readyReplicas':2,"
	  "'currentReplicas':2,'updatedReplicas':2,'currentRevision':'web-1',"
	  "'updateRevision':'web-2'}}",
	  HEALTH_IN_PROGRESS, "rolling out revision web-2 (current web-1)" },
	{ "StatefulSet: fewer at the current revision",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':2},"
	  "'status':{'observedGeneration':2,'replicas':2,'readyReplicas':2,"
	  "'currentReplicas':1,'updatedReplicas':2,'currentRevision':'web-1',"
	  "'updateRevision':'web-2'}}",
	  HEALTH_IN_PROGRESS, "1 of 2 replicas at the current revision" },
	{ "StatefulSet: partition 2 of 3, one updated → done",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':3,'updateStrategy':"
	  "{'type':'RollingUpdate','rollingUpdate':{'partition':2}}},"
	  "'status':{'observedGeneration':2,'replicas':3,'readyReplicas':3,"
	  "'currentReplicas':2,'updatedReplicas':1,'currentRevision':'web-1',"
	  "'updateRevision':'web-2'}}",
	  HEALTH_CURRENT, "partitioned rollout complete: 1 updated (partition 2)" },
	{ "StatefulSet: partition 2 of 3, none updated",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':3,'updateStrategy':"
	  "{'type':'RollingUpdate','rollingUpdate':{'partition':2}}},"
	  "'status':{'observedGeneration':2,'replicas':3,'readyReplicas':3,"
	  "'currentReplicas':3,'updatedReplicas':0}}",
	  HEALTH_IN_PROGRESS, "0 of 1 replicas updated (partition 2)" },
	{ "StatefulSet: partition above replicas needs no update",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':2,'updateStrategy':"
	  "{'type':'RollingUpdate','rollingUpdate':{'partition':5}}},"
	  "'status':{'observedGeneration':2,'replicas':2,'readyReplicas':2}}",
	  HEALTH_CURRENT, "partitioned rollout complete" },
	{ "StatefulSet OnDelete: Current once observed, revisions apart",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':2,'updateStrategy':"
	  "{'type':'OnDelete'}},'status':{'observedGeneration':2,'replicas':2,"
	  "'readyReplicas':2,'currentRevision':'web-1','updateRevision':'web-2'}}",
	  HEALTH_CURRENT, "update strategy OnDelete" },
	{ "StatefulSet OnDelete but not observed yet",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'updateStrategy':{'type':'OnDelete'}}}",
	  HEALTH_IN_PROGRESS, "not yet observed" },
	{ "StatefulSet: scaling down",
	  "{" META("StatefulSet", "apps/v1") ",'spec':{'replicas':1},"
	  "'status':{'observedGeneration':2,'replicas':3,'readyReplicas':3,"
	  "'currentReplicas':3,'updatedReplicas':3}}",
	  HEALTH_IN_PROGRESS, "2 replicas pending termination" },

	/* --- DaemonSet --- */
	{ "DaemonSet complete",
	  "{" META("DaemonSet", "apps/v1") ",'status':{'observedGeneration':2,"
	  "'desiredNumberScheduled':2,'currentNumberScheduled':2,"
	  "'updatedNumberScheduled':2,'numberAvailable':2,'numberReady':2}}",
	  HEALTH_CURRENT, "DaemonSet default/web: 2 of 2 pods ready" },
	{ "DaemonSet: desiredNumberScheduled absent",
	  "{" META("DaemonSet", "apps/v1") ",'status':{'observedGeneration':2}}",
	  HEALTH_IN_PROGRESS, "desiredNumberScheduled not reported yet" },
	{ "DaemonSet: no observedGeneration at all",
	  "{" META("DaemonSet", "apps/v1") ",'status':{'desiredNumberScheduled':0}}",
	  HEALTH_IN_PROGRESS, "not yet observed" },
	{ "DaemonSet: 1 of 2 updated",
	  "{" META("DaemonSet", "apps/v1") ",'status':{'observedGeneration':2,"
	  "'desiredNumberScheduled':2,'currentNumberScheduled':2,"
	  "'updatedNumberScheduled':1,'numberAvailable':2,'numberReady':2}}",
	  HEALTH_IN_PROGRESS, "1 of 2 pods updated" },
	{ "DaemonSet OnDelete does not wait for updates",
	  "{" META("DaemonSet", "apps/v1") ",'spec':{'updateStrategy':{'type':'OnDelete'}},"
	  "'status':{'observedGeneration':2,'desiredNumberScheduled':2,"
	  "'currentNumberScheduled':2,'updatedNumberScheduled':0,'numberAvailable':2,"
	  "'numberReady':2}}",
	  HEALTH_CURRENT, "2 of 2 pods ready" },
	{ "DaemonSet: not all available",
	  "{" META("DaemonSet", "apps/v1") ",'status':{'observedGeneration':2,"
	  "'desiredNumberScheduled':3,'currentNumberScheduled':3,"
	  "'updatedNumberScheduled':3,'numberAvailable':1,'numberReady':3}}",
	  HEALTH_IN_PROGRESS, "1 of 3 pods available" },
	{ "DaemonSet on no node: 0 of 0 is Current",
	  "{" META("DaemonSet", "apps/v1") ",'status':{'observedGeneration':2,"
	  "'desiredNumberScheduled':0}}",
	  HEALTH_CURRENT, "0 of 0 pods ready" },

	/* --- batch --- */
	{ "Job complete",
	  "{" META("Job", "batch/v1") ",'status':{'succeeded':1,'startTime':'t',"
	  "'conditions':[{'type':'Complete','status':'True'}]}}",
	  HEALTH_CURRENT, "Complete: 1 succeeded" },
	{ "Job failed: reason and message",
	  "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'migrate',"
	  "'namespace':'default'},'status':{'failed':7,'conditions':["
	  "{'type':'Failed','status':'True','reason':'BackoffLimitExceeded',"
	  "'message':'Job has reached the specified backoff limit'}]}}",
	  HEALTH_FAILED,
	  "Job default/migrate: Failed: BackoffLimitExceeded: Job has reached the specified backoff limit" },
	{ "Job FailureTarget: failure decided",
	  "{" META("Job", "batch/v1") ",'status':{'conditions':[{'type':'FailureTarget',"
	  "'status':'True','reason':'PodFailurePolicy'}]}}",
	  HEALTH_FAILED, "Failed: PodFailurePolicy" },
	{ "Job suspended: spec.suspend and the Suspended condition agree",
	  "{" META("Job", "batch/v1") ",'spec':{'suspend':true},'status':{'conditions':["
	  "{'type':'Suspended','status':'True','reason':'JobSuspended'}]}}",
	  HEALTH_CURRENT, "suspended" },
	{ "Job spec.suspend only: not yet synced by the job controller",
	  "{" META("Job", "batch/v1") ",'spec':{'suspend':true}}",
	  HEALTH_IN_PROGRESS, "suspend requested, not yet Suspended" },
	{ "Job Suspended condition only: resumed, condition not yet updated",
	  "{" META("Job", "batch/v1") ",'spec':{'suspend':false},'status':{'conditions':["
	  "{'type':'Suspended','status':'True'}]}}",
	  HEALTH_IN_PROGRESS, "resumed, still Suspended" },
	{ "Job spec.suspend false and running",
	  "{" META("Job", "batch/v1") ",'spec':{'suspend':false},"
	  "'status':{'startTime':'2026-01-01T00:00:00Z','active':1,'failed':2}}",
	  HEALTH_IN_PROGRESS, "running: 1 active, 0 succeeded, 2 failed" },
	{ "Job not started",
	  "{" META("Job", "batch/v1") ",'status':{}}", HEALTH_IN_PROGRESS, "not started" },
	{ "CronJob", "{" META("CronJob", "batch/v1") ",'status':{}}", HEALTH_CURRENT, "CronJob" },

	/* --- PersistentVolumeClaim --- */
	{ "PVC Bound", "{" META("PersistentVolumeClaim", "v1") ",'status':{'phase':'Bound'}}",
	  HEALTH_CURRENT, "Bound" },
	{ "PVC Pending", "{" META("PersistentVolumeClaim", "v1") ",'status':{'phase':'Pending'}}",
	  HEALTH_IN_PROGRESS, "Pending, not Bound" },
	{ "PVC Lost", "{" META("PersistentVolumeClaim", "v1") ",'status':{'phase':'Lost'}}",
	  HEALTH_FAILED, "Lost" },
	{ "PVC without status", "{" META("PersistentVolumeClaim", "v1") "}",
	  HEALTH_IN_PROGRESS, "no phase yet" },

	/* --- CustomResourceDefinition --- */
	{ "CRD Established",
	  "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
	  "'metadata':{'name':'widgets.example.com'},'status':{'conditions':["
	  "{'type':'NamesAccepted','status':'True'},{'type':'Established','status':'True'}]}}",
	  HEALTH_CURRENT, "CustomResourceDefinition widgets.example.com: Established" },
	{ "CRD name conflict → Failed",
	  "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
	  "'metadata':{'name':'widgets.example.com'},'status':{'conditions':["
	  "{'type':'NamesAccepted','status':'False','reason':'ListKindConflict',"
	  "'message':'WidgetList is already in use'},{'type':'Established','status':'False'}]}}",
	  HEALTH_FAILED, "NamesAccepted=False: ListKindConflict: WidgetList is already in use" },
	{ "CRD installing",
	  "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
	  "'metadata':{'name':'widgets.example.com'},'status':{}}",
	  HEALTH_IN_PROGRESS, "not yet Established" },

	/* --- Pod --- */
	{ "Pod Succeeded", "{" META("Pod", "v1") ",'status':{'phase':'Succeeded'}}",
	  HEALTH_CURRENT, "Succeeded" },
	{ "Pod Failed (evicted)",
	  "{" META("Pod", "v1") ",'status':{'phase':'Failed','reason':'Evicted',"
	  "'message':'low on memory'}}",
	  HEALTH_FAILED, "Failed: Evicted: low on memory" },
	{ "Pod Ready",
	  "{" META("Pod", "v1") ",'status':{'phase':'Running','conditions':["
	  "{'type':'Ready','status':'True'}]}}",
	  HEALTH_CURRENT, "Pod default/web: Ready" },
	{ "Pod: init container in CrashLoopBackOff → Failed",
	  "{" META("Pod", "v1") ",'status':{'phase':'Pending','initContainerStatuses':["
	  "{'name':'init-db','state':{'waiting':{'reason':'CrashLoopBackOff',"
	  "'message':'back-off 40s restarting failed container'}}}],"
	  "'containerStatuses':[{'name':'app','state':{'waiting':{'reason':'PodInitializing'}}}]}}",
	  HEALTH_FAILED, "container init-db: CrashLoopBackOff: back-off 40s" },
	{ "Pod: second container in CrashLoopBackOff → Failed",
	  "{" META("Pod", "v1") ",'status':{'phase':'Running','containerStatuses':["
	  "{'name':'app','state':{'running':{}}},"
	  "{'name':'sidecar','state':{'waiting':{'reason':'CrashLoopBackOff'}}}]}}",
	  HEALTH_FAILED, "container sidecar: CrashLoopBackOff" },
	{ "Pod: ImagePullBackOff stays InProgress, named",
	  "{" META("Pod", "v1") ",'status':{'phase':'Pending','containerStatuses':["
	  "{'name':'app','state':{'waiting':{'reason':'ImagePullBackOff',"
	  "'message':'Back-off pulling image \\'registry.local/app:2\\''}}}]}}",
	  HEALTH_IN_PROGRESS, "container app: ImagePullBackOff: Back-off pulling image" },
	{ "Pod: CreateContainerConfigError stays InProgress",
	  "{" META("Pod", "v1") ",'status':{'phase':'Pending','containerStatuses':["
	  "{'name':'app','state':{'waiting':{'reason':'CreateContainerConfigError',"
	  "'message':'secret \\'db\\' not found'}}}]}}",
	  HEALTH_IN_PROGRESS, "CreateContainerConfigError: secret \"db\" not found" },
	{ "Pod unschedulable",
	  "{" META("Pod", "v1") ",'status':{'phase':'Pending','conditions':["
	  "{'type':'PodScheduled','status':'False','reason':'Unschedulable',"
	  "'message':'0/1 nodes are available'}]}}",
	  HEALTH_IN_PROGRESS, "not scheduled: Unschedulable: 0/1 nodes" },
	{ "Pod running, not ready",
	  "{" META("Pod", "v1") ",'status':{'phase':'Running','conditions':["
	  "{'type':'Ready','status':'False'}],'containerStatuses':[{'name':'app',"
	  "'state':{'running':{}}}]}}",
	  HEALTH_IN_PROGRESS, "Running, not Ready" },
	{ "Pod without status", "{" META("Pod", "v1") "}",
	  HEALTH_IN_PROGRESS, "not yet observed by the kubelet" },

	/* --- k3s HelmChart --- */
	{ "HelmChart: no Job yet",
	  "{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':{'name':'traefik',"
	  "'namespace':'kube-system'},'spec':{'chart':'traefik'}}",
	  HEALTH_IN_PROGRESS, "waiting for helm-controller to create the install Job" },
	{ "HelmChart: the Job decides",
	  "{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':{'name':'traefik',"
	  "'namespace':'kube-system'},'status':{'jobName':'helm-install-traefik',"
	  "'conditions':[{'type':'JobCreated','status':'True'}]}}",
	  HEALTH_IN_PROGRESS, "install Job helm-install-traefik decides" },
	{ "HelmChart Failed=True",
	  "{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':{'name':'traefik',"
	  "'namespace':'kube-system'},'status':{'jobName':'helm-install-traefik',"
	  "'conditions':[{'type':'Failed','status':'True','reason':'Error',"
	  "'message':'chart not found'}]}}",
	  HEALTH_FAILED, "HelmChart kube-system/traefik: Failed: Error: chart not found" },
	{ "HelmChart being deleted",
	  "{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':{'name':'traefik',"
	  "'deletionTimestamp':'2026-01-01T00:00:00Z'},'status':{'jobName':'helm-delete-traefik'}}",
	  HEALTH_TERMINATING, "being deleted" },
};

static void test_rows(void)
{
	struct buf msg = BUF_INIT(4096);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct doc *d = load(r->json);
		enum health h = health_of(doc_root(d, 0), &msg);
		int ok = check_int(h, ==, r->want) & check(strstr(msg.data, r->msg) != NULL);

		if (!ok)
			tap_diag("row %zu: %s: got %s \"%s\"", i, r->what, health_name(h), msg.data);
		doc_free(d);
	}
	check_int(sizeof(rows) / sizeof(rows[0]), >=, 40);
	buf_free(&msg);
}

/* --- message hygiene ------------------------------------------------------- */

static void test_not_objects(void)
{
	struct buf msg = BUF_INIT(256);
	struct doc *d;

	d = load("[1,2]");
	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_UNKNOWN);
	check_str(msg.data, "not a Kubernetes object");
	doc_free(d);
	d = load("{'metadata':{'name':'x'}}");
	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_UNKNOWN);
	doc_free(d);
	check_int(health_of(NULL, NULL), ==, HEALTH_UNKNOWN);
	/* A kind without apiVersion gets the generic rules (no kind rule). */
	d = load("{'kind':'Deployment','metadata':{'name':'x'}}");
	check_int(health_of(doc_root(d, 0), NULL), ==, HEALTH_CURRENT);
	doc_free(d);
	buf_free(&msg);
}

/* Control characters in a condition message never split a log line. */
static void test_message_clean(void)
{
	struct buf msg = BUF_INIT(4096);
	struct doc *d = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'m'},"
			     "'status':{'conditions':[{'type':'Failed','status':'True',"
			     "'reason':'X','message':'line1\\nline2\\tend\\u0007'}]}}");

	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_FAILED);
	check_str(msg.data, "Job m: Failed: X: line1 line2 end ");
	doc_free(d);
	buf_free(&msg);
}

/*
 * A long condition message is cut; a cut in the middle of a UTF-8 sequence
 * must not leave invalid UTF-8 that the JSON report writer would refuse.
 */
static void test_message_cut_utf8(void)
{
	struct buf msg = BUF_INIT(4096), json = BUF_INIT(8192);
	struct buf text = BUF_INIT(1 << 16);
	struct doc *d, *out;
	struct node *s;

	buf_addstr(&text, "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'m'},"
		   "'status':{'conditions':[{'type':'Failed','status':'True','message':'a");
	for (int i = 0; i < 400; i++)
		buf_addstr(&text, "\xc3\xa9");  /* é: 2 bytes, cut at an odd offset */
	buf_addstr(&text, "'}]}}");
	d = load(text.data);
	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_FAILED);
	check(msg.len < 400);
	check(strstr(msg.data, "Job m: Failed: a\xc3\xa9\xc3\xa9") != NULL);
	/* The report path: an edited string goes through doc_to_json's UTF-8 check. */
	out = load("{}");
	s = doc_new_str(out, msg.data, msg.len);
	check(s != NULL);
	check_int(doc_to_json(s, &json), ==, 0);
	doc_free(out);
	doc_free(d);
	buf_free(&text);
	buf_free(&json);
	buf_free(&msg);
}

/* The verdict never depends on the message: too small a buffer, no memory. */
static void test_message_best_effort(void)
{
	struct buf small = BUF_INIT(8), msg = BUF_INIT(4096);
	struct doc *d = load(rows[0].json);

	check_int(health_of(doc_root(d, 0), &small), ==, HEALTH_CURRENT);
	check_str(small.data, "");
	mem_fail_after(1);
	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_CURRENT);
	mem_fail_after(0);
	check_str(msg.data, "");
	/* msg is reset on each call, not appended to */
	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_CURRENT);
	check_int(health_of(doc_root(d, 0), &msg), ==, HEALTH_CURRENT);
	check_str(msg.data, "ConfigMap default/web: nothing to wait for");
	doc_free(d);
	buf_free(&small);
	buf_free(&msg);
}

/* --- dependency (HelmChart → Job) ------------------------------------------ */

static void test_dependency(void)
{
	struct health_ref ref = { 0 };
	struct buf msg = BUF_INIT(4096);
	struct doc *chart, *job, *other;
	enum health h;

	chart = load("{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart',"
		     "'metadata':{'name':'traefik','namespace':'kube-system'},"
		     "'status':{'jobName':'helm-install-traefik'}}");
	check_int(health_dependency(doc_root(chart, 0), &ref), ==, 1);
	check_str(ref.api_version, "batch/v1");
	check_str(ref.kind, "Job");
	check_str(ref.namespace, "kube-system");
	check_str(ref.name, "helm-install-traefik");

	/* The caller's pattern: the chart's InProgress gives way to the Job's verdict. */
	job = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':"
		   "'helm-install-traefik','namespace':'kube-system'},'status':{'succeeded':1,"
		   "'conditions':[{'type':'Complete','status':'True'}]}}");
	h = health_of(doc_root(chart, 0), &msg);
	check_int(h, ==, HEALTH_IN_PROGRESS);
	if (h == HEALTH_IN_PROGRESS && health_dependency(doc_root(chart, 0), &ref))
		h = health_of(doc_root(job, 0), &msg);
	check_int(h, ==, HEALTH_CURRENT);
	check_str(msg.data, "Job kube-system/helm-install-traefik: Complete: 1 succeeded");
	doc_free(job);
	doc_free(chart);

	/* No jobName yet, another kind, another group: no dependency. */
	other = load("{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':"
		     "{'name':'x'},'status':{}}");
	check_int(health_dependency(doc_root(other, 0), &ref), ==, 0);
	doc_free(other);
	other = load("{'apiVersion':'example.com/v1','kind':'HelmChart','metadata':"
		     "{'name':'x'},'status':{'jobName':'j'}}");
	check_int(health_dependency(doc_root(other, 0), &ref), ==, 0);
	doc_free(other);
	other = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'x'}}");
	check_int(health_dependency(doc_root(other, 0), &ref), ==, 0);
	doc_free(other);
	buf_free(&msg);
}

/* --- dependency (PVC → StorageClass, HelmChart → its current Job) ---------- */

static void test_pvc_class(void)
{
	struct health_ref ref = { 0 };
	struct buf msg = BUF_INIT(4096);
	struct doc *pvc, *wffc, *immediate, *picked, *bound, *other;

	pvc = load("{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':"
		   "'data','namespace':'db'},'spec':{'storageClassName':'local-path'},"
		   "'status':{'phase':'Pending'}}");
	wffc = load("{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':"
		    "{'name':'local-path'},'provisioner':'rancher.io/local-path',"
		    "'volumeBindingMode':'WaitForFirstConsumer'}");
	immediate = load("{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':"
			 "{'name':'local-path'},'volumeBindingMode':'Immediate'}");
	check_int(health_dependency(doc_root(pvc, 0), &ref), ==, 1);
	check_str(ref.api_version, "storage.k8s.io/v1");
	check_str(ref.kind, "StorageClass");
	check(ref.namespace == NULL);
	check_str(ref.name, "local-path");
	/* alone: Pending is InProgress (kstatus) */
	check_int(health_of(doc_root(pvc, 0), &msg), ==, HEALTH_IN_PROGRESS);
	/* WaitForFirstConsumer: Pending is what it does until a Pod uses it */
	check_int(health_with(doc_root(pvc, 0), doc_root(wffc, 0), NULL, &msg), ==,
		  HEALTH_CURRENT);
	check(strstr(msg.data, "PersistentVolumeClaim db/data: Pending: waits for its first "
		     "consumer") != NULL);
	check_int(health_with(doc_root(pvc, 0), doc_root(immediate, 0), NULL, &msg), ==,
		  HEALTH_IN_PROGRESS);
	check_str(msg.data, "PersistentVolumeClaim db/data: Pending, not Bound");
	/* the class is gone (404): not Current */
	check_int(health_with(doc_root(pvc, 0), NULL, NULL, &msg), ==, HEALTH_IN_PROGRESS);
	check(strstr(msg.data, "StorageClass local-path not found") != NULL);
	/* the reply is not a StorageClass: the own verdict stands */
	check_int(health_with(doc_root(pvc, 0), doc_root(pvc, 0), NULL, &msg), ==,
		  HEALTH_IN_PROGRESS);
	/* a node was picked: provisioning is under way, waited for */
	picked = load("{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':"
		      "'data','annotations':{'volume.kubernetes.io/selected-node':'gw1'}},"
		      "'spec':{'storageClassName':'local-path'},'status':{'phase':'Pending'}}");
	check_int(health_with(doc_root(picked, 0), doc_root(wffc, 0), NULL, &msg), ==,
		  HEALTH_IN_PROGRESS);
	check(strstr(msg.data, "being provisioned on node gw1") != NULL);
	/* Bound, or no class named: no dependency */
	bound = load("{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':"
		     "'data'},'spec':{'storageClassName':'local-path'},'status':{'phase':'Bound'}}");
	check_int(health_dependency(doc_root(bound, 0), &ref), ==, 0);
	check_int(health_with(doc_root(bound, 0), doc_root(wffc, 0), NULL, &msg), ==,
		  HEALTH_CURRENT);
	other = load("{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':"
		     "'data'},'spec':{},'status':{'phase':'Pending'}}");
	check_int(health_dependency(doc_root(other, 0), &ref), ==, 0);
	check_int(health_with(doc_root(other, 0), doc_root(wffc, 0), NULL, &msg), ==,
		  HEALTH_IN_PROGRESS);
	doc_free(other);
	doc_free(bound);
	doc_free(picked);
	doc_free(immediate);
	doc_free(wffc);
	doc_free(pvc);
	buf_free(&msg);
}

static void test_helmchart_generation(void)
{
	struct buf msg = BUF_INIT(4096);
	struct doc *chart, *old, *fresh_suspended, *fresh_done, *failed;

	chart = load("{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':{'name':"
		     "'web','namespace':'kube-system','generation':2},'status':{'jobName':"
		     "'helm-install-web'}}");
	old = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'helm-install-web',"
		   "'namespace':'kube-system','uid':'u-old'},'status':{'succeeded':1,"
		   "'conditions':[{'type':'Complete','status':'True'}]}}");
	fresh_suspended = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':"
			       "'helm-install-web','uid':'u-new'},'spec':{'suspend':true},"
			       "'status':{'conditions':[{'type':'Suspended','status':'True'}]}}");
	fresh_done = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':"
			  "'helm-install-web','uid':'u-new'},'spec':{'suspend':false},"
			  "'status':{'succeeded':1,'conditions':[{'type':'Complete','status':'True'}]}}");
	failed = load("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':"
		      "'helm-install-web','uid':'u-new'},'status':{'conditions':[{'type':"
		      "'Failed','status':'True','reason':'BackoffLimitExceeded'}]}}");
	/* the previous generation's Job, still Complete: not the chart's verdict */
	check_int(health_with(doc_root(chart, 0), doc_root(old, 0), "u-old", &msg), ==,
		  HEALTH_IN_PROGRESS);
	check(strstr(msg.data, "HelmChart kube-system/web: install Job helm-install-web is "
		     "the previous generation's") != NULL);
	/* without a stale uid (the chart did not change) it decides */
	check_int(health_with(doc_root(chart, 0), doc_root(old, 0), NULL, &msg), ==,
		  HEALTH_CURRENT);
	check_str(msg.data, "HelmChart kube-system/web: install Job helm-install-web: "
		  "Complete: 1 succeeded");
	/* the new Job, created suspended: a suspended Job is Current, an install not */
	check_int(health_with(doc_root(chart, 0), doc_root(fresh_suspended, 0), "u-old", &msg),
		  ==, HEALTH_IN_PROGRESS);
	check(strstr(msg.data, "suspended") != NULL);
	check_int(health_with(doc_root(chart, 0), doc_root(fresh_done, 0), "u-old", &msg), ==,
		  HEALTH_CURRENT);
	check_int(health_with(doc_root(chart, 0), doc_root(failed, 0), "u-old", &msg), ==,
		  HEALTH_FAILED);
	/* a chart still saying Failed from its previous generation (rollback) */
	doc_free(chart);
	chart = load("{'apiVersion':'helm.cattle.io/v1','kind':'HelmChart','metadata':{'name':"
		     "'web','namespace':'kube-system','generation':3},'status':{'jobName':"
		     "'helm-install-web','conditions':[{'type':'Failed','status':'True',"
		     "'reason':'Job failed'}]}}");
	check_int(health_of(doc_root(chart, 0), &msg), ==, HEALTH_FAILED);
	check_int(health_with(doc_root(chart, 0), doc_root(failed, 0), NULL, &msg), ==,
		  HEALTH_FAILED);
	check_int(health_with(doc_root(chart, 0), doc_root(failed, 0), "u-new", &msg), ==,
		  HEALTH_IN_PROGRESS);
	check_int(health_with(doc_root(chart, 0), doc_root(old, 0), "u-new", &msg), ==,
		  HEALTH_CURRENT);
	/* no Job (404) yet */
	check_int(health_with(doc_root(chart, 0), NULL, "u-old", &msg), ==, HEALTH_IN_PROGRESS);
	check(strstr(msg.data, "waiting for its install Job helm-install-web") != NULL);
	doc_free(failed);
	doc_free(fresh_done);
	doc_free(fresh_suspended);
	doc_free(old);
	doc_free(chart);
	buf_free(&msg);
}

/* --- combine and names ----------------------------------------------------- */

static void test_combine(void)
{
	static const enum health all_current[] = { HEALTH_CURRENT, HEALTH_CURRENT };
	static const enum health one_failed[] = {
		HEALTH_CURRENT, HEALTH_IN_PROGRESS, HEALTH_UNKNOWN, HEALTH_FAILED,
		HEALTH_TERMINATING, HEALTH_FAILED,
	};
	static const enum health waiting[] = {
		HEALTH_CURRENT, HEALTH_UNKNOWN, HEALTH_TERMINATING, HEALTH_IN_PROGRESS,
		HEALTH_IN_PROGRESS,
	};
	static const enum health terminating[] = {
		HEALTH_UNKNOWN, HEALTH_CURRENT, HEALTH_TERMINATING,
	};
	static const enum health unknown[] = { HEALTH_CURRENT, HEALTH_UNKNOWN };
	size_t which = 99;

	check_int(health_combine(NULL, 0, &which), ==, HEALTH_CURRENT);
	check_int(which, ==, 0);
	check_int(health_combine(all_current, 2, &which), ==, HEALTH_CURRENT);
	check_int(which, ==, 0);
	/* any Failed wins; which names the first failed one */
	check_int(health_combine(one_failed, 6, &which), ==, HEALTH_FAILED);
	check_int(which, ==, 3);
	check_int(health_combine(waiting, 5, &which), ==, HEALTH_IN_PROGRESS);
	check_int(which, ==, 3);
	check_int(health_combine(terminating, 3, &which), ==, HEALTH_TERMINATING);
	check_int(which, ==, 2);
	/* Unknown only when the rest is Current: the caller never fails for it */
	check_int(health_combine(unknown, 2, &which), ==, HEALTH_UNKNOWN);
	check_int(which, ==, 1);
	check_int(health_combine(unknown, 2, NULL), ==, HEALTH_UNKNOWN);
}

static void test_names(void)
{
	check_str(health_name(HEALTH_CURRENT), "Current");
	check_str(health_name(HEALTH_IN_PROGRESS), "InProgress");
	check_str(health_name(HEALTH_FAILED), "Failed");
	check_str(health_name(HEALTH_TERMINATING), "Terminating");
	check_str(health_name(HEALTH_UNKNOWN), "Unknown");
}

int main(void)
{
	test_rows();
	test_not_objects();
	test_message_clean();
	test_message_cut_utf8();
	test_message_best_effort();
	test_dependency();
	test_pvc_class();
	test_helmchart_generation();
	test_combine();
	test_names();
	return tap_done();
}
