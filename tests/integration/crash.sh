#!/bin/bash
# The crash test: SIGKILL the agent at every step boundary and at random
# points while two apps move through updates and rollbacks at once, restart
# it each time, and require every time that the cluster ends on a known
# release of each app and that the database passes its integrity check.
#
# Two apps, web and api, each with one release per cycle (sequences 1, 2,
# 3, ...): good releases (a Deployment that becomes ready) and failing ones
# (its rollout hits its progress deadline after 400 ms) that must be rolled
# back; over four cycles the pair goes through good+good, bad+bad,
# good+bad and bad+good. Each cycle stores both releases with `outpost
# import --no-apply` and then runs `outpost once`, which carries both on
# together (one app's health wait is the other's apply), and SIGKILLs it
# either right after a chosen debug log line of one of the two apps (a step
# boundary: stored, each wave applied, applied, healthy, pruned, failed,
# each wave of the rollback, ...; the app whose boundaries are used changes
# every four cycles) or after a uniformly random delay within the cycle's
# measured duration. About one cycle in four also kills the first restart.
# Then `outpost once` runs until it exits 0 or 1 (3, the API unknown, is
# retried) and the checks run:
#   - `sqlite3 PRAGMA integrity_check` says ok, no run logged a corrupt
#     database, no database was moved aside, no store transition refused;
#   - for each app, the release of the cycle ended healthy and current
#     (good) or rolled-back with the previous release current (failing); one
#     that the kill stopped before it was stored leaves everything as it was;
#   - the cluster holds exactly each app's current release: each object
#     labelled outpost.dev/app=APP is one of its objects, with its
#     outpost.dev/sequence, and the app's Deployment runs its image.
# kubesim answers each request after 5-20 ms (chosen per cycle), which makes
# the windows between boundaries wide enough to land kills in.
#
# CRASH_KILLS is the number of kills to deliver: 200 by default; 50 when
# OUTPOST runs under an emulator (qemu-user makes each kill four times slower
# and runs the same code). CRASH_SEED (default 42) seeds the choices. The
# closing diag line counts kills and recoveries.
. "$(dirname "$0")/lib.bash"

KILLS=200
[[ $OUTPOST == *" "* ]] && KILLS=50
KILLS=${CRASH_KILLS:-$KILLS}
RANDOM=${CRASH_SEED:-42}
APPS=(web api)
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
  - {name: api, namespace: api}
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
# release APP SEQ good|bad EXTRA: pack APP-SEQ.bundle and remember in
# EXPECT[APP:SEQ] the objects the cluster holds when SEQ is APP's current
# release. A good release alternates its extra ConfigMap (a or b) with the
# current one, so each upgrade prunes; a bad one also adds a canary
# ConfigMap, so each rollback prunes too.
declare -A EXPECT LETTER
release() {
	local app=$1 s=$2 kind=$3 x=$4 d=src/$1-$2 behavior=ready after=100 timeout=20
	mkdir -p "$d"
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$app" > "$d/00-ns.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {seq: "%s"}\n' \
		"$s" > "$d/10-cfg.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra-%s}\ndata: {a: "1"}\n' \
		"$x" > "$d/11-extra.yaml"
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {ports: [{port: 80}], selector: {app: %s}}\n' \
		"$app" "$app" > "$d/15-svc.yaml"
	if [ "$kind" = bad ]; then
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: canary}\n' > "$d/12-canary.yaml"
		behavior=progress-deadline after=400 timeout=4
	fi
	cat > "$d/20-deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $app
  annotations:
    kubesim.outpost.dev/behavior: $behavior
    kubesim.outpost.dev/after-ms: "$after"
spec:
  replicas: 1
  selector: {matchLabels: {app: $app}}
  template:
    metadata: {labels: {app: $app}}
    spec: {containers: [{name: $app, image: "registry.local/$app:$s"}]}
YAML
	$OUTPOST bundle pack --app "$app" --version "v$s" --sequence "$s" "$d" -o "$app-$s.bundle" \
		--key signer.key --health-timeout "$timeout" >/dev/null 2>&1 || return 1
	LETTER[$app:$s]=$x
	EXPECT[$app:$s]="ConfigMap/$app/cfg=$s ConfigMap/$app/extra-$x=$s Deployment/$app/$app=$s"
	EXPECT[$app:$s]+=" Namespace//$app=$s Service/$app/$app=$s image=registry.local/$app:$s"
}
other() { [ "$1" = a ] && echo b || echo a; }

