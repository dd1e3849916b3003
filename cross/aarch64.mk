# arm64 (aarch64), musl built from Debian's source with Debian's cross gcc.
TRIPLET       := aarch64-linux-musl
CROSS_COMPILE := aarch64-linux-gnu-
MUSL_ARCH     := aarch64-linux-gnu
DEP_CFLAGS    :=
QEMU          := qemu-aarch64-static
DEFCONFIG     := arm64_defconfig
