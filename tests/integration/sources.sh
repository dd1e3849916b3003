#!/bin/bash
# cross/fetch-sources.sh against a local apt repository this test builds
# (dpkg-source, dpkg-scansources): the locked version is fetched even when
# the index lists a newer one whose files are gone; a locked version that
# cannot be had falls back to the newest one that can, loudly, and
# STRICT_SOURCES=1 refuses that; a file whose sha256 differs from the lock
# is refused with nothing unpacked; the offline tarball builds with no
# network and refuses a tampered file.
. "$(dirname "$0")/lib.bash"

FETCH=$ROOT/cross/fetch-sources.sh
REPO=$TMP/repo
mkdir -p "$REPO"

# srcpkg NAME VERSION: a native Debian source package in $REPO
srcpkg() {
	local d=$TMP/pkg/$1-$2
	mkdir -p "$d/debian/source"
	echo "3.0 (native)" > "$d/debian/source/format"
	printf 'Source: %s\nMaintainer: t <t@example.org>\n\nPackage: %s\nArchitecture: all\nDescription: t\n t\n' \
		"$1" "$1" > "$d/debian/control"
	printf '%s (%s) unstable; urgency=low\n\n  * t\n\n -- t <t@example.org>  Thu, 01 Jan 1970 00:00:00 +0000\n' \
		"$1" "$2" > "$d/debian/changelog"
	echo "$1 $2" > "$d/payload"
	(cd "$TMP/pkg" && dpkg-source -b "$1-$2" >/dev/null 2>&1) &&
		mv "$TMP/pkg/$1_$2".* "$REPO/"
}

# index: the Sources index of what $REPO holds now
index() { (cd "$REPO" && dpkg-scansources . /dev/null 2>/dev/null | gzip -9n > Sources.gz); }

# lockfor NAME VERSION: lock lines for a package as it is in $REPO
lockfor() {
	local dsc=$REPO/$1_$2.dsc
	echo "$1 $2"
	printf '  %s  %s\n' "$(sha256sum < "$dsc" | cut -d' ' -f1)" "$(basename "$dsc")"
	sed -n '/^Checksums-Sha256:/,/^[^ ]/s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\)$/  \1  \2/p' "$dsc"
}

srcpkg alpha 1.0
srcpkg alpha 1.1
srcpkg beta 2.0
echo "deb-src [trusted=yes] file:$REPO ./" > "$TMP/apt.list"
export SOURCES_APT_LIST=$TMP/apt.list
{ echo "# a test lock"; lockfor alpha 1.0; lockfor beta 2.0; } > "$TMP/lock"
export SOURCES_LOCK=$TMP/lock
# alpha 1.1 is newer and listed, but its files are missing from the mirror
index
rm "$REPO"/alpha_1.1.*

# 1. the locked version, though the index lists a newer one
sh "$FETCH" "$TMP/b1" > "$TMP/out1" 2>&1
check "the locked versions are fetched" [ -f "$TMP/b1/src/SOURCES" ]
check "alpha is the locked 1.0, not the newer listed 1.1" grep -qx 'alpha 1.0' "$TMP/b1/src/SOURCES"
check "unpacked with its payload" grep -qx 'alpha 1.0' "$TMP/b1/src/alpha/payload"
check "no warning when the lock is kept" bash -c "! grep -q WARNING '$TMP/out1'"
check "every file's sum recorded" grep -q "  $(sha256sum < "$REPO/alpha_1.0.tar.xz" | cut -d' ' -f1)  alpha_1.0.tar.xz" "$TMP/b1/src/SOURCES"
check "an unchanged lock fetches nothing again" bash -c "sh '$FETCH' '$TMP/b1' 2>&1 | grep -c . | grep -qx 0"
# the cache: with the mirror gone, the same lock in a new SOURCES still builds
mv "$REPO" "$REPO.away"
rm "$TMP/b1/src/SOURCES"
check "files in the download cache need no network" sh "$FETCH" "$TMP/b1"
mv "$REPO.away" "$REPO"

