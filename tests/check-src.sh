#!/bin/sh
# Source checks that the compiler does not make: functions that STYLE.md
# bans (unbounded or unchecked), library headers where they do not belong
# (agent/ reaches curl, libyaml, SQLite and mbedTLS only through platform/
# and storage/; SQL lives only in storage/), and the house: no include
# crosses a layer the wrong way, no include cycle (tests/include-graph.py).
#
# usage: tests/check-src.sh [ROOT]   (ROOT: the checkout, default .)
set -u
cd "${1:-.}" || exit 1
fail=0

banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|gets|atoi|atol|atoll)[[:space:]]*\('
hits=$(grep -nE "$banned" agent/*/*.[ch] platform/*.[ch] storage/*.[ch] tests/unit/*.c \
	2>/dev/null)
if [ -n "$hits" ]; then
	echo "check-src: banned functions (use bounded formatting, checked parsing):"
	echo "$hits"
	fail=1
fi

hits=$(grep -nE '#include[[:space:]]*<(curl/|yaml\.h|sqlite3\.h|mbedtls/|zlib\.h)' \
	agent/*/*.[ch] 2>/dev/null)
if [ -n "$hits" ]; then
	echo "check-src: agent/ includes a library header directly:"
	echo "$hits"
	fail=1
fi

hits=$(grep -nE '#include[[:space:]]*<sqlite3\.h>' agent/*/*.[ch] platform/*.[ch] 2>/dev/null)
if [ -n "$hits" ]; then
	echo "check-src: SQLite used outside storage/:"
	echo "$hits"
	fail=1
fi

python3 tests/include-graph.py || fail=1

[ "$fail" -eq 0 ] && echo "check-src: ok"
exit "$fail"
