#!/bin/bash
# The agent against what k3s's own controllers do (issue 21, items 6, 8, 12
# and 13), with kubesim serving k3s-style credentials:
#   6  health: a TTL-0 Job removed once finished is healthy and drift does
#      not re-create it; a local-path (WaitForFirstConsumer) PVC nothing
#      mounts yet is healthy; a Job is suspended only when spec.suspend and
#      its Suspended condition agree; a HelmChart upgrade is judged by the
#      install Job made for its new generation, not by the previous one;
#   8  credentials: SEC1 key and certificate chain; a client certificate
#      revoked (rotated) during the health wait, then a new CA: the agent
#      reloads the kubeconfig and goes on; a body over 3 MiB is refused
#      before it is sent;
#   12 kubesim's controllers: TTL, local-path, helm-controller, CRD
#      discovery delay;
#   13 kubesim's k3s credentials and their rotation.
. "$(dirname "$0")/lib.bash"

start_kubesim --credentials k3s --ready-ms 200 --helm-job-delay-ms 1500 \
	--crd-discovery-delay-ms 3000
check "kubesim is ready" test -f "$SIM/ready"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }
have_kubectl=
command -v kubectl >/dev/null && have_kubectl=1
api() { # PATH: GET with the kubeconfig's client credentials (from the files)
	curl -s --cacert "$SIM/ca.crt" --cert "$SIM/client.crt" --key "$SIM/client.key" \
		-o "$TMP/api.out" -w '%{http_code}' "https://localhost:$PORT$1"
}
jget() { # PATH EXPR: a field of a GET's JSON answer, by a Python expression on o
	api "$1" >/dev/null
	python3 -c "import json,sys; o=json.load(open('$TMP/api.out')); print($2)" 2>/dev/null
}

# --- 13: k3s-style credentials -----------------------------------------------
kc_field() { python3 - "$KC" "$1" <<'EOF'
import base64, re, sys
text = open(sys.argv[1]).read()
m = re.search(sys.argv[2] + r": (\S+)", text)
print(base64.b64decode(m.group(1)).decode())
EOF
}
kc_field client-key-data > key.pem
kc_field client-certificate-data > chain.pem
check "13: the client key is SEC1 (EC PRIVATE KEY), as k3s writes it" \
	grep -q -- '-----BEGIN EC PRIVATE KEY-----' key.pem
check "13: the client certificate is followed by its CA (a chain of 2)" \
	test "$(grep -c -- '-----BEGIN CERTIFICATE-----' chain.pem)" -eq 2
check "13: the client CA is not the server CA (k3s-client-ca, k3s-server-ca)" \
	bash -c "openssl x509 -in '$SIM/client-ca.crt' -noout -subject | grep -q k3s-client-ca &&
		! cmp -s '$SIM/client-ca.crt' '$SIM/ca.crt'"

# --- 8: SEC1 key + chain are accepted ------------------------------------------
$OUTPOST kube --kubeconfig "$KC" discover >disc 2>err; rc=$?
check "8: outpost talks to the API with a SEC1 key and a certificate chain" test $rc -eq 0
check "8: ... and discovers the core kinds" grep -qE '^v1 +ConfigMap ' disc

# --- 8: a body over the real server's 3 MiB limit -------------------------------
python3 - <<'EOF'
with open("big.yaml", "w") as out:
    out.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: default}\n")
    out.write("data:\n  x: " + "a" * (3 * 1024 * 1024 + 100) + "\n")
EOF
$OUTPOST kube --kubeconfig "$KC" apply -f big.yaml >out 2>err; rc=$?
check "8: an object over 3 MiB is refused (exit 1)" test $rc -eq 1
check "8: ... with a clear error naming the limit" grep -q "over the API server's request limit of 3145728 bytes" err
check "8: ... before it was sent (no object)" test "$(api /api/v1/namespaces/default/configmaps/big)" = 404

