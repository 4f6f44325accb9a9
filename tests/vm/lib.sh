# shellcheck shell=bash disable=SC2034 # FPT_ERR etc. are read by the sourcing script
# Shared steps of check.sh and demo.sh (sourced, not run).
#
# Layout (all under build/, which is git-ignored):
#   build/kernels/<series>/{vmlinuz,kdir}   fetch-kernels.sh
#   build/guest/bin/                        guest programs (tests/guest)
#   build/vm/<series>/fpt.ko                module built for that kernel
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

fpt_fetch_kernels() {
	bash "$FPT_TOOLS/fetch-kernels.sh" >"$FPT_VM/fetch.log" 2>&1
}

# The kernel release a series resolves to (e.g. 6.12 -> 6.12.95+deb12-amd64).
fpt_kver() { basename "$(readlink -f "$FPT_BUILD/kernels/$1")"; }

# fpt_build_guest: build the guest programs once (kernel-independent) into
# $FPT_GUEST_BIN.  Sets FPT_GUEST_BIN to the dir actually holding them ("" if
# none).  Returns non-zero if make failed (log: build/vm/guest-build.log);
# the programs that did build are kept.
fpt_build_guest() {
	local log=$FPT_VM/guest-build.log
	: >"$log"
	if [ ! -f "$FPT_GUEST_DIR/Makefile" ]; then
		echo "no $FPT_GUEST_DIR/Makefile: no guest programs" >>"$log"
		FPT_GUEST_BIN=
		return 0
	fi
	rm -rf "$FPT_GUEST_BIN"
	mkdir -p "$FPT_GUEST_BIN"
	local rc=0
	make -C "$FPT_GUEST_DIR" -j"$FPT_JOBS" BIN="$FPT_GUEST_BIN" >>"$log" 2>&1 || rc=$?
	# A Makefile that ignores BIN= and uses its own bin/ is fine too.
	if [ -z "$(ls -A "$FPT_GUEST_BIN")" ] && [ -d "$FPT_GUEST_DIR/bin" ]; then
		FPT_GUEST_BIN=$FPT_GUEST_DIR/bin
	fi
	# After a failed make, whatever did build is still shipped.
	[ -n "$(ls -A "$FPT_GUEST_BIN")" ] || FPT_GUEST_BIN=
	return "$rc"
}

# fpt_build_module SERIES: clean + build the module against that kernel's
# headers; copy the .ko to build/vm/SERIES/.  On failure returns non-zero
# with the reason in FPT_ERR (log: build/vm/SERIES/build.log).
fpt_build_module() {
	local s=$1 kdir out ko kver vm
	kdir=$FPT_BUILD/kernels/$s/kdir
	out=$FPT_VM/$s
	ko=$FPT_MODULE_DIR/$FPT_MODULE_NAME.ko
	FPT_ERR=
	mkdir -p "$out"
	rm -f "$out/$FPT_MODULE_NAME.ko"
	: >"$out/build.log"
	if [ ! -f "$FPT_MODULE_DIR/Makefile" ]; then
		FPT_ERR="no $FPT_MODULE_DIR/Makefile"; return 1
	fi
	# Clean first: objects of the other kernel must not leak into this build.
	make -C "$FPT_MODULE_DIR" KDIR="$kdir" clean >>"$out/build.log" 2>&1 || true
	if ! make -C "$FPT_MODULE_DIR" -j"$FPT_JOBS" KDIR="$kdir" CONFIG_DEBUG_INFO_BTF_MODULES= \
		>>"$out/build.log" 2>&1; then
		FPT_ERR="make failed (build/vm/$s/build.log)"; return 1
	fi
	[ -f "$ko" ] || { FPT_ERR="make succeeded but $ko is missing"; return 1; }
	kver=$(fpt_kver "$s")
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null || true)
	case $vm in
	"$kver "*) ;;
	*) FPT_ERR="$FPT_MODULE_NAME.ko vermagic '$vm' does not match $kver"; return 1 ;;
	esac
	cp "$ko" "$out/"
}

# fpt_initramfs SERIES: build/vm/SERIES/initramfs.cpio.gz with guest-init.sh
# as /init and, under /fpt: the module (if built), the guest programs (as
# /fpt/bin/...), every *.sh of the guest dir, and FPT_EXTRA_FILES.
fpt_initramfs() {
	local s=$1 f files=()
	[ -f "$FPT_VM/$s/$FPT_MODULE_NAME.ko" ] && files+=("$FPT_VM/$s/$FPT_MODULE_NAME.ko")
	if [ -n "$FPT_GUEST_BIN" ]; then
		if [ "$(basename "$FPT_GUEST_BIN")" = bin ]; then
			files+=("$FPT_GUEST_BIN")
		else   # mkinitramfs keeps base names; the guest expects /fpt/bin
			rm -rf "$FPT_VM/guest-stage" && mkdir -p "$FPT_VM/guest-stage"
			ln -s "$FPT_GUEST_BIN" "$FPT_VM/guest-stage/bin"
			files+=("$FPT_VM/guest-stage/bin")
		fi
	fi
	for f in "$FPT_GUEST_DIR"/*.sh; do
		[ -f "$f" ] && files+=("$f")
	done
	# shellcheck disable=SC2206 # space-separated list by design
	files+=(${FPT_EXTRA_FILES:-})
	bash "$FPT_TOOLS/mkinitramfs.sh" "$FPT_VM/$s/initramfs.cpio.gz" "$FPT_TOOLS/guest-init.sh" \
		${files[@]+"${files[@]}"}
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
