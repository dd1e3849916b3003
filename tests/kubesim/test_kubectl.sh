#!/usr/bin/env bash
# Tests kubesim by driving it with the real kubectl (and curl).
# Usage: bash tests/kubesim/test_kubectl.sh   (from anywhere)
# Prints "ok N - ..." / "not ok N - ..." lines and "P passed, F failed";
# exits non-zero when any check fails.
set -u

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
sim="$work/sim"
pid=""
python=/usr/bin/python3
[ -x "$python" ] || python=python3

cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$python" "$here/kubesim.py" --dir "$sim" >"$work/kubesim.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    [ -f "$sim/ready" ] && break
    sleep 0.1
done
if [ ! -f "$sim/ready" ]; then
    echo "not ok 1 - kubesim did not start"
    cat "$work/kubesim.log"
    echo "0 passed, 1 failed"
    exit 1
fi
port=$(cat "$sim/port")
export KUBECONFIG="$sim/kubeconfig"
export KUBECACHEDIR="$work/cache"

k() { kubectl --request-timeout=10s "$@"; }
url() { echo "https://127.0.0.1:$port$1"; }
control() {
    curl -sS --fail --cacert "$sim/ca.crt" -X POST -d "$1" \
        "$(url /kubesim/control)" >/dev/null
}
authcurl() {
    curl -sS --cacert "$sim/ca.crt" --cert "$sim/client.crt" \
        --key "$sim/client.key" "$@"
}
jp() { k get "$@" -o "jsonpath={.metadata.resourceVersion}/{.metadata.generation}"; }

agg_v2='application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'
agg_v2beta1='application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList'
client_go_accept="$agg_v2,$agg_v2beta1,application/json"   # what kubectl sends
# discovery PATH ACCEPT: GET PATH into $work/headers and $work/body
discovery() {
    authcurl --fail -D "$work/headers" -o "$work/body" -H "Accept: $2" \
        "$(url "$1")"
}
kc() { k --cache-dir "$(mktemp -d "$work/cache.XXXXXX")" "$@"; }  # no cache
content_type() { tr -d '\r' <"$work/headers" | sed -n 's/^content-type: //Ip'; }
# discovered VERSION [GV PLURAL SCOPE[+status]]...: $work/body is an
# apidiscovery.k8s.io/VERSION APIGroupDiscoveryList listing each resource
# with that scope (and a status subresource exactly when +status is given)
discovered() {
    "$python" - "$work/body" "$@" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
want = sys.argv[2:]
assert doc["kind"] == "APIGroupDiscoveryList", doc["kind"]
assert doc["apiVersion"] == "apidiscovery.k8s.io/" + want[0], doc["apiVersion"]
found = {}
for item in doc["items"]:
    for version in item["versions"]:
        assert version["freshness"] == "Current", version
        # the core group has no name; responseKind leaves group and
        # version empty for built-ins ("this group-version", as a real
        # v1.32 server sends them) and fills them in for custom resources
        assert item["metadata"].get("creationTimestamp", 0) is None, item
        gv = "/".join(filter(None, (item["metadata"].get("name", ""),
                                    version["version"])))
        for res in version["resources"]:
            kind = res["responseKind"]
            assert "/".join(filter(None, (kind["group"], kind["version"]))) \
                in ("", gv), res
            status = [sub for sub in res.get("subresources", ())
                      if sub["subresource"] == "status"]
            found[gv, res["resource"]] = res["scope"] + \
                ("+status" if status else "")
for gv, plural, scope in zip(want[1::3], want[2::3], want[3::3]):
    got = found.get((gv, plural))
    assert got == scope, (gv, plural, got)
EOF
}

passed=0
failed=0
check() {
    local desc=$1
    shift
    if "$@" >"$work/out" 2>&1; then
        passed=$((passed + 1))
        echo "ok $((passed + failed)) - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $((passed + failed)) - $desc"
        sed 's/^/#   /' "$work/out" | head -20
    fi
}

# Manifests ------------------------------------------------------------------

cat >"$work/app.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: demo
  labels: {app: "x"}
data:
  key: one
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
  labels: {app: "x"}
spec:
  selector: {app: "x"}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  namespace: demo
  labels: {app: "x"}
