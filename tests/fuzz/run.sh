#!/bin/sh
# run.sh — run libFuzzer targets for a while each and print one line per
# target: executions, executions per second, corpus size, crashes.
#
#   tests/fuzz/run.sh [-j N] [-t SECONDS] [-n NICE] BINDIR TARGET...
#
# Each target NAME runs BINDIR/fuzz_NAME on build/fuzz/corpus/NAME, a
# working copy of the committed seeds tests/fuzz/corpus/NAME (seeds are
# copied in; what the fuzzer adds stays there between runs, so a later run
# starts where the last one stopped: rm -rf build/fuzz/corpus to reset).
# Crash, leak, timeout and out-of-memory inputs go to
# build/fuzz/artifacts/NAME/; logs to build/fuzz/log/NAME.log.
# Exit status 1 if any target found one, 0 otherwise.
set -u

jobs=1 secs=60 nice=0
while getopts j:t:n: o; do
	case $o in
	j) jobs=$OPTARG ;;
	t) secs=$OPTARG ;;
	n) nice=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: $0 [-j N] [-t SECONDS] [-n NICE] BINDIR TARGET..." >&2; exit 2; }
bindir=$1
shift
top=build/fuzz
here=$(dirname "$0")

# Inputs a little larger than the format's real limits, so that the limit
# checks are reached but the fuzzer does not waste time on huge inputs.
max_len() {
	case $1 in
	bundle) echo 1048576 ;;
	tar) echo 262144 ;;
	gzip) echo 65536 ;;
	doc | manifest | trust) echo 65536 ;;
	sigfile) echo 20480 ;;
	pointer) echo 8192 ;;
	age | sops) echo 131072 ;;
	*) echo 65536 ;;
	esac
}

# run NAME: one target, its summary line to $top/summary/NAME.
run() {
	name=$1
	corpus=$top/corpus/$name art=$top/artifacts/$name/ log=$top/log/$name.log
	mkdir -p "$corpus" "$art" "$top/log" "$top/summary"
	rm -f "$art"crash-* "$art"leak-* "$art"timeout-* "$art"oom-* "$art"slow-unit-*
	[ -d "$here/corpus/$name" ] && cp -p "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
	nice -n "$nice" "$bindir/fuzz_$name" "$corpus" -max_len="$(max_len "$name")" \
		-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$art" -print_final_stats=1 >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	files=$(find "$corpus" -type f | wc -l)
	kib=$(( $(du -sb "$corpus" | cut -f1) / 1024 ))
	found=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o \
		-name 'timeout-*' -o -name 'oom-*' \) | sort)
	if [ -n "$found" ] || [ $rc -ne 0 ]; then
		what=${found:-"exit $rc, see $log"}
		res="crashes $(echo "$what" | wc -l): $(echo $what)"
	else
		res="crashes 0"
	fi
	printf 'fuzz_%-9s %10s execs %7s/s  corpus %5s files %6s KiB  %s\n' \
		"$name" "${execs:-?}" "${rate:-?}" "$files" "$kib" "$res" >"$top/summary/$name"
	cat "$top/summary/$name"
}

mkdir -p "$top/summary"
for name in "$@"; do rm -f "$top/summary/$name"; done
# Up to $jobs targets at a time; each prints its line as it ends.
if [ "$jobs" -le 1 ]; then
	for name in "$@"; do run "$name"; done
else
	# Each child runs one target (no -j: one at a time).
	printf '%s\n' "$@" | xargs -P "$jobs" -n 1 sh "$0" -t "$secs" -n "$nice" "$bindir"
fi
fail=0
for name in "$@"; do
	grep -q 'crashes 0$' "$top/summary/$name" 2>/dev/null || fail=1
done
exit $fail
