#!/bin/sh
# Download the Debian source packages outpost's static build uses, with a
# private apt configuration under build/apt (the machine's apt setup is left
# alone), unpack them with Debian's patches applied, and record the exact
# versions and sha256 sums in build/src/SOURCES.
#
# usage: cross/fetch-sources.sh BUILD_DIR
set -eu

build=$(mkdir -p "${1:?usage: fetch-sources.sh BUILD_DIR}" && cd "$1" && pwd)
packages="curl mbedtls libyaml sqlite3 zlib musl"
apt=$build/apt
src=$build/src

[ -f "$src/SOURCES" ] && exit 0

say() { printf 'fetch-sources: %s\n' "$*"; }

mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc" "$src"

# deb-src entries for the same Debian mirrors the machine's deb entries use.
: > "$apt/etc/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)$/deb-src \1/p' "$f" \
		>> "$apt/etc/sources.list"
done
: > "$apt/etc/debian.sources"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	# one deb822 stanza per paragraph; keep Debian's, turned into deb-src
	awk 'BEGIN { RS = ""; ORS = "\n\n" }
	     /URIs:[^\n]*debian/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' \
		"$f" >> "$apt/etc/debian.sources"
done
mkdir -p "$apt/etc/sources.list.d"
mv "$apt/etc/debian.sources" "$apt/etc/sources.list.d/debian.sources"
if ! grep -q . "$apt/etc/sources.list" "$apt/etc/sources.list.d/debian.sources"; then
	say "no Debian mirror found in /etc/apt: cannot fetch sources" >&2
	exit 1
fi

aptopts="-o Dir::Etc::SourceList=$apt/etc/sources.list
 -o Dir::Etc::SourceParts=$apt/etc/sources.list.d
 -o Dir::State::Lists=$apt/lists
 -o Dir::Cache=$apt/cache
 -o Debug::NoLocking=1
 -o APT::Sandbox::User=root"

say "updating the private source index in $apt"
# shellcheck disable=SC2086
apt-get -q $aptopts update >"$apt/update.log" 2>&1 || {
	cat "$apt/update.log" >&2; exit 1; }

cd "$src"
for p in $packages; do
	say "downloading the Debian source package $p"
	# shellcheck disable=SC2086
	apt-get -q $aptopts source --download-only "$p" >"$p.log" 2>&1 || {
		cat "$p.log" >&2; exit 1; }
done

: > SOURCES.tmp
for p in $packages; do
	dsc=$(ls "${p}"_*.dsc | sort | tail -n 1)
	ver=${dsc#"${p}"_}; ver=${ver%.dsc}
	rm -rf "$p"
	dpkg-source --no-check -x "$dsc" "$p" >"$p.log" 2>&1 || {
		cat "$p.log" >&2; exit 1; }
	printf '%s %s\n' "$p" "$ver" >> SOURCES.tmp
	for f in $(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]* [0-9]* //p' "$dsc") "$dsc"; do
		printf '  %s  %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$f" >> SOURCES.tmp
	done
done
# SQLite's orig tarball is its full source tree: generate the amalgamation
# once, here, so that builds of several targets can run side by side.
rm -rf sqlite-gen sqlite-amalgamation && cp -a sqlite3 sqlite-gen
(cd sqlite-gen && ./configure --disable-tcl CC=gcc && make sqlite3.c) >sqlite-gen.log 2>&1 || {
	tail -n 30 sqlite-gen.log >&2; say "generating the SQLite amalgamation failed" >&2; exit 1; }
mkdir -p sqlite-amalgamation
cp sqlite-gen/sqlite3.c sqlite-gen/sqlite3.h sqlite-amalgamation/
mv SOURCES.tmp SOURCES
say "sources recorded in $src/SOURCES:"
cat SOURCES
