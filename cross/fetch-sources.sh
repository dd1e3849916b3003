#!/bin/sh
# Fetch the Debian source packages outpost's static build uses, at the
# versions cross/sources.lock pins, verify every file against the sha256
# sums the lock gives, unpack them with Debian's patches applied, and record
# what was used in BUILD/src/SOURCES.
#
#   cross/fetch-sources.sh BUILD_DIR            fetch (a no-op when done)
#   cross/fetch-sources.sh --note BUILD_DIR     repeat the warnings of the
#                                               last fetch (every build)
#   cross/fetch-sources.sh --lock BUILD_DIR     rewrite the lock from SOURCES
#   cross/fetch-sources.sh --cache BUILD_DIR    write the offline tarball
#
# Downloads go through a private apt configuration under BUILD/apt (the
# machine's apt setup is not touched) into BUILD/src/dl, which is also the
# download cache: files already there that match the lock are not fetched
# again, and when every package is there no network is used at all.
#
# When the locked version of a package cannot be had (the index no longer
# lists it, or lists it but its files are gone), the other versions the
# index lists are tried, newest first; the first one whose files download
# and match its own .dsc is used, and that is said on every build, recorded
# in SOURCES and shown by `outpost --version`. A file of the locked version
# whose sha256 differs from the lock is refused: that is never built.
#
# Environment:
#   STRICT_SOURCES=1   any difference from the lock is an error
#   SOURCES=FILE.tar   build offline from a tarball `make source-cache`
#                      wrote; no network, every file checked against the lock
#   SOURCES_LOCK=FILE  another lock (tests)
#   SOURCES_APT_LIST=FILE  deb-src lines to use instead of those derived
#                      from /etc/apt (tests)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=fetch
case ${1:-} in
--note) mode=note; shift ;;
--lock) mode=lock; shift ;;
--cache) mode=cache; shift ;;
esac
build=$(mkdir -p "${1:?usage: fetch-sources.sh [--note|--lock|--cache] BUILD_DIR}" && cd "$1" && pwd)
lock=${SOURCES_LOCK:-$here/sources.lock}
apt=$build/apt
src=$build/src
dl=$src/dl

say() { printf 'fetch-sources: %s\n' "$*"; }
die() { printf 'fetch-sources: error: %s\n' "$*" >&2; exit 1; }

[ -f "$lock" ] || die "no lock file $lock"
lockhash=$(sha256sum < "$lock" | cut -d' ' -f1)

