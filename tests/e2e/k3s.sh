#!/bin/bash
# The agent's main scenarios against a real k3s (or any Kubernetes API):
# install, upgrade with prune, a release whose Deployment never becomes
# available rolled back to the last-known-good, quarantine. Needs KUBECONFIG
# pointing at the cluster (k3s: /etc/rancher/k3s/k3s.yaml) and pulls the
# public nginx image; without KUBECONFIG it says it skipped and exits 0.
#
# usage: KUBECONFIG=/etc/rancher/k3s/k3s.yaml OUTPOST=build/x86_64/outpost bash tests/e2e/k3s.sh
set -u
if [ -z "${KUBECONFIG:-}" ]; then
	echo "# skipped: set KUBECONFIG to a real k3s cluster to run these scenarios"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
TMP=$(mktemp -d)
NS=outpost-e2e-$$
trap 'kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1; rm -rf "$TMP"' EXIT
cd "$TMP"
n=0 pass=0 fail=0
check() { local d=$1; shift; n=$((n + 1)); if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); echo "ok $n - $d"; else fail=$((fail + 1)); echo "not ok $n - $d"; fi; }

$OUTPOST keygen -o k >/dev/null 2>&1
$OUTPOST root init --key k.key -o root.yaml >/dev/null 2>&1
app() { # DIR IMAGE [extra ConfigMap]
	mkdir -p "$1"
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$NS" > "$1/00-ns.yaml"
	[ -n "${3:-}" ] && printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: %s}\ndata: {a: "1"}\n' "$NS" > "$1/10-cm.yaml"
	cat > "$1/20-web.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: 1
  progressDeadlineSeconds: 20
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "$2"}]}
YAML
}
app v1 nginx:1.25-alpine extra
app v2 nginx:1.27-alpine
app v3 registry.invalid/no-such-image:1
for v in 1 2 3; do
	$OUTPOST bundle pack --app e2e --version $v --sequence $v v$v -o e2e-$v.bundle \
		--key k.key --health-timeout 120 >/dev/null 2>&1
done
cat > config.yaml <<YAML
server: https://releases.invalid/
device: {id: e2e}
trust: {root: $TMP/root.yaml}
apps: [{name: e2e, namespace: $NS}]
kubernetes: {kubeconfig: $KUBECONFIG}
state_dir: $TMP/state
YAML
op() { $OUTPOST --config "$TMP/config.yaml" "$@"; }

op import e2e-1.bundle 2>log; check "v1 installs and becomes healthy" test $? -eq 0
check "v1's ConfigMap exists" kubectl get configmap extra -n "$NS"
op import e2e-2.bundle 2>log; check "v2 installs" test $? -eq 0
check "v1's ConfigMap was pruned" bash -c "! kubectl get configmap extra -n $NS"
op import e2e-3.bundle 2>log; check "v3 (image that never pulls) fails" test $? -eq 1
check "rolled back to v2" bash -c "$OUTPOST --config $TMP/config.yaml status | grep -q 'current sequence 2'"
check "the cluster runs v2's image" test "$(kubectl get deployment web -n "$NS" -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1.27-alpine
op import e2e-3.bundle 2>log; check "v3 is quarantined" test $? -eq 1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