# --- what the agent and the cluster say ------------------------------------------
# status: per app, CUR[APP] (current sequence, 0 none), LATEST[APP] and
# STATE[APP] (its newest release).
declare -A CUR LATEST STATE PREV PREV_LATEST PREV_STATE KIND
status() {
	local app c l st
	STATUS_JSON=$(op status --json 2>/dev/null)
	for app in "${APPS[@]}"; do
		CUR[$app]=0 LATEST[$app]=0 STATE[$app]=none
	done
	while read -r app c l st; do
		CUR[$app]=$c LATEST[$app]=$l STATE[$app]=$st
	done < <(jq -r '.apps[] | "\(.app) \(.current.sequence // 0) \(.latest.sequence // 0) \(.latest.state // "none")"' \
		<<<"$STATUS_JSON" 2>/dev/null)
}
# cluster APP: every object labelled outpost.dev/app=APP as
# "Kind/ns/name=sequence", sorted, and its Deployment's image, straight from
# the API.
cluster() {
	local base="https://127.0.0.1:$PORT" sel="labelSelector=outpost.dev%2Fapp%3D$1"
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

# store SEQ: both apps' releases SEQ stored, not applied
store() {
	local app
	for app in "${APPS[@]}"; do
		op import --no-apply "$app-$1.bundle" 2>>"$TMP/cycle.log" || return 1
	done
}
# all: "CUR/LATEST/STATE" of each app, for the calibration's checks
all() {
	local app out=""
	for app in "${APPS[@]}"; do
		out+="$app=${CUR[$app]}/${LATEST[$app]}/${STATE[$app]} "
	done
	echo "${out% }"
}

# --- calibration: one install, one upgrade and one rollback without kills --------
# (both apps at once each time; the durations are `outpost once`'s)
sim_control control '{"latency_ms": 12}'
for app in "${APPS[@]}"; do
	release "$app" 1 good a && release "$app" 2 good b && release "$app" 3 bad a ||
		{ echo "# bundle pack failed"; exit 1; }
done
: > "$TMP/cycle.log"
store 1 && op once 2>log; rc=$?
check "v1 of both installs" test $rc -eq 0
store 2 && { t=$(ms); op once 2>log; rc=$?; D_GOOD=$(($(ms) - t)); }
check "v2 of both installs (${D_GOOD} ms)" test $rc -eq 0
store 3 && { t=$(ms); op once 2>log; rc=$?; D_BAD=$(($(ms) - t)); }
check "v3 of both fails and is rolled back (${D_BAD} ms)" test $rc -eq 1
status
check "v2 is current, v3 rolled back, of both" \
	test "$(all)" = "web=2/3/rolled-back api=2/3/rolled-back"
check "the cluster holds v2 of both" \
	test "$(cluster web) | $(cluster api)" = "${EXPECT[web:2]} | ${EXPECT[api:2]}"

# --- the kills -------------------------------------------------------------------
# Boundaries (APP the app whose lines are watched, SEQ the cycle's sequence,
# PREV its current one). A good release:
GOOD_AT=("verified and stored" "APP/SEQ: wave 0 applied" "APP/SEQ: wave 2 applied"
	 "APP/SEQ: wave 3 applied" "APP/SEQ: wave 4 applied" "APP: sequence SEQ applied"
	 "APP: pruned ConfigMap" "APP: sequence SEQ (vSEQ) is healthy")
# a failing one, through its rollback:
BAD_AT=("verified and stored" "APP/SEQ: wave 0 applied" "APP/SEQ: wave 2 applied"
	"APP/SEQ: wave 3 applied" "APP/SEQ: wave 4 applied" "APP: sequence SEQ applied"
	"APP: sequence SEQ failed" "APP/PREV: wave 0 applied" "APP/PREV: wave 2 applied"
	"APP/PREV: wave 3 applied" "APP/PREV: wave 4 applied" "APP: pruned ConfigMap"
	"APP: sequence SEQ rolled back")
declare -A LANDED NEXT=([good]=0 [bad]=0) MISSED=([good]=0 [bad]=0) NKIND=([good]=0 [bad]=0)
kills=0 recoveries=0 at_boundary=0 at_random=0 in_restart=0 cycles=0 ups=0 downs=0
f_db=0 f_corrupt=0 f_outcome=0 f_cluster=0 f_store=0 f_recover=0 shown=0
seq=3 misses=0 both=0

fail_cycle() { # WHAT DETAIL...: count and show the first failures in full
	echo "# cycle $cycles (sequence $seq, web ${KIND[web]}, api ${KIND[api]}," \
		"killed at '$at' of $target): $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	shown=$((shown + 1))
	if [ $shown -le 3 ]; then
		echo "#   status: $STATUS_JSON"
		op history -n 12 2>/dev/null | sed 's/^/#   history: /'
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
	for app in "${APPS[@]}"; do  # as the last check found them
		PREV[$app]=${CUR[$app]} PREV_LATEST[$app]=${LATEST[$app]}
		PREV_STATE[$app]=${STATE[$app]}
	done
	sim_control control "{\"latency_ms\": $((5 + RANDOM % 16))}"
	# web fails every other cycle, api in two cycles of four (2, 3, 6, 7,
	# ...): the pair goes through each of the four combinations. Whose
	# boundaries are watched changes every four cycles.
	KIND[web]=good KIND[api]=good
	[ $((cycles % 2)) -eq 0 ] && KIND[web]=bad
	[ $((cycles / 2 % 2)) -eq 1 ] && KIND[api]=bad
	target=${APPS[$((cycles / 4 % 2))]}
	for app in "${APPS[@]}"; do
		release "$app" "$seq" "${KIND[$app]}" "$(other "${LETTER[$app:${PREV[$app]}]}")"
	done
	kind=${KIND[$target]} d=$D_GOOD
	[ "${KIND[web]}${KIND[api]}" = goodgood ] || d=$D_BAD
	[ "${KIND[web]}" = "${KIND[api]}" ] || both=$((both + 1))
	# two in three of the failing ones and one in two of the good ones are
	# killed at a boundary (the next one in turn; one that was missed is
	# tried again, up to 3 times), the rest at random
	if { [ $kind = bad ] && [ $((NKIND[bad] % 3)) -ne 2 ]; } ||
	   { [ $kind = good ] && [ $((NKIND[good] % 2)) -eq 0 ]; }; then
		if [ $kind = bad ]; then
			at=${BAD_AT[$((NEXT[bad] % ${#BAD_AT[@]}))]}
		else
			at=${GOOD_AT[$((NEXT[good] % ${#GOOD_AT[@]}))]}
		fi
	else
		at=$(delay "$d")
	fi
	NKIND[$kind]=$((NKIND[$kind] + 1))
	key=$kind:$at       # for the tally: the boundary, or random
	[[ $at == @* ]] && key=$kind:random
	at=${at//APP/$target}
	at=${at//PREV/${PREV[$target]}}
	at=${at//SEQ/$seq}
	: > "$TMP/cycle.log"
	ok=1
	# the kill: the target's import at "verified and stored", else the
	# `outpost once` that carries both releases
	if [ "$at" = "verified and stored" ]; then
		other_app=web
		[ $target = web ] && other_app=api
		op import --no-apply "$other_app-$seq.bundle" 2>>"$TMP/cycle.log"
		run_kill "$TMP/cycle.log" "$at" "${OP[@]}" import --no-apply "$target-$seq.bundle"
	else
		store "$seq"
		run_kill "$TMP/cycle.log" "$at" "${OP[@]}" once
	fi
	n=$KILLED hung=$HUNG misses=$((misses + 1 - KILLED))
	if [[ $at != @* ]] && { [ $KILLED -eq 1 ] || [ $((MISSED[$kind] += 1)) -ge 3 ]; }; then
		NEXT[$kind]=$((NEXT[$kind] + 1)) MISSED[$kind]=0
	fi
	if [ $KILLED -eq 1 ]; then
		[[ $at == @* ]] && at_random=$((at_random + 1)) || at_boundary=$((at_boundary + 1))
		LANDED[$key]=$((${LANDED[$key]:-0} + 1))
		# now and then the restart is killed too, at a random point
		if [ $((RANDOM % 4)) -eq 0 ]; then
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
	for app in "${APPS[@]}"; do
		# (b, c) the outcome: the release done, or untouched when never stored
		if [ "${LATEST[$app]}" -ne "$seq" ]; then
			want="${PREV[$app]}/${PREV_LATEST[$app]}/${PREV_STATE[$app]}"
		elif [ "${KIND[$app]}" = good ]; then
			want="$seq/$seq/healthy"
			ups=$((ups + 1))
		else
			want="${PREV[$app]}/$seq/rolled-back"
			downs=$((downs + 1))
		fi
		got="${CUR[$app]}/${LATEST[$app]}/${STATE[$app]}"
		if [ "$got" != "$want" ] || [ "${CUR[$app]}" -eq 0 ]; then
			f_outcome=$((f_outcome + 1)) ok=0
			fail_cycle "$app: current/newest/state: want $want, got $got"
		fi
		# (b, d) the cluster holds exactly the current release
		seen=$(cluster "$app")
		if [ "$seen" != "${EXPECT[$app:${CUR[$app]}]:-none}" ]; then
			f_cluster=$((f_cluster + 1)) ok=0
			fail_cycle "$app: the cluster is not on the current release ${CUR[$app]}" \
				"want: ${EXPECT[$app:${CUR[$app]}]:-none}" "seen: $seen"
		fi
	done
	[ $ok -eq 1 ] && recoveries=$((recoveries + n))
done

# --- closing -----------------------------------------------------------------------
for app in "${APPS[@]}"; do
	image=$(kubectl --kubeconfig "$KC" --request-timeout=10s get deployment "$app" -n "$app" \
		-o jsonpath='{.spec.template.spec.containers[0].image}' 2>&1)
	check "kubectl agrees: $app's Deployment runs its current release ($image)" \
		test "$image" = "registry.local/$app:${CUR[$app]}"
done
check "$kills kills delivered (wanted $KILLS)" test "$kills" -ge "$KILLS"
check "every restart got to an outcome (0 or 1): $f_recover failed" test $f_recover -eq 0
check "the database passed integrity_check after every recovery: $f_db failed" test $f_db -eq 0
check "no database found corrupt or moved aside: $f_corrupt" test $f_corrupt -eq 0
check "no store transition refused or failed: $f_store" test $f_store -eq 0
check "every release ended healthy and current, or rolled back: $f_outcome wrong" \
	test $f_outcome -eq 0
check "the cluster held exactly each app's current release every time: $f_cluster wrong" \
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
	"had ended); $cycles cycles, $both with one app's release good and the other's failing:" \
	"$ups updates, $downs rollbacks; $((SECONDS - began)) s"
done_testing
