#!/bin/sh
# The robustness series (issue 8), in a guest with three NUMA nodes and a
# hot-removable pc-dimm on node 2 (tests/robust/stage.sh).  Each group
# (fpt.tests=a,b filters) checks one promise from outside fpt: pagemap
# PFNs, move_pages nodes, kpageflags, byte patterns, /proc/meminfo, the
# memory block states.  Backends: every one the kernel has (6.12: folio
# and reserve; 6.1: reserve); reserve-only promises run on reserve only.
#   threads   16 threads fault the pages of the same windows at once
#   numa      placement follows the faulting thread / its policy
#   hwpoison  a poisoned held page is never handed out
#   hotremove the dimm's memory blocks go offline within a bound
#   release   reservations go when their reason goes; one cgroup cannot
#             hold the whole global cap
#   counters  per-policy counters survive delete + re-create
#   stress    stress-ng --verify in the opted-in cgroup; with policy churn;
#             with rmmod/insmod under load; free memory back after
#   nlfuzz    the netlink fuzzer, privileged and unprivileged senders
. /fpt/lib.sh
# fpt.robust_set=quick (make check, the default) or full (make check-robust,
# check-soak): rounds, fuzz and stress durations
if [ "${FPT_ROBUST_SET:-quick}" = full ]; then
	ROUNDS=8 FUZZ_S=30 SS_DEF=20 RMCYC_DEF=2
else
	ROUNDS=4 FUZZ_S=15 SS_DEF=10 RMCYC_DEF=1
fi

setup_cgroups fpt-on fpt-off fpt-b fz0 fz1
echo 0 > /proc/sys/kernel/printk_ratelimit 2>/dev/null
echo never > $THP/enabled
MTHP_ADMIN=$([ -e "$MTHP" ] && sed 's/.*\[\(.*\)\].*/\1/' "$MTHP")
info "kernel $KREL, $(nproc) cpus, nodes: $(for n in /sys/devices/system/node/node[0-9]*; do
	echo "$(basename "$n")=$(awk '/MemTotal/ { print $4 }' "$n/meminfo")kB"; done | tr '\n' ' ')"
# the dimm: memory blocks of node 2 onlined in ZONE_MOVABLE
DIMM_BLOCKS=
for b in /sys/devices/system/node/node2/memory[0-9]*; do
	[ -e "$b" ] || continue
	b=/sys/devices/system/memory/$(basename "$b")
	grep -qx Movable "$b/valid_zones" 2>/dev/null && DIMM_BLOCKS="$DIMM_BLOCKS $(basename "$b")"
done
info "hot-removable blocks (node 2, Movable): ${DIMM_BLOCKS:-none}"
settle
U_START=$(unacct_kb) F_START=$(free_pcp_kb)
info "before load: unaccounted ${U_START} kB, free+pcp ${F_START} kB"

fpt_insmod || { fail load "insmod failed"; exit 1; }
BACKENDS=$(backends)
info "backends: $BACKENDS"
has_reserve() { case " $BACKENDS " in *" reserve "*) return 0 ;; esac; return 1; }
policy() { fpt-nl set --cgroup "$1" --mode on --defrag 1 --backend "$2" >/dev/null; }

# --- 16 threads, same windows (item 6) -------------------------------------
if want threads; then
	for b in $BACKENDS; do
		policy fpt-on "$b"
		r0=$(gstat fallback_race)
		out=$(run_in fpt-on fpt-robust threads --threads 16 --windows 64 --rounds "$ROUNDS"); rc=$?
		r1=$(gstat fallback_race)
		held=$(gstat resv_unused_pages)
		info "threads $b: $out fallback_race +$((r1 - r0)) held after exit $held"
		info "threads $b: counters: $(fpt-nl stats --cgroup fpt-on | tr ' ' '\n' | grep -E '^(fallback_|resv_|runs)' | grep -v '=0$' | tr '\n' ' ')"
		check "threads-$b-runs" "$([ $rc = 0 ] && [ "$(kv incomplete "$out")" = 0 ]; echo $?)" \
			"pagemap: $(kv runs "$out") of $(kv windows "$out") windows complete runs, data errors $(kv errors "$out") (fallback_race +$((r1 - r0)))"
		check "threads-$b-nothing-held" "$([ "$held" = 0 ]; echo $?)" "resv_unused_pages after exit: $held"
	done
	fpt-nl del --all >/dev/null