spec:
  replicas: 2
  selector: {matchLabels: {app: "x"}}
  template:
    metadata: {labels: {app: "x"}}
    spec:
      containers: [{name: c, image: nginx}]
EOF

cat >"$work/other.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  namespace: demo
  labels: {app: "other"}
data:
  key: one
EOF

cat >"$work/slow.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow
  namespace: demo
  annotations:
    kubesim.outpost.dev/behavior: progress-deadline
    kubesim.outpost.dev/after-ms: "300"
spec:
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      containers: [{name: c, image: nginx}]
EOF

cat >"$work/workloads.yaml" <<'EOF'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: demo}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: postgres}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: demo}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: broken
  namespace: demo
  annotations: {kubesim.outpost.dev/behavior: job-fail}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: traefik, namespace: kube-system}
spec:
  chart: traefik
  repo: https://example.invalid/charts
EOF

cat >"$work/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF

cat >"$work/cr.yaml" <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: demo}
spec: {size: 3}
EOF

# Checks -----------------------------------------------------------------------

t_version() {
    k version -o json | grep -q '"gitVersion": "v1.32.*+k3s1"'
}
check "kubectl version reports a v1.32 k3s server" t_version

t_api_resources() {
    k api-resources >"$work/res" &&
        grep -qE '^deployments +deploy +apps/v1 +true +Deployment' "$work/res" &&
        grep -qE '^helmcharts +helm.cattle.io/v1 +true +HelmChart' "$work/res" &&
        grep -qE '^namespaces +ns +v1 +false +Namespace' "$work/res"
}
check "kubectl api-resources lists deployments and helmcharts" t_api_resources

t_aggregated_v2() {
    discovery /apis "$client_go_accept" &&
        [ "$(content_type)" = "$agg_v2" ] &&
        discovered v2 apps/v1 deployments Namespaced+status \
            apiextensions.k8s.io/v1 customresourcedefinitions Cluster+status \
            rbac.authorization.k8s.io/v1 roles Namespaced \
            helm.cattle.io/v1 helmcharts Namespaced+status &&
        ! discovered v2 v1 configmaps Namespaced &&
        discovery /api "$client_go_accept" &&
        [ "$(content_type)" = "$agg_v2" ] &&
        discovered v2 v1 configmaps Namespaced v1 namespaces Cluster+status &&
        grep -q '"items":\[{"metadata":{"creationTimestamp":null},' \
            "$work/body"
}
check "aggregated discovery request gets apidiscovery.k8s.io/v2" t_aggregated_v2

t_aggregated_v2beta1() {
    discovery /apis "$agg_v2beta1" &&
        [ "$(content_type)" = "$agg_v2beta1" ] &&
        discovered v2beta1 apps/v1 deployments Namespaced+status &&
        discovery /apis "$agg_v2;q=0,$agg_v2beta1,application/json" &&
        [ "$(content_type)" = "$agg_v2beta1" ]
}
check "a v2beta1-only (or v2 q=0) request gets v2beta1" t_aggregated_v2beta1

t_plain_discovery() {
    discovery /apis 'application/json, */*' &&
        [ "$(content_type)" = application/json ] &&
        grep -q '"kind":"APIGroupList"' "$work/body" &&
        discovery /api '*/*' && [ "$(content_type)" = application/json ] &&
        grep -q '"kind":"APIVersions"' "$work/body"
}
check "a plain JSON request gets the legacy documents" t_plain_discovery

t_aggregated_off() {
    control '{"aggregated_discovery": false}' || return 1
    discovery /apis "$client_go_accept" &&
        [ "$(content_type)" = application/json ] &&
        grep -q '"kind":"APIGroupList"' "$work/body" &&
        discovery /api "$client_go_accept" &&
        grep -q '"kind":"APIVersions"' "$work/body"
    local result=$?
    control '{"aggregated_discovery": true}' && return $result
}
check "aggregated_discovery knob off: aggregated request gets legacy" t_aggregated_off

