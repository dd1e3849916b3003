"""Simulated controllers: workloads progress, become ready or fail on cue.

The outcome for an object comes from its annotation BEHAVIOR (see
../README.md); the default is to become ready after Knobs.ready_ms.
Controllers write status; besides, as their real counterparts do, the TTL
controller deletes finished Jobs (ttlSecondsAfterFinished), the volume
binder annotates a WaitForFirstConsumer claim with its node, and the k3s
helm-controller suspends, replaces and resumes HelmChart install Jobs.
"""

import collections
import hashlib
import threading
import time
from dataclasses import dataclass, field

from . import errors
from .catalog import types_from_crd
from .store import WriteOptions, now

BEHAVIOR = "kubesim.outpost.dev/behavior"
AFTER_MS = "kubesim.outpost.dev/after-ms"
MANAGER = "k3s"
HELM_MANAGER = "helm-controller"
TTL_MANAGER = "ttl-after-finished-controller"
SCHEDULER = "kube-scheduler"
CHART_GENERATION = "kubesim.outpost.dev/chart-generation"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
NODE_NAME = "kubesim"
# kinds whose pod template may mount a claim (kubesim runs no pods for them)
TEMPLATE_OWNERS = (("apps", "deployments"), ("apps", "statefulsets"),
                   ("apps", "daemonsets"), ("apps", "replicasets"),
                   ("batch", "jobs"))

# resource -> restart the simulation when metadata.generation changes?
CONTROLLED = {
    ("apps", "deployments"): True,
    ("apps", "statefulsets"): True,
    ("apps", "daemonsets"): True,
    ("apps", "replicasets"): True,
    ("batch", "jobs"): True,        # spec.suspend toggles
    ("", "pods"): False,
    ("", "persistentvolumeclaims"): False,
    ("helm.cattle.io", "helmcharts"): True,
    ("apiextensions.k8s.io", "customresourcedefinitions"): True,
}


@dataclass
class Track:
    """One object being driven towards its outcome."""
    uid: str
    generation: int
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=now)
    old_status: dict = field(default_factory=dict)
    since: float = 0.0      # PVC: when a consumer appeared; chart: replacing

    def elapsed_ms(self):
        return (time.monotonic() - self.started) * 1000


@dataclass
class Behavior:
    name: str       # ready, never-ready, progress-deadline, job-fail, stuck,
    after_ms: int   # crashloop; after_ms: when the outcome happens

    @property
    def converges(self):
        return self.name == "ready"


def behavior_of(obj, ready_ms):
    annotations = obj["metadata"].get("annotations") or {}
    text = annotations.get(BEHAVIOR, "").strip()
    after = annotations.get(AFTER_MS, "")
    after_ms = int(after) if after.isdigit() else int(ready_ms)
    if not text or text == "ready":
        return Behavior("ready", after_ms)
    if text.startswith("ready-after="):
        value = text.partition("=")[2].strip().removesuffix("ms")
        return Behavior("ready", int(value) if value.isdigit() else after_ms)
    if text == "progress-deadline" and not after.isdigit():
        seconds = (obj.get("spec") or {}).get("progressDeadlineSeconds", 600)
        after_ms = int(seconds) * 1000
    return Behavior(text, after_ms)


def set_condition(old, ctype, status, reason, message, with_update=False):
    """A condition, keeping lastTransitionTime while status is unchanged."""
    previous = next((c for c in old if c.get("type") == ctype), {})
    stamp = now()
    cond = {"type": ctype, "status": status, "reason": reason,
            "message": message}
    if previous.get("status") == status:
        cond["lastTransitionTime"] = previous.get("lastTransitionTime", stamp)
    else:
        cond["lastTransitionTime"] = stamp
    if with_update:
        same = all(previous.get(k) == cond[k]
                   for k in ("status", "reason", "message"))
        cond["lastUpdateTime"] = previous.get("lastUpdateTime", stamp) \
            if same else stamp
    return cond


def revision(obj):
    digest = hashlib.sha256(
        f"{obj['metadata']['name']}/{obj['metadata'].get('generation')}"
        .encode()).hexdigest()
    return digest[:10]


