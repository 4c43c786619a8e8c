# hyperion: installer image and first-boot appliance builder for a Debian/Xen host.
#
#   make              build hyperion-build and hyperion-firstboot
#   make check        unit tests, plain and under ASan+UBSan, and a bounded fuzz run
#   make install      into $(DESTDIR)$(PREFIX)
#   make deps         install the Debian build and run dependencies (root)

VERSION   := 0.2
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/hyperion
SYSTEMDDIR ?= /usr/lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d
DESTDIR   ?=

CC        ?= cc
CFLAGS    ?= -O2 -g
PKG_CONFIG ?= pkg-config
STRICT    := -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE
DEFS      := -DHYPERION_VERSION='"$(VERSION)"' -DHYPERION_DATADIR='"$(DATADIR)"' -DLIBXL_API_VERSION=0x041300
# V=1 shows every command.
Q         := $(if $(V),,@)
SANITIZE  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Each library through pkg-config, each for its own job.
LIB_PKGS       := inih libarchive
BUILD_PKGS     := $(LIB_PKGS) libisoburn-1
FIRSTBOOT_PKGS := $(LIB_PKGS) blkid libparted xenlight xlutil xentoollog xenstore
TEST_PKGS      := $(LIB_PKGS) cmocka

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1))
# liblvm2-dev ships no pkg-config file: its one library, by name.
LVM_LIBS  := -llvm2cmd

