#!/bin/sh
# The benchmark inside a test guest (busybox sh; run by tests/vm/guest-init.sh
# as /fpt/guest-bench.sh, see bench/run.sh).  One boot measures every
# configuration this kernel supports, interleaved, so that ratios between
# them mean something under the emulator.  `make bench` (wall-clock time)
# and `make bench-icount` (instruction counts: QEMU -icount, one vCPU) both
# run it, with different parameters (bench/run.sh).  Configurations:
#
#   base4k       4 KB pages: module not loaded, mTHP 64kB never, THP as
#                FPT_BASE_THP (madvise; bench-icount: never)
#   mthp64k      the kernel's own 64 KB mTHP, hugepages-64kB = always, module
#                NOT loaded (fpt forces that switch while loaded) -- 6.12
#   thp2m        2 MB THP, as FPT_THP2M: "madvise" = MADV_HUGEPAGE on the
#                region (servers: THP always); "always" = THP always
#   fpt_off      fpt.ko loaded, a mode-off policy on another cgroup, the
#                process in a cgroup without a policy
#   fpt_loaded   fpt.ko loaded, no policy at all (loaded-no-policy)
#   fpt_armed    fpt.ko loaded, a mode-on policy (default backend) on another
#                cgroup, the process in a cgroup without a policy
#                (armed-not-opted-in)
#   fpt_folio    fpt.ko, cgroup opted in, folio backend -- 6.12
#   fpt_reserve  fpt.ko, cgroup opted in, reserve backend
#
# Each round runs every workload in every configuration: the configurations
# without the module, insmod, those with it, rmmod (odd rounds start with
# the module loaded), the order of the configurations rotating per round.
# With FPT_WARMUP=1 a round 0 goes first, the same as the others (its lines
# say round=0; the report leaves them out).
# One line per measurement:
#   @@BENCH kernel=K round=R config=C workload=W <the program's key=value>
#           fallbacks=N|-
# fallbacks: fpt's fallback_* counters of the cgroup's policy (fpt_*), the
# kernel's hugepages-64kB/stats/anon_fault_fallback(+_charge) (mthp64k) or
# /proc/vmstat thp_fault_fallback (thp2m), as deltas over the run.
#
# Parameters (kernel command line fpt.* -> FPT_*): FPT_ROUNDS (3),
# FPT_SIZE (MB, 128), FPT_SPARSE_SIZE (MB, 256), FPT_OPS (2000000),
# FPT_PASSES (2), FPT_FORKS (16) and FPT_FORK_SIZE (MB, 8) of fork,
# FPT_CHURN_SIZE (MB allocated, 64) and FPT_BLOCK (KB, 256) of churn,
# FPT_WORKLOADS (touch,gups,seqread,cow,sparse,redis,memcached; also fork,
# churn), FPT_CONFIGS (default: base4k,mthp64k,thp2m,fpt_off,fpt_folio,
# fpt_reserve, those that apply), FPT_REDIS_KEYS (20000), FPT_REDIS_VALUE
# (10000), FPT_REDIS_KEYSPACE (-r of redis-benchmark; default
# FPT_REDIS_KEYS), FPT_MC_KEYS (20000), FPT_MC_VALUE (10000), FPT_GETS
# (10000; 0: no GET phase), FPT_BASE_THP (madvise), FPT_THP2M (madvise),
# FPT_WARMUP (0), FPT_ICOUNT (0; 1: the guest clock must count
# instructions: wait until bench-calib shows 1 ns per instruction, see
# wait_icount, and quieten the kernel's periodic work, see quiet_icount).

PATH=/fpt/bin:/fpt:$PATH
CG=/sys/fs/cgroup
THP=/sys/kernel/mm/transparent_hugepage
MTHP=$THP/hugepages-64kB
KO=/fpt/fpt.ko
KREL=$(uname -r)

ROUNDS=${FPT_ROUNDS:-3}
SIZE=${FPT_SIZE:-128}
SPARSE_SIZE=${FPT_SPARSE_SIZE:-256}
OPS=${FPT_OPS:-2000000}
PASSES=${FPT_PASSES:-2}
FORKS=${FPT_FORKS:-16}
FORK_SIZE=${FPT_FORK_SIZE:-8}
CHURN_SIZE=${FPT_CHURN_SIZE:-64}
BLOCK=${FPT_BLOCK:-256}
WORKLOADS=$(echo "${FPT_WORKLOADS:-touch,gups,seqread,cow,sparse,redis,memcached}" | tr ',' ' ')
REDIS_KEYS=${FPT_REDIS_KEYS:-20000}
REDIS_VALUE=${FPT_REDIS_VALUE:-10000}
REDIS_KEYSPACE=${FPT_REDIS_KEYSPACE:-$REDIS_KEYS}
MC_KEYS=${FPT_MC_KEYS:-20000}
MC_VALUE=${FPT_MC_VALUE:-10000}
GETS=${FPT_GETS:-10000}
BASE_THP=${FPT_BASE_THP:-madvise}
THP2M=${FPT_THP2M:-madvise}
WARMUP=${FPT_WARMUP:-0}
ICOUNT=${FPT_ICOUNT:-0}

