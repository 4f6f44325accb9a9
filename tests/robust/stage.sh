# shellcheck shell=bash disable=SC2034 # FPT_STAGE_* are read by check.sh
# Sourced by tests/vm/check.sh: what the robustness series need in the guest
# and from qemu.  fpt_robust_stage SERIES KERNEL KIND (KIND robust|mmtests)
# sets:
#   FPT_STAGE_FILES    files/dirs for /fpt (mkinitramfs keeps base names)
#   FPT_STAGE_QEMU     qemu arguments: three NUMA nodes (0: cpu0 1 GB,
#                      1: cpu1 768 MB, 2: no cpu, 256 MB) and a 256 MB
#                      pc-dimm on node 2, onlined movable (hot-removable)
#   FPT_STAGE_MEM      -m with hotplug slots
#   FPT_STAGE_SMP      -smp: one CPU per socket (a node per socket; CPUs of
#                      one socket on two nodes make the kernel WARN); the
#                      mmtests guest has 3 CPUs (migration selftest)
#   FPT_STAGE_APPEND   kernel command line (memhp_default_state=online_movable)
#   FPT_STAGE_TIMEOUT  host timeout of the boot (FPT_ROBUST_TIMEOUT, 1500 s)
# Staged under build/vm/SERIES/stage/:
#   rbin/   Debian's stress-ng (dynamically linked: mkinitramfs.sh copies
#           its libraries); fpt-robust and fpt-nlfuzz are built with the
#           other guest programs (tests/guest/Makefile) into /fpt/bin
#   hwpoison-inject.ko  from the kernel's own modules (decompressed)
#   st/     (mmtests) the kernel's mm selftests, static (build-selftests.sh);
#           on 6.1 also the newer 6.12 tests that 6.1's tree lacks, listed
#           in st/ORIGIN ("name version" a line)
#   robust.sh / mmtests.sh and their lib.sh

fpt_robust_stage() {
	local s=$1 k=$2 kind=$3 ver st dir ko t rdir cpus0 cpus1
	ver=${k%-debug}
	dir=$FPT_VM/$s/stage
	rdir=$FPT_ROOT/tests/robust
	rm -rf "$dir"
	mkdir -p "$dir/rbin"
	cp "$(command -v stress-ng)" "$dir/rbin/" || { echo "stage: no stress-ng (apt-get install stress-ng)"; return 1; }
	ko=$(find "$(fpt_kdir "$k")/root/lib/modules" -name 'hwpoison-inject.ko*' 2>/dev/null | head -n1)
	case $ko in
	*.xz) xz -dc "$ko" >"$dir/hwpoison-inject.ko" || return 1 ;;
	*.ko) cp "$ko" "$dir/" ;;
	*) echo "stage: no hwpoison-inject.ko for $k (its tests will fail)" ;;
	esac
	FPT_STAGE_FILES="$dir/rbin $rdir/lib.sh $rdir/robust.sh $rdir/mmtests.sh"
	[ -f "$dir/hwpoison-inject.ko" ] && FPT_STAGE_FILES="$FPT_STAGE_FILES $dir/hwpoison-inject.ko"
	if [ "$kind" = mmtests ]; then
		bash "$rdir/build-selftests.sh" "$ver" || return 1
		mkdir -p "$dir/st"
		: >"$dir/st/ORIGIN"
		for t in "$FPT_BUILD/selftests/$ver/bin/"*; do
			cp "$t" "$dir/st/" && echo "$(basename "$t") $ver" >>"$dir/st/ORIGIN"
		done
		if [ "$ver" != 6.12 ]; then
			bash "$rdir/build-selftests.sh" 6.12 || return 1
			for t in "$FPT_BUILD/selftests/6.12/bin/"*; do
				[ -e "$dir/st/$(basename "$t")" ] && continue
				cp "$t" "$dir/st/" && echo "$(basename "$t") 6.12" >>"$dir/st/ORIGIN"
			done
		fi
		FPT_STAGE_FILES="$FPT_STAGE_FILES $dir/st"
	fi
	FPT_STAGE_MEM="2G,slots=2,maxmem=3G"
	FPT_STAGE_SMP="2,sockets=2,cores=1,threads=1"
	cpus0=0 cpus1=1
	if [ "$kind" = mmtests ]; then
		# the migration selftest wants >= 2 threads besides the main one
		# (numa_num_task_cpus() - 1): three CPUs, two on node 0
		FPT_STAGE_SMP="3,sockets=3,cores=1,threads=1" cpus0=0-1 cpus1=2
	fi
	FPT_STAGE_QEMU="-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=768M"
	FPT_STAGE_QEMU="$FPT_STAGE_QEMU -object memory-backend-ram,id=m2,size=256M"
	FPT_STAGE_QEMU="$FPT_STAGE_QEMU -numa node,nodeid=0,cpus=$cpus0,memdev=m0 -numa node,nodeid=1,cpus=$cpus1,memdev=m1"
	FPT_STAGE_QEMU="$FPT_STAGE_QEMU -numa node,nodeid=2,memdev=m2"
	FPT_STAGE_QEMU="$FPT_STAGE_QEMU -object memory-backend-ram,id=hp0,size=256M -device pc-dimm,id=dimm0,memdev=hp0,node=2"
	FPT_STAGE_APPEND="memhp_default_state=online_movable secretmem.enable=1"
	FPT_STAGE_TIMEOUT=${FPT_ROBUST_TIMEOUT:-1500}
}