# --- a publisher and an agent ----------------------------------------------------
$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1
release() { # APP SEQ [DEADLINE]
	$OUTPOST bundle pack --app "$1" --version "$1-v$2" --sequence "$2" "src/$1-$2" \
		-o "$1-$2.bundle" --key signer.key --health-timeout "${3:-15}" >/dev/null 2>&1
}
cat > config.yaml <<YAML
server: https://releases.invalid/fleet/
device: {id: gw-ctl}
trust: {root: $TMP/root.yaml}
apps:
  - {name: batch, namespace: batch}
  - {name: vol, namespace: vol}
  - {name: susp, namespace: susp}
  - {name: chart, namespace: chart}
  - {name: rot, namespace: rot}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
health: {default_timeout: 15}
drift: {interval: 60}
YAML
op() { $OUTPOST --config "$TMP/config.yaml" "$@"; }
ns() { printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$1"; }

# --- 6 + 12: a TTL-0 Job -------------------------------------------------------------
mkdir -p src/batch-1
{ ns batch; cat <<'YAML'
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {kubesim.outpost.dev/after-ms: "300"}
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "busybox:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow
  annotations: {kubesim.outpost.dev/after-ms: "1500"}
spec:
  replicas: 1
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec: {containers: [{name: s, image: "nginx:1"}]}
YAML
} > src/batch-1/all.yaml
release batch 1
op import batch-1.bundle 2>log; rc=$?
check "6: a release with a TTL-0 Job that is gone before the health wait ends is healthy" test $rc -eq 0
check "12: the TTL controller removed the finished Job" test "$(api /apis/batch/v1/namespaces/batch/jobs/migrate)" = 404
check "6: the log says why the Job is not waited for" grep -q 'finished and removed by the TTL controller' log
op once 2>log; rc=$?
check "6: drift correction exits 0" test $rc -eq 0
check "6: drift correction does not re-create the finished Job" test "$(api /apis/batch/v1/namespaces/batch/jobs/migrate)" = 404
check "6: ... and says so" grep -q 'removed by the TTL controller: not re-created' log
check "6: ... and counts no drift" bash -c "! grep -q 'drift:' log"

# --- 6: the agent killed in the health wait, after the TTL Job went ---------------
mkdir -p src/batch-2
sed -e 's/name: migrate/name: migrate2/' -e 's/after-ms: "1500"/after-ms: "6000"/' -e 's/after-ms: "300"/after-ms: "1200"/' \
	src/batch-1/all.yaml > src/batch-2/all.yaml
release batch 2 20
$OUTPOST --config "$TMP/config.yaml" import batch-2.bundle 2>log & pid=$!
gone=
for _ in $(seq 100); do
	code=$(api /apis/batch/v1/namespaces/batch/jobs/migrate2)
	[ "$code" = 200 ] && gone=seen
	[ "$gone" = seen ] && [ "$code" = 404 ] && { gone=1; break; }
	sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "6: (the TTL Job ran and was removed while the agent waited)" test "$gone" = 1
check "6: (the agent was killed in its health wait)" grep -q '^batch: current sequence 1 ' <(op status)
op once 2>log; rc=$?
check "6: resumed after a crash, a TTL Job its inventory holds counts as done" test $rc -eq 0
check "6: ... and the release is healthy" grep -q '^batch: current sequence 2 ' <(op status)

# --- 6 + 12: a standalone local-path PVC ---------------------------------------------
mkdir -p src/vol-1
{ ns vol; cat <<'YAML'
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
} > src/vol-1/all.yaml
release vol 1 5
start=$(date +%s)
op import vol-1.bundle 2>log; rc=$?
took=$(( $(date +%s) - start ))
check "6: a release with a local-path PVC nothing mounts is healthy" test $rc -eq 0
check "6: ... at once, not at its deadline (took ${took}s, deadline 5 s)" test $took -lt 4
check "12: the default StorageClass local-path is WaitForFirstConsumer" \
	test "$(jget /apis/storage.k8s.io/v1/storageclasses/local-path "o['volumeBindingMode']")" = WaitForFirstConsumer
check "12: the claim got the default class (admission)" \
	test "$(jget /api/v1/namespaces/vol/persistentvolumeclaims/data "o['spec']['storageClassName']")" = local-path
check "12: the claim stays Pending while nothing uses it" \
	test "$(jget /api/v1/namespaces/vol/persistentvolumeclaims/data "o['status']['phase']")" = Pending
if [ -n "$have_kubectl" ]; then
	kctl apply --server-side -f - >/dev/null 2>&1 <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: vol}
