#!/bin/sh
# Install the Debian packages that building and testing outpost need, when
# they are missing, and say what is installed. Run by `make` and `make test`
# on first use; safe to run again.
set -eu

packages="gcc make dpkg-dev xz-utils bzip2 file python3 python3-kconfiglib tcl
openssl curl ca-certificates bc nginx sqlite3 jq systemd groff-base man-db age
gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
gcc-arm-linux-gnueabihf binutils-arm-linux-gnueabihf libc6-dev-armhf-cross
qemu-user-static"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "bootstrap: installing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "bootstrap: not root; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# a fresh machine has no package lists yet
apt-get -q update >/dev/null
# shellcheck disable=SC2086
apt-get -q install -y --no-install-recommends $missing >/dev/null
echo "bootstrap: done"
