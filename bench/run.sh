#!/bin/bash
# bench/run.sh [icount]: what `make bench` and `make bench-icount` run.
#
# For each kernel series in ${FPT_KERNELS:-6.1 6.12}: build fpt.ko against it,
# boot it under QEMU (TCG) with the benchmark programs, redis and memcached
# from the host's Debian packages in the initramfs, run bench/guest-bench.sh
# (every configuration in the same boot, interleaved), and collect its
# @@BENCH lines.
#
# Without an argument (`make bench`, wall-clock time, 2 vCPUs) bench/report.py
# then writes
#   build/bench/<series>/results.{txt,csv,json}   (+ raw.txt, console.log)
#   build/bench/bench.png and build/bench/<series>/bench.png
# With BENCH_HOST=1 the C workloads also run on the host kernel first
# (bench/host.sh: real hardware, no fpt; build/bench/host/).
# With BENCH_UPDATE_README=1 the summary replaces the results section of
# bench/README.md and the chart is copied to bench/bench.png.
#
# With "icount" (`make bench-icount`): the deterministic instruction-count
# rig.  One vCPU, `-icount shift=0,sleep=off` (the guest's clocks count
# executed instructions, 1 ns each), a fixed RTC and random seed; the
# configurations of issue 7 (4 KB, loaded-no-policy, armed-not-opted-in,
# each backend opted in, the kernel's 64 KB mTHP, 2 MB THP), the workloads
# touch, sparse, fork, churn, redis, a warm-up round first; every kernel is
# booted BENCH_BOOTS times (default 2) to show that boots agree.  Then
# bench/report_icount.py writes
#   build/bench-icount/results.txt                the tables, targets, boots
#   build/bench-icount/results.{csv,json}, bench-icount.png, summary.md
#   build/bench-icount/<series>/boot<N>/{raw.txt,console.log,dmesg.txt}
# BENCH_UPDATE_README=1 puts summary.md into bench/README.md (between the
# bench-icount markers) and the chart next to it.
#
# Environment:
#   FPT_KERNELS         series to run                  (default "6.1 6.12")
#   BENCH_ROUNDS        rounds per configuration       (default 3)
#   BENCH_BOOTS         icount: boots per kernel       (default 2)
#   BENCH_ARGS          more guest parameters, e.g. "fpt.size=128 fpt.ops=1000000"
#                       (see bench/guest-bench.sh)
#   BENCH_HOST=1        also run bench/host.sh (not with icount)
#   BENCH_UPDATE_README=1
#   FPT_TIMEOUT         per boot, seconds              (default 1500; icount 3600)
#   FPT_VM_MEM          guest memory                   (default 2048M)
#   BENCH_SKIP_GUEST=1  only re-make the report from existing raw.txt files
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../tests/vm/lib.sh"

MODE=${1:-wall}
case $MODE in wall|icount) ;; *) echo "usage: $0 [icount]" >&2; exit 2 ;; esac
KERNELS=${FPT_KERNELS:-6.1 6.12}
TIMEOUT=${FPT_TIMEOUT:-}
ROUNDS=${BENCH_ROUNDS:-3}
BOOTS=1
OUT=$FPT_BUILD/bench
BENCH_DIR=$FPT_ROOT/bench
export FPT_VM_MEM=${FPT_VM_MEM:-2048M}
if [ "$MODE" = icount ]; then
	BOOTS=${BENCH_BOOTS:-2}
	OUT=$FPT_BUILD/bench-icount
	TIMEOUT=${TIMEOUT:-3600}
	# One vCPU and the deterministic clock.  -seed: the guest's RDRAND and
	# the kernel's random numbers repeat; -rtc clock=vm: wall time follows
	# the instruction count from a fixed date (redis-benchmark seeds its
	# key generator from it).
	export FPT_VM_SMP=1
	export FPT_QEMU_ARGS="-icount shift=0,sleep=off -seed 1 -rtc base=2025-01-01T00:00:00,clock=vm"
	# The guest's side (bench/guest-bench.sh): the configurations and
	# workloads of issue 7, sizes that keep a boot under ~10 minutes here
	# (override any of them with BENCH_ARGS).
	# Kernel parameters: idle=poll keeps the vCPU from halting, so that the
	# clock is never warped over idle time at a moment that depends on the
	# host (idle time is polled, i.e. costs host time); tsc=reliable: no
	# clocksource watchdog.
	ICOUNT_ARGS="idle=poll tsc=reliable"
	ICOUNT_ARGS="$ICOUNT_ARGS fpt.icount=1 fpt.warmup=1 fpt.base_thp=never fpt.thp2m=always"
	ICOUNT_ARGS="$ICOUNT_ARGS fpt.configs=base4k,fpt_loaded,fpt_armed,mthp64k,fpt_folio,fpt_reserve,thp2m"
	ICOUNT_ARGS="$ICOUNT_ARGS fpt.workloads=touch,sparse,fork,churn,redis"
	ICOUNT_ARGS="$ICOUNT_ARGS fpt.size=64 fpt.sparse_size=128 fpt.forks=16 fpt.fork_size=4"
	ICOUNT_ARGS="$ICOUNT_ARGS fpt.churn_size=64 fpt.block=256"
	ICOUNT_ARGS="$ICOUNT_ARGS fpt.redis_keys=6000 fpt.redis_value=4096 fpt.redis_keyspace=2000000000 fpt.gets=0"
	USER_ARGS=${BENCH_ARGS:-}
	BENCH_ARGS="$ICOUNT_ARGS${BENCH_ARGS:+ $BENCH_ARGS}"
