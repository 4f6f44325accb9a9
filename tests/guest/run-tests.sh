#!/bin/sh
# In-guest tests of fpt.ko.  Runs as /init's payload in a QEMU guest booted
# from a busybox initramfs (tests/vm/guest-init.sh); prints one
#   @@RESULT PASS|FAIL <name> <detail>
# line per check and @@INFO lines with measurements.  The host
# (tests/vm/check.sh) counts them and scans dmesg for warnings.
#
# Everything is judged from outside the module: PFNs from
# /proc/self/pagemap, byte patterns, RSS, free-page counts.  fpt's own
# counters are compared against those, never trusted alone.

PATH=/fpt/bin:/fpt:$PATH
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
# touch_time CGROUP [ARGS]: median touch_ns of 3 sequential 128 MB first
# touches in CGROUP.  Emulator timings mean something only as ratios
# between configurations of the same boot; never asserted.
touch_time() {
	g=$1; shift
	for i in 1 2 3; do
		kv touch_ns "$(run_in "$g" fpt-touch --size 128 "$@")"
	done | sort -n | sed -n 2p
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
memfree_kb() { awk '/^MemFree:/ { print $2 }' /proc/meminfo; }

setup_cgroups() {
	echo "+memory" > $CG/cgroup.subtree_control 2>/dev/null
	for g in fpt-on fpt-on/child fpt-off fpt-mad fpt-mem fpt-frag; do
		mkdir -p $CG/$g
	done
}

# ---------------------------------------------------------------------------
setup_cgroups
echo 0 > /proc/sys/kernel/printk_ratelimit 2>/dev/null
info "kernel $KREL, $(nproc) cpus, MemTotal $(awk '/MemTotal/ { print $2 }' /proc/meminfo) kB"
info "thp enabled: $(cat $THP/enabled)"
[ -e $MTHP ] && info "mthp 64kB enabled before load: $(cat $MTHP)"
MTHP_ADMIN=$( [ -e $MTHP ] && sed 's/.*\[\(.*\)\].*/\1/' $MTHP)

# Baseline before the module exists: chance contiguity and timing.  Pages
# are touched in reverse order: a 4 KB allocator then hands ascending PFNs
# to descending addresses, so chance runs are ~0 and any run is fpt's.
echo never > $THP/enabled
base=$(fpt-touch --size 256 --order reverse)
info "baseline (no module, thp never, 256 MB, reverse touch): $base"
BASE_COV=$(kv coverage_pct "$base")
BASE_NS=$(kv touch_ns "$base")
want timing && T_UNLOADED=$(touch_time fpt-off)
sync; echo 3 > /proc/sys/vm/drop_caches
FREE_BEFORE=$(memfree_kb)

# --- load --------------------------------------------------------------------
if insmod $KO; then
	pass load "insmod ok: $(dmesg | grep 'fpt:' | tail -n1)"
else
	fail load "insmod failed: $(dmesg | tail -n3 | tr '\n' ' ')"
	exit 1
fi
BACKENDS=$(cat /sys/kernel/fpt/backend)
info "backends: $BACKENDS"
case "$KREL" in
6.1.*) DEF=reserve; check load-backend "$([ "$BACKENDS" = "[reserve]" ]; echo $?)" "$BACKENDS" ;;
*)     DEF=folio;   check load-backend "$([ "$BACKENDS" = "[folio] reserve" ]; echo $?)" "$BACKENDS"
       # no policy, no hooks: the administrator's setting is untouched
       check load-mthp-untouched "$(grep -q "\[$MTHP_ADMIN\]" $MTHP; echo $?)" "64kB: $(cat $MTHP)" ;;
esac
[ -r /proc/fpt ] && [ -d /sys/kernel/fpt/stats ]; check load-interfaces $? "/proc/fpt and /sys/kernel/fpt/stats"

