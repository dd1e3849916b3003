#!/bin/bash
# Benchmark: the cost of an idle poll (the pointer has not changed: 304).
# The machine is shared: run it a few times and take the lowest figures.
# nginx serves the repository over HTTPS (tests/server/lib.bash); a release
# is installed first (kubesim), then `outpost once` runs N times against
# the unchanged pointer. Prints, per idle poll:
#   - HTTP bytes, request + response, from nginx's $request_length and
#     $bytes_sent (target: <= 1 KiB);
#   - bytes on the wire including TLS, counted by a TCP relay in front of
#     nginx (each `once` is a new process, so a full TLS handshake);
#   - CPU time (user + sys) of `outpost once`, and of `outpost status` (the
#     same start-up: config, state database, trust root, without the
#     poll), so the poll's own share shows (target: <= 5 ms per poll).
# Then the daemon: `outpost run` polls every 10 s for 40 s, measured with
# `perf stat -p` (CPU per poll with TLS sessions resumed: the server keeps
# a session cache) and the relay (bytes per poll on a resumed session).
# Asserts nothing; exits 1 only when the setup fails.
#
# usage: OUTPOST=build/x86_64/outpost bash tests/bench/poll.sh [N]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export OUTPOST=${OUTPOST:-$ROOT/build/x86_64/outpost}
N=${1:-50}
. "$ROOT/tests/integration/lib.bash"
. "$ROOT/tests/server/lib.bash"

fail() { echo "poll.sh: $*" >&2; exit 1; }
command -v nginx >/dev/null || fail "nginx is missing (tests/bootstrap.sh)"
start_kubesim >/dev/null || fail "kubesim did not start"
srv_init
srv_start || fail "nginx did not start"

# A TCP relay that counts the bytes each way, per connection.
RELAY_PORT=$(free_port)
python3 - "$RELAY_PORT" "$SRV_PORT" "$SRV/relay.log" <<'PY' &
import socket, sys, threading
lport, dport, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(16)
def pump(a, b, count):
    while True:
        d = a.recv(65536)
        if not d:
            break
        count[0] += len(d)
        b.sendall(d)
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", dport))
    up, down = [0], [0]
    t1 = threading.Thread(target=pump, args=(c, s, up))
    t2 = threading.Thread(target=pump, args=(s, c, down))
    t1.start(); t2.start()
    def done(c=c, s=s, t1=t1, t2=t2, up=up, down=down):
        t1.join(); t2.join(); c.close(); s.close()
        with open(log, "a") as f:
            f.write("%d %d\n" % (up[0], down[0]))
    threading.Thread(target=done).start()
PY
RELAYPID=$!
trap 'kill $NGINXPID $SIMPID $RELAYPID 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
wait_port "$RELAY_PORT" || fail "the relay did not start"

mkdir -p src
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench, namespace: default}\ndata: {v: "1"}\n' > src/cm.yaml
publish bench 1 src --interval 10 || fail "publish failed"
cat > config.yaml <<YAML
server: https://releases.test:$RELAY_PORT/fleet/
device: {id: gw-bench}
trust: {root: $SRV/root.yaml}
apps:
  - {name: bench}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
drift: {interval: 0}
poll: {min_interval: 10, default_interval: 10}
tls: {ca: $SRV/ca.crt}
log_level: warn
YAML
op() {
	OUTPOST_TEST_RESOLVE="releases.test:$RELAY_PORT:127.0.0.1" \
		$OUTPOST --config "$TMP/config.yaml" "$@"
}
op once 2>install.log || { cat install.log >&2; fail "the first install failed"; }
op status | grep -q '^bench: current sequence 1 ' || fail "not installed"

# CPU seconds (user + sys) of N runs of outpost "$@", from getrusage via
# /usr/bin/time
cpu() {
	local total=0 t
	for _ in $(seq "$N"); do
		env OUTPOST_TEST_RESOLVE="releases.test:$RELAY_PORT:127.0.0.1" /usr/bin/time \
			-f '%U %S' -o "$TMP/time" $OUTPOST --config "$TMP/config.yaml" "$@" \
			>/dev/null 2>&1
		t=$(tail -n 1 "$TMP/time")
		total=$(echo "$total + ${t% *} + ${t#* }" | bc)
	done
	echo "$total"
}

