#!/bin/bash
# The Kubernetes API client against kubesim (HTTPS, client certificates):
# discovery, server-side apply (idempotent, parallel), CRDs then their
# resources, get/list/delete, parsed API errors, and "unknown" (exit 3)
# when the API is down or failing, kept apart from a refused apply (exit 1).
. "$(dirname "$0")/lib.bash"

start_kubesim
check "kubesim is ready" test -f "$SIM/ready"

kube() { $OUTPOST kube --kubeconfig "$KC" "$@"; }
control() {
	curl -s --cacert "$SIM/ca.crt" "https://localhost:$PORT/kubesim/$1" -d "${2:-{\}}" >/dev/null
}
stat_of() {
	curl -s --cacert "$SIM/ca.crt" "https://localhost:$PORT/kubesim/stats" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
have_kubectl=
command -v kubectl >/dev/null && have_kubectl=1
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

# --- discovery ---------------------------------------------------------------
kube discover >disc 2>err; rc=$?
check "discover exits 0" test $rc -eq 0
check "discover finds deployments" grep -qE '^apps/v1 +Deployment +deployments +namespaced' disc
check "discover finds k3s helmcharts" grep -qE '^helm.cattle.io/v1 +HelmChart +helmcharts +namespaced' disc
check "discover finds cluster-scoped namespaces" grep -qE '^v1 +Namespace +namespaces +cluster' disc
kube discover --json >blob
check "discover --json gives the cache blob" grep -q '^{"version":1,"types":\[\["v1",' blob
discovery_requests() {
	curl -s --cacert "$SIM/ca.crt" "https://localhost:$PORT/kubesim/stats" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['requests'].get('discovery', 0))"
}
control reset
kube discover >/dev/null
check "aggregated discovery: two requests (/api and /apis)" test "$(discovery_requests)" -eq 2
control control '{"aggregated_discovery": false}'
kube discover >disc-legacy 2>err; rc=$?
check "a legacy-only server (old k3s): discover exits 0" test $rc -eq 0
check "legacy discovery walks every group-version" test "$(discovery_requests)" -gt 10
check "legacy and aggregated discovery find the same kinds" cmp -s disc disc-legacy
control reset

# --- apply -------------------------------------------------------------------
cat >app.yaml <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
  labels: {app: web}
data:
  greeting: hello
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  namespace: shop
data: {a: "1"}
EOF
kube apply -f app.yaml >out1 2>err; rc=$?
check "apply of a multi-object manifest exits 0" test $rc -eq 0
check "the Namespace (listed second) was created first" \
	test "$(grep -c created out1)" -eq 4
check "apply prints each object with its resourceVersion" \
	grep -qE '^ConfigMap shop/web-config created rv=[0-9]+$' out1
if [ -n "$have_kubectl" ]; then
	check "kubectl sees the ConfigMap" kctl get configmap -n shop web-config
	check "kubectl sees the data" test "$(kctl get cm -n shop web-config -o jsonpath='{.data.greeting}')" = hello
	check "kubectl sees outpost as the field manager" \
		grep -q '"manager": *"outpost"' <<<"$(kctl get cm -n shop web-config -o json --show-managed-fields)"
fi
kube get configmap web-config -n shop >obj
check "get prints the object" grep -q '"greeting":"hello"' obj

kube apply -f app.yaml >out2 2>err
check "re-apply: all applied, none created" test "$(grep -c ' applied rv=' out2)" -eq 4
check "re-apply leaves every resourceVersion unchanged" \
	test "$(sed 's/ created / applied /' out1)" = "$(cat out2)"

sed -i 's/greeting: hello/greeting: bonjour/' app.yaml
kube apply -f app.yaml >out3 2>err
rv2=$(sed -n 's/^ConfigMap shop\/web-config applied rv=//p' out2)
rv3=$(sed -n 's/^ConfigMap shop\/web-config applied rv=//p' out3)
check "a changed object gets a new resourceVersion" test -n "$rv3" -a "$rv3" != "$rv2"
check "the unchanged objects keep theirs" \
	test "$(grep -v web-config out2)" = "$(grep -v web-config out3)"

