"""In-memory object store: create/replace/patch/apply/delete, field
ownership, generations, a global resourceVersion and a bounded watch history.

Stored objects are never mutated after they are committed: every write builds
a new dict. Callers may therefore serialize what they get without the lock.
"""

import base64
import json
import random
import re
import string
import threading
import time
import uuid
from collections import namedtuple
from dataclasses import dataclass, field

from . import errors, fields, typed
from .fields import PathSet
from .typed import MISSING, get_path

Event = namedtuple("Event", "rv resource type obj prev")

NAMESPACES = ("", "namespaces")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")

_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Namespaces the lifecycle admission plugin refuses to delete
# (apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go,
# Register: default, kube-system, kube-public). kube-node-lease is not
# among them: a real server deletes it (and re-creates it later).
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
# A custom resource without a (structural) schema: anything goes.
OPEN = typed.T("struct", fields={"metadata": typed.named("V1ObjectMeta")},
               elem=typed.ANY)


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class WriteOptions:
    manager: str = ""
    dry_run: bool = False
    force: bool = False
    # fieldValidation of a create/update: Strict, Warn, Ignore; "" for the
    # simulator's own writes (not checked)
    validation: str = ""
    warnings: list = field(default_factory=list)


def _spec_part(obj):
    return {k: v for k, v in obj.items()
            if k not in ("apiVersion", "kind", "metadata", "status")}


def _key(obj):
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


def _owner_uids(obj):
    refs = (obj or {}).get("metadata", {}).get("ownerReferences") or []
    return {ref.get("uid") for ref in refs if ref.get("uid")}


