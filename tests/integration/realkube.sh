#!/bin/bash
# What a real API server answers, and what the agent makes of it (issue:
# real Kubernetes): the 500 of a patch that cannot be typed is a refusal,
# not an outage; a field that cannot change is deleted and created anew
# where the object allows it; prune goes wave by wave, the last first, and
# waits for what it deleted; a namespace being terminated and a kind not
# served yet are "wait", not "failed"; the cluster's namespaces are never
# deleted. kubesim answers as kube-apiserver v1.32 does
# (../shared/fixtures/kubernetes/observed-1.32).
. "$(dirname "$0")/lib.bash"

start_kubesim --ready-ms 100
check "kubesim is ready" test -f "$SIM/ready"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }
stat_of() {
	curl -s --cacert "$SIM/ca.crt" "https://localhost:$PORT/kubesim/stats" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['requests'].get('$1', 0))"
}

$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1
# release APP SEQ [TIMEOUT]: pack src/APP-SEQ
release() {
	$OUTPOST bundle pack --app "$1" --version "$1-v$2" --sequence "$2" "src/$1-$2" \
		-o "$1-$2.bundle" --key signer.key --health-timeout "${3:-20}" >/dev/null 2>&1
}
cat > config.yaml <<YAML
server: https://releases.invalid/fleet/
device: {id: gw-real}
trust: {root: $TMP/root.yaml}
apps:
  - {name: web, namespace: web}
  - {name: jobs, namespace: jobs}
  - {name: ops, namespace: ops, namespaces: [ops-extra, default], cluster_kinds: [CustomResourceDefinition]}
  - {name: term, namespace: term}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
health: {default_timeout: 20}
YAML
op() { $OUTPOST --config "$TMP/config.yaml" "$@"; }
ns() { printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$1"; }
# deployment NAME IMAGE [CONTAINER-EXTRA] [SELECTOR-APP]
deployment() {
	cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${4:-$1}}}
  template:
    metadata: {labels: {app: ${4:-$1}}}
    spec:
      containers:
      - name: $1
        image: "$2"
${3:-}
YAML
}

# --- refusals that are not outages: failed at once, rolled back, explained -----
mkdir -p src/web-1 src/web-2 src/web-3 src/web-4
ns web > src/web-1/00-ns.yaml
for v in 2 3 4; do cp src/web-1/00-ns.yaml src/web-$v/; done
deployment web nginx:1 > src/web-1/20-web.yaml
deployment web nginx:2 '        env: [{name: FOO, value: a}, {name: FOO, value: b}]' > src/web-2/20-web.yaml
deployment web nginx:3 '        ports: [{containerPort: "80"}]' > src/web-3/20-web.yaml
deployment web nginx:4 > src/web-4/20-web.yaml
sed -i 's/^  replicas: 1/  replicaz: 1/' src/web-4/20-web.yaml
for v in 1 2 3 4; do release web $v; done

op import web-1.bundle 2>log; rc=$?
check "web v1 installs" test $rc -eq 0
before=$(stat_of apply)
start=$(date +%s)
op import web-2.bundle 2>log; rc=$?
took=$(( $(date +%s) - start ))
check "a duplicate env var (500): the release fails" test $rc -eq 1
check "... at once, not retried for ever (${took}s)" test $took -lt 10
check "... with the server's words" grep -q 'duplicate entries for key \[name=\\\?"FOO\\\?"\]' log
check "... naming the file" grep -q '20-web.yaml' log
check "... rolled back to v1" grep -q '^web: current sequence 1 .*newest sequence 2 .* is rolled-back' <(op status)
check "... in the history with the server's words" grep -q 'duplicate entries' <(op history web)
applies=$(( $(stat_of apply) - before ))
check "... a handful of applies, no loop ($applies)" test "$applies" -lt 10
op import web-3.bundle 2>log; rc=$?
check "a quoted containerPort (500): the release fails" test $rc -eq 1
check "... with the server's words" grep -q 'expected numeric' log
check "... the cluster runs v1" test "$(kctl get deployment web -n web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1
op import web-4.bundle 2>log; rc=$?
check "a typo (spec.replicaz, 500): the release fails" test $rc -eq 1
check "... the field is named" grep -q 'replicaz: field not declared in schema' log