kube list configmaps -n shop -l app=web >list
check "list with a label selector finds the labelled object" grep -q '^shop/web-config rv=' list
check "list with a label selector leaves out the others" test "$(wc -l <list)" -eq 1
kube list services -l 'app in (web,api),!legacy' >list
check "set-based selectors are encoded and understood" grep -q '^shop/web rv=' list

# --- CRD, then its custom resource (re-discovery on a miss) -----------------
cat >crd.yaml <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: shop
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
kube apply -f crd.yaml >out 2>err; rc=$?
check "a CRD and its resource in one file apply" test $rc -eq 0
check "the custom resource was created" grep -q '^Widget shop/w1 created' out
check "get finds the custom resource by kind" kube get widget w1 -n shop
control control '{"aggregated_discovery": false}'
check "legacy discovery finds the CRD's kind too" kube get widget w1 -n shop
control control '{"aggregated_discovery": true}'

# --- delete ------------------------------------------------------------------
kube delete configmap other -n shop >out 2>err; rc=$?
check "delete exits 0" test $rc -eq 0
check "delete says deleted" grep -q '^ConfigMap shop/other deleted' out
kube get configmap other -n shop >/dev/null 2>err; rc=$?
check "a deleted object is gone" test $rc -eq 1
check "get of a missing object says not found" grep -q 'not found' err
kube delete configmap other -n shop >out 2>err; rc=$?
check "deleting what is gone succeeds" test $rc -eq 0
check "... and says so" grep -q 'already gone' out

# --- API errors: refused (exit 1) with the parsed Status -----------------------
cat >bad.yaml <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: Bad_Name
  namespace: default
EOF
kube apply -f bad.yaml >out 2>err; rc=$?
check "an invalid object is refused with exit 1" test $rc -eq 1
check "the 422 Status is parsed into the message" \
	grep -q 'apply v1 ConfigMap default/Bad_Name: 422 Invalid: .*metadata.name' err
sed 's/Bad_Name/fine/; s/namespace: default/namespace: nosuch/' bad.yaml >nons.yaml
kube apply -f nons.yaml >out 2>err; rc=$?
check "an object in a missing namespace is refused with exit 1" test $rc -eq 1
check "the 404 Status is parsed into the message" grep -qF '404 NotFound: namespaces \"nosuch\" not found' err
kube get nosuchkind x >/dev/null 2>err; rc=$?
check "an unknown kind is an error" test $rc -eq 1

# --- the API down or failing: unknown (exit 3), never "refused" --------------
control control '{"down":true}'
kube apply -f app.yaml >out 2>err; rc=$?
check "API down: apply exits 3 (unknown)" test $rc -eq 3
check "API down: the message says unreachable, outcome unknown" grep -q 'unreachable, outcome unknown' err
check "API down: each object is marked unknown, none failed" \
	test "$(grep -c ' unknown$' out)" -eq 4 -a "$(grep -c failed out)" -eq 0
control control '{"down":false,"error_rate":1.0,"error_code":503}'
kube apply -f app.yaml >out 2>err; rc=$?
check "API answering 503: exit 3 (unknown)" test $rc -eq 3
check "API answering 503: the Status is in the message" grep -q '503 ServiceUnavailable' err
control control '{"error_rate":0.0}'
check "API back: apply succeeds again" kube apply -f app.yaml

# --- TLS is really verified ------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
	-out other.crt -subj /CN=other -days 1 2>/dev/null
sed "s/certificate-authority-data: .*/certificate-authority-data: $(base64 -w0 other.crt)/" \
	"$KC" >wrongca
$OUTPOST kube --kubeconfig wrongca discover >/dev/null 2>err; rc=$?
check "a kubeconfig with the wrong CA is refused" test $rc -ne 0
check "... because the server certificate does not verify" grep -q 'Cert verify failed' err
sed 's/^\(    server: .*\)$/\1\n    insecure-skip-tls-verify: true/' "$KC" >insecure
$OUTPOST kube --kubeconfig insecure discover >/dev/null 2>err; rc=$?
check "insecure-skip-tls-verify is refused" test $rc -eq 1
check "... with a clear message" grep -q 'insecure-skip-tls-verify: refused' err

