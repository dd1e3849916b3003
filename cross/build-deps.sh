#!/bin/sh
# Build outpost's static dependencies for one target from the Debian sources
# that fetch-sources.sh unpacked: musl (for the musl targets), zlib, mbedTLS
# (with cross/mbedtls-config.h), libyaml, SQLite (amalgamation) and libcurl
# (HTTP and HTTPS only, mbedTLS backend). Result: BUILD/TARGET/sysroot with
# include/ and lib/*.a, and a VERSIONS file naming what went in.
#
# The toolchain comes from cross/TARGET.mk (simple `NAME := value` lines),
# the one file a port changes:
#   CROSS_COMPILE  tool prefix, e.g. aarch64-linux-gnu- (empty for the host)
#   MUSL_ARCH      musl's --target triplet; empty: link against the host libc
#   TRIPLET        --host triplet for curl's configure
#   DEP_CFLAGS     extra compiler flags for the target
#
# usage: cross/build-deps.sh BUILD_DIR TARGET
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(mkdir -p "${1:?usage: build-deps.sh BUILD_DIR TARGET}" && cd "$1" && pwd)
target=${2:?usage: build-deps.sh BUILD_DIR TARGET}
[ -f "$here/$target.mk" ] || { echo "build-deps: no toolchain file cross/$target.mk" >&2; exit 1; }
eval "$(sed -n 's/^\([A-Z_]*\)[[:space:]]*:=[[:space:]]*\(.*\)$/\1="\2"/p' "$here/$target.mk")"

src=$build/src
work=$build/$target/deps
sysroot=$build/$target/sysroot
jobs=$(nproc 2>/dev/null || echo 2)

[ -f "$sysroot/VERSIONS" ] && exit 0
"$here/fetch-sources.sh" "$build"

say() { printf 'build-deps[%s]: %s\n' "$target" "$*"; }
run() { # run a step quietly; show its log when it fails
	log=$1; shift
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		say "failed: $* (log: $log)" >&2
		exit 1
	fi
}

rm -rf "$work" "$sysroot"
mkdir -p "$work" "$sysroot/lib" "$sysroot/include"
cflags="-Os -ffunction-sections -fdata-sections -ffile-prefix-map=$build=. $DEP_CFLAGS"
AR=${CROSS_COMPILE}ar
RANLIB=${CROSS_COMPILE}ranlib

# --- musl, with its gcc wrapper, which then is the compiler for the rest.
# Its old malloc: mallocng hands freed memory back to the kernel at once, and
# every API request frees a 64 KiB libyaml parser and curl's 80 KiB of
# transfer buffers, so applying was mostly mmap/munmap/madvise and page
# faults. With oldmalloc, which keeps the heap, outpost's CPU per applied
# object is ~40 % lower and its peak RSS no higher (figures: docs/build.md).
# mallocng's heap hardening is the price.
if [ -n "$MUSL_ARCH" ]; then
	say "musl"
	cp -a "$src/musl" "$work/musl"
	(cd "$work/musl" &&
	 run "$work/musl.log" ./configure ${CROSS_COMPILE:+--target="$MUSL_ARCH"} \
		CC="${CROSS_COMPILE}gcc" CROSS_COMPILE="$CROSS_COMPILE" \
		CFLAGS="-Os -ffile-prefix-map=$build=." \
		--prefix="$sysroot" --disable-shared --enable-wrapper=gcc \
		--with-malloc=oldmalloc &&
	 run "$work/musl.log" make -j"$jobs" install)
	CC="$sysroot/bin/musl-gcc"
else
	CC=${CROSS_COMPILE}gcc
fi
export CC AR RANLIB

cc_lib() { # cc_lib NAME DIR CFLAGS FILES...: compile FILES, archive libNAME.a
	name=$1 dir=$2 extra=$3; shift 3
	mkdir -p "$work/$name"
	objs=
	for f in "$@"; do
		o=$work/$name/$(basename "$f" .c).o
		run "$work/$name.log" $CC $cflags $extra -c "$dir/$f" -o "$o"
		objs="$objs $o"
	done
	rm -f "$sysroot/lib/lib$name.a"
	run "$work/$name.log" $AR rcD "$sysroot/lib/lib$name.a" $objs
}

# --- zlib: the library sources only, no configure needed
say "zlib"
z=$src/zlib
cc_lib z "$z" "-D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN" adler32.c crc32.c deflate.c \
	infback.c inffast.c inflate.c inftrees.c trees.c zutil.c compress.c uncompr.c \
	gzclose.c gzlib.c gzread.c gzwrite.c
cp "$z/zlib.h" "$z/zconf.h" "$sysroot/include/"

