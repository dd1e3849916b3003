"""JSON object helpers: merging, patching and field paths for ownership.

A field path is a tuple of map keys down to a leaf: a scalar, a list (lists
are atomic here) or an empty map.
"""

import json

MISSING = object()

# Paths never tracked as owned: identity and server-managed metadata.
UNTRACKED_META = frozenset((
    "name", "namespace", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "managedFields", "selfLink"))


def clone(obj):
    return json.loads(json.dumps(obj))


def merge(base, patch):
    """RFC 7386 JSON merge patch onto a fresh copy of `base`: maps merge,
    None deletes, lists replace. Keys starting with "$" (strategic merge
    directives) are ignored."""
    return clone(_merge(base, patch))


def _merge(base, patch):
    if not isinstance(patch, dict):
        return patch
    result = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~")
            for part in path[1:].split("/")]


def json_patch(doc, operations):
    """RFC 6902 add/remove/replace/test on a copy of `doc`."""
    doc = clone(doc)
    for op in operations:
        parts = _pointer(op.get("path", ""))
        if not parts:
            raise ValueError("cannot patch the document root")
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) \
                else parent[part]
        last = parts[-1]
        kind = op.get("op")
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) \
                else parent.get(last, MISSING)
            if current != op.get("value"):
                raise ValueError(f"test failed at {op.get('path')}")
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(index, op.get("value"))
                else:
                    parent[index] = op.get("value")
            else:
                if kind == "replace" and last not in parent:
                    raise ValueError(f"no value at {op.get('path')}")
                parent[last] = op.get("value")
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        else:
            raise ValueError(f"unsupported JSON patch op {kind!r}")
    return doc


def leaf_paths(obj, prefix=()):
    paths = set()
    for key, value in obj.items():
        path = prefix + (key,)
        if isinstance(value, dict) and value:
            paths |= leaf_paths(value, path)
        else:
            paths.add(path)
    return paths


def tracked_paths(obj, status=False):
    """Owned-field candidates of an object body: spec-like fields and user
    metadata, or only status fields when `status`."""
    paths = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status") != status:
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in UNTRACKED_META}
            if not value:
                continue
        if isinstance(value, dict) and value:
            paths |= leaf_paths(value, (key,))
        else:
            paths.add((key,))
    return paths


def get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return MISSING
        obj = obj[key]
    return obj


def delete_path(obj, path, keep):
    """Delete `path` from `obj` in place, then drop map parents emptied by
    it unless they are top-level or in `keep`."""
    parents = []
    node = obj
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return
        parents.append(node)
    if path[-1] not in node:
        return
    del node[path[-1]]
    for depth in range(len(path) - 1, 1, -1):
        if parents[depth - 1] or path[:depth] in keep:
            break
        del parents[depth - 2][path[depth - 1]]


class PathSet:
    """A set of paths that answers "does this path overlap any member",
    i.e. is it equal to, above or below one of them."""

    def __init__(self, paths=()):
        self.paths = set(paths)
        self.prefixes = {p[:i] for p in self.paths
                         for i in range(1, len(p) + 1)}

    def overlaps(self, path):
        return path in self.prefixes or any(
            path[:i] in self.paths for i in range(1, len(path)))


def dotted(path):
    return "".join(f".{key}" for key in path)


def to_fields_v1(paths):
    root = {}
    for path in sorted(paths):
        node = root
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return root


def from_fields_v1(tree, prefix=()):
    paths = set()
    for key, child in tree.items():
        if not key.startswith("f:"):
            continue
        path = prefix + (key[2:],)
        if child:
            paths |= from_fields_v1(child, path)
        else:
            paths.add(path)
    return paths