# --- immutable fields: delete and create anew where allowed -------------------
mkdir -p src/jobs-1 src/jobs-2 src/jobs-3 src/jobs-4 src/jobs-5
job() { # NAME IMAGE [ANNOTATIONS]
	cat <<YAML
---
apiVersion: batch/v1
kind: Job
metadata: {name: $1${3:+, annotations: $3}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "$2"}]
YAML
}
for v in 1 2 3 4 5; do ns jobs > src/jobs-$v/00-ns.yaml; done
job migrate app:1 > src/jobs-1/10-job.yaml
job migrate app:2 > src/jobs-2/10-job.yaml
cp src/jobs-2/10-job.yaml src/jobs-3/; cp src/jobs-2/10-job.yaml src/jobs-4/; cp src/jobs-2/10-job.yaml src/jobs-5/
deployment api nginx:1 '' api > src/jobs-1/20-api.yaml
deployment api nginx:1 '' api > src/jobs-2/20-api.yaml
deployment api nginx:1 '' api-v3 > src/jobs-3/20-api.yaml
deployment api nginx:1 '' api-v4 > src/jobs-4/20-api.yaml
sed -i 's|^metadata: {name: api}|metadata: {name: api, annotations: {outpost.dev/recreate: "true"}}|' src/jobs-4/20-api.yaml
cp src/jobs-4/20-api.yaml src/jobs-5/
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: "%s"}\n' 1 > src/jobs-4/30-cm.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: "%s"}\n' 2 > src/jobs-5/30-cm.yaml
for v in 1 2 3 4 5; do release jobs $v; done

op import jobs-1.bundle 2>log; rc=$?
check "jobs v1 installs" test $rc -eq 0
uid1=$(kctl get job migrate -n jobs -o jsonpath='{.metadata.uid}')
op import jobs-2.bundle 2>log; rc=$?
check "a Job with a new image (422 immutable): created anew, healthy" test $rc -eq 0
check "... it runs the new image" test "$(kctl get job migrate -n jobs -o jsonpath='{.spec.template.spec.containers[0].image}')" = app:2
check "... it is another Job" test "$(kctl get job migrate -n jobs -o jsonpath='{.metadata.uid}')" != "$uid1"
check "... the log says why" grep -q 'a field that cannot change was changed' log
op import jobs-3.bundle 2>log; rc=$?
check "a Deployment's new selector (422), not annotated: the release fails" test $rc -eq 1
check "... with the server's words" grep -q 'field is immutable' log
check "... and the annotation that would allow it" grep -q 'annotate it outpost.dev/recreate' log
check "... rolled back: the old selector" test "$(kctl get deployment api -n jobs -o jsonpath='{.spec.selector.matchLabels.app}')" = api
op import jobs-4.bundle 2>log; rc=$?
check "annotated outpost.dev/recreate: created anew with the new selector" test $rc -eq 0
check "... the new selector" test "$(kctl get deployment api -n jobs -o jsonpath='{.spec.selector.matchLabels.app}')" = api-v4
op import jobs-5.bundle 2>log; rc=$?
check "an immutable ConfigMap changed, not annotated: the release fails" test $rc -eq 1
check "... with the hint" grep -q 'outpost.dev/recreate' log
check "... its data is unchanged" test "$(kctl get configmap frozen -n jobs -o jsonpath='{.data.a}')" = 1