fi

# --- NUMA placement (item 3) -----------------------------------------------
# place: first page of each window from CPU 0 (node 0), the other 15 from
# CPU 1 (node 1), or from CPU 0 with MPOL_BIND node 1.  The reserve backend
# must land pages where the 4 KB baseline does; the folio backend maps 64 KB
# at the first fault, so it is held against the kernel's own 64 KB mTHP.
if want numa; then
	p_default() { run_in "$1" fpt-robust place --windows 64 --first-cpu 0 --rest-cpu 1; }
	p_bind() { run_in "$1" fpt-robust place --windows 64 --first-cpu 0 --rest-cpu 0 --rest-policy bind:1; }
	il() { run_in "$1" fpt-robust interleave --windows 64; }
	b4d=$(p_default fpt-off) b4b=$(p_bind fpt-off) b4i=$(il fpt-off)
	info "numa 4K baseline: $b4d"
	info "numa 4K baseline: $b4b"
	info "numa 4K baseline: $b4i"
	if [ -e "$MTHP" ]; then
		mthp_set always
		bmd=$(p_default fpt-off) bmb=$(p_bind fpt-off) bmi=$(il fpt-off)
		mthp_set "$MTHP_ADMIN"
		info "numa mTHP-always baseline: $bmd"
		info "numa mTHP-always baseline: $bmb"
		info "numa mTHP-always baseline: $bmi"
	fi
	for b in $BACKENDS; do
		policy fpt-on "$b"
		od=$(p_default fpt-on) ob=$(p_bind fpt-on) oi=$(il fpt-on)
		info "numa $b: $od"
		info "numa $b: $ob"
		info "numa $b: $oi"
		# folio: as the kernel's own 64 KB mTHP.  reserve: the same rule
		# (a window's pages come from where its first fault put its
		# block: node 0 here), hard constraints (MPOL_BIND) as at 4 KB.
		if [ "$b" = folio ]; then
			rd=$bmd rb=$bmb
			check "numa-$b-other-cpu" "$([ "$(kv rest_node1 "$od")" -ge $(($(kv rest_node1 "$rd") * 95 / 100)) ]; echo $?)" \
				"pages faulted on CPU 1 (node 1) after CPU 0 took the window: node1 $(kv rest_node1 "$od") (mTHP baseline $(kv rest_node1 "$rd")), node0 $(kv rest_node0 "$od")"
		else
			rb=$b4b
			r0=$(kv rest_node0 "$od") r1=$(kv rest_node1 "$od")
			check "numa-$b-other-cpu" "$([ $((r0 * 100)) -ge $(((r0 + r1) * 95)) ] && [ $((r0 + r1)) -gt 0 ]; echo $?)" \
				"pages faulted on CPU 1 (node 1) after CPU 0 took the window: on the window's node 0 $r0, node1 $r1 (as a 64 KB folio's; 4K baseline node1 $(kv rest_node1 "$b4d"))"
		fi
		check "numa-$b-bind" "$([ "$(kv rest_node1 "$ob")" -ge $(($(kv rest_node1 "$rb") * 95 / 100)) ]; echo $?)" \
			"pages faulted under MPOL_BIND node 1: on node1 $(kv rest_node1 "$ob") (baseline $(kv rest_node1 "$rb")), node0 $(kv rest_node0 "$ob")"
		n0=$(kv node0 "$oi") n1=$(kv node1 "$oi")
		check "numa-$b-interleave" "$([ $((n0 * 10)) -ge $(((n0 + n1) * 4)) ] && [ $((n1 * 10)) -ge $(((n0 + n1) * 4)) ]; echo $?)" \
			"MPOL_INTERLEAVE: node0 $n0 node1 $n1 pages, node changes $(kv node_changes "$oi") (4K baseline $(kv node_changes "$b4i"))"
	done
	fpt-nl del --all >/dev/null
fi

