#!/bin/bash
# kubesim's typed server-side apply (sim/typed.py, sim/store.py) without a
# server: keyed-list merges and their order, ownership per item, sets, the
# 500 refusals, custom resources' structural schemas, FieldsV1. TAP lines
# and the closing "N passed, N failed".
here=$(cd "$(dirname "$0")" && pwd)
exec python3 - "$here" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from sim import errors, typed
from sim.catalog import Catalog
from sim.store import Store, WriteOptions

n = failed = 0
def check(desc, fn):
    global n, failed
    n += 1
    try:
        ok = fn()
    except Exception as exc:    # a crash is a failure, shown
        ok = False
        print(f"#   {exc!r}")
    if not ok:
        failed += 1
    print(("ok" if ok else "not ok") + f" {n} - {desc}")

catalog = Catalog()
store = Store(catalog)
ns = catalog.lookup("", "v1", "namespaces")
store.create(ns, "", {"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": "t"}}, WriteOptions("test"))
deploy = catalog.lookup("apps", "v1", "deployments")
service = catalog.lookup("", "v1", "services")
cm = catalog.lookup("", "v1", "configmaps")
crds = catalog.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")

def apply(rtype, name, body, manager, force=False):
    return store.apply(rtype, "t", name, body, WriteOptions(manager, False,
                                                            force))[0]

def refused(rtype, name, body, code=500):
    try:
        apply(rtype, name, body, "x")
    except errors.ApiError as exc:
        return exc.code == code and exc.message
    return False

def dep(containers, **spec):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "t"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, **spec,
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": containers}}}}

def names(obj):
    return [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]

LIST = typed.T("list", elem=typed.ANY, keys=("name",))
def order(live, patch):
    return [i["name"] for i in typed.merge(
        [{"name": x} for x in live], [{"name": x} for x in patch], LIST)]

check("keyed merge: live items the patch does not name keep their place",
      lambda: order("abc", "cd") == list("abcd") and
      order("abc", "xb") == list("axbc"))
check("keyed merge: shared items take the patch's order",
      lambda: order("ab", "ba") == list("ba"))

first = apply(deploy, "d", dep([{"name": "app", "image": "a:1"}]), "m1")
both = apply(deploy, "d", dep([{"name": "side", "image": "s:1"}]), "m2")
check("a second manager's container is added, the first one's kept",
      lambda: names(both) == ["app", "side"])
again = apply(deploy, "d", dep([{"name": "app", "image": "a:2"}]), "m1")
check("re-applying one's own container leaves the other's",
      lambda: names(again) == ["app", "side"] and
      again["spec"]["template"]["spec"]["containers"][0]["image"] == "a:2")
gone = apply(deploy, "d", dep([{"name": "app", "image": "a:2"}]), "m2")
check("a container its only manager stops applying goes",
      lambda: names(gone) == ["app"])
check("managedFields name items by key, with '.'",
      lambda: '"k:{\\"name\\":\\"app\\"}": {"."' in
      json.dumps(gone["metadata"]["managedFields"]))

svc = {"apiVersion": "v1", "kind": "Service",
       "metadata": {"name": "s", "namespace": "t"},
       "spec": {"ports": [{"port": 80, "name": "http"}]}}
apply(service, "s", svc, "m1")
svc2 = dict(svc, spec={"ports": [{"port": 443, "name": "https"},
                                 {"port": 53, "protocol": "UDP"}]})
merged = apply(service, "s", svc2, "m2")
check("Service ports merge by port+protocol (protocol defaults to TCP)",
      lambda: sorted((p["port"], p["protocol"])
                     for p in merged["spec"]["ports"]) ==
      [(53, "UDP"), (80, "TCP"), (443, "TCP")])
check("a dup port in a Service is the 500 with its key",
      lambda: "duplicate entries for key [port=80,protocol=\"TCP\"]" in
      refused(service, "s2", dict(svc, metadata={"name": "s2"}, spec={
          "ports": [{"port": 80}, {"port": 80, "protocol": "TCP"}]})))

def cmap(name, **meta):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "t", **meta}}
apply(cm, "f", cmap("f", finalizers=["a.io/x"]), "m1")
union = apply(cm, "f", cmap("f", finalizers=["b.io/y"]), "m2")
check("finalizers are a set: each manager's entry kept",
      lambda: sorted(union["metadata"]["finalizers"]) == ["a.io/x", "b.io/y"])