: > "$SRV/relay.log"
lines0=$(srv_log | wc -l)
t_once=$(cpu once)
sleep 0.5
polls=$(srv_log | tail -n +$((lines0 + 1)))
n304=$(grep -c '^304 GET /fleet/channels/bench/release.yaml ' <<<"$polls")
other=$(grep -vc '^304 ' <<<"$polls")
[ "$n304" -eq "$N" ] || fail "expected $N 304 answers, got $n304 (and $other others)"
http=$(awk '{ s += $4 + $5 } END { printf "%.0f", s / NR }' <<<"$polls")
req=$(awk '{ s += $4 } END { printf "%.0f", s / NR }' <<<"$polls")
resp=$(awk '{ s += $5 } END { printf "%.0f", s / NR }' <<<"$polls")
wire=$(awk '{ u += $1; d += $2 } END { printf "%.0f %.0f", u / NR, d / NR }' "$SRV/relay.log")

ms() { echo "scale=2; 1000 * $1 / $N" | bc | sed 's/^\./0./'; }
echo "idle poll (304), mean of $N runs of 'outpost once':"
echo "  HTTP bytes:       $http per poll (request $req + response $resp; target <= 1024)"
echo "  bytes on the wire: $(( ${wire% *} + ${wire#* } )) per poll with a new TLS connection" \
	"(up ${wire% *}, down ${wire#* })"
echo "  CPU 'outpost once':   $(ms "$t_once") ms per run (getrusage user + sys, whole" \
	"process; the kernel counts in 10 ms ticks)"
if command -v perf >/dev/null 2>&1 &&
	perf stat -x, -e task-clock -r 2 true >/dev/null 2>&1; then
	# task-clock: CPU time at nanosecond resolution (getrusage rounds to 10 ms here)
	tc() { # CONFIG ARGS...
		local c=$1
		shift
		OUTPOST_TEST_RESOLVE="releases.test:$RELAY_PORT:127.0.0.1" perf stat -x, \
			-e task-clock -r "$N" $OUTPOST --config "$c" "$@" 2>&1 \
			>/dev/null | awk -F, '/task-clock/ { printf "%.2f", $1 }'
	}
	# the same state over plain http (loopback): the share of TLS
	sed "s|^server: .*|server: http://127.0.0.1:$SRV_HTTP_PORT/fleet/|" config.yaml > http.yaml
	a=$(tc "$TMP/config.yaml" once) b=$(tc "$TMP/config.yaml" status) c=$(tc "$TMP/http.yaml" once)
	echo "  perf task-clock 'outpost once':   $a ms per run"
	echo "  perf task-clock 'outpost status': $b ms per run"
	echo "  perf: the poll itself: $(echo "$a - $b" | bc) ms over HTTPS (a full TLS handshake)," \
		"$(echo "$c - $b" | bc) ms over plain HTTP"
fi

# --- the daemon: sessions resumed ----------------------------------------------
if command -v perf >/dev/null 2>&1; then
	OUTPOST_TEST_RESOLVE="releases.test:$RELAY_PORT:127.0.0.1" \
		$OUTPOST --config "$TMP/config.yaml" run 2>run.log &
	RUNPID=$!
	trap 'kill $RUNPID $NGINXPID $SIMPID $RELAYPID 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
	sleep 12        # the first poll: a full handshake, not counted
	p0=$(srv_log | grep -c '^304 ') r0=$(wc -l < "$SRV/relay.log")
	perf stat -x, -e task-clock -p "$RUNPID" -- sleep 40 2>perf.txt
	sleep 6         # the last connection closes (keepalive 5 s) and is counted
	p1=$(srv_log | grep -c '^304 ')
	polls=$((p1 - p0))
	cpu=$(awk -F, '/task-clock/ { print $1 }' perf.txt)
	wire=$(tail -n +$((r0 + 1)) "$SRV/relay.log" | head -n "$polls" |
		awk '{ s += $1 + $2 } END { if (NR) printf "%.0f", s / NR }')
	echo "'outpost run', polling every 10 s for 40 s (TLS sessions resumed):"
	echo "  polls: $polls (all 304)"
	echo "  CPU: $cpu ms in 40 s, $(echo "scale=2; $cpu / $polls" | bc) ms per poll (with the" \
		"idle wake-ups between)"
	echo "  bytes on the wire: ${wire:-?} per poll (a new connection, session resumed)"
fi
