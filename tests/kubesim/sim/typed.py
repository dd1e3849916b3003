"""Typed objects for server-side apply, modelled on sigs.k8s.io/
structured-merge-diff (the library kube-apiserver applies with):

- a schema per kind: the built-in kinds from schema_data.py (Kubernetes
  v1.32 OpenAPI), custom resources from their CRD's structural schema;
- validation of an apply body as `typed/validate.go` does it (a field the
  schema lacks, a wrong scalar type, a duplicate key in a keyed list, an
  item without its key), reported as the apiserver's 500 "failed to create
  typed patch object (ns/name; group/version, Kind=K): ..."
  (managedfields/internal/structuredmerge.go);
- field sets (`typed/tofieldset.go`): paths of FieldsV1 elements, "f:name"
  for a field, 'k:{"name":"x"}' for an item of a keyed list, 'v:"x"' for an
  item of a set;
- the apply merge (`typed/merge.go`): maps merge, keyed lists merge item by
  item by their keys (listmaps.md in the fixtures), sets take the union,
  atomic lists and scalars are replaced.
"""

import json

from . import errors
from .schema_data import ROOTS, TYPES

MAX_DEPTH = 128     # api.py refuses bodies nested deeper than 100

# x-kubernetes-list-type / list-map-keys of the modelled kinds (listmaps.md).
_KEYED = {
    ("V1PodSpec", "containers"): ("name",),
    ("V1PodSpec", "initContainers"): ("name",),
    ("V1PodSpec", "ephemeralContainers"): ("name",),
    ("V1PodSpec", "volumes"): ("name",),
    ("V1PodSpec", "imagePullSecrets"): ("name",),
    ("V1PodSpec", "hostAliases"): ("ip",),
    ("V1PodSpec", "topologySpreadConstraints"):
        ("topologyKey", "whenUnsatisfiable"),
    ("V1PodSpec", "resourceClaims"): ("name",),
    ("V1PodSpec", "schedulingGates"): ("name",),
    ("V1ObjectMeta", "ownerReferences"): ("uid",),
    ("V1ServiceSpec", "ports"): ("port", "protocol"),
    ("V1DeploymentStatus", "conditions"): ("type",),
    ("V1StatefulSetStatus", "conditions"): ("type",),
    ("V1ServiceStatus", "conditions"): ("type",),
}
for _container in ("V1Container", "V1EphemeralContainer"):
    _KEYED[(_container, "env")] = ("name",)
    _KEYED[(_container, "ports")] = ("containerPort", "protocol")
    _KEYED[(_container, "volumeMounts")] = ("mountPath",)
    _KEYED[(_container, "volumeDevices")] = ("devicePath",)
_SETS = {("V1ObjectMeta", "finalizers")}
# x-kubernetes-map-type: atomic
_ATOMIC_TYPES = {"V1LabelSelector", "V1OwnerReference"}
_ATOMIC_FIELDS = {("V1PodSpec", "nodeSelector"), ("V1ServiceSpec", "selector")}
# defaults of key fields ("protocol" defaults to TCP in ContainerPort and
# ServicePort): an item may omit them
_KEY_DEFAULTS = {"protocol": "TCP"}


class T:
    """A resolved type: kind is scalar/struct/list/any."""
    __slots__ = ("kind", "scalar", "fields", "elem", "atomic", "keys",
                 "set", "name")

    def __init__(self, kind, scalar="", fields=None, elem=None, atomic=False,
                 keys=(), is_set=False, name=""):
        self.kind = kind
        self.scalar = scalar          # string, number, boolean, untyped
        self.fields = fields          # struct: {name: T or lazy ref}
        self.elem = elem              # struct: type of undeclared fields
        self.atomic = atomic
        self.keys = keys              # keyed list
        self.set = is_set
        self.name = name


ANY = T("any")
_cache = {}


def _ref(owner, field, text):
    if text in ("string", "number", "boolean", "untyped"):
        return T("scalar", scalar=text)
    if text == "any":
        return ANY
    if text.startswith("["):
        elem = _ref(owner, field, text[1:-1])
        keys = _KEYED.get((owner, field), ())
        return T("list", elem=elem, keys=keys,
                 is_set=(owner, field) in _SETS,
                 atomic=not keys and (owner, field) not in _SETS)
    if text.startswith("{"):
        return T("struct", fields={}, elem=_ref(owner, field, text[1:-1]),
                 atomic=(owner, field) in _ATOMIC_FIELDS)
    return named(text)


def named(name):
    found = _cache.get(name)
    if found is None:
        found = _cache[name] = T("struct", fields=None, name=name,
                                 atomic=name in _ATOMIC_TYPES)
    return found


