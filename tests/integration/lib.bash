# Shared helpers for integration tests (bash). Each test script sources it,
# calls check/expect, and ends with done_testing, which prints the closing
# line "N passed, N failed" and sets the exit status.
#
# OUTPOST is the command that runs the binary under test (may include a
# qemu-user runner); the scripts run in a fresh temporary directory that is
# removed on exit.

: "${OUTPOST:?set OUTPOST to the outpost binary under test}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d)
cd "$TMP" || exit 1
trap 'cd /; rm -rf "$TMP"' EXIT

_n=0 _pass=0 _fail=0

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	local desc=$1
	shift
	_n=$((_n + 1))
	if "$@" >/dev/null 2>&1; then
		_pass=$((_pass + 1))
		echo "ok $_n - $desc"
	else
		_fail=$((_fail + 1))
		echo "not ok $_n - $desc"
		echo "#   command: $*"
	fi
}

done_testing() {
	echo "$_pass passed, $_fail failed"
	[ "$_fail" -eq 0 ] && [ "$_pass" -gt 0 ]
	exit
}

# start_kubesim: the Kubernetes API test double on a free loopback port,
# stopped when the test ends. Sets SIM (its directory), PORT and KC (the
# kubeconfig); sim_control PATH [JSON] drives its control endpoint.
start_kubesim() {
	SIM=$TMP/sim
	python3 "$ROOT/tests/kubesim/kubesim.py" --dir "$SIM" --port 0 "$@" >"$TMP/sim.log" 2>&1 &
	SIMPID=$!
	trap 'kill $SIMPID 2>/dev/null; wait $SIMPID 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
	for _ in $(seq 100); do [ -f "$SIM/ready" ] && break; sleep 0.1; done
	PORT=$(cat "$SIM/port")
	KC=$SIM/kubeconfig
	[ -f "$SIM/ready" ]
}
sim_control() {
	curl -s --cacert "$SIM/ca.crt" "https://localhost:$PORT/kubesim/$1" -d "${2:-{\}}" >/dev/null
}

# kubesim_deployment NAME IMAGE [BEHAVIOR]: a one-replica Deployment (a YAML
# document) that kubesim drives to BEHAVIOR (default ready) after 300 ms.
kubesim_deployment() {
	cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  annotations:
    kubesim.outpost.dev/behavior: "${3:-ready}"
    kubesim.outpost.dev/after-ms: "300"
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec: {containers: [{name: $1, image: "$2"}]}
YAML
}

# notify_listen SOCKET LOG [SECONDS]: a service manager's notify socket
# (sd_notify) in the background, each datagram one line of LOG (newlines
# shown as \n), until SECONDS (default 60) pass without one; sets
# NOTIFYPID and returns when the socket exists.
notify_listen() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(float(sys.argv[3]))
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        try:
            m = s.recv(4096)
        except socket.timeout:
            break
        f.write(m.decode(errors="replace").replace("\n", "\\n") + "\n")
' "$1" "$2" "${3:-60}" &
	NOTIFYPID=$!
	for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
	touch "$2"
}
