"""Kubernetes REST routing: maps (method, path, query, body) to store calls.

Independent of HTTP plumbing: the server hands in a Request and gets back a
Reply (or an ApiError to render as a Status).
"""

import json
from dataclasses import dataclass, field

from . import errors, rbac
from .catalog import KUBE_VERSION
from .selector import make_filter
from .store import WriteOptions

JSON = "application/json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "merge",
    "application/json-patch+json": "json",
}
WATCH_TIMEOUT = 1800
# kinds whose storage returns the deleted object (ReturnDeletedObject)
RETURN_DELETED = ("pods", "services")
DISCOVERY_GROUP = "apidiscovery.k8s.io"
DISCOVERY_KIND = "APIGroupDiscoveryList"
DISCOVERY_VERSIONS = ("v2", "v2beta1")     # the order kubesim prefers them


@dataclass
class Request:
    method: str
    path: str
    query: dict                 # name -> last value
    body: bytes = b""
    content_type: str = ""
    user_agent: str = ""
    accept: str = ""
    impersonate: str = ""       # Impersonate-User: authorized by RBAC as it

    def flag(self, name):
        return self.query.get(name, "").lower() in ("1", "true")


@dataclass
class Reply:
    code: int
    body: object = None         # JSON-serializable, or bytes
    content_type: str = JSON
    headers: dict = field(default_factory=dict)
    stream: object = None       # iterator of watch events instead of body


def _warnings(opts):
    """Warning headers (util/net/http.go NewWarningHeader: 299 - "text"),
    one per problem."""
    if not opts.warnings:
        return {}
    return {"Warning": ["299 - " + json.dumps(w) for w in opts.warnings]}


MAX_NESTING = 100       # deeper bodies are refused (walks stay bounded)