# --- the connection pool -----------------------------------------------------
for i in $(seq 1 40); do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm%d, namespace: default}\ndata: {i: "%d"}\n---\n' $i $i
done >many.yaml
# kubesim answers each request at once unless it has latency: with 20 ms,
# requests that outpost runs in parallel are in flight together
control reset
control control '{"latency_ms": 20}'
kube apply --parallel 1 -f many.yaml >/dev/null
check "--parallel 1 keeps one request in flight" test "$(stat_of max_inflight)" -eq 1
control reset
control control '{"latency_ms": 20}'
kube apply --parallel 4 -f many.yaml >/dev/null
m=$(stat_of max_inflight)
check "--parallel 4 runs requests in parallel, at most 4" test "$m" -gt 1 -a "$m" -le 4
c=$(stat_of connections)
# outpost's at most 4, and one each for this script's control, stats, stats
check "connections are reused (discovery and 40 applies over <= 4 connections)" test "$c" -le 7

# --- 1,000 objects apply correctly ----------------------------------------------
for i in $(seq 1000); do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bulk-%d\n  namespace: default\n  labels: {bulk: "yes"}\ndata: {i: "%d"}\n---\n' "$i" "$i"
done > bulk.yaml
kube apply -f bulk.yaml >out 2>err; rc=$?
check "1,000 objects: apply exits 0" test $rc -eq 0
kube list configmaps -n default -l bulk=yes >list
check "1,000 objects: all 1,000 are in the cluster" test "$(wc -l <list)" -eq 1000
check "1,000 objects: each holds its own data" \
	test "$(kctl get configmap bulk-777 -n default -o jsonpath='{.data.i}')" = 777
kube apply -f bulk.yaml >out 2>err
kube list configmaps -n default -l bulk=yes >list2
check "1,000 objects: a second apply changes none of them" cmp -s list list2

# --- TLS: the cipher suite the target's core runs fastest ------------------------
# (mbedTLS has AES instructions only on x86_64; ARM builds offer ChaCha20
# first, and a Go API server, which kubesim chooses like, takes it)
# (outpost speaks TLS 1.2; this script's own curl calls use TLS 1.3 suites)
target=$($OUTPOST version | sed -n 's/^target //p')
control reset
kube apply -f bulk.yaml >/dev/null 2>&1
suites=$(curl -s --cacert "$SIM/ca.crt" "https://localhost:$PORT/kubesim/stats" |
	python3 -c "import json,sys; print(' '.join(sorted(c for c in json.load(sys.stdin)['ciphers'] if not c.startswith('TLS_'))))")
case $target in
x86_64) want=ECDHE-ECDSA-AES128-GCM-SHA256 ;;
*) want=ECDHE-ECDSA-CHACHA20-POLY1305 ;;
esac
check "TLS on $target: every connection of outpost used $want (got: $suites)" test "$suites" = "$want"

# --- one object twice: refused before anything is applied -------------------------
# 1,000 distinct objects (found in one sorted pass, not pairwise), two of
# them the same Deployment under two versions of its group
{
	for i in $(seq 999); do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice-%d, namespace: default}\n---\n' "$i"
	done
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: twice, namespace: default}\n'
	printf 'spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}\n---\n'
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: twice, namespace: default}\n---\n'
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice-1, namespace: kube-public}\n---\n'
	printf 'apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: twice, namespace: default}\n'
} > twice.yaml
line=$(grep -n 'apps/v1beta2' twice.yaml | cut -d: -f1)
kube apply -f twice.yaml >out 2>err; rc=$?
check "an object twice in a release: refused (exit 1)" test $rc -eq 1
check "and the second copy is named where it is" \
	grep -q "twice.yaml:$line: Deployment default/twice appears twice in the release" err
check "and nothing was applied" test -z "$(kube list configmaps -n default 2>/dev/null | grep twice-)"
head -n -3 twice.yaml >twice2.yaml
kube apply -f twice2.yaml >out 2>err; rc=$?
check "the same names in other kinds and namespaces are not the same object" test $rc -eq 0

done_testing