class Store:
    def __init__(self, catalog, history_size=10000):
        self.catalog = catalog
        self.history_size = max(history_size, 16)
        self.cond = threading.Condition()
        self.listeners = []     # called under the lock with each Event
        self.epoch = 0
        self._clear()

    def _clear(self):
        self.rv = 0
        self.objects = {}       # (group, plural) -> {(namespace, name): obj}
        self.dependents = {}    # owner uid -> {(resource, key)}
        self.history = []       # Events; history[i].rv == history_base + i
        self.history_base = 1
        self.next_ip = 1
        self.roots = {}         # (crd uid, rv, version) -> typed root
        self.epoch += 1         # ends running watches

    def reset(self):
        with self.cond:
            self._clear()
            self.catalog.reset()
            self.cond.notify_all()

    def count(self):
        with self.cond:
            return sum(len(bucket) for bucket in self.objects.values())

    # Reads -----------------------------------------------------------------

    def find(self, resource, namespace, name):
        with self.cond:
            return self.objects.get(resource, {}).get((namespace, name))

    def get(self, rtype, namespace, name):
        obj = self.find(rtype.resource, namespace, name)
        if obj is None:
            raise errors.not_found(rtype, name)
        return obj

    def list(self, rtype, namespace, match, limit=0, token=""):
        start, list_rv = self._decode_continue(token)
        with self.cond:
            if list_rv and list_rv < self.history_base - 1:
                raise errors.gone("The provided continue parameter is too "
                                  "old to display a consistent list result.")
            bucket = self.objects.get(rtype.resource, {})
            keys = sorted(key for key in bucket
                          if (namespace is None or key[0] == namespace)
                          and (start is None or key > start))
            items, more = [], False
            for key in keys:
                obj = bucket[key]
                if match(obj):
                    if limit and len(items) == limit:
                        more = True
                        break
                    items.append(obj)
            list_rv = list_rv or self.rv
        meta = {"resourceVersion": str(list_rv)}
        if more:
            meta["continue"] = self._encode_continue(_key(items[-1]), list_rv)
        return {"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List",
                "metadata": meta, "items": items}

    @staticmethod
    def _encode_continue(key, list_rv):
        raw = json.dumps({"key": list(key), "rv": list_rv}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @staticmethod
    def _decode_continue(token):
        if not token:
            return None, 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            return tuple(data["key"]), int(data["rv"])
        except (ValueError, KeyError, TypeError):
            raise errors.bad_request(
                "invalid continue token: continue key is not valid: "
                "it does not decode") from None

    # Writes ----------------------------------------------------------------

    def create(self, rtype, namespace, body, opts):
        self._check_body(rtype, namespace, None, body)
        obj = fields.clone(body)
        self._field_validation(rtype, obj, opts)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(random.choices(string.ascii_lowercase
                                            + string.digits, k=5))
            meta["name"] = meta["generateName"] + suffix
        name = meta.get("name", "")
        self._check_name(rtype, name)
        for key in ("managedFields", "resourceVersion", "uid"):
            meta.pop(key, None)
        if rtype.has_status:
            obj.pop("status", None)
        with self.cond:
            self._require_namespace(rtype, namespace)
            if self.objects.get(rtype.resource, {}).get((namespace, name)):
                raise errors.already_exists(rtype, name)
            self._admit_create(rtype, namespace, name)
            self._own_update(rtype, obj, None, opts.manager, False)
            return self._write(rtype, namespace, name, None, obj,
                               opts.dry_run)[0]

    def replace(self, rtype, namespace, name, body, opts, subresource=""):
        self._check_body(rtype, namespace, name, body)
        new = fields.clone(body)
        self._field_validation(rtype, new, opts)
        with self.cond:
            prev = self._existing(rtype, namespace, name)
            wanted = new.get("metadata", {}).get("resourceVersion")
            if wanted and wanted != prev["metadata"]["resourceVersion"]:
                raise errors.modified(rtype, name)
            new.setdefault("metadata", {})["managedFields"] = \
                prev["metadata"].get("managedFields", [])
            return self._update(rtype, namespace, name, prev, new, opts,
                                subresource)

    def patch(self, rtype, namespace, name, patch_type, body, opts,
              subresource=""):
        with self.cond:
            prev = self._existing(rtype, namespace, name)
            try:
                if patch_type == "json":
                    if not isinstance(body, list):
                        raise ValueError("a JSON patch must be a list")
                    new = fields.json_patch(prev, body)
                else:
                    if not isinstance(body, dict):
                        raise ValueError("a merge patch must be an object")
                    new = fields.merge(prev, body)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise errors.ApiError(422, "Invalid",
                                      f"the patch could not be applied: {exc}")
            return self._update(rtype, namespace, name, prev, new, opts,
                                subresource)

    def apply(self, rtype, namespace, name, body, opts, subresource=""):
        """Server-side apply. Returns (object, created, changed)."""
        if isinstance(body, dict) and not body.get("kind"):
            # the apply patcher checks the patch's GroupVersionKind
            group, _, version = str(body.get("apiVersion", "")).rpartition(
                "/")
            raise errors.bad_request(
                f"invalid object type: {group}/{version}, Kind=")
        self._check_body(rtype, namespace, name, body)
        self._check_name(rtype, name)
        status = subresource == "status"
        patch = fields.clone(body)
        meta = patch.setdefault("metadata", {})
        wanted_rv = meta.get("resourceVersion")
        for key in fields.UNTRACKED_META - {"name", "namespace"}:
            meta.pop(key, None)
        if rtype.has_status and not status:
            patch.pop("status", None)
        mine = (opts.manager, "Apply", subresource)
        with self.cond:
            root = self._root(rtype)
            # the patch becomes a typed object before anything else is
            # checked (structuredmerge.go Apply): schema errors are a 500
            problems = typed.validate(body, root)
            if problems:
                raise typed.typed_patch_error(body, problems)
            applied = _tracked(patch, root, status)
            self._require_namespace(rtype, namespace)
            prev = self.objects.get(rtype.resource, {}).get((namespace, name))
            if prev is None:
                if status:
                    raise errors.not_found(rtype, name)
                self._admit_create(rtype, namespace, name)
                new, entries = _drop_nulls(patch), {}
            else:
                if wanted_rv and \
                        wanted_rv != prev["metadata"]["resourceVersion"]:
                    raise errors.modified(rtype, name)
                new = typed.merge(prev, patch, root)
                entries = _entries(prev)
                self._resolve_conflicts(rtype, name, prev, new, entries,
                                        mine, applied, opts.force)
            entries[mine] = [rtype.api_version, "", applied]
            _set_managed(new, entries, prev)
            obj, changed = self._write(rtype, namespace, name, prev, new,
                                       opts.dry_run)
            return obj, prev is None, changed

    def delete(self, rtype, namespace, name, options, dry_run=False):
        if rtype.resource == NAMESPACES and name in IMMORTAL_NAMESPACES:
            raise errors.forbidden(rtype, name,
                                   "this namespace may not be deleted")
        with self.cond:
            prev = self._existing(rtype, namespace, name)
            pre = options.get("preconditions") or {}
            meta = prev["metadata"]
            if (pre.get("uid") and pre["uid"] != meta.get("uid")) or (
                    pre.get("resourceVersion")
                    and pre["resourceVersion"] != meta["resourceVersion"]):
                raise errors.modified(rtype, name)
            if dry_run:
                return prev
            if rtype.resource == NAMESPACES and (
                    meta.get("finalizers") or
                    (prev.get("spec") or {}).get("finalizers")):
                # registry/core/namespace/storage: with finalizers the
                # namespace goes Terminating; the namespace controller
                # empties it and then removes it
                if meta.get("deletionTimestamp"):
                    return prev
                new = fields.clone(prev)
                new["metadata"]["deletionTimestamp"] = now()
                new.setdefault("status", {})["phase"] = "Terminating"
                self._commit(rtype.resource, "MODIFIED", new, prev)
                return new
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return prev
                new = fields.clone(prev)
                new["metadata"]["deletionTimestamp"] = now()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                self._commit(rtype.resource, "MODIFIED", new, prev)
                return new
            cascade = options.get("propagationPolicy") != "Orphan" and \
                not options.get("orphanDependents")
            return self._delete_now(rtype.resource, prev, cascade)

    def delete_collection(self, rtype, namespace, match, options, dry_run):
        with self.cond:
            victims = self.list(rtype, namespace, match)["items"]
            deleted = [self.delete(rtype, *_key(obj), options, dry_run)
                       for obj in victims]
            return {"apiVersion": rtype.api_version,
                    "kind": f"{rtype.kind}List",
                    "metadata": {"resourceVersion": str(self.rv)},
                    "items": deleted}

    def sweep_namespace(self, name):
        """One pass of the namespace controller over a Terminating
        namespace: delete its content (objects with finalizers get a
        deletionTimestamp and stay), report what remains in the status
        conditions, remove the namespace once it is empty."""
        with self.cond:
            ns = self.objects.get(NAMESPACES, {}).get(("", name))
            if ns is None or not ns["metadata"].get("deletionTimestamp"):
                return
            counts, held = {}, {}
            for resource, bucket in list(self.objects.items()):
                if resource == NAMESPACES:
                    continue
                for key in sorted(k for k in bucket if k[0] == name):
                    obj = bucket.get(key)
                    if obj is None:
                        continue
                    meta = obj["metadata"]
                    if not meta.get("finalizers"):
                        self._delete_now(resource, obj, True)
                        continue
                    if not meta.get("deletionTimestamp"):
                        new = fields.clone(obj)
                        new["metadata"]["deletionTimestamp"] = now()
                        new["metadata"]["deletionGracePeriodSeconds"] = 0
                        self._commit(resource, "MODIFIED", new, obj)
                    label = f"{resource[1]}.{resource[0]}"
                    counts[label] = counts.get(label, 0) + 1
                    for finalizer in meta["finalizers"]:
                        held[finalizer] = held.get(finalizer, 0) + 1
            ns = self.objects[NAMESPACES][("", name)]
            if counts:
                self._namespace_conditions(ns, counts, held)
                return
            if ns["metadata"].get("finalizers") or \
                    (ns.get("spec") or {}).get("finalizers"):
                new = fields.clone(ns)
                new.setdefault("spec", {})["finalizers"] = []
                if new["metadata"].get("finalizers"):
                    self._commit(NAMESPACES, "MODIFIED", new, ns)
                    return
                ns = new
            self._delete_now(NAMESPACES, ns, True)

    def _namespace_conditions(self, ns, counts, held):
        def condition(ctype, status, reason, message):
            return {"type": ctype, "status": status,
                    "lastTransitionTime": now(), "reason": reason,
                    "message": message}
        wanted = [
            condition("NamespaceDeletionDiscoveryFailure", "False",
                      "ResourcesDiscovered", "All resources successfully "
                      "discovered"),
            condition("NamespaceDeletionGroupVersionParsingFailure", "False",
                      "ParsedGroupVersions", "All legacy kube types "
                      "successfully parsed"),
            condition("NamespaceDeletionContentFailure", "False",
                      "ContentDeleted", "All content successfully deleted, "
                      "may be waiting on finalization"),
            condition("NamespaceContentRemaining", "True",
                      "SomeResourcesRemain", "Some resources are remaining: "
                      + ", ".join(f"{label} has {count} resource instances"
                                  for label, count in sorted(
                                      counts.items()))),
            condition("NamespaceFinalizersRemaining", "True",
                      "SomeFinalizersRemain", "Some content in the namespace "
                      "has finalizers remaining: " + ", ".join(
                          f"{finalizer} in {count} resource instances"
                          for finalizer, count in sorted(held.items())))]
        old = (ns.get("status") or {}).get("conditions") or []
        strip = [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                 for c in old]
        if strip == [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                     for c in wanted]:
            return
        new = fields.clone(ns)
        new.setdefault("status", {})["conditions"] = wanted
        self._commit(NAMESPACES, "MODIFIED", new, ns)

    def set_status(self, rtype, namespace, name, uid, status, manager):
        """Controller status write; no-op when unchanged or the object with
        that uid is gone."""
        with self.cond:
            prev = self.objects.get(rtype.resource, {}).get((namespace, name))
            if prev is None or prev["metadata"].get("uid") != uid \
                    or prev.get("status") == status:
                return
            new = fields.clone(prev)
            new["status"] = status
            self._update(rtype, namespace, name, prev, new,
                         WriteOptions(manager=manager), "status")

    # Internals -------------------------------------------------------------

    def _existing(self, rtype, namespace, name):
        prev = self.objects.get(rtype.resource, {}).get((namespace, name))
        if prev is None:
            raise errors.not_found(rtype, name)
        return prev

    def _require_namespace(self, rtype, namespace):
        if rtype.namespaced and \
                ("", namespace) not in self.objects.get(NAMESPACES, {}):
            raise errors.namespace_not_found(namespace)

    def _admit_create(self, rtype, namespace, name):
        """The namespace lifecycle admission plugin refuses new objects in
        a namespace being terminated (updates and deletes pass)."""
        if not rtype.namespaced:
            return
        ns = self.objects.get(NAMESPACES, {}).get(("", namespace))
        if ns is not None and ns["metadata"].get("deletionTimestamp"):
            raise errors.namespace_terminating(rtype, name, namespace)

    def _field_validation(self, rtype, obj, opts):
        """Unknown fields of a create or update (POST/PUT) are dropped, as
        decoding into the server's types drops them; fieldValidation=Strict
        refuses them (400), Warn (the default) names each in a Warning
        (endpoints/handlers/rest.go, strict decoding)."""
        if not opts.validation:
            return
        with self.cond:
            root = self._root(rtype)
        unknown = typed.prune_unknown(obj, root)
        if not unknown:
            return
        listed = ", ".join(f'unknown field "{p}"' for p in unknown)
        if opts.validation == "Strict":
            raise errors.bad_request(
                f'{rtype.kind} in version "{rtype.version}" cannot be '
                f"handled as a {rtype.kind}: strict decoding error: {listed}")
        if opts.validation == "Warn":
            opts.warnings.extend(f'unknown field "{p}"' for p in unknown)

    def _root(self, rtype):
        """The typed schema of rtype: a built-in's, a custom resource's
        from its CRD (structural schema), else OPEN."""
        if not rtype.crd:
            return typed.builtin_root(rtype.group, rtype.kind) or OPEN
        crd = self.objects.get(CRDS, {}).get(("", rtype.crd))
        if crd is None:
            return OPEN
        key = (crd["metadata"]["uid"], crd["metadata"]["resourceVersion"],
               rtype.version)
        root = self.roots.get(key)
        if root is None:
            if len(self.roots) > 256:
                self.roots.clear()
            root = self.roots[key] = \
                typed.custom_root(crd, rtype.version) or OPEN
        return root

    @staticmethod
    def _check_body(rtype, namespace, name, body):
        if not isinstance(body, dict):
            raise errors.bad_request("the body must be a JSON object")
        kind = body.get("kind")
        api_version = body.get("apiVersion", "")
        group = api_version.rpartition("/")[0]
        if not kind or not api_version:
            raise errors.bad_request(
                "Object 'Kind' or 'apiVersion' is missing in the body")
        if kind != rtype.kind or group != rtype.group:
            raise errors.bad_request(
                f"the body of the request was in an unknown format or kind "
                f"{api_version}, Kind={kind} does not match {rtype.kind}")
        meta = body.get("metadata") or {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if rtype.namespaced and meta.get("namespace") and \
                meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the "
                "namespace sent on the request")
        if name is not None and meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the "
                f"name on the URL ({name})")

    @staticmethod
    def _check_name(rtype, name):
        pattern, limit = (_LABEL, 63) if rtype.resource == NAMESPACES \
            else (_SUBDOMAIN, 253)
        if not name:
            raise errors.invalid(rtype, name, [
                ("metadata.name", "Required value: name or generateName is "
                                  "required")])
        if len(name) > limit or not pattern.match(name):
            raise errors.invalid(rtype, name, [
                ("metadata.name", f'Invalid value: "{name}": a lowercase RFC '
                 "1123 name must consist of lower case alphanumeric "
                 "characters, '-' or '.'")])

    def _resolve_conflicts(self, rtype, name, prev, new, entries, mine,
                           applied, force):
        """Find fields owned by other managers that this apply changes;
        raise unless forced, then take them over. Also drop fields this
        manager applied before and nobody owns any more."""
        applied_set = PathSet(applied)
        conflicts = []
        for key, (api_version, _, owned) in entries.items():
            if key == mine:
                continue
            for path in owned:
                # only values conflict; an item of a keyed list or a set
                # is shared (smd: Modified holds leaves)
                if path and path[-1].startswith("f:") and \
                        applied_set.overlaps(path) and \
                        get_path(prev, path) != get_path(new, path):
                    conflicts.append((key, api_version, path))
        if conflicts and not force:
            raise errors.apply_conflicts(rtype, name, [
                (key[0], "" if key[1] == "Apply" else api_version,
                 typed.printed(path))
                for key, api_version, path in sorted(conflicts)])
        for key, _, path in conflicts:
            entries[key][2].discard(path)
        others = set()
        for key, (_, _, owned) in entries.items():
            if key != mine:
                others |= owned
        other_set = PathSet(others)
        before = entries.get(mine, [None, None, set()])[2]
        keep = applied_set.prefixes | other_set.prefixes
        # shortest first: an item goes before its fields (which name it)
        for path in sorted(before - applied, key=lambda p: (len(p), p)):
            if not applied_set.overlaps(path) and \
                    not other_set.overlaps(path):
                typed.delete_path(new, path, keep)

    def _own_update(self, rtype, new, prev, manager, status):
        """Record a non-apply write: `manager` takes the fields it changed."""
        subresource = "status" if status else ""
        entries = _entries(prev) if prev else {}
        root = self._root(rtype)
        paths = _tracked(new, root, status)
        if prev is None:
            changed = paths
        else:
            # leaves that changed, and list items that are new or gone
            changed = {p for p in paths
                       if get_path(prev, p) != get_path(new, p) and
                       (p[-1].startswith("f:") or
                        get_path(prev, p) is MISSING)}
            changed |= {p for p in _tracked(prev, root, status)
                        if get_path(new, p) is MISSING}
        changed_set = PathSet(changed)
        for entry in entries.values():
            entry[2] = {p for p in entry[2] if not changed_set.overlaps(p)}
        mine = entries.setdefault((manager or "unknown", "Update",
                                   subresource),
                                  [rtype.api_version, "", set()])
        mine[2] |= {p for p in changed if get_path(new, p) is not MISSING}
        _set_managed(new, entries, prev)

    def _update(self, rtype, namespace, name, prev, new, opts, subresource):
        if subresource == "status":
            status = new.get("status")
            new = fields.clone(prev)
            new["metadata"]["managedFields"] = \
                prev["metadata"].get("managedFields", [])
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif rtype.has_status:
            if "status" in prev:
                new["status"] = prev["status"]
            else:
                new.pop("status", None)
        self._own_update(rtype, new, prev, opts.manager,
                         subresource == "status")
        obj, _ = self._write(rtype, namespace, name, prev, new, opts.dry_run)
        return obj

    def _write(self, rtype, namespace, name, prev, new, dry_run):
        """Finish and store `new` (replacing `prev`); (obj, changed)."""
        meta = new.setdefault("metadata", {})
        meta["name"] = name
        if rtype.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        new["apiVersion"] = new.get("apiVersion") or rtype.api_version
        new["kind"] = rtype.kind
        self._default(rtype, new, prev)
        if prev is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if rtype.has_generation:
                meta["generation"] = 1
        else:
            for key in ("uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation",
                        "resourceVersion"):
                if key in prev["metadata"]:
                    meta[key] = prev["metadata"][key]
                else:
                    meta.pop(key, None)
            if rtype.has_generation and _spec_part(new) != _spec_part(prev):
                meta["generation"] = meta.get("generation", 0) + 1
            if new == prev:
                return prev, False
            self._check_immutable(rtype, prev, new)
        if rtype.resource == CRDS:
            self._check_crd(rtype, new)
        if dry_run:
            return new, True
        # an update that leaves an object being deleted without finalizers
        # completes its deletion; a Namespace's is gated by spec.finalizers
        # (the namespace controller removes "kubernetes" once it is empty),
        # so updating a Terminating one keeps it Terminating
        if prev is not None and meta.get("deletionTimestamp") and \
                not meta.get("finalizers") and \
                not (rtype.resource == NAMESPACES and
                     (new.get("spec") or {}).get("finalizers")):
            return self._delete_now(rtype.resource, new, True), True
        self._commit(rtype.resource, "ADDED" if prev is None else "MODIFIED",
                     new, prev)
        return new, True

    def _default(self, rtype, obj, prev):
        """The few server-side defaults clients commonly rely on."""
        kind = rtype.kind if not rtype.crd else ""
        spec = obj.get("spec")
        pod_spec = _pod_spec(kind, obj)
        if isinstance(pod_spec, dict):
            for field in ("containers", "initContainers"):
                for container in pod_spec.get(field) or []:
                    for port in (container.get("ports") or []) \
                            if isinstance(container, dict) else []:
                        if isinstance(port, dict):
                            port.setdefault("protocol", "TCP")
        if kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet") \
                and isinstance(spec, dict):
            if kind != "DaemonSet":
                spec.setdefault("replicas", 1)
            if kind == "Deployment":
                spec.setdefault("progressDeadlineSeconds", 600)
                spec.setdefault("strategy", {
                    "type": "RollingUpdate", "rollingUpdate": {
                        "maxSurge": "25%", "maxUnavailable": "25%"}})
            elif kind == "StatefulSet":
                spec.setdefault("updateStrategy", {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"partition": 0}})
            elif kind == "DaemonSet":
                spec.setdefault("updateStrategy", {
                    "type": "RollingUpdate", "rollingUpdate": {
                        "maxSurge": 0, "maxUnavailable": 1}})
        elif kind == "Job" and isinstance(spec, dict):
            spec.setdefault("completions", 1)
            spec.setdefault("parallelism", 1)
            spec.setdefault("backoffLimit", 6)
            spec.setdefault("suspend", False)
        elif kind == "PersistentVolumeClaim" and isinstance(spec, dict) \
                and prev is None and "storageClassName" not in spec:
            # the DefaultStorageClass admission plugin, on create only
            for sc in self.objects.get(("storage.k8s.io", "storageclasses"),
                                       {}).values():
                if (sc["metadata"].get("annotations") or {}).get(
                        "storageclass.kubernetes.io/is-default-class") \
                        == "true":
                    spec["storageClassName"] = sc["metadata"]["name"]
                    break
        elif kind == "Secret" and isinstance(obj.get("stringData"), dict):
            # stringData is write-only: the API server merges it into data
            # (base64, its keys over data's) and never returns it
            # (Convert_v1_Secret_To_core_Secret, pkg/apis/core/v1/conversion.go)
            data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
            for key, value in obj.pop("stringData").items():
                if isinstance(value, str):
                    data[key] = base64.b64encode(value.encode()).decode()
            obj["data"] = data
        elif kind == "Namespace":
            name = obj["metadata"]["name"]
            obj["metadata"].setdefault("labels", {})[
                "kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj.setdefault("status", {}).setdefault("phase", "Active")
        elif kind == "Service":
            spec = obj.setdefault("spec", {})
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
                    if "port" in port:
                        port.setdefault("targetPort", port["port"])
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec["type"] != "ExternalName" and "clusterIP" not in spec:
                old = get_path(prev or {}, ("spec", "clusterIP"))
                if old is MISSING:
                    high, low = divmod(self.next_ip, 250)
                    old = f"10.43.{high}.{low + 1}"
                    self.next_ip += 1
                spec["clusterIP"] = old
                spec["clusterIPs"] = [old]

    @staticmethod
    def _check_immutable(rtype, prev, new):
        """Update validation of the immutable fields clients meet most
        (pkg/apis/*/validation ValidateXUpdate): a 422 Invalid like the
        real server's (the value is rendered Go-like, not byte-exact)."""
        if rtype.crd:
            return
        kind, name = rtype.kind, new["metadata"]["name"]
        old_spec = prev.get("spec") or {}
        new_spec = new.get("spec") or {}
        causes = []
        if kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet",
                    "Job") and rtype.group in ("apps", "batch") and \
                new_spec.get("selector") != old_spec.get("selector") and \
                "selector" in old_spec:
            causes.append(("spec.selector", "Invalid value: "
                           f"{_go_selector(new_spec.get('selector'))}: "
                           "field is immutable"))
        if kind == "Job" and new_spec.get("template") != \
                old_spec.get("template"):
            causes.append(("spec.template", "Invalid value: "
                           f"{_go_value('core.PodTemplateSpec', new_spec.get('template'))}"
                           ": field is immutable"))
        if kind == "StatefulSet":
            mutable = ("replicas", "ordinals", "template", "updateStrategy",
                       "persistentVolumeClaimRetentionPolicy",
                       "minReadySeconds", "selector")
            if {k: v for k, v in old_spec.items() if k not in mutable} != \
                    {k: v for k, v in new_spec.items() if k not in mutable}:
                causes.append((
                    "spec", "Forbidden: updates to statefulset spec for "
                    "fields other than 'replicas', 'ordinals', 'template', "
                    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy'"
                    " and 'minReadySeconds' are forbidden",
                    "FieldValueForbidden"))
        if kind == "Service" and old_spec.get("clusterIP") not in \
                (None, "", "None") and \
                new_spec.get("clusterIP") != old_spec.get("clusterIP"):
            causes.append(("spec.clusterIPs[0]", "Invalid value: "
                           f"[]string{{{_go_str(new_spec.get('clusterIP'))}}}"
                           ": may not change once set"))
        if kind in ("ConfigMap", "Secret") and prev.get("immutable"):
            for key in ("data", "binaryData") if kind == "ConfigMap" \
                    else ("data",):
                if prev.get(key) != new.get(key):
                    causes.append((key, "Forbidden: field is immutable when "
                                   "`immutable` is set",
                                   "FieldValueForbidden"))
            if kind == "Secret" and prev.get("type") != new.get("type"):
                causes.append(("type", "Invalid value: "
                               f"{_go_str(new.get('type'))}: "
                               "field is immutable"))
            if not new.get("immutable"):
                causes.append(("immutable", "Forbidden: field is immutable "
                               "when `immutable` is set",
                               "FieldValueForbidden"))
        if kind in ("RoleBinding", "ClusterRoleBinding") and \
                prev.get("roleRef") != new.get("roleRef"):
            ref = new.get("roleRef") or {}
            causes.append(("roleRef", "Invalid value: rbac.RoleRef{"
                           f"APIGroup:{_go_str(ref.get('apiGroup'))}, "
                           f"Kind:{_go_str(ref.get('kind'))}, "
                           f"Name:{_go_str(ref.get('name'))}}}: "
                           "cannot change roleRef"))
        if causes:
            raise errors.invalid(rtype, name, causes)

    @staticmethod
    def _check_crd(rtype, crd):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        name = crd["metadata"]["name"]
        causes = []
        if not spec.get("group"):
            causes.append(("spec.group", "Required value"))
        if not names.get("plural") or not names.get("kind"):
            causes.append(("spec.names", "Required value: plural and kind"))
        elif name != f"{names['plural']}.{spec.get('group')}":
            causes.append(("metadata.name", f'Invalid value: "{name}": must '
                           "be spec.names.plural+\".\"+spec.group"))
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            causes.append(("spec.scope", "Unsupported value"))
        versions = spec.get("versions") or []
        if sum(1 for v in versions if v.get("storage")) != 1:
            causes.append(("spec.versions", "Invalid value: must have "
                           "exactly one version marked as storage version"))
        if causes:
            raise errors.invalid(rtype, name, causes)

    def _delete_now(self, resource, obj, cascade):
        meta = obj["metadata"]
        if resource == NAMESPACES:
            for other, bucket in list(self.objects.items()):
                for key in sorted(k for k in bucket if k[0] == meta["name"]):
                    self._delete_now(other, bucket[key], True)
        elif resource == CRDS:
            spec = obj.get("spec") or {}
            custom = (spec.get("group"),
                      (spec.get("names") or {}).get("plural"))
            for key in sorted(self.objects.get(custom, {})):
                self._delete_now(custom, self.objects[custom][key], True)
            self.catalog.set_crd_types(meta["name"], [])
        if cascade:
            for dep_resource, dep_key in sorted(
                    self.dependents.get(meta.get("uid"), ())):
                dependent = self.objects.get(dep_resource, {}).get(dep_key)
                if dependent is not None:
                    self._delete_now(dep_resource, dependent, True)
        gone = dict(obj, metadata=dict(meta))
        self._commit(resource, "DELETED", gone, obj)
        return gone

    def _commit(self, resource, event_type, obj, prev):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = _key(obj)
        bucket = self.objects.setdefault(resource, {})
        for uid in _owner_uids(prev):
            self.dependents.get(uid, set()).discard((resource, key))
        if event_type == "DELETED":
            bucket.pop(key, None)
            self.dependents.pop(obj["metadata"].get("uid"), None)
        else:
            bucket[key] = obj
            for uid in _owner_uids(obj):
                self.dependents.setdefault(uid, set()).add((resource, key))
        event = Event(self.rv, resource, event_type, obj, prev)
        self.history.append(event)
        if len(self.history) > 2 * self.history_size:
            dropped = len(self.history) - self.history_size
            del self.history[:dropped]
            self.history_base += dropped
        self.cond.notify_all()
        for listener in self.listeners:
            listener(event)

    # Watch -----------------------------------------------------------------

    def watch(self, rtype, namespace, match, since, timeout, initial,
              should_stop):
        """Validate a watch request and return an iterator of watch events
        {"type", "object"} for `rtype` that ends at timeout, reset or
        should_stop(). `since` is the resourceVersion to start after; "" or
        "0" (or `initial`) first replays the current objects as ADDED."""
        with self.cond:
            replay = initial or since in ("", "0")
            if replay:
                listing = self.list(rtype, namespace, match)
                cursor = int(listing["metadata"]["resourceVersion"])
                first = [{"type": "ADDED", "object": obj}
                         for obj in listing["items"]]
            else:
                try:
                    cursor = int(since)
                except ValueError:
                    raise errors.bad_request(
                        f"invalid resourceVersion {since!r}") from None
                if cursor < self.history_base - 1:
                    raise errors.gone(f"too old resource version: {cursor} "
                                      f"({self.history_base - 1})")
                first = []
            if initial:
                first.append({"type": "BOOKMARK", "object": {
                    "kind": rtype.kind, "apiVersion": rtype.api_version,
                    "metadata": {"resourceVersion": str(cursor),
                                 "annotations": {
                                     "k8s.io/initial-events-end": "true"}}}})
            return self._stream(rtype, namespace, match, cursor, first,
                                time.monotonic() + timeout, self.epoch,
                                should_stop)

    def _stream(self, rtype, namespace, match, cursor, first, deadline,
                epoch, should_stop):
        yield from first
        while True:
            with self.cond:
                if cursor >= self.rv and epoch == self.epoch:
                    self.cond.wait(min(1.0, max(0.0, deadline -
                                                time.monotonic())))
                if epoch != self.epoch:
                    return
                start = cursor + 1 - self.history_base
                batch = self.history[max(start, 0):]
                cursor = self.rv
            if start < 0:
                yield {"type": "ERROR", "object": errors.gone(
                    "too old resource version").status()}
                return
            for event in batch:
                if event.resource != rtype.resource:
                    continue
                if namespace is not None and \
                        _key(event.obj)[0] != namespace:
                    continue
                found = _translate(event, match)
                if found:
                    yield {"type": found, "object": event.obj}
            if time.monotonic() >= deadline or should_stop():
                return


