#!/bin/bash
# The agent end to end, with no release server at all (side-loaded
# bundles) against kubesim: install, upgrade with prune, a release that
# fails its health check rolled back to the last-known-good, quarantine,
# anti-rollback, two apps failing independently, drift correction, an API
# outage that is "unknown" and never "failed", and a manual rollback.
. "$(dirname "$0")/lib.bash"

start_kubesim --ready-ms 200
check "kubesim is ready" test -f "$SIM/ready"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

# --- a publisher ------------------------------------------------------------
$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1

# release NAME SEQ: pack app/NAME-SEQ (written by the caller) as a bundle
release() {
	$OUTPOST bundle pack --app "$1" --version "$1-v$2" --sequence "$2" "src/$1-$2" \
		-o "$1-$2.bundle" --key signer.key --health-timeout "${3:-20}" >/dev/null 2>&1
}
mkdir -p src/web-1 src/web-2 src/web-3 src/web-4 src/db-1 src/sts-1
cat > src/sts-1/db.yaml <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: sts}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: store
  annotations: {kubesim.outpost.dev/behavior: stuck}
spec:
  replicas: 1
  serviceName: store
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec: {containers: [{name: store, image: "redis:7"}]}
YAML
{ printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n'; } > src/web-1/00-ns.yaml
cp src/web-1/00-ns.yaml src/web-2/; cp src/web-1/00-ns.yaml src/web-3/; cp src/web-1/00-ns.yaml src/web-4/
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {a: "1"}\n' > src/web-1/10-extra.yaml
kubesim_deployment web nginx:1.0 > src/web-1/20-web.yaml
kubesim_deployment web nginx:2.0 > src/web-2/20-web.yaml
kubesim_deployment web nginx:3.0 progress-deadline > src/web-3/20-web.yaml
kubesim_deployment web nginx:4.0 > src/web-4/20-web.yaml
kubesim_deployment db postgres:16 never-ready > src/db-1/20-db.yaml
release web 1; release web 2; release web 3 5; release web 4; release db 1 3; release sts 1 3

cat > config.yaml <<YAML
server: https://releases.invalid/fleet/
device: {id: gw-test}
trust: {root: $TMP/root.yaml}
apps:
  - {name: web, namespace: web}
  - {name: db, namespace: db}
  - {name: sts, namespace: sts}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
health: {default_timeout: 20}
drift: {interval: 60}
YAML
op() { $OUTPOST --config "$TMP/config.yaml" "$@"; }

# --- install, upgrade, prune -------------------------------------------------
op import web-1.bundle 2>log; rc=$?
check "v1 installs" test $rc -eq 0
check "v1 is current" grep -q '^web: current sequence 1 ' <(op status)
check "v1's ConfigMap exists" kctl get configmap extra -n web
check "objects carry the inventory labels" \
	test "$(kctl get deployment web -n web -o jsonpath='{.metadata.labels.outpost\.dev/sequence}')" = 1
check "the database is private (0600)" test "$(stat -c %a state/outpost.db)" = 600

op import web-2.bundle 2>log; rc=$?
check "v2 installs" test $rc -eq 0
check "v2 is current" grep -q '^web: current sequence 2 ' <(op status)
check "v2 runs the v2 image" test "$(kctl get deployment web -n web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:2.0
check "v1's ConfigMap, gone from v2, was pruned" bash -c "! kubectl --kubeconfig $KC get configmap extra -n web"

# --- a failing release is rolled back ---------------------------------------
start=$(date +%s.%N)
op import web-3.bundle 2>log; rc=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
check "v3 fails: exit 1" test $rc -eq 1
check "v3's failure is explained" grep -q 'ProgressDeadlineExceeded' log
check "rolled back to v2" grep -q '^web: current sequence 2 .*newest sequence 3 .* is rolled-back' <(op status)
check "the cluster runs v2 again" test "$(kctl get deployment web -n web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:2.0
check "rollback within the deadline + 1 s (took ${took}s, deadline 5 s)" test "$(echo "$took < 6" | bc)" = 1
op import web-3.bundle 2>log; rc=$?
check "v3 is quarantined: not attempted again" test $rc -eq 1
check "quarantine is explained" grep -q 'quarantined' log
op import web-1.bundle 2>log; rc=$?
check "an older release is refused (anti-rollback)" test $rc -eq 1
check "anti-rollback is explained" grep -q 'older than 3' log

# --- a newer release goes ahead ---------------------------------------------
# on a terminal (script(1) gives it one) a long import shows its progress
script -qec "$OUTPOST --config $TMP/config.yaml import web-4.bundle" /dev/null >log 2>&1; rc=$?
check "on a terminal, import shows its progress" grep -qE 'web sequence 4: (applied [0-9]+ of [0-9]+ objects|waiting for health)' log
check "v4 installs after the quarantined v3" test $rc -eq 0
check "v4 is current" grep -q '^web: current sequence 4 ' <(op status)

# --- two apps: one failing, the other unaffected -----------------------------
op import db-1.bundle 2>log; rc=$?
check "db's first install fails" test $rc -eq 1
check "db's objects were removed (first install, prune)" bash -c "! kubectl --kubeconfig $KC get deployment db -n db"
check "web is untouched by db's failure" grep -q '^web: current sequence 4 ' <(op status)
check "db has no healthy release" grep -q '^db: no healthy release yet' <(op status)
op status --json > status.json
check "status --json parses" python3 -c "import json; d=json.load(open('status.json')); assert d['apps'][0]['current']['sequence'] == 4"

# --- a stuck StatefulSet is never Failed by itself: only the deadline fails it --
start=$(date +%s)
op import sts-1.bundle 2>log; rc=$?
took=$(( $(date +%s) - start ))
check "a stuck StatefulSet fails" test $rc -eq 1
check "at its deadline (3 s), not before (took ${took}s)" test $took -ge 3
check "the deadline is named" grep -q 'not healthy within the 3 s deadline: StatefulSet' log

# --- drift ---------------------------------------------------------------------
kctl delete deployment web -n web >/dev/null 2>&1
op once 2>log; rc=$?
check "once exits 0 after correcting drift" test $rc -eq 0
check "a deleted object is recreated" kctl get deployment web -n web
check "drift is logged" grep -q 'drift: 1 object corrected' log
op once 2>log
check "no drift: nothing corrected" bash -c "! grep -q drift log"

# --- the API down: unknown, never failed --------------------------------------
sim_control control '{"down": true}'
op rollback web --to 2 2>log; rc=$?
check "API down: exit 3 (unknown)" test $rc -eq 3
check "API down: web still on v4 in the store" grep -q '^web: current sequence 4 ' <(op status)
sim_control control '{"down": false}'

# --- manual rollback -------------------------------------------------------------
op rollback web --to 2 2>log; rc=$?
check "manual rollback to v2" test $rc -eq 0
check "v2 is current again" grep -q '^web: current sequence 2 ' <(op status)
check "the cluster runs v2" test "$(kctl get deployment web -n web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:2.0

# --- an app whose channel is not its name: the bundle's app is the channel's --
mkdir -p src/shop-1
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' > src/shop-1/00-ns.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata: {v: "1"}\n' > src/shop-1/cm.yaml
$OUTPOST bundle pack --app shop --version shop-v1 --sequence 1 src/shop-1 -o shop-by-name.bundle \
	--key signer.key >/dev/null 2>&1
$OUTPOST bundle pack --app shop-stable --version shop-v1 --sequence 1 src/shop-1 -o shop-1.bundle \
	--key signer.key >/dev/null 2>&1
sed -e "s|state_dir: .*|state_dir: $TMP/state-shop|" \
	-e 's|  - {name: web, namespace: web}|  - {name: shop, channel: shop-stable, namespace: shop}|' \
	-e '/name: db\|name: sts/d' config.yaml > config-shop.yaml
printf 'metrics: {path: %s}\nlimits: {keep_releases: 1}\n' "$TMP/shop.prom" >> config-shop.yaml
shop() { $OUTPOST --config "$TMP/config-shop.yaml" "$@"; }
shop import shop-by-name.bundle 2>log; rc=$?
check "channel != name: a bundle of the config name is refused (exit 1, got $rc)" test $rc -eq 1
check "channel != name: the refusal names the channel" grep -q "follows channel 'shop-stable'" log
check "channel != name: nothing was stored" grep -q '^shop: no healthy release yet' <(shop status)
shop import shop-1.bundle 2>log; rc=$?
check "channel != name: a bundle of the channel installs" test $rc -eq 0
check "channel != name: status shows it current" grep -q '^shop: current sequence 1 ' <(shop status)
check "channel != name: metrics give its sequence" grep -q '^outpost_release_sequence{app="shop"} 1$' shop.prom
check "channel != name: metrics call it healthy" grep -q '^outpost_release_healthy{app="shop"} 1$' shop.prom

# --- old releases are collected after each healthy one (limits.keep_releases) --
for n in 2 3; do
	mkdir -p src/shop-$n; cp src/shop-1/00-ns.yaml src/shop-$n/
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata: {v: "%s"}\n' $n > src/shop-$n/cm.yaml
	$OUTPOST bundle pack --app shop-stable --version shop-v$n --sequence $n src/shop-$n \
		-o shop-$n.bundle --key signer.key >/dev/null 2>&1
	shop import shop-$n.bundle 2>log
done
check "gc: sequence 3 is current" grep -q '^shop: current sequence 3 ' <(shop status)
check "gc: the collection is logged" grep -q '1 old release collected (keeping 1 older)' log
shop rollback shop --to 1 2>log; rc=$?
check "gc: sequence 1 was collected (rollback --to 1 refused, exit $rc)" test $rc -ne 0
check "gc: ... because it is not stored" grep -q 'sequence 1 is not stored' log
shop rollback shop --to 2 2>log; rc=$?
check "gc: the one older release kept serves a rollback" test $rc -eq 0
check "gc: sequence 2 is current again" grep -q '^shop: current sequence 2 ' <(shop status)

# --- a big bundle is verified and stored as it is read, not held in memory --
mkdir -p src/big-1
python3 - <<'PY'
import base64, os
for i in range(20):
    with open("src/big-1/cm-%02d.yaml" % i, "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big-%d}\n"
                "data:\n  blob: \"%s\"\n" % (i, base64.b64encode(os.urandom(786000)).decode()))
PY
$OUTPOST bundle pack --app big --version big-v1 --sequence 1 src/big-1 -o big-1.bundle \
	--key signer.key >/dev/null 2>&1
sed -e "s|state_dir: .*|state_dir: $TMP/state-big|" \
	-e 's|  - {name: web, namespace: web}|  - {name: big}|' \
	-e '/name: db\|name: sts/d' config.yaml > config-big.yaml
big() { $OUTPOST --config "$TMP/config-big.yaml" "$@"; }
# the last file's last bytes changed, same size: refused at the very end
python3 - <<'PY'
data = bytearray(open("big-1.bundle", "rb").read())
i = data.rindex(b'"\n') - 8
data[i:i + 4] = b"AAAA" if data[i:i + 4] != b"AAAA" else b"BBBB"
open("big-bad.bundle", "wb").write(bytes(data))
PY
big import --no-apply big-bad.bundle 2>log; rc=$?
check "big bundle: a bad digest in its last file is refused (exit $rc)" test $rc -eq 1
check "big bundle: ... as a digest mismatch" grep -q "cm-19.yaml' does not match its sha256" log
big status > st; big history big > hist-big
check "big bundle: nothing of it was kept" bash -c "grep -q '^big: no healthy release yet' st && ! grep -q 'sequence 1' st"
check "big bundle: no release row either" bash -c "test -f hist-big && ! grep -q ' big 1 ' hist-big"
/usr/bin/time -v $OUTPOST --config "$TMP/config-big.yaml" import --no-apply big-1.bundle 2>log; rc=$?
peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' log)
check "big bundle: imported (exit $rc)" test $rc -eq 0
check "big bundle: stored, verified" grep -q '^big: no healthy release yet; newest sequence 1 (big-v1) is verified' <(big status)
# the sanitizer build's shadow memory and quarantine, or a qemu runner's
# own memory, say nothing of outpost's
if [ -n "${OUTPOST_SAN_LOGS:-}" ] || [ "$OUTPOST" != "${OUTPOST#*qemu}" ]; then
	echo "# big bundle: peak RSS ${peak:-?} KiB under a sanitizer build or a qemu runner: not bounded here"
else
	check "big bundle ($(($(stat -c %s big-1.bundle) / 1048576)) MiB): peak RSS under 16 MB (${peak:-?} KiB)" \
		test "${peak:-99999}" -lt 16000
fi
rm -rf src/big-1 big-1.bundle big-bad.bundle

op history web > hist
check "history lists the transitions" grep -q 'web 3 applied -> failed: health check failed' hist
check "history lists the rollback" grep -q 'web 3 rolling-back -> rolled-back: rolled back to sequence 2' hist

# --- the daemon reloads its configuration (SIGHUP) -------------------------------
# A reload that adds an app, then one with a broken file: the daemon keeps
# the config it runs and applies the next release into the app's own
# namespace. (It pointed at a dead copy of the config: under ASan a
# stack-use-after-scope on the cycle after the first reload, in the release
# build the broken load's zeroed config, the release applied to "default"
# and the running Deployment pruned.)
cp config.yaml run.yaml
mkdir -p src/web-5
cp src/web-1/00-ns.yaml src/web-5/
kubesim_deployment web nginx:5.0 > src/web-5/20-web.yaml
release web 5
$OUTPOST --config "$TMP/run.yaml" run 2>run.log &
AGENT=$!
trap 'kill $AGENT $SIMPID 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
# wait_log PATTERN N: until run.log has N lines matching PATTERN (10 s)
wait_log() {
	for _ in $(seq 100); do
		[ "$(grep -c "$1" run.log)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
check "the daemon runs" wait_log 'running: 3 apps' 1
printf '  - {name: cache, namespace: cache}\n' > cache.yaml
sed -i '/^  - {name: sts, namespace: sts}$/r cache.yaml' run.yaml
kill -HUP $AGENT
check "a reload that adds an app is done" wait_log 'configuration reloaded' 1
sleep 1
check "the daemon lives on after the reload" kill -0 $AGENT
op import --no-apply web-5.bundle 2>log; rc=$?
check "web v5 is stored for the daemon to apply" test $rc -eq 0
# the cycle after a reload, refused or not, comes at once
echo 'apps: [' >> run.yaml
kill -HUP $AGENT
check "a broken config is not reloaded" wait_log 'configuration not reloaded' 1
for _ in $(seq 150); do
	grep -q '^web: current sequence 5 ' <(op status) && break
	sleep 0.1
done
check "the daemon, after the refused reload, made v5 current" grep -q '^web: current sequence 5 ' <(op status)
check "v5 runs in the app's namespace" \
	test "$(kctl get deployment web -n web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:5.0
check "nothing went to the default namespace" bash -c "! kubectl --kubeconfig $KC get deployment web -n default"
kill -TERM $AGENT
wait $AGENT; rc=$?
AGENT=
check "SIGTERM: the daemon exits 0 (exit $rc)" test $rc -eq 0
[ "$_fail" -gt 0 ] && sed 's/^/#   /' run.log | tail -n 40

done_testing
