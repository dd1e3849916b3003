#!/bin/bash
# Benchmark: opening encrypted Secrets. A bundle holds one 1 MiB age file
# (made with Debian's age) and one SOPS Secret (Flux's test file, from
# ../shared/fixtures/sops); `outpost bundle verify --identity` opens both
# in memory. Prints the CPU instructions that opening costs (callgrind:
# verify with --identity minus verify without, so reading and checking
# the bundle cancels out) and the wall time of each, best of 5.
# Asserts nothing; prints figures.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/secrets.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
FIX=${OUTPOST_FIXTURES:-$ROOT/../shared/fixtures}/sops
FLUX=$FIX/fluxcd__kustomize-controller@186fb3b29138/internal/controller/testdata/sops
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
command -v age >/dev/null || { echo "secrets bench: needs Debian's age" >&2; exit 1; }

$OUTPOST keygen -o k >/dev/null 2>&1
$OUTPOST root init --key k.key -o root.yaml >/dev/null 2>&1
age-keygen -o id.txt 2>/dev/null
cat "$FLUX/keys/age.txt" >> id.txt
mkdir -p m
# a Secret of 1 MiB: a data value of 786,432 random bytes, base64
{ printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: big}\ndata:\n  blob: '
  head -c 786432 /dev/urandom | base64 -w0; printf '\n'; } > big.yaml
age -r "$(age-keygen -y id.txt 2>/dev/null | head -1)" -o m/big.yaml.age big.yaml
cp "$FLUX/algorithms/age.yaml" m/sops.yaml
$OUTPOST bundle pack --app b --version 1 --sequence 1 m -o b.bundle --key k.key >/dev/null 2>&1
plain=$(stat -c %s big.yaml)
enc=$(stat -c %s m/big.yaml.age)

best() {   # best wall time of 5 runs of "$@", in ms
	local b=999999 t0 t1 i
	for i in 1 2 3 4 5; do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
		(( (t1 - t0) / 1000 < b )) && b=$(( (t1 - t0) / 1000 ))
	done
	printf '%d.%03d' $((b / 1000)) $((b % 1000))
}
t_plain=$(best $OUTPOST bundle verify b.bundle --root root.yaml)
t_open=$(best $OUTPOST bundle verify b.bundle --root root.yaml --identity id.txt)
$OUTPOST bundle verify b.bundle --root root.yaml --identity id.txt >/dev/null 2>&1 ||
	{ echo "secrets bench: the bundle does not open" >&2; exit 1; }
echo "secrets: a $plain-byte manifest as a $enc-byte age file, and a SOPS Secret"
echo "  bundle verify: ${t_plain} ms; with --identity (opening both): ${t_open} ms"
if command -v valgrind >/dev/null; then
	ir() {
		valgrind --tool=callgrind --callgrind-out-file=cg.out "$@" >/dev/null 2>&1
		callgrind_annotate cg.out 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
	}
	a=$(ir $OUTPOST bundle verify b.bundle --root root.yaml)
	b=$(ir $OUTPOST bundle verify b.bundle --root root.yaml --identity id.txt)
	echo "  instructions (callgrind): verify $a, with --identity $b: opening costs $((b - a))" \
	     "($(( (b - a) / (plain / 1024) )) per KiB of plaintext)"
fi
