"""Resource types the server knows: built-ins plus those defined by CRDs.

Also renders the discovery documents (legacy and aggregated, both from the
same type list) and the minimal OpenAPI v3 documents kubectl reads to decide
that the server validates fields itself.
"""

import hashlib
import json
import threading
from dataclasses import dataclass

KUBE_VERSION = "v1.32.3+k3s1"
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
         "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    has_status: bool = False
    has_generation: bool = False
    categories: tuple = ()
    crd: str = ""             # name of the defining CRD, "" for built-ins

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self):
        """Storage identity, shared by all versions: (group, plural)."""
        return (self.group, self.plural)

    @property
    def qualified(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kind_qualified(self):
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def prefix(self):
        return f"/apis/{self.api_version}" if self.group else "/api/v1"


def _builtin(group, version, plural, kind, namespaced, short="", status=False,
             generation=False, categories=""):
    return ResourceType(group, version, plural, kind.lower(), kind,
                        namespaced, tuple(short.split()), status, generation,
                        tuple(categories.split()))


BUILTINS = (
    _builtin("", "v1", "namespaces", "Namespace", False, "ns", status=True),
    _builtin("", "v1", "nodes", "Node", False, "no", status=True),
    _builtin("", "v1", "configmaps", "ConfigMap", True, "cm"),
    _builtin("", "v1", "secrets", "Secret", True),
    _builtin("", "v1", "services", "Service", True, "svc", status=True,
             categories="all"),
    _builtin("", "v1", "serviceaccounts", "ServiceAccount", True, "sa"),
    _builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True,
             "pvc", status=True),
    _builtin("", "v1", "pods", "Pod", True, "po", status=True,
             categories="all"),
    _builtin("", "v1", "events", "Event", True, "ev"),
    _builtin("apps", "v1", "deployments", "Deployment", True, "deploy",
             status=True, generation=True, categories="all"),
    _builtin("apps", "v1", "statefulsets", "StatefulSet", True, "sts",
             status=True, generation=True, categories="all"),
    _builtin("apps", "v1", "daemonsets", "DaemonSet", True, "ds",
             status=True, generation=True, categories="all"),
    _builtin("apps", "v1", "replicasets", "ReplicaSet", True, "rs",
             status=True, generation=True, categories="all"),
    _builtin("batch", "v1", "jobs", "Job", True, status=True,
             generation=True, categories="all"),
    _builtin("batch", "v1", "cronjobs", "CronJob", True, "cj", status=True,
             generation=True, categories="all"),
    _builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions",
             "CustomResourceDefinition", False, "crd crds", status=True,
             generation=True),
    _builtin("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding",
             True),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole",
             False),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings",
             "ClusterRoleBinding", False),
    _builtin("networking.k8s.io", "v1", "ingresses", "Ingress", True, "ing",
             status=True, generation=True),
    _builtin("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy",
             True, "netpol", generation=True),
    _builtin("storage.k8s.io", "v1", "storageclasses", "StorageClass", False,
             "sc"),
    _builtin("events.k8s.io", "v1", "events", "Event", True, "ev"),
)


