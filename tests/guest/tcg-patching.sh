#!/bin/sh
# The emulator's check, fpt.ko never loaded: turn the function tracer on and
# off for vma_alloc_folio_noprof (vma_alloc_folio on 6.1), the function fpt
# hooks, while a second process faults pages on the other vCPU.  Each cycle
# patches the call site twice while it runs.  Bookworm's QEMU 7.2 (multi-
# threaded TCG) executes a stale int3 of a finished patch within about 600
# cycles ("Oops: int3", which dmesg-clean reports); the QEMU the suite uses
# must run them all (README, "Tests").
#   FPT_KERNELS=6.12 FPT_SCRIPT=tcg-patching.sh bash tests/vm/check.sh
#   fpt.cycles=N on the kernel command line (FPT_APPEND) sets the count.
. /fpt/guest-lib.sh
PATH=/fpt/bin:/fpt:$PATH
T=/sys/kernel/tracing
N=$(sed -n 's/.*fpt\.cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
N=${N:-3000}
mount -t tracefs none $T 2>/dev/null
f=$(grep -m1 -o '^vma_alloc_folio[a-z_]*' $T/available_filter_functions)
echo "$f" > $T/set_ftrace_filter || { fail tcg-patching "cannot filter on $f"; exit 1; }
rm -f /tmp/stop
(while [ ! -e /tmp/stop ]; do fpt-touch --size 16 --fill >/dev/null || echo "FAIL"; done) > /tmp/touch.out 2>&1 &
t0=$(cut -d' ' -f1 /proc/uptime)
i=0
while [ $i -lt "$N" ]; do
	echo function > $T/current_tracer && echo nop > $T/current_tracer || break
	i=$((i + 1))
done
touch /tmp/stop; wait
t1=$(cut -d' ' -f1 /proc/uptime)
echo > $T/set_ftrace_filter
check tcg-patching "$([ $i = "$N" ] && ! grep -q FAIL /tmp/touch.out; echo $?)" \
	"$i of $N tracer on/off cycles on $f under a faulting process in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s"
