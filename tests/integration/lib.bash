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
