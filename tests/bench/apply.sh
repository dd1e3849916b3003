#!/bin/bash
# Benchmark: server-side apply of 10, 100 and 1,000 ConfigMaps to kubesim
# with 2 ms of latency per request: outpost sequential (--parallel 1),
# outpost with its default pool, and `kubectl apply --server-side`. Prints
# wall times, ratios and outpost's peak RSS; asserts nothing about time.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/apply.sh [LATENCY_MS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
LATENCY=${1:-2}
TMP=$(mktemp -d)
SIM=$TMP/sim

python3 "$ROOT/tests/kubesim/kubesim.py" --dir "$SIM" --port 0 \
	--latency-ms "$LATENCY" >"$TMP/sim.log" 2>&1 &
SIMPID=$!
trap 'kill $SIMPID 2>/dev/null; wait $SIMPID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -f "$SIM/ready" ] && break; sleep 0.1; done
[ -f "$SIM/ready" ] || { echo "kubesim did not start" >&2; exit 1; }
PORT=$(cat "$SIM/port")
KC=$SIM/kubeconfig

reset() {
	curl -s --cacert "$SIM/ca.crt" -d '{}' "https://localhost:$PORT/kubesim/reset" >/dev/null
}
gen() {
	for i in $(seq 1 "$1"); do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: default\n  labels: {app: bench}\ndata:\n  index: "%d"\n  payload: "%s"\n---\n' \
			"$i" "$i" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	done >"$TMP/cm$1.yaml"
}
# seconds (3 decimals) that "$@" takes; fails loudly if the command does
seconds() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$TMP/out" 2>"$TMP/err" || { echo "FAILED: $*" >&2; tail -3 "$TMP/err" >&2; }
	t1=$(date +%s%N)
	echo "scale=3; ($t1 - $t0) / 1000000000" | bc | sed 's/^\./0./'
}
ratio() { echo "scale=1; $1 / $2" | bc | sed 's/^\./0./'; }

have_kubectl=
command -v kubectl >/dev/null && have_kubectl=1
printf 'kubesim latency %s ms per request; outpost default pool = CONFIG_API_CONNECTIONS\n\n' "$LATENCY"
printf '%8s %12s %12s %12s %10s %12s\n' objects "seq (s)" "par (s)" "kubectl (s)" par/seq kubectl/par
for n in 10 100 1000; do
	gen $n
	reset
	s=$(seconds "$OUTPOST" kube --kubeconfig "$KC" --parallel 1 apply -f "$TMP/cm$n.yaml")
	reset
	p=$(seconds "$OUTPOST" kube --kubeconfig "$KC" apply -f "$TMP/cm$n.yaml")
	k=-
	if [ -n "$have_kubectl" ]; then
		reset
		k=$(seconds kubectl --kubeconfig "$KC" apply --server-side --validate=false \
			-f "$TMP/cm$n.yaml")
	fi
	printf '%8d %12s %12s %12s %9sx %11sx\n' $n "$s" "$p" "$k" "$(ratio "$s" "$p")" \
		"$([ "$k" = - ] && echo - || ratio "$k" "$p")"
done

reset
if [ -x /usr/bin/time ]; then
	/usr/bin/time -v "$OUTPOST" kube --kubeconfig "$KC" apply -f "$TMP/cm1000.yaml" \
		>/dev/null 2>"$TMP/time"
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/time")
else
	"$OUTPOST" kube --kubeconfig "$KC" apply -f "$TMP/cm1000.yaml" >/dev/null 2>&1 &
	pid=$! rss=0
	while kill -0 $pid 2>/dev/null; do
		v=$(sed -n 's/^VmHWM: *\([0-9]*\) kB/\1/p' /proc/$pid/status 2>/dev/null)
		[ -n "$v" ] && rss=$v
		sleep 0.01
	done
fi
printf '\npeak RSS of outpost applying 1,000 objects: %s KiB (%s MiB)\n' "$rss" \
	"$(echo "scale=1; $rss / 1024" | bc)"
printf 'targets (reported, not asserted): par/seq >= 4x at 100; kubectl/par >= 10x; peak <= 16 MiB\n'