# kubectl_discovery on|off: with the knob so, a fresh kubectl sees a new CRD
# in api-resources once it is established (reading only /api and /apis when
# aggregated), applies a custom resource and gets it.
kubectl_discovery() {
    local mode=$1 knob=true group="$1.example.com" result
    [ "$mode" = off ] && knob=false
    control "{\"aggregated_discovery\": $knob}" || return 1
    sed -e "s/example\.com/$group/" -e 's/widget/gadget/g' \
        -e 's/Widget/Gadget/' -e 's/\[wd\]/[gd]/' "$work/crd.yaml" \
        >"$work/crd-$mode.yaml"
    sed -e "s/example\.com/$group/" -e 's/Widget/Gadget/' \
        -e 's/namespace: demo/namespace: default/' "$work/cr.yaml" \
        >"$work/cr-$mode.yaml"
    kc apply --server-side -f "$work/crd-$mode.yaml" &&
        kc wait --for=condition=Established "crd/gadgets.$group" \
            --timeout=10s &&
        kc api-resources -v=6 >"$work/res-$mode" 2>"$work/log-$mode" &&
        grep -qE "^gadgets +gd +$group/v1 +true +Gadget" "$work/res-$mode" &&
        grep -qE '^deployments +deploy +apps/v1 +true +Deployment' \
            "$work/res-$mode" &&
        grep -q ' GET [^ ]*/apis?' "$work/log-$mode" &&
        if [ "$mode" = on ]; then
            ! grep -q ' GET [^ ]*/apis/apps/v1?' "$work/log-$mode"
        else
            grep -q ' GET [^ ]*/apis/apps/v1?' "$work/log-$mode"
        fi &&
        kc apply --server-side -f "$work/cr-$mode.yaml" &&
        [ "$(kc get gd w1 -o 'jsonpath={.spec.size}')" = 3 ] &&
        [ "$(kc get -n default gadgets.$group -o name)" = "gadget.$group/w1" ]
    result=$?
    k delete crd "gadgets.$group" >/dev/null
    control '{"aggregated_discovery": true}' && return $result
}
t_kubectl_aggregated() { kubectl_discovery on; }
check "kubectl with aggregated discovery: api-resources, apply, get a CRD's kind" t_kubectl_aggregated
t_kubectl_legacy() { kubectl_discovery off; }
check "kubectl with the knob off (legacy discovery): the same works" t_kubectl_legacy

t_apply() {
    k apply --server-side -f "$work/app.yaml" | tee "$work/applied" &&
        [ "$(grep -c ' serverside-applied$' "$work/applied")" = 4 ]
}
check "apply --server-side of a multi-document manifest" t_apply

# The Deployment's controller writes its status once it is ready (100 ms
# after the apply): a write of its own that moves resourceVersion. So the
# snapshot is taken once it has rolled out, not while that write may come.
t_noop_apply() {
    local cm dep
    k rollout status -n demo deployment/x --timeout=30s >/dev/null &&
    cm=$(jp -n demo configmap/cfg) && dep=$(jp -n demo deployment/x) &&
        k apply --server-side -f "$work/app.yaml" >/dev/null &&
        [ "$(jp -n demo configmap/cfg)" = "$cm" ] &&
        [ "$(jp -n demo deployment/x)" = "$dep" ] && [ "${dep#*/}" = 1 ]
}
check "identical re-apply keeps resourceVersion and generation" t_noop_apply

t_changed_apply() {
    local before after
    before=$(jp -n demo deployment/x) &&
        sed 's/replicas: 2/replicas: 3/' "$work/app.yaml" >"$work/app3.yaml" &&
        k apply --server-side -f "$work/app3.yaml" >/dev/null &&
        after=$(jp -n demo deployment/x) &&
        [ "${after%/*}" -gt "${before%/*}" ] && [ "${after#*/}" = 2 ]
}
check "changed apply bumps resourceVersion and generation" t_changed_apply

t_list_json() {
    k apply --server-side -f "$work/other.yaml" >/dev/null &&
        k get -n demo configmaps -o json >"$work/list" &&
        grep -q '"kind": "List"' "$work/list" &&
        [ "$(grep -c '"kind": "ConfigMap"' "$work/list")" = 2 ]
}
check "kubectl get -o json lists objects" t_list_json

t_label_selector() {
    [ "$(k get -n demo configmaps -l app=x -o name)" = configmap/cfg ] &&
        [ "$(k get -n demo configmaps -l 'app notin (x)' -o name)" = configmap/other ] &&
        [ "$(k get deployments -A -l app=x -o name)" = deployment.apps/x ]
}
check "label selectors filter lists" t_label_selector

