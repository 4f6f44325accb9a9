#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz INIT_SCRIPT [FILE|DIR ...]
#
# Build a gzip'd newc initramfs for the test guests:
#   /bin/busybox (+ a symlink per applet)   from the host's busybox-static
#   /init                                    INIT_SCRIPT (run by busybox sh)
#   /fpt/<name>                              each FILE or DIR (recursively),
#                                            keeping its base name
#   /bin/bash                                only if a script in it needs bash
# Every ELF executable or shared object in the image gets its shared-library
# dependencies (as ldd resolves them on the host) and the dynamic loader
# copied to the same paths inside the image, so host-built dynamically
# linked programs run in the guest.  Programs of another architecture
# (arm64 guests): FOREIGN_LIBDIRS and FOREIGN_TRIPLET, see foreign_deps.
set -euo pipefail

usage() { echo "usage: $0 OUT.cpio.gz INIT_SCRIPT [FILE|DIR ...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
out=$1 init=$2
shift 2

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BUSYBOX=${BUSYBOX:-/bin/busybox}

[ -f "$init" ] || { echo "mkinitramfs: no init script $init" >&2; exit 1; }
[ -x "$BUSYBOX" ] || { echo "mkinitramfs: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }
for f in "$@"; do
	[ -e "$f" ] || { echo "mkinitramfs: no such file: $f" >&2; exit 1; }
done
# Make every path absolute: the image is staged from inside a temp dir.
abs() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s' "$PWD/$1" ;; esac; }
out=$(abs "$out") init=$(abs "$init")
files=()
for f in "$@"; do files+=("$(abs "$f")"); done

mkdir -p "$BUILD/tmp"
stage=$(mktemp -d "$BUILD/tmp/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

cd "$stage"
mkdir -p bin dev etc fpt lib lib64 mnt proc root run sys/fs/cgroup tmp var/tmp
ln -s bin sbin
mkdir usr
ln -s ../bin usr/bin
ln -s ../bin usr/sbin
chmod 1777 tmp var/tmp

cp "$BUSYBOX" bin/busybox
# One process for all the applet links (a loop of ln would fork ~270 times).
# A busybox of another architecture (BUSYBOX=build/sysroot-arm64/bin/busybox)
# cannot run here: Debian's busybox-static is built with one configuration
# for every architecture, so the host's lists the same applets.
bblist=$BUSYBOX
"$bblist" --list >/dev/null 2>&1 || bblist=/bin/busybox
"$bblist" --list | grep -vx busybox |
	perl -ne 'chomp; symlink("busybox", "bin/$_") or die "bin/$_: $!\n" unless -e "bin/$_"'

printf 'root:x:0:0:root:/root:/bin/sh\n' > etc/passwd
printf 'root:x:0:\n' > etc/group
ln -s /proc/mounts etc/mtab
# The kernel opens /dev/console for init before /init can mount devtmpfs;
# the node can only be made as root (guest-init.sh copes without it).
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 600 dev/console c 5 1
	mknod -m 666 dev/null c 1 3
fi

cp "$init" init
chmod 755 init

for f in ${files[@]+"${files[@]}"}; do
	# Dereference symlinks (build/kernels/... are links), keep modes.
	cp -RL --preserve=mode,timestamps -- "$f" fpt/
done

# Scripts written for bash (#!/bin/bash, #!/usr/bin/env bash) get the host's
# bash as /bin/bash; everything else runs with busybox sh.
if grep -rlsq -m1 -E '^#! ?(/usr)?/bin/(env )?bash' fpt init; then
	if [ "$bblist" != "$BUSYBOX" ]; then
		echo "mkinitramfs: a script needs bash, which only exists here for the host's architecture" >&2
		exit 1
	fi
	rm -f bin/bash
	cp -L "$(command -v bash)" bin/bash
fi

# --- shared libraries of ELF executables/shared objects -----------------------
is_dyn_elf() {
	# ELF magic and e_type ET_EXEC (2) or ET_DYN (3); skips .ko (ET_REL) etc.
	local hdr
	hdr=$(od -An -tx1 -N17 -- "$1" 2>/dev/null | tr -d ' \n') || return 1
	[ "${hdr:0:8}" = 7f454c46 ] && { [ "${hdr:32:2}" = 02 ] || [ "${hdr:32:2}" = 03 ]; }
}

# Another architecture's dynamic ELF (ldd cannot run it): its interpreter
# and NEEDED libraries, searched in FOREIGN_LIBDIRS (colon-separated; e.g.
# the cross C library /usr/aarch64-linux-gnu/lib and build/sysroot-arm64/
# usr/lib/aarch64-linux-gnu), go to the interpreter's path and to
# /lib/FOREIGN_TRIPLET/ (a directory the guest's ld.so searches without a
# cache), and are queued in turn.
foreign_find() {
	local d
	IFS=: read -r -a dirs <<<"${FOREIGN_LIBDIRS:-}"
	for d in ${dirs[@]+"${dirs[@]}"}; do
		[ -e "$d/$1" ] && { printf '%s\n' "$d/$1"; return 0; }
	done
	return 1
}
foreign_deps() {
	local f=$1 interp lib src dst
	if [ -z "${FOREIGN_LIBDIRS:-}" ] || [ -z "${FOREIGN_TRIPLET:-}" ]; then
		echo "mkinitramfs: $f: dynamically linked for another architecture (link it statically or set FOREIGN_LIBDIRS)" >&2
		return 1
	fi
	interp=$(LC_ALL=C readelf -lW -- "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
	if [ -n "$interp" ] && [ -z "${copied[$interp]:-}" ]; then
		src=$(foreign_find "$(basename "$interp")") ||
			{ echo "mkinitramfs: $f: interpreter $interp not in FOREIGN_LIBDIRS" >&2; return 1; }
		copied[$interp]=1
		mkdir -p "./$(dirname "$interp")"
		cp -L -- "$src" "./$interp"
	fi
	for lib in $(LC_ALL=C readelf -dW -- "$f" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]$/\1/p'); do
		dst=/lib/$FOREIGN_TRIPLET/$lib
		[ -n "${copied[$dst]:-}" ] && continue
		[ "$lib" = "$(basename "${interp:-/}")" ] && continue
		src=$(foreign_find "$lib") ||
			{ echo "mkinitramfs: $f: $lib not in FOREIGN_LIBDIRS" >&2; return 1; }
		copied[$dst]=1
		mkdir -p "./lib/$FOREIGN_TRIPLET"
		cp -L -- "$src" ".$dst"
		queue+=(".$dst")
	done
}

declare -A copied=()
queue=()
while IFS= read -r -d '' f; do
	is_dyn_elf "$f" && queue+=("$f")
done < <(find fpt bin -type f -print0)

status=0
while [ ${#queue[@]} -gt 0 ]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	# ldd fails ("not a dynamic executable") for static binaries: nothing to
	# do.  It fails too for another architecture's programs: those get
	# their libraries from FOREIGN_LIBDIRS (below), or must be static.
	if ! deps=$(ldd -- "$f" 2>/dev/null); then
		if LC_ALL=C readelf -lW -- "$f" 2>/dev/null | grep -q 'Requesting program interpreter\|Shared library' ||
		   LC_ALL=C readelf -dW -- "$f" 2>/dev/null | grep -q '(NEEDED)'; then
			foreign_deps "$f" || status=1
		fi
		continue
	fi
	while read -r line; do
		case $line in
		*"=> not found"*)
			echo "mkinitramfs: $f: ${line%% *} not found on the host" >&2
			status=1; continue ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;          # the dynamic loader
		*) continue ;;                    # linux-vdso.so.1 etc.
		esac
		[ -n "${copied[$lib]:-}" ] && continue
		copied[$lib]=1
		mkdir -p "./$(dirname "$lib")"
		cp -L -- "$lib" "./$lib"
		queue+=("./$lib")
	done <<<"$deps"
done
[ "$status" -eq 0 ] || exit 1

# --- archive -------------------------------------------------------------------
mkdir -p "$(dirname "$out")"
find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet -R 0:0 | gzip -1 > "$out.tmp"
mv -f "$out.tmp" "$out"
