# The development host (x86_64, glibc): the test build, with sanitizers, links
# dependencies built from the same sources and configuration as the release.
TRIPLET       := x86_64-linux-gnu
CROSS_COMPILE :=
MUSL_ARCH     :=
DEP_CFLAGS    :=
QEMU          :=
DEFCONFIG     := x86_64_defconfig