def types_from_crd(crd):
    """The ResourceTypes a CustomResourceDefinition object defines."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kind = names.get("kind", "")
    plural = names.get("plural", "")
    found = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        status = "status" in ((version.get("subresources") or {}))
        found.append(ResourceType(
            spec.get("group", ""), version.get("name", ""), plural,
            names.get("singular") or kind.lower(), kind,
            spec.get("scope", "Namespaced") == "Namespaced",
            tuple(names.get("shortNames") or ()), status, True,
            tuple(names.get("categories") or ()), crd["metadata"]["name"]))
    return found


class Catalog:
    """Thread-safe registry of ResourceTypes by (group, version, plural)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._types = {}
        self.reset()

    def reset(self):
        with self._lock:
            self._types = {(t.group, t.version, t.plural): t for t in BUILTINS}

    def lookup(self, group, version, plural):
        with self._lock:
            return self._types.get((group, version, plural))

    def builtin_group_version(self, group, version):
        """Whether kube-apiserver itself (not the CRD handler) serves
        /apis/group/version: its unknown paths get a Status 404, others
        the plain-text "404 page not found" of the delegate chain."""
        return any((t.group, t.version) == (group, version) and not t.crd
                   for t in BUILTINS)

    def set_crd_types(self, crd_name, types):
        """Replace the types CRD `crd_name` defines ([] removes them)."""
        with self._lock:
            self._types = {key: t for key, t in self._types.items()
                           if t.crd != crd_name}
            for rtype in types:
                self._types.setdefault(
                    (rtype.group, rtype.version, rtype.plural), rtype)

    def _group_versions(self):
        """{group: [versions]} in registration order."""
        with self._lock:
            types = list(self._types.values())
        groups = {}
        for rtype in types:
            versions = groups.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
        return groups, types

    # Legacy discovery ----------------------------------------------------

    @staticmethod
    def api_versions():
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0",
                     "serverAddress": "127.0.0.1:6443"}]}

    @staticmethod
    def _api_group(group, versions):
        entries = [{"groupVersion": f"{group}/{v}", "version": v}
                   for v in versions]
        return {"name": group, "versions": entries,
                "preferredVersion": entries[0]}

    def api_group_list(self):
        groups, _ = self._group_versions()
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [self._api_group(g, v)
                           for g, v in groups.items() if g]}

    def api_group(self, group):
        groups, _ = self._group_versions()
        if not group or group not in groups:
            return None
        return dict(self._api_group(group, groups[group]), kind="APIGroup",
                    apiVersion="v1")

    def api_resource_list(self, group, version):
        _, types = self._group_versions()
        resources = []
        for rtype in types:
            if (rtype.group, rtype.version) != (group, version):
                continue
            entry = {"name": rtype.plural, "singularName": rtype.singular,
                     "namespaced": rtype.namespaced, "kind": rtype.kind,
                     "verbs": VERBS}
            if rtype.short_names:
                entry["shortNames"] = list(rtype.short_names)
            if rtype.categories:
                entry["categories"] = list(rtype.categories)
            resources.append(entry)
            if rtype.has_status:
                resources.append({"name": f"{rtype.plural}/status",
                                  "singularName": "",
                                  "namespaced": rtype.namespaced,
                                  "kind": rtype.kind, "verbs": STATUS_VERBS})
        if not resources:
            return None
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": resources}

    # Aggregated discovery (apidiscovery.k8s.io) ----------------------------

    def api_group_discovery_list(self, core, version):
        """APIGroupDiscoveryList for /api (core: the "" group only) or /apis
        (every other group), as apidiscovery.k8s.io/`version` (v2 or
        v2beta1, which share this shape). Groups and versions come in the
        order the legacy documents list them, the preferred version first."""
        groups, types = self._group_versions()
        items = []
        for group, versions in groups.items():
            if (group == "") != core:
                continue
            # metav1.ObjectMeta with a zero CreationTimestamp marshals it
            # as null; the core group's empty name is omitted (omitempty),
            # as a v1.32 kube-apiserver sends them (observed-1.32).
            meta = {"creationTimestamp": None}
            if group:
                meta["name"] = group
            items.append({"metadata": meta, "versions": [
                {"version": v, "freshness": "Current",
                 "resources": [self._resource_discovery(t) for t in types
                               if (t.group, t.version) == (group, v)]}
                for v in versions]})
        return {"kind": "APIGroupDiscoveryList",
                "apiVersion": f"apidiscovery.k8s.io/{version}",
                "metadata": {}, "items": items}

    @staticmethod
    def _resource_discovery(rtype):
        # Built-in resources leave responseKind's group and version empty
        # ("this group-version", installer.go ConvertGroupVersionIntoTo-
        # Discovery); apiextensions' discovery of custom resources fills
        # them in (observed-1.32, discovery_apis_aggregated_with_crd).
        kind = {"group": rtype.group if rtype.crd else "",
                "version": rtype.version if rtype.crd else "",
                "kind": rtype.kind}
        entry = {"resource": rtype.plural, "responseKind": kind,
                 "scope": "Namespaced" if rtype.namespaced else "Cluster",
                 "singularResource": rtype.singular, "verbs": VERBS}
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        if rtype.categories:
            entry["categories"] = list(rtype.categories)
        if rtype.has_status:
            entry["subresources"] = [{"subresource": "status",
                                      "responseKind": kind,
                                      "verbs": STATUS_VERBS}]
        return entry

    # OpenAPI v3 ------------------------------------------------------------

    def openapi_doc(self, group, version):
        """A document with one PATCH operation per kind, each declaring the
        fieldValidation query parameter; no schemas."""
        _, types = self._group_versions()
        paths = {}
        for rtype in types:
            if (rtype.group, rtype.version) != (group, version):
                continue
            scope = "namespaces/{namespace}/" if rtype.namespaced else ""
            path = f"{rtype.prefix}/{scope}{rtype.plural}/{{name}}"
            paths[path] = {"patch": {
                "operationId": f"patch{rtype.kind}",
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": rtype.group, "version": rtype.version,
                    "kind": rtype.kind},
                "parameters": [
                    {"name": name, "in": "query",
                     "schema": {"type": kind, "uniqueItems": True}}
                    for name, kind in (("dryRun", "string"),
                                       ("fieldManager", "string"),
                                       ("fieldValidation", "string"),
                                       ("force", "boolean"))],
                "responses": {"200": {"description": "OK"}}}}
        if not paths:
            return None
        return {"openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": KUBE_VERSION},
                "paths": paths, "components": {"schemas": {}}}

    def openapi_index(self):
        groups, _ = self._group_versions()
        paths = {}
        for group, versions in groups.items():
            for version in versions:
                name = f"apis/{group}/{version}" if group else f"api/{version}"
                doc = json.dumps(self.openapi_doc(group, version),
                                 sort_keys=True).encode()
                digest = hashlib.sha256(doc).hexdigest()[:32].upper()
                paths[name] = {"serverRelativeURL":
                               f"/openapi/v3/{name}?hash={digest}"}
        return {"paths": paths}