# --- netlink -----------------------------------------------------------------
if want netlink; then
	out=$(fpt-nl --drop-cap set --cgroup fpt-on --mode on); rc=$?
	check nl-eperm "$([ $rc = 3 ] && echo "$out" | grep -q 'errno=EPERM'; echo $?)" "$out"
	for c in no-cgroup bad-mode bad-flags bad-backend unknown-attr bad-nest-attr wrong-type missing-mode id-path-mismatch; do
		out=$(fpt-nl raw $c)
		ok=$(echo "$out" | grep -q 'errno=EINVAL extack="[^"]' ; echo $?)
		check "nl-einval-$c" "$ok" "$out"
	done
	for c in no-such-cgroup no-such-path; do
		out=$(fpt-nl raw $c)
		ok=$(echo "$out" | grep -q 'errno=ENOENT extack="[^"]' ; echo $?)
		check "nl-$c" "$ok" "$out"
	done
	out=$(fpt-nl del --cgroup fpt-off); rc=$?
	check nl-del-missing "$([ $rc = 3 ] && echo "$out" | grep -q ENOENT; echo $?)" "$out"
	# the multicast group announces changes
	fpt-nl monitor --count 2 > /tmp/mon.out &
	mpid=$!
	while ! grep -q READY /tmp/mon.out 2>/dev/null; do sleep 1; done
	fpt-nl set --cgroup fpt-mad --mode madvise >/dev/null
	fpt-nl del --cgroup fpt-mad >/dev/null
	wait $mpid; rc=$?
	check nl-multicast "$([ $rc = 0 ] && grep -q 'notify=new .*path=/fpt-mad mode=madvise' /tmp/mon.out && grep -q 'notify=deleted .*path=/fpt-mad' /tmp/mon.out; echo $?)" "$(grep notify /tmp/mon.out | tr '\n' ' ')"
	fpt-nl set --cgroup fpt-on --mode on --defrag 1 && out=$(fpt-nl get --cgroup fpt-on)
	check nl-set-get "$(echo "$out" | grep -q "mode=on defrag=1 backend=auto backend_active=$DEF"; echo $?)" "$out"
	grep -q "fpt-on on 1 $DEF" /proc/fpt; check proc-row $? "$(grep fpt-on /proc/fpt)"
fi
if [ -e $MTHP ]; then
	# a policy arms the folio backend: order 4 is fpt's to steer.  Set
	# from a sandbox whose /sys is read-only (as fptd's, under
	# ProtectKernelTunables=): the module must not depend on the
	# caller's view of /sys.
	out=$(unshare -m sh -c 'mount -o remount,bind,ro /sys && ! echo never 2>/dev/null > '"$MTHP"' && fpt-nl set --cgroup fpt-on --mode on' 2>&1); rc=$?
	check armed-from-sandbox "$rc" "policy set from a mount namespace with a read-only /sys: ${out:-ok}"
	check armed-mthp-forced "$(grep -q '\[always\]' $MTHP; echo $?)" "64kB with a policy: $(cat $MTHP)"
	fpt-nl del --all >/dev/null
	check disarmed-mthp-restored "$(grep -q "\[$MTHP_ADMIN\]" $MTHP; echo $?)" "64kB with no policy: $(cat $MTHP)"
fi

# --- coverage, outside, counters ---------------------------------------------
# opted_run NAME BACKEND [FLAGS]: touch 256 MB in fpt-on with BACKEND, judge
# coverage from pagemap, and compare fpt's runs counter, read just before and
# after the touch loop (the only opted-in process running), with the runs
# pagemap shows in the region.
opted_run() {
	name=$1 backend=$2 flags=${3:-0}
	fpt-nl set --cgroup fpt-on --mode on --defrag 1 --backend "$backend" --flags "$flags" >/dev/null
	out=$(run_in fpt-on fpt-touch --size 256 --order reverse --counter /sys/kernel/fpt/stats/runs)
	cov=$(kv coverage_pct "$out"); runs=$(kv runs "$out"); cd_=$(kv counter_delta "$out")
	info "$name: $out"
	check "$name-coverage" "$(ge "$cov" 99; echo $?)" "coverage ${cov}% (>= 99%; baseline ${BASE_COV}%)"
	check "$name-counters" "$([ "$cd_" = "$runs" ]; echo $?)" "pagemap runs $runs, fpt runs counter +$cd_"
}

