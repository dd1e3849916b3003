#!/bin/bash
# The central server protocol end to end: Debian's nginx serving a signed
# repository over HTTPS on loopback (a test CA, the name releases.test in a
# DNS SAN, pinned to 127.0.0.1), kubesim as the cluster, a report receiver.
# poll -> new pointer -> download -> apply -> healthy; 304 for an unchanged
# pointer; a download cut by the server stopping resumes with Range; 500s
# back off; 429 Retry-After is honoured; a trickling server is cut by the
# low-speed limit; truncated, oversized and tampered bundles are refused;
# an older pointer is refused; staged rollout and maintenance windows;
# client certificates; reports with the expected fields and no duplicates.
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/server/lib.bash"

srv_need

start_kubesim --ready-ms 200
srv_init
srv_start
recv_start
check "nginx serves HTTPS on loopback" test -n "$NGINXPID"
check "the report receiver listens" test -n "$RECV_PORT"
kctl() { kubectl --kubeconfig "$KC" --request-timeout=10s "$@"; }

configmap() { # NAME VALUE
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: default}\ndata: {v: "%s"}\n' "$1" "$2"
}
src() { # APP SEQ: a source directory with one ConfigMap named APP
	mkdir -p "src/$1-$2"
	configmap "$1" "$2" > "src/$1-$2/cm.yaml"
	echo "src/$1-$2"
}

# config NAME APP BASE: config-NAME.yaml with its own state; POLL, TLS and
# PORT_OF (the server port) replace the defaults when set
config() {
	local poll=${POLL:-"poll: {min_interval: 60, max_interval: 3600, default_interval: 300}"}
	local tls=${TLS:-"tls: {ca: $SRV/ca.crt}"}
	cat > "config-$1.yaml" <<YAML
server: https://releases.test:${PORT_OF:-$SRV_PORT}/$3/
device: {id: gw-test, labels: {site: lab-1, board: x86}}
trust: {root: $SRV/root.yaml}
apps:
  - {name: $2}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state-$1
health: {default_timeout: 20}
$poll
reports: {url: "http://127.0.0.1:$RECV_PORT/reports"}
metrics: {path: $TMP/metrics-$1.prom}
$tls
YAML
}
# op NAME ARGS...: outpost with config NAME, pinned to the test server
op() {
	local name=$1
	shift
	OUTPOST_TEST_RESOLVE="releases.test:${PORT_OF:-$SRV_PORT}:127.0.0.1" \
		$OUTPOST --config "$TMP/config-$name.yaml" "$@"
}
# next_in NAME APP: seconds until APP's next poll; errors_of NAME APP
status_field() {
	op "$1" status --json | python3 -c "
import json, sys, time
a = [a for a in json.load(sys.stdin)['apps'] if a['app'] == '$2'][0]
print(a['next_poll'] - int(time.time()) if '$3' == 'next' else a['poll_errors'])"
}
lines() { srv_log | grep -c "$1"; }

# --- poll -> new pointer -> download -> apply -> healthy ---------------------------
publish web 1 "$(src web 1)" --interval 120 --jitter 10
check "the repository holds a signed pointer" test -s "$WWW/channels/web/release.yaml.sig"
config main web fleet
op main once 2>log; rc=$?
check "first poll: exit 0" test $rc -eq 0
check "first poll: pointer fetched (200)" grep -q '^200 GET /fleet/channels/web/release.yaml ' <(srv_log)
check "first poll: signature fetched" grep -q '^200 GET /fleet/channels/web/release.yaml.sig ' <(srv_log)
check "first poll: bundle downloaded from the relative URL" grep -q '^200 GET /fleet/bundles/web-1.bundle ' <(srv_log)
check "sequence 1 is healthy" grep -q '^web: current sequence 1 ' <(op main status)
check "its ConfigMap is in the cluster" test "$(kctl get configmap web -o jsonpath='{.data.v}')" = 1
next=$(status_field main web next)
check "next poll from the pointer's interval + jitter (${next}s in 110..130)" test "$next" -ge 110 -a "$next" -le 130
# metric VALUE_OF NAME FILE: the value of a sample line, "" when absent
metric() { sed -n "s/^$1 \([0-9]*\)\$/\1/p" "$2"; }
last=$(metric 'outpost_last_poll_success_timestamp_seconds{app="web"}' metrics-main.prom)
check "metrics: the last successful poll is recorded (${last:-none}, now $(date +%s))" \
	test -n "$last" -a "${last:-0}" -ge $(($(date +%s) - 60)) -a "${last:-0}" -le "$(date +%s)"