spec:
  containers: [{name: c, image: "busybox:1"}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
YAML
	sleep 1
	check "12: a Pod using the claim gets it a node and Bound" \
		test "$(jget /api/v1/namespaces/vol/persistentvolumeclaims/data "o['metadata']['annotations']['volume.kubernetes.io/selected-node'] + ' ' + o['status']['phase']")" = "kubesim Bound"
fi

# --- 6 + 12: Job suspend ---------------------------------------------------------------
mkdir -p src/susp-1
{ ns susp; cat <<'YAML'
---
apiVersion: batch/v1
kind: Job
metadata: {name: later}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "busybox:1"}]
YAML
} > src/susp-1/all.yaml
release susp 1 5
op import susp-1.bundle 2>log; rc=$?
check "6: a Job applied suspended is healthy once the job controller says Suspended" test $rc -eq 0
check "12: the job controller set Suspended=True and no startTime" \
	test "$(jget /apis/batch/v1/namespaces/susp/jobs/later "[c['status'] for c in o['status']['conditions'] if c['type']=='Suspended'][0] + str('startTime' in o['status'])")" = TrueFalse

# --- 6 + 12: HelmChart upgrade judged by the new install Job ---------------------------
mkdir -p src/chart-1 src/chart-2
chart() { # VERSION [BEHAVIOR]
	ns chart
	cat <<YAML
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata:
  name: web
  annotations:
    kubesim.outpost.dev/behavior: "${2:-ready}"
    kubesim.outpost.dev/after-ms: "300"
spec: {chart: nginx, repo: "https://charts.example.com", version: "$1"}
YAML
}
chart 1.0.0 > src/chart-1/all.yaml
chart 2.0.0 job-fail > src/chart-2/all.yaml
release chart 1 10; release chart 2 10
op import chart-1.bundle 2>log; rc=$?
check "6: HelmChart v1 installs: its install Job completes" test $rc -eq 0
old_uid=$(jget /apis/batch/v1/namespaces/chart/jobs/helm-install-web "o['metadata']['uid']")
op import chart-2.bundle 2>log; rc=$?
check "6: HelmChart v2 whose install fails is not judged healthy by v1's Complete Job" test $rc -eq 1
check "6: ... it failed on the new install Job" grep -q 'HelmChart chart/web: .*Failed' log
check "6: the rollback waited for v1's new install Job (no stale Failed)" \
	bash -c "! grep -q 'is back but not healthy' log"
check "12: helm-controller replaced the install Job (a new uid)" \
	bash -c "test -n '$old_uid' && test \"\$(curl -s --cacert $SIM/ca.crt --cert $SIM/client.crt --key $SIM/client.key https://localhost:$PORT/apis/batch/v1/namespaces/chart/jobs/helm-install-web | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"metadata\"][\"uid\"])')\" != '$old_uid'"
check "6: rolled back to chart v1" grep -q '^chart: current sequence 1 ' <(op status)

