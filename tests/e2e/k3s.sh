#!/bin/bash
# The agent's main scenarios against a real k3s (or any Kubernetes API):
# install, upgrade with prune, a release whose Deployment never becomes
# available rolled back to the last-known-good, quarantine; then the
# scenarios a real API server decides: (1) discovery and a no-op re-apply,
# (2) refused manifests (immutable fields, a duplicate env var, a quoted
# port) that fail and roll back without looping, (3) a HelmChart upgrade to
# a broken chart, not judged healthy early, rolled back, (4) CRDs, custom
# resources with a finalizer and their namespace pruned and installed again
# at once. Needs KUBECONFIG
# pointing at the cluster (k3s: /etc/rancher/k3s/k3s.yaml) and pulls the
# public nginx image; without KUBECONFIG it says it skipped and exits 0.
#
# Scenario (5), k3s's own controllers and a restart: a TTL-0 Job (removed
# by the TTL controller once done: healthy, and drift does not re-run it), a
# standalone local-path PVC (Pending until a Pod mounts it: healthy), and
# k3s restarted during an apply and during a health wait: no release may
# fail for it (exit 3, "unknown", then done by the next `once`). The restart
# runs K3S_RESTART (default `systemctl restart k3s` when that unit exists and
# we are root); without one, the restarts are skipped and said so.
#
# Scenario (6): Secrets encrypted to the gateway (age) and with SOPS, a
# release encrypted to another gateway and one outside the app's namespaces
# refused with nothing applied, and pause and resume.
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
trap 'kubectl delete namespace "$NS" "${NS}-5" --wait=false >/dev/null 2>&1; rm -rf "$TMP"' EXIT
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

# pack APP SEQ DIR [TIMEOUT]
pack() {
	$OUTPOST bundle pack --app "$1" --version "$1-$2" --sequence "$2" "$3" -o "$1-$2.bundle" \
		--key k.key --health-timeout "${4:-120}" >/dev/null 2>&1
}
python3 - "$TMP/config.yaml" "$NS" <<'PY'
import sys
p, ns = sys.argv[1], sys.argv[2]
s = open(p).read().replace("apps: [{name: e2e, namespace: %s}]" % ns,
    "apps: [{name: e2e, namespace: %s}, {name: refs, namespace: %s-r}, "
    "{name: chart, namespace: %s-h}, {name: crds, namespace: %s-c, namespaces: [%s-x], "
    "cluster_kinds: [CustomResourceDefinition]}]" % (ns, ns, ns, ns, ns))
open(p, "w").write(s)
PY
trap 'for s in "" -r -h -c -x -5 -6; do kubectl delete namespace "$NS$s" --wait=false >/dev/null 2>&1; done
      kubectl delete crd "gadgets.$NS.example.com" --wait=false >/dev/null 2>&1; rm -rf "$TMP"' EXIT

# --- (1) discovery, and a re-apply that changes nothing ------------------------
$OUTPOST kube --kubeconfig "$KUBECONFIG" discover > disc 2>&1
check "(1) discovery finds the core kinds (the nameless core group)" grep -qE '^v1 +Namespace +namespaces +cluster' disc
check "(1) ... and the groups" grep -qE '^apps/v1 +Deployment +deployments +namespaced' disc
rv1=$(kubectl get deployment web -n "$NS" -o jsonpath='{.metadata.resourceVersion}')
op once >/dev/null 2>&1
rv2=$(kubectl get deployment web -n "$NS" -o jsonpath='{.metadata.resourceVersion}')
check "(1) a cycle over an unchanged cluster re-applies nothing (resourceVersion $rv1 = $rv2)" test "$rv1" = "$rv2"