bytes=$(metric outpost_bytes_downloaded_total metrics-main.prom)
check "metrics: bytes downloaded counted (${bytes:-none} = $(stat -c %s "$WWW/bundles/web-1.bundle"))" \
	test "${bytes:-0}" -eq "$(stat -c %s "$WWW/bundles/web-1.bundle")"

# --- unchanged: one small 304 -------------------------------------------------------
n_before=$(srv_log | wc -l)
op main once 2>log; rc=$?
new=$(srv_log | tail -n +$((n_before + 1)))
check "second poll: exit 0" test $rc -eq 0
check "second poll: one request" test "$(echo "$new" | grep -c .)" -eq 1
check "second poll: 304 Not Modified" grep -q '^304 GET /fleet/channels/web/release.yaml ' <<<"$new"
check "second poll: sent the ETag" test "$(awk '{print $NF}' <<<"$new")" != '"-"'
read -r _ _ _ reqlen sent _ <<<"$new"
echo "# idle poll (304): request $reqlen bytes + response $sent bytes = $((reqlen + sent)) bytes (HTTP, without TLS)"
check "an idle poll costs at most 1 KiB of HTTP ($((reqlen + sent)) bytes)" test $((reqlen + sent)) -le 1024
check "a restart keeps the schedule (next poll stored)" test "$(status_field main web next)" -ge 100

# --- a new release --------------------------------------------------------------------
publish web 2 "$(src web 2)"
op main once 2>log; rc=$?
check "new pointer: exit 0" test $rc -eq 0
check "sequence 2 is healthy" grep -q '^web: current sequence 2 ' <(op main status)
check "the cluster has sequence 2's ConfigMap" test "$(kctl get configmap web -o jsonpath='{.data.v}')" = 2
next=$(status_field main web next)
check "no interval in the pointer: the default (${next}s)" test "$next" -ge 290 -a "$next" -le 300

# --- an older pointer is refused (anti-rollback) --------------------------------------
cp "$WWW/channels/web/release.yaml" web2.yaml; cp "$WWW/channels/web/release.yaml.sig" web2.yaml.sig
$OUTPOST release create --bundle "$WWW/bundles/web-1.bundle" --url ../../bundles/web-1.bundle \
	-o "$WWW/channels/web/release.yaml" --key "$SRV/signer.key" >/dev/null 2>&1
stamp "$WWW/channels/web/release.yaml"
op main once 2>log; rc=$?
check "older pointer: exit 1" test $rc -eq 1
check "older pointer: refused as a rollback" grep -q 'sequence 1 is older than 2' log
check "older pointer: sequence 2 stays current" grep -q '^web: current sequence 2 ' <(op main status)
cp web2.yaml "$WWW/channels/web/release.yaml"; cp web2.yaml.sig "$WWW/channels/web/release.yaml.sig"
stamp "$WWW/channels/web/release.yaml"

# --- the server stopped mid-download: resume with Range --------------------------------
mkdir -p src/big-1
python3 -c "import base64, os; print('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: default}\ndata:\n  blob: \"' + base64.b64encode(os.urandom(240000)).decode() + '\"')" > src/big-1/cm.yaml
publish big 1 src/big-1
size=$(stat -c %s "$WWW/bundles/big-1.bundle")
config big big slow
op big once 2>biglog1 &
agent=$!
# stop the server two seconds into the download (at 40 KB/s: 80 of 324 KB)
for _ in $(seq 100); do grep -q 'downloading big' biglog1 && break; sleep 0.1; done
sleep 2
srv_stop
wait $agent; rc=$?
check "cut: exit 0 (the server is gone, nothing failed)" test $rc -eq 0
check "cut: the download was cut" grep -q 'download cut at' biglog1
got=$(sed -n 's/.*download cut at \([0-9]*\) of.*/\1/p' biglog1)
check "cut: part of the bundle was stored (${got:-0} of $size bytes)" test "${got:-0}" -gt 0 -a "${got:-0}" -lt "$size"
check "cut: the log says how it was cut, not just 'Error'" bash -c "grep 'download cut at' biglog1 | grep -v ': Error' | grep -q 'transfer cut short\|connection broken\|closed the connection'"
grep 'download cut at' biglog1 | sed 's/^/#   /'
check "nginx starts again" srv_start
op big once 2>biglog2; rc=$?
check "resume: exit 0" test $rc -eq 0
check "resume: from where it stopped" grep -q "from byte $got of $size" biglog2
line=$(srv_log | grep '^206 GET /slow/bundles/big-1.bundle ')
check "resume: a Range request answered 206" test -n "$line"
check "resume: asked for the rest" grep -q "\"bytes=$got-\"" <<<"$line"
read -r _ _ _ _ _ body _ <<<"$line"
check "resume: the byte counts add up ($got + ${body:-0} = $size)" test $((got + ${body:-0})) -eq "$size"
check "resume: the release is healthy" grep -q '^big: current sequence 1 ' <(op big status)
bytes=$(metric outpost_bytes_downloaded_total metrics-big.prom)
check "metrics: a cut and its resumption count each byte once (${bytes:-none} = $size)" test "${bytes:-0}" -eq "$size"
grep -q '^big: current sequence 1 ' <(op big status) || sed 's/^/#   /' biglog1 biglog2