# 2. the locked version cannot be had: the newest one that can, loudly
srcpkg alpha 0.9
{ echo "# a test lock"; lockfor alpha 0.9; lockfor beta 2.0; } > "$TMP/lock"
rm "$REPO"/alpha_0.9.*
srcpkg alpha 1.1
index
rm "$REPO"/alpha_1.1.*
check "STRICT_SOURCES=1 refuses an unlocked version" bash -c \
	"! STRICT_SOURCES=1 sh '$FETCH' '$TMP/b2' > '$TMP/out2s' 2>&1"
check "... and says why" grep -q 'alpha: the locked version 0.9 cannot be had: not in the source index' "$TMP/out2s"
check "... and unpacks nothing" [ ! -e "$TMP/b2/src/alpha" -a ! -e "$TMP/b2/src/SOURCES" ]
sh "$FETCH" "$TMP/b2" > "$TMP/out2" 2>&1
check "without it, the fetch goes on" [ -f "$TMP/b2/src/SOURCES" ]
check "with the newest version whose files download (1.0)" grep -qx 'alpha 1.0' "$TMP/b2/src/SOURCES"
check "the warning names locked, used and why" grep -q \
	'WARNING: not the locked sources: alpha: locked 0.9, using 1.0: the locked version is not in the source index' "$TMP/out2"
check "the newer listed version was tried and why it failed is said" grep -q \
	'alpha 1.1: listed in the index, but its files could not be downloaded (file:' "$TMP/out2"
check "recorded in SOURCES" grep -q '^# differs alpha: locked 0.9, using 1.0' "$TMP/b2/src/SOURCES"
check "and said again on every build" bash -c \
	"sh '$FETCH' --note '$TMP/b2' 2>&1 | grep -q 'WARNING: not the locked sources: alpha: locked 0.9, using 1.0'"
check "the locked beta is used as locked" grep -qx 'beta 2.0' "$TMP/b2/src/SOURCES"
cp "$TMP/lock" "$TMP/lock.before"
sh "$FETCH" --lock "$TMP/b2" >/dev/null 2>&1
check "sources-lock rewrites the lock from what was fetched" grep -qx 'alpha 1.0' "$TMP/lock"
check "... keeping its comments" grep -qx '# a test lock' "$TMP/lock"
check "... and the sums it records" cmp -s <(grep -v '^#' "$TMP/lock") <(grep -v '^#' "$TMP/b2/src/SOURCES")
check "a new lock is fetched again, now without a warning" bash -c \
	"sh '$FETCH' '$TMP/b2' 2>&1 | grep -q 'alpha 1.0' && ! sh '$FETCH' --note '$TMP/b2' 2>&1 | grep -q ."

# 3. a locked file whose sha256 differs from the lock: refused
{ echo "# a test lock"; lockfor alpha 1.0; lockfor beta 2.0; } > "$TMP/lock"
good=$(sha256sum < "$REPO/alpha_1.0.tar.xz" | cut -d' ' -f1)
bad=$(printf '%064d' 0)
sed -i "s/$good/$bad/" "$TMP/lock"
check "a file whose sum differs from the lock is refused" bash -c \
	"! sh '$FETCH' '$TMP/b3' > '$TMP/out3' 2>&1"
check "... naming the file and both sums" grep -q \
	"alpha 1.0: alpha_1.0.tar.xz has sha256 $good, the lock says $bad; refused" "$TMP/out3"
check "... and nothing is unpacked or recorded" [ ! -e "$TMP/b3/src/alpha" -a ! -e "$TMP/b3/src/beta" -a ! -e "$TMP/b3/src/SOURCES" ]
check "... nor kept in the download cache" [ ! -e "$TMP/b3/src/dl/alpha_1.0.tar.xz" ]