# --- (2) refused manifests: failed and rolled back, none loops ------------------
R=$NS-r
mkdir -p refs/1
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$R" > refs/1/00-ns.yaml
cat > refs/1/10-job.yaml <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: $R, annotations: {outpost.dev/recreate: "false"}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: busybox:1.36, command: ["true"]}]
YAML
cat > refs/1/20-web.yaml <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $R}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27-alpine, ports: [{containerPort: 80}]}]}
YAML
pack refs 1 refs/1
op import refs-1.bundle 2>log; check "(2) the base release installs" test $? -eq 0
seq=1
refused() { # WHAT SED-ON-FILE FILE WORDS
	seq=$((seq + 1)); rm -rf "refs/$seq"; cp -r refs/1 "refs/$seq"
	sed -i "$2" "refs/$seq/$3"; pack refs $seq "refs/$seq"
	local start=$(date +%s)
	op import "refs-$seq.bundle" 2>log; local rc=$?
	local took=$(( $(date +%s) - start ))
	check "(2) $1: fails (exit $rc) in ${took}s, no loop" test $rc -eq 1 -a $took -lt 60
	check "(2) $1: with the server's words" grep -q "$4" log
	check "(2) $1: rolled back" bash -c "$OUTPOST --config $TMP/config.yaml status | grep -q '^refs: current sequence 1 '"
}
refused "a changed Job image (422)" 's/busybox:1.36/busybox:1.37/' 10-job.yaml 'field is immutable'
refused "a changed Deployment selector (422)" 's/{app: web}/{app: web2}/g' 20-web.yaml 'field is immutable'
refused "a duplicate env var (500)" 's/ports: \[{containerPort: 80}\]/env: [{name: A, value: "1"}, {name: A, value: "2"}]/' 20-web.yaml 'duplicate entries'
refused "a quoted containerPort (500)" 's/containerPort: 80/containerPort: "80"/' 20-web.yaml 'expected numeric'
check "(2) the cluster still runs the base release" test "$(kubectl get deployment web -n "$R" -o jsonpath='{.spec.selector.matchLabels.app}')" = web

# --- (3) a HelmChart upgrade to a broken chart -----------------------------------
H=$NS-h
chart() { # VERSION TEMPLATE -> base64 of a chart .tgz
	rm -rf chart-src && mkdir -p chart-src/c/templates
	printf 'apiVersion: v2\nname: c\nversion: %s\n' "$1" > chart-src/c/Chart.yaml
	printf '%s\n' "$2" > chart-src/c/templates/cm.yaml
	tar -C chart-src -czf chart.tgz c && base64 -w0 chart.tgz
}
helmchart() { # DIR VERSION TEMPLATE
	mkdir -p "$1"
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$H" > "$1/00-ns.yaml"
	cat > "$1/10-chart.yaml" <<YAML
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: c, namespace: $H}
spec:
  targetNamespace: $H
  chartContent: $(chart "$2" "$3")
YAML
}
helmchart chart/1 0.1.0 'apiVersion: v1
kind: ConfigMap
metadata: {name: from-chart}
data: {v: "1"}'
helmchart chart/2 0.2.0 'apiVersion: v1
kind: ConfigMap
metadata: {name: Not_A_Valid_Name}
data: {v: "2"}'
pack chart 1 chart/1 300; pack chart 2 chart/2 120
op import chart-1.bundle 2>log; check "(3) a HelmChart installs (its install Job completes)" test $? -eq 0
check "(3) ... what the chart makes is there" kubectl get configmap from-chart -n "$H"
start=$(date +%s)
op import chart-2.bundle 2>log; rc=$?
took=$(( $(date +%s) - start ))
check "(3) the broken chart fails (exit $rc): not judged on the old install Job" test $rc -eq 1
check "(3) ... it took the new install Job's time, not 0 s (${took}s)" test $took -ge 5
check "(3) ... rolled back to the working chart" bash -c "$OUTPOST --config $TMP/config.yaml status | grep -q '^chart: current sequence 1 '"

# --- (4) CRDs, custom resources with a finalizer and their namespace -----------
C=$NS-c X=$NS-x G=$NS.example.com
crds() { # DIR
	mkdir -p "$1"
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$C" "$X" > "$1/00-ns.yaml"
	cat > "$1/05-crd.yaml" <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.$G}
spec:
  group: $G
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
YAML
	cat > "$1/30-gadget.yaml" <<YAML