# --- a long download pings the service manager's watchdog ----------------------------------
mkdir -p src/wd-1
python3 -c "import base64, os; print('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wd, namespace: default}\ndata:\n  blob: \"' + base64.b64encode(os.urandom(240000)).decode() + '\"')" > src/wd-1/cm.yaml
publish wd 1 src/wd-1
config wd wd slow
notify_listen "$TMP/notify" "$TMP/notify.log" 30
listener=$NOTIFYPID
start=$(date +%s)
NOTIFY_SOCKET=$TMP/notify WATCHDOG_USEC=2000000 op wd once 2>wdlog; rc=$?
took=$(( $(date +%s) - start ))
kill $listener 2>/dev/null; wait $listener 2>/dev/null
pings=$(grep -c '^WATCHDOG=1$' notify.log)
check "watchdog: the slow download ran (exit $rc, ${took}s)" test $rc -eq 0 -a "$took" -ge 5
check "watchdog: pinged during the download ($pings pings in ${took}s, watchdog 2 s)" test "$pings" -ge $((took - 2))
check "watchdog: the download has an overall bound" grep -q 'downloading wd sequence 1, [0-9]* bytes (at most [0-9hms]* at the low-speed floor)' wdlog

# --- 500s: exponential backoff -----------------------------------------------------------
config fail web fail
op fail once 2>log; rc=$?
check "500: exit 0 (the server's trouble)" test $rc -eq 0
check "500: logged" grep -q 'HTTP status 500' log
d1=$(status_field fail web next)
op fail once 2>log; op fail once 2>log
d3=$(status_field fail web next)
check "500: three errors counted" test "$(status_field fail web errors)" -eq 3
check "500: the wait grows (${d1}s, then ${d3}s)" test "$d1" -le 60 -a "$d3" -ge 115
check "500: bounded by max_interval" test "$d3" -le 3600

# --- 429 with Retry-After --------------------------------------------------------------------
config busy web busy
op busy once 2>log
d=$(status_field busy web next)
check "429: Retry-After 120 honoured (${d}s)" test "$d" -ge 115 -a "$d" -le 120
POLL="poll: {min_interval: 10, max_interval: 60, default_interval: 30}" config busy2 web busy
op busy2 once 2>log
d=$(status_field busy2 web next)
check "429: Retry-After clamped to max_interval (${d}s)" test "$d" -ge 55 -a "$d" -le 60

# --- a trickling server: the low-speed limit -----------------------------------------------------
publish slowpoke 1 "$(src slowpoke 1)"
config trickle slowpoke trickle
start=$(date +%s)
OUTPOST_TEST_LOW_SPEED=100:3 op trickle once 2>log; rc=$?
took=$(( $(date +%s) - start ))
check "trickle: aborted by the low-speed limit" grep -qi 'too slow' log
check "trickle: within seconds (${took}s)" test "$took" -le 15
check "trickle: nothing applied" grep -q '^slowpoke: no healthy release yet' <(op trickle status)

# --- a truncated body ------------------------------------------------------------------------
publish short 1 "$(src short 1)"
truncate -s -100 "$WWW/bundles/short-1.bundle"
config short short fleet
op short once 2>log; rc=$?
check "truncated: exit 1" test $rc -eq 1
check "truncated: refused" grep -q 'sent [0-9]* of the [0-9]* bytes the release pointer says: refused' log
check "truncated: nothing stored" grep -q '^short: no healthy release yet$\|^short: no healthy release yet;' <(op short status)
check "truncated: nothing applied" bash -c "! kubectl --kubeconfig $KC get configmap short"