fi
TIMEOUT=${TIMEOUT:-1500}
case $BOOTS in ''|*[!0-9]*|0) echo "bench: BENCH_BOOTS must be a number >= 1" >&2; exit 2 ;; esac
mkdir -p "$OUT"

# Debian's server binaries for the guest (mkinitramfs.sh copies their
# libraries).  redis-server is a link to redis-check-rdb; the copy keeps the
# name redis-server, which is what redis looks at.
SERVERS=(/usr/bin/redis-server /usr/bin/redis-benchmark /usr/bin/memcached)

trap 'echo "interrupted" >&2; exit 130' INT TERM
t_all=$(date +%s)

if [ "${BENCH_SKIP_GUEST:-0}" != 1 ]; then
	for f in "${SERVERS[@]}"; do
		[ -x "$f" ] || { echo "bench: $f missing: make deps (redis-server redis-tools memcached)" >&2; exit 1; }
	done
	command -v gnuplot >/dev/null || { echo "bench: gnuplot missing: make deps" >&2; exit 1; }

	echo "== building the benchmark programs (build/${OUT#"$FPT_BUILD"/}/bin)"
	make -s -C "$BENCH_DIR" BIN="$OUT/bin"

	if [ "${BENCH_HOST:-0}" = 1 ] && [ "$MODE" = wall ]; then
		echo "== host kernel $(uname -r), no fpt (bench/host.sh)"
		bash "$BENCH_DIR/host.sh" "$OUT/host"
	fi

	fpt_lock
	echo "== fetching kernels (log: build/vm/fetch.log)"
	fpt_fetch_kernels || { fpt_tail 20 "$FPT_VM/fetch.log"; exit 1; }

	# The module and the guest programs are built from a snapshot of the
	# committed tree (git archive HEAD), not from the working tree: the
	# numbers then belong to one commit, and edits or builds going on in
	# module/ meanwhile cannot mix into them.
	rev=$(git -C "$FPT_ROOT" rev-parse --short HEAD)
	# the commit that last changed the module's sources, too: branches
	# that only touch bench/ still say which module they measured
	mrev=$(git -C "$FPT_ROOT" log -1 --format=%h HEAD -- module include)
	[ "$mrev" != "$rev" ] && rev="$rev (module/ and include/ as of $mrev)"
	rm -rf "$OUT/src" && mkdir -p "$OUT/src"
	git -C "$FPT_ROOT" archive HEAD VERSION module include lib tools tests/guest tests/robust | tar -x -C "$OUT/src"
	FPT_MODULE_DIR=$OUT/src/module
	FPT_GUEST_DIR=$OUT/src/tests/guest
	echo "$rev" >"$OUT/module-rev"
	echo "== fpt.ko and guest programs from commit $rev (build/${OUT#"$FPT_BUILD"/}/src)"
	fpt_build_guest || { fpt_make_tail 25 "$FPT_VM/guest-build.log"; exit 1; }

	extra=("$BENCH_DIR/guest-bench.sh" "${SERVERS[@]}")
	for p in "$OUT"/bin/bench-*; do extra+=("$p"); done
	export FPT_EXTRA_FILES="${extra[*]}"
	export FPT_SCRIPT=guest-bench.sh
	export FPT_APPEND="fpt.rounds=$ROUNDS${BENCH_ARGS:+ $BENCH_ARGS}"

	for s in $KERNELS; do
		[ -e "$FPT_BUILD/kernels/$s/vmlinuz" ] || { echo "bench: no kernel for series $s" >&2; exit 1; }
		kver=$(fpt_kver "$s")
		echo "== $s ($kver): building fpt.ko"
		fpt_build_module "$s" || { echo "bench: $s: $FPT_ERR" >&2; fpt_make_tail 25 "$FPT_VM/$s/build.log"; exit 1; }
		fpt_initramfs "$s" >"$FPT_VM/$s/initramfs.log" 2>&1 ||
			{ fpt_tail 20 "$FPT_VM/$s/initramfs.log"; exit 1; }
	done

	# boot 1 of every kernel, then boot 2 of every kernel, ...
	bad_dmesg=0
	b=1
	while [ "$b" -le "$BOOTS" ]; do
		for s in $KERNELS; do
			d=$OUT/$s
			[ "$MODE" = icount ] && d=$OUT/$s/boot$b
			rel=${d#"$FPT_BUILD"/}
			mkdir -p "$d"
			log=$d/console.log
			echo "== $s: booting$([ "$MODE" = icount ] && echo " ($b of $BOOTS)"), guest runs the benchmark (console: build/$rel/console.log)"
			t0=$(date +%s)
			rc=0
			bash "$FPT_TOOLS/run-guest.sh" "$FPT_BUILD/kernels/$s" "$FPT_VM/$s/initramfs.cpio.gz" \
				"$log" "$TIMEOUT" "$(fpt_append "$TIMEOUT")" || rc=$?
			tr -d '\r' <"$log" | grep -a '^@@BENCH' >"$d/raw.txt" || true
			tr -d '\r' <"$log" | awk '/@@DMESG-BEGIN/ { d = 1; next } /@@DMESG-END/ { d = 0 } d' \
				>"$d/dmesg.txt"
			echo "   $(grep -c '^@@BENCH ' "$d/raw.txt") measurements in $(( $(date +%s) - t0 )) s" \
				"($(grep -c '^@@BENCH-FAIL' "$d/raw.txt") failed)"
			bad=$(grep -E 'WARNING:|BUG:|Oops|[Bb]ad page|general protection|Call Trace|Kernel panic|hung_task|blocked for more than|lockdep' \
				"$d/dmesg.txt" || true)
			if [ -n "$bad" ]; then
				echo "   guest dmesg has $(grep -c '' <<<"$bad") suspicious line(s) (build/$rel/dmesg.txt):"
				head -n 10 <<<"$bad" | sed 's/^/    | /'
				bad_dmesg=1
			fi
			if [ "$rc" -ne 0 ]; then
				echo "bench: $s: the guest did not finish (rc=$rc); last console lines:" >&2
				fpt_tail 20 "$log" >&2
				exit 1
			fi
		done
		b=$((b + 1))
	done
fi

echo "== report"
args=()
if [ "$MODE" = icount ]; then
	for s in $KERNELS; do
		for d in "$OUT/$s"/boot*; do
			[ -s "$d/raw.txt" ] && args+=("$s:${d##*/boot}=$d/raw.txt")
		done
	done
	cmd="make bench-icount${BENCH_ROUNDS:+ BENCH_ROUNDS=$BENCH_ROUNDS}${BENCH_BOOTS:+ BENCH_BOOTS=$BENCH_BOOTS}"
	cmd="$cmd${USER_ARGS:+ BENCH_ARGS=\"$USER_ARGS\"}"
	[ "$KERNELS" != "6.1 6.12" ] && cmd="FPT_KERNELS=\"$KERNELS\" $cmd"
	rev=$(cat "$OUT/module-rev" 2>/dev/null || echo unknown)
	rc=0
	python3 -B "$BENCH_DIR/report_icount.py" --out "$OUT" --command "$cmd" --rev "$rev" \
		$([ "${BENCH_UPDATE_README:-0}" = 1 ] && echo --readme "$BENCH_DIR/README.md") "${args[@]}" || rc=$?
	echo "== done in $(( $(date +%s) - t_all )) s: build/bench-icount/"
	if [ "${bad_dmesg:-0}" = 1 ]; then
		echo "bench: a guest's dmesg had warnings (see above): the run does not count" >&2
		exit 1
	fi
	exit "$rc"
fi
for s in $KERNELS; do [ -s "$OUT/$s/raw.txt" ] && args+=("$s=$OUT/$s/raw.txt"); done
[ -s "$OUT/host/raw.txt" ] && args+=("host=$OUT/host/raw.txt")
cmd="make bench${BENCH_ROUNDS:+ BENCH_ROUNDS=$BENCH_ROUNDS}${BENCH_ARGS:+ BENCH_ARGS=\"$BENCH_ARGS\"}"
[ "${BENCH_HOST:-0}" = 1 ] && cmd="$cmd BENCH_HOST=1"
rev=$(cat "$OUT/module-rev" 2>/dev/null || echo unknown)
python3 "$BENCH_DIR/report.py" --out "$OUT" --command "$cmd" --rev "$rev" \
	$([ "${BENCH_UPDATE_README:-0}" = 1 ] && echo --readme "$BENCH_DIR/README.md") "${args[@]}"
echo "== done in $(( $(date +%s) - t_all )) s: build/bench/"
