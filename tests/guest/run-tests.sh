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
# CG, KO, KREL, THP, MTHP, FILTER; pass fail info check want kv ge le run_in
# stat_of gstat; pcp_kb free_pcp_kb unacct_kb (tests/guest/guest-lib.sh)
. /fpt/guest-lib.sh
ARCH=$(uname -m)
PW=/sys/kernel/debug/fpt_ptwalk
skip() { echo "@@RESULT SKIP $*"; }
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

# pt_check NAME BACKEND LINE: the page tables of one fpt-touch LINE as the
# walker read them: its runs are pagemap's, no 64 KB block carries
# PTE_CONT on part of its PTEs, and the hint is on every run where the
# kernel folds them (BACKEND folio, CONT_FOLIO) and on none anywhere else
# (BACKEND reserve or none: not opted in).
pt_check() {
	w=$(kv pt_windows "$3") r=$(kv pt_runs "$3") c=$(kv pt_cont "$3")
	if [ "${w:--1}" = -1 ]; then
		[ "$ARCH" = aarch64 ] && fail "$1-pte-cont" "no page-table walker"
		return
	fi
	exp=0
	[ "$2" = folio ] && [ $CONT_FOLIO = 1 ] && exp=$r
	check "$1-pte-cont" "$([ "$r" = "$(kv runs "$3")" ] && [ "$c" = "$exp" ] && [ "$(kv pt_cont_partial "$3")" = 0 ]; echo $?)" \
		"PTE_CONT on $c of $w windows (expected $exp), page tables $r runs, pagemap $(kv runs "$3"), partial hints $(kv pt_cont_partial "$3")"
}
memfree_kb() { awk '/^MemFree:/ { print $2 }' /proc/meminfo; }

setup_cgroups() {
	echo "+memory" > $CG/cgroup.subtree_control 2>/dev/null
	for g in fpt-on fpt-on/child fpt-off fpt-mad fpt-mem fpt-frag; do
		mkdir -p $CG/$g
	done
}

# ---------------------------------------------------------------------------
setup_cgroups
# the test-only page-table walker: fpt-touch and fpt-integrity read the
# page tables through it (pt_* fields, PTE_CONT on arm64)
[ -e /fpt/fpt_ptwalk.ko ] && insmod /fpt/fpt_ptwalk.ko
# The contiguity hint.  arm64 kernels with multi-size THP fold every
# aligned 64 KB folio mapped by one set_ptes() into a contpte block
# (CONFIG_ARM64_CONTPTE, Debian's 6.12): the folio backend's runs must all
# carry PTE_CONT.  The reserve backend's runs are 4 KB pages, which the
# kernel never folds, and 6.1 has no contpte for user memory: contiguity
# without the hint (fpt itself never sets PTE_CONT).  x86 has no hint bit.
CONT_FOLIO=0
[ "$ARCH" = aarch64 ] && [ -e $MTHP ] && CONT_FOLIO=1
if [ "$ARCH" = aarch64 ]; then   # the hint is what arm64 is tested for
	[ -e $PW ]; check ptwalk-loaded $? "page-table walker $PW"
fi
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
UNACCT_BEFORE=$(unacct_kb) FREE_BEFORE=$(free_pcp_kb) MISC_BEFORE=$(misc_kb)

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
	for c in no-cgroup bad-flags unknown-attr bad-nest-attr wrong-type missing-mode id-path-mismatch; do
		out=$(fpt-nl raw $c)
		ok=$(echo "$out" | grep -q 'errno=EINVAL extack="[^"]' ; echo $?)
		check "nl-einval-$c" "$ok" "$out"
	done
	# a value out of an attribute's range: the kernel's own ERANGE, its
	# extack and the bounds in the reply's policy description
	for c in bad-mode bad-backend; do
		out=$(fpt-nl raw $c)
		ok=$(echo "$out" | grep -q 'errno=ERANGE extack="[^"]' ; echo $?)
		check "nl-erange-$c" "$ok" "$out"
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
	# a policy arms fpt's hooks.  Set from a sandbox whose /sys is
	# read-only (as fptd's, under ProtectKernelTunables=): nothing of the
	# caller's view of /sys may matter.  No THP setting changes.
	out=$(unshare -m sh -c 'mount -o remount,bind,ro /sys && ! echo never 2>/dev/null > '"$MTHP"' && fpt-nl set --cgroup fpt-on --mode on' 2>&1); rc=$?
	check armed-from-sandbox "$rc" "policy set from a mount namespace with a read-only /sys: ${out:-ok}"
	check armed-mthp-untouched "$(grep -q "\[$MTHP_ADMIN\]" $MTHP; echo $?)" "64kB with a policy: $(cat $MTHP)"
	fpt-nl del --all >/dev/null
	check disarmed-mthp-untouched "$(grep -q "\[$MTHP_ADMIN\]" $MTHP; echo $?)" "64kB with no policy: $(cat $MTHP)"
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
	pt_check "$name" "$backend" "$out"
	OPTED_LINE=$out
}

