"""RBAC for impersonated requests, as kube-apiserver decides them.

The client's own credentials are the cluster admin (k3s' kubeconfig), which
may impersonate anyone. A request with Impersonate-User is authorized as
that user by the RBAC authorizer (plugin/pkg/auth/authorizer/rbac): allowed
when a rule of a ClusterRole bound by a ClusterRoleBinding, or of a Role or
ClusterRole bound by a RoleBinding in the request's namespace, matches the
verb, API group, resource and name; otherwise 403 Forbidden with the
authorizer's reason (endpoints/handlers/responsewriters.ForbiddenStatusError).
A service account "system:serviceaccount:NS:NAME" is also in the groups
system:serviceaccounts, system:serviceaccounts:NS and system:authenticated
(serviceaccount.UserInfo). Aggregated ClusterRoles are not modelled.
"""
from . import errors

SA_PREFIX = "system:serviceaccount:"
RBAC = "rbac.authorization.k8s.io"


def groups_of(user):
    groups = ["system:authenticated"]
    if user.startswith(SA_PREFIX):
        ns = user[len(SA_PREFIX):].partition(":")[0]
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
    return groups


def _subject_matches(subject, user, groups):
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return name == user
    if kind == "Group":
        return name in groups
    if kind == "ServiceAccount":
        return user == f"{SA_PREFIX}{subject.get('namespace', '')}:{name}"
    return False


def _rule_matches(rule, verb, group, resource, name):
    def has(values, value):
        return "*" in values or value in values
    names = rule.get("resourceNames") or []
    return has(rule.get("verbs") or [], verb) and \
        has(rule.get("apiGroups") or [], group) and \
        has(rule.get("resources") or [], resource) and \
        (not names or name in names)


def _bindings(store, plural, namespace):
    bucket = store.objects.get((RBAC, plural), {})
    return [obj for (ns, _), obj in sorted(bucket.items())
            if namespace is None or ns == namespace]


def _role_rules(store, ref, namespace):
    if ref.get("apiGroup") != RBAC:
        return []
    if ref.get("kind") == "ClusterRole":
        role = store.objects.get((RBAC, "clusterroles"), {}).get(("", ref.get("name")))
    elif ref.get("kind") == "Role" and namespace:
        role = store.objects.get((RBAC, "roles"), {}).get((namespace, ref.get("name")))
    else:
        role = None
    return (role or {}).get("rules") or []


def allowed(store, user, verb, group, resource, namespace, name):
    groups = groups_of(user)
    with store.cond:
        found = [(b, "") for b in _bindings(store, "clusterrolebindings", "")]
        if namespace:
            found += [(b, namespace)
                      for b in _bindings(store, "rolebindings", namespace)]
        for binding, ns in found:
            if not any(_subject_matches(s, user, groups)
                       for s in binding.get("subjects") or []):
                continue
            for rule in _role_rules(store, binding.get("roleRef") or {}, ns):
                if _rule_matches(rule, verb, group, resource, name):
                    return True
    return False


def authorize(store, user, verb, rtype, namespace, name, subresource=""):
    """Raise 403 Forbidden unless user may do verb; None when allowed."""
    resource = rtype.plural + (f"/{subresource}" if subresource else "")
    if allowed(store, user, verb, rtype.group, resource, namespace, name or ""):
        return
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    why = (f'User "{user}" cannot {verb} resource "{resource}" in API group '
           f'"{rtype.group}" {where}')
    if name:
        raise errors.forbidden(rtype, name, why)
    raise errors.ApiError(403, "Forbidden", f"{rtype.qualified} is forbidden: {why}",
                          {"kind": rtype.plural} | ({"group": rtype.group} if rtype.group else {}))
