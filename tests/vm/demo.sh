#!/bin/bash
# demo.sh: what `make demo` runs.  Same build and guest as check.sh, but the
# guest runs /fpt/${FPT_SCRIPT:-demo.sh} and its console output is shown as
# it happens (without firmware noise, the @@ markers and the dmesg dump);
# no result parsing.  Full console: build/vm/<series>/console.log.
# The guest has one vCPU and qemu's -icount shift=0,sleep=off: its clock
# counts executed instructions, so the costs it shows are deterministic
# (FPT_DEMO_ICOUNT=0: plain TCG, emulated time instead).
# Environment: as check.sh (FPT_KERNELS, FPT_TESTS, FPT_TIMEOUT, FPT_APPEND,
# FPT_VM_*).
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

KERNELS=${FPT_KERNELS:-6.1 6.12}
TIMEOUT=${FPT_TIMEOUT:-900}
export FPT_SCRIPT=${FPT_SCRIPT:-demo.sh}
if [ "${FPT_DEMO_ICOUNT:-1}" = 1 ]; then
	export FPT_VM_SMP=1
	export FPT_QEMU_ARGS="${FPT_QEMU_ARGS:+$FPT_QEMU_ARGS }-icount shift=0,sleep=off"
	export FPT_APPEND="${FPT_APPEND:+$FPT_APPEND }fpt.clock=icount"
fi

trap 'echo "interrupted" >&2; exit 130' INT TERM
fpt_lock
status=0
# shellcheck disable=SC2046,SC2086 # word lists
fpt_fetch_kernels $(fpt_arches $KERNELS) || { fpt_tail 20 "$FPT_VM/fetch.log"; exit 1; }
# shellcheck disable=SC2086 # a word list
for a in $(fpt_arches $KERNELS); do
	if ! fpt_build_guest "$a"; then
		echo "demo: building the guest programs for $a failed (build/vm/guest-build*.log):"
		fpt_make_tail 25 "$FPT_VM/guest-build$([ "$a" = amd64 ] || echo "-$a").log"
		exit 1
	fi
done

# Guest output only: from @@START to @@DMESG-BEGIN, markers dropped;
# @@DONE rc=N (after the dump) is remembered for the exit status.
filter() {
	awk -v rcfile="$1" '
		{ sub(/\r$/, "") }
		/@@DONE rc=/   { s = substr($0, index($0, "@@DONE rc=") + 10); print s > rcfile; next }
		/@@START/      { on = 1; next }
		/@@DMESG-BEGIN/ { on = 0; next }
		on && /@@TIMEOUT/ { print "[" substr($0, index($0, "@@TIMEOUT") + 2) "]"; fflush(); next }
		on && !/^@@[A-Z]/ { print; fflush() }'
}

for s in $KERNELS; do
	kdir=$(fpt_kdir "$s")
	[ -e "$kdir/vmlinuz" ] || { echo "demo: no kernel for series $s"; status=1; continue; }
	echo "=== $s ($(fpt_kver "$s")): /fpt/$FPT_SCRIPT"
	if ! fpt_build_module "$s"; then
		echo "demo: $s: module build failed: $FPT_ERR"
		fpt_make_tail 25 "$FPT_VM/$s/build.log"
		status=1; continue
	fi
	if ! fpt_initramfs "$s" >"$FPT_VM/$s/initramfs.log" 2>&1; then
		fpt_tail 20 "$FPT_VM/$s/initramfs.log"
		status=1; continue
	fi
	rcfile=$FPT_VM/$s/demo.rc
	# as check.sh: a kernel that dies before /init starts the script is
	# booted once more
	for attempt in 1 2; do
		rm -f "$rcfile"
		boot_rc=0
		FPT_VERBOSE=1 bash "$FPT_TOOLS/run-guest.sh" "$kdir" \
			"$FPT_VM/$s/initramfs.cpio.gz" "$FPT_VM/$s/console.log" "$TIMEOUT" \
			"$(fpt_append "$TIMEOUT")" | filter "$rcfile" || boot_rc=$?
		if [ "$boot_rc" -eq 0 ] || [ "$attempt" = 2 ] ||
		   grep -qa '@@START' "$FPT_VM/$s/console.log"; then
			break
		fi
		echo "demo: $s: the guest kernel died while booting; booting again"
	done
	if [ "$boot_rc" -ne 0 ] || [ ! -s "$rcfile" ]; then
		echo "demo: $s: the guest did not finish; last console lines:"
		fpt_tail 30 "$FPT_VM/$s/console.log"
		status=1
	elif [ "$(cat "$rcfile")" != 0 ]; then
		echo "demo: $s: $FPT_SCRIPT exited $(cat "$rcfile")"
		status=1
	fi
done
exit "$status"