# --- hwpoison (item 2) ------------------------------------------------------
if want hwpoison && has_reserve; then
	if insmod /fpt/hwpoison-inject.ko 2>/dev/null || [ -e /sys/kernel/debug/hwpoison/corrupt-pfn ]; then
		policy fpt-on reserve
		holder hw fpt-on --windows 16 --held /tmp/held.pfns
		info "hwpoison holder: $HOLDER_READY"
		victim=$(sed -n 3p /tmp/held.pfns)
		if [ -z "$victim" ]; then
			fail hwpoison-held "no reservation seen by pagemap: $HOLDER_READY"
			holder_end hw
		else
			echo "$victim" > /sys/kernel/debug/hwpoison/corrupt-pfn 2>/tmp/hw.err
			info "poisoned held pfn $victim: $(fpt-robust kpf "$victim") $(cat /tmp/hw.err)"
			out=$(holder_cmd hw rest)
			holder_cmd hw "dump /tmp/hw.pfns" >/dev/null
			n=$(grep -cx "$victim" /tmp/hw.pfns)
			# every mapped page: none may carry PG_hwpoison
			pois=$(fpt-robust kpf $(cat /tmp/hw.pfns) | grep -c 'hwpoison=1')
			holder_end hw; rc=$?
			check hwpoison-not-handed-out "$([ "$n" = 0 ] && [ "$pois" = 0 ]; echo $?)" \
				"poisoned pfn $victim mapped $n time(s); mapped pages with PG_hwpoison: $pois; after rest: $out"
			check hwpoison-data "$rc" "holder's patterns intact (exit $rc)"
			bad=$(dmesg | grep -iE 'mce|machine check|bad page' | grep -v 'Memory failure' | head -n3)
			check hwpoison-dmesg "$([ -z "$bad" ]; echo $?)" "${bad:-no MCE-like or bad page lines}"
			info "hwpoison dmesg: $(dmesg | grep -i 'memory failure' | tail -n2 | tr '\n' ' ')"
		fi
		fpt-nl del --all >/dev/null
	else
		fail hwpoison-setup "cannot load hwpoison-inject.ko"
	fi
fi

# --- memory hot-remove (item 1) --------------------------------------------
# offline_blocks: each dimm block offline (bounded: a block that does not
# go offline in 30 s is interrupted), prints "ok=N failed=M ms=T".
offline_blocks() {
	okn=0 badn=0 t0=$(now_ms)
	for blk in $DIMM_BLOCKS; do
		if timeout 30 sh -c "echo offline > /sys/devices/system/memory/$blk/state" 2>/dev/null; then
			okn=$((okn + 1))
		else
			badn=$((badn + 1))
		fi
	done
	echo "ok=$okn failed=$badn ms=$(($(now_ms) - t0))"
}
online_blocks() {
	for blk in $DIMM_BLOCKS; do
		grep -qx online "/sys/devices/system/memory/$blk/state" ||
			echo online_movable > "/sys/devices/system/memory/$blk/state" 2>/dev/null
	done
}
if want hotremove; then
	if [ -z "$DIMM_BLOCKS" ]; then
		fail hotremove-setup "no Movable memory block on node 2 (pc-dimm missing?)"
	else
		holder hr fpt-off --windows 256 --bind 2
		out=$(offline_blocks)
		holder_end hr
		info "hot-remove, 4K baseline (16 MB bound to node 2): $out; holder $HOLDER_READY"
		check hotremove-baseline "$([ "$(kv failed "$out")" = 0 ]; echo $?)" "$out"
		online_blocks
		for b in $BACKENDS; do
			policy fpt-on "$b"
			holder hr fpt-on --windows 256 --bind 2
			out=$(offline_blocks)
			info "hot-remove, $b: $out; holder $HOLDER_READY; held $(gstat resv_unused_pages) pages"
			check "hotremove-$b" "$([ "$(kv failed "$out")" = 0 ]; echo $?)" \
				"offline of $(echo $DIMM_BLOCKS | wc -w) block(s) holding opted-in memory: $out (bound 30 s per block)"
			holder_end hr; rc=$?
			check "hotremove-$b-data" "$rc" "holder's patterns after the offline attempt: exit $rc"
			online_blocks
			out=$(offline_blocks)
			check "hotremove-$b-after-exit" "$([ "$(kv failed "$out")" = 0 ]; echo $?)" "offline once the process is gone: $out"
			online_blocks
		done
		fpt-nl del --all >/dev/null
	fi