LIB_SRC       := $(wildcard lib/*.c)
BUILD_SRC     := $(wildcard builder/*.c)
# hyperion-block and hyperion-vif are programs of their own: the hotplug
# scripts of the guests' disks and network interfaces.
FIRSTBOOT_SRC := $(filter-out firstboot/hyperion-block.c firstboot/hyperion-vif.c,$(wildcard firstboot/*.c))
TESTS         := $(patsubst tests/%.c,%,$(wildcard tests/test-*.c))

# Debian packages: to build, to run the tests, to build images.
DEPS_BUILD := build-essential pkg-config libinih-dev libblkid-dev libarchive-dev libisoburn-dev libparted-dev liblvm2-dev libxen-dev
# (systemd: the installer's steps run systemd-machine-id-setup; a minbase
# Debian has no systemd.)
DEPS_TEST  := libcmocka-dev xz-utils clang libclang-rt-14-dev python3 openssh-client gnupg gpgv xorriso fdisk grub-pc-bin grub-efi-amd64-bin mtools dosfstools e2fsprogs lvm2 systemd
DEPS_RUN   := mmdebstrap debian-archive-keyring gpgv squashfs-tools grub-pc-bin grub-efi-amd64-bin mtools dosfstools
DEPS_E2E   := qemu-system-x86 qemu-utils ovmf seabios xorriso fdisk lvm2 e2fsprogs python3 util-linux openssh-client

all: build/hyperion-build build/hyperion-firstboot build/hyperion-block build/hyperion-vif

# Objects: build/ (plain) and build-san/ (sanitizers), same rules.
define objrules
$(1)/%.o: %.c $$(wildcard lib/*.h builder/*.h firstboot/*.h tests/*.h) Makefile
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(STRICT) $$(CFLAGS) $(2) $$(DEFS) -Ilib -Ibuilder -Ifirstboot -Itests $$(call pc_cflags,$$(PKGS)) -c $$< -o $$@
endef
# Each object sees the libraries of its own part only, so that building one
# program (the Debian package builds hyperion-firstboot) needs only its own.
PKGS = $(sort $(TEST_PKGS) $(BUILD_PKGS) $(FIRSTBOOT_PKGS))
build/lib/%.o build-san/lib/%.o: PKGS = $(LIB_PKGS)
build/builder/%.o build-san/builder/%.o: PKGS = $(BUILD_PKGS)
build/firstboot/%.o build-san/firstboot/%.o: PKGS = $(FIRSTBOOT_PKGS)
$(eval $(call objrules,build,))
$(eval $(call objrules,build-san,$(SANITIZE)))

build/hyperion-build: $(patsubst %.c,build/%.o,$(BUILD_SRC) $(LIB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(call pc_libs,$(BUILD_PKGS))

build/hyperion-block: build/firstboot/hyperion-block.o
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(call pc_libs,xenstore)

build/hyperion-vif: build/firstboot/hyperion-vif.o
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(call pc_libs,xenstore)

build/hyperion-firstboot: $(patsubst %.c,build/%.o,$(FIRSTBOOT_SRC) $(LIB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(call pc_libs,$(FIRSTBOOT_PKGS)) $(LVM_LIBS)

# Test binaries link the library code and the program code but its main().
TEST_HELPERS := $(filter-out tests/test-% tests/fuzz-%,$(wildcard tests/*.c))
LIBOBJ       = $(patsubst %.c,$(1)/%.o,$(LIB_SRC) $(TEST_HELPERS) $(filter-out builder/main.c,$(BUILD_SRC)) $(filter-out firstboot/main.c,$(FIRSTBOOT_SRC)))
ALL_LIBS     = $(call pc_libs,$(TEST_PKGS) $(BUILD_PKGS) $(FIRSTBOOT_PKGS)) $(LVM_LIBS)

build/tests/%: build/tests/%.o $(call LIBOBJ,build)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(ALL_LIBS)
build-san/tests/%: build-san/tests/%.o $(call LIBOBJ,build-san)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(ALL_LIBS)

.PRECIOUS: build/%.o build-san/%.o build/tests/%.o build-san/tests/%.o

check: ensure-test-deps
	@$(MAKE) --no-print-directory check-run

ensure-test-deps:
	@tools/ensure-deps $(DEPS_BUILD) $(DEPS_TEST)

print-deps:
	@echo $(sort $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_RUN) $(DEPS_E2E))

check-run: all $(addprefix build/tests/,$(TESTS)) $(addprefix build-san/tests/,$(TESTS)) build-san/hyperion-build build-san/hyperion-firstboot
	@tests/run-tests build $(TESTS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:suppressions=$(CURDIR)/tests/asan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run-tests build-san $(TESTS)
	@tests/test-check.sh build-san/hyperion-build
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:suppressions=$(CURDIR)/tests/asan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/test-install.sh build-san/hyperion-firstboot
	@$(MAKE) --no-print-directory fuzz-run

build-san/hyperion-firstboot: $(patsubst %.c,build-san/%.o,$(FIRSTBOOT_SRC) $(LIB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(call pc_libs,$(FIRSTBOOT_PKGS)) $(LVM_LIBS)

build-san/hyperion-build: $(patsubst %.c,build-san/%.o,$(BUILD_SRC) $(LIB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(call pc_libs,$(BUILD_PKGS))

# libFuzzer on the profile parser (clang). "make fuzz" runs it longer.
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
build-fuzz/fuzz-profile: tests/fuzz-profile.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p build-fuzz
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(STRICT) -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) -Ilib $(call pc_cflags,$(LIB_PKGS)) \
		-o $@ tests/fuzz-profile.c $(LIB_SRC) $(call pc_libs,$(LIB_PKGS))
fuzz-run: build-fuzz/fuzz-profile
	@mkdir -p build-fuzz/corpus
	@cp profiles/*/*.conf tests/data/fuzz-seeds/* build-fuzz/corpus/ 2>/dev/null || true
	build-fuzz/fuzz-profile -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
		-dict=tests/data/profile.dict build-fuzz/corpus 2>build-fuzz/fuzz.log \
		|| { tail -n 40 build-fuzz/fuzz.log; exit 1; }
	@grep -E '^(Done|#[0-9]+ *DONE)' build-fuzz/fuzz.log | tail -n 1
fuzz:
	$(MAKE) fuzz-run FUZZ_SECONDS=600

install: all install-build install-common
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 build/hyperion-firstboot $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/hyperion-firstboot.8 $(DESTDIR)$(MANDIR)/man8/

# What the hyperion-build Debian package holds: the program, its profiles
# and overlays, and the source parts it makes its ISOs' packages from (its
# default --source).
install-build: build/hyperion-build
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/source
	install -m 0755 build/hyperion-build $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/hyperion-build.8 $(DESTDIR)$(MANDIR)/man8/
	cp -R --no-preserve=ownership profiles overlays $(DESTDIR)$(DATADIR)/
	cp -R --no-preserve=ownership Makefile lib firstboot man live examples $(DESTDIR)$(DATADIR)/source/
	install -d $(DESTDIR)$(DATADIR)/source/debian
	cp -R --no-preserve=ownership debian/changelog debian/control debian/copyright debian/rules debian/source \
		$(DESTDIR)$(DATADIR)/source/debian/
	find $(DESTDIR)$(DATADIR) -name .keep -delete

# hyperion-common: the profile format's page, which both programs read, and
# the examples of profile drop-ins (the seed's router).
install-common:
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DATADIR)
	install -m 0644 man/hyperion-profile.5 $(DESTDIR)$(MANDIR)/man5/
	cp -R --no-preserve=ownership examples $(DESTDIR)$(DATADIR)/

# What the hyperion-firstboot Debian package holds (debian/rules calls it).
install-firstboot: build/hyperion-firstboot build/hyperion-block build/hyperion-vif
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)/etc/logrotate.d
	install -m 0644 live/hyperion-guests.service live/hyperion-report.service $(DESTDIR)$(SYSTEMDDIR)/
	install -m 0644 live/hyperion.tmpfiles $(DESTDIR)$(TMPFILESDIR)/hyperion.conf
	install -m 0644 live/hyperion-xen-console.logrotate $(DESTDIR)/etc/logrotate.d/hyperion-xen-console
	install -d $(DESTDIR)$(SYSTEMDDIR)/xendomains.service.d
	install -m 0644 live/xendomains-hyperion.conf $(DESTDIR)$(SYSTEMDDIR)/xendomains.service.d/hyperion.conf
	install -m 0755 build/hyperion-firstboot $(DESTDIR)$(SBINDIR)/
	install -d $(DESTDIR)/usr/lib/hyperion
	install -m 0755 build/hyperion-block $(DESTDIR)/usr/lib/hyperion/block
	install -m 0755 build/hyperion-vif $(DESTDIR)/usr/lib/hyperion/vif
	install -m 0644 man/hyperion-firstboot.8 $(DESTDIR)$(MANDIR)/man8/

# What the hyperion-live Debian package holds: the live system only.
install-live:
	install -d $(DESTDIR)$(SYSTEMDDIR)/getty@.service.d $(DESTDIR)$(SYSTEMDDIR)/serial-getty@.service.d \
		$(DESTDIR)$(SYSTEMDDIR)/ssh.service.d \
		$(DESTDIR)/etc/profile.d $(DESTDIR)$(PREFIX)/share/hyperion
	install -m 0644 live/hyperion-installer.service $(DESTDIR)$(SYSTEMDDIR)/
	install -m 0644 live/getty-autologin.conf $(DESTDIR)$(SYSTEMDDIR)/getty@.service.d/hyperion-live.conf
	install -m 0644 live/serial-autologin.conf $(DESTDIR)$(SYSTEMDDIR)/serial-getty@.service.d/hyperion-live.conf
	install -m 0644 live/ssh-hostkeys.conf $(DESTDIR)$(SYSTEMDDIR)/ssh.service.d/hyperion-live.conf
	install -m 0644 live/motd $(DESTDIR)$(PREFIX)/share/hyperion/live-motd
	install -m 0644 live/profile.sh $(DESTDIR)/etc/profile.d/hyperion-live.sh

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(sort $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_RUN) $(DEPS_E2E))

clean:
	rm -rf build build-san build-fuzz

.PHONY: install-firstboot install-live install-build install-common all check check-run ensure-test-deps print-deps install deps clean fuzz fuzz-run

# The ISO from the default profile: hyperion.iso, .sha256, .manifest, .log.
PROFILE ?= profiles/hyperion
ISO     ?= hyperion.iso
CACHE   ?= /var/cache/hyperion
# What it needs is installed first, then it compiles, then it builds.
iso:
	@tools/ensure-deps $(DEPS_BUILD) $(DEPS_RUN)
	@$(MAKE) --no-print-directory all
	build/hyperion-build --profile $(PROFILE) --output $(ISO) --cache $(CACHE)
.PHONY: iso

# Two builds from empty caches under another host name, time zone, locale
# and umask, at the same time; the ISOs must be identical (about 14 minutes
# on two cores).
repro:
	@tools/ensure-deps $(DEPS_BUILD) $(DEPS_RUN) debootstrap
	@$(MAKE) --no-print-directory all
	tests/repro.sh
.PHONY: repro

# hyperion's Debian packages, built, checked with lintian and installed, on
# this machine's release and in a fresh trixie chroot (root).
packages:
	@tools/ensure-deps $(DEPS_BUILD) debootstrap debian-archive-keyring
	@$(MAKE) --no-print-directory all
	tests/packages.sh
.PHONY: packages

# The whole chain in qemu: build the ISO, install it onto four sparse disks,
# boot the host into Xen twice, check it, install again onto fresh disks
# (root; ~21 min under TCG on two cores).
# See tests/e2e/README.
e2e: ensure-e2e-deps
	@$(MAKE) --no-print-directory all
	python3 tests/e2e/e2e.py
ensure-e2e-deps:
	@tools/ensure-deps $(DEPS_BUILD) $(DEPS_RUN) $(DEPS_E2E)
.PHONY: e2e ensure-e2e-deps

# dom0's seats (two displays, two USB keyboards, Kodi on each) in qemu.
e2e-seats: ensure-e2e-deps
	@$(MAKE) --no-print-directory all
	python3 tests/e2e/seats.py
.PHONY: e2e-seats