if want coverage; then
	echo never > $THP/enabled
	opted_run "never-$DEF" $DEF
	[ $DEF = folio ] && opted_run never-reserve reserve

	# random first touch: the reserve backend holds a reservation per
	# window touched until it completes, so the cap decides coverage
	fpt-nl set --cgroup fpt-on --mode on --backend reserve >/dev/null
	c0=$(stat_of fpt-on fallback_cap)
	out=$(run_in fpt-on fpt-touch --size 256 --shuffle)
	c1=$(stat_of fpt-on fallback_cap)
	info "reserve, random touch order: $out fallback_cap=$((c1 - c0)) (cap $(($(gstat resv_unused_pages) + 0)) now held)"

	out=$(fpt-touch --size 256 --order reverse)
	cov=$(kv coverage_pct "$out")
	info "outside: $out"
	ok=$(le "$cov" "$(awk -v b="$BASE_COV" 'BEGIN { print b + 5 }')"; echo $?)
	[ $DEF = folio ] && [ "$(kv compound "$out")" != 0 ] && ok=1
	check outside-baseline "$ok" "coverage ${cov}% vs baseline ${BASE_COV}%, compound $(kv compound "$out")"
	OUT_NS=$(kv touch_ns "$out")
	info "outside process with module loaded vs no module: time ratio $(awk -v a="$OUT_NS" -v b="$BASE_NS" 'BEGIN { printf "%.2f", a / b }')"

	# policy off inside an opted-in parent; madvise mode
	fpt-nl set --cgroup fpt-on --mode on --backend $DEF >/dev/null
	fpt-nl set --cgroup fpt-on/child --mode off
	out=$(run_in fpt-on/child fpt-touch --size 64 --order reverse); cov=$(kv coverage_pct "$out")
	check mode-off-child "$(le "$cov" "$(awk -v b="$BASE_COV" 'BEGIN { print b + 5 }')"; echo $?)" "coverage ${cov}%"
	fpt-nl del --cgroup fpt-on/child
	out=$(run_in fpt-on/child fpt-touch --size 64 --order reverse); cov=$(kv coverage_pct "$out")
	check inherit-child "$(ge "$cov" 99; echo $?)" "descendant of fpt-on: coverage ${cov}%"
	fpt-nl set --cgroup fpt-mad --mode madvise
	out=$(run_in fpt-mad fpt-touch --size 64 --order reverse); c1=$(kv coverage_pct "$out")
	out=$(run_in fpt-mad fpt-touch --size 64 --order reverse --madvise); c2=$(kv coverage_pct "$out")
	check mode-madvise "$(le "$c1" "$(awk -v b="$BASE_COV" 'BEGIN { print b + 5 }')" && ge "$c2" 99; echo $?)" "plain ${c1}%, MADV_HUGEPAGE ${c2}%"

	echo 0 > /sys/kernel/fpt/enabled
	out=$(run_in fpt-on fpt-touch --size 64 --order reverse); cov=$(kv coverage_pct "$out")
	echo 1 > /sys/kernel/fpt/enabled
	check global-switch-off "$(le "$cov" "$(awk -v b="$BASE_COV" 'BEGIN { print b + 5 }')"; echo $?)" "enabled=0: coverage ${cov}%"

	# THP "always": the administrator's 2 MB THP stays for everyone unless a
	# policy forbids it; with FPT_F_NO_PMD_THP the cgroup gets 64 KB runs.
	echo always > $THP/enabled
	opted_run "always-$DEF" $DEF 1
	out=$(fpt-touch --size 64 --align2m)
	info "outside, thp always: $out"
	check always-outside-thp "$([ "$(kv compound "$out")" -gt 0 ]; echo $?)" "outside process still gets THP: compound $(kv compound "$out")"
	echo never > $THP/enabled
fi

# --- first-touch timing (reported, not asserted) ------------------------------
if want timing; then
	echo never > $THP/enabled
	t_out=$(touch_time fpt-off)
	info "timing: 128 MB sequential first touch, median of 3: no module $T_UNLOADED ns, module loaded not opted in $t_out ns (ratio $(ratio "$t_out" "$T_UNLOADED"))"
	for b in $(echo "$BACKENDS" | tr -d '[]'); do
		fpt-nl set --cgroup fpt-on --mode on --defrag 1 --backend "$b" >/dev/null
		t_in=$(touch_time fpt-on)
		info "timing: opted in, $b backend: $t_in ns; speed-up vs not opted in $(ratio "$t_out" "$t_in")x"
	done