fi

# --- release (item 4) -------------------------------------------------------
# A holder in fpt-on keeps 64 reservations (14 pages each held, unmapped).
# After each action the held memory must go back: the module's counter and,
# from outside, the memory no kernel counter accounts for.
release_case() {
	name=$1 action=$2
	policy fpt-on reserve
	holder rel fpt-on --windows 64
	settle
	# held pages count in the kernel's vmstat as reclaimable kernel memory
	# that is not slab (misc_kb: KReclaimable less SReclaimable); what
	# goes back leaves it (the unaccounted rest moves by MBs on its own)
	u0=$(misc_kb) g0=$(gstat resv_unused_pages)
	eval "$action"
	sleep 2
	settle
	u1=$(misc_kb) g1=$(gstat resv_unused_pages)
	res=$(kv reserved "$HOLDER_READY")
	want_kb=$((res * 14 * 4))
	info "release $name: $HOLDER_READY; resv_unused_pages $g0 -> $g1; unaccounted $u0 -> $u1 kB"
	check "release-$name" "$([ "$res" -gt 0 ] && [ $((u0 - u1)) -ge $((want_kb * 8 / 10)) ] && [ "$g1" -lt "$g0" ]; echo $?)" \
		"$res reservations ($want_kb kB held): reclaimable kernel memory (not slab) fell $((u0 - u1)) kB, resv_unused_pages $g0 -> $g1"
	echo 1 > /sys/kernel/fpt/enabled
	holder_end rel || fail "release-$name-data" "holder's data patterns broken"
	fpt-nl del --all >/dev/null 2>&1
}
if want release && has_reserve; then
	# An idle reservation goes with the reaper (unused for 60 s twice,
	# its second chance; the reaper runs every 30 s), however few pages
	# it holds: here one window's 14, less than one per-CPU batch of the
	# held counter, which a batched read took for none.  Up to 4 min:
	# the full set only (make check-robust).
	if [ "${FPT_ROBUST_SET:-quick}" = full ]; then
		policy fpt-on reserve
		settle
		mb=$(misc_kb)
		holder idle fpt-on --windows 1
		m0=$(misc_kb) r0=$(gstat resv_reclaimed) t=0
		while [ $t -lt 240 ] && [ "$(misc_kb)" -gt "$mb" ]; do sleep 10; t=$((t + 10)); done
		m1=$(misc_kb) r1=$(gstat resv_reclaimed)
		holder_end idle; rc=$?
		check release-idle "$([ $rc = 0 ] && [ $((m0 - mb)) -ge 56 ] && [ "$m1" -le "$mb" ] && [ $r1 -gt $r0 ]; echo $?)" \
			"$HOLDER_READY, left idle: reclaimable kernel memory (not slab) $mb -> $m0 -> $m1 kB after $t s, resv_reclaimed +$((r1 - r0)), data exit $rc"
		fpt-nl del --all >/dev/null 2>&1
	fi
	release_case policy-delete 'fpt-nl del --cgroup fpt-on >/dev/null'
	release_case enabled-0 'echo 0 > /sys/kernel/fpt/enabled'
	release_case mode-off 'fpt-nl set --cgroup fpt-on --mode off >/dev/null'
	# A task moved to another policy's cgroup and MADV_NOHUGEPAGE release
	# a window's reservation at the process's next fault in it
	# (fallback_moved; the fault gets a 4 KB page).  Windows it never
	# touches again, and a move to a cgroup without a policy (whose faults
	# fpt never sees), go with the reaper (unused for a minute) or the
	# shrinker.
	release_case cgroup-move 'policy fpt-b reserve; echo $HOLDER_PID > $CG/fpt-b/cgroup.procs; holder_cmd rel rest >/dev/null'
	release_case madv-nohugepage 'holder_cmd rel nohuge >/dev/null; holder_cmd rel rest >/dev/null'

	# one cgroup must not hold the whole global cap.  The cap is set to a
	# multiple of 15 pages (256 reservations' worth: 15360 kB) so that the
	# hog can fill it exactly; with the default (1/128 of RAM) the room it
	# leaves is an accident of rounding.
	echo 15360 > /sys/module/fpt/parameters/max_unused_kb
	policy fpt-on reserve
	policy fpt-b reserve
	mkfifo /tmp/hog.in
	run_in fpt-on fpt-touch --size 512 --sparse --hold </tmp/hog.in >/tmp/hog.out &
	hpid=$!
	exec 9>/tmp/hog.in
	while ! grep -q READY /tmp/hog.out 2>/dev/null; do sleep 1; done
	c0=$(stat_of fpt-b fallback_cap)
	out=$(run_in fpt-b fpt-touch --size 64 --order reverse)
	c1=$(stat_of fpt-b fallback_cap)
	info "cap: hog (1 page per 64 KB of 512 MB) holds $(gstat resv_unused_pages) pages (max_unused_kb $(cat /sys/module/fpt/parameters/max_unused_kb)); other cgroup: $out fallback_cap +$((c1 - c0))"
	check release-cap-fair "$([ "$(kv coverage_pct "$out" | cut -d. -f1)" -ge 90 ]; echo $?)" \
		"a second cgroup's 64 MB sequential touch while one cgroup holds the cap: coverage $(kv coverage_pct "$out")%, fallback_cap +$((c1 - c0))"
	exec 9>&-
	wait $hpid
	echo 0 > /sys/module/fpt/parameters/max_unused_kb
	fpt-nl del --all >/dev/null
