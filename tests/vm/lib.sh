# shellcheck shell=bash disable=SC2034 # FPT_ERR etc. are read by the sourcing script
# Shared steps of check.sh and demo.sh (sourced, not run).
#
# Layout (all under build/, which is git-ignored):
#   build/kernels/<series>/{vmlinuz,kdir}   fetch-kernels.sh (amd64)
#   build/kernels-arm64/<kseries>/...       fetch-kernels.sh arm64, for the
#                                           series <kseries>-arm64 (6.12-arm64)
#   build/sysroot-arm64/                    arm64 busybox-static, libmnl
#   build/guest/bin/                        guest programs (tests/guest)
#   build/guest-arm64/bin/                  the same, cross-built (static but
#                                           fpt-nl and fptctl)
#   build/vm/<series>/fpt.ko                module built for that kernel
#   build/vm/<series>/<module>.ko           test-only modules (tests/modules/*),
#                                           same kernel
#   build/vm/<series>/build.log             its build output
#   build/vm/<series>/initramfs.cpio.gz     the guest's root file system
#   build/vm/<series>/console.log           serial console of the last boot
#
# Overridable (mostly for testing the rig itself):
#   FPT_MODULE_DIR   module source dir        (default: module)
#   FPT_MODULE_NAME  module name, NAME.ko     (default: fpt)
#   FPT_GUEST_DIR    guest programs + scripts (default: tests/guest)
#   FPT_EXTRA_FILES  more files/dirs for /fpt in the guest (space separated)

FPT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FPT_BUILD=${BUILD:-$FPT_ROOT/build}
export BUILD=$FPT_BUILD
FPT_VM=$FPT_BUILD/vm
FPT_TOOLS=$FPT_ROOT/tests/vm
FPT_MODULE_DIR=${FPT_MODULE_DIR:-$FPT_ROOT/module}
FPT_MODULE_NAME=${FPT_MODULE_NAME:-fpt}
FPT_GUEST_DIR=${FPT_GUEST_DIR:-$FPT_ROOT/tests/guest}
FPT_GUEST_BIN=$FPT_BUILD/guest/bin
FPT_JOBS=${FPT_JOBS:-$(nproc)}
FPT_ERR=   # reason of the last failure of fpt_build_module
mkdir -p "$FPT_VM"

# Serialise runs: they share module/ and build/.
fpt_lock() {
	exec 9>"$FPT_VM/.lock"
	if ! flock -n 9; then
		echo "waiting for another check/demo run to finish..." >&2
		flock 9
	fi
}

# Print the last N lines of a file, indented.
# Terminal escapes (the firmware's screen resets) are dropped.
fpt_tail() {
	tail -n "$1" "$2" | tr -d '\r' |
		sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[A-Za-z]//g' -e 's/^/    | /'
}
# The same for a make log, without make's "Entering/Leaving directory" noise.
fpt_make_tail() {
	grep -v -e ': Entering directory' -e ': Leaving directory' "$2" | tail -n "$1" | sed 's/^/    | /'
}

# fpt_mirror: the first Debian mirror URI the host's apt configuration serves
# bookworm from (fetch-kernels.sh and mkrootfs.sh use the same one; no mirror
# name is written into the repository).  Exits (the subshell of $(...)) with
# status 1 if there is none.
fpt_mirror() {
	local f u
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		u=$(awk 'BEGIN{RS="";FS="\n"} /Suites:[^\n]*bookworm([ \n]|$)/ && !/security/ {
			for (i=1;i<=NF;i++) if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/,"",$i); split($i,a," "); print a[1]; exit } }' "$f")
		[ -n "$u" ] && { echo "$u"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] || continue
		u=$(awk '$1=="deb" && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1)=="bookworm") { print $i; exit } } }' "$f")
		[ -n "$u" ] && { echo "$u"; return; }
	done
	echo "fpt_mirror: no bookworm mirror in the host's apt sources" >&2
	exit 1
}