# --- endless data: more bytes than the pointer says -------------------------------------------
publish long 1 "$(src long 1)"
head -c 5000 /dev/zero >> "$WWW/bundles/long-1.bundle"
config long long fleet
op long once 2>log; rc=$?
check "endless data: exit 1" test $rc -eq 1
check "endless data: refused" grep -q 'more than\|more bytes than' log
check "endless data: nothing applied" bash -c "! kubectl --kubeconfig $KC get configmap long"

# --- content that does not match the pointer --------------------------------------------------
publish evil 1 "$(src evil 1)"
python3 - "$WWW/bundles/evil-1.bundle" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(b)
PY
config evil evil fleet
op evil once 2>log; rc=$?
check "tampered: exit 1" test $rc -eq 1
check "tampered: refused on its sha256" grep -q "does not match the release pointer's sha256" log
check "tampered: nothing applied" bash -c "! kubectl --kubeconfig $KC get configmap evil"

# --- staged rollout --------------------------------------------------------------------------
# gw-test's bucket for salt "s1" decides; the test computes it like the agent
bucket=$(python3 -c "import hashlib; print(int(hashlib.sha256(b'gw-test:s1').hexdigest(), 16) % 100)")
publish canary 1 "$(src canary 1)" --percent "$bucket" --salt s1
config canary canary fleet
op canary once 2>log; rc=$?
check "rollout at $bucket%: not in the cohort (bucket $bucket)" grep -q 'not among them yet' log
check "rollout: nothing downloaded" test "$(lines 'GET /fleet/bundles/canary-1.bundle')" -eq 0
check "rollout: keeps its release" grep -q '^canary: no healthy release yet' <(op canary status)
op canary once 2>log
check "rollout: said once" bash -c "! grep -q 'not among them' log"
publish canary 1 "$(src canary 1)" --percent "$((bucket + 1))" --salt s1
op canary once 2>log; rc=$?
check "rollout widened to $((bucket + 1))%: in the cohort, installed" grep -q '^canary: current sequence 1 ' <(op canary status)

