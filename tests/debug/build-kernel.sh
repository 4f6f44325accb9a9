#!/bin/bash
# build-kernel.sh: Debian's 6.12 source (build/src/6.12, the linux-source
# package of exactly the kernel the guests boot) built as a debug kernel for
# `make check-debug`: KASAN, LOCKDEP/PROVE_LOCKING, DEBUG_VM,
# DEBUG_PAGEALLOC (on by default), memory allocation profiling (on by
# default: issue 8 item 7), plus what the guests need (serial console,
# initramfs, cgroup2/memcg, THP/mTHP, ftrace/kprobes, hwpoison inject,
# memory hotplug/hot-remove, NUMA, userfaultfd, KSM, soft-dirty,
# memfd_secret, debugfs, hugetlbfs).
#
# The configuration is trimmed: x86_64_defconfig + kvm_guest.config + the
# options below (scripts/config), then olddefconfig.  Debian's own config
# builds ~4000 modules, hours on 2 cores; this one builds the kernel and a
# handful of modules.  The result is cached:
#   build/debug-kernel/6.12/obj      the O= build tree (also KDIR for fpt.ko)
#   build/debug-kernel/6.12/vmlinuz  bzImage
#   build/debug-kernel/6.12/root/lib/modules/<rel>/  modules (hwpoison_inject)
#   build/debug-kernel/6.12/build-time  "<seconds> <date>" of the last build
# It is rebuilt only when the config inputs (this script) change.
# Runs at nice 19: the machine is shared.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SRC=$BUILD/src/6.12
OUT=$BUILD/debug-kernel/6.12
OBJ=$OUT/obj
JOBS=${FPT_JOBS:-$(nproc)}
stamp=$(sha256sum "$0" | cut -c1-16)

[ -e "$SRC/.done" ] || BUILD=$BUILD bash "$ROOT/tests/vm/fetch-kernels.sh" --source 6.12
[ -f "$SRC/Makefile" ] || { echo "build-kernel: no kernel source in $SRC" >&2; exit 1; }
if [ -f "$OUT/vmlinuz" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "build-kernel: cached $OUT/vmlinuz ($(cat "$OUT/release"))"
	exit 0
fi
mkdir -p "$OBJ"
t0=$(date +%s)
k() { nice -n 19 make -C "$SRC" O="$OBJ" -j"$JOBS" "$@"; }

k x86_64_defconfig
k kvm_guest.config
c() { "$SRC/scripts/config" --file "$OBJ/.config" "$@"; }
c --set-str LOCALVERSION "-fpt-debug" -d LOCALVERSION_AUTO \
  -e MODULES -e MODULE_UNLOAD -d MODULE_SIG -d MODVERSIONS \
  -e BLK_DEV_INITRD -e RD_GZIP -e DEVTMPFS -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
  -e CGROUPS -e MEMCG -e CGROUP_SCHED -e CPUSETS -e CGROUP_PIDS -e NAMESPACES -e USER_NS \
  -e NUMA -e X86_64_ACPI_NUMA -e NUMA_EMU -e ACPI -e ACPI_NUMA \
  -e TRANSPARENT_HUGEPAGE -e TRANSPARENT_HUGEPAGE_ALWAYS -e HUGETLBFS -e HUGETLB_PAGE \
  -e COMPACTION -e MIGRATION -e KSM -e CHECKPOINT_RESTORE -e MEM_SOFT_DIRTY -e PROC_PAGE_MONITOR -e SECRETMEM \
  -e USERFAULTFD -e PTE_MARKER_UFFD_WP -e ANON_VMA_NAME -e SWAP \
  -e MEMORY_HOTPLUG -e MEMORY_HOTREMOVE -e MEMORY_HOTPLUG_DEFAULT_ONLINE -e ACPI_HOTPLUG_MEMORY \
  -e MEMORY_FAILURE -m HWPOISON_INJECT \
  -e DEBUG_FS -e FTRACE -e FUNCTION_TRACER -e DYNAMIC_FTRACE -e FUNCTION_GRAPH_TRACER \
  -e KPROBES -e KRETPROBES -e KPROBE_EVENTS -e FPROBE -e LIVEPATCH \
  -e MMU_NOTIFIER \
  -e KASAN -e KASAN_GENERIC -e KASAN_INLINE \
  -e DEBUG_KERNEL -e PROVE_LOCKING -e DEBUG_LOCKDEP -e DEBUG_ATOMIC_SLEEP \
  -e DEBUG_VM -e DEBUG_VM_PGFLAGS -e DEBUG_PAGEALLOC -e DEBUG_PAGEALLOC_ENABLE_DEFAULT \
  -e MEM_ALLOC_PROFILING -e MEM_ALLOC_PROFILING_ENABLED_BY_DEFAULT \
  -e DETECT_HUNG_TASK -e SOFTLOCKUP_DETECTOR -e PROVE_RCU \
  -e DEBUG_INFO_NONE -d DEBUG_INFO -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
  -d DEBUG_INFO_BTF -d WERROR -d DRM -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS
k olddefconfig
# the options that matter must have survived olddefconfig
for o in KASAN PROVE_LOCKING DEBUG_VM DEBUG_PAGEALLOC MEMCG TRANSPARENT_HUGEPAGE KPROBES \
	DYNAMIC_FTRACE MEMORY_HOTREMOVE MEMORY_FAILURE USERFAULTFD KSM SECRETMEM NUMA \
	MEM_ALLOC_PROFILING MEM_SOFT_DIRTY HUGETLBFS; do
	grep -q "^CONFIG_$o=y" "$OBJ/.config" || { echo "build-kernel: CONFIG_$o did not stick" >&2; exit 1; }
done
grep -q '^CONFIG_HWPOISON_INJECT=m' "$OBJ/.config" || { echo "build-kernel: HWPOISON_INJECT not =m" >&2; exit 1; }
k bzImage modules
rel=$(cat "$OBJ/include/config/kernel.release")
rm -rf "$OUT/root"
k INSTALL_MOD_PATH="$OUT/root" INSTALL_MOD_STRIP=1 modules_install
cp "$OBJ/arch/x86/boot/bzImage" "$OUT/vmlinuz"
ln -sfn obj "$OUT/kdir"		# the headers for fpt.ko (tests/vm/lib.sh fpt_kdir)
echo "$rel" >"$OUT/release"
echo "$stamp" >"$OUT/stamp"
t1=$(date +%s)
echo "$((t1 - t0)) $(date -u +%Y-%m-%dT%H:%MZ) nice19 -j$JOBS" >"$OUT/build-time"
echo "build-kernel: $rel built in $((t1 - t0)) s"