class Controllers:
    """Background thread driving controlled objects, fed by store events."""

    def __init__(self, store, knobs, tick=0.02):
        self.store = store
        self.knobs = knobs
        self.tick = tick
        self.queue = collections.deque()
        self.tracked = {}
        self.expiry = {}        # finished Job key -> (uid, monotonic deadline)
        self.serving = {}       # CRD name -> (uid, monotonic time to serve)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="controllers",
                                       daemon=True)
        store.listeners.append(self._on_event)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()

    def _on_event(self, event):
        """Store listener (runs under the store lock): queue work only."""
        restart = CONTROLLED.get(event.resource)
        if restart is None:
            return
        meta = event.obj["metadata"]
        key = (event.resource, meta.get("namespace", ""), meta["name"])
        if event.type == "DELETED":
            self.queue.append((key, None))
            return
        before = (event.prev or {}).get("metadata", {})
        if event.type == "ADDED" or (restart and (
                before.get("generation") != meta.get("generation")
                or (before.get("annotations") or {}).get(BEHAVIOR)
                != (meta.get("annotations") or {}).get(BEHAVIOR))):
            self.queue.append((key, Track(meta["uid"], meta.get("generation"),
                                          old_status=event.obj.get("status")
                                          or {})))

    def _run(self):
        while not self.stopping.wait(self.tick):
            while self.queue:
                key, track = self.queue.popleft()
                if track is None:
                    self.tracked.pop(key, None)
                else:
                    self.tracked[key] = track
            for key, track in list(self.tracked.items()):
                try:
                    done = self._step(key, track)
                except Exception as exc:  # keep the loop alive; tests see it
                    print(f"kubesim: controller error on {key}: {exc!r}",
                          flush=True)
                    done = True
                if done:
                    self.tracked.pop(key, None)
            self._expire()
            self._serve()

    def reset(self):
        self.queue.clear()
        self.tracked = {}
        self.expiry = {}
        self.serving = {}

    def _expire(self):
        """The TTL-after-finished controller: a finished Job is deleted
        ttlSecondsAfterFinished after it finished (foreground, as k8s's
        pkg/controller/ttlafterfinished does, with a uid precondition)."""
        clock = time.monotonic()
        for key, (uid, deadline) in list(self.expiry.items()):
            if clock < deadline:
                continue
            del self.expiry[key]
            resource, namespace, name = key
            rtype = self.store.catalog.lookup(resource[0], "v1", resource[1])
            try:
                self.store.delete(rtype, namespace, name, {
                    "propagationPolicy": "Foreground",
                    "preconditions": {"uid": uid}})
            except errors.ApiError:
                pass        # gone already, or replaced by a new Job

    def _finished(self, key, obj, status):
        """Schedule the TTL deletion of a Job that just finished."""
        ttl = (obj.get("spec") or {}).get("ttlSecondsAfterFinished")
        if key[0] != ("batch", "jobs") or not isinstance(ttl, int) or \
                isinstance(ttl, bool) or ttl < 0 or key in self.expiry:
            return
        finished = any(c.get("type") in ("Complete", "Failed")
                       and c.get("status") == "True"
                       for c in status.get("conditions") or [])
        if finished:
            self.expiry[key] = (obj["metadata"]["uid"],
                                time.monotonic() + ttl)

    def _step(self, key, track):
        """Advance one object; True when it needs no more attention."""
        resource, namespace, name = key
        obj = self.store.find(resource, namespace, name)
        if obj is None or obj["metadata"].get("uid") != track.uid:
            return True
        group, _, version = obj["apiVersion"].rpartition("/")
        rtype = self.store.catalog.lookup(group, version, resource[1])
        if rtype is None:
            return True
        if resource[1] == "customresourcedefinitions":
            return self._crd(obj, track)
        behavior = behavior_of(obj, self.knobs.ready_ms)
        handler = getattr(self, "_" + rtype.kind.lower())
        status, done = handler(obj, track, behavior)
        self.store.set_status(rtype, namespace, name, track.uid, status,
                              MANAGER)
        self._finished(key, obj, status)
        return done

    # Per-kind status ---------------------------------------------------------

    @staticmethod
    def _outcome(track, behavior):
        """(reached, done): whether the scripted outcome time has passed,
        and whether the object will not change again."""
        reached = track.elapsed_ms() >= behavior.after_ms
        if behavior.name in ("ready", "progress-deadline", "job-fail",
                             "crashloop"):
            return reached, reached
        return False, True

    def _deployment(self, obj, track, behavior):
        spec = obj.get("spec") or {}
        replicas = spec.get("replicas", 1)
        old = obj.get("status") or {}
        conditions = old.get("conditions") or []
        rs_name = f"{obj['metadata']['name']}-{revision(obj)}"
        reached, done = self._outcome(track, behavior)
        status = {"observedGeneration": obj["metadata"].get("generation", 1),
                  "replicas": replicas}
        if (reached and behavior.converges) or replicas == 0:
            status.update(updatedReplicas=replicas, readyReplicas=replicas,
                          availableReplicas=replicas)
            available = set_condition(
                conditions, "Available", "True", "MinimumReplicasAvailable",
                "Deployment has minimum availability.", True)
            progressing = set_condition(
                conditions, "Progressing", "True", "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.', True)
            done = True
        else:
            serving = track.old_status.get("availableReplicas", 0)
            status.update(updatedReplicas=0, readyReplicas=serving,
                          availableReplicas=serving,
                          unavailableReplicas=max(replicas - serving, 0))
            if serving:
                available = set_condition(
                    conditions, "Available", "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.", True)
            else:
                available = set_condition(
                    conditions, "Available", "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.", True)
            if reached and behavior.name == "progress-deadline":
                progressing = set_condition(
                    conditions, "Progressing", "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.', True)
            else:
                progressing = set_condition(
                    conditions, "Progressing", "True", "ReplicaSetUpdated",
                    f'ReplicaSet "{rs_name}" is progressing.', True)
        status["conditions"] = [available, progressing]
        return status, done

    def _statefulset(self, obj, track, behavior):
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        update = f"{obj['metadata']['name']}-{revision(obj)}"
        current = track.old_status.get("currentRevision") or update
        reached, done = self._outcome(track, behavior)
        status = {"observedGeneration": obj["metadata"].get("generation", 1),
                  "replicas": replicas, "collisionCount": 0}
        if (reached and behavior.converges) or replicas == 0:
            status.update(readyReplicas=replicas, currentReplicas=replicas,
                          updatedReplicas=replicas, availableReplicas=replicas,
                          currentRevision=update, updateRevision=update)
            done = True
        else:
            old_ready = track.old_status.get("readyReplicas", 0)
            status.update(readyReplicas=old_ready, currentReplicas=replicas,
                          updatedReplicas=0, availableReplicas=old_ready,
                          currentRevision=current, updateRevision=update)
        return status, done

    def _daemonset(self, obj, track, behavior):
        reached, done = self._outcome(track, behavior)
        ok = 1 if reached and behavior.converges else 0
        status = {"observedGeneration": obj["metadata"].get("generation", 1),
                  "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                  "numberMisscheduled": 0, "numberReady": ok,
                  "updatedNumberScheduled": ok, "numberAvailable": ok}
        if not ok:
            status["numberUnavailable"] = 1
        return status, done or bool(ok)

    def _replicaset(self, obj, track, behavior):
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        reached, done = self._outcome(track, behavior)
        ready = replicas if reached and behavior.converges else 0
        status = {"observedGeneration": obj["metadata"].get("generation", 1),
                  "replicas": replicas, "fullyLabeledReplicas": replicas}
        if ready:
            status.update(readyReplicas=ready, availableReplicas=ready)
        return status, done

    def _job(self, obj, track, behavior):
        spec = obj.get("spec") or {}
        old = obj.get("status") or {}
        old_conditions = old.get("conditions") or []
        if any(c.get("type") in ("Complete", "Failed")
               and c.get("status") == "True" for c in old_conditions):
            return old, True        # finished Jobs stay as they are
        if spec.get("suspend") is True:
            # the job controller: no pods, a Suspended condition, no
            # startTime; nothing more until spec.suspend changes
            return {"conditions": [set_condition(
                old_conditions, "Suspended", "True", "JobSuspended",
                "Job suspended")]}, True
        kept = []
        if any(c.get("type") == "Suspended" for c in old_conditions):
            kept = [set_condition(old_conditions, "Suspended", "False",
                                  "JobResumed", "Job resumed")]
        reached, done = self._outcome(track, behavior)
        status = {"startTime": track.started_at}
        if reached and behavior.converges:
            status.update(succeeded=spec.get("completions", 1),
                          completionTime=now(), ready=0, conditions=kept + [
                              set_condition([], "SuccessCriteriaMet", "True",
                                            "CompletionsReached",
                                            "Reached expected number of "
                                            "succeeded pods"),
                              set_condition([], "Complete", "True",
                                            "CompletionsReached",
                                            "Reached expected number of "
                                            "succeeded pods")])
        elif reached and behavior.name in ("job-fail", "crashloop"):
            message = "Job has reached the specified backoff limit"
            status.update(failed=spec.get("backoffLimit", 6) + 1, ready=0,
                          conditions=kept + [
                              set_condition([], "FailureTarget", "True",
                                            "BackoffLimitExceeded", message),
                              set_condition([], "Failed", "True",
                                            "BackoffLimitExceeded", message)])
        else:
            status.update(active=1, ready=0)
            if kept:
                status["conditions"] = kept
        return status, done

    def _pod(self, obj, track, behavior):
        containers = (obj.get("spec") or {}).get("containers") or []
        reached, done = self._outcome(track, behavior)
        started = track.started_at
        name = obj["metadata"]["name"]
        if reached and behavior.converges:
            phase, ready = "Running", True
            state = {"running": {"startedAt": started}}
        elif reached and behavior.name == "crashloop":
            phase, ready = "Running", False
            state = {"waiting": {"reason": "CrashLoopBackOff",
                                 "message": "back-off 10s restarting failed "
                                            f"container pod={name}"}}
        elif reached and behavior.name == "job-fail":
            phase, ready = "Failed", False
            state = {"terminated": {"exitCode": 1, "reason": "Error"}}
        else:
            phase, ready = "Pending", False
            state = {"waiting": {"reason": "ContainerCreating"}}
        flag = "True" if ready else "False"
        status = {
            "phase": phase, "hostIP": "10.0.0.2", "podIP": "10.42.0.10",
            "startTime": started, "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodScheduled", "status": "True",
                 "lastTransitionTime": started},
                {"type": "Ready", "status": flag,
                 "lastTransitionTime": started},
                {"type": "ContainersReady", "status": flag,
                 "lastTransitionTime": started}],
            "containerStatuses": [
                {"name": c.get("name", ""), "image": c.get("image", ""),
                 "ready": ready, "started": ready,
                 "restartCount": 3 if "CrashLoopBackOff" in str(state) else 0,
                 "state": state} for c in containers]}
        return status, done

    def _persistentvolumeclaim(self, obj, track, behavior):
        """Immediate binding (or no class): Bound after the behaviour's
        delay. A class with volumeBindingMode WaitForFirstConsumer (k3s's
        local-path): Pending until something that runs pods mounts the
        claim; then the scheduler annotates it with the node and the
        provisioner binds it after the delay."""
        spec = obj.get("spec") or {}
        meta = obj["metadata"]
        class_name = spec.get("storageClassName")
        if class_name:
            sc_type = self.store.catalog.lookup("storage.k8s.io", "v1",
                                                "storageclasses")
            sc = self.store.find(sc_type.resource, "", class_name)
            if sc is None:
                return {"phase": "Pending"}, False  # until the class exists
            if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                if not track.since:
                    if not self._consumed(meta["namespace"], meta["name"]):
                        return {"phase": "Pending"}, False
                    track.since = time.monotonic()
                    self._select_node(obj)
                waited = (time.monotonic() - track.since) * 1000
                if not (behavior.converges and waited >= behavior.after_ms):
                    return {"phase": "Pending"}, not behavior.converges
                return self._bound(spec), True
        reached, done = self._outcome(track, behavior)
        if not (reached and behavior.converges):
            return {"phase": "Pending"}, done
        return self._bound(spec), True

    @staticmethod
    def _bound(spec):
        storage = ((spec.get("resources") or {}).get("requests") or {}) \
            .get("storage", "1Gi")
        return {"phase": "Bound",
                "accessModes": spec.get("accessModes", ["ReadWriteOnce"]),
                "capacity": {"storage": storage}}

    def _consumed(self, namespace, claim):
        """A Pod, or a pod template of a workload (kubesim runs no pods for
        those), in the namespace mounts the claim."""
        def mounts(pod_spec):
            return any(((v or {}).get("persistentVolumeClaim") or {})
                       .get("claimName") == claim
                       for v in (pod_spec or {}).get("volumes") or [])
        with self.store.cond:
            for (ns, _name), pod in self.store.objects.get(
                    ("", "pods"), {}).items():
                if ns == namespace and mounts(pod.get("spec")):
                    return True
            for resource in TEMPLATE_OWNERS:
                for (ns, _name), owner in self.store.objects.get(
                        resource, {}).items():
                    template = ((owner.get("spec") or {}).get("template")
                                or {})
                    if ns == namespace and mounts(template.get("spec")):
                        return True
        return False

    def _select_node(self, pvc):
        meta = pvc["metadata"]
        rtype = self.store.catalog.lookup("", "v1", "persistentvolumeclaims")
        try:
            self.store.patch(rtype, meta["namespace"], meta["name"], "merge",
                             {"metadata": {"annotations": {
                                 SELECTED_NODE: NODE_NAME}}},
                             WriteOptions(manager=SCHEDULER))
        except errors.ApiError:
            pass

    def _helmchart(self, obj, track, _behavior):
        """Run the chart's install Job; the chart annotations are copied to
        the Job, so `job-fail` on a HelmChart makes its install fail.

        As k3s-io/helm-controller (pkg/controllers/chart/chart.go) does: the
        Job `helm-install-<chart>` is created suspended; once the job
        controller marked it Suspended, it is resumed. On a change of the
        chart (its generation), the current Job is suspended, and after
        Knobs.helm_job_delay_ms (the real one waits for the job controller
        to sync and the pods to stop) deleted and created anew, under the
        same name — until then the previous Job, Complete, is what a
        client finds there."""
        meta = obj["metadata"]
        namespace = meta["namespace"]
        job_name = f"helm-install-{meta['name']}"
        job_type = self.store.catalog.lookup("batch", "v1", "jobs")
        job = self.store.find(job_type.resource, namespace, job_name)
        stamp = str(meta.get("generation"))
        conditions = (obj.get("status") or {}).get("conditions") or []
        found = [set_condition(conditions, "JobCreated", "True", "Job created",
                               f"Applying HelmChart using Job "
                               f"{namespace}/{job_name}")]
        status = {"jobName": job_name, "conditions": found}
        if job is not None and (job["metadata"].get("annotations") or {}) \
                .get(CHART_GENERATION) != stamp:
            if not track.since:
                track.since = time.monotonic()
                self._suspend(job, True)
            if (time.monotonic() - track.since) * 1000 < \
                    self.knobs.helm_job_delay_ms:
                return dict(obj.get("status") or status), False
            self.store.delete(job_type, namespace, job_name,
                              {"propagationPolicy": "Background"})
            job = None
        if job is None:
            job = self.store.create(job_type, namespace,
                                    self._install_job(obj, job_name, stamp),
                                    WriteOptions(manager=HELM_MANAGER))
            return status, False
        job_status = job.get("status") or {}
        job_conditions = {c["type"]: c["status"] for c in
                          job_status.get("conditions") or []}
        if (job.get("spec") or {}).get("suspend") is True and \
                job["metadata"].get("generation") == 1 and \
                job_conditions.get("Suspended") == "True":
            self._suspend(job, False)       # synced: resume it
            return status, False
        if job_conditions.get("Failed") == "True":
            found.append(set_condition(conditions, "Failed", "True",
                                       "Job failed", "Job failed"))
        done = "True" in (job_conditions.get("Failed"),
                          job_conditions.get("Complete"))
        return status, done

    def _suspend(self, job, suspend):
        meta = job["metadata"]
        rtype = self.store.catalog.lookup("batch", "v1", "jobs")
        try:
            self.store.patch(rtype, meta["namespace"], meta["name"], "merge",
                             {"spec": {"suspend": suspend}},
                             WriteOptions(manager=HELM_MANAGER))
        except errors.ApiError:
            pass

    @staticmethod
    def _install_job(chart, job_name, stamp):
        meta = chart["metadata"]
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                       if k in (BEHAVIOR, AFTER_MS)}
        annotations[CHART_GENERATION] = stamp
        labels = {"helmcharts.helm.cattle.io/chart": meta["name"]}
        return {
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {
                "name": job_name, "labels": labels, "annotations": annotations,
                "ownerReferences": [{
                    "apiVersion": chart["apiVersion"], "kind": "HelmChart",
                    "name": meta["name"], "uid": meta["uid"],
                    "controller": True, "blockOwnerDeletion": True}]},
            "spec": {
                "suspend": True,
                "backoffLimit": (chart.get("spec") or {}).get(
                    "backOffLimit", 1000),
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"restartPolicy": "OnFailure",
                             "serviceAccountName": f"helm-{meta['name']}",
                             "containers": [{
                                 "name": "helm", "args": ["install"],
                                 "image": "rancher/klipper-helm:v0.9.3"}]}}}}

    def _crd(self, obj, track):
        if track.elapsed_ms() < self.knobs.crd_delay_ms:
            return False
        self.establish(obj, serve=self.knobs.crd_discovery_delay_ms <= 0)
        return True

    def _serve(self):
        """Serve the kinds of CRDs Established crd_discovery_delay_ms ago:
        until then a request for them is 404 and discovery lacks them, as
        on a real server (observed-1.32/cr_immediately_after_crd.json)."""
        clock = time.monotonic()
        for name, (uid, at) in list(self.serving.items()):
            if clock < at:
                continue
            del self.serving[name]
            with self.store.cond:
                current = self.store.find(("apiextensions.k8s.io",
                                           "customresourcedefinitions"), "",
                                          name)
                if current is not None and current["metadata"]["uid"] == uid:
                    self.store.catalog.set_crd_types(name,
                                                     types_from_crd(current))

    def establish(self, crd, serve=True):
        """Mark the CRD Established; make its resources servable now
        (serve) or after Knobs.crd_discovery_delay_ms."""
        store = self.store
        meta = crd["metadata"]
        never = behavior_of(crd, 0).name in ("never-ready", "stuck")
        with store.cond:
            current = store.find(("apiextensions.k8s.io",
                                  "customresourcedefinitions"), "",
                                 meta["name"])
            if current is None or current["metadata"]["uid"] != meta["uid"]:
                return
            if not never and serve:
                store.catalog.set_crd_types(meta["name"],
                                            types_from_crd(current))
            elif not never:
                self.serving[meta["name"]] = (
                    meta["uid"], time.monotonic()
                    + self.knobs.crd_discovery_delay_ms / 1000)
            spec = current.get("spec") or {}
            conditions = (current.get("status") or {}).get("conditions") or []
            found = [set_condition(conditions, "NamesAccepted", "True",
                                   "NoConflicts", "no conflicts found")]
            if not never:
                found.append(set_condition(
                    conditions, "Established", "True", "InitialNamesAccepted",
                    "the initial names have been accepted"))
            stored = [v["name"] for v in spec.get("versions") or []
                      if v.get("storage")]
            status = {"conditions": found,
                      "acceptedNames": spec.get("names") or {},
                      "storedVersions": stored}
            rtype = store.catalog.lookup("apiextensions.k8s.io", "v1",
                                         "customresourcedefinitions")
            store.set_status(rtype, "", meta["name"], meta["uid"], status,
                             MANAGER)
