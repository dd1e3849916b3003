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
from dataclasses import dataclass

from . import errors, fields
from .fields import MISSING, PathSet, get_path

Event = namedtuple("Event", "rv resource type obj prev")

NAMESPACES = ("", "namespaces")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")

_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class WriteOptions:
    manager: str = ""
    dry_run: bool = False
    force: bool = False


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
            raise errors.bad_request("invalid continue token") from None

    # Writes ----------------------------------------------------------------

    def create(self, rtype, namespace, body, opts):
        self._check_body(rtype, namespace, None, body)
        obj = fields.clone(body)
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
            self._own_update(rtype, obj, None, opts.manager, False)
            return self._write(rtype, namespace, name, None, obj,
                               opts.dry_run)[0]

    def replace(self, rtype, namespace, name, body, opts, subresource=""):
        self._check_body(rtype, namespace, name, body)
        new = fields.clone(body)
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
        applied = fields.tracked_paths(patch, status)
        mine = (opts.manager, "Apply", subresource)
        with self.cond:
            self._require_namespace(rtype, namespace)
            prev = self.objects.get(rtype.resource, {}).get((namespace, name))
            if prev is None:
                if status:
                    raise errors.not_found(rtype, name)
                new, entries = patch, {}
            else:
                if wanted_rv and \
                        wanted_rv != prev["metadata"]["resourceVersion"]:
                    raise errors.modified(rtype, name)
                new = fields.merge(prev, patch)
                entries = _entries(prev)
                self._resolve_conflicts(rtype, name, prev, new, entries,
                                        mine, applied, opts.force)
            entries[mine] = [rtype.api_version, "", applied]
            _set_managed(new, entries, prev)
            obj, changed = self._write(rtype, namespace, name, prev, new,
                                       opts.dry_run)
            return obj, prev is None, changed

    def delete(self, rtype, namespace, name, options, dry_run=False):
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
                if applied_set.overlaps(path) and \
                        get_path(prev, path) != get_path(new, path):
                    conflicts.append((key, api_version, path))
        if conflicts and not force:
            raise errors.apply_conflicts(rtype, name, [
                (key[0], api_version, fields.dotted(path))
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
        for path in before - applied:
            if not applied_set.overlaps(path) and \
                    not other_set.overlaps(path):
                fields.delete_path(new, path, keep)

    def _own_update(self, rtype, new, prev, manager, status):
        """Record a non-apply write: `manager` takes the fields it changed."""
        subresource = "status" if status else ""
        entries = _entries(prev) if prev else {}
        paths = fields.tracked_paths(new, status)
        if prev is None:
            changed = paths
        else:
            changed = {p for p in paths
                       if get_path(prev, p) != get_path(new, p)}
            changed |= {p for p in fields.tracked_paths(prev, status)
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
        if rtype.resource == CRDS:
            self._check_crd(rtype, new)
        if dry_run:
            return new, True
        if prev is not None and meta.get("deletionTimestamp") and \
                not meta.get("finalizers"):
            return self._delete_now(rtype.resource, new, True), True
        self._commit(rtype.resource, "ADDED" if prev is None else "MODIFIED",
                     new, prev)
        return new, True

    def _default(self, rtype, obj, prev):
        """The few server-side defaults clients commonly rely on."""
        kind = rtype.kind if not rtype.crd else ""
        spec = obj.get("spec")
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
        elif kind == "Namespace":
            name = obj["metadata"]["name"]
            obj["metadata"].setdefault("labels", {})[
                "kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj.setdefault("status", {}).setdefault("phase", "Active")
        elif kind == "Service":
            spec = obj.setdefault("spec", {})
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
                      fields.from_fields_v1(entry.get("fieldsV1") or {})]
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
                 "fieldsV1": fields.to_fields_v1(paths)}
        if key[2]:
            entry["subresource"] = key[2]
        rendered.append(entry)
    return rendered