# --- mbedTLS, trimmed
say "mbedtls"
cp -a "$src/mbedtls" "$work/mbedtls"
# MBEDTLS_CONFIG=default keeps Debian's full configuration (to measure what
# the trimmed one saves: docs/build.md)
[ "${MBEDTLS_CONFIG:-}" = default ] ||
	cp "$here/mbedtls-config.h" "$work/mbedtls/include/mbedtls/config.h"
run "$work/mbedtls.log" make -C "$work/mbedtls/library" -j"$jobs" \
	CC="$CC" AR="$AR" CFLAGS="$cflags -I../include" static
cp "$work/mbedtls/library/"libmbed*.a "$sysroot/lib/"
cp -r "$work/mbedtls/include/mbedtls" "$sysroot/include/"

# --- libyaml: no configure in the tarball; compile src/*.c
say "libyaml"
y=$src/libyaml
yver=$(sed -n 's/^libyaml \([0-9.]*\).*/\1/p' "$src/SOURCES")
ymaj=${yver%%.*}; yrest=${yver#*.}; ymin=${yrest%%.*}; ypat=${yrest#*.}
cc_lib yaml "$y/src" "-I$y/include -DYAML_DECLARE_STATIC -DYAML_VERSION_MAJOR=$ymaj \
	-DYAML_VERSION_MINOR=$ymin -DYAML_VERSION_PATCH=$ypat \
	-DYAML_VERSION_STRING=\"$yver\"" \
	api.c dumper.c emitter.c loader.c parser.c reader.c scanner.c writer.c
cp "$y/include/yaml.h" "$sysroot/include/"

# --- SQLite: from the amalgamation fetch-sources.sh generated
say "sqlite"
cc_lib sqlite3 "$src/sqlite-amalgamation" "-DSQLITE_THREADSAFE=1 \
	-DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 \
	-DSQLITE_DQS=0 -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE \
	-DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_OMIT_PROGRESS_CALLBACK \
	-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_MAX_EXPR_DEPTH=100 -DSQLITE_OMIT_UTF16 \
	-DSQLITE_OMIT_TRACE -DSQLITE_OMIT_COMPLETE -DSQLITE_OMIT_GET_TABLE \
	-DSQLITE_OMIT_DECLTYPE -DSQLITE_OMIT_AUTHORIZATION" sqlite3.c
cp "$src/sqlite-amalgamation/sqlite3.h" "$sysroot/include/"

# --- libcurl: HTTP and HTTPS over mbedTLS, threaded resolver, nothing else
say "curl"
cp -a "$src/curl" "$work/curl"
(cd "$work/curl" &&
 run "$work/curl.log" ./configure --host="$TRIPLET" CC="$CC" AR="$AR" \
	CFLAGS="$cflags" CPPFLAGS="-I$sysroot/include" LDFLAGS="-static -L$sysroot/lib" \
	--disable-shared --enable-static --with-mbedtls="$sysroot" \
	--enable-threaded-resolver --without-zlib --without-brotli --without-zstd \
	--without-libpsl --without-libidn2 --without-nghttp2 --without-nghttp3 \
	--without-ngtcp2 --without-libssh2 --without-librtmp --without-libgsasl \
	--without-ca-bundle --without-ca-path --without-ca-fallback \
	--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp \
	--disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
	--disable-smb --disable-smtp --disable-gopher --disable-mqtt --disable-manual \
	--disable-ntlm --disable-ntlm-wb --disable-unix-sockets --disable-alt-svc \
	--disable-hsts --disable-dependency-tracking --disable-docs --disable-netrc \
	--disable-progress-meter --disable-cookies --disable-aws \
	--disable-kerberos-auth --disable-negotiate-auth --disable-socketpair \
	--disable-verbose --disable-doh --disable-mime --disable-http-auth \
	--disable-get-easy-options --disable-headers-api &&
 run "$work/curl.log" make -C lib -j"$jobs" &&
 run "$work/curl.log" make -C lib install-libLTLIBRARIES \
	libdir="$sysroot/lib" &&
 run "$work/curl.log" make -C include install includedir="$sysroot/include")
grep -E '^ *(Protocols|SSL|resolver):' "$work/curl.log" | sed "s/^ */build-deps[$target]: curl /" || true

# What went in; the Makefile reads this for `outpost --version`.
{
	cat "$src/SOURCES"
	printf 'target %s cc %s\n' "$target" "$($CC -dumpversion 2>/dev/null || echo ?)"
} > "$sysroot/VERSIONS.tmp"
mv "$sysroot/VERSIONS.tmp" "$sysroot/VERSIONS"
say "done: $sysroot"