# The lock and SOURCES share one format: "PACKAGE VERSION" on a line of its
# own, then "  SHA256  FILE" for the .dsc and every file it lists.
# Lines starting with # are comments.
lock_packages() { sed -n 's/^\([a-z0-9][a-z0-9.+-]*\) \([^ ]*\)$/\1/p' "$1"; }
lock_version() { sed -n "s/^$2 \\([^ ]*\\)\$/\\1/p" "$1"; }
lock_files() { # FILE PACKAGE: "SHA256 NAME" lines of that package
	awk -v p="$2" '/^[^ #]/ { cur = $1 } /^  / && cur == p { print $1, $2 }' "$1"
}
noepoch() { echo "${1#*:}"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

# --- --note: the warnings again, one line a package, on every build
if [ "$mode" = note ]; then
	[ -f "$src/SOURCES" ] || exit 0
	sed -n 's/^# differs /fetch-sources: WARNING: not the locked sources: /p' \
		"$src/SOURCES" >&2
	exit 0
fi

# --- --lock: the lock from what was fetched (a deliberate upgrade)
if [ "$mode" = lock ]; then
	[ -f "$src/SOURCES" ] || die "nothing fetched yet ($src/SOURCES): run make first"
	{
		sed -n '/^#/!q; p' "$lock"
		grep -v '^#' "$src/SOURCES"
	} > "$lock.tmp"
	mv "$lock.tmp" "$lock"
	say "wrote $lock from $src/SOURCES:"
	lock_packages "$lock" | while read -r p; do
		say "  $p $(lock_version "$lock" "$p")"
	done
	exit 0
fi

# --- --cache: one tarball of every source file, the lock and SOURCES
if [ "$mode" = cache ]; then
	[ -f "$src/SOURCES" ] || die "nothing fetched yet ($src/SOURCES): run make first"
	grep -q "^# lock sha256 $lockhash\$" "$src/SOURCES" ||
		die "$src/SOURCES was fetched with another lock: run make first"
	out=$build/outpost-sources-$(echo "$lockhash" | cut -c1-12).tar
	stage=$build/source-cache.tmp
	rm -rf "$stage" && mkdir -p "$stage"
	cp "$lock" "$stage/sources.lock"
	cp "$src/SOURCES" "$stage/SOURCES"
	for p in $(lock_packages "$src/SOURCES"); do
		lock_files "$src/SOURCES" "$p" | while read -r _ f; do
			cp "$dl/$f" "$stage/$f"
		done
	done
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-C "$stage" -cf "$out.tmp" .
	rm -rf "$stage"
	mv "$out.tmp" "$out"
	say "wrote $out ($(stat -c %s "$out") bytes): build offline with SOURCES=$out make"
	exit 0
fi

# --- fetch
if [ -f "$src/SOURCES" ] && grep -q "^# lock sha256 $lockhash\$" "$src/SOURCES"; then
	exit 0
fi
mkdir -p "$dl"
packages=$(lock_packages "$lock")
[ -n "$packages" ] || die "$lock names no package"

offline=
if [ -n "${SOURCES:-}" ]; then
	[ -f "$SOURCES" ] || die "SOURCES=$SOURCES: no such file"
	offline=$SOURCES
	say "building offline from $SOURCES"
	# only plain files with plain names, all in one folder: nothing can
	# land outside dl/ or through a link (then every byte is checked)
	members=$(tar -tvf "$SOURCES" 2>/dev/null) ||
		die "SOURCES=$SOURCES: not a tar file; make one with make source-cache"
	bad=$(printf '%s\n' "$members" | awk '
		{ name = $NF }
		substr($1, 1, 1) == "d" && name == "./" { next }
		substr($1, 1, 1) != "-" || name !~ /^(\.\/)?[A-Za-z0-9][A-Za-z0-9.+~_-]*$/ { print name; exit }')
	[ -z "$bad" ] ||
		die "SOURCES=$SOURCES: member '$bad' is not a plain file in the top folder; make the tarball with make source-cache"
	tar -xf "$SOURCES" -C "$dl" --no-same-owner --no-same-permissions ||
		die "SOURCES=$SOURCES: cannot be unpacked"
	# the tarball's lock and record travel with it; ours is what counts
	rm -f "$dl/sources.lock" "$dl/SOURCES"
fi

# cached PACKAGE VERSION: all of its files in dl/ match the lock
cached() {
	[ "$2" = "$(lock_version "$lock" "$1")" ] || return 1
	lock_files "$lock" "$1" | while read -r s f; do
		[ -f "$dl/$f" ] && [ "$(sum "$dl/$f")" = "$s" ] || exit 1
	done
}

aptready=
apt_setup() { # the private index, made once, when something must be fetched
	[ -z "$aptready" ] || return 0
	aptready=1
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/sources.list.d"
	: > "$apt/etc/sources.list"
	: > "$apt/etc/sources.list.d/debian.sources"
	if [ -n "${SOURCES_APT_LIST:-}" ]; then
		cp "$SOURCES_APT_LIST" "$apt/etc/sources.list"
	else
		# deb-src entries for the same Debian mirrors the machine's deb entries use
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)$/deb-src \1/p' "$f" \
				>> "$apt/etc/sources.list"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			# one deb822 stanza per paragraph; keep Debian's, turned into deb-src
			awk 'BEGIN { RS = ""; ORS = "\n\n" }
			     /URIs:[^\n]*debian/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' \
				"$f" >> "$apt/etc/sources.list.d/debian.sources"
		done
	fi
	grep -q . "$apt/etc/sources.list" "$apt/etc/sources.list.d/debian.sources" ||
		die "no Debian mirror found in /etc/apt to fetch sources from; build offline with SOURCES=outpost-sources-*.tar (docs/build.md)"
	aptopts="-o Dir::Etc::SourceList=$apt/etc/sources.list
	 -o Dir::Etc::SourceParts=$apt/etc/sources.list.d
	 -o Dir::State::Lists=$apt/lists
	 -o Dir::Cache=$apt/cache
	 -o Debug::NoLocking=1
	 -o APT::Sandbox::User=root"
	say "updating the private source index in $apt"
	# shellcheck disable=SC2086
	apt-get -q $aptopts update >"$apt/update.log" 2>&1 || {
		cat "$apt/update.log" >&2
		die "apt-get update of the source index failed (log: $apt/update.log); check the network and the mirrors in /etc/apt, or build offline with SOURCES=outpost-sources-*.tar"; }
}

# download PACKAGE VERSION: fetch its files into dl/; on failure set $why
download() {
	log=$src/$1.log
	# shellcheck disable=SC2086
	if (cd "$dl" && apt-get -q $aptopts source --download-only "$1=$2") >"$log" 2>&1; then
		# a file: mirror is linked, not copied: the cache keeps real files
		for f in "$dl"/*; do
			[ -L "$f" ] || continue
			cp --remove-destination "$(readlink -f "$f")" "$f"
		done
		return 0
	fi
	url=$(sed -n 's/^E: Failed to fetch \([^ ]*\) *\(.*\)$/\1: \2/p' "$log" | head -n 1)
	if [ -n "$url" ]; then
		why="listed in the index, but its files could not be downloaded ($url)"
	elif grep -q "Can not find version\|Unable to find a source package" "$log"; then
		why="not in the source index"
	else
		why="apt-get source failed: $(grep '^E:' "$log" | head -n 1)"
	fi
	return 1
}

# versions PACKAGE: the versions the index (or the offline tarball) has,
# newest first
versions() {
	if [ -n "$offline" ]; then
		for d in "$dl/$1"_*.dsc; do
			[ -f "$d" ] && sed -n 's/^Version: //p' "$d"
		done
	else
		# shellcheck disable=SC2086
		apt-cache $aptopts showsrc "$1" 2>/dev/null | sed -n 's/^Version: //p'
	fi | sort -u | {
		sorted=
		while read -r v; do
			out= put=
			for s in $sorted; do
				if [ -z "$put" ] && dpkg --compare-versions "$v" gt "$s"; then
					out="$out $v"; put=1
				fi
				out="$out $s"
			done
			[ -n "$put" ] || out="$out $v"
			sorted=$out
		done
		for s in $sorted; do echo "$s"; done
	}
}

# dsc_files DSC: "SHA256 NAME" of the .dsc itself and every file it lists
dsc_files() {
	printf '%s %s\n' "$(sum "$1")" "$(basename "$1")"
	sed -n '/^Checksums-Sha256:/,/^[^ ]/s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\)$/\1 \2/p' "$1"
}

# verify_own PACKAGE VERSION: its files match its own .dsc (an unlocked version)
verify_own() {
	dsc=$dl/$1_$(noepoch "$2").dsc
	[ -f "$dsc" ] || { why="no $(basename "$dsc") after the download"; return 1; }
	dsc_files "$dsc" | tail -n +2 | while read -r s f; do
		[ -f "$dl/$f" ] || { echo "missing $f"; exit 1; }
		got=$(sum "$dl/$f")
		[ "$got" = "$s" ] || { echo "$f: sha256 $got, its .dsc says $s"; exit 1; }
	done > "$src/$1.verify" || { why=$(cat "$src/$1.verify"); return 1; }
}

: > "$src/SOURCES.tmp"
printf '# lock sha256 %s\n' "$lockhash" >> "$src/SOURCES.tmp"
differs=
for p in $packages; do
	want=$(lock_version "$lock" "$p")
	[ -n "$(lock_files "$lock" "$p")" ] || die "$lock: $p $want lists no files"
	used= why=
	if cached "$p" "$want"; then
		used=$want
	elif [ -n "$offline" ]; then
		# what the tarball has of the locked version is checked below
		if [ -f "$dl/${p}_$(noepoch "$want").dsc" ]; then
			used=$want
		else
			why="not in the tarball $offline"
		fi
	else
		apt_setup
		say "downloading $p $want"
		if download "$p" "$want"; then
			used=$want
		fi
	fi
	if [ -n "$used" ]; then
		# the locked version: every byte as the lock says, or nothing
		lock_files "$lock" "$p" | while read -r s f; do
			[ -f "$dl/$f" ] || { echo "$f is missing"; exit 1; }
			got=$(sum "$dl/$f")
			if [ "$got" != "$s" ]; then
				rm -f "$dl/$f"
				echo "$f has sha256 $got, the lock says $s"
				exit 1
			fi
		done > "$src/$p.verify" || die "$p $want: $(cat "$src/$p.verify"); refused, nothing unpacked. A mirror serves other bytes under the locked version: check the mirror; if Debian did change the package, review it and run make sources-lock"
		lock_files "$lock" "$p" | awk -v p="$p" -v v="$want" \
			'NR == 1 { print p " " v } { print "  " $1 "  " $2 }' >> "$src/SOURCES.tmp"
		continue
	fi
	# the locked version cannot be had: the newest other one that can
	locked_why=$why
	[ -n "$offline" ] || apt_setup
	if [ "${STRICT_SOURCES:-0}" = 1 ]; then
		die "$p: the locked version $want cannot be had: $locked_why. STRICT_SOURCES=1 allows no other; build offline with SOURCES=outpost-sources-*.tar, or upgrade the lock with make sources-lock"
	fi
	for v in $(versions "$p"); do
		[ "$v" = "$want" ] && continue
		if [ -n "$offline" ] || { say "trying $p $v" && download "$p" "$v"; }; then
			if verify_own "$p" "$v"; then
				used=$v
				break
			fi
		fi
		say "$p $v: $why"
	done
	[ -n "$used" ] ||
		die "$p: the locked version $want cannot be had ($locked_why), and no other version the ${offline:+tarball}${offline:-index} has could be used; check the network and the mirrors in /etc/apt, or build offline with SOURCES=outpost-sources-*.tar made where the archive is reachable"
	line="$p: locked $want, using $used: the locked version is $locked_why"
	printf 'fetch-sources: WARNING: not the locked sources: %s\n' "$line" >&2
	differs="$differs$line
"
	printf '# differs %s\n' "$line" >> "$src/SOURCES.tmp"
	dsc_files "$dl/${p}_$(noepoch "$used").dsc" | awk -v p="$p" -v v="$used" \
		'NR == 1 { print p " " v } { print "  " $1 "  " $2 }' >> "$src/SOURCES.tmp"
done

# Unpack with Debian's patches (every file was checked above).
for p in $packages; do
	v=$(lock_version "$src/SOURCES.tmp" "$p")
	rm -rf "${src:?}/$p"
	dpkg-source --no-check -x "$dl/${p}_$(noepoch "$v").dsc" "$src/$p" >"$src/$p.log" 2>&1 || {
		cat "$src/$p.log" >&2; die "$p $v: dpkg-source -x failed (log: $src/$p.log)"; }
done

# SQLite's orig tarball is its full source tree: generate the amalgamation
# once, here, so that builds of several targets can run side by side.
case " $(echo $packages) " in
*" sqlite3 "*)
	rm -rf "$src/sqlite-gen" "$src/sqlite-amalgamation" && cp -a "$src/sqlite3" "$src/sqlite-gen"
	(cd "$src/sqlite-gen" && ./configure --disable-tcl CC=gcc && make sqlite3.c) \
		>"$src/sqlite-gen.log" 2>&1 || {
		tail -n 30 "$src/sqlite-gen.log" >&2
		die "generating the SQLite amalgamation failed (log: $src/sqlite-gen.log)"; }
	mkdir -p "$src/sqlite-amalgamation"
	cp "$src/sqlite-gen/sqlite3.c" "$src/sqlite-gen/sqlite3.h" "$src/sqlite-amalgamation/"
	;;
esac
mv "$src/SOURCES.tmp" "$src/SOURCES"
say "sources recorded in $src/SOURCES:"
lock_packages "$src/SOURCES" | while read -r p; do
	say "  $p $(lock_version "$src/SOURCES" "$p")"
done
[ -z "$differs" ] || printf '%s' "$differs" | sed 's/^/fetch-sources: WARNING: not the locked sources: /' >&2