info() { echo "@@BENCHINFO $*"; }
# run_in CGROUP CMD...: exec CMD inside cgroup CGROUP (relative to $CG)
run_in() {
	g=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$g" "$@"
}
kv() { # kv KEY LINE...: value of KEY=... in the line
	k=$1; shift
	echo "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1
}
rd() { cat "$1" 2>/dev/null || echo 0; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
loaded() { [ -d /sys/kernel/fpt ]; }

# --- configurations ------------------------------------------------------------
HAVE_MTHP=0
[ -e $MTHP/enabled ] && HAVE_MTHP=1
if [ $HAVE_MTHP = 1 ]; then
	UNLOADED="base4k mthp64k thp2m"; LOADED="fpt_off fpt_loaded fpt_armed fpt_folio fpt_reserve"
else
	UNLOADED="base4k thp2m"; LOADED="fpt_off fpt_loaded fpt_armed fpt_reserve"
fi
want=" $(echo "${FPT_CONFIGS:-base4k,mthp64k,thp2m,fpt_off,fpt_folio,fpt_reserve}" | tr ',' ' ') "
u=; l=
for c in $UNLOADED; do case $want in *" $c "*) u="$u $c" ;; esac; done
for c in $LOADED; do case $want in *" $c "*) l="$l $c" ;; esac; done
UNLOADED=$u LOADED=$l

cgroup_of() { case $1 in fpt_folio|fpt_reserve) echo bench-on ;; *) echo bench-off ;; esac; }

# config_enter CONFIG / config_leave CONFIG: the settings of a configuration
# (the module is loaded or not already; between measurements no policy
# exists).  fpt_off and fpt_armed put the policy on bench-on and measure in
# bench-off; fpt_folio and fpt_reserve measure in bench-on.
config_enter() {
	case $1 in
	mthp64k) echo always > $MTHP/enabled ;;
	thp2m) [ "$THP2M" = always ] && echo always > $THP/enabled ;;
	fpt_off) fpt-nl set --cgroup bench-on --mode off >/dev/null ;;
	fpt_armed) fpt-nl set --cgroup bench-on --mode on >/dev/null ;;
	fpt_folio) fpt-nl set --cgroup bench-on --mode on --backend folio >/dev/null ;;
	fpt_reserve) fpt-nl set --cgroup bench-on --mode on --backend reserve >/dev/null ;;
	esac || info "config_enter $1 failed"
}
# hooks_gone: fpt.ko disarms its hooks from a work item after the last
# policy goes (an RCU-tasks grace period: seconds of kernel threads' work);
# wait for it, so that the next configuration does not measure it (seen:
# fpt_loaded after fpt_armed at +5 % with the process at 94 % of the phase)
hooks_gone() {
	i=0
	[ -e /sys/kernel/tracing/enabled_functions ] ||
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	while grep -q '\[fpt\]' /sys/kernel/tracing/enabled_functions 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 300 ] && { info "hooks still armed after 60 s"; break; }
		sleep 0.2
	done
	sleep 1
}
config_leave() {
	case $1 in
	mthp64k) echo never > $MTHP/enabled ;;
	fpt_off|fpt_armed|fpt_folio|fpt_reserve)
		fpt-nl del --cgroup bench-on >/dev/null
		hooks_gone ;;
	esac
	echo "$BASE_THP" > $THP/enabled
}

# fallback counter of a configuration (a running total; deltas are taken)
fallbacks() {
	case $1 in
	mthp64k) echo $(( $(rd $MTHP/stats/anon_fault_fallback) + $(rd $MTHP/stats/anon_fault_fallback_charge) )) ;;
	thp2m) vmstat thp_fault_fallback ;;
	fpt_folio|fpt_reserve)
		fpt-nl stats --cgroup bench-on | tr ' ' '\n' |
			awk -F= '$1 ~ /^fallback_/ { s += $2 } END { print s + 0 }' ;;
	*) echo - ;;
	esac
}

