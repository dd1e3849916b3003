#!/bin/bash
# What an operator sees of the agent, against kubesim: the Kubernetes
# Events of a good release (ReleaseApplied) and of a failing one
# (ReleaseFailed, RolledBack) attached to the release's Deployment, as
# `kubectl get events` shows them; the node_exporter metrics file after
# each step (sequence, health, rollbacks, drift), valid text format
# (promtool when installed, else a strict check), mode 0644, no temporary
# file left; and an event that cannot be posted changes nothing else.
. "$(dirname "$0")/lib.bash"

start_kubesim --ready-ms 200
check "kubesim is ready" test -f "$SIM/ready"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

# --- a publisher and an app ----------------------------------------------------
$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1
release() { # APP SEQ [HEALTH_TIMEOUT]
	$OUTPOST bundle pack --app "$1" --version "$1-v$2" --sequence "$2" "src/$1-$2" \
		-o "$1-$2.bundle" --key signer.key --health-timeout "${3:-20}" >/dev/null 2>&1
}
mkdir -p src/web-1 src/web-2 src/infra-1 metrics
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n' > src/web-1/00-ns.yaml
cp src/web-1/00-ns.yaml src/web-2/
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: "1"}\n' > src/web-1/10-conf.yaml
cp src/web-1/10-conf.yaml src/web-2/
kubesim_deployment web nginx:1.0 ready > src/web-1/20-web.yaml
kubesim_deployment web nginx:2.0 progress-deadline > src/web-2/20-web.yaml
# cluster-scoped objects only, for an app whose namespace does not exist
printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: infra}\nrules: []\n' \
	> src/infra-1/role.yaml
release web 1; release web 2 5; release infra 1

cat > config.yaml <<YAML
server: https://releases.invalid/fleet/
device: {id: gw-observe}
trust: {root: $TMP/root.yaml}
apps:
  - {name: web, namespace: web}
  - {name: infra, namespace: nowhere, cluster_kinds: [ClusterRole]}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
health: {default_timeout: 20}
drift: {interval: 60}
metrics: {path: $TMP/metrics/outpost.prom}
YAML
op() { $OUTPOST --config "$TMP/config.yaml" "$@"; }
M=$TMP/metrics/outpost.prom

# metric NAME VALUE: the file has exactly this sample
metric() { grep -qxF "$1 $2" "$M"; }

# valid_metrics: promtool's parser and linter when installed, else a strict
# line-by-line check of the text format
valid_metrics() {
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$M"
	else
		python3 - "$M" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(\{%s(,%s)*\})? -?[0-9]+(\.[0-9]+)?$' % (name, label, label))
help_ = re.compile(r'^# HELP (%s) [^\n]*$' % name)
type_ = re.compile(r'^# TYPE (%s) (counter|gauge)$' % name)
text = open(sys.argv[1]).read()
assert text.endswith('\n'), 'no final newline'
typed, helped, seen, current = {}, set(), set(), None
for ln in text[:-1].split('\n'):
    m = help_.match(ln) or type_.match(ln)
    if m:
        fam = m.group(1)
        assert fam not in seen or fam == current, 'family split: ' + fam
        (helped.add(fam) if ln.startswith('# HELP') else typed.__setitem__(fam, m.group(2)))
        current = fam
        seen.add(fam)
        continue
    m = sample.match(ln)
    assert m, 'bad line: %r' % ln
    assert m.group(1) == current, 'sample outside its family: ' + ln
    if typed[current] == 'counter':
        assert current.endswith('_total'), 'counter without _total: ' + current
assert set(typed) == helped, 'HELP and TYPE differ'
PY
	fi
}

