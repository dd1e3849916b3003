#!/bin/bash
# kubesim against a real kube-apiserver v1.32.13: the requests recorded in
# ../shared/fixtures/kubernetes/observed-1.32 (read here, at test time) are
# sent to a fresh kubesim by the shared k8s-fidelity tool's capture.py, and
# each answer is compared with the real one by its compare.py (status; a
# Status's reason and causes; the core group's metadata in aggregated
# discovery; plain-text bodies). A second line per Status answer compares
# the message itself, except where the real server prints Go internals
# (a %#v dump of a PodTemplateSpec, a JSON decoder's error text).
# TAP lines and the closing "N passed, N failed"; fails when any differs.
set -u
: "${OUTPOST:=unused}"      # lib.bash wants it; no outpost runs here
export OUTPOST
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.bash"

shared=${K8S_SHARED:-$ROOT/../shared}
tool=$shared/tools/k8s-fidelity
fx=$shared/fixtures/kubernetes/observed-1.32
if [ ! -f "$tool/capture.py" ] || [ ! -d "$fx" ]; then
	echo "not ok 1 - the fixtures and the k8s-fidelity tool are in $shared"
	echo "0 passed, 1 failed"
	exit 1
fi

start_kubesim --ready-ms 100 || { echo "not ok 1 - kubesim starts"; echo "0 passed, 1 failed"; exit 1; }
printf '%s,admin,admin\n' "$(cat "$SIM/token")" >tok.csv
check "capture.py sends every recorded request to kubesim" \
	timeout 120 python3 "$tool/capture.py" "$PORT" tok.csv "$SIM/ca.crt" out

python3 "$tool/compare.py" "$fx" out >compare.txt
wanted=$(find "$fx" -name '*.json' ! -name version.json | wc -l)
compared=$(grep -cE '^(agree|DIFFERS) ' compare.txt)
check "every one of the $wanted observed answers was compared" \
	test "$compared" -eq "$wanted"
while read -r verdict name rest; do
	case $verdict in
	agree) check "answers like v1.32.13: $name" true ;;
	DIFFERS) check "answers like v1.32.13: ${name%:} ($rest)" false ;;
	esac
done <compare.txt

# same STATUS-MESSAGE lines: name, then "same" or what differs
python3 - "$fx" out >messages.txt <<'EOF'
import glob, json, os, sys
real, double = sys.argv[1], sys.argv[2]
for path in sorted(glob.glob(os.path.join(real, "*.json"))):
    name = os.path.basename(path)[:-5]
    other = os.path.join(double, name + ".json")
    if name == "version" or not os.path.exists(other):
        continue
    want = json.load(open(path))["response"].get("body")
    got = json.load(open(other))["response"].get("body")
    if not isinstance(want, dict) or want.get("kind") != "Status" or \
            "message" not in want:
        continue
    message = want["message"]
    if "PodTemplateSpec{" in message or "invalid character" in message:
        continue            # Go internals, not modelled byte for byte
    have = got.get("message") if isinstance(got, dict) else None
    print(name, "same" if have == message else
          json.dumps({"real": message, "kubesim": have})[:300])
EOF
while read -r name verdict; do
	check "same message as v1.32.13: $name" test "$verdict" = same
	[ "$verdict" = same ] || echo "#   $verdict"
done <messages.txt

done_testing