apiVersion: $G/v1
kind: Gadget
metadata: {name: g1, namespace: $X, finalizers: [$G/hold]}
spec: {size: 1}
YAML
}
crds crds/1; mkdir -p crds/2
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$C" > crds/2/00-ns.yaml
crds crds/3
pack crds 1 crds/1; pack crds 2 crds/2; pack crds 3 crds/3
op import crds-1.bundle 2>log; check "(4) CRD and custom resource in one release install" test $? -eq 0
# the gadget's operator: lets it go once it is being deleted, if its CRD is still there
( for _ in $(seq 600); do
	if [ -n "$(kubectl get gadget g1 -n "$X" -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ]; then
		kubectl get crd "gadgets.$G" >/dev/null 2>&1 && echo crd-there > operator.log
		kubectl patch gadget g1 -n "$X" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
		exit 0
	fi
	sleep 0.2
done ) &
opid=$!
op import crds-2.bundle 2>log; check "(4) pruning them all at once succeeds" test $? -eq 0
wait $opid
check "(4) the custom resource went first, while its CRD was there" grep -q crd-there operator.log
check "(4) the CRD is gone" bash -c "! kubectl get crd gadgets.$G 2>/dev/null"
op import crds-3.bundle 2>log; check "(4) installed again at once (namespace terminating or not)" test $? -eq 0
check "(4) ... the custom resource is back" kubectl get gadget g1 -n "$X"
kubectl patch gadget g1 -n "$X" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1

# --- (5) k3s's controllers: TTL Job, local-path PVC, restarts -----------------
NS5=${NS}-5
RESTART=${K3S_RESTART:-}
if [ -z "$RESTART" ] && [ "$(id -u)" = 0 ] && systemctl cat k3s >/dev/null 2>&1; then
	RESTART="systemctl restart k3s"
fi
mkdir -p e5-1 e5-2 e5-3
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$NS5" > e5-1/00-ns.yaml
cat > e5-1/10-batch.yaml <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: $NS5}
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: "busybox:1.36", command: ["sh", "-c", "sleep 2"]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: $NS5}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: {requests: {storage: 64Mi}}
YAML
# e5-2: many objects (a long apply); e5-3: a slow readiness (a long health wait)
cp e5-1/00-ns.yaml e5-2/; cp e5-1/00-ns.yaml e5-3/
for i in $(seq 1 150); do
	printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%s, namespace: %s}\ndata: {i: "%s"}\n' "$i" "$NS5" "$i"
done > e5-2/20-cms.yaml
cat > e5-3/20-web.yaml <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: slow, namespace: $NS5}
spec:
  replicas: 1
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      containers:
      - name: web
        image: nginx:1.27-alpine
        readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 25}
YAML
for v in 1 2 3; do
	$OUTPOST bundle pack --app e5 --version $v --sequence $v e5-$v -o e5-$v.bundle \
		--key k.key --health-timeout 180 >/dev/null 2>&1
done
sed -e "s/^apps: .*/apps: [{name: e5, namespace: $NS5}]/" \
	-e "s#state_dir: .*#state_dir: $TMP/state5#" config.yaml > config5.yaml
op5() { $OUTPOST --config "$TMP/config5.yaml" "$@"; }
# settle PASSES: `once` until e5 sequence N is current (an exit 3 is a restart)
settle() {
	for _ in $(seq 1 "${2:-30}"); do
		op5 status | grep -q "^e5: current sequence $1 " && return 0
		op5 once >>log5 2>&1
		sleep 2
	done
	op5 status | grep -q "^e5: current sequence $1 "
}
op5 import e5-1.bundle 2>log5; rc=$?
echo "# (5) TTL-0 Job + local-path PVC: import exit $rc"
check "(5) a TTL-0 Job and a local-path PVC nothing mounts: healthy, not failed" test $rc -eq 0
check "(5) the TTL controller removed the finished Job" bash -c "! kubectl get job once -n $NS5"
check "(5) the PVC is Pending (WaitForFirstConsumer) and that is healthy" \
	test "$(kubectl get pvc data -n "$NS5" -o jsonpath='{.status.phase}')" = Pending
op5 once 2>>log5
check "(5) drift correction does not re-run the finished Job" bash -c "! kubectl get job once -n $NS5"
if [ -n "$RESTART" ]; then
	op5 import e5-2.bundle 2>>log5 & pid=$!
	sleep 0.3; echo "# (5) restarting k3s during the apply: $RESTART"; $RESTART
	wait $pid; rc=$?
	echo "# (5) import during the restart: exit $rc"
	check "(5) k3s restarted during the apply: not failed (exit $rc)" test $rc -ne 1
	check "(5) ... and it is applied and healthy afterwards" settle 2
	op5 import e5-3.bundle 2>>log5 & pid=$!
	sleep 8; echo "# (5) restarting k3s during the health wait: $RESTART"; $RESTART
	wait $pid; rc=$?
	echo "# (5) import during the restart: exit $rc"
	check "(5) k3s restarted during the health wait: not failed (exit $rc)" test $rc -ne 1
	check "(5) ... and it becomes healthy afterwards" settle 3 60
	check "(5) no release of e5 failed" bash -c "! $OUTPOST --config $TMP/config5.yaml history e5 | grep -q -- '-> failed'"
else
	echo "# (5) skipped the k3s restarts: set K3S_RESTART (e.g. 'sudo systemctl restart k3s')"
fi

