#!/bin/bash
# Benchmark: what privilege separation (CONFIG_PRIVSEP) costs per poll.
# Two builds of the same tree, BEFORE without CONFIG_PRIVSEP and AFTER with
# it, poll the same unchanged pointer (an idle poll: one 304 over HTTPS
# from nginx, tests/server/lib.bash). Prints, for each:
#   - instructions of an idle `outpost once` and of `outpost status` (the
#     same start-up without the poll), counted by callgrind over every
#     process (--trace-children: the verifier child too); they repeat
#     exactly from run to run, times do not. `once` starts its verifier
#     child afresh: its start-up (exec, config, TLS client) is in it.
#   - the daemon: resident memory (VmRSS, /proc) of `outpost run` and of
#     its verifier child, once idle after its first poll, and the
#     instructions per idle poll of the running daemon (callgrind on `run`
#     for 12 s and for 32 s: the difference over the polls in between, so
#     start-up, the first poll and the child's start cancel out).
# Asserts nothing; exits 1 only when the setup fails.
#
# usage: BEFORE=/tmp/privsep-off/outpost AFTER=build/x86_64/outpost \
#        bash tests/bench/privsep.sh
# (BEFORE: make O=/tmp/privsep-off defconfig, unset CONFIG_PRIVSEP in its
# .config, make O=/tmp/privsep-off)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${BEFORE:?a build without CONFIG_PRIVSEP}"
AFTER=${AFTER:-$ROOT/build/x86_64/outpost}
export OUTPOST=$AFTER
. "$ROOT/tests/integration/lib.bash"
. "$ROOT/tests/server/lib.bash"

fail() { echo "privsep.sh: $*" >&2; exit 1; }
command -v nginx >/dev/null || fail "nginx is missing (tests/bootstrap.sh)"
command -v valgrind >/dev/null || fail "valgrind is missing"
start_kubesim >/dev/null || fail "kubesim did not start"
srv_init
srv_start || fail "nginx did not start"

mkdir -p src
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench, namespace: default}\ndata: {v: "1"}\n' > src/cm.yaml
publish bench 1 src --interval 10 || fail "publish failed"
config() { # NAME
	cat > "config-$1.yaml" <<YAML
server: https://releases.test:$SRV_PORT/fleet/
device: {id: gw-bench}
trust: {root: $SRV/root.yaml}
apps:
  - {name: bench}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state-$1
drift: {interval: 0}
poll: {min_interval: 10, default_interval: 10}
tls: {ca: $SRV/ca.crt}
log_level: warn
YAML
}
export OUTPOST_TEST_RESOLVE="releases.test:$SRV_PORT:127.0.0.1"

# instructions (callgrind's Ir) of BIN ARGS..., every process summed
ir() {
	local d
	d=$(mktemp -d -p "$TMP")
	valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$d/cg.%p" \
		"$@" >/dev/null 2>"$d/log"
	cat "$d"/cg.* | awk '/^summary:/ { s += $2 } END { print s + 0 }'
}
# instructions of `run` for SECS seconds, and the polls nginx answered
run_ir() { # BIN NAME SECS
	local d n0 vg
	d=$(mktemp -d -p "$TMP")
	n0=$(srv_log | grep -c '^304 ')
	valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$d/cg.%p" \
		"$1" --config "config-$2.yaml" run >/dev/null 2>"$d/log" &
	vg=$!
	sleep "$3"
	kill "$vg"
	wait "$vg" 2>/dev/null
	sleep 1
	echo "$(cat "$d"/cg.* | awk '/^summary:/ { s += $2 } END { print s + 0 }')" \
		"$(( $(srv_log | grep -c '^304 ') - n0 ))"
}
# VmRSS in KiB of pid
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

for which in BEFORE AFTER; do
	bin=${!which}
	config "$which"
	$bin --config "config-$which.yaml" once 2>"install-$which.log" ||
		{ cat "install-$which.log" >&2; fail "$which: the first install failed"; }
	once=$(ir "$bin" --config "config-$which.yaml" once)
	status=$(ir "$bin" --config "config-$which.yaml" status)

	# the daemon, idle: memory of each process after its first (idle) poll
	$bin --config "config-$which.yaml" run 2>"run-$which.log" &
	pid=$!
	sleep 13        # `once` polled just now: the next poll is due in 10 s
	child=$(pgrep -P "$pid" | head -1)
	prss=$(rss "$pid") crss=${child:+$(rss "$child")}
	kill "$pid"
	wait "$pid" 2>/dev/null

	# the daemon's idle polls: `run` for 12 s and for 32 s; the difference
	# over the polls nginx answered in between (start-up and the first
	# poll, with the child's start, cancel out)
	read -r ir12 p12 <<<"$(run_ir "$bin" "$which" 12)"
	read -r ir32 p32 <<<"$(run_ir "$bin" "$which" 32)"
	echo "$which ($($bin --version | grep -o '[-+]privsep')):"
	echo "  'outpost once', idle (304): $once instructions, all processes"
	echo "  'outpost status' (the same start-up, no poll): $status instructions"
	echo "  the poll's own share in 'once': $((once - status)) instructions"
	echo "  'outpost run', idle: VmRSS agent ${prss:-?} KiB, verifier child ${crss:-none}${crss:+ KiB}"
	echo "  'outpost run': $ir12 instructions in 12 s ($p12 polls), $ir32 in 32 s ($p32 polls):" \
		"$(( (ir32 - ir12) / ((p32 - p12) > 0 ? (p32 - p12) : 1) )) per idle poll of the daemon" \
		"(with the 1 s wake-ups between)"
done
echo "304 answers served: $(srv_log | grep -c '^304 ')"