# --- prune: the last wave first, waiting for what it deleted -------------------
mkdir -p src/ops-1 src/ops-2
ns ops > src/ops-1/00-ns.yaml; cp src/ops-1/00-ns.yaml src/ops-2/
ns ops-extra > src/ops-1/01-extra-ns.yaml
# the cluster's namespace, labelled by the release (adopted: outpost did not
# make it): never pruned
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: default, labels: {team: ops}, annotations: {outpost.dev/adopt: "true"}}\n' > src/ops-1/02-default.yaml
cat > src/ops-1/05-crd.yaml <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
YAML
cat > src/ops-1/30-widget.yaml <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: ops-extra, finalizers: [example.com/hold]}
spec: {size: 1}
YAML
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\ndata: {a: "1"}\n' > src/ops-1/10-cm.yaml
cp src/ops-1/10-cm.yaml src/ops-2/
# before everything else: in a namespace that is there already
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: early, namespace: default, annotations: {outpost.dev/wave: "-5"}}\n' > src/ops-1/09-early.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stay, annotations: {outpost.dev/prune: disabled}}\n' > src/ops-1/11-stay.yaml
release ops 1; release ops 2
# a CRD's kinds are served a moment after it is Established, as on a real
# server: a custom resource applied at once would get a plain-text 404
sim_control control '{"crd_discovery_delay_ms": 1500}'
op --log-level debug import ops-1.bundle 2>log; rc=$?
sim_control control '{"crd_discovery_delay_ms": 0}'
check "ops v1 (namespace, CRD served 1.5 s after Established, a custom resource with a finalizer) installs" test $rc -eq 0
check "an outpost.dev/wave annotation is the object's wave" grep -q 'wave -5 applied (1 objects)' log
check "... applied before the namespaces and CRDs (wave 0)" \
	test "$(grep -n 'wave -5 applied' log | cut -d: -f1)" -lt "$(grep -n 'wave 0 applied' log | cut -d: -f1)"
check "... its custom resource is there" kctl get widget w1 -n ops-extra
# the Widget's operator: removes its finalizer once the Widget is being deleted
(
	for _ in $(seq 100); do
		if [ -n "$(kctl get widget w1 -n ops-extra -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ]; then
			sleep 1
			kctl get crd widgets.example.com >/dev/null 2>&1 && echo "crd-still-there" > operator.log
			kctl patch widget w1 -n ops-extra --type=merge -p '{"metadata":{"finalizers":null}}' \
				>/dev/null 2>&1 && echo "finalizer-removed" >> operator.log
			exit 0
		fi
		sleep 0.1
	done
) &
opid=$!
op import ops-2.bundle 2>log; rc=$?
wait $opid
check "ops v2 installs and prunes" test $rc -eq 0
check "the custom resource was deleted while its CRD was still there" grep -q crd-still-there operator.log
check "... and its operator could remove its finalizer" grep -q finalizer-removed operator.log
check "the custom resource is gone" bash -c "! kubectl --kubeconfig $KC get widget w1 -n ops-extra 2>/dev/null"
check "the CRD is gone" bash -c "! kubectl --kubeconfig $KC get crd widgets.example.com 2>/dev/null"
check "the extra namespace is gone or going" bash -c "p=\$(kubectl --kubeconfig $KC get ns ops-extra -o jsonpath='{.status.phase}' 2>/dev/null); [ -z \"\$p\" ] || [ \"\$p\" = Terminating ]"
check "pruned in reverse wave order: Widget before the CRD" \
	test "$(grep -n 'pruned Widget' log | cut -d: -f1)" -lt "$(grep -n 'pruned CustomResourceDefinition' log | cut -d: -f1)"
check "the namespace default is never deleted" kctl get namespace default
check "... and the log says why" grep -q 'Namespace default is the cluster.s: not pruned' log
check "the ConfigMap both releases have stays" kctl get configmap keep -n ops
check "one annotated outpost.dev/prune: disabled stays too" kctl get configmap stay -n ops

# --- a namespace being terminated: wait, then make it anew ----------------------
kctl apply -f - >/dev/null 2>&1 <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: term}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: holder, namespace: term, finalizers: [example.com/hold]}
YAML
kctl delete namespace term --wait=false >/dev/null 2>&1
mkdir -p src/term-1
# the namespace is kubectl's, not outpost's: the release adopts it
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: term, annotations: {outpost.dev/adopt: "true"}}\n' > src/term-1/00-ns.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\ndata: {a: "1"}\n' > src/term-1/10-cm.yaml
release term 1 30
( sleep 4; kctl patch configmap holder -n term --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 ) &
opid=$!
op import term-1.bundle 2>log; rc=$?
wait $opid
check "into a namespace being terminated: waits, then installs" test $rc -eq 0
check "... the 403 was a wait, not a failure" grep -q 'being terminated' log
check "... the ConfigMap is there" kctl get configmap late -n term
check "... in a live namespace" test "$(kctl get ns term -o jsonpath='{.status.phase}')" = Active

done_testing
