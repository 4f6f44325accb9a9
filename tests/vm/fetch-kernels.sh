#!/bin/bash
# fetch-kernels.sh [ARCH...]   (ARCH: amd64 (default), arm64)
# fetch-kernels.sh --source [SERIES...]   (SERIES: 6.1, 6.12; default both)
#
# Fetch Debian's real kernels and their matching headers into the build
# directory, without installing anything on the host:
#   6.1  from bookworm            (no multi-size THP)
#   6.12 from bookworm-backports  (multi-size THP)
# A private apt state per architecture adds bookworm-backports from the same
# mirror the host's apt already uses.  Versions are resolved from the
# metapackages linux-image-ARCH / linux-headers-ARCH of each suite.
#
# Result, per kernel release KVER (amd64 under kernels/, arm64 under
# kernels-arm64/):
#   $BUILD/kernels[-arm64]/KVER/vmlinuz    bootable image
#   $BUILD/kernels[-arm64]/KVER/root/      image + headers + kbuild unpacked
#   $BUILD/kernels[-arm64]/KVER/kdir       symlink: headers dir to build against
#   $BUILD/kernels[-arm64]/<series>        symlink: 6.1 / 6.12 -> KVER
#
# arm64 is cross-built from this (amd64) machine: its headers come with the
# arch-independent -common headers and the HOST's (amd64) linux-kbuild of the
# same version (fixdep, modpost, ... must run here; both are LP64 little-
# endian, so modpost's device-table offsets agree).  arm64 also gets a
# user-space sysroot for the guests, $BUILD/sysroot-arm64/ (dpkg -x of
# busybox-static, libmnl and libsystemd with their libraries, for arm64:
# fpt-nl and fptctl are linked against them).
#
# The amd64 run also unpacks the emulator that boots the amd64 guests:
# bookworm-backports' qemu-system-x86 with its firmware (qemu-system-data,
# seabios) in $BUILD/qemu/VERSION/root, and $BUILD/qemu/x86 -> VERSION.
# Bookworm's own QEMU 7.2 cannot boot them with two vCPUs: its multi-threaded
# TCG goes on running a translation of kernel text another vCPU has just
# patched back, so a CPU executes the int3 of a text_poke_bp() that has
# already finished, and the kernel dies with "Oops: int3" (ftrace, static
# keys; with fpt.ko never loaded; README, "Tests").  It is only unpacked:
# it runs on the libraries of bookworm's qemu-system-x86, which
# tests/deps.sh installs.
#
# --source unpacks Debian's linux-source-SERIES of the same suite (the same
# upload as the image) into $BUILD/src/SERIES: the mm selftests and the debug
# kernel are built from it.
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"   # fpt_mirror
HOSTARCH=$(dpkg --print-architecture)
KEY=/usr/share/keyrings/debian-archive-keyring.gpg

# apt_state ARCH: set APT and APTOPT for a private apt state that serves
# ARCH (and the host's architecture, for kbuild) from bookworm and
# bookworm-backports; update its lists once a day.
apt_state() {
	local arch=$1 m stamp archs
	if [ "$arch" = "$HOSTARCH" ]; then
		APT=$BUILD/apt archs=$arch
	else
		APT=$BUILD/apt-$arch archs=$arch,$HOSTARCH
	fi
	mkdir -p "$APT/state/lists/partial" "$APT/cache/archives/partial" "$APT/etc"
	m=$(fpt_mirror)
	cat > "$APT/etc/sources.list" <<-SRC
	deb [signed-by=$KEY arch=$archs] $m bookworm main
	deb [signed-by=$KEY arch=$archs] $m bookworm-backports main
	SRC
	APTOPT=(-o Dir::Etc::SourceList="$APT/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State="$APT/state" -o Dir::State::status=/var/lib/dpkg/status
		-o Dir::Cache="$APT/cache" -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0
		-o APT::Sandbox::User=root)
	if [ "$arch" != "$HOSTARCH" ]; then
		APTOPT+=(-o APT::Architecture="$arch" -o APT::Architectures::="$arch"
			-o APT::Architectures::="$HOSTARCH")
	fi
	stamp=$APT/updated
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		apt-get "${APTOPT[@]}" -qq update
		touch "$stamp"
	fi
}