# --- (6) secrets, an app's scope, pause and resume -----------------------------
# The gateway's own age identity and SOPS (a file the real sops made with
# Flux's published test key, from ../shared/fixtures when it is there): the
# cluster holds the decrypted Secrets; a release encrypted to another gateway,
# or with an object outside the app's namespaces, is refused before anything
# of it applies; a paused app verifies and stores a release and applies it
# only when resumed. The API server itself stores stringData as data.
NS6=${NS}-6
FLUX6=${OUTPOST_FIXTURES:-$ROOT/../shared/fixtures}/sops/fluxcd__kustomize-controller@186fb3b29138/internal/controller/testdata/sops
mkdir -p e6-1 e6-2 e6-3 e6-4
sed -e "s/^apps: .*/apps: [{name: e6, namespace: $NS6}]/" \
	-e "s#state_dir: .*#state_dir: $TMP/state6#" config.yaml > config6.yaml
sops6=0
if [ -f "$FLUX6/keys/age.txt" ]; then
	cp "$FLUX6/keys/age.txt" site6.txt; chmod 600 site6.txt
	printf 'secrets:\n  identities: [%s]\n' "$TMP/site6.txt" >> config6.yaml
	sops6=1
fi
op6() { $OUTPOST --config "$TMP/config6.yaml" "$@"; }
ME6=$(op6 identity new 2>>log6)
age-keygen -o other6.txt >/dev/null 2>&1
OTHER6=$(age-keygen -y other6.txt 2>/dev/null)
PLAIN6="e2e-$RANDOM$RANDOM"
for v in 1 2 3 4; do
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$NS6" > e6-$v/00-ns.yaml
done
secret6() {
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\ntype: Opaque\ndata: {value: %s}\n' \
		"$1" "$(printf %s "$2" | base64 -w0)"
}
secret6 db "$PLAIN6" | age -r "$ME6" -o e6-1/10-db.yaml.age 2>>log6
[ $sops6 = 1 ] && cp "$FLUX6/algorithms/age.yaml" e6-1/20-sops.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\ndata: {a: "2"}\n' > e6-2/05-marker.yaml
secret6 db other | age -r "$OTHER6" -o e6-2/10-db.yaml.age 2>>log6
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\ndata: {a: "3"}\n' > e6-3/05-marker.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray, namespace: kube-system}\n' > e6-3/10-stray.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: marker}\ndata: {a: "4"}\n' > e6-4/05-marker.yaml
cp e6-1/10-db.yaml.age e6-4/
for v in 1 2 3 4; do pack e6 $v e6-$v 60; done
op6 import e6-1.bundle 2>>log6; rc=$?
check "(6) a release with an age-encrypted Secret applies (exit $rc)" test $rc -eq 0
check "(6) the cluster holds the decrypted Secret" \
	test "$(kubectl get secret db -n "$NS6" -o jsonpath='{.data.value}' | base64 -d)" = "$PLAIN6"
if [ $sops6 = 1 ]; then
	check "(6) the SOPS Secret holds its decrypted value, no sops metadata" \
		test "$(kubectl get secret age -n "$NS6" -o jsonpath='{.data.key}' | base64 -d)/$(kubectl get secret age -n "$NS6" -o jsonpath='{.sops}')" = value/
else
	echo "# (6) skipped the SOPS file: ../shared/fixtures/sops is not here"
fi
op6 import e6-2.bundle 2>>log6; rc=$?
check "(6) encrypted to another gateway: refused (exit $rc)" test $rc -eq 1
check "(6) ... and nothing of it applied" bash -c "! kubectl get configmap marker -n $NS6"
op6 import e6-3.bundle 2>>log6; rc=$?
check "(6) an object in kube-system, outside the app's namespaces: refused (exit $rc)" test $rc -eq 1
check "(6) ... nothing of it applied" bash -c "! kubectl get configmap marker -n $NS6 && ! kubectl get configmap stray -n kube-system"
op6 pause e6 --for 1h --reason e2e 2>>log6
op6 import e6-4.bundle 2>>log6; rc=$?
check "(6) paused: the new release is verified and stored, not applied" \
	bash -c "! kubectl get configmap marker -n $NS6"
check "(6) ... and status says paused" bash -c "$OUTPOST --config $TMP/config6.yaml status | grep -qi 'paused'"
op6 resume e6 2>>log6
op6 once 2>>log6; rc=$?
check "(6) resumed: the release applies (exit $rc)" \
	test "$(kubectl get configmap marker -n "$NS6" -o jsonpath='{.data.a}')" = 4
kubectl delete namespace "$NS6" --wait=false >/dev/null 2>&1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
