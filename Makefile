# outpost — one non-recursive Makefile.
#
#   make [TARGET=x86_64|aarch64|armhf]   static, stripped build/<target>/outpost
#   make test [TARGET=...]               unit and integration tests
#   make integration-san                 integration tests against the
#                                        ASan+UBSan build of outpost
#   make demo                            outpost at work on a local setup
#   make bench                           the figures we claim, in one table
#   make defconfig|menuconfig|olddefconfig|savedefconfig|allnoconfig|allyesconfig
#   make sizes                           stripped size of each built target
#   make check-src                       banned functions, warnings as errors
#   make sources-lock                    cross/sources.lock from what was fetched
#   make source-cache                    every source file in one tarball, for
#                                        offline builds: SOURCES=that.tar make
#   make V=1                             show the compiler command lines
#
# O= puts the configuration and objects elsewhere (CI builds allnoconfig and
# allyesconfig side by side); dependencies always live in build/<target>/.

VERSION  := 0.1.0
TARGET   ?= x86_64
O        ?= build/$(TARGET)
PYTHON   := /usr/bin/python3
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
say       = $(if $(Q),@printf '  %-6s %s\n' $(1) $(2))

ifeq ($(wildcard cross/$(TARGET).mk),)
$(error TARGET=$(TARGET): no toolchain file cross/$(TARGET).mk)
endif
include cross/$(TARGET).mk

SYSROOT  := build/$(TARGET)/sysroot
DEPS     := $(SYSROOT)/VERSIONS
CC       := $(SYSROOT)/bin/musl-gcc
STRIP    := $(CROSS_COMPILE)strip
KCONFIG  := KCONFIG_CONFIG=$(O)/.config $(PYTHON)
BOOT     := $(O)/.bootstrapped

# Tests: on x86_64 they run natively with ASan and UBSan against the host
# build of the same dependencies; on ARM targets they are built static for
# the target and run under qemu-user.
ifeq ($(TARGET),x86_64)
TSYSROOT := build/host/sysroot
TCC      := gcc
TFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
TLDFLAGS := -fsanitize=address,undefined
else
TSYSROOT := $(SYSROOT)
TCC      := $(CC)
TFLAGS   := -Os
TLDFLAGS := -static
endif
TDEPS    := $(TSYSROOT)/VERSIONS
T        := $(O)/test

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wformat=2 -Wvla -Werror
CPPFLAGS := -iquote $(O) -DCURL_STATICLIB

# The house (docs/design.md): each room compiles with the include
# directories of the rooms it may use and no others, so an include that
# crosses a layer the wrong way fails the build. tests/include-graph.py
# (make check-src, make test) checks the same rules and that no module's
# includes form a cycle; storage may use only platform's basics.
#   agent/cli      the command line: every room below
#   agent/gateway  the gateway runtime: formats, platform, storage
#   agent/formats  the signed formats, bytes in, verified structs out: platform
#   platform       the outside world: libc and the libraries
#   storage        the state store: SQLite and platform's basics
ROOMS        := agent/cli agent/gateway agent/formats platform storage
USES_agent/cli     := agent/cli agent/gateway agent/formats platform storage
USES_agent/gateway := agent/gateway agent/formats platform storage
USES_agent/formats := agent/formats platform
USES_platform      := platform
USES_storage       := storage platform
room_of   = $(firstword $(foreach r,$(ROOMS),$(if $(filter $(r)/%,$(1)),$(r))))
# -iquote for the source file $(1): its room's, or every room for a test
room_inc  = $(addprefix -iquote ,$(or $(USES_$(call room_of,$(1))),$(ROOMS)))
CFLAGS   := -std=c11 -D_GNU_SOURCE $(WARN) -ffile-prefix-map=$(CURDIR)=.
LIBS     := -lcurl -lmbedtls -lmbedx509 -lmbedcrypto -lsqlite3 -lyaml -lz \
            -lpthread -lm

# --- configuration -------------------------------------------------------

-include $(O)/.config

