#!/bin/bash
# Benchmark: server-side apply of 1, 10, 100 and 1,000 ConfigMaps to kubesim
# with 2 ms of latency per request: outpost sequential (--parallel 1),
# outpost with its default pool, and `kubectl apply --server-side`. Prints
# wall times (best of 3), ratios and outpost's peak RSS; asserts nothing
# about time.
#
# Two tables: the whole command, and the apply alone. A one-shot command
# pays a fixed price before its first object (process start, discovery, one
# full TLS handshake: ~30 ms for outpost, ~0.1 s for kubectl with its
# discovery cache warm); the second table subtracts the 1-object time, which
# leaves what each further object costs, what a running agent pays.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/apply.sh [LATENCY_MS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
LATENCY=${1:-2}
TMP=$(mktemp -d)
SIM=$TMP/sim
SIZES="1 10 100 1000"

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
# best of 3 wall times (seconds, 3 decimals) of "$@", each on a fresh
# kubesim; fails loudly if the command does
best() {
	local t0 t1 ns min=
	for _ in 1 2 3; do
		reset
		t0=$(date +%s%N)
		"$@" >"$TMP/out" 2>"$TMP/err" || { echo "FAILED: $*" >&2; tail -3 "$TMP/err" >&2; }
		t1=$(date +%s%N)
		ns=$((t1 - t0))
		[ -z "$min" ] || [ "$ns" -lt "$min" ] && min=$ns
	done
	echo "scale=3; $min / 1000000000" | bc | sed 's/^\./0./'
}
ratio() { echo "scale=1; $1 / $2" | bc | sed 's/^\./0./'; }
# ms per object beyond the first: (t(n) - t(1)) / (n - 1)
marginal() { echo "scale=3; ($1 - $2) * 1000 / ($3 - 1)" | bc | sed 's/^\./0./'; }

kubectl_apply=
command -v kubectl >/dev/null && kubectl_apply=1
pool=$(sed -n 's/^#define CONFIG_API_CONNECTIONS \([0-9]*\)/\1/p' \
	"$(dirname "$OUTPOST")/kconfig.h" 2>/dev/null)
kctl() {
	kubectl --kubeconfig "$KC" --cache-dir "$TMP/kube-cache" apply --server-side \
		--validate=false -f "$1"
}

declare -A S P K
for n in $SIZES; do
	gen "$n"
	S[$n]=$(best "$OUTPOST" kube --kubeconfig "$KC" --parallel 1 apply -f "$TMP/cm$n.yaml")
	P[$n]=$(best "$OUTPOST" kube --kubeconfig "$KC" apply -f "$TMP/cm$n.yaml")
	K[$n]=-
	if [ -n "$kubectl_apply" ]; then
		[ "$n" = 1 ] && { reset; kctl "$TMP/cm1.yaml" >/dev/null 2>&1; }  # warm its cache
		K[$n]=$(best kctl "$TMP/cm$n.yaml")
	fi
done

printf 'kubesim latency %s ms per request; outpost pool %s connections; best of 3\n\n' \
	"$LATENCY" "${pool:-?}"
printf 'whole command (s):\n'
printf '%8s %12s %12s %12s %10s %12s\n' objects "seq (s)" "par (s)" "kubectl (s)" par/seq kubectl/par
for n in $SIZES; do
	[ "$n" = 1 ] && continue
	printf '%8d %12s %12s %12s %9sx %11sx\n' "$n" "${S[$n]}" "${P[$n]}" "${K[$n]}" \
		"$(ratio "${S[$n]}" "${P[$n]}")" \
		"$([ "${K[$n]}" = - ] && echo - || ratio "${K[$n]}" "${P[$n]}")"
done
printf '\napply alone, ms per object beyond the first (1 object: seq %s s, par %s s, kubectl %s s):\n' \
	"${S[1]}" "${P[1]}" "${K[1]}"
printf '%8s %12s %12s %12s %10s %12s\n' objects "seq (ms)" "par (ms)" "kubectl (ms)" par/seq kubectl/par
for n in $SIZES; do
	[ "$n" = 1 ] && continue
	s=$(marginal "${S[$n]}" "${S[1]}" "$n")
	p=$(marginal "${P[$n]}" "${P[1]}" "$n")
	k=-
	[ "${K[$n]}" = - ] || k=$(marginal "${K[$n]}" "${K[1]}" "$n")
	printf '%7d+ %12s %12s %12s %9sx %11sx\n' "$n" "$s" "$p" "$k" "$(ratio "$s" "$p")" \
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
