#!/bin/bash
# The crash test: SIGKILL the agent at every step boundary and at random
# points through update and rollback cycles, restart it each time, and
# require every time that the cluster ends on a known release and that the
# database passes its integrity check.
#
# One app, one release per cycle (sequences 1, 2, 3, ...): good releases
# (a Deployment that becomes ready) and failing ones (its rollout hits its
# progress deadline after 400 ms) that must be rolled back. Each cycle
# side-loads its release with `outpost import` and SIGKILLs it either right
# after a chosen debug log line (a step boundary: stored, each wave applied,
# applied, healthy, pruned, failed, each wave of the rollback, ...) or after
# a uniformly random delay within the operation's measured duration. About
# one cycle in four also kills the first restart. Then `outpost once` runs
# until it exits 0 or 1 (3, the API unknown, is retried) and the checks run:
#   - `sqlite3 PRAGMA integrity_check` says ok, no run logged a corrupt
#     database, no database was moved aside, no store transition refused;
#   - the release of the cycle ended healthy and current (good) or
#     rolled-back with the previous release current (failing); one that the
#     kill stopped before it was stored leaves everything as it was;
#   - the cluster holds exactly the current release: each object labelled
#     outpost.dev/app=web is one of its objects, with its outpost.dev/sequence,
#     and the Deployment runs its image.
# kubesim answers each request after 5-20 ms (chosen per cycle), which makes
# the windows between boundaries wide enough to land kills in.
#
# CRASH_KILLS is the number of kills to deliver: 200 by default, about 4
# minutes on 2 cores; 50 when OUTPOST runs under an emulator (qemu-user makes
# each kill four times slower and runs the same code). CRASH_SEED (default
# 42) seeds the choices. The closing diag line counts kills and recoveries.
. "$(dirname "$0")/lib.bash"

KILLS=200
[[ $OUTPOST == *" "* ]] && KILLS=50
KILLS=${CRASH_KILLS:-$KILLS}
RANDOM=${CRASH_SEED:-42}
began=$SECONDS

start_kubesim --ready-ms 100 --seed "${CRASH_SEED:-42}"
check "kubesim is ready" test -f "$SIM/ready"

$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1
cat > config.yaml <<YAML
server: https://127.0.0.1:9/fleet/
device: {id: gw-crash}
trust: {root: $TMP/root.yaml}
apps:
  - {name: web, namespace: web}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
health: {default_timeout: 20}
drift: {interval: 60}
YAML
op() { $OUTPOST --config "$TMP/config.yaml" --log-level debug "$@"; }
# the same as words, for run_kill: it must start the binary itself (not a
# function's subshell), so that its SIGKILL reaches the agent
read -r -a OP <<<"$OUTPOST"
OP+=(--config "$TMP/config.yaml" --log-level debug)
ms() { echo $(($(date +%s%N) / 1000000)); }

# --- releases -------------------------------------------------------------------
# release SEQ good|bad EXTRA: pack web-SEQ.bundle and remember in EXPECT[SEQ]
# the objects the cluster holds when SEQ is current. A good release alternates
# its extra ConfigMap (a or b) with the current one, so each upgrade prunes;
# a bad one also adds a canary ConfigMap, so each rollback prunes too.
declare -A EXPECT LETTER
release() {
	local s=$1 kind=$2 x=$3 d=src/$1 behavior=ready after=100 timeout=20
	mkdir -p "$d"
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n' > "$d/00-ns.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {seq: "%s"}\n' \
		"$s" > "$d/10-cfg.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra-%s}\ndata: {a: "1"}\n' \
		"$x" > "$d/11-extra.yaml"
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}], selector: {app: web}}\n' \
		> "$d/15-svc.yaml"
	if [ "$kind" = bad ]; then
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: canary}\n' > "$d/12-canary.yaml"
		behavior=progress-deadline after=400 timeout=4
	fi
	cat > "$d/20-web.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kubesim.outpost.dev/behavior: $behavior
    kubesim.outpost.dev/after-ms: "$after"
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "registry.local/web:$s"}]}
YAML
	$OUTPOST bundle pack --app web --version "v$s" --sequence "$s" "$d" -o "web-$s.bundle" \
		--key signer.key --health-timeout "$timeout" >/dev/null 2>&1 || return 1
	LETTER[$s]=$x
	EXPECT[$s]="ConfigMap/web/cfg=$s ConfigMap/web/extra-$x=$s Deployment/web/web=$s"
	EXPECT[$s]+=" Namespace//web=$s Service/web/web=$s image=registry.local/web:$s"
}
other() { [ "$1" = a ] && echo b || echo a; }