# --- 12: helm-controller creates the install Job suspended, then resumes it -----------
if [ -n "$have_kubectl" ]; then
	kctl apply --server-side -f - >/dev/null 2>&1 <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: hc}
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: probe, namespace: hc, annotations: {kubesim.outpost.dev/after-ms: "2000"}}
spec: {chart: nginx, version: "1"}
YAML
	for _ in $(seq 50); do
		[ "$(jget /apis/batch/v1/namespaces/hc/jobs/helm-install-probe "o['status'].get('startTime') is not None")" = True ] && break
		sleep 0.1
	done
	check "12: the install Job was created suspended, then resumed (Suspended=False JobResumed, generation 2)" \
		test "$(jget /apis/batch/v1/namespaces/hc/jobs/helm-install-probe "[c['reason'] for c in o['status']['conditions'] if c['type']=='Suspended'][0] + ' ' + str(o['metadata']['generation']) + ' ' + str(o['spec']['suspend'])")" = "JobResumed 2 False"
fi

# --- 12: CRD kinds appear some time after Established -----------------------------------
cat > crd.json <<'EOF'
{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"widgets.fx.example.com"},
 "spec":{"group":"fx.example.com","scope":"Namespaced",
  "names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
  "versions":[{"name":"v1","served":true,"storage":true,
   "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}
EOF
curl -s --cacert "$SIM/ca.crt" --cert "$SIM/client.crt" --key "$SIM/client.key" -X PATCH \
	-H 'Content-Type: application/apply-patch+yaml' --data-binary @crd.json -o /dev/null \
	"https://localhost:$PORT/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.fx.example.com?fieldManager=t"
established=
for _ in $(seq 50); do
	e=$(jget /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.fx.example.com \
		"[c['status'] for c in o.get('status',{}).get('conditions',[]) if c['type']=='Established']")
	[ "$e" = "['True']" ] && { established=1; break; }
	sleep 0.02
done
code=$(api /apis/fx.example.com/v1/namespaces/default/widgets)
check "12: right after Established the custom resources are not served yet (404)" \
	test "$established" = 1 -a "$code" = 404
check "12: ... nor in discovery" bash -c "! curl -s --cacert $SIM/ca.crt --cert $SIM/client.crt --key $SIM/client.key https://localhost:$PORT/apis | grep -q fx.example.com"
sleep 3
check "12: after the discovery delay they are" test "$(api /apis/fx.example.com/v1/namespaces/default/widgets)" = 200

# --- 8 + 13: rotation during the health wait ------------------------------------------
mkdir -p src/rot-1 src/rot-2
for v in 1 2; do
	{ ns rot; kubesim_deployment "app$v" nginx:1 | sed 's/after-ms: "300"/after-ms: "4000"/'; } \
		> "src/rot-$v/all.yaml"
done
release rot 1 20; release rot 2 20
cp "$KC" kc-before
op import rot-1.bundle 2>log & pid=$!
sleep 1.5
sim_control rotate '{"client": true, "revoke": true}'
check "13: after a client rotation the old certificate is refused (401)" \
	bash -c "$OUTPOST kube --kubeconfig kc-before get namespace rot 2>&1 | grep -q 401"
check "13: the kubeconfig was rewritten with the new certificate" bash -c "! cmp -s kc-before '$KC'"
wait $pid; rc=$?
check "8: a client certificate rotated during the health wait: healthy, no false failure" test $rc -eq 0
check "8: ... the agent reloaded its kubeconfig" grep -q 'new credentials loaded' log
cp "$KC" kc-before
op import rot-2.bundle 2>log & pid=$!
sleep 1.5
sim_control rotate '{"ca": true}'
check "13: after a CA rotation the old kubeconfig fails the TLS handshake" \
	bash -c "! $OUTPOST kube --kubeconfig kc-before get namespace rot >/dev/null 2>&1"
wait $pid; rc=$?
check "8: a new CA during the health wait: healthy, no false failure" test $rc -eq 0
check "8: ... the agent reloaded its kubeconfig" grep -q 'new credentials loaded' log
check "rot v2 is current" grep -q '^rot: current sequence 2 ' <(op status)

done_testing