# Sources. A feature compiled out drops its file: src-$(CONFIG_X) += x.c
src-y := \
	agent/cli/main.c \
	agent/cli/status.c \
	agent/cli/cmd.c \
	agent/cli/cmd_agent.c \
	agent/cli/cmd_config.c \
	agent/cli/cmd_identity.c \
	agent/cli/cmd_kube.c \
	agent/cli/cmd_publish.c \
	agent/cli/cmd_sign.c \
	agent/cli/opts.c \
	agent/formats/bundle.c \
	agent/formats/meta.c \
	agent/formats/pointer.c \
	agent/formats/sigfile.c \
	agent/formats/signer.c \
	agent/formats/trust.c \
	agent/gateway/agent.c \
	agent/gateway/apply.c \
	agent/gateway/config.c \
	agent/gateway/events.c \
	agent/gateway/fetch.c \
	agent/gateway/health.c \
	agent/gateway/schedule.c \
	agent/gateway/upstream.c \
	platform/buf.c \
	platform/crypto.c \
	platform/doc.c \
	platform/error.c \
	platform/file.c \
	platform/http.c \
	platform/kube.c \
	platform/kubeconfig.c \
	platform/log.c \
	platform/manifest.c \
	platform/mem.c \
	platform/netaddr.c \
	platform/sdnotify.c \
	platform/tar.c \
	platform/version.c \
	storage/content.c \
	storage/outbox.c \
	storage/release.c \
	storage/schema.c \
	storage/settings.c \
	storage/store.c
src-$(CONFIG_GZIP) += platform/gzip.c
src-$(CONFIG_METRICS) += agent/gateway/metrics.c
src-$(CONFIG_REPORTS) += agent/gateway/report.c
src-$(CONFIG_SECRETS) += agent/formats/age.c agent/formats/rx.c agent/formats/sops.c \
	agent/gateway/secrets.c \
	platform/cipher.c
src-$(CONFIG_ROOT_WALK) += agent/gateway/roots.c
src-$(CONFIG_PAUSE) += agent/gateway/pause.c
src-$(CONFIG_PRIVSEP) += agent/gateway/verifier.c platform/sandbox.c