t_rollout_ok() {
    k rollout status -n demo deployment/x --timeout=10s
}
check "rollout status succeeds for a ready deployment" t_rollout_ok

t_rollout_deadline() {
    k apply --server-side -f "$work/slow.yaml" >/dev/null || return 1
    ! k rollout status -n demo deployment/slow --timeout=10s &&
        grep -q "exceeded its progress deadline" "$work/out"
}
check "rollout status fails on ProgressDeadlineExceeded" t_rollout_deadline

t_workloads() {
    k apply --server-side -f "$work/workloads.yaml" >/dev/null &&
        k rollout status -n demo statefulset/db --timeout=10s &&
        k rollout status -n demo daemonset/agent --timeout=10s &&
        k wait -n demo --for=condition=Failed job/broken --timeout=10s &&
        k wait -n kube-system --for=condition=Complete \
            job/helm-install-traefik --timeout=10s &&
        [ "$(k get -n kube-system helmchart/traefik \
            -o 'jsonpath={.status.jobName}')" = helm-install-traefik ]
}
check "statefulset/daemonset roll out, jobs fail/complete, helmchart installs" t_workloads

t_crd() {
    k apply --server-side -f "$work/crd.yaml" >/dev/null &&
        k wait --for=condition=Established crd/widgets.example.com \
            --timeout=10s &&
        k apply --server-side -f "$work/cr.yaml" &&
        [ "$(k get -n demo widgets -o name)" = widget.example.com/w1 ] &&
        [ "$(k get wd -A -o 'jsonpath={.items[0].spec.size}')" = 3 ]
}
check "CRD becomes established and its custom resources apply and list" t_crd

t_crd_delete() {
    k delete crd widgets.example.com &&
        [ "$(authcurl -o /dev/null -w '%{http_code}' \
            "$(url /apis/example.com/v1/namespaces/demo/widgets/w1)")" = 404 ]
}
check "deleting a CRD removes its resources" t_crd_delete

t_watch() {
    timeout 5 kubectl get -n demo configmaps -w --output-watch-events \
        >"$work/watch" 2>&1 &
    local watcher=$! found=1
    sleep 1
    k patch -n demo configmap/other --type=merge -p '{"data":{"key":"two"}}' \
        >/dev/null
    for _ in $(seq 30); do
        if grep -q '^MODIFIED *other' "$work/watch"; then
            found=0
            break
        fi
        sleep 0.1
    done
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    cat "$work/watch"
    return $found
}
check "kubectl get -w receives a MODIFIED event" t_watch

t_conflict() {
    sed 's/key: one/key: mine/' "$work/app.yaml" >"$work/bob.yaml"
    ! k apply --server-side --field-manager=bob -f "$work/bob.yaml" &&
        grep -q 'conflict with "kubectl"' "$work/out" &&
        k apply --server-side --field-manager=bob --force-conflicts \
            -f "$work/bob.yaml" &&
        [ "$(k get -n demo configmap/cfg -o 'jsonpath={.data.key}')" = mine ]
}
check "apply conflicts with another manager; --force-conflicts wins" t_conflict

t_dry_run() {
    sed 's/name: other/name: dry/' "$work/other.yaml" >"$work/dry.yaml" &&
        k apply --server-side --dry-run=server -f "$work/dry.yaml" &&
        ! k get -n demo configmap/dry
}
check "apply --dry-run=server stores nothing" t_dry_run

t_delete() {
    k delete -n demo configmap/other &&
        ! k get -n demo configmap/other && grep -q NotFound "$work/out"
}
check "kubectl delete removes an object" t_delete

t_down_up() {
    control '{"down": true}' || return 1
    ! timeout 20 kubectl --request-timeout=1s get namespaces || return 1
    control '{"down": false}' && k get namespace demo
}
check "down mode makes kubectl fail, up mode recovers" t_down_up

t_injected_errors() {
    control '{"error_rate": 1, "error_code": 500}' || return 1
    ! k get --raw /api/v1/namespaces/default
    local failed_ok=$?
    control '{"error_rate": 0}' &&
        [ $failed_ok = 0 ] && grep -q InternalError "$work/out"
}
check "error_rate injects 500 InternalError" t_injected_errors

