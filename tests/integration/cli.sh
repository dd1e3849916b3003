#!/bin/bash
# The command line: --version reports what the binary is, --help lists the
# commands, bad usage exits 2 with a clear message.
. "$(dirname "$0")/lib.bash"

out=$($OUTPOST --version)
check "version exits 0" test $? -eq 0
check "version names outpost" grep -q '^outpost [0-9]' <<<"$out"
check "version names the target" grep -qE '^target (x86_64|aarch64|armhf)$' <<<"$out"
check "version lists features" grep -qE '^features .*[+-]gzip .*[+-]drift' <<<"$out"
check "version lists library versions" \
	grep -qE '^libraries curl [0-9.]+, mbedtls [0-9.]+, sqlite [0-9.]+, libyaml [0-9.]+, zlib [0-9.]+' <<<"$out"
check "version lists Debian sources" grep -qE '^debian-sources curl [^ ]+, mbedtls ' <<<"$out"
check "version subcommand matches --version" test "$($OUTPOST version)" = "$out"

out=$($OUTPOST --help)
check "help lists commands" grep -qE '^  version +show' <<<"$out"
for c in $(sed -n 's/^  \([a-z-]*\) .*/\1/p' <<<"$out"); do
	check "help $c shows its usage" grep -q "^usage: outpost $c" <<<"$($OUTPOST help "$c")"
done

$OUTPOST no-such-command 2>err; rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command says so" grep -q "unknown command 'no-such-command'" err
$OUTPOST --log-level loud version 2>err >/dev/null; rc=$?
check "bad log level exits 2" test $rc -eq 2
check "bad log level names the choices" grep -q 'error, warn, info, debug' err
$OUTPOST 2>err; rc=$?
check "no command exits 2 with usage" test $rc -eq 2
check "no command prints usage" grep -q '^usage: outpost' err

done_testing