# --- maintenance window ------------------------------------------------------------------------
h=$(date -u +%H); h=$((10#$h))
closed=$(printf '%02d:00-%02d:00' $(((h + 2) % 24)) $(((h + 3) % 24)))
open=$(printf '%02d:00-%02d:00' $(((h + 23) % 24)) $(((h + 1) % 24)))
publish win 1 "$(src win 1)" --window "$closed"
config win win fleet
op win once 2>log; rc=$?
check "window closed: downloaded" test "$(lines 'GET /fleet/bundles/win-1.bundle')" -eq 1
check "window closed: waits" grep -q 'waits for its maintenance window' log
check "window closed: not applied" bash -c "! kubectl --kubeconfig $KC get configmap win"
check "window closed: verified, not attempted" grep -q 'newest sequence 1 (win-v1) is verified' <(op win status)
publish win 2 "$(src win 2)" --window "$open" --utc-offset +00:00
op win once 2>log; rc=$?
check "window open: applied" test "$(kctl get configmap win -o jsonpath='{.data.v}')" = 2

# --- client certificates ------------------------------------------------------------------------
publish mtls 1 "$(src mtls 1)"
TLS="tls: {ca: $SRV/ca.crt, client_cert: $SRV/client.crt, client_key: $SRV/client.key}" \
	PORT_OF=$SRV_MTLS_PORT config mtls mtls fleet
PORT_OF=$SRV_MTLS_PORT op mtls once 2>log; rc=$?
check "mTLS with the client certificate: installed" grep -q '^mtls: current sequence 1 ' <(PORT_OF=$SRV_MTLS_PORT op mtls status)
PORT_OF=$SRV_MTLS_PORT config nocert mtls fleet
PORT_OF=$SRV_MTLS_PORT op nocert once 2>log; rc=$?
check "mTLS without a certificate: refused by the server" grep -q 'HTTP status 400' log
check "mTLS without a certificate: nothing installed" grep -q '^mtls: no healthy release yet' <(PORT_OF=$SRV_MTLS_PORT op nocert status)

# --- a server whose certificate does not verify ------------------------------------------------
TLS="tls: {ca: $SRV/client.crt}" config wrongca web fleet
op wrongca once 2>log; rc=$?
check "unknown CA: the server is not trusted" grep -qi 'certificate\|verif' log
check "unknown CA: nothing installed" grep -q '^web: no healthy release yet' <(op wrongca status)

# --- reports -----------------------------------------------------------------------------------
python3 - "$SRV/reports" > reports.txt 2>&1 <<'PY'
import glob, json, sys
keys, bad = [], []
need = {"key", "device", "labels", "app", "sequence", "version", "state", "error",
        "time", "agent", "dropped"}
for f in sorted(glob.glob(sys.argv[1] + "/report-*.json")):
    r = json.load(open(f))
    if not need <= set(r):
        bad.append((f, sorted(need - set(r))))
    keys.append(r["key"])
    if r["key"] == "web/1/healthy":
        assert r["device"] == "gw-test" and r["labels"] == {"site": "lab-1", "board": "x86"}, r
        assert r["app"] == "web" and r["sequence"] == 1 and r["version"] == "web-v1", r
        assert r["error"] == "" and r["dropped"] == 0 and r["time"].endswith("Z"), r
        print("example", json.dumps(r, sort_keys=True))
print("count", len(keys))
print("dups", len(keys) - len(set(keys)))
print("bad", bad)
for k in ["web/1/verified", "web/1/applying", "web/1/applied", "web/1/healthy",
          "web/2/healthy", "big/1/healthy", "win/2/healthy", "mtls/1/healthy"]:
    print("has", k, k in keys)
PY
sed 's/^/# /' reports.txt
check "reports: received" grep -q '^count [1-9]' reports.txt
check "reports: every expected field" grep -q '^bad \[\]' reports.txt
check "reports: no duplicates" grep -q '^dups 0$' reports.txt
check "reports: each transition of web 1, then web 2" test "$(grep -c '^has web/.* True' reports.txt)" -eq 5
check "reports: the other apps' releases" test "$(grep -c '^has .* True' reports.txt)" -eq 8
check "reports: the example is as expected" grep -q '^example ' reports.txt

# the receiver down: reports wait in the outbox and go later, once each
touch "$SRV/reports/fail"
publish web 3 "$(src web 3)"
n=$(ls "$SRV/reports"/report-*.json | wc -l)
op main once 2>log
check "receiver down: reports wait" grep -q 'reports not sent' log
check "receiver down: nothing delivered" test "$(ls "$SRV/reports"/report-*.json | wc -l)" -eq "$n"
rm "$SRV/reports/fail"
op main once 2>log
check "receiver back: the queued reports are sent" grep -q '4 reports sent' log
check "receiver back: web 3 reported healthy" grep -l '"key":"web/3/healthy"' "$SRV/reports"/report-*.json
check "receiver back: still no duplicates" test "$(cat "$SRV/reports"/report-*.json | python3 -c "
import json, sys
ks = [json.loads(l)['key'] for l in sys.stdin.read().replace('}{', '}\n{').splitlines()]
print(len(ks) - len(set(ks)))")" -eq 0

# --- offline: a release downloaded, then the server gone; it fails and is
# rolled back from the store alone -----------------------------------------------
mkdir -p src/web-4
deploy4='apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  annotations: {kubesim.outpost.dev/behavior: never-ready}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:broken"}]}'
printf '%s\n' "$deploy4" > src/web-4/web.yaml
publish web 4 src/web-4 --health-timeout 3
sim_control control '{"down": true}'
op main once 2>log; rc=$?
check "offline: v4 downloaded while the cluster was away (exit 3, unknown)" test $rc -eq 3
srv_stop
sim_control control '{"down": false}'
op main once 2>log; rc=$?
check "offline: with the server gone, v4 applied, failed and rolled back (exit 1)" test $rc -eq 1
check "offline: the rollback came from the store" grep -q 'rolled back to sequence 3' <(op main history web)
check "the pointer's health deadline (3 s) overrides the bundle's (20 s)" \
	grep -q 'not healthy within the 3 s deadline' <(op main history web)
check "offline: web is on v3 again" grep -q '^web: current sequence 3 ' <(op main status)
check "offline: v4's Deployment was removed with it" bash -c "! kubectl --kubeconfig $KC get deployment web -n default"

done_testing