# events: `kubectl get events -n web -o json` as lines "type reason kind/name ns instance: message"
events() {
	kctl get events -n "${1:-web}" -o json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    o = e["involvedObject"]
    assert e["metadata"]["namespace"] == o["namespace"], "namespaces differ"
    assert e["metadata"]["name"].startswith("outpost-"), "not a generated name"
    assert e["source"]["component"] == "outpost" and e["reportingComponent"] == "outpost"
    assert e["count"] == 1 and e["firstTimestamp"] == e["lastTimestamp"]
    assert len(e["message"].encode()) <= 1024
    print(e["type"], e["reason"], "%s/%s" % (o["kind"], o["name"]), o["namespace"],
          e["reportingInstance"] + ":", e["message"].replace("\n", " "))
'
}

# --- a good release --------------------------------------------------------------
op import web-1.bundle 2>log; rc=$?
check "v1 installs" test $rc -eq 0
events >ev 2>&1
check "event ReleaseApplied on Deployment web" \
	grep -q '^Normal ReleaseApplied Deployment/web web gw-observe: web sequence 1 (web-v1) is applied and healthy$' ev
check "only that event so far" test "$(wc -l <ev)" -eq 1
check "the metrics file is written by import" test -f "$M"
check "metrics: sequence 1" metric 'outpost_release_sequence{app="web"}' 1
check "metrics: healthy" metric 'outpost_release_healthy{app="web"}' 1
check "metrics: no rollback" metric 'outpost_rollbacks_total{app="web"}' 0
check "metrics: an app with nothing yet" metric 'outpost_release_sequence{app="infra"}' 0
check "metrics: build info" grep -qE '^outpost_info\{version="[^"]+",target="[^"]+"\} 1$' "$M"
check "metrics: outbox" metric outpost_outbox_depth 0
check "metrics: the text format is valid" valid_metrics
check "metrics: HELP and TYPE for every family" \
	test "$(grep -c '^# HELP' "$M")" -eq "$(grep -c '^# TYPE' "$M")"
check "metrics: mode 0644" test "$(stat -c %a "$M")" = 644

# --- a failing release, rolled back ------------------------------------------------
op import web-2.bundle 2>log; rc=$?
check "v2 fails: exit 1" test $rc -eq 1
events >ev 2>&1
check "event ReleaseFailed on Deployment web, with the reason" \
	grep -q '^Warning ReleaseFailed Deployment/web web gw-observe: web sequence 2 (web-v2) failed: health check failed: .*ProgressDeadlineExceeded' ev
check "event RolledBack on Deployment web" \
	grep -q '^Warning RolledBack Deployment/web web gw-observe: web sequence 2 (web-v2) rolled back to sequence 1 (web-v1)' ev
check "three events in all" test "$(wc -l <ev)" -eq 3
check "metrics: sequence still 1 (the last-known-good)" metric 'outpost_release_sequence{app="web"}' 1
check "metrics: not healthy (the newest release failed)" metric 'outpost_release_healthy{app="web"}' 0
check "metrics: one rollback" metric 'outpost_rollbacks_total{app="web"}' 1
check "metrics: still valid" valid_metrics

# --- once: drift corrected and counted; no temporary file ---------------------------
kctl delete configmap conf -n web >/dev/null 2>&1
op once 2>log; rc=$?
check "once corrects the drift" test $rc -eq 0
check "metrics: one drift correction" metric 'outpost_drift_corrections_total{app="web"}' 1
check "metrics: the rollback count survives restarts" metric 'outpost_rollbacks_total{app="web"}' 1
check "no temporary file beside the metrics file" test "$(ls -A metrics)" = outpost.prom

# --- an event that cannot be posted changes nothing --------------------------------
op import infra-1.bundle 2>log; rc=$?
check "a release whose event has no namespace to go to still succeeds" test $rc -eq 0
check "the lost event is a warning" grep -q 'level=warn.*event ReleaseApplied not posted' log
check "infra is current" grep -q '^infra: current sequence 1 ' <(op status)
check "metrics: infra sequence 1" metric 'outpost_release_sequence{app="infra"}' 1

done_testing
