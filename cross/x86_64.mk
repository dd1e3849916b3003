# x86_64, musl, fully static.
TRIPLET       := x86_64-linux-musl
CROSS_COMPILE :=
MUSL_ARCH     := x86_64-linux-musl
DEP_CFLAGS    :=
QEMU          :=
DEFCONFIG     := x86_64_defconfig