# fpt's fallback_* counters of the benchmark's policy, "name=N ..."
fpt_fb_detail() {
	case $1 in
	fpt_folio|fpt_reserve)
		fpt-nl stats --cgroup bench-on | tr ' ' '\n' | grep '^fallback_' | sed 's/^fallback_//' | tr '\n' ' ' ;;
	esac
}

# --- servers ---------------------------------------------------------------------
# (started with sh -c ... & directly, not through run_in: a backgrounded
# shell function is a subshell, and $! would not be the server's pid)
# wait_port PORT: until something listens on 127.0.0.1:PORT (at most 60 s;
# polled every 20 ms: under bench-icount's idle=poll an idle guest second
# costs a billion instructions of host time)
wait_port() {
	hex=$(printf '%04X' "$1") i=0
	while [ $i -lt 3000 ]; do
		grep -q "0100007F:$hex 00000000:0000 0A" /proc/net/tcp 2>/dev/null && return 0
		sleep 0.02; i=$((i + 1))
	done
	return 1
}
stop_server() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# redis CONFIG CGROUP: fill with REDIS_KEYS SETs of REDIS_VALUE bytes to
# random keys out of REDIS_KEYSPACE (pipelined 16 deep), then GETS GETs.
# time = the SET phase: redis-benchmark's run from its start to its exit
# (bench-pidscan runs it and also reports the server's CPU time and faults
# meanwhile: phase_cpu_ns, phase_minflt).
# --disable-thp no: redis 7 otherwise calls prctl(PR_SET_THP_DISABLE), which
# takes every THP size -- the kernel's 64 KB, 2 MB and fpt's folio backend --
# away from the process.
run_redis() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$2" redis-server --port 6379 --bind 127.0.0.1 --protected-mode yes \
		--save '' --appendonly no --disable-thp no --daemonize no \
		--logfile /tmp/redis.log >/dev/null 2>&1 &
	pid=$!
	if ! wait_port 6379; then
		info "redis did not start: $(tail -n 3 /tmp/redis.log | tr '\n' ' ')"
		stop_server $pid; return 1
	fi
	o=$(bench-pidscan $pid redis-benchmark -h 127.0.0.1 -p 6379 -t set -n "$REDIS_KEYS" \
		-r "$REDIS_KEYSPACE" -d "$REDIS_VALUE" -P 16 -q --csv)
	s=$(echo "$o" | awk -F'"' '/^"SET"/ { print $4 }')
	ph=$(echo "$o" | grep '^phase_ns=' | tr ' ' '\n' | grep -E '^(phase_|cmd_rc=)' | tr '\n' ' ')
	g=
	if [ "$GETS" -gt 0 ]; then
		g=$(redis-benchmark -h 127.0.0.1 -p 6379 -t get -n "$GETS" -r "$REDIS_KEYSPACE" \
			-d "$REDIS_VALUE" -P 16 -q --csv | awk -F'"' '/^"GET"/ { print $4 }')
	fi
	scan=$(bench-pidscan $pid)
	stop_server $pid
	case " $ph" in *" cmd_rc=0 "*) ;; *) info "redis-benchmark failed: $o"; return 1 ;; esac
	echo "workload=redis sets=$REDIS_KEYS value_size=$REDIS_VALUE keyspace=$REDIS_KEYSPACE time_ns=$(kv phase_ns "$ph") ${ph}sets_per_s=$s gets_per_s=$g $scan"
}

# memcached CONFIG CGROUP: bench-mcload stores MC_KEYS values of MC_VALUE
# bytes, then GETS random gets; time = the store phase.
run_memcached() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$2" memcached -u root -l 127.0.0.1 -p 11211 -U 0 -m 1024 -t 2 -c 64 \
		>/tmp/memcached.log 2>&1 &
	pid=$!
	if ! wait_port 11211; then
		info "memcached did not start"; stop_server $pid; return 1
	fi
	out=$(bench-mcload --port 11211 --keys "$MC_KEYS" --value-size "$MC_VALUE" --gets "$GETS" --depth 32)
	scan=$(bench-pidscan $pid)
	stop_server $pid
	echo "workload=memcached time_ns=$(kv set_ns "$out") $out $scan"
}

