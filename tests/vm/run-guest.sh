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
# Environment: FPT_VM_MEM (default 1536M; may carry ",slots=N,maxmem=M"),
#              FPT_VM_SMP (2), FPT_VM_CPU (max; arm64: neoverse-n1),
#              FPT_VM_ARCH amd64|arm64 (default: arm64 if KERNEL_DIR resolves
#              to a release ending in -arm64, as fetch-kernels.sh names it),
#              FPT_VM_QEMU_ARGS (more qemu arguments, split on blanks: NUMA
#              nodes, pc-dimms; tests/robust/stage.sh sets them),
#              FPT_BOOT_TIMEOUT (default 240): a guest whose kernel has not
#              started the script (no "@@START" on the console) by then is
#              killed, so that check.sh's retry of an early-boot crash (a
#              TCG text-patching oops that can hang the boot) comes at
#              once rather than after TIMEOUT_SECONDS,
#              FPT_QEMU_ARGS: the same, from the user (e.g. the
#              deterministic clock of `make bench-icount`: "-icount
#              shift=0,sleep=off -seed 1"),
#              FPT_VERBOSE=1 (show the console while it runs),
#              FPT_QEMU_X86_BIN (another qemu-system-x86_64 than the one
#              fetch-kernels.sh unpacks under build/qemu; lib.sh fpt_qemu_x86).
# arm64 boots qemu-system-aarch64's "virt" machine (console ttyAMA0).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"   # fpt_qemu_x86

usage() { echo "usage: $0 KERNEL_DIR INITRAMFS LOGFILE [TIMEOUT_SECONDS] [EXTRA_APPEND]" >&2; exit 2; }
if [ $# -lt 3 ] || [ $# -gt 5 ]; then usage; fi
kdir=$1 initrd=$2 log=$3 tmo=${4:-900} extra=${5:-}

[ -r "$kdir/vmlinuz" ] || { echo "run-guest: no $kdir/vmlinuz" >&2; exit 1; }
[ -r "$initrd" ] || { echo "run-guest: no $initrd" >&2; exit 1; }
case $tmo in ''|*[!0-9]*) usage ;; esac

arch=${FPT_VM_ARCH:-}
if [ -z "$arch" ]; then
	case $(basename "$(readlink -f "$kdir")") in *-arm64) arch=arm64 ;; *) arch=amd64 ;; esac
fi
case $arch in
amd64)
	fpt_qemu_x86 || exit 1
	qemu=("${FPT_QEMU_X86[@]}" -machine q35) console=ttyS0 cpu=max ;;
# bookworm's qemu-system-aarch64 (7.2): the arm64 series run one vCPU, where
# a stale translation of patched text cannot outlive the patch (lib.sh
# fpt_qemu_x86).  A Neoverse N1 (the server core class fpt's arm64 users run): -cpu max
# would add pointer authentication, whose emulation (QARMA) makes the
# guest kernel about 2x slower under TCG (time to /init 10 s vs 38 s).
arm64) qemu=(qemu-system-aarch64 -machine virt) console=ttyAMA0 cpu=neoverse-n1 ;;
*) echo "run-guest: unknown FPT_VM_ARCH $arch" >&2; exit 2 ;;
esac
# watchdog_thresh=60: the soft-lockup detector fires after 120 s instead of
# 20: under TCG on a loaded host a vCPU thread can be descheduled for tens of
# seconds mid-instruction and come back to a stale watchdog timestamp.  A real
# lockup still shows within the run's timeout.
append="console=$console quiet panic=-1 loglevel=4 watchdog_thresh=60${extra:+ $extra}"
qemu+=(
	-cpu "${FPT_VM_CPU:-$cpu}"
	-m "${FPT_VM_MEM:-1536M}" -smp "${FPT_VM_SMP:-2}"
	-nographic -no-reboot -accel tcg -nic none
	-kernel "$kdir/vmlinuz" -initrd "$initrd" -append "$append"
)
# shellcheck disable=SC2206 # a blank-separated list of arguments by design
qemu+=(${FPT_VM_QEMU_ARGS:-} ${FPT_QEMU_ARGS:-})

mkdir -p "$(dirname "$log")"
# qemu exits 0 when it is interrupted: do not carry on as if it had finished.
trap 'exit 130' INT TERM
# stdin from /dev/null: qemu must not put the terminal into raw mode or eat
# ^C.  --foreground keeps qemu in our process group so ^C reaches it.
: >"$log"
boot_tmo=${FPT_BOOT_TIMEOUT:-240}
(
	# no inherited descriptors (check.sh's lock is fd 9); polls, so it
	# ends within 5 s of the script's start
	exec 9>&- </dev/null >/dev/null
	t=0
	while [ "$t" -lt "$boot_tmo" ]; do
		sleep 5
		t=$((t + 5))
		grep -qa '@@START' "$log" && exit 0
	done
	echo "run-guest: no @@START after ${boot_tmo}s: killing the guest" >&2
	for t in $(pgrep -P $$ -x timeout); do
		pkill -KILL -P "$t" 2>/dev/null   # qemu, the child of timeout
	done
) &
boot_wd=$!
set +e
if [ "${FPT_VERBOSE:-0}" = 1 ]; then
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
else
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null >"$log" 2>&1
	rc=$?
fi
set -e
kill "$boot_wd" 2>/dev/null || true	# it may have ended by itself

grep -q '@@DONE' "$log" && exit 0
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "run-guest: no @@DONE after ${tmo}s: guest killed (timeout)" >&2
	exit 124
fi
echo "run-guest: qemu exited with status $rc without @@DONE" >&2
exit 1
