# shellcheck shell=sh
# Helpers of the robustness series' guest scripts (robust.sh, mmtests.sh),
# sourced by busybox sh in the guest.  Same console protocol as
# tests/guest/run-tests.sh: @@RESULT PASS|FAIL|SKIP <name> <detail>, @@INFO.
PATH=/fpt/rbin:/fpt/bin:/fpt:$PATH
# CG KO KREL THP MTHP FILTER, pass fail info check want kv ge le run_in
# stat_of, pcp_kb free_pcp_kb unacct_kb: tests/guest/guest-lib.sh
. /fpt/guest-lib.sh
skip() { echo "@@RESULT SKIP $*"; }
# gstat that reads 0 while the module is not loaded
gstat() { cat /sys/kernel/fpt/stats/"$1" 2>/dev/null || echo 0; }
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# page cache only: "2"/"3" would run the shrinkers, fpt's among them
settle() { sync; echo 1 > /proc/sys/vm/drop_caches; sleep 1; }

# holder NAME CGROUP ARGS...: start "fpt-robust hold ARGS" in CGROUP with a
# fifo on its stdin (/tmp/NAME.in, fd 8) and output in /tmp/NAME.out; waits
# for READY.  HOLDER_PID is its pid.  holder_cmd NAME CMD: send a command
# and wait for N output lines in total.  holder_end NAME: quit, wait; rc.
holder() {
	n=$1 g=$2; shift 2
	rm -f "/tmp/$n.in" "/tmp/$n.out"
	mkfifo "/tmp/$n.in"
	run_in "$g" fpt-robust hold "$@" <"/tmp/$n.in" >"/tmp/$n.out" 2>&1 &
	HOLDER_PID=$!
	exec 8>"/tmp/$n.in"
	i=0
	while ! grep -q READY "/tmp/$n.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 600 ] && break
		sleep 0.2
	done
	HOLDER_READY=$(grep READY "/tmp/$n.out")
}
holder_cmd() {
	lines=$(grep -c '' "/tmp/$1.out")
	echo "$2" >&8
	i=0
	while [ "$(grep -c '' "/tmp/$1.out")" -le "$lines" ]; do
		i=$((i + 1)); [ $i -gt 1200 ] && break
		sleep 0.2
	done
	tail -n1 "/tmp/$1.out"
}
holder_end() {
	echo quit >&8
	exec 8>&-
	wait "$HOLDER_PID"
}

# thp_admin VALUE: the kernel's own 64 KB mTHP switch (6.8+), for baselines
mthp_set() { [ -e "$MTHP" ] && echo "$1" > "$MTHP"; }

fpt_insmod() { insmod "$KO" "$@"; }
backends() { tr -d '[]' < /sys/kernel/fpt/backend; }
setup_cgroups() {
	echo "+memory" > $CG/cgroup.subtree_control 2>/dev/null
	for g in "$@"; do mkdir -p "$CG/$g"; done
}
dmesg_mark() { echo "fpt-test: $*" > /dev/kmsg; }