# --- one measurement ---------------------------------------------------------------
run_one() { # run_one ROUND CONFIG WORKLOAD
	r=$1 cfg=$2 w=$3
	g=$(cgroup_of "$cfg")
	madv=
	[ "$cfg" = thp2m ] && [ "$THP2M" = madvise ] && madv=--madvise
	config_enter "$cfg"
	[ "$cfg" = thp2m ] && case $w in redis|memcached) echo always > $THP/enabled ;; esac
	f0=$(fallbacks "$cfg")
	d0=$(fpt_fb_detail "$cfg")
	case $w in
	touch)   out=$(run_in "$g" bench-touch --size "$SIZE" $madv) ;;
	gups)    out=$(run_in "$g" bench-gups --size "$SIZE" --ops "$OPS" --seed "$r" $madv) ;;
	seqread) out=$(run_in "$g" bench-seqread --size "$SIZE" --passes "$PASSES" $madv) ;;
	cow)     out=$(run_in "$g" bench-cow --size "$SIZE" $madv) ;;
	fork)    out=$(run_in "$g" bench-cow --size "$FORK_SIZE" --forks "$FORKS" $madv) ;;
	sparse)  out=$(run_in "$g" bench-sparse --size "$SPARSE_SIZE" $madv) ;;
	churn)   out=$(run_in "$g" bench-churn --size "$CHURN_SIZE" --block "$BLOCK" $madv) ;;
	redis)   out=$(run_redis "$cfg" "$g") ;;
	memcached) out=$(run_memcached "$cfg" "$g") ;;
	*) info "unknown workload $w"; out= ;;
	esac
	rc=$?
	f1=$(fallbacks "$cfg")
	d1=$(fpt_fb_detail "$cfg")
	config_leave "$cfg"
	fb=-
	[ "$f0" != - ] && fb=$((f1 - f0))
	# which fpt fallbacks: name:delta for each that moved
	if [ -n "$d0" ]; then
		fb="$fb fb_detail=$(echo "$d0 $d1" | tr ' ' '\n' | awk -F= '
			NF == 2 { if ($1 in a) { d = $2 - a[$1]; if (d) { printf "%s%s:%d", sep, $1, d; sep = "," } } else a[$1] = $2 }')"
	fi
	if [ $rc = 0 ] && [ -n "$out" ]; then
		echo "@@BENCH kernel=$KREL round=$r config=$cfg $out fallbacks=$fb uptime=$(cut -d' ' -f1 /proc/uptime)"
	else
		echo "@@BENCH-FAIL kernel=$KREL round=$r config=$cfg workload=$w rc=$rc $out"
	fi
}