# A series "<kernel series>-arm64" (6.12-arm64, 6.1-arm64) is Debian's
# arm64 kernel, cross-built for and booted under qemu-system-aarch64; every
# other series is amd64.
fpt_series_arch() { case $1 in *-arm64) echo arm64 ;; *) echo amd64 ;; esac; }
# The architectures of a list of series, each once (amd64 if none).
fpt_arches() {
	local s a out=""
	for s in "$@"; do
		a=$(fpt_series_arch "${s%-systemd}")
		case " $out " in *" $a "*) ;; *) out="$out $a" ;; esac
	done
	echo "${out# }"
}
# kbuild's make arguments for a series (cross-compiling for arm64).
fpt_kmake_args() {
	case $(fpt_series_arch "$1") in
	arm64) echo "ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-" ;;
	esac
}

# fpt_fetch_kernels [ARCH...]: the kernels of those architectures (amd64
# by default).
fpt_fetch_kernels() {
	bash "$FPT_TOOLS/fetch-kernels.sh" "$@" >"$FPT_VM/fetch.log" 2>&1
}

# fpt_qemu_x86: set FPT_QEMU_X86 (an array) to the command that boots the
# amd64 guests: bookworm-backports' qemu-system-x86 that fetch-kernels.sh
# unpacks under build/qemu/x86 (bookworm's QEMU 7.2 executes stale int3s of
# finished kernel text patches with two vCPUs: fetch-kernels.sh), with its
# own firmware, and -audio none: probing an audio backend (or a display) would
# try to load the host QEMU 7.2's modules, which refuse noisily.  The
# environment variable FPT_QEMU_X86_BIN names another binary instead.
fpt_qemu_x86() {
	local q=$FPT_BUILD/qemu/x86/root
	if [ -n "${FPT_QEMU_X86_BIN:-}" ]; then
		FPT_QEMU_X86=("$FPT_QEMU_X86_BIN")
		return 0
	fi
	if [ ! -x "$q/usr/bin/qemu-system-x86_64" ]; then
		echo "no $q/usr/bin/qemu-system-x86_64: run tests/vm/fetch-kernels.sh" >&2
		return 1
	fi
	FPT_QEMU_X86=("$q/usr/bin/qemu-system-x86_64" -L "$q/usr/share/qemu"
		-L "$q/usr/share/seabios" -audio none)
}

# fpt_kdir KERNEL: the directory holding vmlinuz and kdir/ (headers) of a
# kernel series: build/kernels/<K> for Debian's amd64 kernels and
# build/kernels-arm64/<K without -arm64> for the arm64 ones
# (fetch-kernels.sh), build/debug-kernel/<K without -debug> for the debug
# kernel that tests/debug/build-kernel.sh makes (series 6.12-debug).
fpt_kdir() {
	case $1 in
	*-arm64) printf '%s\n' "$FPT_BUILD/kernels-arm64/${1%-arm64}" ;;
	*-debug) printf '%s\n' "$FPT_BUILD/debug-kernel/${1%-debug}" ;;
	*) printf '%s\n' "$FPT_BUILD/kernels/$1" ;;
	esac
}

# The kernel release a series resolves to (e.g. 6.12 -> 6.12.95+deb12-amd64).
fpt_kver() {
	local d
	d=$(fpt_kdir "$1")
	if [ -f "$d/release" ]; then cat "$d/release"; else basename "$(readlink -f "$d")"; fi
}