if want coverage; then
	echo never > $THP/enabled
	opted_run "never-$DEF" $DEF
	HINT_DEF="$(kv pt_cont "$OPTED_LINE")/$(kv pt_windows "$OPTED_LINE")"
	HINT_RES=
	[ $DEF = folio ] && opted_run never-reserve reserve &&
		HINT_RES="$(kv pt_cont "$OPTED_LINE")/$(kv pt_windows "$OPTED_LINE")"

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
	pt_check outside none "$out"
	info "PTE_CONT in this boot ($ARCH): opted in, $DEF backend ${HINT_DEF} windows${HINT_RES:+, reserve backend $HINT_RES}; outside $(kv pt_cont "$out")/$(kv pt_windows "$out")"
	OUT_NS=$(kv touch_ns "$out")
	info "outside process with module loaded vs no module: time ratio $(awk -v a="$OUT_NS" -v b="$BASE_NS" 'BEGIN { printf "%.2f", a / b }')"

	# fptctl on this kernel: the hint it reports is the one the walker
	# sees (status), and scan counts the runs pagemap shows, saying the
	# hint is not counted (no kernel interface shows it)
	if command -v fptctl >/dev/null; then
		mkdir -p /boot && cp "/fpt/config-$KREL" /boot/ 2>/dev/null
		case $ARCH:$CONT_FOLIO in
		aarch64:1) exp=contpte ;;
		aarch64:0) exp=none-for-user-memory ;;
		*) exp=none ;;
		esac
		out=$(fptctl status --json)
		check fptctl-status-hint "$(echo "$out" | grep -q "\"contiguity_hint\": \"$exp\""; echo $?)" \
			"expected $exp ($HINT_DEF hinted windows above): $(fptctl status | grep '^hint:')"
		fpt-nl set --cgroup fpt-on --mode on --backend $DEF >/dev/null
		run_in fpt-on fpt-touch --size 16 --align64k --order reverse --hold-signal > /tmp/scan.out &
		spid=$!
		n=0; while ! grep -q READY /tmp/scan.out && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		# the one process of the cgroup: fpt-touch
		js=$(fptctl scan --cgroup /fpt-on --json); hs=$(fptctl scan --cgroup /fpt-on)
		kill -TERM "$(cat $CG/fpt-on/cgroup.procs)"; wait $spid
		r0=$(kv runs "$(head -n1 /tmp/scan.out)")
		r1=$(echo "$js" | grep -m1 '"runs":' | tr -dc 0-9)
		hl=$(echo "$hs" | grep '^contiguity hint:')
		ok=1
		[ -n "$r1" ] && [ "$r1" -ge "$r0" ] && [ "$r1" -le $((r0 + 16)) ] && [ "$r0" -ge 255 ] &&
			echo "$js" | grep -q "\"contiguity_hint\": \"$exp\"" && [ -n "$hl" ] && ok=0
		[ "$exp" = none ] || echo "$hl" | grep -q 'not counted' || ok=1
		check fptctl-scan "$ok" "cgroup total $r1 runs, its process's 16 MB region $r0 (pagemap); $hl"
	fi

	# policy off inside an opted-in parent; madvise mode
	fpt-nl set --cgroup fpt-on --mode on --backend $DEF >/dev/null
	fpt-nl set --cgroup fpt-on/child --mode off
	# memory left to the kernel is touched in random order: pages freed by
	# the last process can come back from the per-CPU lists in descending
	# order, and a high-to-low touch turns those into chance runs (seen:
	# 16.6 % for the plain madvise region)
	out=$(run_in fpt-on/child fpt-touch --size 64 --order random); cov=$(kv coverage_pct "$out")
	check mode-off-child "$(le "$cov" "$(awk -v b="$BASE_COV" 'BEGIN { print b + 5 }')"; echo $?)" "coverage ${cov}%"
	fpt-nl del --cgroup fpt-on/child
	out=$(run_in fpt-on/child fpt-touch --size 64 --order reverse); cov=$(kv coverage_pct "$out")
	check inherit-child "$(ge "$cov" 99; echo $?)" "descendant of fpt-on: coverage ${cov}%"
	fpt-nl set --cgroup fpt-mad --mode madvise
	out=$(run_in fpt-mad fpt-touch --size 64 --order random); c1=$(kv coverage_pct "$out")
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
		hints=
		for t in fork-cow mprotect munmap mremap-move mremap-grow dontneed; do
			out=$(run_in fpt-on fpt-integrity $t 2>&1); rc=$?
			check "integrity-$b-$t" $rc "$(echo "$out" | tr '\n' ' ')"
			l=$(echo "$out" | grep "^subtest=$t ")
			hints="$hints $t:$(kv pt_cont "$l")/$(kv runs "$l")"
		done
		# the operations met folded blocks: before each, the hint on
		# every run where the kernel folds fpt's runs, else on none
		if [ -e $PW ]; then
			bad=0
			for h in $hints; do
				c=${h#*:}; r=${c#*/}; c=${c%/*}
				if [ "$b" = folio ] && [ $CONT_FOLIO = 1 ]; then
					[ "$c" = "$r" ] && [ "$r" -gt 0 ] || bad=1
				else
					[ "$c" = 0 ] || bad=1
				fi
			done
			check "integrity-$b-pte-cont" $bad "before each operation, PTE_CONT on (hinted/runs)$hints"
		fi
		if [ "$b" = folio ]; then
			# a write to the shared zero page is copied by wp_page_copy(),
			# 4 KB at a time: never a 64 KB folio there (on arm64 it
			# allocates through the hooked vma_alloc_zeroed_movable_folio())
			out=$(run_in fpt-on fpt-touch --size 16 --read-first --fill --order reverse --counter /sys/kernel/fpt/stats/runs); rc=$?
			check zeropage-cow-folio "$([ $rc = 0 ] && [ "$(kv compound "$out")" = 0 ] && [ "$(kv counter_delta "$out")" = 0 ] && [ "$(kv pt_cont "$out")" -le 0 ]; echo $?)" \
				"read, then written: compound $(kv compound "$out"), fpt runs +$(kv counter_delta "$out"), pt_cont $(kv pt_cont "$out"), pattern_errors $(kv pattern_errors "$out"), rc $rc"
		fi
		out=$(run_in fpt-on fpt-touch --size 64 --dirty 128 --verify-zero --order reverse); rc=$?
		check "zero-$b" "$([ $rc = 0 ] && [ "$(kv nonzero_pages "$out")" = 0 ]; echo $?)" "$out"
	done
	# userfaultfd armed (write-protect mode): per-page fidelity, 4 KB pages
	for b in $(echo "$BACKENDS" | tr -d '[]'); do
		fpt-nl set --cgroup fpt-on --mode on --backend "$b" >/dev/null
		u0=$(stat_of fpt-on fallback_uffd)
		out=$(run_in fpt-on fpt-uffd); rc=$?
		u1=$(stat_of fpt-on fallback_uffd)
		if [ $rc = 77 ]; then
			skip "uffd-$b" "$KREL $ARCH has no userfaultfd write-protect for anonymous memory: $out"
			continue
		fi
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

# --- the administrator's settings ----------------------------------------------
# fpt writes no THP knob and no sysctl: loading, arming, disarming and
# unloading leave every setting as the administrator wrote it, and what
# they write while fpt is armed takes effect at once for every process fpt
# does not opt in.  Hooks are disarmed lazily: wait for it.
armed() { grep -q '\[fpt\]' /sys/kernel/tracing/enabled_functions 2>/dev/null; }
wait_disarmed() {
	n=0
	while armed; do
		n=$((n + 1)); [ $n -gt 100 ] && return 1
		sleep 0.2
	done
	return 0
}
setting() { sed 's/.*\[\(.*\)\].*/\1/' "$1"; }
if want admin; then
	echo never > $THP/enabled
	[ -e $MTHP ] && echo never > $MTHP
	# every write of a THP knob makes the kernel recompute min_free_kbytes
	# (khugepaged): the value is the administrator's from here on, and
	# only fpt's own operations follow
	echo 4096 > /proc/sys/vm/min_free_kbytes
	m0=$(dmesg | wc -l)
	fpt-nl set --cgroup fpt-on --mode on >/dev/null
	armed; a=$?
	mfk_armed=$(cat /proc/sys/vm/min_free_kbytes)
	fpt-nl del --all >/dev/null
	wait_disarmed; d=$?
	mfk_disarmed=$(cat /proc/sys/vm/min_free_kbytes)
	rmmod fpt && insmod $KO; rl=$?
	mfk_reload=$(cat /proc/sys/vm/min_free_kbytes)
	raised=$(dmesg | tail -n +"$m0" | grep -c 'min_free_kbytes')
	check admin-armed-disarmed "$([ $a = 0 ] && [ $d = 0 ]; echo $?)" "hooks armed with a policy (rc $a), gone after the last policy (rc $d)"
	check admin-min-free-kbytes "$([ "$mfk_armed$mfk_disarmed$mfk_reload" = 409640964096 ] && [ $rl = 0 ] && [ "$raised" = 0 ]; echo $?)" \
		"4096 set; armed $mfk_armed, disarmed $mfk_disarmed, after rmmod+insmod $mfk_reload; min_free_kbytes lines in dmesg: $raised"
	if [ -e $MTHP ]; then
		# the administrator writes the 64 KB setting while fpt is armed
		fpt-nl set --cgroup fpt-on --mode on >/dev/null
		echo madvise > $MTHP; rb=$(setting $MTHP)
		fpt-nl del --all >/dev/null
		wait_disarmed
		rmmod fpt && insmod $KO
		check admin-64k-write-kept "$([ "$rb" = madvise ] && [ "$(setting $MTHP)" = madvise ]; echo $?)" \
			"madvise written while armed: read back $rb while armed, $(setting $MTHP) after disarm and reload"
		# inherit + THP always: the administrator's own 64 KB folios for
		# everybody, fpt armed or not; then THP never: for nobody
		K2M=$THP/hugepages-2048kB/enabled; k2m=$(setting $K2M)
		echo never > $K2M; echo inherit > $MTHP; echo always > $THP/enabled
		fpt-nl set --cgroup fpt-on --mode on >/dev/null
		o1=$(fpt-touch --size 32 --order reverse)
		echo never > $THP/enabled
		o2=$(fpt-touch --size 32 --order reverse)
		check admin-inherit-followed "$([ "$(kv runs "$o1")" -gt 0 ] && [ "$(kv compound "$o2")" = 0 ]; echo $?)" \
			"outside, 64kB inherit: THP always -> runs $(kv runs "$o1") compound $(kv compound "$o1"); then THP never -> compound $(kv compound "$o2")"
		# a smaller size the administrator enables: everybody else gets
		# it, the opted-in cgroup 64 KB runs
		echo never > $MTHP; echo always > $THP/hugepages-32kB/enabled
		o1=$(fpt-touch --size 32 --order reverse)
		o2=$(run_in fpt-on fpt-touch --size 32 --order reverse)
		check admin-32k-kept "$([ "$(kv compound "$o1")" -gt 0 ] && [ "$(kv runs "$o1")" = 0 ] && ge "$(kv coverage_pct "$o2")" 99; echo $?)" \
			"32kB always: outside compound $(kv compound "$o1") runs $(kv runs "$o1"); opted in coverage $(kv coverage_pct "$o2")%"
		echo never > $THP/hugepages-32kB/enabled; echo "$k2m" > $K2M
		fpt-nl del --all >/dev/null
	fi
	echo never > $THP/enabled
	[ -e $MTHP ] && echo never > $MTHP
fi

# --- shared memory --------------------------------------------------------------
# MAP_SHARED anonymous, SysV shm and memfd of an opted-in process in 64 KB
# runs: the kernel's own order-4 folios where its shmem allocates large
# folios (6.12), reservations of shmem objects where it does not (6.1); the
# refusal visible where fpt cannot hook shmem.  Regions are touched high
# to low.  SHM_RESV: shared memory comes from reservations here.
SHM_RESV=1
[ -e $THP/hugepages-64kB/shmem_enabled ] && SHM_RESV=0
if want shmem; then
	# what fptctl tells the operator, from the module's FPT_A_FEATURES
	if command -v fptctl >/dev/null; then
		exp="not covered"
		grep -qw shmem /sys/kernel/fpt/features && exp=covered
		st=$(fptctl status | grep '^shared memory:')
		check shmem-fptctl-status "$(echo "$st" | grep -q "^shared memory: $exp"; echo $?)" \
			"/sys/kernel/fpt/features '$(cat /sys/kernel/fpt/features)'; fptctl status: $st"
	fi
	if grep -qw shmem /sys/kernel/fpt/features; then
		fpt-nl set --cgroup fpt-on --mode on >/dev/null
		for k in anon sysv memfd; do
			o1=$(run_in fpt-on fpt-shm $k --size 32 --fill)
			o2=$(fpt-shm $k --size 32 --fill)
			info "shmem $k: opted in: $o1; outside: $o2"
			check "shmem-$k" "$(ge "$(kv coverage_pct "$o1")" 99 && [ "$(kv addr_mod64k "$o1")" = 0 ] &&
				[ "$(kv pattern_errors "$o1")" = 0 ] && [ "$(kv compound "$o2")" = 0 ] &&
				le "$(kv coverage_pct "$o2")" "$(awk -v b="$BASE_COV" 'BEGIN { print b + 5 }')"; echo $?)" \
				"opted in: coverage $(kv coverage_pct "$o1")%, start mod 64 KB $(kv addr_mod64k "$o1"); outside: coverage $(kv coverage_pct "$o2")% compound $(kv compound "$o2")"
		done
		for t in "anon --fork" "memfd --fork" "sysv --fork" "memfd --truncate" "memfd --punch" "anon --punch" "sysv --rmid-attached"; do
			# shellcheck disable=SC2086 # kind and option are two words
			out=$(run_in fpt-on fpt-shm $t --size 8 2>&1); rc=$?
			check "shmem-data-$(echo "$t" | tr -d ' -')" "$([ $rc = 0 ] && [ "$(kv pattern_errors "$out")" = 0 ] && [ "$(kv zero_errors "$out")" = 0 ]; echo $?)" "$out"
		done
		# whose policy: the faulting task's; an outside process attaching
		# the segment gets 4 KB pages for what it faults, and leaves the
		# opted-in process's runs alone
		fpt-shm sysv --key 4242 --remove 2>/dev/null
		o1=$(run_in fpt-on fpt-shm sysv --key 4242 --keep --size 16 --half first)
		o2=$(fpt-shm sysv --key 4242 --attach-only --size 16)
		fpt-shm sysv --key 4242 --remove 2>/dev/null
		check shmem-faulting-task "$(ge "$(kv coverage_pct "$o1")" 49 && [ "$(kv runs "$o2")" = "$(kv runs "$o1")" ]; echo $?)" \
			"opted in touched the first half: runs $(kv runs "$o1") ($(kv coverage_pct "$o1")% of the segment); outside then all of it: runs $(kv runs "$o2")"
		# A dead object's reservations go with it, at once: a segment
		# whose windows the opted-in process filled half (reservations
		# hold the other 8 pages of each), then removed
		fpt-shm sysv --key 4243 --remove 2>/dev/null
		h0=$(gstat resv_unused_pages) m0=$(misc_kb)
		o1=$(run_in fpt-on fpt-shm sysv --key 4243 --keep --size 8 --partial 8)
		h1=$(gstat resv_unused_pages) m1=$(misc_kb)
		fpt-shm sysv --key 4243 --remove; rrc=$?
		h2=$(gstat resv_unused_pages) m2=$(misc_kb)
		info "shmem half-filled 8 MB segment: held $h0 -> $h1 -> $h2 pages after IPC_RMID (rc=$rrc); non-slab reclaimable $m0 -> $m1 -> $m2 kB; $o1"
		if [ $SHM_RESV = 1 ]; then
			check shmem-evict-releases "$([ $rrc = 0 ] && [ $((h1 - h0)) -ge 1000 ] && [ $((m1 - m0)) -ge 3200 ] && [ "$h2" -le "$h0" ] && [ $((m2 - m0)) -lt 400 ]; echo $?)" \
				"held +$((h1 - h0)) pages (+$((m1 - m0)) kB reclaimable) with the segment, $((h2 - h0)) pages ($((m2 - m0)) kB) after IPC_RMID (rc=$rrc)"
		fi
		info "shmem counters: $(fpt-nl stats --cgroup fpt-on | tr ' ' '\n' | grep '^shmem_' | tr '\n' ' ')"
		fpt-nl del --all >/dev/null
		# memory.max on the owning cgroup: under it, runs and data;
		# beyond it, the same OOM as without fpt
		echo 64M > $CG/fpt-mem/memory.max
		fpt-nl set --cgroup fpt-mem --mode on >/dev/null
		out=$(run_in fpt-mem fpt-shm anon --size 40 --fill); rc1=$?
		echo "fpt-test: expected-oom begin" > /dev/kmsg
		run_in fpt-mem fpt-shm anon --size 100 --fill >/dev/null 2>&1; rc2=$?
		fpt-nl set --cgroup fpt-mem --mode off >/dev/null
		run_in fpt-mem fpt-shm anon --size 100 --fill >/dev/null 2>&1; rc3=$?
		echo "fpt-test: expected-oom end" > /dev/kmsg
		check shmem-memcg "$([ $rc1 = 0 ] && ge "$(kv coverage_pct "$out")" 99 && [ "$(kv pattern_errors "$out")" = 0 ] && [ $rc2 = $rc3 ] && [ $rc2 != 0 ]; echo $?)" \
			"memory.max 64M: 40 MB rc=$rc1 coverage $(kv coverage_pct "$out")% pattern errors $(kv pattern_errors "$out"); 100 MB rc=$rc2 with fpt, rc=$rc3 without"
		fpt-nl del --cgroup fpt-mem >/dev/null
	else
		check shmem-not-covered-visible "$([ -z "$(cat /sys/kernel/fpt/features)" ]; echo $?)" \
			"fpt found no shmem hook point on this kernel ($(dmesg | grep -m1 'shared memory not covered')): /sys/kernel/fpt/features '$(cat /sys/kernel/fpt/features)'"
	fi