t_missing_field_manager() {
    authcurl -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
        -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"z"}}' \
        -w '\n%{http_code}\n' \
        "$(url /api/v1/namespaces/demo/configmaps/z)" >"$work/resp" &&
        grep -q '"kind":"Status"' "$work/resp" &&
        grep -q '"reason":"Invalid"' "$work/resp" &&
        [ "$(tail -1 "$work/resp")" = 422 ]
}
check "apply without fieldManager is a 422 Invalid Status" t_missing_field_manager

t_unknown() {
    ! k get foos && grep -q 'the server doesn.t have a resource type "foos"' "$work/out" &&
        ! k get --raw /api/v1/foos && grep -q NotFound "$work/out" &&
        ! k get -n nowhere configmap/x && grep -q NotFound "$work/out"
}
check "unknown resources and objects are NotFound" t_unknown

t_missing_namespace() {
    sed 's/namespace: demo/namespace: nowhere/' "$work/other.yaml" \
        >"$work/lost.yaml"
    ! k apply --server-side -f "$work/lost.yaml" &&
        grep -q 'namespaces "nowhere" not found' "$work/out"
}
check "apply into a missing namespace is NotFound" t_missing_namespace

# keyed MANAGER CONTAINERS-YAML [ARGS]: apply a Deployment "keyed" in demo
keyed() {
    cat >"$work/keyed-$1.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: keyed, namespace: demo}
spec:
  selector: {matchLabels: {app: keyed}}
  template:
    metadata: {labels: {app: keyed}}
    spec:
      containers:
$2
EOF
    k apply --server-side --field-manager="$1" -f "$work/keyed-$1.yaml" "${@:3}"
}
containers_of() {
    k get deployment keyed -n demo -o \
        'jsonpath={range .spec.template.spec.containers[*]}{.name}={.image}:{range .env[*]}{.name},{end} {end}'
}
t_keyed_lists() {
    keyed alice '      - {name: app, image: "app:1", env: [{name: A, value: "1"}]}' &&
        keyed bob '      - {name: app, env: [{name: B, value: "2"}]}
      - {name: side, image: "side:1"}' &&
        [ "$(containers_of)" = "app=app:1:A,B, side=side:1: " ] &&
        k get deployment keyed -n demo --show-managed-fields -o json |
            grep -qF 'k:{\"name\":\"side\"}' &&
        keyed alice '      - {name: app, image: "app:1"}' &&
        [ "$(containers_of)" = "app=app:1:B, side=side:1: " ] &&
        ! keyed bob '      - {name: app, image: "app:2"}' &&
        grep -qF 'conflict with "alice": .spec.template.spec.containers[name="app"].image' "$work/out" &&
        keyed bob '      - {name: side, image: "side:1"}' &&
        [ "$(containers_of)" = "app=app:1: side=side:1: " ]
}
check "apply --server-side merges containers and env by name, per manager" t_keyed_lists

t_typed_refusals() {
    ! keyed carol '      - {name: app, env: [{name: X}, {name: X}]}' &&
        grep -qF 'failed to create typed patch object (demo/keyed; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="app"].env: duplicate entries for key [name="X"]' "$work/out" &&
        ! keyed carol '      - {name: app, ports: [{containerPort: "80"}]}' &&
        grep -q 'expected numeric (int or float), got string' "$work/out" &&
        ! keyed carol '      - {name: app, imagePullPolicyy: Always}' &&
        grep -q 'imagePullPolicyy: field not declared in schema' "$work/out" &&
        sed 's/app: keyed}}$/app: other}}/' "$work/keyed-alice.yaml" \
            >"$work/keyed-sel.yaml" &&
        ! k apply --server-side --force-conflicts --field-manager=alice \
            -f "$work/keyed-sel.yaml" &&
        grep -q 'spec.selector: Invalid value: .*field is immutable' "$work/out"
}
check "typed refusals: duplicate key, quoted port, unknown field (500), selector (422)" t_typed_refusals

t_field_validation() {
    printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' \
        'metadata: {name: typo, namespace: demo}' 'data: {a: "1"}' 'dataa: {b: "2"}' \
        >"$work/typo.yaml" &&
        ! k create -f "$work/typo.yaml" &&
        grep -qF 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dataa"' "$work/out" &&
        k create --validate=warn -f "$work/typo.yaml" 2>&1 | tee "$work/warned" &&
        grep -qF 'Warning: unknown field "dataa"' "$work/warned" &&
        [ -z "$(k get configmap typo -n demo -o 'jsonpath={.dataa}')" ] &&
        [ "$(k get configmap typo -n demo -o 'jsonpath={.data.a}')" = 1 ]
}
check "create: unknown fields are refused (Strict) or dropped with a Warning" t_field_validation

