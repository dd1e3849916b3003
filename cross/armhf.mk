# 32-bit ARM hard-float (ARMv7, Thumb-2), musl built from Debian's source.
TRIPLET       := arm-linux-musleabihf
CROSS_COMPILE := arm-linux-gnueabihf-
MUSL_ARCH     := arm-linux-gnueabihf
DEP_CFLAGS    := -mthumb
QEMU          := qemu-arm-static
DEFCONFIG     := armhf_defconfig
