#!/bin/bash
# bench/run.sh: what `make bench` runs.
#
# For each kernel series in ${FPT_KERNELS:-6.1 6.12}: build fpt.ko against it,
# boot it under QEMU (TCG) with the benchmark programs, redis and memcached
# from the host's Debian packages in the initramfs, run bench/guest-bench.sh
# (every configuration in the same boot, interleaved), and collect its
# @@BENCH lines.  Then bench/report.py writes
#   build/bench/<series>/results.{txt,csv,json}   (+ raw.txt, console.log)
#   build/bench/bench.png and build/bench/<series>/bench.png
# With BENCH_HOST=1 the C workloads also run on the host kernel first
# (bench/host.sh: real hardware, no fpt; build/bench/host/).
# With BENCH_UPDATE_README=1 the summary replaces the results section of
# bench/README.md and the chart is copied to bench/bench.png.
#
# Environment:
#   FPT_KERNELS         series to run                  (default "6.1 6.12")
#   BENCH_ROUNDS        rounds per configuration       (default 3)
#   BENCH_ARGS          more guest parameters, e.g. "fpt.size=128 fpt.ops=1000000"
#                       (see bench/guest-bench.sh)
#   BENCH_HOST=1        also run bench/host.sh
#   BENCH_UPDATE_README=1
#   FPT_TIMEOUT         per boot, seconds              (default 1500)
#   FPT_VM_MEM          guest memory                   (default 2048M)
#   BENCH_SKIP_GUEST=1  only re-make the report from existing raw.txt files
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../tests/vm/lib.sh"

KERNELS=${FPT_KERNELS:-6.1 6.12}
TIMEOUT=${FPT_TIMEOUT:-1500}
ROUNDS=${BENCH_ROUNDS:-3}
OUT=$FPT_BUILD/bench
BENCH_DIR=$FPT_ROOT/bench
export FPT_VM_MEM=${FPT_VM_MEM:-2048M}
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

	echo "== building the benchmark programs (build/bench/bin)"
	make -s -C "$BENCH_DIR" BIN="$OUT/bin"

	if [ "${BENCH_HOST:-0}" = 1 ]; then
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
	rm -rf "$OUT/src" && mkdir -p "$OUT/src"
	git -C "$FPT_ROOT" archive HEAD module include lib tools tests/guest | tar -x -C "$OUT/src"
	FPT_MODULE_DIR=$OUT/src/module
	FPT_GUEST_DIR=$OUT/src/tests/guest
	echo "$rev" >"$OUT/module-rev"
	echo "== fpt.ko and guest programs from commit $rev (build/bench/src)"
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
		mkdir -p "$OUT/$s"
		log=$OUT/$s/console.log
		echo "== $s: booting, guest runs the benchmark (console: build/bench/$s/console.log)"
		t0=$(date +%s)
		rc=0
		bash "$FPT_TOOLS/run-guest.sh" "$FPT_BUILD/kernels/$s" "$FPT_VM/$s/initramfs.cpio.gz" \
			"$log" "$TIMEOUT" "$(fpt_append "$TIMEOUT")" || rc=$?
		tr -d '\r' <"$log" | grep -a '^@@BENCH' >"$OUT/$s/raw.txt" || true
		tr -d '\r' <"$log" | awk '/@@DMESG-BEGIN/ { d = 1; next } /@@DMESG-END/ { d = 0 } d' \
			>"$OUT/$s/dmesg.txt"
		echo "   $(grep -c '^@@BENCH ' "$OUT/$s/raw.txt") measurements in $(( $(date +%s) - t0 )) s" \
			"($(grep -c '^@@BENCH-FAIL' "$OUT/$s/raw.txt") failed)"
		bad=$(grep -E 'WARNING:|BUG:|Oops|[Bb]ad page|general protection|Call Trace|Kernel panic' \
			"$OUT/$s/dmesg.txt" || true)
		if [ -n "$bad" ]; then
			echo "   guest dmesg has $(grep -c '' <<<"$bad") suspicious line(s) (build/bench/$s/dmesg.txt):"
			head -n 10 <<<"$bad" | sed 's/^/    | /'
		fi
		if [ "$rc" -ne 0 ]; then
			echo "bench: $s: the guest did not finish (rc=$rc); last console lines:" >&2
			fpt_tail 20 "$log" >&2
			exit 1
		fi
	done
fi

echo "== report"
args=()
for s in $KERNELS; do [ -s "$OUT/$s/raw.txt" ] && args+=("$s=$OUT/$s/raw.txt"); done
[ -s "$OUT/host/raw.txt" ] && args+=("host=$OUT/host/raw.txt")
cmd="make bench${BENCH_ROUNDS:+ BENCH_ROUNDS=$BENCH_ROUNDS}${BENCH_ARGS:+ BENCH_ARGS=\"$BENCH_ARGS\"}"
[ "${BENCH_HOST:-0}" = 1 ] && cmd="$cmd BENCH_HOST=1"
rev=$(cat "$OUT/module-rev" 2>/dev/null || echo unknown)
python3 "$BENCH_DIR/report.py" --out "$OUT" --command "$cmd" --rev "$rev" \
	$([ "${BENCH_UPDATE_README:-0}" = 1 ] && echo --readme "$BENCH_DIR/README.md") "${args[@]}"
echo "== done in $(( $(date +%s) - t_all )) s: build/bench/"
