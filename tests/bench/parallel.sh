#!/bin/bash
# Benchmark: from a release being there to app b healthy, while 3 other
# apps (s1, s2, s3, listed first) each wait on a slow health check (a
# Deployment that kubesim makes ready after SLOW_MS, default 5000 ms).
#   sequential: each app carried to its end before the next, as one cycle
#     did before apps progressed independently: `outpost import` of s1, s2,
#     s3, then b (import blocks until its release is healthy);
#   parallel: the four bundles stored (`import --no-apply`), then one
#     `outpost once`: every app steps each pass and b's health is not
#     held behind the others' waits.
# Each mode has its own state and namespaces. Prints one line:
#   parallel: sequential S ms, parallel P ms
# Asserts nothing; exits 1 only when the setup fails.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/parallel.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
SLOW_MS=${SLOW_MS:-5000}
. "$ROOT/tests/integration/lib.bash"

fail() { echo "parallel.sh: $*" >&2; exit 1; }
start_kubesim >/dev/null || fail "kubesim did not start"
$OUTPOST keygen -o k >/dev/null 2>&1
$OUTPOST root init --key k.key -o root.yaml >/dev/null 2>&1
ms() { echo $(($(date +%s%N) / 1000000)); }

# setup MODE: config-MODE.yaml and MODE-APP.bundle for the four apps
setup() {
	local app after
	cat > "config-$1.yaml" <<YAML
server: https://releases.invalid/
device: {id: bench}
trust: {root: $TMP/root.yaml}
apps:
  - {name: s1, namespace: $1-s1}
  - {name: s2, namespace: $1-s2}
  - {name: s3, namespace: $1-s3}
  - {name: b, namespace: $1-b}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state-$1
health: {default_timeout: 60}
YAML
	for app in s1 s2 s3 b; do
		after=$SLOW_MS
		[ $app = b ] && after=300
		mkdir -p "src/$1-$app"
		printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$1-$app" \
			> "src/$1-$app/00-ns.yaml"
		kubesim_deployment "$app" "registry.local/$app:1" ready |
			sed "s/after-ms: \"300\"/after-ms: \"$after\"/" > "src/$1-$app/10-deploy.yaml"
		$OUTPOST bundle pack --app "$app" --version v1 --sequence 1 "src/$1-$app" \
			-o "$1-$app.bundle" --key k.key >/dev/null 2>&1 || fail "bundle pack $app"
	done
}
op() { local m=$1; shift; $OUTPOST --config "$TMP/config-$m.yaml" "$@"; }

setup seq
setup par
for app in s1 s2 s3 b; do
	op par import --no-apply "par-$app.bundle" 2>>par.log || fail "import --no-apply $app"
done

t=$(ms)
for app in s1 s2 s3 b; do
	op seq import "seq-$app.bundle" 2>>seq.log || fail "import $app"
done
seq_ms=$(($(ms) - t))
grep -q '^b: current sequence 1 ' <(op seq status) || fail "sequential: b is not healthy"

t=$(ms)
op par once 2>>par.log &
pid=$!
par_ms=
for _ in $(seq 1200); do
	if grep -qF "b: sequence 1 (v1) is healthy" par.log; then
		par_ms=$(($(ms) - t))
		break
	fi
	sleep 0.02
done
wait $pid || fail "parallel: once failed"
[ -n "$par_ms" ] || fail "parallel: b did not become healthy"
echo "parallel: sequential $seq_ms ms, parallel $par_ms ms (3 apps waiting $SLOW_MS ms each)"