# candidate version of package $1 in suite $2
version_in() {
	apt-cache "${APTOPT[@]}" madison "$1" | awk -v s="$2" '$0 ~ " "s"/main" { print $3; exit }'
}

# The flavour headers' Makefile is one line, "include /usr/src/linux-headers-
# KVER-common/Makefile": an absolute path that only exists when the package is
# installed.  Point it at the unpacked sibling, relative to the Makefile's own
# location so the tree still works if build/ moves.  Idempotent.
relocate_headers() {
	local mk=$1
	grep -q '^include /usr/src/' "$mk" || return 0
	# shellcheck disable=SC2016 # $(...) is make syntax, written literally
	sed -i 's|^include /usr/src/|include $(dir $(realpath $(lastword $(MAKEFILE_LIST))))../|' "$mk"
}

# fetch ARCH <series> <suite>
fetch() {
	local arch=$1 series=$2 suite=$3 ver dep kver dir pkgs p top
	top=$BUILD/kernels
	[ "$arch" = "$HOSTARCH" ] || top=$BUILD/kernels-$arch
	mkdir -p "$top"
	ver=$(version_in "linux-image-$arch" "$suite")
	[ -n "$ver" ] || { echo "fetch-kernels: no linux-image-$arch in $suite" >&2; exit 1; }
	dep=$(apt-cache "${APTOPT[@]}" show "linux-image-$arch:$arch=$ver" | awk -F': ' '/^Depends:/ { print $2; exit }')
	# "linux-image-6.1.0-41-amd64 (= ...)" or "linux-image-6.12.57+deb12-arm64 (...)"
	kver=$(echo "$dep" | grep -o "linux-image-[0-9][^ ,]*-$arch" | head -n1 | sed 's/^linux-image-//')
	dir=$top/$kver
	if [ ! -e "$dir/.done" ]; then
		echo "fetch-kernels: $series ($arch) -> $kver ($suite)"
		rm -rf "$dir"; mkdir -p "$dir/debs" "$dir/root"
		# image (unsigned: no shim needed), headers, common headers, kbuild
		pkgs="linux-image-$kver-unsigned:$arch linux-headers-$kver:$arch"
		for p in $(apt-cache "${APTOPT[@]}" show "linux-headers-$kver:$arch" | awk -F': ' '/^Depends:/ { print $2; exit }' |
			   tr ',' '\n' | grep -o 'linux-\(headers\|kbuild\)-[^ ]*'); do
			case $p in
			linux-kbuild-*) pkgs="$pkgs $p:$HOSTARCH" ;;  # runs on this machine
			*) pkgs="$pkgs $p" ;;                         # -common: Architecture: all
			esac
		done
		# shellcheck disable=SC2086 # $pkgs is a word list
		(cd "$dir/debs" && apt-get "${APTOPT[@]}" -qq download $pkgs)
		for p in "$dir"/debs/*.deb; do dpkg -x "$p" "$dir/root"; done
		cp "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinuz"
		ln -sfn "root/usr/src/linux-headers-$kver" "$dir/kdir"
		rm -rf "$dir/debs"
		touch "$dir/.done"
	fi
	relocate_headers "$dir/root/usr/src/linux-headers-$kver/Makefile"
	ln -sfn "$kver" "$top/$series"
}

# sysroot ARCH: user space of the guests for a foreign architecture.
# .done holds the package list; a changed list fetches the sysroot again.
SYSROOT_PKGS="busybox-static libmnl0 libmnl-dev libsystemd0 libsystemd-dev libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1"
sysroot() {
	local arch=$1 dir=$BUILD/sysroot-$1 p pkgs=()
	[ "$(cat "$dir/.done" 2>/dev/null)" = "$SYSROOT_PKGS" ] && return 0
	echo "fetch-kernels: user-space sysroot for $arch"
	rm -rf "$dir"; mkdir -p "$dir/debs"
	for p in $SYSROOT_PKGS; do pkgs+=("$p:$arch"); done  # a word list
	(cd "$dir/debs" && apt-get "${APTOPT[@]}" -qq download "${pkgs[@]}")
	for p in "$dir"/debs/*.deb; do dpkg -x "$p" "$dir"; done
	rm -rf "$dir/debs"
	echo "$SYSROOT_PKGS" >"$dir/.done"
}

# source <series> <suite>: Debian's kernel source tree in $BUILD/src/<series>
source_tree() {
	local series=$1 suite=$2 ver dir=$BUILD/src/$1 tmp
	ver=$(version_in "linux-source-$series" "$suite")
	[ -n "$ver" ] || { echo "fetch-kernels: no linux-source-$series in $suite" >&2; exit 1; }
	if [ -e "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$ver" ]; then return 0; fi
	echo "fetch-kernels: source $series -> linux-source-$series $ver ($suite)"
	rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp/deb" "$dir"
	tmp=$dir.tmp
	(cd "$tmp" && apt-get "${APTOPT[@]}" -qq download "linux-source-$series=$ver")
	dpkg -x "$tmp"/linux-source-*.deb "$tmp/deb"
	tar -C "$dir" --strip-components=1 -xaf "$tmp/deb/usr/src/linux-source-$series.tar.xz"
	rm -rf "$tmp"
	echo "$ver" > "$dir/.done"
}

# emulator: see the head of this file.  The directory is named after the
# version; .done marks it complete.
emulator() {
	local ver dir p
	ver=$(version_in qemu-system-x86 bookworm-backports)
	[ -n "$ver" ] || { echo "fetch-kernels: no qemu-system-x86 in bookworm-backports" >&2; exit 1; }
	dir=$BUILD/qemu/$(printf '%s' "$ver" | tr -c 'A-Za-z0-9.+\n-' _)
	if [ ! -e "$dir/.done" ]; then
		echo "fetch-kernels: emulator -> qemu-system-x86 $ver (bookworm-backports)"
		rm -rf "$dir"; mkdir -p "$dir/debs" "$dir/root"
		(cd "$dir/debs" && apt-get "${APTOPT[@]}" -qq download "qemu-system-x86=$ver" \
			"qemu-system-data=$ver" seabios/bookworm-backports)
		for p in "$dir"/debs/*.deb; do dpkg -x "$p" "$dir/root"; done
		rm -rf "$dir/debs"
		if ldd "$dir/root/usr/bin/qemu-system-x86_64" | grep 'not found' >&2; then
			echo "fetch-kernels: $dir/root/usr/bin/qemu-system-x86_64 lacks the libraries above" \
				"(apt-get install qemu-system-x86 brings them: tests/deps.sh)" >&2
			exit 1
		fi
		"$dir/root/usr/bin/qemu-system-x86_64" --version | head -n1
		echo "$ver" >"$dir/.done"
	fi
	ln -sfn "$(basename "$dir")" "$BUILD/qemu/x86"
}

if [ "${1:-}" = --source ]; then
	shift
	[ $# -gt 0 ] || set -- 6.1 6.12
	apt_state "$HOSTARCH"
	for series in "$@"; do
		case $series in
		6.1) source_tree 6.1 bookworm ;;
		6.12) source_tree 6.12 bookworm-backports ;;
		*) echo "fetch-kernels: no source series $series" >&2; exit 2 ;;
		esac
	done
	exit 0
fi

[ $# -gt 0 ] || set -- "$HOSTARCH"
for arch in "$@"; do
	case $arch in amd64|arm64) ;; *) echo "fetch-kernels: unknown arch $arch" >&2; exit 2 ;; esac
	apt_state "$arch"
	fetch "$arch" 6.1 bookworm
	fetch "$arch" 6.12 bookworm-backports
	[ "$arch" = "$HOSTARCH" ] || sysroot "$arch"
	[ "$arch" != amd64 ] || emulator
	if [ "$arch" = "$HOSTARCH" ]; then ls -l "$BUILD/kernels"; else ls -l "$BUILD/kernels-$arch"; fi
done
