# shellcheck shell=sh
# Helpers of the guest scripts, sourced by run-tests.sh and tests/robust/lib.sh
# (not a test script itself): the console protocol (@@RESULT, @@INFO),
# the fpt.tests= filter, cgroups, fpt's counters, memory accounting.
CG=/sys/fs/cgroup
KO=/fpt/fpt.ko
KREL=$(uname -r)
THP=/sys/kernel/mm/transparent_hugepage
MTHP=$THP/hugepages-64kB/enabled
FILTER=$(sed -n 's/.*fpt\.tests=\([^ ]*\).*/\1/p' /proc/cmdline)

pass() { echo "@@RESULT PASS $*"; }
fail() { echo "@@RESULT FAIL $*"; }
info() { echo "@@INFO $*"; }
check() { # check NAME CONDITION-STATUS DETAIL
	if [ "$2" = 0 ]; then pass "$1" "$3"; else fail "$1" "$3"; fi
}
want() { # is test group $1 selected by fpt.tests=a,b,c ?
	[ -z "$FILTER" ] && return 0
	case ",$FILTER," in *",$1,"*) return 0 ;; esac
	return 1
}
kv() { # kv KEY LINE...: value of KEY=... in the line
	k=$1; shift
	echo "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# run_in CGROUP CMD...: run CMD inside cgroup CGROUP (relative to $CG)
run_in() {
	g=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$g" "$@"
}

stat_of() { # stat_of CGROUP COUNTER: that policy's counter, via netlink
	kv "$2" "$(fpt-nl stats --cgroup "$1")"
}
gstat() { cat /sys/kernel/fpt/stats/"$1"; }

# Memory accounting:
# pcp_kb: free pages parked on the per-CPU lists, kB (/proc/zoneinfo
#   "count:" per CPU and zone).  MemFree does not count them: after a
#   burst of frees they can hold tens of MB (issue 8's rmmod-no-leak flake).
# free_pcp_kb: MemFree + pcp_kb.
# unacct_kb: memory that no counter of the kernel accounts for, kB:
#   MemTotal less free (with the per-CPU lists), LRU, slab, kernel stacks,
#   page tables, per-cpu, vmalloc, hugetlb and other reclaimable kernel
#   memory.  What fpt would leak shows up here.  The median of three
#   readings 0.3 s apart: meminfo and zoneinfo are read at different
#   moments, and kernel work between the two once moved a reading taken
#   before fpt.ko was ever loaded by 4 MB (-1924 kB against +2000..+2240 in
#   every other run).
# misc_kb: reclaimable kernel memory that is not slab (KReclaimable less
#   SReclaimable): pages fpt holds in reservations are counted there
#   (NR_KERNEL_MISC_RECLAIMABLE), the outside measure of what it holds.
misc_kb() { awk '$1 == "KReclaimable:" { k = $2 } $1 == "SReclaimable:" { s = $2 } END { print k - s }' /proc/meminfo; }
pcp_kb() { awk '$1 == "count:" { s += $2 } END { print s * 4 }' /proc/zoneinfo; }
free_pcp_kb() { echo $(($(awk '/^MemFree:/ { print $2 }' /proc/meminfo) + $(pcp_kb))); }
unacct_kb() {
	for n in 1 2 3; do
		[ $n = 1 ] || sleep 0.3
		unacct_kb_once
	done | sort -n | sed -n 2p
}
unacct_kb_once() {
	awk -v pcp="$(pcp_kb)" '
		{ v[$1] = $2 }
		END {
			u = v["MemTotal:"] - v["MemFree:"] - pcp - v["Active:"] - v["Inactive:"] \
			    - v["Unevictable:"] - v["Slab:"] - v["KernelStack:"] - v["PageTables:"] \
			    - v["SecPageTables:"] - v["Percpu:"] - v["VmallocUsed:"] - v["Hugetlb:"] \
			    - (v["KReclaimable:"] - v["SReclaimable:"])
			print u
		}' /proc/meminfo
}
