#!/bin/bash
# Running outpost as a service: the systemd unit passes systemd-analyze
# verify, `make install` puts every file where the Makefile and the man
# page say, the man page renders without warnings and documents every
# command and option, and `outpost run` speaks sd_notify to a socket we
# listen on: READY=1, STATUS=, WATCHDOG=1 pings, RELOADING=1 on SIGHUP,
# and STOPPING=1 with exit 0 on SIGTERM.
. "$(dirname "$0")/lib.bash"

# skip DESCRIPTION REASON: a check this machine cannot make (not a pass)
skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}

# The binary under test is the last word of OUTPOST (a qemu runner may
# come first); make install takes it from its build directory.
BIN=${OUTPOST##* }
BUILD=$(dirname "$BIN")
case $BUILD in
"$ROOT"/build/*/test)
	# the sanitizer build (make integration-san): make install installs
	# the release binary of that target, checked here; the rest runs OUTPOST
	BUILD=$(dirname "$BUILD")
	BIN=$BUILD/outpost
	TGT=$(basename "$BUILD") ;;
"$ROOT"/build/*) TGT=$(basename "$BUILD") ;;
*) TGT= ;;
esac
# a make of our own, not a child of the make that runs the tests; -o: never
# rebuild the binary under test, install it as it is
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$ROOT" \
		O="$BUILD" ${TGT:+TARGET=$TGT} -o "$BUILD/outpost" "$@"
}

# --- make install -------------------------------------------------------------
DEST=$TMP/root
mk install DESTDIR="$DEST" >install.log 2>&1; rc=$?
check "make install DESTDIR=... exits 0" test $rc -eq 0
check "binary in PREFIX/bin, mode 755" test "$(stat -c %a "$DEST/usr/local/bin/outpost")" = 755
check "the installed binary is the one built" cmp -s "$BIN" "$DEST/usr/local/bin/outpost"
check "man page in PREFIX/share/man/man8" cmp -s "$ROOT/docs/outpost.8" "$DEST/usr/local/share/man/man8/outpost.8"
UNIT=$DEST/usr/local/lib/systemd/system/outpost.service
check "systemd unit in PREFIX/lib/systemd/system, mode 644" test "$(stat -c %a "$UNIT")" = 644
check "the unit starts PREFIX/bin/outpost" grep -qx 'ExecStart=/usr/local/bin/outpost run' "$UNIT"
INIT=$DEST/etc/init.d/outpost
check "OpenRC script in /etc/init.d, mode 755" test "$(stat -c %a "$INIT")" = 755
check "the OpenRC script starts PREFIX/bin/outpost" grep -qx 'command="/usr/local/bin/outpost"' "$INIT"
check "the OpenRC script is valid sh" sh -n "$INIT"
check "the OpenRC script uses supervise-daemon" grep -qx 'supervisor="supervise-daemon"' "$INIT"
check "the OpenRC script needs net, comes after k3s" \
	bash -c "grep -qx '	need net' '$INIT' && grep -qx '	after k3s' '$INIT'"
check "sample config in /etc/outpost" test -f "$DEST/etc/outpost/config.yaml.example"
check "no config.yaml is written" test ! -e "$DEST/etc/outpost/config.yaml"
check "nothing else is installed" test "$(find "$DEST" -type f | wc -l)" -eq 5

# the sample parses as a configuration: only the files it names are missing
sed 's/^  # id: gw-0042/  id: gw-0042/' "$DEST/etc/outpost/config.yaml.example" >sample.yaml
$OUTPOST --config "$TMP/sample.yaml" check-config 2>sample.log
check "the sample config parses (check-config finds only missing files)" \
	bash -c "! grep -q refused sample.log && grep -q 'problems with the files it names' sample.log"

mk install DESTDIR="$TMP/usr" PREFIX=/usr >/dev/null 2>&1
check "PREFIX=/usr: unit in /usr/lib/systemd/system, starting /usr/bin/outpost" \
	grep -qx 'ExecStart=/usr/bin/outpost run' "$TMP/usr/usr/lib/systemd/system/outpost.service"
check "PREFIX=/usr: binary in /usr/bin" test -x "$TMP/usr/usr/bin/outpost"
mk uninstall DESTDIR="$TMP/usr" PREFIX=/usr >/dev/null 2>&1
check "make uninstall removes every file" test "$(find "$TMP/usr" -type f | wc -l)" -eq 0

# --- systemd-analyze verify ---------------------------------------------------
# verify wants ExecStart to exist: check the installed unit with the binary
# at its DESTDIR path, and the man page of Documentation=man:outpost(8) found
# through MANPATH.
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify accepts the unit" "systemd-analyze is not installed (Debian: systemd)"
else
	printf '[Service]\nExecStart=/bin/true\n' >probe.service
	if ! systemd-analyze verify --man=no "$TMP/probe.service" >/dev/null 2>&1; then
		skip "systemd-analyze verify accepts the unit" "systemd-analyze cannot run here"
	else
		mkdir -p verify
		sed "s|^ExecStart=/usr/local/bin/outpost|ExecStart=$DEST/usr/local/bin/outpost|" \
			"$ROOT/cross/outpost.service" >verify/outpost.service
		MANPATH=$DEST/usr/local/share/man systemd-analyze verify "$TMP/verify/outpost.service" \
			>verify.log 2>&1; rc=$?
		check "systemd-analyze verify accepts the unit (and finds man:outpost(8))" \
			test $rc -eq 0 -a ! -s verify.log
		[ -s verify.log ] && sed 's/^/#   /' verify.log
	fi
fi
u=$ROOT/cross/outpost.service
check "unit: Type=notify with a watchdog" bash -c "grep -qx Type=notify $u && grep -q '^WatchdogSec=' $u"
check "unit: restarts on failure" grep -qx Restart=on-failure "$u"
check "unit: no capabilities, no new privileges" \
	bash -c "grep -qx CapabilityBoundingSet= $u && grep -qx NoNewPrivileges=yes $u"
check "unit: read-only system but the state dir" \
	bash -c "grep -qx ProtectSystem=strict $u && grep -q '^ReadWritePaths=/var/lib/outpost' $u && grep -qx StateDirectory=outpost $u"
check "unit: ordered after k3s and the network" \
	bash -c "grep -qx 'After=k3s.service network-online.target' $u && grep -qx Wants=network-online.target $u"

# --- the man page ----------------------------------------------------------------
# groff (Debian: groff-base) and man (man-db) render it; where they are
# missing the checks say so instead of failing
if command -v groff >/dev/null; then
	groff -man -Tutf8 -ww -z "$ROOT/docs/outpost.8" 2>groff.log
	check "the man page renders without groff warnings" test ! -s groff.log
	[ -s groff.log ] && sed 's/^/#   /' groff.log
else
	skip "the man page renders without groff warnings" "groff is not installed (Debian: groff-base)"
fi
if ! command -v man >/dev/null; then
	skip "man -l renders it, with every command and option" "man is not installed (Debian: man-db)"
else
	MANWIDTH=200 man -l "$ROOT/docs/outpost.8" 2>/dev/null >man.txt
	check "man -l renders it" grep -q '^NAME' man.txt
	for s in SYNOPSIS COMMANDS 'EXIT STATUS' SIGNALS ENVIRONMENT FILES 'SEE ALSO'; do
		check "the man page has $s" grep -qx "$s" man.txt
	done
	check "exit status 3 is 'API unreachable: outcome unknown'" \
		grep -qE '^ +3 +The Kubernetes API could not be reached: the outcome is unknown' man.txt
	# every command, and every option its usage string names, is documented
	missing=
	for c in $($OUTPOST --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
		grep -qE "^ +$c( |\$)" man.txt || missing="$missing $c"
		for o in $($OUTPOST help "$c" | grep -oE '(^|[[ ])--?[a-z][a-z-]*' |
			   grep -oE -- '--?[a-z-]+' | sort -u); do
			grep -qe "$o" man.txt || missing="$missing $c:$o"
		done
	done
	check "every command and option is in the man page${missing:+ (missing:$missing)}" \
		test -z "$missing"
fi

# --- sd_notify round trip ------------------------------------------------------
start_kubesim
$OUTPOST keygen -o signer >/dev/null 2>&1
$OUTPOST root init --key signer.key -o root.yaml >/dev/null 2>&1
cat >config.yaml <<YAML
server: http://127.0.0.1:1/fleet/
device: {id: gw-service}
trust: {root: $TMP/root.yaml}
apps:
  - {name: web, namespace: web}
kubernetes: {kubeconfig: $KC}
state_dir: $TMP/state
poll: {default_interval: 10, min_interval: 10}
YAML

notify_listen "$TMP/notify" "$TMP/notify.log" 60
LISTENER=$NOTIFYPID
AGENT=
trap 'kill $AGENT $LISTENER $SIMPID 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$TMP"' EXIT

# wait_for PATTERN [SECONDS]: until a line of notify.log matches
wait_for() {
	for _ in $(seq $((${2:-10} * 10))); do
		grep -qE "$1" notify.log && return 0
		sleep 0.1
	done
	return 1
}

# a 2 s watchdog: a ping a second (the wait loop's step)
NOTIFY_SOCKET=$TMP/notify WATCHDOG_USEC=2000000 $OUTPOST --config "$TMP/config.yaml" run 2>run.log &
AGENT=$!
check "READY=1 arrives" wait_for '^READY=1$' 10
check "STATUS= after the first cycle" wait_for '^STATUS=1 app; last cycle [0-9:]+Z: ' 10
n0=$(grep -c '^WATCHDOG=1$' notify.log)
sleep 3.5
n=$(($(grep -c '^WATCHDOG=1$' notify.log) - n0))
check "WATCHDOG=1 every second while waiting (got $n in 3.5 s)" test "$n" -ge 3 -a "$n" -le 4
check "READY=1 comes before any WATCHDOG=1" test "$(head -n 1 notify.log)" = READY=1

kill -HUP $AGENT
check "SIGHUP: RELOADING=1, then READY=1 again" \
	wait_for '^RELOADING=1$' 5
check "reload done: READY=1 after RELOADING=1" \
	bash -c "for _ in \$(seq 50); do sed -n '/^RELOADING=1\$/,\$p' notify.log | grep -q '^READY=1\$' && exit 0; sleep 0.1; done; exit 1"
check "the reload is logged" grep -q 'configuration reloaded' run.log

kill -TERM $AGENT
wait $AGENT; rc=$?
AGENT=
check "SIGTERM: exit 0" test $rc -eq 0
check "SIGTERM: STOPPING=1" grep -qx 'STOPPING=1' notify.log
check "STOPPING=1 is the last message" test "$(tail -n 1 notify.log)" = STOPPING=1
check "the run logged no error but the unreachable server's" \
	bash -c "! grep 'level=error' run.log | grep -v '127.0.0.1:1'"
[ "$_fail" -gt 0 ] && { echo "# notify.log:"; sed 's/^/#   /' notify.log; echo "# run.log:"; sed 's/^/#   /' run.log; }

# without NOTIFY_SOCKET nothing is sent and nothing fails
: >notify.log
$OUTPOST --config "$TMP/config.yaml" run 2>run2.log &
AGENT=$!
for _ in $(seq 100); do grep -q 'running:' run2.log && break; sleep 0.1; done
kill -TERM $AGENT
wait $AGENT; rc=$?
AGENT=
check "without NOTIFY_SOCKET: runs and exits 0 on SIGTERM" test $rc -eq 0
check "without NOTIFY_SOCKET: nothing sent" test ! -s notify.log

done_testing