dropped = apply(cm, "f", cmap("f"), "m1")
check("a finalizer its manager stops applying goes",
      lambda: dropped["metadata"]["finalizers"] == ["b.io/y"])

check("an unknown field is the 500 'field not declared in schema'",
      lambda: refused(deploy, "d", dep([{"name": "a"}], replicaz=1)) ==
      "failed to create typed patch object (t/d; apps/v1, Kind=Deployment):"
      " .spec.replicaz: field not declared in schema")
check("a wrong scalar type is the 500 naming the item by its key",
      lambda: ".ports[containerPort=\"80\",protocol=\"TCP\"].containerPort:"
      " expected numeric (int or float), got string" in
      refused(deploy, "d", dep([{"name": "a",
                                 "ports": [{"containerPort": "80"}]}])))
check("quantities and int-or-string take numbers and strings",
      lambda: apply(deploy, "q", dict(dep([{"name": "a", "resources": {
          "limits": {"cpu": 1, "memory": "1Gi"}}}], strategy={
          "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1,
                                                     "maxUnavailable": "0"}}),
          metadata={"name": "q"}), "m1") is not None)

crd = {"apiVersion": "apiextensions.k8s.io/v1",
       "kind": "CustomResourceDefinition",
       "metadata": {"name": "gadgets.t.example"},
       "spec": {"group": "t.example", "scope": "Namespaced",
                "names": {"plural": "gadgets", "kind": "Gadget"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {
                                  "type": "object", "properties": {
                                      "spec": {"type": "object", "properties": {
                                          "size": {"type": "integer"},
                                          "port": {"x-kubernetes-int-or-string": True},
                                          "free": {"type": "object",
                                                   "x-kubernetes-preserve-unknown-fields": True},
                                          "tags": {"type": "object",
                                                   "additionalProperties": {"type": "string"}},
                                          "items": {"type": "array",
                                                    "x-kubernetes-list-type": "map",
                                                    "x-kubernetes-list-map-keys": ["id"],
                                                    "items": {"type": "object", "properties": {
                                                        "id": {"type": "string"},
                                                        "v": {"type": "integer"}}}}}}}}}}]}}
store.create(crds, "", crd, WriteOptions("test"))
catalog.set_crd_types("gadgets.t.example", __import__(
    "sim.catalog", fromlist=["types_from_crd"]).types_from_crd(
        store.find(crds.resource, "", "gadgets.t.example")))
gadget = catalog.lookup("t.example", "v1", "gadgets")
def cr(name, spec):
    return {"apiVersion": "t.example/v1", "kind": "Gadget",
            "metadata": {"name": name, "namespace": "t"}, "spec": spec}
check("a custom resource within its structural schema applies",
      lambda: apply(gadget, "g", cr("g", {
          "size": 1, "port": "http", "free": {"any": {"thing": [1]}},
          "tags": {"a": "b"}, "items": [{"id": "x", "v": 1}]}), "m1"))
check("... a field its schema lacks is the 500",
      lambda: ".spec.colour: field not declared in schema" in
      refused(gadget, "g2", cr("g2", {"colour": "red", "size": 1})))
check("... a map of strings refuses a number",
      lambda: ".spec.tags.a: expected string" in
      refused(gadget, "g3", cr("g3", {"tags": {"a": 1}})))
check("... its keyed list refuses a duplicate id",
      lambda: "duplicate entries for key [id=\"x\"]" in
      refused(gadget, "g4", cr("g4", {"items": [{"id": "x"}, {"id": "x"}]})))
check("... and merges by id across managers",
      lambda: [i["id"] for i in apply(gadget, "g", cr("g", {
          "items": [{"id": "y"}]}), "m2")["spec"]["items"]] == ["x", "y"])

paths = {("f:spec", "f:a"), ("f:spec", 'k:{"name":"x"}'),
         ("f:spec", 'k:{"name":"x"}', "f:image"), ("f:meta", 'v:"a"')}
check("FieldsV1 round trip (with '.' for owned items that have fields)",
      lambda: typed.from_fields_v1(typed.to_fields_v1(paths)) == paths)

print(f"{n - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
