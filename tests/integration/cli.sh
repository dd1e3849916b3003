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
	# CMD --help runs nothing and exits 0: its options (from the table the
	# command parses with), or its subcommands' usage
	h=$($OUTPOST "$c" --help 2>&1); rc=$?
	check "$c --help exits 0 ($rc) with its usage" \
		bash -c '[ "$1" -eq 0 ] && grep -q "^usage: outpost $2" <<<"$3"' _ "$rc" "$c" "$h"
done
h=$($OUTPOST import --help)
check "import --help lists each option with its help" \
	bash -c 'grep -qE "^  --force +import even what is not newer$" <<<"$1" &&
		 grep -qE "^  --no-apply +store the bundle, do not apply it$" <<<"$1"' _ "$h"
h=$($OUTPOST root init --help)
check "root init --help: the subcommand's options, a value's name, a list" \
	grep -qE '^  --key KEY +.*\(may be given more than once\)$' <<<"$h"
check "history --help: a short option" grep -qE '^  -n N +' <<<"$($OUTPOST history --help)"
$OUTPOST once --now 2>err; rc=$?
check "once refuses an option it does not have (exit $rc)" \
	bash -c '[ "$1" -eq 2 ] && grep -q "once: unknown option --now" err' _ "$rc"

$OUTPOST no-such-command 2>err; rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command says so" grep -q "unknown command 'no-such-command'" err
$OUTPOST --log-level loud version 2>err >/dev/null; rc=$?
check "bad log level exits 2" test $rc -eq 2
check "bad log level names the choices" grep -q 'error, warn, info, debug' err
$OUTPOST 2>err; rc=$?
check "no command exits 2 with usage" test $rc -eq 2
check "no command prints usage" grep -q '^usage: outpost' err

# The option tables (agent/cli/opts.h): each refusal is exit 2 with its reason.
$OUTPOST history -n 0 2>err; rc=$?
check "history -n 0 exits 2" test $rc -eq 2
check "and says the range" grep -q 'history: -n takes 1 to 10000, not 0' err
$OUTPOST history -n 5x 2>err; rc=$?
check "history -n 5x exits 2 (trailing junk)" test $rc -eq 2
$OUTPOST rollback app --to 2>err; rc=$?
check "rollback --to without a value exits 2" test $rc -eq 2
check "and says the value is missing" grep -q 'rollback: missing value for --to' err
$OUTPOST rollback app --to --json 2>err; rc=$?
check "rollback --to --json does not take --json as the value" test $rc -eq 2
check "and says so" grep -q 'missing value for --to (--json is an option)' err
$OUTPOST rollback app --to 3 --to=4 2>err; rc=$?
check "a repeated option exits 2" test $rc -eq 2
check "and is named" grep -q 'rollback: --to given twice' err
$OUTPOST status --bogus 2>err; rc=$?
check "an unknown option exits 2" test $rc -eq 2
check "and is named, with the usage" grep -q 'status: unknown option --bogus' err
check "the usage follows" grep -q '^usage: outpost status' err
$OUTPOST --bogus version 2>err; rc=$?
check "an unknown global option exits 2" test $rc -eq 2
check "and points to --help" grep -q 'unknown option --bogus (see outpost --help)' err
check "--log-level=debug is --log-level debug" \
	test "$($OUTPOST --log-level=debug version)" = "$($OUTPOST version)"

done_testing