fi

# --- integrity ---------------------------------------------------------------
if want integrity; then
	for b in $(echo "$BACKENDS" | tr -d '[]'); do
		fpt-nl set --cgroup fpt-on --mode on --defrag 1 --backend "$b"
		for t in fork-cow mprotect munmap mremap-move mremap-grow dontneed; do
			out=$(run_in fpt-on fpt-integrity $t 2>&1); rc=$?
			check "integrity-$b-$t" $rc "$(echo "$out" | tr '\n' ' ')"
		done
		out=$(run_in fpt-on fpt-touch --size 64 --dirty 128 --verify-zero --order reverse); rc=$?
		check "zero-$b" "$([ $rc = 0 ] && [ "$(kv nonzero_pages "$out")" = 0 ]; echo $?)" "$out"
	done
	# userfaultfd armed (write-protect mode): per-page fidelity, 4 KB pages
	for b in $(echo "$BACKENDS" | tr -d '[]'); do
		fpt-nl set --cgroup fpt-on --mode on --backend "$b" >/dev/null
		u0=$(stat_of fpt-on fallback_uffd)
		out=$(run_in fpt-on fpt-uffd); rc=$?
		u1=$(stat_of fpt-on fallback_uffd)
		check "uffd-$b" "$([ $rc = 0 ] && [ "$(kv runs "$out")" = 0 ] && [ $((u1 - u0)) -ge 64 ]; echo $?)" "$out fallback_uffd +$((u1 - u0))"
	done

	# reserve: a sparse toucher's untouched pages stay unmapped (RSS); the
	# pages its reservations hold go back under pressure (the shrinker,
	# driven here by drop_caches=2) and when the process exits
	fpt-nl set --cgroup fpt-on --mode on --backend reserve >/dev/null
	mkfifo /tmp/sparse.in
	run_in fpt-on fpt-touch --size 64 --sparse --fill --hold < /tmp/sparse.in > /tmp/sparse.out &
	spid=$!
	exec 9> /tmp/sparse.in
	while ! grep -q READY /tmp/sparse.out 2>/dev/null; do sleep 1; done
	out=$(head -n1 /tmp/sparse.out)
	check reserve-sparse-rss "$([ "$(kv present "$out")" = 1024 ]; echo $?)" "$out"
	held=$(gstat resv_unused_pages); r0=$(gstat resv_reclaimed)
	sync; echo 2 > /proc/sys/vm/drop_caches
	left=$(gstat resv_unused_pages); r1=$(gstat resv_reclaimed)
	check reserve-shrinker "$([ "$held" -gt 0 ] && [ "$left" = 0 ] && [ $((r1 - r0)) -gt 0 ]; echo $?)" "held $held pages; after the shrinker $left, reservations reclaimed +$((r1 - r0))"
	exec 9>&-
	wait $spid; rc=$?
	check reserve-sparse-data "$([ $rc = 0 ] && grep -q 'after_hold pattern_errors=0' /tmp/sparse.out; echo $?)" "$(tail -n1 /tmp/sparse.out)"
	out=$(run_in fpt-on fpt-touch --size 64 --sparse)
	left=$(gstat resv_unused_pages)
	check reserve-exit-release "$([ "$left" = 0 ]; echo $?)" "held after the sparse process exited: $left pages (cap fallbacks $(gstat fallback_cap))"
fi

# --- memory.max --------------------------------------------------------------
if want memcg; then
	echo 64M > $CG/fpt-mem/memory.max
	fpt-nl set --cgroup fpt-mem --mode on
	c0=$(stat_of fpt-mem fallback_charge)
	out=$(run_in fpt-mem fpt-touch --size 40 --order reverse); rc1=$?
	echo "fpt-test: expected-oom begin" > /dev/kmsg
	out2=$(run_in fpt-mem fpt-touch --size 100); rc2=$?
	c1=$(stat_of fpt-mem fallback_charge)
	fpt-nl set --cgroup fpt-mem --mode off
	run_in fpt-mem fpt-touch --size 100 >/dev/null; rc3=$?
	echo "fpt-test: expected-oom end" > /dev/kmsg
	info "memory.max 64M: 40 MB rc=$rc1 ($out); 100 MB rc=$rc2 with fpt, rc=$rc3 without; charge fallbacks $((c1 - c0))"
	check memcg-under-limit "$([ $rc1 = 0 ] && ge "$(kv coverage_pct "$out")" 99; echo $?)" "40 MB in 64M: rc=$rc1 coverage $(kv coverage_pct "$out")%"
	check memcg-at-limit "$([ $rc2 = $rc3 ] && [ $rc2 != 0 ]; echo $?)" "100 MB in 64M: rc=$rc2 with fpt, rc=$rc3 at 4 KB (both OOM)"
	check memcg-charge-counted "$([ $((c1 - c0)) -gt 0 ]; echo $?)" "fallback_charge +$((c1 - c0))"
	fpt-nl del --cgroup fpt-mem
