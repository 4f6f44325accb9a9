# fpt: top-level targets.
#
#   make            build the module against KDIR (default: the running
#                   kernel's headers, if installed), lib/libfpt.a, fptctl
#                   (tools/), fpt-sim, fptd, the man pages and the guest
#                   programs
#   make userspace  fptctl, fpt-sim, fptd and the man pages only (what the
#                   Debian package fptd builds)
#   make deps       install the host packages (Debian 12; apt, needs root/sudo)
#   make check      the test suite: the unit tests (tests/unit, cmocka with
#                   sanitizers) and the packaging checks (tests/pkg: man
#                   pages, bash completion, versions, Prometheus rules and
#                   the Grafana dashboard with promtool), then module + tests
#                   in qemu guests running Debian's 6.1 and 6.12 kernels,
#                   amd64 and arm64 (tests/vm/check.sh); the last line
#                   counts all, with the end-to-end test on a Debian root
#                   file system booted with systemd (series 6.12-systemd)
#                   and the robustness series of issue 8 (6.12-robust
#                   6.1-robust 6.12-mmtests 6.1-mmtests, quick sets;
#                   tests/robust/README.md)
#   make check-pkg  the packaging checks alone (no guest, a few seconds)
#   make check-systemd  the end-to-end test alone: debootstrap'd Debian
#                   (cached in build/rootfs), the .deb packages of this tree
#                   installed with apt in the guest, fptd under systemd,
#                   fptctl, a reboot, purge (tests/vm/systemd.sh)
#   make check-robust  the robustness series alone (tests/robust/README.md):
#                   6.12 and 6.1 guests with 3 NUMA nodes and a hot-removable
#                   pc-dimm: threads, NUMA placement, hwpoison, hot-remove,
#                   release, counters, stress-ng, netlink fuzzer; and the
#                   kernel's own mm selftests with and without fpt
#                   (`make check` runs them too)
#   make check-soak longer soaks, not in CI's budget: every selftest 5 times
#                   (ksm_tests -N flake hunt) plus the long ones, and the
#                   robustness series with stress-ng for minutes
#   make check-debug  a debug build of Debian's 6.12 source (KASAN, lockdep,
#                   DEBUG_VM, DEBUG_PAGEALLOC, allocation profiling; built
#                   once, cached in build/debug-kernel, tests/debug/) running
#                   the guest suite and the robustness series; not in CI
#   make deb        build the Debian packages fpt-dkms and fptd from a clean
#                   copy of the tree (dpkg-buildpackage -us -uc -b) into
#                   build/deb/, and run lintian on them
#   make demo       boot the guests and run the demo script
#   make bench      benchmarks: 4 KB vs fpt vs the kernel's 64 KB mTHP vs
#                   2 MB THP on 6.1 and 6.12 guests, one boot each
#                   (bench/README.md; results in build/bench/), then
#                   make bench-icount.
#                   BENCH_HOST=1 adds the host kernel (no fpt); the
#                   icount part takes BENCH_ICOUNT_ARGS as its BENCH_ARGS;
#                   BENCH_UPDATE_README=1 writes the summary into
#                   bench/README.md
#   make bench-icount  the deterministic instruction-count benchmark:
#                   one vCPU, qemu -icount, every configuration in the same
#                   boot, each kernel booted BENCH_BOOTS=2 times
#                   (bench/README.md; results in build/bench-icount/)
#   make install    install fptd, fptctl, fpt-sim, the systemd unit, the
#                   default configuration (kept if present), man pages,
#                   bash completion and examples under PREFIX (/usr/local)
#   make uninstall  remove what `make install` installed (the same
#                   variables); /etc/fpt/fptd.conf only if unchanged,
#                   /var/lib/fpt (fptd's runtime policies) is kept
#   make install-dkms   the module source (only what it needs) into
#                   /usr/src/fpt-VERSION, then dkms add, and dkms build +
#                   install for the running kernel if its headers are there
#   make uninstall-dkms dkms remove --all, and /usr/src/fpt-VERSION
#   make install-module  build and install fpt.ko for KDIR without dkms
#   make clean      remove build products (keeps the downloaded kernels)
#   make distclean  also remove build/ (downloaded kernels included)
#
# The version of everything (module, dkms, fptd, fptctl, the Debian
# packages) is the file VERSION; debian/changelog must agree (checked by
# the package build and by make check-pkg).
#
# check/demo settings (environment): FPT_KERNELS="6.1 6.12 6.12-arm64", FPT_TESTS=a,b,
# FPT_TIMEOUT=900, FPT_VERBOSE=1 ... see tests/vm/check.sh.

TOP     := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VERSION := $(shell cat $(TOP)/VERSION)
KDIR    ?= /lib/modules/$(shell uname -r)/build

