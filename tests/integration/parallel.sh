#!/bin/bash
# Apps in parallel, in order, and paused, end to end: nginx serving the
# channels, kubesim as the cluster, `outpost run` as the daemon.
#   - app a's new release waits for a Deployment that never becomes ready
#     (health deadline 120 s); app b's new release, published 5 s later, is
#     applied and healthy within 3 s of its poll while a still waits; both
#     channels go on being polled at their interval (nginx's log); SIGTERM
#     during a's wait ends the agent within 2 s, and the next start carries
#     a on from the store (still waiting, the deadline counted from the
#     first apply, nothing applied again);
#   - depends_on: db depends on da; a new da and a new db together: db is
#     applied only after da is healthy; da failing and rolled back: db stays
#     on its current release, waiting (shown in status), not failed; a
#     cycle is a configuration error that check-config names;
#   - pause: a paused app verifies its new release and applies nothing;
#     status, metrics and reports say so; resume applies it; the site's
#     pause_file does the same while it exists.
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/server/lib.bash"

srv_need_nginx

start_kubesim --ready-ms 200
srv_init
srv_start
recv_start
AGENTPID=
trap 'kill $AGENTPID $NGINXPID $RECVPID $SIMPID 2>/dev/null; wait $AGENTPID $NGINXPID $RECVPID $SIMPID 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
check "nginx serves HTTPS on loopback" test -n "$NGINXPID"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