# --- what the agent and the cluster say ------------------------------------------
# status: CUR (current sequence, 0 none), LATEST and STATE (newest release).
status() {
	local j
	j=$(op status --json 2>/dev/null)
	CUR=0 LATEST=0 STATE=none
	[[ $j =~ \"current\":\{\"sequence\":([0-9]+) ]] && CUR=${BASH_REMATCH[1]}
	[[ $j =~ \"latest\":\{\"sequence\":([0-9]+) ]] && LATEST=${BASH_REMATCH[1]}
	[[ $j =~ \"state\":\"([a-z-]+)\" ]] && STATE=${BASH_REMATCH[1]}
	STATUS_JSON=$j
}
# cluster: every object labelled outpost.dev/app=web as "Kind/ns/name=sequence",
# sorted, and the Deployment's image, straight from the API.
cluster() {
	local base="https://127.0.0.1:$PORT" sel='labelSelector=outpost.dev%2Fapp%3Dweb'
	curl -sS --fail --max-time 20 --cacert "$SIM/ca.crt" --cert "$SIM/client.crt" \
		--key "$SIM/client.key" "$base/api/v1/namespaces?$sel" \
		"$base/api/v1/configmaps?$sel" "$base/api/v1/services?$sel" \
		"$base/apis/apps/v1/deployments?$sel" |
	jq -rs '[.[] | (.kind | sub("List$"; "")) as $k | .items[] |
		"\($k)/\(.metadata.namespace // "")/\(.metadata.name)=\(.metadata.labels["outpost.dev/sequence"])",
		(select($k == "Deployment") | "image=\(.spec.template.spec.containers[0].image)")]
		| sort | join(" ")'
}

# run_kill LOG AT CMD...: run CMD in the background, its stderr appended to
# LOG, and SIGKILL it right after a log line containing AT appears, or after
# AT seconds when AT is @SECONDS. KILLED=1 when the kill landed (CMD was still
# running). A CMD silent for 60 s is killed and HUNG=1.
run_kill() {
	local log=$1 at=$2 pid st line
	shift 2
	KILLED=0 HUNG=0
	if [[ $at == @* ]]; then
		"$@" 2>>"$log" &
		pid=$!
		sleep "${at#@}"
		kill -9 "$pid" 2>/dev/null
	else
		rm -f "$TMP/fifo"
		mkfifo "$TMP/fifo"
		"$@" 2>"$TMP/fifo" &
		pid=$!
		while IFS= read -r -t 60 line || { [ $? -gt 128 ] && HUNG=1 &&
						 kill -9 "$pid"; false; }; do
			printf '%s\n' "$line" >>"$log"
			if [[ $line == *"$at"* ]]; then
				kill -9 "$pid"
				break
			fi
		done <"$TMP/fifo"
	fi
	wait "$pid" 2>/dev/null
	st=$?
	[ "$st" -eq 137 ] && [ $HUNG -eq 0 ] && KILLED=1
	[ $HUNG -eq 0 ] || echo "# hung for 60 s: $*" >>"$log"
	return 0
}

# recover LOG: `outpost once` until it exits 0 or 1; 3 (the API unknown) is
# retried a few times. 0 when it got there.
recover() {
	local rc
	for _ in 1 2 3 4 5; do
		timeout 120 $OUTPOST --config "$TMP/config.yaml" --log-level debug once 2>>"$1"
		rc=$?
		echo "# once exited $rc" >>"$1"
		[ "$rc" -le 1 ] && return 0
		[ "$rc" -eq 3 ] || return 1
		sleep 0.5
	done
	return 1
}

# --- calibration: one install, one upgrade and one rollback without kills --------
sim_control control '{"latency_ms": 12}'
release 1 good a && release 2 good b && release 3 bad a || { echo "# bundle pack failed"; exit 1; }
op import web-1.bundle 2>log; rc=$?
check "v1 installs" test $rc -eq 0
t=$(ms); op import web-2.bundle 2>log; rc=$?; D_GOOD=$(($(ms) - t))
check "v2 installs (${D_GOOD} ms)" test $rc -eq 0
t=$(ms); op import web-3.bundle 2>log; rc=$?; D_BAD=$(($(ms) - t))
check "v3 fails and is rolled back (${D_BAD} ms)" test $rc -eq 1
status
check "v2 is current, v3 rolled back" test "$CUR/$LATEST/$STATE" = "2/3/rolled-back"
check "the cluster holds v2" test "$(cluster)" = "${EXPECT[2]}"

# --- the kills -------------------------------------------------------------------
# Boundaries (S the cycle's sequence, P the current one). A good release:
GOOD_AT=("verified and stored" "web/S: wave 0 applied" "web/S: wave 2 applied"
	 "web/S: wave 3 applied" "web/S: wave 4 applied" "sequence S applied"
	 "pruned ConfigMap" "is healthy and the last-known-good")
# a failing one, through its rollback:
BAD_AT=("verified and stored" "web/S: wave 0 applied" "web/S: wave 2 applied"
	"web/S: wave 3 applied" "web/S: wave 4 applied" "sequence S applied"
	"sequence S failed" "web/P: wave 0 applied" "web/P: wave 2 applied"
	"web/P: wave 3 applied" "web/P: wave 4 applied" "pruned ConfigMap"
	"sequence S rolled back")
declare -A LANDED NEXT=([good]=0 [bad]=0) MISSED=([good]=0 [bad]=0)
kills=0 recoveries=0 at_boundary=0 at_random=0 in_restart=0 cycles=0 ups=0 downs=0
f_db=0 f_corrupt=0 f_outcome=0 f_cluster=0 f_store=0 f_recover=0 shown=0
seq=3 ngood=0 nbad=0 misses=0

fail_cycle() { # WHAT DETAIL...: count and show the first failures in full
	echo "# cycle $cycles (sequence $seq, $kind, killed at '$at'): $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	shown=$((shown + 1))
	if [ $shown -le 3 ]; then
		echo "#   status: $STATUS_JSON"
		op history web -n 12 2>/dev/null | sed 's/^/#   history: /'
		sed 's/^/#   log: /' "$TMP/cycle.log"
	fi
}

# delay MS: @SECONDS for run_kill, uniform in [0, MS) ms
delay() {
	local r=$((RANDOM * $1 / 32768))
	printf '@%d.%03d' $((r / 1000)) $((r % 1000))
}

while [ $kills -lt "$KILLS" ] && [ $cycles -lt $((KILLS * 3)) ]; do
	cycles=$((cycles + 1))
	seq=$((seq + 1))
	prev=$CUR prev_latest=$LATEST prev_state=$STATE   # as the last check found them
	sim_control control "{\"latency_ms\": $((5 + RANDOM % 16))}"
	# every other release fails; two in three of the failing ones and one
	# in two of the good ones are killed at a boundary (the next one in
	# turn; one that was missed is tried again, up to 3 times), the rest at
	# random
	if [ $((cycles % 2)) -eq 0 ]; then
		kind=bad
		release "$seq" bad "$(other "${LETTER[$prev]}")"
		if [ $((nbad % 3)) -ne 2 ]; then
			at=${BAD_AT[$((NEXT[bad] % ${#BAD_AT[@]}))]}
		else
			at=$(delay "$D_BAD")
		fi
		nbad=$((nbad + 1))
	else
		kind=good
		release "$seq" good "$(other "${LETTER[$prev]}")"
		if [ $((ngood % 2)) -eq 0 ]; then
			at=${GOOD_AT[$((NEXT[good] % ${#GOOD_AT[@]}))]}
		else
			at=$(delay "$D_GOOD")
		fi
		ngood=$((ngood + 1))
	fi
	key=$kind:$at       # for the tally: the boundary, or random
	[[ $at == @* ]] && key=$kind:random
	at=${at//S/$seq}
	at=${at//P/$prev}
	: > "$TMP/cycle.log"
	ok=1
	run_kill "$TMP/cycle.log" "$at" "${OP[@]}" import "web-$seq.bundle"
	n=$KILLED hung=$HUNG misses=$((misses + 1 - KILLED))
	if [[ $at != @* ]] && { [ $KILLED -eq 1 ] || [ $((MISSED[$kind] += 1)) -ge 3 ]; }; then
		NEXT[$kind]=$((NEXT[$kind] + 1)) MISSED[$kind]=0
	fi
	if [ $KILLED -eq 1 ]; then
		[[ $at == @* ]] && at_random=$((at_random + 1)) || at_boundary=$((at_boundary + 1))
		LANDED[$key]=$((${LANDED[$key]:-0} + 1))
		# now and then the restart is killed too, at a random point
		if [ $((RANDOM % 4)) -eq 0 ]; then
			d=$D_GOOD
			[ $kind = bad ] && d=$D_BAD
			echo "# restart, killed" >>"$TMP/cycle.log"
			run_kill "$TMP/cycle.log" "$(delay "$d")" "${OP[@]}" once
			hung=$((hung + HUNG)) misses=$((misses + 1 - KILLED))
			n=$((n + KILLED))
			in_restart=$((in_restart + KILLED))
		fi
	fi
	kills=$((kills + n))
	if [ $hung -gt 0 ]; then
		f_recover=$((f_recover + 1)) ok=0
		fail_cycle "the agent was silent for 60 s and was killed" \
			"$(tail -n 3 "$TMP/cycle.log")"
	fi
	echo "# recovery" >>"$TMP/cycle.log"
	if ! recover "$TMP/cycle.log"; then
		f_recover=$((f_recover + 1)) ok=0
		fail_cycle "outpost once did not get to 0 or 1" "$(tail -n 1 "$TMP/cycle.log")"
	fi
	sim_control control '{"latency_ms": 0}'
	status
	# (a) the database
	integrity=$(sqlite3 "$TMP/state/outpost.db" 'PRAGMA integrity_check;' 2>&1)
	if [ "$integrity" != ok ]; then
		f_db=$((f_db + 1)) ok=0
		fail_cycle "integrity_check" "$integrity"
	fi
	if grep -q 'state database was corrupt' "$TMP/cycle.log" ||
	   compgen -G "$TMP/state/*.corrupt-*" >/dev/null; then
		f_corrupt=$((f_corrupt + 1)) ok=0
		fail_cycle "a corrupt database was found and moved aside" \
			"$(grep 'corrupt' "$TMP/cycle.log")"
	fi
	if grep -q 'level=error msg="store:' "$TMP/cycle.log"; then
		f_store=$((f_store + 1)) ok=0
		fail_cycle "the store refused or failed a transition" \
			"$(grep 'level=error msg="store:' "$TMP/cycle.log")"
	fi
	# (b, c) the outcome: the release done, or untouched when never stored
	if [ "$LATEST" -ne "$seq" ]; then
		want="$prev/$prev_latest/$prev_state"
	elif [ $kind = good ]; then
		want="$seq/$seq/healthy"
	else
		want="$prev/$seq/rolled-back"
	fi
	if [ "$CUR/$LATEST/$STATE" != "$want" ] || [ "$CUR" -eq 0 ]; then
		f_outcome=$((f_outcome + 1)) ok=0
		fail_cycle "current/newest/state: want $want, got $CUR/$LATEST/$STATE"
	fi
	# (b, d) the cluster holds exactly the current release
	[ $kind = good ] && [ "$LATEST" -eq "$seq" ] && ups=$((ups + 1))
	[ $kind = bad ] && [ "$LATEST" -eq "$seq" ] && downs=$((downs + 1))
	seen=$(cluster)
	if [ "$seen" != "${EXPECT[$CUR]:-none}" ]; then
		f_cluster=$((f_cluster + 1)) ok=0
		fail_cycle "the cluster is not on the current release $CUR" \
			"want: ${EXPECT[$CUR]:-none}" "seen: $seen"
	fi
	[ $ok -eq 1 ] && recoveries=$((recoveries + n))
done

# --- closing -----------------------------------------------------------------------
image=$(kubectl --kubeconfig "$KC" --request-timeout=10s get deployment web -n web \
	-o jsonpath='{.spec.template.spec.containers[0].image}' 2>&1)
check "kubectl agrees: the Deployment runs the current release ($image)" \
	test "$image" = "registry.local/web:$CUR"
check "$kills kills delivered (wanted $KILLS)" test "$kills" -ge "$KILLS"
check "every restart got to an outcome (0 or 1): $f_recover failed" test $f_recover -eq 0
check "the database passed integrity_check after every recovery: $f_db failed" test $f_db -eq 0
check "no database found corrupt or moved aside: $f_corrupt" test $f_corrupt -eq 0
check "no store transition refused or failed: $f_store" test $f_store -eq 0
check "every release ended healthy and current, or rolled back: $f_outcome wrong" \
	test $f_outcome -eq 0
check "the cluster held exactly the current release every time: $f_cluster wrong" \
	test $f_cluster -eq 0
missing="" tally=""
for b in "${GOOD_AT[@]/#/good:}" good:random "${BAD_AT[@]/#/bad:}" bad:random; do
	[ "${LANDED[$b]:-0}" -gt 0 ] || missing="$missing '$b'"
	tally="$tally#   ${LANDED[$b]:-0} kills at $b"$'\n'
done
if [ "$KILLS" -ge 50 ]; then
	check "a kill landed at every boundary and at random points${missing:+; none at$missing}" \
		test -z "$missing"
else
	echo "# every boundary is hit from CRASH_KILLS=50 on; not checked with $KILLS"
fi
printf '%s' "$tally"
echo "# $kills kills, $recoveries recoveries ($at_boundary at step boundaries," \
	"$at_random at random points, $in_restart more in restarts; $misses missed: the agent" \
	"had ended); $cycles cycles: $ups updates, $downs rollbacks; $((SECONDS - began)) s"
done_testing