def _translate(event, match):
    """Event type as seen through a selector (objects may move in/out)."""
    now_in = match(event.obj)
    if event.type != "MODIFIED":
        return event.type if now_in else None
    was_in = match(event.prev)
    if now_in:
        return "MODIFIED" if was_in else "ADDED"
    return "DELETED" if was_in else None


def _entries(obj):
    """managedFields as {(manager, operation, subresource):
    [apiVersion, time, paths]}."""
    found = {}
    for entry in (obj or {}).get("metadata", {}).get("managedFields") or []:
        key = (entry.get("manager", ""), entry.get("operation", ""),
               entry.get("subresource", ""))
        found[key] = [entry.get("apiVersion", ""), entry.get("time", ""),
                      typed.from_fields_v1(entry.get("fieldsV1") or {})]
    return found


def _set_managed(obj, entries, prev):
    meta = obj.setdefault("metadata", {})
    meta["managedFields"] = _render(entries, prev)
    if not meta["managedFields"]:
        del meta["managedFields"]


def _render(entries, prev):
    """Back to managedFields; an entry keeps its time unless it changed."""
    old = _entries(prev)
    rendered = []
    for key, (api_version, _, paths) in entries.items():
        if not paths:
            continue
        before = old.get(key)
        stamp = before[1] if before and before[0] == api_version and \
            before[2] == paths else now()
        entry = {"manager": key[0], "operation": key[1],
                 "apiVersion": api_version, "time": stamp,
                 "fieldsType": "FieldsV1",
                 "fieldsV1": typed.to_fields_v1(paths)}
        if key[2]:
            entry["subresource"] = key[2]
        rendered.append(entry)
    return rendered


