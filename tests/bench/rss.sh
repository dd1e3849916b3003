#!/bin/bash
# Benchmark: peak RSS of taking in a big bundle (default 60 files of 1 MiB,
# a ~61 MiB bundle, under the default 64 MiB cap): `outpost import
# --no-apply` (verify and store), `outpost once` fetching it from a local
# HTTP server while its maintenance window is closed (download, verify,
# store, no apply), and `outpost import` applying it to kubesim. Peak RSS
# is the maximum resident set size that /usr/bin/time -v reports (the
# kernel's, getrusage). Asserts nothing; prints figures.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/rss.sh [FILES]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
FILES=${1:-60}
TMP=$(mktemp -d)
SIM=$TMP/sim
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

python3 "$ROOT/tests/kubesim/kubesim.py" --dir "$SIM" --port 0 >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -f "$SIM/ready" ] && break; sleep 0.1; done
[ -f "$SIM/ready" ] || { echo "kubesim did not start" >&2; exit 1; }
cd "$TMP" || exit 1
$OUTPOST keygen -o k >/dev/null 2>&1
$OUTPOST root init --key k.key -o root.yaml >/dev/null 2>&1
mkdir -p src www/fleet/channels/big www/fleet/bundles
python3 - "$FILES" <<'PY'
import base64, os, sys
for i in range(int(sys.argv[1])):
    with open("src/cm-%03d.yaml" % i, "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big-%d, namespace: default}\n"
                "data:\n  blob: \"%s\"\n" % (i, base64.b64encode(os.urandom(786000)).decode()))
PY
$OUTPOST bundle pack --app big --version v1 --sequence 1 src -o www/fleet/bundles/big-1.bundle \
	--key k.key >/dev/null 2>&1 || { echo "bundle pack failed" >&2; exit 1; }
size=$(stat -c %s www/fleet/bundles/big-1.bundle)
# a window that is never open now: 12 hours away
h=$(( ($(date -u +%H) + 12) % 24 ))
win=$(printf '%02d:00-%02d:30' "$h" "$h")
$OUTPOST release create --bundle www/fleet/bundles/big-1.bundle --url ../../bundles/big-1.bundle \
	--window "$win" -o www/fleet/channels/big/release.yaml --key k.key >/dev/null 2>&1 ||
	{ echo "release create failed" >&2; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory www "$port" >http.log 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
	sleep 0.1
done
config() { # NAME
	cat > "config-$1.yaml" <<YAML
server: http://127.0.0.1:$port/fleet/
device: {id: bench}
trust: {root: $TMP/root.yaml}
apps: [{name: big}]
kubernetes: {kubeconfig: $SIM/kubeconfig}
state_dir: $TMP/state-$1
YAML
}
peak() { # LOG: the peak RSS in KiB
	sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"
}
for c in import fetch apply; do config $c; done
/usr/bin/time -v $OUTPOST --config config-import.yaml import --no-apply www/fleet/bundles/big-1.bundle \
	>import.out 2>import.log; rc1=$?
/usr/bin/time -v $OUTPOST --config config-fetch.yaml once >fetch.out 2>fetch.log; rc2=$?
grep -q 'verified and stored' fetch.log || rc2="$rc2, not stored"
/usr/bin/time -v $OUTPOST --config config-apply.yaml import www/fleet/bundles/big-1.bundle \
	>apply.out 2>apply.log; rc3=$?
echo "# bundle: $FILES manifests, $size bytes ($(echo "scale=1; $size / 1048576" | bc) MiB)"
printf '%-58s %s\n' "peak RSS, import --no-apply (verify, store; exit $rc1)" "$(peak import.log) KiB"
printf '%-58s %s\n' "peak RSS, once: fetch, verify, store (exit $rc2)" "$(peak fetch.log) KiB"
printf '%-58s %s\n' "peak RSS, import and apply to kubesim (exit $rc3)" "$(peak apply.log) KiB"