fi

# --- many opted-in processes at once, one outside -------------------------------
if want parallel; then
	fpt-nl set --cgroup fpt-on --mode on --backend $DEF >/dev/null
	for i in 1 2 3 4 5 6 7 8; do
		run_in fpt-on fpt-touch --size 24 --order reverse --fill > /tmp/par.$i &
	done
	fpt-touch --size 64 --order reverse > /tmp/par.out
	wait
	bad=0 covs=
	for i in 1 2 3 4 5 6 7 8; do
		c=$(kv coverage_pct "$(cat /tmp/par.$i)"); covs="$covs $c"
		ge "$c" 99 && [ "$(kv pattern_errors "$(cat /tmp/par.$i)")" = 0 ] || bad=1
	done
	out=$(cat /tmp/par.out)
	check parallel-opted "$bad" "8 opted-in processes at once: coverage$covs"
	check parallel-outside "$([ "$(kv runs "$out")" = 0 ] && [ "$(kv compound "$out")" = 0 ]; echo $?)" \
		"the outside process meanwhile: runs $(kv runs "$out") compound $(kv compound "$out")"

	# while a policy exists (hooks armed), setting and removing another
	# one touches no hook: 20 set+del pairs under a faulting load
	rm -f /tmp/stop
	( while [ ! -e /tmp/stop ]; do run_in fpt-on fpt-touch --size 32 >/dev/null; fpt-touch --size 32 >/dev/null; done ) &
	lpid=$!
	t0=$(cut -d' ' -f1 /proc/uptime)
	ok=0
	for i in $(seq 20); do
		fpt-nl set --cgroup fpt-mad --mode on >/dev/null && fpt-nl del --cgroup fpt-mad >/dev/null && ok=$((ok + 1))
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	touch /tmp/stop; wait $lpid
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 / 20 }')
	check policy-change-fast "$([ $ok = 20 ] && [ "$ms" -lt 500 ]; echo $?)" \
		"$ok of 20 set+del pairs of a second cgroup under load, hooks armed: ${ms} ms a pair (emulated; bound 500 ms)"
	fpt-nl del --all >/dev/null
