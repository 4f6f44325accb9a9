# fpt: top-level targets.
#
#   make            build the module against KDIR (default: the running
#                   kernel's headers, if installed), lib/libfpt.a, fptctl
#                   (tools/), fpt-sim and the guest programs
#   make deps       install the host packages (Debian 12; apt, needs root/sudo)
#   make check      the test suite: the unit tests (tests/unit, cmocka with
#                   sanitizers), then module + tests in qemu guests running
#                   Debian's 6.1 and 6.12 kernels (tests/vm/check.sh); the
#                   last line counts all, with the end-to-end test on a
#                   Debian root file system booted with systemd (series
#                   6.12-systemd)
#   make check-systemd  that end-to-end test alone: debootstrap'd Debian
#                   (cached in build/rootfs), make install + dkms in the
#                   guest, fptd under systemd, fptctl (tests/vm/systemd.sh)
#   make demo       boot the same guests and run the demo script
#   make bench      benchmarks: 4 KB vs fpt vs the kernel's 64 KB mTHP vs
#                   2 MB THP on 6.1 and 6.12 guests, one boot each
#                   (bench/README.md; results in build/bench/).
#                   BENCH_HOST=1 adds the host kernel (no fpt);
#                   BENCH_UPDATE_README=1 writes the summary into
#                   bench/README.md
#   make install    install the module (and the tools, once there are any)
#   make clean      remove build products (keeps the downloaded kernels)
#   make distclean  also remove build/ (downloaded kernels included)
#
# check/demo settings (environment): FPT_KERNELS="6.1 6.12", FPT_TESTS=a,b,
# FPT_TIMEOUT=900, FPT_VERBOSE=1 ... see tests/vm/check.sh.

KDIR    ?= /lib/modules/$(shell uname -r)/build
DESTDIR ?=
PREFIX  ?= /usr/local

.PHONY: all module lib tools guest fpt-sim daemon unit deps check check-systemd demo install install-module install-tools install-daemon clean distclean

all: module lib tools guest fpt-sim daemon

lib:
	$(MAKE) -C lib

tools: lib
	$(MAKE) -C tools

fpt-sim:
	$(MAKE) -C tools/fpt-sim

# fptd (daemon/): build/daemon/fptd
daemon:
	$(MAKE) -C daemon

module:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C module KDIR=$(KDIR); \
	else \
		echo "note: $(KDIR) not found: module not built (set KDIR=<kernel headers dir>;"; \
		echo "      'make check' builds it against the test kernels)"; \
	fi

guest:
	@if [ -f tests/guest/Makefile ]; then $(MAKE) -C tests/guest; fi

deps:
	bash tests/deps.sh

# The unit tests write build/unit-results ("passed failed"); check.sh adds
# them into its closing "N passed, N failed" line.  A unit failure does not
# stop the guest tests: the summary and check.sh's exit status tell.
unit:
	$(MAKE) -C tests/unit check

check: deps
	-@rm -f build/unit-results
	-$(MAKE) -C tests/unit check
	FPT_UNIT_RESULTS=$(CURDIR)/build/unit-results bash tests/vm/check.sh

# The systemd end-to-end series alone; `make check` runs it as well.
check-systemd: deps
	FPT_KERNELS=6.12-systemd bash tests/vm/check.sh

demo: deps
	bash tests/vm/demo.sh

bench: deps
	BENCH_ROUNDS=$(BENCH_ROUNDS) BENCH_ARGS="$(BENCH_ARGS)" BENCH_HOST=$(BENCH_HOST) \
		BENCH_UPDATE_README=$(BENCH_UPDATE_README) bash bench/run.sh

# the host part alone (real hardware, no fpt): build/bench/host/raw.txt
bench-host:
	bash bench/host.sh

install: install-module install-tools install-daemon

install-module:
	@[ -d "$(KDIR)" ] || { echo "error: $(KDIR) not found (set KDIR=<kernel headers dir>)" >&2; exit 1; }
	$(MAKE) -C module KDIR=$(KDIR) $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install

# Hook for the user-space tools: once tools/ has a Makefile with an
# `install` target honouring DESTDIR and PREFIX, it is installed here.
install-tools:
	@if [ -f tools/Makefile ]; then \
		$(MAKE) -C tools install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX); \
	fi
	$(MAKE) -C tools/fpt-sim install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# fptd: /usr/sbin/fptd, /etc/fpt/fptd.conf (kept if present), the systemd
# unit in /lib/systemd/system (daemon/Makefile; PREFIX there is /usr)
install-daemon:
	$(MAKE) -C daemon install DESTDIR=$(DESTDIR)

clean:
	@if [ -f module/Makefile ]; then \
		kdir=$(KDIR); [ -d "$$kdir" ] || kdir=$(CURDIR)/build/kernels/6.12/kdir; \
		if [ -d "$$kdir" ]; then $(MAKE) -C module KDIR=$$kdir clean; fi; \
	fi
	@if [ -f tests/guest/Makefile ]; then $(MAKE) -C tests/guest clean; fi
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools clean; fi
	$(MAKE) -C tools/fpt-sim clean
	$(MAKE) -C daemon clean
	rm -rf build/vm build/guest build/tmp

distclean: clean
	rm -rf build