# --- installation directories -------------------------------------------------
# One PREFIX for everything (default /usr/local; the Debian package uses
# /usr).  Configuration is in /etc whatever the prefix; the unit goes where
# systemd looks for units of that prefix.
DESTDIR     ?=
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/fpt
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DKMSDIR     ?= /usr/src/fpt-$(VERSION)

INSTALL      := install
FPTD_BIN     := $(TOP)/build/daemon/fptd
FPTCTL_BIN   := $(TOP)/tools/fptctl/fptctl
FPTSIM_BIN   := $(TOP)/tools/fpt-sim/fpt-sim
MAN_BUILD    := $(TOP)/build/man
MAN_PAGES    := fptctl.8 fptd.8 fptd.conf.5 fpt.7 fpt-sim.1
# what the module's dkms source tree holds (besides dkms.conf and VERSION)
MODULE_SRCS  := $(filter-out %.mod.c,$(wildcard $(TOP)/module/*.c)) \
	$(wildcard $(TOP)/module/*.h) $(TOP)/module/Kbuild $(TOP)/module/Makefile

.PHONY: all userspace module lib tools guest fpt-sim daemon man unit deps \
	check check-pkg check-systemd check-robust check-soak check-debug \
	deb demo bench bench-icount bench-host \
	install install-bin install-config install-unit install-man \
	install-completion install-doc uninstall \
	install-dkms-src install-dkms uninstall-dkms install-module \
	clean clean-userspace distclean

all: module lib tools guest fpt-sim daemon man

userspace: tools fpt-sim daemon man

lib:
	$(MAKE) -C lib

tools: lib
	$(MAKE) -C tools

fpt-sim:
	$(MAKE) -C tools/fpt-sim

# fptd (daemon/): build/daemon/fptd (BUILD given: the test scripts export
# BUILD=<tree>/build for themselves)
daemon:
	$(MAKE) -C daemon BUILD=$(TOP)/build/daemon

module:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C module KDIR=$(KDIR); \
	else \
		echo "note: $(KDIR) not found: module not built (set KDIR=<kernel headers dir>;"; \
		echo "      'make check' builds it against the test kernels)"; \
	fi

# Man pages: roff made from markdown (man/*.md, tools/fptctl.md) by
# man/md2man.py; fpt(7)'s counter table comes from fpt.h's FPT_COUNTERS,
# fpt-sim(1)'s options from fpt-sim --help.
man: $(addprefix $(MAN_BUILD)/,$(MAN_PAGES))

MD2MAN := python3 $(TOP)/man/md2man.py --version $(VERSION)
$(MAN_BUILD)/fptctl.8: $(TOP)/tools/fptctl.md $(TOP)/man/md2man.py $(TOP)/VERSION
	@mkdir -p $(@D)
	$(MD2MAN) -o $@ $<
$(MAN_BUILD)/fpt.7: $(TOP)/man/fpt.7.md $(TOP)/include/uapi/linux/fpt.h $(TOP)/man/md2man.py $(TOP)/VERSION
	@mkdir -p $(@D)
	$(MD2MAN) --counters $(TOP)/include/uapi/linux/fpt.h -o $@ $<
# fpt-sim(1)'s OPTIONS are the program's --help
$(MAN_BUILD)/fpt-sim.1: $(TOP)/man/fpt-sim.1.md $(TOP)/man/md2man.py $(TOP)/VERSION fpt-sim
	@mkdir -p $(@D)
	$(MD2MAN) -o $@ $<
$(MAN_BUILD)/%: $(TOP)/man/%.md $(TOP)/man/md2man.py $(TOP)/VERSION
	@mkdir -p $(@D)
	$(MD2MAN) -o $@ $<

guest:
	@if [ -f tests/guest/Makefile ]; then $(MAKE) -C tests/guest; fi

deps:
	bash tests/deps.sh

# The unit tests write build/unit-results ("passed failed"), the packaging
# checks build/pkg-results; check.sh adds both into its closing
# "N passed, N failed" line.  A failure here does not stop the guest
# tests: the summary and check.sh's exit status tell.
unit:
	$(MAKE) -C tests/unit check

check-pkg:
	bash tests/pkg/run.sh

check: deps
	-@rm -f build/unit-results build/pkg-results
	-$(MAKE) -C tests/unit check
	-bash tests/pkg/run.sh
	FPT_UNIT_RESULTS="$(CURDIR)/build/unit-results $(CURDIR)/build/pkg-results" bash tests/vm/check.sh

ROBUST_SERIES = 6.12-robust 6.1-robust 6.12-mmtests 6.1-mmtests

check-robust: deps
	FPT_KERNELS="$(ROBUST_SERIES)" FPT_ROBUST_TIMEOUT=3600 \
		FPT_APPEND="fpt.st_set=full fpt.robust_set=full" bash tests/vm/check.sh

check-soak: deps
	FPT_KERNELS="6.12-mmtests 6.1-mmtests" FPT_ROBUST_TIMEOUT=7200 \
		FPT_APPEND="fpt.st_set=soak fpt.st_repeat=5" bash tests/vm/check.sh
	FPT_KERNELS="6.12-robust 6.1-robust" FPT_ROBUST_TIMEOUT=3600 \
		FPT_APPEND="fpt.robust_set=full fpt.stress_secs=300 fpt.rmmod_cycles=6" bash tests/vm/check.sh

check-debug: deps
	bash tests/debug/build-kernel.sh
	FPT_KERNELS="6.12-debug 6.12-debug-robust 6.12-debug-mmtests" FPT_TIMEOUT=3600 \
		FPT_ROBUST_TIMEOUT=5400 FPT_BOOT_TIMEOUT=900 FPT_APPEND="fpt.st_set=full" bash tests/vm/check.sh

# The systemd end-to-end series alone; `make check` runs it as well.
check-systemd: deps
	FPT_KERNELS=6.12-systemd bash tests/vm/check.sh

deb:
	bash tests/pkg/build-deb.sh

demo: deps
	bash tests/vm/demo.sh

bench: deps
	BENCH_ROUNDS=$(BENCH_ROUNDS) BENCH_ARGS="$(BENCH_ARGS)" BENCH_HOST=$(BENCH_HOST) \
		BENCH_UPDATE_README=$(BENCH_UPDATE_README) bash bench/run.sh
	BENCH_ROUNDS=$(BENCH_ROUNDS) BENCH_BOOTS=$(BENCH_BOOTS) BENCH_ARGS="$(BENCH_ICOUNT_ARGS)" \
		BENCH_UPDATE_README=$(BENCH_UPDATE_README) bash bench/run.sh icount

# The deterministic instruction-count benchmark alone (bench/README.md):
# BENCH_ROUNDS (3), BENCH_BOOTS (2), BENCH_ARGS (guest parameters),
# FPT_KERNELS, BENCH_UPDATE_README=1
bench-icount: deps
	BENCH_ROUNDS=$(BENCH_ROUNDS) BENCH_BOOTS=$(BENCH_BOOTS) BENCH_ARGS="$(BENCH_ARGS)" \
		BENCH_UPDATE_README=$(BENCH_UPDATE_README) bash bench/run.sh icount

# the host part alone (real hardware, no fpt): build/bench/host/raw.txt
bench-host:
	bash bench/host.sh

# --- install / uninstall --------------------------------------------------------
install: install-bin install-config install-unit install-man install-completion install-doc

install-bin: tools fpt-sim daemon
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(FPTD_BIN) $(DESTDIR)$(SBINDIR)/fptd
	$(INSTALL) -m 0755 $(FPTCTL_BIN) $(DESTDIR)$(SBINDIR)/fptctl
	$(INSTALL) -m 0755 $(FPTSIM_BIN) $(DESTDIR)$(BINDIR)/fpt-sim

# An fptd.conf that is there already is the administrator's: kept.
install-config:
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/fpt/policy.d
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf"; \
	else \
		echo "$(INSTALL) -m 0644 daemon/fptd.conf $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf"; \
		$(INSTALL) -m 0644 $(TOP)/daemon/fptd.conf $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf; \
	fi

# The unit names /usr/sbin/fptd; another SBINDIR is written into it.
install-unit:
	$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|/usr/sbin/fptd|$(SBINDIR)/fptd|g' \
		$(TOP)/systemd/fptd.service >$(DESTDIR)$(UNITDIR)/fptd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fptd.service

install-man: man
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 $(MAN_BUILD)/fpt-sim.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(MAN_BUILD)/fptd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(MAN_BUILD)/fpt.7 $(DESTDIR)$(MANDIR)/man7/
	$(INSTALL) -m 0644 $(MAN_BUILD)/fptctl.8 $(MAN_BUILD)/fptd.8 $(DESTDIR)$(MANDIR)/man8/

install-completion:
	$(INSTALL) -D -m 0644 $(TOP)/completion/fptctl.bash $(DESTDIR)$(BASHCOMPDIR)/fptctl

# Examples: a policy file, the systemd drop-ins that opt a service in,
# Prometheus alert rules and a Grafana dashboard for fpt.prom.
EXAMPLES := daemon/policy.conf.example:policy.conf \
	systemd/examples/postgresql.service.d/fpt.conf:systemd/postgresql.service.d/fpt.conf \
	systemd/examples/postgresql@.service.d/fpt.conf:systemd/postgresql@.service.d/fpt.conf \
	monitoring/fpt-alerts.yml:monitoring/fpt-alerts.yml \
	monitoring/grafana-dashboard.json:monitoring/grafana-dashboard.json
install-doc:
	$(INSTALL) -D -m 0644 $(TOP)/README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -D -m 0644 $(TOP)/daemon/README.md $(DESTDIR)$(DOCDIR)/fptd.md
	@set -e; for e in $(EXAMPLES); do \
		echo "$(INSTALL) -D -m 0644 $${e%%:*} $(DESTDIR)$(DOCDIR)/examples/$${e#*:}"; \
		$(INSTALL) -D -m 0644 $(TOP)/$${e%%:*} $(DESTDIR)$(DOCDIR)/examples/$${e#*:}; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fptd $(DESTDIR)$(SBINDIR)/fptctl $(DESTDIR)$(BINDIR)/fpt-sim
	rm -f $(DESTDIR)$(UNITDIR)/fptd.service
	rm -f $(DESTDIR)$(MANDIR)/man1/fpt-sim.1 $(DESTDIR)$(MANDIR)/man5/fptd.conf.5 $(DESTDIR)$(MANDIR)/man7/fpt.7 \
		$(DESTDIR)$(MANDIR)/man8/fptctl.8 $(DESTDIR)$(MANDIR)/man8/fptd.8
	rm -f $(DESTDIR)$(BASHCOMPDIR)/fptctl
	rm -rf $(DESTDIR)$(DOCDIR)
	@if [ -f $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf ] && \
	    ! cmp -s $(TOP)/daemon/fptd.conf $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf (changed)"; \
	else \
		rm -f $(DESTDIR)$(SYSCONFDIR)/fpt/fptd.conf; \
	fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/fpt/policy.d $(DESTDIR)$(SYSCONFDIR)/fpt 2>/dev/null
	@echo "kept: $(SYSCONFDIR)/fpt/policy.d/*.conf if any, /var/lib/fpt (fptd's runtime policies)"

# The module's dkms source tree: nothing but what building fpt.ko needs.
install-dkms-src:
	$(INSTALL) -d $(DESTDIR)$(DKMSDIR)/module $(DESTDIR)$(DKMSDIR)/include/uapi/linux
	sed 's/#MODULE_VERSION#/$(VERSION)/g' $(TOP)/dkms.conf.in >$(DESTDIR)$(DKMSDIR)/dkms.conf
	$(INSTALL) -m 0644 $(TOP)/VERSION $(DESTDIR)$(DKMSDIR)/VERSION
	$(INSTALL) -m 0644 $(MODULE_SRCS) $(DESTDIR)$(DKMSDIR)/module/
	$(INSTALL) -m 0644 $(TOP)/include/uapi/linux/fpt.h $(DESTDIR)$(DKMSDIR)/include/uapi/linux/

install-dkms: install-dkms-src
	@[ -z "$(DESTDIR)" ] || { echo "install-dkms: not with DESTDIR (use install-dkms-src)" >&2; exit 1; }
	dkms status -m fpt -v $(VERSION) | grep -q . || dkms add -m fpt -v $(VERSION)
	@if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo "dkms install -m fpt -v $(VERSION)"; dkms install -m fpt -v $(VERSION); \
	else \
		echo "no headers for $$(uname -r): dkms builds fpt when they are installed"; \
	fi

uninstall-dkms:
	-dkms remove -m fpt -v $(VERSION) --all
	rm -rf $(DESTDIR)$(DKMSDIR)

install-module:
	@[ -d "$(KDIR)" ] || { echo "error: $(KDIR) not found (set KDIR=<kernel headers dir>)" >&2; exit 1; }
	$(MAKE) -C module KDIR=$(KDIR) $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install

# --- clean ---------------------------------------------------------------------------
# What `make userspace` built (the Debian package's clean).
clean-userspace:
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools clean; fi
	$(MAKE) -C tools/fpt-sim clean
	$(MAKE) -C daemon clean BUILD=$(TOP)/build/daemon
	rm -rf $(MAN_BUILD)

clean: clean-userspace
	@if [ -f module/Makefile ]; then \
		kdir=$(KDIR); [ -d "$$kdir" ] || kdir=$(CURDIR)/build/kernels/6.12/kdir; \
		if [ -d "$$kdir" ]; then $(MAKE) -C module KDIR=$$kdir clean; fi; \
	fi
	@if [ -f tests/guest/Makefile ]; then $(MAKE) -C tests/guest clean; fi
	rm -rf build/vm build/guest build/tmp build/deb

distclean: clean
	rm -rf build