fi

# --- livepatch ----------------------------------------------------------------
# fpt and a livepatch of the function it hooks exclude each other
# (two IPMODIFY ftrace users): each side must refuse cleanly, -EBUSY.
KLP=/fpt/fpt_test_klp.ko
KLPDIR=/sys/kernel/livepatch/fpt_test_klp
if want livepatch; then
	if [ ! -d /sys/kernel/livepatch ]; then
		skip livepatch "$KREL $ARCH: kernel without livepatch support (CONFIG_LIVEPATCH)"
	elif [ ! -e $KLP ]; then
		fail livepatch "test module fpt_test_klp.ko was not built (build/vm/*/testmod.log)"
	else
		fpt-nl set --cgroup fpt-on --mode on >/dev/null
		out=$(insmod $KLP 2>&1); rc=$?
		check livepatch-refused-while-armed "$([ $rc != 0 ] && [ ! -d $KLPDIR ]; echo $?)" "insmod livepatch with fpt armed: rc=$rc $out"
		fpt-nl del --all >/dev/null
		wait_disarmed
		insmod $KLP; rc=$?
		check livepatch-loads-disarmed "$rc" "insmod livepatch with fpt loaded, no policy: rc=$rc"
		out=$(fpt-nl set --cgroup fpt-on --mode on 2>&1); rc=$?
		g=$(fpt-nl get --cgroup fpt-on 2>&1)
		check livepatch-policy-refused "$(echo "$out" | grep -q 'errno=EBUSY extack="[^"]' && echo "$g" | grep -q ENOENT; echo $?)" "$out; then get: $g"
		rmmod fpt
		out=$(insmod $KO 2>&1); rc=$?
		line=$(dmesg | grep 'fpt:.*already redirected' | tail -n1)
		check livepatch-load-refused "$([ $rc != 0 ] && [ -n "$line" ] && [ ! -e /sys/kernel/fpt ]; echo $?)" "insmod fpt on the livepatched kernel: rc=$rc $out; dmesg: $line"
		echo 0 > $KLPDIR/enabled
		n=0; while [ -d $KLPDIR ] && [ $n -lt 150 ]; do sleep 0.2; n=$((n + 1)); done
		rmmod fpt_test_klp
		insmod $KO && fpt-nl set --cgroup fpt-on --mode on >/dev/null; rc=$?
		check livepatch-gone-fpt-back "$rc" "livepatch disabled and removed: fpt loads and arms (rc=$rc)"
		fpt-nl del --all >/dev/null
	fi
fi

# --- fragmentation -----------------------------------------------------------
if want frag; then
	echo 0 > /proc/sys/vm/compact_unevictable_allowed
	# Proactive compaction (6.1 and 6.12 default 20) defragments in the
	# background at its own pace: with it, how fragmented memory stays
	# during the touch is a race (seen: kcompactd made the blocks, then
	# migrated the 64 KB folios and split them, 180 s of a 2-vCPU guest).
	# Off for this group, restored after.
	pro=$(cat /proc/sys/vm/compaction_proactiveness 2>/dev/null)
	[ -n "$pro" ] && echo 0 > /proc/sys/vm/compaction_proactiveness
	vmc() { grep -E '^(compact_daemon_wake|compact_stall|pgmigrate_success|thp_migration_split) ' /proc/vmstat | tr ' \n' '= '; }
	mkfifo /tmp/frag.in
	fpt-frag < /tmp/frag.in > /tmp/frag.out &
	fpid=$!
	exec 7> /tmp/frag.in
	while ! grep -q READY /tmp/frag.out 2>/dev/null; do sleep 1; done
	info "fragmenter: $(head -n1 /tmp/frag.out)"
	for b in $(echo "$BACKENDS" | tr -d '[]'); do
		fpt-nl set --cgroup fpt-frag --mode on --defrag 0 --backend "$b" >/dev/null
		n0=$(stat_of fpt-frag fallback_no_block)
		v0=$(vmc)
		out=$(run_in fpt-frag fpt-touch --size 96 --order reverse)
		n1=$(stat_of fpt-frag fallback_no_block)
		info "fragmented, $b: $out no_block=$((n1 - n0))"
		info "fragmented, $b: /proc/vmstat before: $v0; after: $(vmc)"
		info "fragmented, $b: $(fpt-nl stats --cgroup fpt-frag)"
		check "frag-$b-no-block-counted" "$([ $((n1 - n0)) -gt 0 ]; echo $?)" "fallback_no_block +$((n1 - n0)), coverage $(kv coverage_pct "$out")%"
	done
	out=$(run_in fpt-off fpt-touch --size 96 --order reverse)
	info "fragmented, not opted in (4 KB baseline): $out"
	exec 7>&-
	wait $fpid
	fpt-nl del --cgroup fpt-frag
	[ -n "$pro" ] && echo "$pro" > /proc/sys/vm/compaction_proactiveness
fi

# --- rmmod while opted-in processes run, and after --------------------------
if want rmmod; then
	fpt-nl set --cgroup fpt-on --mode on --backend $DEF
	mkfifo /tmp/hold.in
	run_in fpt-on fpt-touch --size 64 --fill --hold --order reverse < /tmp/hold.in > /tmp/hold.out &
	hpid=$!
	exec 8> /tmp/hold.in
	while ! grep -q READY /tmp/hold.out 2>/dev/null; do sleep 1; done
	# a sparse toucher on the reserve backend keeps reservations alive
	# through the rmmod: fpt must give their held pages back
	fpt-nl set --cgroup fpt-on --mode on --backend reserve
	mkfifo /tmp/sparse2.in
	run_in fpt-on fpt-touch --size 16 --sparse --hold < /tmp/sparse2.in > /tmp/sparse2.out &
	s2pid=$!
	exec 6> /tmp/sparse2.in
	while ! grep -q READY /tmp/sparse2.out 2>/dev/null; do sleep 1; done
	# and a shared memory segment whose windows are half filled: its
	# reservations (6.1) outlive the process, held until the rmmod
	hs=$(gstat resv_unused_pages) shm_on=0
	fpt-shm sysv --key 4244 --remove 2>/dev/null
	feat=$(cat /sys/kernel/fpt/features)
	if echo "$feat" | grep -qw shmem; then
		shm_on=1
		run_in fpt-on fpt-shm sysv --key 4244 --keep --size 8 --partial 8 >/dev/null
	fi
	hs=$(($(gstat resv_unused_pages) - hs))
	sync; echo 1 > /proc/sys/vm/drop_caches	# not 2: the shrinkers (fpt's) would run
	held=$(gstat resv_unused_pages) u_held=$(unacct_kb) m_held=$(misc_kb)
	# the pages fpt holds are the kernel's reclaimable memory (KReclaimable)
	info "held in reservations at rmmod: $held pages ($((held * 4)) kB); KReclaimable less SReclaimable: $MISC_BEFORE kB before load, $m_held kB now; memory no counter accounts for: $UNACCT_BEFORE kB before load, $u_held kB now"
	check rmmod-held-visible "$([ "$held" -gt 0 ] && [ $((m_held - MISC_BEFORE)) -ge $((held * 4 * 8 / 10)) ]; echo $?)" \
		"reclaimable kernel memory +$((m_held - MISC_BEFORE)) kB with $((held * 4)) kB held by fpt"
	rmmod fpt; rc=$?
	check rmmod-busy "$rc" "rmmod with opted-in processes running: rc=$rc"
	if [ $shm_on = 1 ] && [ $SHM_RESV = 1 ]; then
		check rmmod-shmem-held "$([ $hs -ge 1000 ]; echo $?)" "$hs pages held for a half-filled 8 MB shared memory segment at rmmod"
	fi
	if [ $shm_on = 1 ]; then
		out=$(fpt-shm sysv --key 4244 --attach-only --size 8 2>&1)
		fpt-shm sysv --key 4244 --remove 2>/dev/null
		info "shared memory segment after rmmod, touched whole from outside: $out"
	else
		info "no shared memory segment at rmmod: this kernel's fpt does not cover shared memory (features: '$feat')"
	fi
	[ ! -e /sys/kernel/fpt ]; check rmmod-gone $? "/sys/kernel/fpt removed"
	exec 8>&- 6>&-
	wait $hpid; rc=$?
	check rmmod-data "$([ $rc = 0 ] && grep -q 'after_hold pattern_errors=0' /tmp/hold.out; echo $?)" "$(tr '\n' ' ' < /tmp/hold.out)"
	wait $s2pid
	if [ -e $MTHP ]; then
		grep -q "\[$MTHP_ADMIN\]" $MTHP; check rmmod-mthp-restored $? "64kB: $(cat $MTHP) (was $MTHP_ADMIN)"
	fi
	sync; echo 3 > /proc/sys/vm/drop_caches
	# Not MemFree: free pages parked on the per-CPU lists are not in it
	# (it moved by -25..-62 MB in guests where nothing leaked, issue 8).
	# Pages fpt held and did not give back are counted by no counter of
	# the kernel: compare that, with the free pages (pcp lists included)
	# as information.
	UNACCT_AFTER=$(unacct_kb) FREE_AFTER=$(free_pcp_kb) MISC_AFTER=$(misc_kb)
	d=$((UNACCT_AFTER - UNACCT_BEFORE + MISC_AFTER - MISC_BEFORE))
	info "unaccounted memory before load ${UNACCT_BEFORE} kB, after unload ${UNACCT_AFTER} kB; non-slab reclaimable ${MISC_BEFORE} -> ${MISC_AFTER} kB (diff of both ${d} kB); free incl. per-CPU lists ${FREE_BEFORE} -> ${FREE_AFTER} kB"
	check rmmod-no-leak "$([ $d -lt 1024 ]; echo $?)" "memory counted nowhere or as fpt's after unload vs before load: ${d} kB (bound 1 MB; $((held * 4)) kB were held at rmmod)"
	insmod $KO; check reload $? "insmod after rmmod"

	# insmod/rmmod cycles while processes fault, in and out of the policy
	rm -f /tmp/stop
	(
		while [ ! -e /tmp/stop ]; do
			run_in fpt-on fpt-touch --size 16 --fill --order reverse >/dev/null || echo "FAIL in"
			fpt-touch --size 16 --fill >/dev/null || echo "FAIL out"
		done
	) > /tmp/loop.out 2>&1 &
	lpid=$!
	cyc=0
	for i in 1 2 3 4 5; do
		fpt-nl set --cgroup fpt-on --mode on --backend $DEF >/dev/null &&
			sleep 1 && rmmod fpt && insmod $KO && cyc=$((cyc + 1))
	done
	touch /tmp/stop; wait $lpid
	check reload-under-load "$([ $cyc = 5 ] && ! grep -q FAIL /tmp/loop.out; echo $?)" "$cyc of 5 arm+rmmod+insmod cycles under faulting load; $(grep -c FAIL /tmp/loop.out) touch failures"
	rmmod fpt
fi
exit 0
