#!/bin/bash
# run-guest.sh KERNEL_DIR INITRAMFS LOGFILE [TIMEOUT_SECONDS] [EXTRA_APPEND]
#
# Boot KERNEL_DIR/vmlinuz with INITRAMFS under qemu's software emulation
# (TCG; KVM cannot run these kernels on our machines), serial console to
# LOGFILE (also to stdout when FPT_VERBOSE=1).  The guest is killed after
# TIMEOUT_SECONDS (default 900).
# Exit status: 0 if the guest printed "@@DONE" (see guest-init.sh);
# 124 on timeout; 1 otherwise.
#
# Environment: FPT_VM_MEM (default 1536M), FPT_VM_SMP (2), FPT_VM_CPU (max),
#              FPT_VERBOSE=1 (show the console while it runs).
set -euo pipefail

usage() { echo "usage: $0 KERNEL_DIR INITRAMFS LOGFILE [TIMEOUT_SECONDS] [EXTRA_APPEND]" >&2; exit 2; }
if [ $# -lt 3 ] || [ $# -gt 5 ]; then usage; fi
kdir=$1 initrd=$2 log=$3 tmo=${4:-900} extra=${5:-}

[ -r "$kdir/vmlinuz" ] || { echo "run-guest: no $kdir/vmlinuz" >&2; exit 1; }
[ -r "$initrd" ] || { echo "run-guest: no $initrd" >&2; exit 1; }
case $tmo in ''|*[!0-9]*) usage ;; esac

append="console=ttyS0 quiet panic=-1 loglevel=4${extra:+ $extra}"
qemu=(
	qemu-system-x86_64 -machine q35 -cpu "${FPT_VM_CPU:-max}"
	-m "${FPT_VM_MEM:-1536M}" -smp "${FPT_VM_SMP:-2}"
	-nographic -no-reboot -accel tcg -nic none
	-kernel "$kdir/vmlinuz" -initrd "$initrd" -append "$append"
)

mkdir -p "$(dirname "$log")"
# qemu exits 0 when it is interrupted: do not carry on as if it had finished.
trap 'exit 130' INT TERM
# stdin from /dev/null: qemu must not put the terminal into raw mode or eat
# ^C.  --foreground keeps qemu in our process group so ^C reaches it.
set +e
if [ "${FPT_VERBOSE:-0}" = 1 ]; then
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
else
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null >"$log" 2>&1
	rc=$?
fi
set -e

grep -q '@@DONE' "$log" && exit 0
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "run-guest: no @@DONE after ${tmo}s: guest killed (timeout)" >&2
	exit 124
fi
echo "run-guest: qemu exited with status $rc without @@DONE" >&2
exit 1