# rotate N WORDS...: the words rotated left by N
rotate() {
	n=$1; shift
	[ $# -eq 0 ] && return
	n=$((n % $#))
	while [ "$n" -gt 0 ]; do
		first=$1; shift; set -- "$@" "$first"; n=$((n - 1))
	done
	echo "$@"
}

phase() { # phase ROUND CONFIGS...
	r=$1; shift
	[ $# -eq 0 ] && return
	sync; echo 3 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory
	info "phase $r ($*) at uptime $(cut -d' ' -f1 /proc/uptime)s"
	for w in $WORKLOADS; do
		for cfg in $(rotate "$r" "$@"); do
			run_one "$r" "$cfg" "$w"
		done
	done
}

# --- the clock -------------------------------------------------------------------
# wait_icount: under `-icount shift=0` the guest's clocks should count one
# nanosecond per executed instruction.  bench-calib times a loop of 2n
# instructions (and rep stosb / rep stosq over n bytes); this waits until the
# loop reads 2n ns within 1 % (at most 20 tries, a guest second apart: on
# 6.12 the first ~3 s of uptime count about 2 ns per instruction, see
# bench/README.md).  Returns 1 if the clock never got there.
wait_icount() {
	i=0
	while [ $i -lt 20 ]; do
		c=$(bench-calib --size 4)
		n=$(kv n "$c") l=$(kv loop_ns "$c")
		if [ -n "$n" ] && [ -n "$l" ] && [ $((l * 100)) -le $((2 * n * 101)) ]; then
			info "clock: $c uptime=$(cut -d' ' -f1 /proc/uptime) tries=$((i + 1))"
			return 0
		fi
		info "clock not yet at 1 ns per instruction: $c uptime=$(cut -d' ' -f1 /proc/uptime)"
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# quiet_icount: periodic kernel work that lands inside a measurement at
# random adds ~0.45 M instructions at a time (seen as 64 MB first touches of
# 121.64 M instructions reading 122.08 or 122.55 M now and then); with these
# two, 60 touches in a row spread by 0.03 %.  Both are the same for every
# configuration: vmstat's per-CPU counter folding once an hour instead of
# every second, and no proactive compaction by kcompactd.
quiet_icount() {
	echo 3600 > /proc/sys/vm/stat_interval
	echo 0 > /proc/sys/vm/compaction_proactiveness
	info "quiet: vm.stat_interval=$(cat /proc/sys/vm/stat_interval) vm.compaction_proactiveness=$(cat /proc/sys/vm/compaction_proactiveness)"
}

# --- setup -------------------------------------------------------------------------
echo "+memory" > $CG/cgroup.subtree_control 2>/dev/null
mkdir -p $CG/bench-off $CG/bench-on
echo "$BASE_THP" > $THP/enabled
[ $HAVE_MTHP = 1 ] && echo never > $MTHP/enabled
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
info "kernel=$KREL cpus=$(nproc) memtotal_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
info "thp=$(cat $THP/enabled | tr ' ' ,) thp_defrag=$(cat $THP/defrag | tr ' ' ,) mthp64k=$([ $HAVE_MTHP = 1 ] && cat $MTHP/enabled | tr ' ' , || echo none) thp2m=$THP2M"
info "rounds=$ROUNDS warmup=$WARMUP size_mb=$SIZE sparse_mb=$SPARSE_SIZE ops=$OPS passes=$PASSES forks=$FORKS fork_mb=$FORK_SIZE churn_mb=$CHURN_SIZE block_kb=$BLOCK redis_keys=$REDIS_KEYS redis_value=$REDIS_VALUE redis_keyspace=$REDIS_KEYSPACE mc_keys=$MC_KEYS mc_value=$MC_VALUE gets=$GETS"
info "configs=$(echo $UNLOADED $LOADED | tr ' ' ,) workloads=$(echo $WORKLOADS | tr ' ' ,)"
for p in redis-server redis-benchmark memcached; do
	command -v $p >/dev/null || info "missing $p"
done
info "versions: $(redis-server --version 2>/dev/null | cut -d' ' -f1-3) memcached=$(memcached -V 2>/dev/null | cut -d' ' -f2)"
if [ "$ICOUNT" = 1 ]; then
	if ! wait_icount; then
		info "the guest clock does not count instructions (qemu -icount shift=0?): no measurements"
		exit 1
	fi
	quiet_icount
fi

# Loading: no policy exists after insmod; each configuration sets its own
# and removes it again (config_enter/config_leave), so the hooks are armed
# and disarmed around every measurement of fpt_off, fpt_armed, fpt_folio
# and fpt_reserve, and fpt_loaded sees a loaded module without any policy.
# (Before 71d91ea, disarming and re-arming was a use-after-free and double
# free of the ftrace filter hash, seen here as "kernel BUG at
# mm/slub.c:547" after policy set/del/set/del/set on 6.12; this benchmark
# exercises that path on purpose.)  The rounds share loads:
# L1 U1 U2 L2 L3 U3 ... (with a warm-up round 0 first: L0 U0 L1 U1 ...)
ensure_loaded() {
	loaded && return 0
	if ! insmod $KO; then
		info "insmod failed: $(dmesg | tail -n 3 | tr '\n' ' ')"
		return 1
	fi
	info "fpt.ko loaded: backends $(cat /sys/kernel/fpt/backend) max_unused_kb(0=auto)=$(cat /sys/module/fpt/parameters/max_unused_kb 2>/dev/null)"
}
ensure_unloaded() {
	loaded || return 0
	rmmod fpt || info "rmmod failed"
	[ $HAVE_MTHP = 1 ] && info "rmmod: hugepages-64kB back to $(cat $MTHP/enabled)"
}

t_start=$(cut -d' ' -f1 /proc/uptime)
r=1
[ "$WARMUP" = 1 ] && r=0
while [ $r -le "$ROUNDS" ]; do
	info "round $r of $ROUNDS at uptime $(cut -d' ' -f1 /proc/uptime)s"
	# odd rounds: with the module first; even rounds: without it first
	# (so rounds 2 and 3 share one load: L1 U1 U2 L2 L3 U3 ...)
	if [ $((r % 2)) = 1 ] || [ $r = 0 ]; then order="L U"; else order="U L"; fi
	for ph in $order; do
		if [ $ph = L ]; then
			[ -n "$LOADED" ] && ensure_loaded && phase $r $LOADED
		else
			ensure_unloaded
			phase $r $UNLOADED
		fi
	done
	r=$((r + 1))
done
ensure_unloaded
info "done in $(awk -v a="$t_start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.0f", b - a }') s; idle since boot $(awk '$1 == "cpu" { printf "%.1f", $5 / 100 }' /proc/stat) s"
exit 0