fi

# --- counters (item 5) ------------------------------------------------------
if want counters && has_reserve; then
	policy fpt-on reserve
	holder cnt fpt-on --windows 64
	fpt-nl del --cgroup fpt-on >/dev/null
	policy fpt-on reserve
	holder_end cnt
	v=$(stat_of fpt-on resv_unused_pages)
	g=$(gstat resv_unused_pages)
	row=$(grep ' /fpt-on ' /proc/fpt)
	info "counters: policy re-created while 64 reservations lived; after exit: policy resv_unused_pages=$v global=$g"
	check counters-no-wrap "$(awk -v v="$v" -v g="$g" 'BEGIN { exit !(v + 0 < 1e15 && g + 0 < 1e15) }'; echo $?)" \
		"resv_unused_pages: policy $v, global $g (/proc/fpt: $(echo "$row" | cut -c1-80))"
	fpt-nl del --all >/dev/null
fi

# --- netlink fuzzer ---------------------------------------------------------
if want nlfuzz; then
	run_in fz0 fpt-touch --size 16 >/dev/null &
	out=$(fpt-nlfuzz --seconds "$FUZZ_S" --senders 2 --unpriv 1 $CG/fz0 $CG/fz1 $CG/fpt-on 2>&1); rc=$?
	wait
	echo "$out" | sed 's/^/@@INFO nlfuzz: /'
	check nlfuzz "$rc" "$(echo "$out" | tail -n1)"
	fpt-nl del --all >/dev/null 2>&1
fi

# --- stress-ng --verify (with churn, with rmmod cycles) ---------------------
# stressors bounded in memory (RLIMIT_DATA 192 MB each) and time; the same
# run outside fpt is the baseline.
STRESS="--vm 1 --vm-bytes 48M --vm-method all --mmap 1 --mmap-bytes 32M --mremap 1 --mremap-bytes 16M
 --madvise 1 --brk 1 --stack 1 --fork 1 --mmapfork 1 --userfaultfd 1 --userfaultfd-bytes 32M
 --verify --metrics-brief --verbose --temp-path /tmp"