def _bounded(doc):
    """`doc` when it nests at most MAX_NESTING deep, else ValueError."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ValueError(f"nested deeper than {MAX_NESTING} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return doc


def discovery_media_type(version):
    """The Content-Type of aggregated discovery as apidiscovery.k8s.io/V."""
    return f"{JSON};g={DISCOVERY_GROUP};v={version};as={DISCOVERY_KIND}"


def negotiate_discovery(accept):
    """The aggregated discovery version ("v2" or "v2beta1") an Accept header
    asks for, or "" for the legacy documents.

    Each offer (v2, v2beta1, plain JSON) takes the q of the most specific
    media range naming it (q=0: not acceptable); the highest q wins, ties go
    to the earlier offer. `*/*` and `application/*` name plain JSON only, as
    the real server returns aggregated discovery only when asked by name. An
    Accept naming none of them gets legacy JSON, like every other endpoint.
    """
    ranked = {}                 # offer -> (specificity, q)
    for media_range in accept.split(","):
        media, *params = media_range.split(";")
        media = media.strip().lower()
        values = {}
        for param in params:
            name, _, value = param.partition("=")
            values[name.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(values.pop("q", "1"))
        except ValueError:
            continue
        if {"g", "v", "as"} & values.keys():
            if media != JSON or values.get("g") != DISCOVERY_GROUP or \
                    values.get("as") != DISCOVERY_KIND or \
                    values.get("v") not in DISCOVERY_VERSIONS:
                continue
            offer, specificity = values["v"], 4
        elif media in (JSON, "application/*", "*/*"):
            offer = ""
            specificity = 3 - (JSON, "application/*", "*/*").index(media)
        else:
            continue
        ranked[offer] = max(ranked.get(offer, (0, 0.0)),
                            (specificity, quality))
    best, best_quality = "", 0.0
    for offer in (*DISCOVERY_VERSIONS, ""):
        quality = ranked.get(offer, (0, 0.0))[1]
        if quality > best_quality:
            best, best_quality = offer, quality
    return best


def version_info():
    return {"major": "1", "minor": "32", "gitVersion": KUBE_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.23.6", "compiler": "gc",
            "platform": "linux/amd64"}


class Api:
    def __init__(self, catalog, store, stats, knobs=None):
        self.catalog = catalog
        self.store = store
        self.stats = stats
        self.knobs = knobs      # aggregated_discovery; None: served

    def handle(self, req, should_stop=lambda: False):
        path = req.path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            return Reply(200, b"ok", "text/plain; charset=utf-8")
        if req.method != "GET" and not path.startswith(("/api/", "/apis/")):
            raise errors.method_not_allowed(req.method)
        if len(req.body) > errors.REQUEST_BODY_MAX:
            # handlers' limitedReadBody: the body is refused before decoding
            raise errors.too_large()
        if path == "/version":
            return self._discovery(version_info())
        if path in ("/api", "/apis"):
            return self._root_discovery(req, path == "/api")
        if path.startswith("/openapi/"):
            return self._openapi(path)
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) == 2:
            document = self.catalog.api_group(parts[1])
            if document is None:
                raise errors.plain_not_found()
            return self._discovery(document)
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise errors.plain_not_found()
        # kube-apiserver answers unknown paths under its own group-versions
        # with a Status; everything else (unknown groups, custom resources
        # of CRDs not served yet) falls through the delegate chain to the
        # plain-text "404 page not found" (apiextensions-apiserver
        # pkg/apiserver/customresource_handler.go ServeHTTP -> delegate).
        builtin = not group or \
            self.catalog.builtin_group_version(group, version)
        if not rest:
            if req.method != "GET":
                raise errors.method_not_allowed(req.method)
            document = self.catalog.api_resource_list(group, version)
            if document is None and not builtin:
                raise errors.plain_not_found()
            return self._discovery(document)
        try:
            return self._resource(req, group, version, rest, should_stop)
        except errors.ApiError as exc:
            if exc.code == 404 and exc.details == {} and not builtin:
                raise errors.plain_not_found() from None
            raise

    def _discovery(self, document, content_type=JSON):
        if document is None:
            raise errors.no_route()
        self.stats.count("discovery")
        return Reply(200, document, content_type)

    def _root_discovery(self, req, core):
        """/api or /apis: aggregated discovery when the client asks for it
        and the aggregated_discovery knob is on; else the legacy document,
        whose plain JSON content type tells the client to fall back to
        fetching each group-version (as with k3s before v1.26)."""
        version = ""
        if getattr(self.knobs, "aggregated_discovery", True):
            version = negotiate_discovery(req.accept)
        if version:
            reply = self._discovery(
                self.catalog.api_group_discovery_list(core, version),
                discovery_media_type(version))
        elif core:
            reply = self._discovery(self.catalog.api_versions())
        else:
            reply = self._discovery(self.catalog.api_group_list())
        reply.headers["Vary"] = "Accept"
        return reply

    def _openapi(self, path):
        self.stats.count("openapi")
        if path == "/openapi/v3":
            return Reply(200, self.catalog.openapi_index())
        name = path[len("/openapi/v3/"):]
        parts = name.split("/")
        document = None
        if parts[0] == "api" and len(parts) == 2:
            document = self.catalog.openapi_doc("", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            document = self.catalog.openapi_doc(parts[1], parts[2])
        if document is None:     # includes /openapi/v2: not served
            raise errors.no_route()
        return Reply(200, document)

    # Resources -------------------------------------------------------------

    def _resource(self, req, group, version, rest, should_stop):
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            scoped = self.catalog.lookup(group, version, rest[2])
            if scoped is not None and scoped.namespaced:
                namespace, rest = rest[1], rest[2:]
        rtype = self.catalog.lookup(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else ""
        if rtype is None or len(rest) > 3 or \
                (subresource and not (subresource == "status"
                                      and rtype.has_status)) or \
                (rtype.namespaced and name is not None and namespace is None):
            raise errors.no_route()
        scope = namespace if rtype.namespaced else ""
        if req.impersonate:
            self._authorize(req, rtype, scope, name, subresource)
        if name is None:
            return self._collection(req, rtype, namespace, should_stop)
        return self._object(req, rtype, scope, name, subresource)

    def _authorize(self, req, rtype, namespace, name, subresource):
        """RBAC for an impersonated user (endpoints/filters/authorization):
        the verb of the request; an apply that creates the object also
        needs create (handlers/patch.go createValidation)."""
        verbs = {"GET": "get", "PUT": "update", "PATCH": "patch",
                 "DELETE": "delete", "POST": "create"}
        verb = verbs.get(req.method, req.method.lower())
        if name is None and req.method == "GET":
            verb = "watch" if req.flag("watch") else "list"
        elif name is None and req.method == "DELETE":
            verb = "deletecollection"
        rbac.authorize(self.store, req.impersonate, verb, rtype, namespace,
                       name, subresource)
        if req.method == "PATCH" and not subresource and \
                self.store.find(rtype.resource, namespace, name) is None:
            rbac.authorize(self.store, req.impersonate, "create", rtype,
                           namespace, name)

    def _collection(self, req, rtype, namespace, should_stop):
        match = make_filter(req.query.get("labelSelector", ""),
                            req.query.get("fieldSelector", ""), rtype.kind)
        if req.method == "GET" and req.flag("watch"):
            self.stats.count("watch")
            timeout = int(req.query.get("timeoutSeconds") or WATCH_TIMEOUT)
            events = self.store.watch(
                rtype, namespace, match, req.query.get("resourceVersion", ""),
                timeout, req.flag("sendInitialEvents"), should_stop)
            return Reply(200, stream=events)
        if req.method == "GET":
            self.stats.count("list")
            limit = int(req.query.get("limit") or 0)
            return Reply(200, self.store.list(rtype, namespace, match, limit,
                                              req.query.get("continue", "")))
        if req.method == "POST":
            self.stats.count("create")
            if namespace is None and rtype.namespaced:
                raise errors.no_route()
            opts = self._options(req, validate=True)
            obj = self.store.create(rtype, namespace or "", self._body(req),
                                    opts)
            return Reply(201, obj, headers=_warnings(opts))
        if req.method == "DELETE":
            self.stats.count("deletecollection")
            return Reply(200, self.store.delete_collection(
                rtype, namespace, match, self._delete_options(req),
                req.query.get("dryRun") == "All"))
        raise errors.method_not_allowed(req.method)

    def _object(self, req, rtype, namespace, name, subresource):
        store = self.store
        if req.method == "GET":
            self.stats.count("get")
            return Reply(200, store.get(rtype, namespace, name))
        if req.method == "PUT":
            self.stats.count("update")
            opts = self._options(req, validate=True)
            obj = store.replace(rtype, namespace, name, self._body(req), opts,
                                subresource)
            return Reply(200, obj, headers=_warnings(opts))
        if req.method == "DELETE":
            self.stats.count("delete")
            dry_run = req.query.get("dryRun") == "All"
            obj = store.delete(rtype, namespace, name,
                               self._delete_options(req), dry_run)
            meta = obj["metadata"]
            if rtype.plural in RETURN_DELETED or \
                    meta.get("deletionTimestamp") or \
                    (dry_run and meta.get("finalizers")):
                return Reply(200, obj)
            # registry/generic/registry/store.go Delete: an object removed
            # at once is answered with a Success Status naming it (unless
            # the kind's storage sets ReturnDeletedObject)
            details = {"name": name}
            if rtype.group:
                details["group"] = rtype.group
            details.update(kind=rtype.plural, uid=meta.get("uid", ""))
            return Reply(200, {"kind": "Status", "apiVersion": "v1",
                               "metadata": {}, "status": "Success",
                               "details": details})
        if req.method != "PATCH":
            raise errors.method_not_allowed(req.method)
        media = req.content_type.split(";")[0].strip().lower()
        if media == APPLY:
            return self._apply(req, rtype, namespace, name, subresource)
        if media not in PATCH_TYPES:
            raise errors.unsupported_media_type(
                f"the body of the request was in an unknown format - accepted "
                f"media types include: {', '.join(PATCH_TYPES)}, {APPLY}")
        self.stats.count("patch")
        body = self._parse(req.body)
        return Reply(200, store.patch(rtype, namespace, name,
                                      PATCH_TYPES[media], body,
                                      self._options(req), subresource))

    def _apply(self, req, rtype, namespace, name, subresource):
        self.stats.count("apply")
        manager = req.query.get("fieldManager", "")
        if not manager:
            raise errors.ApiError(
                422, "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                "Required value: is required for apply patch",
                {"kind": "PatchOptions", "group": "meta.k8s.io", "causes": [
                    {"reason": "FieldValueRequired",
                     "message": "Required value: is required for apply patch",
                     "field": "fieldManager"}]})
        try:
            body = json.loads(req.body or b"null")
        except RecursionError:
            raise errors.bad_request("the body is nested too deeply") \
                from None
        except ValueError:
            raise errors.unsupported_media_type(
                "kubesim accepts apply patches (application/apply-patch+yaml) "
                "in JSON only; send the object as JSON") from None
        try:
            _bounded(body)
        except ValueError as exc:
            raise errors.bad_request(f"invalid body: {exc}") from None
        opts = WriteOptions(manager, req.query.get("dryRun") == "All",
                            req.flag("force"))
        obj, created, changed = self.store.apply(rtype, namespace, name, body,
                                                 opts, subresource)
        self.stats.count("applies_changed" if changed else "applies_unchanged")
        return Reply(201 if created else 200, obj)

    # Request helpers -------------------------------------------------------

    @staticmethod
    def _parse(raw):
        try:
            return _bounded(json.loads(raw or b"null"))
        except (ValueError, RecursionError) as exc:
            raise errors.bad_request(f"invalid JSON body: {exc}") from None

    def _body(self, req):
        media = req.content_type.split(";")[0].strip().lower()
        if media not in ("", JSON):
            raise errors.unsupported_media_type(
                f"the body of the request was in an unknown format - "
                f"accepted media types include: {JSON} (kubesim serves "
                f"JSON only, not {media})")
        return self._parse(req.body)

    @staticmethod
    def _options(req, validate=False):
        manager = req.query.get("fieldManager") or \
            (req.user_agent.split("/")[0] or "unknown")
        validation = ""
        if validate:
            validation = req.query.get("fieldValidation") or "Warn"
            if validation not in ("Strict", "Warn", "Ignore"):
                raise errors.bad_request(
                    f"fieldValidation must be one of Strict, Warn, Ignore; "
                    f"not {validation[:40]!r}")
        return WriteOptions(manager, req.query.get("dryRun") == "All",
                            req.flag("force"), validation)

    def _delete_options(self, req):
        options = self._parse(req.body) if req.body.strip() else {}
        if not isinstance(options, dict):
            raise errors.bad_request("DeleteOptions must be an object")
        if req.query.get("propagationPolicy"):
            options["propagationPolicy"] = req.query["propagationPolicy"]
        return options