# 4. offline: one tarball, no network
{ echo "# a test lock"; lockfor alpha 1.0; lockfor beta 2.0; } > "$TMP/lock"
sh "$FETCH" "$TMP/b4" >/dev/null 2>&1
sh "$FETCH" --cache "$TMP/b4" > "$TMP/out4" 2>&1
tarball=$(ls "$TMP"/b4/outpost-sources-*.tar 2>/dev/null)
check "source-cache writes outpost-sources-<lockhash>.tar" [ -f "$tarball" ]
check "... named by the lock's hash" [ "$(basename "$tarball")" = \
	"outpost-sources-$(sha256sum < "$TMP/lock" | cut -c1-12).tar" ]
check "... holding the lock and every file" bash -c \
	"tar -tf '$tarball' | grep -qx './sources.lock' && tar -tf '$tarball' | grep -qx './alpha_1.0.tar.xz'"
sh "$FETCH" --cache "$TMP/b4" >/dev/null 2>&1
check "... byte-identical when made twice" cmp -s "$tarball" "$(ls "$TMP"/b4/outpost-sources-*.tar)"
rm -rf "$REPO"
: > "$TMP/nothing.list"
offline() { SOURCES_APT_LIST=$TMP/nothing.list SOURCES=$1 sh "$FETCH" "$2"; }
if unshare -n true 2>/dev/null; then
	# a network namespace with no interfaces: nothing can be reached
	offline() { SOURCES_APT_LIST=$TMP/nothing.list SOURCES=$1 unshare -n sh "$FETCH" "$2"; }
fi
check "SOURCES=tarball fetches with no mirror and no network" offline "$tarball" "$TMP/b5"
check "... the same sources as online" cmp -s "$TMP/b4/src/SOURCES" "$TMP/b5/src/SOURCES"
check "... unpacked" grep -qx 'beta 2.0' "$TMP/b5/src/beta/payload"
mkdir "$TMP/evil" && tar -xf "$tarball" -C "$TMP/evil"
echo tampered >> "$TMP/evil/alpha_1.0.tar.xz"
tar -cf "$TMP/evil.tar" -C "$TMP/evil" .
check "a tarball with a tampered file is refused" bash -c \
	"! SOURCES_APT_LIST='$TMP/nothing.list' SOURCES='$TMP/evil.tar' sh '$FETCH' '$TMP/b6' > '$TMP/out6' 2>&1"
check "... by the lock's sum" grep -q 'alpha_1.0.tar.xz has sha256 .*, the lock says' "$TMP/out6"
check "... unpacking nothing" [ ! -e "$TMP/b6/src/alpha" -a ! -e "$TMP/b6/src/SOURCES" ]
mkdir -p "$TMP/trav/sub" && echo x > "$TMP/trav/sub/f" && ln -s /etc/passwd "$TMP/trav/link"
tar -cf "$TMP/trav1.tar" -C "$TMP/trav" ./sub/f
tar -cf "$TMP/trav2.tar" -C "$TMP/trav" ./link
tar -cf "$TMP/trav3.tar" -C "$TMP/trav/sub" --transform 's|^f$|../escaped|' f
for t in trav1 trav2 trav3; do
	check "a tarball with a path or a link ($t) is refused" bash -c \
		"! SOURCES='$TMP/$t.tar' sh '$FETCH' '$TMP/b8' 2>&1 | grep -q 'sources recorded' &&
		 SOURCES='$TMP/$t.tar' sh '$FETCH' '$TMP/b8' 2>&1 | grep -q 'is not a plain file in the top folder'"
done
check "... writing nothing outside the download folder" [ ! -e "$TMP/b8/src/escaped" -a ! -e "$TMP/b8/src/dl/link" ]
echo junk > "$TMP/junk.tar"
check "a tarball that is not one is refused" bash -c \
	"! SOURCES='$TMP/junk.tar' sh '$FETCH' '$TMP/b7' > '$TMP/out7' 2>&1"
check "... saying so" grep -q 'junk.tar: not a tar file' "$TMP/out7"

done_testing
