#!/bin/bash
# The house holds: on this checkout no include crosses a layer the wrong
# way and no module's includes form a cycle; on a copy with one planted,
# the source check (make check-src) and the compiler both refuse it.
. "$(dirname "$0")/lib.bash"

check "this checkout: no layer crossed, no include cycle" python3 "$ROOT/tests/include-graph.py" --root "$ROOT"

# a copy of what the checks read, to plant things in
copy() {
	rm -rf "$TMP/tree" && mkdir -p "$TMP/tree/tests"
	cp -r "$ROOT/agent" "$ROOT/platform" "$ROOT/storage" "$ROOT/Makefile" "$TMP/tree/"
	cp -r "$ROOT/tests/unit" "$ROOT/tests/check-src.sh" "$ROOT/tests/include-graph.py" "$TMP/tree/tests/"
}
# plant FILE LINE: add an include line at the top of FILE in the copy
plant() { sed -i "1i $2" "$TMP/tree/$1"; }

copy
check "the copy passes the source check" sh "$TMP/tree/tests/check-src.sh" "$TMP/tree"

# refused WHAT FILE INCLUDE MESSAGE: planted in a fresh copy, the source
# check fails and says MESSAGE
refused() {
	copy
	plant "$2" "$3"
	sh "$TMP/tree/tests/check-src.sh" "$TMP/tree" > "$TMP/out" 2>&1
	check "$1 fails the source check" [ $? -ne 0 ]
	check "... saying: $4" grep -qF "$4" "$TMP/out"
}
refused "formats including the gateway" agent/formats/trust.c '#include "agent.h"' \
	'agent/formats/trust.c:1: includes agent/gateway/agent.h: agent/formats may use only agent/formats, platform'
refused "platform including storage" platform/http.c '#include "store.h"' \
	'platform/http.c:1: includes storage/store.h: platform may use only platform'
refused "storage using more than platform's basics" storage/store.c '#include "http.h"' \
	"storage/store.c:1: includes platform/http.h: storage may use only platform's basics"
refused "an include cycle (agent <-> fetch, as it once was)" agent/gateway/agent.c '#include "fetch.h"' \
	'include cycle: agent/gateway/agent -> agent/gateway/fetch -> agent/gateway/agent'
refused "a header in no room" agent/gateway/health.c '#include "nowhere.h"' \
	'agent/gateway/health.c:1: includes "nowhere.h", which is in no room'

# the compiler enforces the same: a file compiles with its room's include
# directories only (the Makefile's flags for it)
flags() { make -s -C "$ROOT" --no-print-directory print-room-flags FILE="$1"; }
cc_ok() { # FILE SOURCE: does SOURCE compile with FILE's room flags?
	printf '%s\n' "$2" > "$TMP/probe.c"
	(cd "$ROOT" && eval "gcc -fsyntax-only $(flags "$1") '$TMP/probe.c'") 2>/dev/null
}
check "the compiler gives formats the formats and platform headers" \
	cc_ok agent/formats/probe.c '#include "pointer.h"
#include "buf.h"'
check "the compiler refuses formats a gateway header" bash -c \
	"$(declare -f flags cc_ok); ROOT='$ROOT' TMP='$TMP'; ! cc_ok agent/formats/probe.c '#include \"apply.h\"'"
check "the compiler refuses platform a storage header" bash -c \
	"$(declare -f flags cc_ok); ROOT='$ROOT' TMP='$TMP'; ! cc_ok platform/probe.c '#include \"store.h\"'"
check "the compiler refuses the gateway a command-line header" bash -c \
	"$(declare -f flags cc_ok); ROOT='$ROOT' TMP='$TMP'; ! cc_ok agent/gateway/probe.c '#include \"cmd.h\"'"
check "the command line may use the gateway" \
	cc_ok agent/cli/probe.c '#include "agent.h"'

done_testing