SRC      := $(src-y)
OBJ      := $(SRC:%.c=$(O)/obj/%.o)
TOBJ     := $(SRC:%.c=$(T)/obj/%.o)
TLIBOBJ  := $(filter-out $(T)/obj/agent/cli/main.o,$(TOBJ))
UNIT     := $(wildcard tests/unit/test_*.c)
UNITBIN  := $(UNIT:tests/unit/%.c=$(T)/%)
# Integration tests: scripts that drive the built binary (OUTPOST=path).
ITEST    := $(sort $(wildcard tests/integration/*.sh)) tests/kubesim/test_kubectl.sh \
            tests/kubesim/test_fidelity.sh tests/kubesim/test_typed.sh


.PHONY: print-room-flags
.PHONY: all test unit integration integration-san demo bench sizes check-src clean distclean deps bootstrap \
        sources-note sources-lock source-cache defconfig menuconfig olddefconfig savedefconfig allnoconfig allyesconfig

all: $(O)/outpost sources-note

$(BOOT):
	@sh tests/bootstrap.sh
	@mkdir -p $(@D) && touch $@

bootstrap: $(BOOT)

# Sources are fetched once, at the versions cross/sources.lock pins, then
# targets can build side by side (make -j). A new lock fetches again; a
# fetch whose sources differ from the lock says so on every build.
build/src/SOURCES: cross/sources.lock | $(BOOT)
	@sh cross/fetch-sources.sh build

sources-note: build/src/SOURCES
	@sh cross/fetch-sources.sh --note build

sources-lock: build/src/SOURCES
	@sh cross/fetch-sources.sh --lock build

source-cache: build/src/SOURCES
	@sh cross/fetch-sources.sh --cache build

# a changed recipe (the script, mbedTLS's config, the toolchain) rebuilds them
$(DEPS): build/src/SOURCES cross/build-deps.sh cross/mbedtls-config.h cross/$(TARGET).mk | $(BOOT)
	@rm -f $@
	@sh cross/build-deps.sh build $(TARGET)

build/host/sysroot/VERSIONS: build/src/SOURCES cross/build-deps.sh cross/mbedtls-config.h cross/host.mk | $(BOOT)
	@rm -f $@
	@sh cross/build-deps.sh build host

deps: $(DEPS)

# A new Kconfig keeps the choices already made (olddefconfig); a missing
# .config starts from the target's defconfig.
$(O)/.config: Kconfig | $(BOOT)
	@mkdir -p $(@D)
	@if [ -f $@ ]; then $(KCONFIG) -m olddefconfig Kconfig >/dev/null; \
	 else $(KCONFIG) -m defconfig --kconfig Kconfig cross/configs/$(DEFCONFIG) >/dev/null; fi

$(O)/kconfig.h: $(O)/.config
	@$(KCONFIG) -m genconfig --header-path $@ Kconfig

# Build facts for `outpost --version`: identical for identical inputs.
GITREV := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
$(O)/buildinfo.h: $(DEPS) $(O)/.config FORCE
	@{ printf '#define OUTPOST_VERSION "%s"\n' '$(VERSION)'; \
	   printf '#define OUTPOST_GITREV "%s"\n' '$(GITREV)'; \
	   printf '#define OUTPOST_TARGET "%s"\n' '$(TARGET)'; \
	   printf '#define OUTPOST_DEBIAN_SOURCES "'; \
	   sed -n 's/^\([a-z0-9]*\) \([^ ]*\)$$/\1 \2, /p' $(DEPS) | tr -d '\n' | sed 's/, $$//'; \
	   printf '"\n#define OUTPOST_SOURCES_DIFFER "'; \
	   sed -n 's/^# differs \([^:]*\): locked \([^,]*\), using \(.*\): the locked .*/\1 \3 (locked \2), /p' \
		$(DEPS) | tr -d '\n' | sed 's/, $$//'; \
	   printf '"\n'; } > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

defconfig: | $(BOOT)
	@mkdir -p $(O)
	$(KCONFIG) -m defconfig --kconfig Kconfig cross/configs/$(DEFCONFIG)
menuconfig: $(O)/.config
	$(KCONFIG) -m menuconfig Kconfig
olddefconfig: $(O)/.config
	$(KCONFIG) -m olddefconfig Kconfig
savedefconfig: $(O)/.config
	$(KCONFIG) -m savedefconfig --kconfig Kconfig --out cross/configs/$(DEFCONFIG)
allnoconfig allyesconfig: | $(BOOT)
	@mkdir -p $(O)
	$(KCONFIG) -m $@ Kconfig

# --- release build -------------------------------------------------------

$(O)/obj/%.o: %.c $(O)/kconfig.h $(O)/buildinfo.h $(DEPS)
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(call room_inc,$<) -isystem $(SYSROOT)/include $(CFLAGS) -Os $(DEP_CFLAGS) \
		-ffunction-sections -fdata-sections -MMD -MP -c $< -o $@

# -z norelro: musl applies PT_GNU_RELRO only in its dynamic linker
# (ldso/dynlink.c), never in a static executable, where the header protects
# nothing; without it ld does not pad the file to put the end of RELRO on a
# page boundary (41,632 B of zeros in the arm64 binary, 64 KiB pages).
$(O)/outpost: $(OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) -static -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,norelro -o $@.unstripped $(OBJ) \
		-L$(SYSROOT)/lib $(LIBS)
	$(Q)$(STRIP) -o $@ $@.unstripped

sizes:
	@for t in x86_64 aarch64 armhf; do \
		f=build/$$t/outpost; \
		if [ -f $$f ]; then printf '%-8s %9d bytes  %s\n' $$t $$(stat -c %s $$f) $$f; \
		else printf '%-8s %9s        (not built: make TARGET=%s)\n' $$t - $$t; fi; \
	done

# --- tests ---------------------------------------------------------------

$(T)/obj/%.o: %.c $(O)/kconfig.h $(O)/buildinfo.h $(TDEPS)
	$(call say,CC,$< [test])
	@mkdir -p $(@D)
	$(Q)$(TCC) $(CPPFLAGS) $(call room_inc,$<) -iquote tests/unit -isystem $(TSYSROOT)/include $(CFLAGS) \
		$(TFLAGS) -MMD -MP -c $< -o $@

$(T)/test_%: $(T)/obj/tests/unit/test_%.o $(T)/obj/tests/unit/tap.o $(T)/obj/tests/unit/fault.o $(TLIBOBJ)
	$(call say,LD,$@)
	$(Q)$(TCC) $(TLDFLAGS) -o $@ $^ -L$(TSYSROOT)/lib $(LIBS)

unit: $(UNITBIN)
	@sh tests/run $(if $(QEMU),--runner $(QEMU)) $(UNITBIN)

integration: $(O)/outpost
	@OUTPOST_TEST_RUNNER="$(QEMU)" OUTPOST="$(if $(QEMU),$(QEMU) )$(CURDIR)/$(O)/outpost" sh tests/run $(ITEST)

# The binary itself built like the unit tests (ASan and UBSan on x86_64),
# and the integration tests run against it: the release build hides memory
# errors. Every report is a failure: the sanitizers abort on the first one
# and write it under $(T)/san, which tests/run reads after each script.
$(T)/outpost: $(TOBJ)
	$(call say,LD,$@)
	$(Q)$(TCC) $(TLDFLAGS) -o $@ $(TOBJ) -L$(TSYSROOT)/lib $(LIBS)

SANLOG   := $(CURDIR)/$(T)/san
# the scripts that run outpost (sources.sh, layers.sh and kubesim's own test
# do not: they gain nothing here)
SANTEST  := $(filter-out tests/integration/sources.sh tests/integration/layers.sh \
              tests/kubesim/test_kubectl.sh,$(ITEST))
integration-san: $(T)/outpost
	@rm -rf $(SANLOG) $(SANLOG).seen && mkdir -p $(SANLOG)
	@ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:log_path=$(SANLOG)/asan \
	 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SANLOG)/ubsan \
	 OUTPOST_SAN_LOGS=$(SANLOG) \
	 OUTPOST_TEST_RUNNER="$(QEMU)" OUTPOST="$(if $(QEMU),$(QEMU) )$(CURDIR)/$(T)/outpost" sh tests/run $(SANTEST)

