#!/bin/bash
# Benchmark: the state database over many releases. Imports N releases
# (default 200) of one app against kubesim, each bundle carrying a 32 KiB
# ConfigMap of random data, with limits.keep_releases at its default (3),
# and prints the size of the database (outpost.db and its -wal, after the
# last process closed it) every 50 releases: with the collection after each
# healthy release it stays flat; without it, it grows by a bundle per
# release. Asserts nothing; prints figures.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/store.sh [N]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
N=${1:-200}
TMP=$(mktemp -d)
SIM=$TMP/sim

python3 "$ROOT/tests/kubesim/kubesim.py" --dir "$SIM" --port 0 >"$TMP/sim.log" 2>&1 &
SIMPID=$!
trap 'kill $SIMPID 2>/dev/null; wait $SIMPID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -f "$SIM/ready" ] && break; sleep 0.1; done
[ -f "$SIM/ready" ] || { echo "kubesim did not start" >&2; exit 1; }
cd "$TMP" || exit 1
$OUTPOST keygen -o k >/dev/null 2>&1
$OUTPOST root init --key k.key -o root.yaml >/dev/null 2>&1
cat > config.yaml <<YAML
server: https://releases.invalid/
device: {id: bench}
trust: {root: $TMP/root.yaml}
apps: [{name: bench}]
kubernetes: {kubeconfig: $SIM/kubeconfig}
state_dir: $TMP/state
YAML
dbsize() {
	local s=0 f
	for f in state/outpost.db state/outpost.db-wal; do
		[ -f "$f" ] && s=$((s + $(stat -c %s "$f")))
	done
	echo "$s"
}
failed=0
printf '%-10s %-14s %s\n' releases "db bytes" "bundle bytes (each)"
for i in $(seq 1 "$N"); do
	mkdir -p "src-$i"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench, namespace: default}\ndata:\n  blob: "%s"\n' \
		"$(head -c 24576 /dev/urandom | base64 -w0)" > "src-$i/cm.yaml"
	$OUTPOST bundle pack --app bench --version "v$i" --sequence "$i" "src-$i" \
		-o "b-$i.bundle" --key k.key >/dev/null 2>&1
	$OUTPOST --config config.yaml import "b-$i.bundle" 2>>import.log || failed=$((failed + 1))
	if [ $((i % 50)) -eq 0 ] || [ "$i" -eq "$N" ]; then
		printf '%-10s %-14s %s\n' "$i" "$(dbsize)" "$(stat -c %s "b-$i.bundle")"
	fi
	rm -rf "src-$i" "b-$i.bundle"
done
echo "# database size after $N releases: $(dbsize) bytes ($failed imports failed)"
