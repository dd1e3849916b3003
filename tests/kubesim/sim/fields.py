"""JSON object helpers: merge and JSON patches, plain paths (tuples of map
keys, for selectors) and PathSet over the typed field paths of typed.py."""

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


def get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return MISSING
        obj = obj[key]
    return obj


class PathSet:
    """A set of paths that answers "does this path overlap any member",
    i.e. is it equal to, above or below one of them."""

    def __init__(self, paths=()):
        self.paths = set(paths)
        self.prefixes = {p[:i] for p in self.paths
                         for i in range(1, len(p) + 1)}

    def overlaps(self, path):
        """Equal to, above, or below a member that is a whole value (a
        field); a list item member ('k:…', 'v:…') owns the item, not what
        is in it, so a path below one does not overlap it."""
        return path in self.prefixes or any(
            path[:i] in self.paths and not path[i - 1].startswith(("k:", "v:"))
            for i in range(1, len(path)))