t_namespace_terminating() {
    printf '%s\n' 'apiVersion: v1' 'kind: Namespace' 'metadata: {name: doomed}' \
        '---' 'apiVersion: v1' 'kind: ConfigMap' \
        'metadata: {name: held, namespace: doomed, finalizers: [example.com/hold]}' |
        k apply --server-side -f - &&
        k delete namespace doomed --wait=false &&
        [ "$(k get namespace doomed -o 'jsonpath={.status.phase}')" = Terminating ] &&
        [ -n "$(k get configmap held -n doomed -o 'jsonpath={.metadata.deletionTimestamp}')" ] &&
        ! printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' \
            'metadata: {name: late, namespace: doomed}' |
            k apply --server-side -f - &&
        grep -q 'because it is being terminated' "$work/out" &&
        printf '%s\n' 'apiVersion: v1' 'kind: Namespace' \
            'metadata: {name: doomed, labels: {again: "yes"}}' |
            k apply --server-side -f - &&
        [ "$(k get namespace doomed -o 'jsonpath={.status.phase}')" = Terminating ] &&
        k patch configmap held -n doomed --type=merge \
            -p '{"metadata":{"finalizers":null}}' &&
        for _ in $(seq 50); do
            k get namespace doomed >/dev/null 2>&1 || break
            sleep 0.1
        done &&
        ! k get namespace doomed &&
        ! k delete namespace kube-system &&
        grep -q 'namespaces "kube-system" is forbidden: this namespace may not be deleted' "$work/out"
}
check "a deleted namespace is Terminating until its finalized content goes (applying it again keeps it so)" t_namespace_terminating

t_namespace_delete() {
    k delete namespace demo --timeout=10s &&
        [ -z "$(k get deployments,configmaps -A -o name | grep demo)" ] &&
        ! k get namespace demo
}
check "deleting a namespace deletes its contents" t_namespace_delete

t_keepalive() {
    authcurl -v "$(url /version)" "$(url /api)" 2>&1 >/dev/null |
        grep -q 'Re-using existing connection'
}
check "curl reuses one keep-alive connection" t_keepalive

t_resolve_name() {
    curl -sS --cacert "$sim/ca.crt" --cert "$sim/client.crt" \
        --key "$sim/client.key" --resolve "kubernetes:$port:127.0.0.1" \
        "https://kubernetes:$port/version" | grep -q gitVersion &&
        curl -sS --cacert "$sim/ca.crt" \
            -H "Authorization: Bearer $(cat "$sim/token")" \
            --resolve "kubernetes:$port:127.0.0.1" \
            "https://kubernetes:$port/api/v1/namespaces/default" |
        grep -q '"kind":"Namespace"'
}
check "server name 'kubernetes', client cert and bearer token work" t_resolve_name

# raw: send stdin and an empty line over TLS (TOKEN becomes the bearer
# token, LF becomes CRLF, a literal \n a bare LF), print the whole reply
raw() {
    "$python" - "$port" "$sim" "$(cat)" <<'PY'
import socket, ssl, sys
port, d, data = int(sys.argv[1]), sys.argv[2], sys.argv[3] + "\n\n"
token = open(f"{d}/token").read().strip()
ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
reply = b""
with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
    with ctx.wrap_socket(plain, server_hostname="localhost") as s:
        s.sendall(data.replace("TOKEN", token).replace("\n", "\r\n")
                  .replace("\\n", "\n").encode())
        try:
            while chunk := s.recv(65536):
                reply += chunk
        except OSError:
            pass
sys.stdout.write(reply.decode("latin-1"))
PY
}
t_pipelined() {   # two requests in one write: two replies, in order; then close
    printf '%s\n' 'GET /version HTTP/1.1' 'Host: x' 'Authorization: Bearer TOKEN' '' \
        'GET /api/v1/namespaces/kube-system HTTP/1.1' 'Host: x' \
        'Authorization: Bearer TOKEN' 'Connection: close' '' | raw >"$work/raw"
    [ "$(grep -o 'HTTP/1.1 200' "$work/raw" | wc -l)" = 2 ] &&
        tr -d '\r\n' <"$work/raw" | grep -q 'gitVersion.*"name":"kube-system"'
}
check "pipelined requests are answered in order" t_pipelined

