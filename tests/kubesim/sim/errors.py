"""API errors, rendered as Kubernetes Status objects."""


class ApiError(Exception):
    """An error answered to the client as a v1 Status with `code`."""

    def __init__(self, code, reason, message, details=None, headers=None,
                 plain=None):
        super().__init__(message)
        self.code = code
        self.reason = reason        # "" is omitted (StatusReasonUnknown)
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.plain = plain          # bytes: a text/plain body instead

    def status(self):
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(rtype, name):
    details = {"name": name, "kind": rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    return details


def not_found(rtype, name):
    return ApiError(404, "NotFound",
                    f'{rtype.qualified} "{name}" not found',
                    _details(rtype, name))


def namespace_not_found(name):
    return ApiError(404, "NotFound", f'namespaces "{name}" not found',
                    {"name": name, "kind": "namespaces"})


def no_route():
    return ApiError(404, "NotFound",
                    "the server could not find the requested resource", {})


def already_exists(rtype, name):
    return ApiError(409, "AlreadyExists",
                    f'{rtype.qualified} "{name}" already exists',
                    _details(rtype, name))


def modified(rtype, name):
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {rtype.qualified} "{name}": '
        "the object has been modified; please apply your changes to the "
        "latest version and try again",
        _details(rtype, name))


def apply_conflicts(rtype, name, conflicts):
    """conflicts: list of (manager, apiVersion, field path) like ".data.x";
    apiVersion "" for a manager that applied, whose name prints alone
    (managedfields/internal/conflict.go; observed-1.32 ssa_conflict_409:
    'conflict with "outpost": .data.a', details holding only causes)."""
    def who(manager, version):
        return f'"{manager}"' + (f" using {version}" if version else "")
    if len(conflicts) == 1:
        manager, version, field = conflicts[0]
        message = ("Apply failed with 1 conflict: "
                   f"conflict with {who(manager, version)}: {field}")
    else:
        groups = {}
        for manager, version, field in conflicts:
            groups.setdefault((manager, version), []).append(field)
        parts = [f"conflicts with {who(manager, version)}:"
                 + "".join(f"\n- {field}" for field in found)
                 for (manager, version), found in groups.items()]
        message = (f"Apply failed with {len(conflicts)} conflicts: "
                   + "\n".join(parts))
    details = {"causes": [
        {"reason": "FieldManagerConflict",
         "message": f"conflict with {who(manager, version)}",
         "field": field}
        for manager, version, field in conflicts]}
    return ApiError(409, "Conflict", message, details)


def invalid(rtype, name, causes):
    """causes: list of (field, message) or (field, message, reason); the
    reason defaults to FieldValueInvalid (field.ErrorTypeInvalid)."""
    causes = [c if len(c) == 3 else (*c, "FieldValueInvalid")
              for c in causes]
    text = "; ".join(f"{field}: {msg}" for field, msg, _ in causes)
    if len(causes) > 1:     # errors.NewInvalid: an aggregate in brackets
        text = "[" + ", ".join(f"{field}: {msg}"
                               for field, msg, _ in causes) + "]"
    details = {"name": name, "kind": rtype.kind,
               "causes": [{"reason": reason, "message": msg,
                           "field": field} for field, msg, reason in causes]}
    if rtype.group:
        details["group"] = rtype.group
    return ApiError(422, "Invalid",
                    f'{rtype.kind_qualified} "{name}" is invalid: {text}',
                    details)


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def gone(message):
    return ApiError(410, "Expired", message)


def method_not_allowed(method):
    return ApiError(405, "MethodNotAllowed",
                    f"the server does not allow this method on the "
                    f"requested resource ({method})", {})


def unsupported_media_type(message):
    return ApiError(415, "UnsupportedMediaType", message)


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def plain_not_found():
    """What kube-apiserver's delegate chain answers for a path no handler
    serves (an unknown group, or a custom resource whose CRD is not served
    yet: apiextensions crdHandler passes it on): text, not a Status."""
    return ApiError(404, "NotFound", "404 page not found",
                    plain=b"404 page not found\n")


def forbidden(rtype, name, why, causes=None):
    """errors.NewForbidden: '<resource> "<name>" is forbidden: <why>'."""
    details = _details(rtype, name)
    if causes:
        details["causes"] = causes
    return ApiError(403, "Forbidden",
                    f'{rtype.qualified} "{name}" is forbidden: {why}',
                    details)


def namespace_terminating(rtype, name, namespace):
    """namespace/lifecycle/admission.go Admit, for a create."""
    return forbidden(
        rtype, name, f"unable to create new content in namespace "
        f"{namespace} because it is being terminated",
        [{"reason": "NamespaceTerminating",
          "message": f"namespace {namespace} is being terminated",
          "field": "metadata.namespace"}])


REQUEST_BODY_MAX = 3 * 1024 * 1024      # apiserver MaxRequestBodyBytes


def too_large():
    return ApiError(413, "RequestEntityTooLarge",
                    f"Request entity too large: limit is {REQUEST_BODY_MAX}")
