#!/bin/bash
# bench/host.sh OUTDIR: the C workloads on the host's own kernel -- real
# hardware, NO fpt (the host cannot load modules) -- as the anchor for what
# 4 KB pages, the kernel's own 64 KB mTHP and 2 MB THP do without emulation.
#
#   base4k   hugepages-64kB = never, no MADV_HUGEPAGE
#   mthp64k  hugepages-64kB = always (only while that run lasts)
#   thp2m    MADV_HUGEPAGE on the region (THP enabled = madvise)
#
# Needs root and a kernel with /sys/kernel/mm/transparent_hugepage/
# hugepages-64kB.  The host is shared: the switch is set only around each
# mthp64k run and the administrator's exact settings are restored on exit
# (also on error or ^C).  Rounds interleave the configurations (rotating).
# Writes OUTDIR/raw.txt in the guest's @@BENCH format.
#
# Environment: BENCH_HOST_ROUNDS (5), BENCH_HOST_SIZE (MB, 1024),
# BENCH_HOST_SPARSE (MB, 2048), BENCH_HOST_OPS (20000000), BENCH_HOST_PASSES (4),
# BENCH_BIN (build/bench/bin).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/bench/host}
BIN=${BENCH_BIN:-$ROOT/build/bench/bin}
ROUNDS=${BENCH_HOST_ROUNDS:-5}
SIZE=${BENCH_HOST_SIZE:-1024}
SPARSE=${BENCH_HOST_SPARSE:-2048}
OPS=${BENCH_HOST_OPS:-20000000}
PASSES=${BENCH_HOST_PASSES:-4}
THP=/sys/kernel/mm/transparent_hugepage
M64=$THP/hugepages-64kB

[ -w $M64/enabled ] || { echo "host.sh: $M64/enabled not writable (need root and mTHP)" >&2; exit 1; }
[ -x "$BIN/bench-touch" ] || make -s -C "$ROOT/bench" BIN="$BIN"

word() { sed 's/.*\[\(.*\)\].*/\1/' "$1"; }
ORIG_64K=$(word $M64/enabled)
ORIG_THP=$(word $THP/enabled)
restore() {
	[ "$(word $M64/enabled)" = "$ORIG_64K" ] || echo "$ORIG_64K" > $M64/enabled
	[ "$(word $THP/enabled)" = "$ORIG_THP" ] || echo "$ORIG_THP" > $THP/enabled
}
trap restore EXIT
trap 'restore; exit 130' INT TERM

# base4k needs 64kB never and THP not "always"
[ "$ORIG_64K" = never ] || echo never > $M64/enabled
[ "$ORIG_THP" = madvise ] || echo madvise > $THP/enabled

mkdir -p "$OUT"
raw=$OUT/raw.txt
: >"$raw"
K="host-$(uname -r)"
info() { echo "@@BENCHINFO $*" >>"$raw"; }
info "kernel=$K cpus=$(nproc) memtotal_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
info "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' _)"
info "thp=madvise(was_$ORIG_THP) mthp64k_admin=$ORIG_64K thp_defrag=$(word $THP/defrag)"
info "rounds=$ROUNDS size_mb=$SIZE sparse_mb=$SPARSE ops=$OPS passes=$PASSES"

fb() {
	case $1 in
	mthp64k) echo $(( $(cat $M64/stats/anon_fault_fallback) + $(cat $M64/stats/anon_fault_fallback_charge) )) ;;
	thp2m) awk '$1 == "thp_fault_fallback" { print $2 }' /proc/vmstat ;;
	*) echo - ;;
	esac
}

run() { # run ROUND CONFIG WORKLOAD
	local r=$1 c=$2 w=$3 madv=() out f0 f1 d=-
	[ "$c" = thp2m ] && madv=(--madvise)
	[ "$c" = mthp64k ] && echo always > $M64/enabled
	f0=$(fb "$c")
	case $w in
	touch)   out=$("$BIN/bench-touch" --size "$SIZE" "${madv[@]}") ;;
	gups)    out=$("$BIN/bench-gups" --size "$SIZE" --ops "$OPS" --seed "$r" "${madv[@]}") ;;
	seqread) out=$("$BIN/bench-seqread" --size "$SIZE" --passes "$PASSES" "${madv[@]}") ;;
	cow)     out=$("$BIN/bench-cow" --size "$SIZE" "${madv[@]}") ;;
	sparse)  out=$("$BIN/bench-sparse" --size "$SPARSE" "${madv[@]}") ;;
	esac
	f1=$(fb "$c")
	[ "$c" = mthp64k ] && echo never > $M64/enabled
	[ "$f0" != - ] && d=$((f1 - f0))
	echo "@@BENCH kernel=$K round=$r config=$c $out fallbacks=$d" >>"$raw"
}

configs=(base4k mthp64k thp2m)
for r in $(seq 1 "$ROUNDS"); do
	echo "   host round $r/$ROUNDS"
	for w in touch gups seqread cow sparse; do
		for i in 0 1 2; do
			run "$r" "${configs[$(((i + r) % 3))]}" "$w"
		done
	done
done
restore
echo "   host: $(grep -c '^@@BENCH ' "$raw") measurements; hugepages-64kB back to [$(word $M64/enabled)], THP [$(word $THP/enabled)]"