t_chunked_body() {   # an apply whose body comes chunked
    printf '%s\n' \
        'PATCH /api/v1/namespaces/default/configmaps/chunked?fieldManager=t HTTP/1.1' \
        'Host: x' 'Authorization: Bearer TOKEN' \
        'Content-Type: application/apply-patch+yaml' \
        'Transfer-Encoding: chunked' 'Connection: close' '' \
        '1a' '{"apiVersion":"v1","kind":' '1c' '"ConfigMap","metadata":{"nam' \
        'e' 'e":"chunked"}}' '0' '' | raw >"$work/raw"
    grep -q '^HTTP/1.1 201' "$work/raw" &&
        k get configmap chunked -n default >/dev/null
}
check "a chunked request body is read whole" t_chunked_body

t_expect_continue() {   # a client that waits for 100 Continue gets it
    authcurl -v -X PATCH -H 'Expect: 100-continue' \
        -H 'Content-Type: application/apply-patch+yaml' \
        --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cont"}}' \
        "$(url '/api/v1/namespaces/default/configmaps/cont?fieldManager=t')" \
        2>"$work/err" >/dev/null &&
        grep -q '^< HTTP/1.1 100 Continue' "$work/err" &&
        grep -q '^< HTTP/1.1 201' "$work/err"
}
check "Expect: 100-continue is answered before the body" t_expect_continue

t_bad_requests() {   # malformed input: 400/431 and closed; the server lives on
    printf 'GARBAGE\n' | raw | grep -q '^HTTP/1.1 400' &&
        printf '%s\n' 'GET /version HTTP/1.1' 'Content-Length: -5' '' | raw |
            grep -q '^HTTP/1.1 400' &&
        printf 'GET /version HTTP/1.1\nX: %070000d\n' 0 | raw |
            grep -q '^HTTP/1.1 431' &&
        authcurl --fail "$(url /version)" | grep -q gitVersion
}
check "malformed requests get 400/431 and harm nothing" t_bad_requests

t_impersonation() {
    local sa=system:serviceaccount:rb:reader
    k create namespace rb >/dev/null 2>&1 || k apply -f - >/dev/null <<<'{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rb"}}'
    k apply -f - >/dev/null <<'YAML' || return 1
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: rb}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: rb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: rb}]
YAML
    k get configmaps -n rb --as=$sa >/dev/null &&
        ! k get secrets -n rb --as=$sa 2>"$work/forbidden" &&
        grep -q "secrets is forbidden: User \"$sa\" cannot list resource \"secrets\" in API group \"\" in the namespace \"rb\"" "$work/forbidden" &&
        ! k get configmaps -n default --as=$sa 2>/dev/null &&
        ! k apply -n rb --as=$sa -f - 2>"$work/forbidden" <<<'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "rb"}}' &&
        grep -q 'forbidden' "$work/forbidden" &&
        k get secrets -n rb >/dev/null     # the admin itself is not confined
}
check "an impersonated user is authorized by the RBAC objects applied" t_impersonation

# A Secret's stringData is write-only: the server merges it into data,
# base64, over data's own keys, and never returns it (upstream's
# Convert_v1_Secret_To_core_Secret).
t_secret_stringdata() {
    printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: sd, namespace: default}\ndata: {a: b2xk, b: Yg==}\nstringData: {a: new, c: "3"}\n' |
        k apply --server-side -f - >/dev/null &&
        [ "$(k get secret sd -n default -o jsonpath='{.data.a}/{.data.b}/{.data.c}/{.stringData}')" = "bmV3/Yg==/Mw==/" ]
}
check "a Secret's stringData is stored as data, never returned" t_secret_stringdata

t_stats() {
    curl -sS --cacert "$sim/ca.crt" "$(url /kubesim/stats)" >"$work/stats" &&
        cat "$work/stats" &&
        grep -q '"applies_unchanged":[1-9]' "$work/stats" &&
        grep -q '"max_inflight":[1-9]' "$work/stats"
}
check "/kubesim/stats counts requests" t_stats

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