# fpt_build_guest [ARCH]: build the guest programs once per architecture
# (kernel-independent; default amd64) into $FPT_GUEST_BIN (amd64) or
# build/guest-ARCH/bin (cross-compiled, linked statically: the guest has no
# foreign C library).  Sets FPT_GUEST_BIN and FPT_GUEST_BINS[ARCH] to the
# dir actually holding them ("" if none).  Returns non-zero if make failed
# (log: build/vm/guest-build[-ARCH].log); the programs that did build are
# kept.
declare -A FPT_GUEST_BINS=()
fpt_build_guest() {
	local arch=${1:-amd64} log=$FPT_VM/guest-build.log bin=$FPT_GUEST_BIN rc=0
	local margs=() nlargs=() ctlargs=() sr=$FPT_BUILD/sysroot-${1:-amd64}
	if [ "$arch" != amd64 ]; then
		log=$FPT_VM/guest-build-$arch.log
		bin=$FPT_BUILD/guest-$arch/bin
		# Static, except fpt-nl and fptctl: Debian ships libmnl and
		# libsystemd only as shared libraries (the arm64 ones are in
		# build/sysroot-arm64; mkinitramfs copies them and the cross C
		# library into the image).  fptctl's objects (and libfpt.a's)
		# go to build/guest-arm64/obj, not over the host's.
		margs=(CC=aarch64-linux-gnu-gcc LDFLAGS=-static
			PROGS="fpt-touch fpt-integrity fpt-frag fpt-uffd fpt-shm")
		nlargs=(CC=aarch64-linux-gnu-gcc PROGS=fpt-nl
			MNL_CFLAGS="-I$sr/usr/include"
			MNL_LIBS="-L$sr/usr/lib/aarch64-linux-gnu -lmnl")
		ctlargs=(CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar PKG_CONFIG=false
			LIB_O="$FPT_BUILD/guest-$arch/obj" OUT="$FPT_BUILD/guest-$arch/obj/fptctl"
			BIN="$bin" CPPFLAGS="-I$sr/usr/include"
			LDFLAGS="-L$sr/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,$sr/usr/lib/aarch64-linux-gnu:$sr/lib/aarch64-linux-gnu")
	fi
	: >"$log"
	if [ ! -f "$FPT_GUEST_DIR/Makefile" ]; then
		echo "no $FPT_GUEST_DIR/Makefile: no guest programs" >>"$log"
		FPT_GUEST_BIN='' FPT_GUEST_BINS[$arch]=''
		return 0
	fi
	rm -rf "$bin"
	mkdir -p "$bin"
	make -C "$FPT_GUEST_DIR" -j"$FPT_JOBS" BIN="$bin" ${margs[@]+"${margs[@]}"} >>"$log" 2>&1 || rc=$?
	if [ ${#nlargs[@]} -gt 0 ]; then
		make -C "$FPT_GUEST_DIR" BIN="$bin" "${nlargs[@]}" >>"$log" 2>&1 || rc=$?
	fi
	if [ ${#ctlargs[@]} -gt 0 ]; then
		make -C "$FPT_ROOT/tools" -j"$FPT_JOBS" "${ctlargs[@]}" >>"$log" 2>&1 || rc=$?
	fi
	# A Makefile that ignores BIN= and uses its own bin/ is fine too.
	if [ "$arch" = amd64 ] && [ -z "$(ls -A "$bin")" ] && [ -d "$FPT_GUEST_DIR/bin" ]; then
		bin=$FPT_GUEST_DIR/bin
	fi
	# After a failed make, whatever did build is still shipped.
	[ -n "$(ls -A "$bin")" ] || bin=
	FPT_GUEST_BINS[$arch]=$bin
	[ "$arch" = amd64 ] && FPT_GUEST_BIN=$bin
	return "$rc"
}

# fpt_kbuild SERIES SRCDIR NAME LOG [KERNEL]: clean + build the kbuild module
# SRCDIR/NAME.ko against the headers of KERNEL (default: SERIES; the
# robustness series build for the kernel they run), cross-compiled for arm64
# series; copy it to build/vm/SERIES/.  On failure returns non-zero with
# the reason in FPT_ERR (make's output: build/vm/SERIES/LOG).
fpt_kbuild() {
	local s=$1 src=$2 name=$3 log=$FPT_VM/$1/$4 k=${5:-$1} kdir out ko kver vm kargs
	kdir=$(fpt_kdir "$k")/kdir
	read -r -a kargs <<<"$(fpt_kmake_args "$s")"
	out=$FPT_VM/$s
	ko=$src/$name.ko
	FPT_ERR=
	mkdir -p "$out"
	rm -f "$out/$name.ko"
	: >"$log"
	if [ ! -f "$src/Makefile" ]; then
		FPT_ERR="no $src/Makefile"; return 1
	fi
	# Clean first: objects of the other kernel must not leak into this build.
	make -C "$src" KDIR="$kdir" ${kargs[@]+"${kargs[@]}"} clean >>"$log" 2>&1 || true
	if ! make -C "$src" -j"$FPT_JOBS" KDIR="$kdir" ${kargs[@]+"${kargs[@]}"} \
		CONFIG_DEBUG_INFO_BTF_MODULES= >>"$log" 2>&1; then
		FPT_ERR="make failed (build/vm/$s/$4)"; return 1
	fi
	[ -f "$ko" ] || { FPT_ERR="make succeeded but $ko is missing"; return 1; }
	kver=$(fpt_kver "$k")
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null || true)
	case $vm in
	"$kver "*) ;;
	*) FPT_ERR="$name.ko vermagic '$vm' does not match $kver"; return 1 ;;
	esac
	cp "$ko" "$out/"
}

# fpt_build_module SERIES [KERNEL]: fpt.ko for that kernel (log:
# build/vm/SERIES/build.log).
fpt_build_module() {
	fpt_kbuild "$1" "$FPT_MODULE_DIR" "$FPT_MODULE_NAME" build.log "${2:-$1}"
}

# fpt_build_test_modules SERIES [KERNEL]: the test-only kernel modules, one per
# directory tests/modules/NAME/ (never installed: the page-table walker
# fpt_ptwalk, the livepatch fpt_test_klp, ...), built for that kernel into
# build/vm/SERIES/MODULE.ko for the guest (/fpt/MODULE.ko); logs in
# build/vm/SERIES/testmod-NAME.log.  Prints "NAME ok" or "NAME FAIL reason"
# per module, or "NAME SKIP reason" when the kernel lacks an option the
# module's Kbuild names in a "# requires: CONFIG_..." line; their objects
# are removed after.
fpt_build_test_modules() {
	local s=$1 k=${2:-$1} d name mod kargs req missing
	read -r -a kargs <<<"$(fpt_kmake_args "$s")"
	for d in "$FPT_ROOT"/tests/modules/*/; do
		[ -f "$d/Kbuild" ] || continue
		name=$(basename "$d")
		mod=$(sed -n 's/^obj-m[[:space:]]*:=[[:space:]]*\([A-Za-z0-9_]*\)\.o.*/\1/p' "$d/Kbuild")
		missing=
		for req in $(sed -n 's/^#[[:space:]]*requires:[[:space:]]*//p' "$d/Kbuild"); do
			grep -q "^$req=[ym]" "$(fpt_kdir "$k")/kdir/.config" || missing="$missing $req"
		done
		if [ -n "$missing" ]; then   # no stale module of an earlier build
			rm -f "$FPT_VM/$s/$mod.ko"
			echo "$name SKIP $(fpt_kver "$k") has no$missing"
			continue
		fi
		if fpt_kbuild "$s" "${d%/}" "$mod" "testmod-$name.log" "$k"; then
			echo "$name ok"
		else
			echo "$name FAIL $FPT_ERR"
		fi
		make -C "$d" KDIR="$(fpt_kdir "$k")/kdir" ${kargs[@]+"${kargs[@]}"} clean \
			>>"$FPT_VM/$s/testmod-$name.log" 2>&1 || true
	done
}

# fpt_initramfs SERIES: build/vm/SERIES/initramfs.cpio.gz with guest-init.sh
# as /init and, under /fpt: the module (if built), the guest programs (as
# /fpt/bin/...), every *.sh of the guest dir, the kernel package's
# /boot/config-KVER (run-tests.sh puts it in /boot, where an installed
# system has it) and FPT_EXTRA_FILES.
fpt_initramfs() {
	local s=$1 f files=() arch bin cfg
	arch=$(fpt_series_arch "$s")
	bin=${FPT_GUEST_BINS[$arch]-$FPT_GUEST_BIN}
	cfg=$(fpt_kdir "$s")/root/boot/config-$(fpt_kver "$s")
	[ -f "$cfg" ] && files+=("$cfg")
	[ -f "$FPT_VM/$s/$FPT_MODULE_NAME.ko" ] && files+=("$FPT_VM/$s/$FPT_MODULE_NAME.ko")
	for f in "$FPT_VM/$s"/*.ko; do   # the test-only modules
		[ "$f" = "$FPT_VM/$s/$FPT_MODULE_NAME.ko" ] || [ ! -f "$f" ] || files+=("$f")
	done
	if [ -n "$bin" ]; then
		if [ "$(basename "$bin")" = bin ]; then
			files+=("$bin")
		else   # mkinitramfs keeps base names; the guest expects /fpt/bin
			rm -rf "$FPT_VM/guest-stage" && mkdir -p "$FPT_VM/guest-stage"
			ln -s "$bin" "$FPT_VM/guest-stage/bin"
			files+=("$FPT_VM/guest-stage/bin")
		fi
	fi
	for f in "$FPT_GUEST_DIR"/*.sh; do
		[ -f "$f" ] && files+=("$f")
	done
	# shellcheck disable=SC2206 # space-separated list by design
	files+=(${FPT_EXTRA_FILES:-})
	if [ "$arch" != amd64 ]; then   # the guest's own busybox and libraries
		BUSYBOX=$FPT_BUILD/sysroot-$arch/bin/busybox FOREIGN_TRIPLET=aarch64-linux-gnu \
		FOREIGN_LIBDIRS=/usr/aarch64-linux-gnu/lib:$FPT_BUILD/sysroot-$arch/usr/lib/aarch64-linux-gnu:$FPT_BUILD/sysroot-$arch/lib/aarch64-linux-gnu \
		bash "$FPT_TOOLS/mkinitramfs.sh" "$FPT_VM/$s/initramfs.cpio.gz" "$FPT_TOOLS/guest-init.sh" \
			${files[@]+"${files[@]}"}
	else
		bash "$FPT_TOOLS/mkinitramfs.sh" "$FPT_VM/$s/initramfs.cpio.gz" "$FPT_TOOLS/guest-init.sh" \
			${files[@]+"${files[@]}"}
	fi
}

# fpt_append: the fpt.* kernel parameters for the guest (FPT_SCRIPT,
# FPT_TESTS, the guest watchdog) plus FPT_APPEND verbatim.
fpt_append() {
	local tmo=$1 a gt
	a="fpt.script=${FPT_SCRIPT:-run-tests.sh}"
	if [ -n "${FPT_TESTS:-}" ]; then
		# one word on the kernel command line: "a b" is taken as "a,b"
		a="$a fpt.tests=$(printf '%s' "$FPT_TESTS" | tr -s '[:space:]' ',')"
	fi
	# Guest-side watchdog a minute before the host kills qemu, so a hung
	# script still yields the dmesg (with the blocked tasks) and @@DONE.
	gt=${FPT_GUEST_TIMEOUT:-}
	if [ -z "$gt" ] && [ "$tmo" -gt 120 ]; then gt=$((tmo - 60)); fi
	[ -n "$gt" ] && [ "$gt" -gt 0 ] && a="$a fpt.timeout=$gt"
	a="$a${FPT_APPEND:+ $FPT_APPEND}"
	printf '%s\n' "$a"
}
