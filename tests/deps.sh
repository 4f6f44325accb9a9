#!/bin/bash
# Install the host packages that building fpt and running its emulator tests
# need, on Debian 12 (bookworm).  Idempotent: asks dpkg what is installed and
# runs apt-get (update + install) only when something is missing.
#
# To add a package, extend FPT_PACKAGES below.  One-off additions can also be
# passed in the environment: FPT_EXTRA_PACKAGES="foo bar" bash tests/deps.sh
set -euo pipefail

FPT_PACKAGES=(
	build-essential        # gcc, make: module and guest programs
	bc flex bison          # kbuild
	libelf-dev             # kbuild (objtool, module signing helpers)
	kmod                   # modinfo, depmod
	cpio xz-utils          # initramfs, unpacking
	busybox-static         # guest userland
	qemu-system-x86        # the guest machine (TCG)
	qemu-system-arm        # arm64 guests (qemu-system-aarch64, TCG)
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # cross-build module + guest programs for arm64
	qemu-utils             # qemu-img: qcow2 overlays of the e2e root disk
	debootstrap e2fsprogs  # the e2e test's Debian root file system (mke2fs -d)
	libmnl-dev             # netlink in tools and guest programs
	libcmocka-dev          # unit tests
	libkmod-dev libsystemd-dev libinih-dev  # fptd
	clang libclang-rt-14-dev  # tests/fuzz (libFuzzer)
	pkg-config
	dkms
	debian-archive-keyring # fetch-kernels.sh verifies Debian's archive with it
	python3
	redis-server redis-tools memcached  # bench: servers copied into the guests
	gnuplot-nox            # bench: the chart
	stress-ng              # robustness series: copied into the guests
	libnuma-dev libcap-dev liburing-dev  # static libs of the kernel's mm selftests
	dpkg-dev debhelper dh-dkms lintian  # make deb: the Debian packages
	man-db groff-base      # make check-pkg: man --warnings, lexgrog
	prometheus             # make check-pkg: promtool (rules, dashboard)
)
# shellcheck disable=SC2206 # word splitting of the extra list is intended
FPT_PACKAGES+=(${FPT_EXTRA_PACKAGES:-})

missing=()
# One dpkg-query call for the whole list; unknown packages print nothing on
# stdout (and a message on stderr, which is dropped).
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${FPT_PACKAGES[@]}" 2>/dev/null |
	awk '$2 == "installed" { print $1 }' || true)
for p in "${FPT_PACKAGES[@]}"; do
	grep -qxF -- "$p" <<<"$installed" || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