def _fields(t):
    if t.fields is None:
        t.fields = {f: _ref(t.name, f, ref)
                    for f, ref in TYPES[t.name].items()}
    return t.fields


def builtin_root(group, kind):
    name = ROOTS.get((group, kind))
    return named(name) if name else None


def from_openapi(schema, depth=0):
    """A T for a CRD's structural (openAPIV3Schema) schema."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return ANY
    if schema.get("x-kubernetes-int-or-string"):
        return T("scalar", scalar="untyped")
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        extra = None
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            extra = ANY
        elif isinstance(schema.get("additionalProperties"), dict):
            extra = from_openapi(schema["additionalProperties"], depth + 1)
        elif schema.get("additionalProperties") is True:
            extra = ANY
        if not props and extra is None and kind != "object":
            return ANY
        if not props and extra is None and not schema.get(
                "additionalProperties") is False and "properties" not in \
                schema:
            extra = ANY     # an object without properties: anything
        return T("struct", fields={k: from_openapi(v, depth + 1)
                                   for k, v in props.items()
                                   if isinstance(k, str)},
                 elem=extra,
                 atomic=schema.get("x-kubernetes-map-type") == "atomic")
    if kind == "array":
        elem = from_openapi(schema.get("items"), depth + 1)
        list_type = schema.get("x-kubernetes-list-type", "atomic")
        keys = tuple(schema.get("x-kubernetes-list-map-keys") or ()) \
            if list_type == "map" else ()
        return T("list", elem=elem, keys=keys, is_set=list_type == "set",
                 atomic=list_type not in ("map", "set") or
                 (list_type == "map" and not keys))
    if kind in ("integer", "number"):
        return T("scalar", scalar="number")
    if kind in ("string", "boolean"):
        return T("scalar", scalar=kind)
    return ANY


def custom_root(crd, version):
    """Root T of a custom resource of `crd` at `version` (apiVersion, kind
    and metadata are always declared), or None without a schema."""
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if entry.get("name") == version:
            schema = (entry.get("schema") or {}).get("openAPIV3Schema")
            if not isinstance(schema, dict):
                return None
            root = from_openapi(schema)
            if root.kind != "struct":
                return None
            fields = dict(root.fields)
            fields.setdefault("apiVersion", T("scalar", scalar="string"))
            fields.setdefault("kind", T("scalar", scalar="string"))
            fields["metadata"] = named("V1ObjectMeta")
            return T("struct", fields=fields, elem=root.elem)
    return None


def _members(t):
    return _fields(t) if t.kind == "struct" and t.name else (t.fields or {})


def _field_type(t, key):
    found = _members(t).get(key)
    return found if found is not None else t.elem


# Path elements ----------------------------------------------------------

def _go(value):
    """value.ToString of structured-merge-diff: JSON for scalars."""
    return json.dumps(value, separators=(",", ":"))


def _item_key(t, item):
    """(FieldsV1 element, printed element) of a keyed-list item, or raise
    ValueError naming the missing key."""
    if not isinstance(item, dict):
        raise ValueError(f"expected map, got {_go(item)}")
    values = {}
    for key in t.keys:
        if key in item and item[key] is not None:
            values[key] = item[key]
        elif key in _KEY_DEFAULTS:
            values[key] = _KEY_DEFAULTS[key]
        else:
            raise ValueError(
                "associative list with keys has an element that omits key "
                f'field "{key}" (and doesn\'t have default value)')
    element = "k:" + json.dumps(values, sort_keys=True,
                                separators=(",", ":"))
    printed = "[" + ",".join(f"{k}={_go(values[k])}" for k in t.keys) + "]"
    return element, printed


def printed(path):
    """A path as structured-merge-diff prints it: .a.b[name="x"].c"""
    out = []
    for element in path:
        kind, rest = element[:2], element[2:]
        if kind == "f:":
            out.append("." + rest)
        elif kind == "k:":
            values = json.loads(rest)
            out.append("[" + ",".join(f"{k}={_go(v)}"
                                      for k, v in values.items()) + "]")
        elif kind == "v:":
            out.append(f"[={rest}]")
        else:
            out.append(f"[{rest}]")
    return "".join(out)


# Validation -------------------------------------------------------------

def validate(obj, root):
    """Error strings of `obj` against `root`, as typed/validate.go finds
    them: map fields in sorted order, the first undeclared field of a map
    ends that map."""
    errs = []
    _validate(obj, root, "", errs, 0)
    return errs


def _kind_name(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "number"


def _validate(value, t, where, errs, depth):
    if value is None or t.kind == "any":
        return
    if depth > MAX_DEPTH:
        errs.append(f"{where}: nesting too deep")
        return
    if t.kind == "scalar":
        if isinstance(value, (dict, list)):
            errs.append(f"{where}: expected scalar, got {_kind_name(value)}")
        elif t.scalar == "number" and (
                isinstance(value, bool) or
                not isinstance(value, (int, float))):
            errs.append(f"{where}: expected numeric (int or float), got "
                        f"{_kind_name(value)}")
        elif t.scalar == "string" and not isinstance(value, str):
            errs.append(f"{where}: expected string, got {_go(value)}")
        elif t.scalar == "boolean" and not isinstance(value, bool):
            errs.append(f"{where}: expected boolean, got {_go(value)}")
        return
    if t.kind == "struct":
        if not isinstance(value, dict):
            errs.append(f"{where}: expected map, got {_go(value)[:100]}")
            return
        for key in sorted(value):
            sub = _field_type(t, key)
            if sub is None:
                errs.append(f"{where}.{key}: field not declared in schema")
                return
            _validate(value[key], sub, f"{where}.{key}", errs, depth + 1)
        return
    if not isinstance(value, list):
        errs.append(f"{where}: expected list, got {_go(value)[:100]}")
        return
    seen = set()
    for index, item in enumerate(value):
        if t.keys:
            try:
                element, shown = _item_key(t, item)
            except ValueError as exc:
                errs.append(f"{where}: element {index}: {exc}")
                return
        elif t.set:
            element, shown = "v:" + _go(item), f"[={_go(item)}]"
        else:
            element, shown = None, f"[{index}]"
        if element is not None:
            if element in seen:
                errs.append(f"{where}: duplicate entries for key {shown}")
            seen.add(element)
        _validate(item, t.elem, where + shown, errs, depth + 1)


def prune_unknown(value, t, where="", found=None, depth=0):
    """Drop (in place) the fields `t` does not declare, as decoding into
    the server's types does; their paths in document order, written as the
    strict JSON decoder names them: spec.template.spec.containers[0].x"""
    found = [] if found is None else found
    if value is None or t.kind in ("any", "scalar") or depth > MAX_DEPTH:
        return found
    if t.kind == "struct" and isinstance(value, dict):
        for key in list(value):
            sub = _field_type(t, key)
            path = f"{where}.{key}" if where else key
            if sub is None:
                found.append(path)
                del value[key]
            else:
                prune_unknown(value[key], sub, path, found, depth + 1)
    elif t.kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            prune_unknown(item, t.elem, f"{where}[{index}]", found, depth + 1)
    return found


def typed_patch_error(body, errs):
    meta = body.get("metadata") if isinstance(body, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    api_version = str(body.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    ident = (f"{meta.get('namespace', '')}/{meta.get('name', '')}; "
             f"{group}/{version}, Kind={body.get('kind', '')}")
    text = errs[0] if len(errs) == 1 else \
        "errors:\n" + "\n".join(f"  {e}" for e in errs)
    # a plain error: ErrorToAPIStatus makes it a 500 without reason/details
    return errors.ApiError(
        500, "", f"failed to create typed patch object ({ident}): {text}")


# Field sets -------------------------------------------------------------

def field_set(value, t, prefix=(), out=None, depth=0):
    """Paths a value sets (typed/tofieldset.go): scalars, atomic values and
    list items; maps only through their fields."""
    out = set() if out is None else out
    if depth > MAX_DEPTH:
        return out
    if t.kind == "scalar" or t.atomic or value is None:
        out.add(prefix)
        return out
    if t.kind == "any":
        if isinstance(value, dict):
            for key, sub in value.items():
                field_set(sub, ANY, prefix + ("f:" + key,), out, depth + 1)
        else:
            out.add(prefix)
        return out
    if t.kind == "struct":
        if not isinstance(value, dict):
            out.add(prefix)
            return out
        for key, sub in value.items():
            field_set(sub, _field_type(t, key) or ANY,
                      prefix + ("f:" + key,), out, depth + 1)
        return out
    if not isinstance(value, list):
        out.add(prefix)
        return out
    for item in value:
        if t.set:
            out.add(prefix + ("v:" + _go(item),))
            continue
        try:
            element, _ = _item_key(t, item)
        except ValueError:
            continue
        path = prefix + (element,)
        out.add(path)
        field_set(item, t.elem, path, out, depth + 1)
    return out


# Merge ------------------------------------------------------------------

def merge(live, patch, t, depth=0):
    """The apply merge of `patch` onto `live` (fresh values; None in the
    patch removes a field)."""
    if patch is None:
        return None
    if live is None or depth > MAX_DEPTH or t.kind == "scalar" or t.atomic:
        return _copy(patch)
    if t.kind == "any":
        if isinstance(live, dict) and isinstance(patch, dict):
            return _merge_map(live, patch, lambda _k: ANY, depth)
        return _copy(patch)
    if t.kind == "struct":
        if not isinstance(live, dict) or not isinstance(patch, dict):
            return _copy(patch)
        return _merge_map(live, patch,
                          lambda k: _field_type(t, k) or ANY, depth)
    if not isinstance(live, list) or not isinstance(patch, list):
        return _copy(patch)
    if t.set:
        merged = list(live)
        for item in patch:
            if item not in merged:
                merged.append(item)
        return _copy(merged)
    return _merge_keyed(live, patch, t, depth)


def _merge_map(live, patch, type_of, depth):
    out = {}
    for key, value in live.items():
        if key in patch:
            if patch[key] is not None:
                out[key] = merge(value, patch[key], type_of(key), depth + 1)
        else:
            out[key] = _copy(value)
    for key, value in patch.items():
        if key not in live and value is not None:
            out[key] = _copy(value)
    return out


def _merge_keyed(live, patch, t, depth):
    """Items keep the patch's order; live items the patch does not name
    stay where they were relative to their neighbours (merge.go,
    visitListItems)."""
    def index(items):
        keys, found = [], {}
        for item in items:
            try:
                element, _ = _item_key(t, item)
            except ValueError:
                continue
            if element not in found:
                keys.append(element)
                found[element] = item
        return keys, found

    lkeys, lfound = index(live)
    rkeys, rfound = index(patch)
    out, done = [], set()
    li = ri = 0
    while li < len(lkeys) or ri < len(rkeys):
        if li < len(lkeys) and lkeys[li] not in rfound:
            out.append(_copy(lfound[lkeys[li]]))
            li += 1
            continue
        if li < len(lkeys) and lkeys[li] in done:
            li += 1
            continue
        if ri < len(rkeys):
            key = rkeys[ri]
            out.append(merge(lfound.get(key), rfound[key], t.elem, depth + 1))
            done.add(key)
            ri += 1
            continue
        li += 1
    return out


def _copy(value):
    return json.loads(json.dumps(value))


# Paths on plain objects -------------------------------------------------

MISSING = object()


def _find_item(items, element):
    kind, rest = element[:2], element[2:]
    if kind == "v:":
        wanted = json.loads(rest)
        for index, item in enumerate(items):
            if item == wanted:
                return index
        return -1
    wanted = json.loads(rest)
    for index, item in enumerate(items):
        if isinstance(item, dict) and all(
                item.get(k, _KEY_DEFAULTS.get(k)) == v
                for k, v in wanted.items()):
            return index
    return -1


def get_path(obj, path):
    for element in path:
        if element.startswith("f:"):
            if not isinstance(obj, dict) or element[2:] not in obj:
                return MISSING
            obj = obj[element[2:]]
        else:
            if not isinstance(obj, list):
                return MISSING
            index = _find_item(obj, element)
            if index < 0:
                return MISSING
            obj = obj[index]
    return obj


def delete_path(obj, path, keep):
    """Delete `path` from `obj` in place, then drop the map parents it
    empties unless they are top-level or in `keep`."""
    parents = []
    node = obj
    for element in path[:-1]:
        if element.startswith("f:"):
            node = node.get(element[2:]) if isinstance(node, dict) else None
        elif isinstance(node, list):
            index = _find_item(node, element)
            node = node[index] if index >= 0 else None
        else:
            node = None
        if not isinstance(node, (dict, list)):
            return
        parents.append(node)
    last = path[-1]
    if last.startswith("f:"):
        if not isinstance(node, dict) or last[2:] not in node:
            return
        del node[last[2:]]
    else:
        if not isinstance(node, list):
            return
        index = _find_item(node, last)
        if index < 0:
            return
        del node[index]
    for depth in range(len(path) - 1, 1, -1):
        parent = parents[depth - 1]
        if parent or path[:depth] in keep or \
                not path[depth - 1].startswith("f:"):
            break
        holder = parents[depth - 2]
        if isinstance(holder, dict):
            holder.pop(path[depth - 1][2:], None)
        else:
            break


def to_fields_v1(paths):
    """FieldsV1: a member that also has members below it gets ".": {}."""
    root = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and path:
            node["."] = {}
    return _ordered(root)


def _ordered(tree):
    """Members in the order the real server writes them: "." first, then
    by name."""
    return {key: _ordered(tree[key])
            for key in sorted(tree, key=lambda k: (k != ".", k))}


def from_fields_v1(tree, prefix=(), depth=0):
    paths = set()
    if not isinstance(tree, dict) or depth > MAX_DEPTH:
        return paths
    for key, child in tree.items():
        if key == ".":
            paths.add(prefix)
            continue
        if key[:2] not in ("f:", "k:", "v:", "i:"):
            continue
        path = prefix + (key,)
        if child:
            paths |= from_fields_v1(child, path, depth + 1)
        else:
            paths.add(path)
    return paths