fi

# --- fragmentation -----------------------------------------------------------
if want frag; then
	echo 0 > /proc/sys/vm/compact_unevictable_allowed
	mkfifo /tmp/frag.in
	fpt-frag < /tmp/frag.in > /tmp/frag.out &
	fpid=$!
	exec 7> /tmp/frag.in
	while ! grep -q READY /tmp/frag.out 2>/dev/null; do sleep 1; done
	info "fragmenter: $(head -n1 /tmp/frag.out)"
	for b in $(echo "$BACKENDS" | tr -d '[]'); do
		fpt-nl set --cgroup fpt-frag --mode on --defrag 0 --backend "$b" >/dev/null
		n0=$(stat_of fpt-frag fallback_no_block)
		out=$(run_in fpt-frag fpt-touch --size 96 --order reverse)
		n1=$(stat_of fpt-frag fallback_no_block)
		info "fragmented, $b: $out no_block=$((n1 - n0))"
		info "fragmented, $b: $(fpt-nl stats --cgroup fpt-frag)"
		check "frag-$b-no-block-counted" "$([ $((n1 - n0)) -gt 0 ]; echo $?)" "fallback_no_block +$((n1 - n0)), coverage $(kv coverage_pct "$out")%"
	done
	out=$(run_in fpt-off fpt-touch --size 96 --order reverse)
	info "fragmented, not opted in (4 KB baseline): $out"
	exec 7>&-
	wait $fpid
	fpt-nl del --cgroup fpt-frag
fi

# --- rmmod while opted-in processes run, and after --------------------------
if want rmmod; then
	fpt-nl set --cgroup fpt-on --mode on --backend $DEF
	mkfifo /tmp/hold.in
	run_in fpt-on fpt-touch --size 64 --fill --hold --order reverse < /tmp/hold.in > /tmp/hold.out &
	hpid=$!
	exec 8> /tmp/hold.in
	while ! grep -q READY /tmp/hold.out 2>/dev/null; do sleep 1; done
	if [ $DEF = folio ]; then
		fpt-nl set --cgroup fpt-on --mode on --backend reserve
		run_in fpt-on fpt-touch --size 8 --sparse >/dev/null
	fi
	rmmod fpt; rc=$?
	check rmmod-busy "$rc" "rmmod with an opted-in process running: rc=$rc"
	[ ! -e /sys/kernel/fpt ]; check rmmod-gone $? "/sys/kernel/fpt removed"
	exec 8>&-
	wait $hpid; rc=$?
	check rmmod-data "$([ $rc = 0 ] && grep -q 'after_hold pattern_errors=0' /tmp/hold.out; echo $?)" "$(tr '\n' ' ' < /tmp/hold.out)"
	if [ -e $MTHP ]; then
		grep -q "\[$MTHP_ADMIN\]" $MTHP; check rmmod-mthp-restored $? "64kB: $(cat $MTHP) (was $MTHP_ADMIN)"
	fi
	sync; echo 3 > /proc/sys/vm/drop_caches
	FREE_AFTER=$(memfree_kb)
	d=$((FREE_BEFORE - FREE_AFTER))
	info "MemFree before load ${FREE_BEFORE} kB, after unload ${FREE_AFTER} kB (diff ${d} kB)"
	check rmmod-no-leak "$([ $d -lt 8192 ]; echo $?)" "free pages back within 8 MB: diff ${d} kB"
	insmod $KO; check reload $? "insmod after rmmod"
	rmmod fpt
fi
exit 0