# One closing line for everything: unit tests, then integration tests.
test: $(O)/outpost $(UNITBIN) sources-note
	@OUTPOST_TEST_RUNNER="$(QEMU)" OUTPOST="$(if $(QEMU),$(QEMU) )$(CURDIR)/$(O)/outpost" \
		sh tests/run $(if $(QEMU),--runner $(QEMU)) $(UNITBIN) $(ITEST)

# --- the demo: outpost doing its whole job on a local setup ----------------

# an ARM build runs under its qemu-user runner, as in make test
demo: $(O)/outpost
	@OUTPOST_TEST_RUNNER="$(QEMU)" OUTPOST="$(if $(QEMU),$(QEMU) )$(CURDIR)/$(O)/outpost" bash tests/demo/run

# --- benchmarks: one table of the figures we claim (tests/bench/run) -------

bench: $(O)/outpost
	@bash tests/bench/run

# --- source checks ---------------------------------------------------------

check-src: $(TOBJ)
	@sh tests/check-src.sh

# The include flags a source file compiles with (tests/integration/layers.sh)
print-room-flags:
	@echo $(CPPFLAGS) $(call room_inc,$(FILE))

clean:
	rm -rf $(O)/obj $(T) $(O)/outpost $(O)/outpost.unstripped $(O)/*.h
distclean:
	rm -rf build

.SECONDARY:
-include $(OBJ:.o=.d) $(TOBJ:.o=.d) $(wildcard $(T)/obj/tests/unit/*.d)

# --- fuzzing (x86_64 host only; see tests/fuzz/README.md) -----------------
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=1] [FUZZ_TARGETS="tar doc"]
#   make fuzz-build
#
# libFuzzer targets built with clang, ASan and UBSan, linked against the
# library objects compiled with clang into build/fuzz/obj and the host
# dependency build. Each target runs FUZZ_SECONDS on a working copy of its
# committed seeds; one summary line each; exit 1 if any target crashed.

FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_NICE    ?= 0
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC      := clang
FZ           := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_LIBOBJ  := $(patsubst %.c,$(FZ)/obj/%.o,$(filter-out agent/cli/main.c,$(SRC)))
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)

.PHONY: fuzz fuzz-build

$(FZ)/obj/tests/fuzz/%.o: tests/fuzz/%.c $(O)/kconfig.h $(O)/buildinfo.h build/host/sysroot/VERSIONS
	$(call say,CC,'$< [fuzz]')
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(call room_inc,$<) -iquote tests/fuzz -isystem build/host/sysroot/include \
		$(CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -c $< -o $@

$(FZ)/obj/%.o: %.c $(O)/kconfig.h $(O)/buildinfo.h build/host/sysroot/VERSIONS
	$(call say,CC,'$< [fuzz]')
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(call room_inc,$<) -isystem build/host/sysroot/include $(CFLAGS) \
		$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# An archive: each target links only the modules it reaches.
$(FZ)/liboutpost.a: $(FUZZ_LIBOBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FZ)/fuzz_%: $(FZ)/obj/tests/fuzz/fuzz_%.o $(FZ)/liboutpost.a
	$(call say,LD,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -Lbuild/host/sysroot/lib $(LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh -t $(FUZZ_SECONDS) -j $(FUZZ_JOBS) -n $(FUZZ_NICE) $(FZ) $(FUZZ_TARGETS)

-include $(wildcard $(FZ)/obj/*/*.d $(FZ)/obj/tests/fuzz/*.d)

# --- installation on a gateway ---------------------------------------------
#
#   make install [DESTDIR=/staging] [PREFIX=/usr/local] [TARGET=...]
#   make uninstall [DESTDIR=...] [PREFIX=...]
#
# Installs the release build of TARGET (built first if needed), all under
# DESTDIR:
#   $(BINDIR)/outpost                     PREFIX/bin: the same binary is the
#                                         publisher's tool, run by non-root users
#   $(MANDIR)/man8/outpost.8              PREFIX/share/man
#   $(SYSTEMDUNITDIR)/outpost.service     PREFIX/lib/systemd/system, which
#                                         systemd searches for /usr/local and /usr
#   $(INITDIR)/outpost                    OpenRC init script: /etc/init.d
#   $(CONFDIR)/config.yaml.example        the directory of CONFIG_CONFIG_PATH
# The unit and the init script are rewritten to start $(BINDIR)/outpost.
# Nothing is enabled or started, and no config.yaml is written.

PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
MANDIR         ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INITDIR        ?= /etc/init.d
CONFDIR        ?= $(or $(patsubst %/,%,$(dir $(patsubst "%",%,$(CONFIG_CONFIG_PATH)))),/etc/outpost)
INSTALLED      := $(BINDIR)/outpost $(MANDIR)/man8/outpost.8 \
                  $(SYSTEMDUNITDIR)/outpost.service $(INITDIR)/outpost \
                  $(CONFDIR)/config.yaml.example
BINPATH_SED    := 's|/usr/local/bin/outpost|$(BINDIR)/outpost|g'

.PHONY: install uninstall

install: $(O)/outpost sources-note
	$(call say,INSTALL,'$(DESTDIR) $(PREFIX)')
	$(Q)install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(INITDIR) $(DESTDIR)$(CONFDIR)
	$(Q)install -m 0755 $(O)/outpost $(DESTDIR)$(BINDIR)/outpost
	$(Q)install -m 0644 docs/outpost.8 $(DESTDIR)$(MANDIR)/man8/outpost.8
	$(Q)sed $(BINPATH_SED) cross/outpost.service > $(DESTDIR)$(SYSTEMDUNITDIR)/outpost.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/outpost.service
	$(Q)sed $(BINPATH_SED) cross/outpost.openrc > $(DESTDIR)$(INITDIR)/outpost
	$(Q)chmod 0755 $(DESTDIR)$(INITDIR)/outpost
	$(Q)install -m 0644 cross/config.yaml.example $(DESTDIR)$(CONFDIR)/config.yaml.example

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
