"""Label and field selectors as used in list and watch queries."""

import re

from . import errors
from .fields import MISSING, get_path

_SET_RE = re.compile(
    r"^(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(notin|in)\s*\((.*)\))?$")
_EQ_RE = re.compile(r"^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$")

# Field selectors beyond metadata.name/metadata.namespace, per kind.
EXTRA_FIELDS = {
    "Pod": ("status.phase", "spec.nodeName", "spec.serviceAccountName"),
    "Event": ("involvedObject.kind", "involvedObject.name",
              "involvedObject.namespace", "involvedObject.uid", "reason",
              "type", "regarding.kind", "regarding.name"),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
}


def _split(text):
    """Split on commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def parse_labels(text):
    """Return a predicate over a labels dict."""
    tests = []
    for part in _split(text or ""):
        match = _EQ_RE.match(part)
        if match:
            key, op, value = match.groups()
            if op == "!=":
                tests.append(lambda l, k=key, v=value: l.get(k) != v)
            else:
                tests.append(lambda l, k=key, v=value: l.get(k) == v)
            continue
        match = _SET_RE.match(part)
        if not match or (match.group(1) and match.group(3)):
            raise errors.bad_request(
                f"unable to parse requirement: invalid label selector "
                f"{part!r}")
        negate, key, op, values = match.groups()
        if op:
            wanted = {v.strip() for v in values.split(",")}
            if op == "in":
                tests.append(lambda l, k=key, w=wanted: l.get(k) in w)
            else:
                tests.append(lambda l, k=key, w=wanted: l.get(k) not in w)
        elif negate:
            tests.append(lambda l, k=key: k not in l)
        else:
            tests.append(lambda l, k=key: k in l)
    return lambda labels: all(test(labels) for test in tests)


def parse_fields(text, kind):
    """Return a predicate over a whole object."""
    allowed = ("metadata.name", "metadata.namespace") + \
        EXTRA_FIELDS.get(kind, ())
    tests = []
    for part in _split(text or ""):
        match = re.match(r"^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$", part)
        if not match:
            raise errors.bad_request(f"invalid field selector: {part!r}")
        field, op, value = match.groups()
        if field not in allowed:
            raise errors.bad_request(
                f'"{field}" is not a known field selector: only '
                f'"metadata.name", "metadata.namespace"')
        path = tuple(field.split("."))
        negate = op == "!="

        def test(obj, p=path, v=value, n=negate):
            found = get_path(obj, p)
            found = "" if found is MISSING else str(found)
            return (found != v) if n else (found == v)
        tests.append(test)
    return lambda obj: all(test(obj) for test in tests)


def make_filter(label_text, field_text, kind):
    labels = parse_labels(label_text)
    fields = parse_fields(field_text, kind)
    if not label_text and not field_text:
        return lambda obj: True
    return lambda obj: (labels(obj["metadata"].get("labels") or {})
                        and fields(obj))