stress() { # stress CGROUP SECONDS TAG -> prints "rc=.. fails=.."; log /tmp/stress-TAG.log
	m=$(dmesg | wc -l)
	( ulimit -d 196608; run_in "$1" stress-ng $STRESS --timeout "$2" ) >/tmp/stress-$3.log 2>&1
	rc=$?
	# a non-zero exit: what stress-ng said about it
	[ $rc = 0 ] || grep -iE 'passed:|failed:|skipped:|untrustworthy|unsuccessful|error|abort|status|killed|oom|signal|fail|no resource|not implemented' /tmp/stress-$3.log |
		grep -v 'exited with status 0\|metrc' | tail -n 16 | sed 's/^/@@INFO   stress-ng said: /' >&2
	stress_result "$3" $rc "$m"
}
# stress_result TAG RC DMESG_LINE: "rc=.. fails=.. killed=.." of the run
# logged in /tmp/stress-TAG.log that began at dmesg line DMESG_LINE
stress_result() {
	f=$(grep -ciE '^stress-ng: fail:|verif[a-z]* (error|fail)|corrupt' /tmp/stress-$1.log)
	echo "rc=$2 fails=$f killed=$(killed_set /tmp/stress-$1.log "$3")"
}
# killed_set LOG DMESG_LINE: the stressors stress-ng saw die of a signal, as
# "name:signal,..." ("-").  stress-ng 0.15's madvise stressor poisons pages
# of its own with MADV_HWPOISON, from threads that block SIGBUS: when one is
# a dirty page the kernel sends SIGBUS ("Memory failure: ...: Sending SIGBUS
# to stress-ng-madvi") and the stressor dies, with or without fpt (a clean
# page is dropped quietly; which it hits is chance).  Such a death, with the
# kernel's line in dmesg after line DMESG_LINE, is "madvise:7:hwpoison".
killed_set() {
	s=$(sed -n 's/.*process \[[0-9]*\] (\([a-z-]*\)) terminated on signal: \([0-9]*\).*/\1:\2/p' "$1" | sort -u | paste -sd, -)
	if dmesg | tail -n +"$(($2 + 1))" | grep -q 'Sending SIGBUS to stress-ng-madvi'; then
		s=$(echo "$s" | sed 's/\(^\|,\)madvise:7\(,\|$\)/\1madvise:7:hwpoison\2/')
	fi
	echo "${s:--}"
}
# stress_ok OUT BASE: no fail: line and no stressor killed that the
# baseline run did not lose the same way, but for the madvise stressor's
# own hwpoison (above); the exit status follows those
stress_ok() {
	[ "$(kv fails "$1")" = 0 ] || return 1
	for k in $(kv killed "$1" | tr ',' ' '); do
		case $k in -|*:hwpoison) continue ;; esac
		case ",$(kv killed "$2")," in *",$k,"*) ;; *) return 1 ;; esac
	done
	return 0
}
SS=${FPT_STRESS_SECS:-$SS_DEF}	# fpt.stress_secs= (make check-soak: 300)
if want stress; then
	base=$(stress fpt-off "$SS" base)
	info "stress-ng $SS s, not opted in: $base"
	grep -iE 'fail|error' /tmp/stress-base.log | head -n5 | sed 's/^/@@INFO   /'
	info "stress-ng outside fpt is the baseline: $base"
	for b in $BACKENDS; do
		policy fpt-on "$b"
		r0=$(gstat runs)
		out=$(stress fpt-on "$SS" "$b")
		info "stress-ng $SS s, $b: $out, runs +$(($(gstat runs) - r0))"
		grep -iE 'fail|error' /tmp/stress-$b.log | head -n5 | sed 's/^/@@INFO   /'
		check "stress-$b" "$(stress_ok "$out" "$base"; echo $?)" "$out (baseline $base)"
	done
	# rmmod/insmod cycles under load, then policy churn (last: on
	# 6.12 it has crashed the kernel, issue 8 report)
	b=$(echo "$BACKENDS" | awk '{ print $NF }')
	policy fpt-on "$b"
	# an rmmod under load waits ~10-30 s (RCU tasks): the load lasts for
	# RMCYC cycles of up to 40 s
	RMCYC=${FPT_RMMOD_CYCLES:-$RMCYC_DEF}
	m=$(dmesg | wc -l)
	( ulimit -d 196608; run_in fpt-on stress-ng $STRESS --timeout $((RMCYC * 40 + 10)) ) >/tmp/stress-rmmod.log 2>&1 &
	spid=$!
	sleep 3
	cyc=0
	rmfail=0
	: >/tmp/rmmod.ms
	while [ $cyc -lt "$RMCYC" ] && kill -0 $spid 2>/dev/null; do
		t0=$(now_ms)
		rmmod fpt || rmfail=$((rmfail + 1))
		t1=$(now_ms)
		fpt_insmod || rmfail=$((rmfail + 1))
		policy fpt-on "$b"
		echo "$((t1 - t0))" >>/tmp/rmmod.ms
		info "rmmod under stress-ng: $((t1 - t0)) ms"
		cyc=$((cyc + 1))
		sleep 3
	done
	wait $spid; rc=$?
	out=$(stress_result rmmod $rc "$m")
	info "rmmod under load: $(sort -n /tmp/rmmod.ms | tr '\n' ' ')ms"
	check stress-rmmod "$(stress_ok "$out" "$base" && [ $rmfail = 0 ] && [ $cyc -ge "$RMCYC" ]; echo $?)" \
		"stress-ng $out (baseline $base), $cyc rmmod/insmod cycles ($rmfail failed), rmmod took $(sort -n /tmp/rmmod.ms | tr '\n' ' ')ms"
	# policy churn under load: each change timed
	policy fpt-on "$b"
	m=$(dmesg | wc -l)
	( ulimit -d 196608; run_in fpt-on stress-ng $STRESS --timeout $((SS + 20)) ) >/tmp/stress-churn.log 2>&1 &
	spid=$!
	sleep 3
	: >/tmp/churn.ms
	t_end=$(($(now_ms) + (SS + 10) * 1000))
	while [ "$(now_ms)" -lt $t_end ] && kill -0 $spid 2>/dev/null; do
		t0=$(now_ms); echo 0 > /sys/kernel/fpt/enabled; t1=$(now_ms)
		echo 1 > /sys/kernel/fpt/enabled; t2=$(now_ms)
		fpt-nl del --cgroup fpt-on >/dev/null; t3=$(now_ms)
		policy fpt-on "$b"; t4=$(now_ms)
		echo "enabled0 $((t1 - t0))" >>/tmp/churn.ms; echo "enabled1 $((t2 - t1))" >>/tmp/churn.ms
		echo "del $((t3 - t2))" >>/tmp/churn.ms; echo "set $((t4 - t3))" >>/tmp/churn.ms
		info "churn cycle ($b, under stress-ng): enabled=0 $((t1 - t0)) ms, enabled=1 $((t2 - t1)) ms, policy del $((t3 - t2)) ms, policy set $((t4 - t3)) ms"
	done
	wait $spid; rc=$?
	out=$(stress_result churn $rc "$m")
	n=$(grep -c '' /tmp/churn.ms)
	stats=$(sort -k2 -n /tmp/churn.ms | awk '{ v[NR] = $2; s += $2 } END { if (NR) printf "n=%d median=%dms max=%dms mean=%dms", NR, v[int((NR + 1) / 2)], v[NR], s / NR }')
	for op in enabled0 enabled1 del set; do
		info "policy change under load, $op: $(awk -v o=$op '$1 == o { print $2 }' /tmp/churn.ms | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "n=%d median=%dms max=%dms", NR, v[int((NR + 1) / 2)], v[NR] }')"
	done
	info "stress-ng with policy churn ($b): rc=$rc fails=$(kv fails "$out"); changes: $stats"
	check stress-churn "$(stress_ok "$out" "$base" && [ "$n" -ge 4 ]; echo $?)" \
		"stress-ng $out (baseline $base), $((n / 4)) churn cycles in $((SS + 10)) s: $stats"

	fpt-nl del --all >/dev/null
fi

# --- unload; free memory back ----------------------------------------------
echo 1 > /sys/kernel/fpt/enabled 2>/dev/null
rmmod fpt; check unload $? "rmmod at the end"
settle
U_END=$(unacct_kb) F_END=$(free_pcp_kb)
info "after unload: unaccounted ${U_END} kB (start ${U_START}), free+pcp ${F_END} kB (start ${F_START})"
check memory-back "$([ $((U_END - U_START)) -lt 1024 ]; echo $?)" \
	"memory no counter accounts for: ${U_START} kB before load, ${U_END} kB after everything exited and fpt was unloaded (bound +1 MB)"
exit 0