def _tracked(obj, root, status):
    """The paths of `obj` a manager owns: spec-like fields and user
    metadata, or only status when `status` (fieldmanager strips identity
    and server-managed metadata; a main-resource write resets status)."""
    body = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status") != status:
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items()
                     if k not in fields.UNTRACKED_META}
            if not value:
                continue
        body[key] = value
    return typed.field_set(body, root)


def _drop_nulls(value):
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _go_str(value):
    return json.dumps(value if isinstance(value, str) else "")


def _go_selector(selector):
    """A LabelSelector as Go's %#v prints it (validation messages)."""
    selector = selector if isinstance(selector, dict) else {}
    labels = selector.get("matchLabels")
    shown = "map[string]string(nil)" if labels is None else \
        "map[string]string{" + ", ".join(
            f"{_go_str(k)}:{_go_str(v)}" for k, v in sorted(
                labels.items())) + "}"
    exprs = selector.get("matchExpressions")
    if exprs is None:
        shown_exprs = "[]v1.LabelSelectorRequirement(nil)"
    else:
        shown_exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(
            "v1.LabelSelectorRequirement{"
            f"Key:{_go_str(e.get('key'))}, "
            f"Operator:{_go_str(e.get('operator'))}, Values:[]string{{"
            + ", ".join(_go_str(v) for v in e.get("values") or []) + "}}"
            for e in exprs if isinstance(e, dict)) + "}"
    return f"v1.LabelSelector{{MatchLabels:{shown}, " \
        f"MatchExpressions:{shown_exprs}}}"


def _go_value(type_name, value):
    """A stand-in for Go's %#v of a large value: the type name and the
    JSON (the real server prints the internal struct)."""
    return f"{type_name}{json.dumps(value, sort_keys=True)[:2000]}"


def _pod_spec(kind, obj):
    """The PodSpec inside a Pod or a workload's template, or None."""
    path = {"Pod": ("spec",),
            "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")
            }.get(kind, ("spec", "template", "spec"))
    if kind not in ("Pod", "CronJob", "Deployment", "StatefulSet",
                    "DaemonSet", "ReplicaSet", "Job"):
        return None
    node = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node