# src APP SEQ BEHAVIOR: a ConfigMap and a Deployment named APP
src() {
	local d=src/$1-$2
	mkdir -p "$d"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {v: "%s"}\n' \
		"$1" "$2" > "$d/cm.yaml"
	kubesim_deployment "$1" "registry.local/$1:$2" "$3" > "$d/deploy.yaml"
	echo "$d"
}
# config NAME APPS-YAML [EXTRA]: config-NAME.yaml with its own state
config() {
	cat > "config-$1.yaml" <<YAML
server: https://releases.test:$SRV_PORT/fleet/
device: {id: gw-par}
trust: {root: $SRV/root.yaml}
apps:
$2
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state-$1
health: {default_timeout: 120}
poll: {min_interval: 10, max_interval: 60, default_interval: 10}
reports: {url: "http://127.0.0.1:$RECV_PORT/reports"}
metrics: {path: $TMP/metrics-$1.prom}
tls: {ca: $SRV/ca.crt}
$3
YAML
}
op() {
	local name=$1
	shift
	OUTPOST_TEST_RESOLVE="releases.test:$SRV_PORT:127.0.0.1" \
		$OUTPOST --config "$TMP/config-$name.yaml" "$@"
}
# the log line's time (ts=...) in unix seconds
ts_of() { date -d "$(sed -n 's/^ts=\([^ ]*\) .*/\1/p' <<<"$1" | head -n 1)" +%s; }
# wait_log FILE TEXT [SECONDS]: until FILE has a line with TEXT
wait_log() {
	for _ in $(seq $((${3:-30} * 10))); do grep -qF "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# run_bg NAME LOG: `outpost run` in the background, $! the agent itself (no
# subshell in between, so that signals reach it)
read -r -a OP <<<"$OUTPOST"
run_bg() {
	OUTPOST_TEST_RESOLVE="releases.test:$SRV_PORT:127.0.0.1" \
		"${OP[@]}" --config "$TMP/config-$1.yaml" --log-level debug run 2>"$2" &
	AGENTPID=$!
}
polls() { srv_log | grep -cE "^(200|304) GET /fleet/channels/$1/release.yaml "; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# --- a waits, b goes on -------------------------------------------------------------
config run "  - {name: a}
  - {name: b}"
publish a 1 "$(src a 1 ready)" --interval 10 --jitter 0
publish b 1 "$(src b 1 ready)" --interval 10 --jitter 0
op run once 2>log; rc=$?
check "first release of both apps: once exits 0 ($rc)" test $rc -eq 0
check "a 1 and b 1 are healthy" test "$(op run status | grep -c 'current sequence 1 ')" -eq 2

publish a 2 "$(src a 2 never-ready)" --interval 10 --jitter 0 --health-timeout 120
run_bg run run.log
pid=$!
wait_log run.log "a: sequence 2 applied" 20
check "a 2 is applied by the running agent" grep -qF "a: sequence 2 applied" run.log
applied_a=$(date +%s)
sleep 5
publish b 2 "$(src b 2 ready)" --interval 10 --jitter 0
polls_a0=$(polls a) polls_b0=$(polls b)
wait_log run.log "b: sequence 2 (b-v2) is healthy" 25
check "b 2 becomes healthy while a waits" grep -qF "b: sequence 2 (b-v2) is healthy" run.log
stored=$(grep -F "b b-v2 (sequence 2) verified and stored" run.log)
healthy=$(grep -F "b: sequence 2 (b-v2) is healthy" run.log)
if [ -n "$stored" ] && [ -n "$healthy" ]; then
	took=$(($(ts_of "$healthy") - $(ts_of "$stored")))
else
	took=none
fi
check "b 2: healthy within 3 s of the poll that stored it (${took} s)" \
	test "$took" != none -a "${took:-9}" -le 3
check "kubectl: b runs its release 2" \
	test "$(kctl get deployment b -o jsonpath='{.spec.template.spec.containers[0].image}')" = \
	registry.local/b:2
check "a 2 still waits (applied, not failed)" grep -q '^a: current sequence 1 .*newest sequence 2 (a-v2) is applied' <(op run status)
check "status says what a waits for, naming the object" \
	grep -qE '^  applying sequence 2: waiting for health, [0-9]+ s of 120: Deployment default/a: 0 of 1 replicas updated$' <(op run status)
sleep 11
check "a's channel is polled on at its interval while a waits ($polls_a0 -> $(polls a))" \
	test "$(polls a)" -ge $((polls_a0 + 1))
check "b's channel too ($polls_b0 -> $(polls b))" test "$(polls b)" -ge $((polls_b0 + 1))
t=$(ms)
kill -TERM $pid
wait $pid
rc=$? stop_ms=$(($(ms) - t))
check "SIGTERM during a's wait: exits 0 ($rc) within 2 s (${stop_ms} ms)" \
	test $rc -eq 0 -a $stop_ms -le 2000
check "a 2 is still applied, not failed, after the stop" \
	grep -q 'newest sequence 2 (a-v2) is applied' <(op run status)
check "the agent is gone" test ! -d /proc/$pid
run_bg run run2.log
pid=$!
sleep 3
doing=$(op run status | sed -n 's/^  applying sequence 2: waiting for health, \([0-9]*\) s of 120: .*/\1/p')
since=$(($(date +%s) - applied_a))
check "the restart carries a on from the store: its wait counts from the first apply (${doing:-none} s, applied ${since} s ago)" \
	test -n "$doing" -a "${doing:-0}" -ge $((since - 2))
check "the restart applied nothing of a again" \
	test "$(grep -c 'a: sequence 2 applied\|a/2: wave' run2.log)" -eq 0
check "the restart looks at a's health" grep -q 'a sequence 2: waiting for health' run2.log
kill -TERM $pid
wait $pid

# --- depends_on ------------------------------------------------------------------------
config dep "  - {name: db, depends_on: [da]}
  - {name: da}"
publish da 1 "$(src da 1 ready)"
publish db 1 "$(src db 1 ready)"
op dep --log-level debug once 2>dep.log; rc=$?
check "da 1 and db 1 together: once exits 0 ($rc)" test $rc -eq 0
da_ok=$(grep -n "da: sequence 1 (da-v1) is healthy" dep.log | cut -d: -f1)
db_apply=$(grep -n "db: sequence 1 applied" dep.log | cut -d: -f1)
check "db 1 is applied only after da 1 is healthy (log lines ${da_ok:-none} < ${db_apply:-none})" \
	test -n "$da_ok" -a -n "$db_apply" -a "${da_ok:-0}" -lt "${db_apply:-0}"
check "db 1 is healthy" grep -q '^db: current sequence 1 ' <(op dep status)

publish da 2 "$(src da 2 progress-deadline)" --health-timeout 4
publish db 2 "$(src db 2 ready)"
op dep once 2>dep2.log; rc=$?
check "da 2 fails and is rolled back: once exits 1 ($rc)" test $rc -eq 1
check "da is back on 1, its 2 rolled back" \
	grep -q '^da: current sequence 1 .*newest sequence 2 (da-v2) is rolled-back' <(op dep status)
check "db stays on 1, its 2 waits (verified, not failed)" \
	grep -q '^db: current sequence 1 .*newest sequence 2 (db-v2) is verified' <(op dep status)
check "status says what db waits for" \
	grep -qF "waiting: dependency 'da' not healthy: its sequence 2 is rolled-back" <(op dep status)
check "kubectl: db still runs release 1" \
	test "$(kctl get deployment db -o jsonpath='{.spec.template.spec.containers[0].image}')" = \
	registry.local/db:1
publish da 3 "$(src da 3 ready)"
op dep once 2>dep3.log; rc=$?
check "da 3 good: once exits 0 ($rc)" test $rc -eq 0
check "then db 2 is applied and healthy" grep -q '^db: current sequence 2 ' <(op dep status)

config cyc "  - {name: a, depends_on: [b]}
  - {name: b, depends_on: [c]}
  - {name: c, depends_on: [a]}
  - {name: d, depends_on: [nope]}"
op cyc check-config 2>cyc.log; rc=$?
check "check-config refuses a cycle of depends_on ($rc)" test $rc -ne 0
check "and names it" grep -qF "(a -> b -> c -> a)" cyc.log
check "and a dependency that is not an app" grep -qF "depends on 'nope', which is not an app" cyc.log

# --- pause -------------------------------------------------------------------------------
op dep pause db --for 1h --reason "inventory count" 2>p.log; rc=$?
check "pause db: exit 0 ($rc)" test $rc -eq 0
check "status: db paused until a time, by the reason" \
	grep -qE '^  paused until [0-9T:-]+Z by "inventory count"' <(op dep status)
check "status --json: paused" grep -q '"app":"db".*"paused":true' <(op dep status --json)
check "metrics: db paused" grep -q '^outpost_app_paused{app="db"} 1$' metrics-dep.prom
publish db 3 "$(src db 3 ready)"
op dep once 2>p2.log; rc=$?
check "a paused app verifies its new release and applies nothing ($rc)" \
	grep -q '^db: current sequence 2 .*newest sequence 3 (db-v3) is verified' <(op dep status)
check "kubectl: db still runs release 2" \
	test "$(kctl get deployment db -o jsonpath='{.spec.template.spec.containers[0].image}')" = \
	registry.local/db:2
check "the pause is reported to the server" grep -lq '"paused"' "$SRV"/reports/report-*.json
op dep pause db --until 2001-01-01T00:00:00Z 2>/dev/null; rc=$?
check "pause --until a past time is refused ($rc)" test $rc -eq 2
op dep pause nope 2>/dev/null; rc=$?
check "pause of an app that is not configured is refused ($rc)" test $rc -ne 0
op dep resume db 2>/dev/null && op dep once 2>p3.log
check "resume: db 3 is applied and healthy" grep -q '^db: current sequence 3 ' <(op dep status)
check "metrics: db no longer paused" grep -q '^outpost_app_paused{app="db"} 0$' metrics-dep.prom

config site "  - {name: db, depends_on: [da]}
  - {name: da}" "pause_file: $TMP/maintenance"
cp -a "$TMP/state-dep" "$TMP/state-site"
touch maintenance
publish db 4 "$(src db 4 ready)"
op site once 2>s.log
check "pause_file present: status says the site paused" \
	grep -qF "paused by the site: $TMP/maintenance exists" <(op site status)
check "pause_file present: db 4 is not applied" \
	grep -q '^db: current sequence 3 .*newest sequence 4 (db-v4) is verified' <(op site status)
rm maintenance
op site once 2>s2.log
check "pause_file gone: db 4 is applied" grep -q '^db: current sequence 4 ' <(op site status)
done_testing
