#!/bin/bash
# check.sh: build fpt for each test kernel, boot it in qemu, collect results.
# This is what `make check` runs.
#
# Per series in ${FPT_KERNELS:-6.1 6.12 6.12-systemd 6.12-robust 6.1-robust
# 6.12-mmtests 6.1-mmtests 6.12-arm64 6.1-arm64}:
#   fetch the kernel (cached), build the module against its headers, build the
#   guest programs (once), make an initramfs, boot it, and parse the console:
#     @@RESULT PASS|FAIL <name> <detail...>  ->  PASS|FAIL <series>/<name> <detail>
#     @@RESULT SKIP <name> <detail...>       ->  SKIP ... (not counted)
#     @@INFO <text>                          ->  "      <series>: <text>"
#   plus results of the rig itself: <series>/build, <series>/boot,
#   <series>/script (exit status of the guest script), <series>/dmesg-clean
#   (no warnings/oopses/lockdep/hung tasks in the guest's dmesg).
# A series "<kernel series>-systemd" (6.12-systemd) is the end-to-end test
# instead: a Debian root file system made by debootstrap, booted with
# systemd, fpt installed with make install + dkms, fptd and fptctl driven
# as an operator would (tests/vm/systemd.sh, tests/vm/systemd/e2e.sh).
# A series "<kernel series>-arm64" (6.12-arm64, 6.1-arm64) is Debian's arm64
# kernel: module, walker and guest programs cross-built (aarch64-linux-gnu),
# booted under qemu-system-aarch64 (TCG) with one vCPU, running the test
# groups of FPT_TESTS_ARM64 unless FPT_TESTS names some: the arm64 specifics
# (the folio backend's hook point, PTE_CONT on every opted-in run and on no
# other, the integrity of folded blocks) and the interfaces; the other
# groups test arch-independent code the amd64 series already cover.
# Every series also gets the test-only kernel modules of tests/modules/*/
# (the page-table walker fpt_ptwalk, the livepatch fpt_test_klp; /fpt/*.ko
# in the guest; results <series>/testmod-<name>).
# Series "<kernel>-robust" and "<kernel>-mmtests" are the robustness series
# of issue 8 (tests/robust/README.md): their guest has three NUMA nodes and a
# hot-removable pc-dimm, and runs tests/robust/robust.sh or mmtests.sh (the
# kernel's own mm selftests).  <kernel> may be 6.12-debug, the debug kernel
# of tests/debug/build-kernel.sh (make check-debug).
# The last line is "N passed, N failed"; exit 1 if anything failed.
#
# Environment:
#   FPT_KERNELS   series to test (default "6.1 6.12 6.12-systemd 6.12-robust
#                 6.1-robust 6.12-mmtests 6.1-mmtests 6.12-arm64 6.1-arm64")
#   FPT_ROBUST_TIMEOUT  host timeout of a robust/mmtests boot (1500)
#   FPT_BOOT_TIMEOUT    kill a guest with no @@START by then (240)
#   FPT_TESTS     comma-separated filter -> guest's fpt.tests= / $FPT_TESTS
#   FPT_TESTS_ARM64  the arm64 series' groups when FPT_TESTS is empty
#                 (default netlink,coverage,integrity,rmmod; "all": every group)
#   FPT_SCRIPT    guest script in /fpt to run          (default run-tests.sh)
#   FPT_TIMEOUT   host timeout per boot, seconds       (default 900)
#   FPT_GUEST_TIMEOUT  guest watchdog, seconds         (default FPT_TIMEOUT-60)
#   FPT_APPEND    extra kernel command line
#   FPT_VERBOSE=1 show the guest console while it runs
#   FPT_VM_MEM, FPT_VM_SMP, FPT_VM_CPU: see run-guest.sh (FPT_VM_SMP: default
#                 2, arm64 series 1)
#   FPT_SYSTEMD_TIMEOUT, FPT_ROOTFS_REBUILD: see systemd.sh
#   FPT_BOOT_WITHOUT_MODULE=1  boot even when fpt.ko did not build (for
#                 guest scripts that do not need it: FPT_SCRIPT=ptwalk.sh)
#   FPT_UNIT_RESULTS  files (space-separated) with "<passed> <failed>" of
#                 checks run before the guests, added to the totals (make
#                 check sets it: the unit tests', the packaging checks')
#   logs: build/vm/<series>/{build.log,console.log}, build/vm/guest-build.log
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/vm/systemd.sh
. "$(dirname "$0")/systemd.sh"
# shellcheck source=tests/robust/stage.sh
. "$(dirname "$0")/../robust/stage.sh"

KERNELS=${FPT_KERNELS:-6.1 6.12 6.12-systemd 6.12-robust 6.1-robust 6.12-mmtests 6.1-mmtests 6.12-arm64 6.1-arm64}
TIMEOUT=${FPT_TIMEOUT:-900}
DMESG_BAD='WARNING:|BUG:|Oops|[Bb]ad page|lockdep|possible circular locking|INFO: task|general protection|Call Trace|Kernel panic'
# matched by DMESG_BAD, but the debug kernel's boot banner, not a report
DMESG_BANNER='rcu:[[:space:]]+RCU lockdep checking is enabled\.'

passed=0 failed=0
# result PASS|FAIL|SKIP NAME [DETAIL...]
result() {
	local st=$1 name=$2
	shift 2
	echo "$st $name${*:+ $*}"
	case $st in
	PASS) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	esac
}
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
# FPT_UNIT_RESULTS (set by `make check`): files "<passed> <failed>" that
# the unit tests (tests/unit/run.sh) and the packaging checks
# (tests/pkg/run.sh) wrote; their counts join the total.
for f in ${FPT_UNIT_RESULTS:-}; do
	what=$(basename "$f" | sed 's/-results$//')
	if read -r up uf <"$f" 2>/dev/null &&
		[[ $up =~ ^[0-9]+$ && $uf =~ ^[0-9]+$ ]]; then
		echo "      $what checks: $up passed, $uf failed (counted below)"
		passed=$((passed + up)) failed=$((failed + uf))
	else
		result FAIL "$what/results" "no readable counts in $f"
	fi
done

# Everything the guest printed outside the dmesg dump, from the first @@
# marker on each line (the serial line carries firmware escape codes).
console_markers() {
	tr -d '\r' <"$1" | awk '
		/@@DMESG-BEGIN/ { dm = 1; next }
		/@@DMESG-END/   { dm = 0; next }
		!dm && /@@[A-Z]/ { print substr($0, index($0, "@@")) }'
}
# The guest's dmesg, less the OOM reports a test provoked on purpose: the
# guest script brackets those with "fpt-test: expected-oom begin/end" lines
# in /dev/kmsg (an OOM kill prints a Call Trace that is not a bug).
dmesg_section() {
	tr -d '\r' <"$1" | awk '
		/@@DMESG-BEGIN/ { dm = 1; next }
		/@@DMESG-END/ { dm = 0 }
		/fpt-test: expected-oom begin/ { oom = 1 }
		/fpt-test: expected-oom end/ { oom = 0; next }
		dm && !oom'
}

# parse_console SERIES LOG: print the results of one boot.
parse_console() {
	local s=$1 log=$2 line tag st name detail rc="" bad
	while IFS= read -r line; do
		read -r tag st name detail <<<"$line"
		case $tag in
		@@RESULT)
			case $st in
			PASS|FAIL|SKIP) result "$st" "$s/${name:-unnamed}" "$detail" ;;
			*) result FAIL "$s/${name:-unnamed}" "bad result status '$st': $detail" ;;
			esac ;;
		@@INFO) echo "      $s: ${line#@@INFO }" ;;
		@@TIMEOUT) echo "      $s: guest watchdog: ${line#@@TIMEOUT }" ;;
		@@DONE) rc=${st#rc=} ;;
		esac
	done < <(console_markers "$log")

	if [ -n "$rc" ]; then
		if [ "$rc" = 0 ]; then
			result PASS "$s/script" "${FPT_SCRIPT:-run-tests.sh} exited 0"
		else
			result FAIL "$s/script" "${FPT_SCRIPT:-run-tests.sh} exited $rc"
		fi
	fi

	if grep -q '@@DMESG-BEGIN' "$log"; then
		bad=$(dmesg_section "$log" | grep -E "$DMESG_BAD" | grep -vE "$DMESG_BANNER" || true)
	else
		# No dump (crash, hang): whatever the kernel put on the console.
		bad=$(tr -d '\r' <"$log" | grep -E "$DMESG_BAD" | grep -vE "$DMESG_BANNER" || true)
		[ -n "$bad" ] || bad="(no dmesg dump in the console log)"
	fi
	if [ -z "$bad" ]; then
		result PASS "$s/dmesg-clean"
	else
		result FAIL "$s/dmesg-clean" "$(grep -c '' <<<"$bad") suspicious line(s):"
		head -n 40 <<<"$bad" | sed 's/^/    | /'
	fi
}

trap 'echo "interrupted" >&2; exit 130' INT TERM
fpt_lock
rm -f "$FPT_VM"/*/console.log

echo "== fetching kernels (log: build/vm/fetch.log)"
# shellcheck disable=SC2046,SC2086 # word lists
if ! fpt_fetch_kernels $(fpt_arches $KERNELS); then
	fpt_tail 20 "$FPT_VM/fetch.log"
	for s in $KERNELS; do result FAIL "$s/kernel" "fetch-kernels.sh failed"; done
	summary
	exit 1
fi

# guest_build ARCH: the guest programs for that architecture, once.
guest_build() {
	local a=$1 log=guest-build.log
	[ -n "${FPT_GUEST_BINS[$a]+set}" ] && return 0
	[ "$a" = amd64 ] || log=guest-build-$a.log
	echo "== building guest programs for $a (log: build/vm/$log)"
	if ! fpt_build_guest "$a"; then
		result FAIL "guest$([ "$a" = amd64 ] || echo "-$a")/build" "make -C ${FPT_GUEST_DIR#"$FPT_ROOT"/} failed"
		fpt_make_tail 25 "$FPT_VM/$log"
		# Boot anyway, with what did build: the other tests still mean something.
	fi
}

# series_time NEXT: the wall-clock time of the series that just ended (its
# builds, boot and tests; the guest programs count in the first series of
# their architecture), then start timing NEXT.
series_name='' series_t0=0
series_time() {
	[ -z "$series_name" ] || echo "      $series_name: $((SECONDS - series_t0)) s wall-clock (build, boot, tests), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	series_name=${1:-} series_t0=$SECONDS
}

for s in $KERNELS; do
	series_time "$s"
	case $s in
	*-systemd)
		guest_build amd64
		if [ -e "$FPT_BUILD/kernels/${s%-systemd}/vmlinuz" ]; then
			fpt_systemd_series "$s"
		else
			result FAIL "$s/kernel" "no kernel for series ${s%-systemd} (build/kernels/${s%-systemd})"
		fi
		continue ;;
	esac
	# <kernel>-robust / <kernel>-mmtests: the robustness series of
	# tests/robust (stage.sh) on that kernel; <kernel> may be 6.12-debug.
	k=$s kind=plain script=${FPT_SCRIPT:-run-tests.sh}
	case $s in
	*-robust) k=${s%-robust} kind=robust script=robust.sh ;;
	*-mmtests) k=${s%-mmtests} kind=mmtests script=mmtests.sh ;;
	esac
	kd=$(fpt_kdir "$k")
	if [ ! -e "$kd/vmlinuz" ]; then
		result FAIL "$s/kernel" "no kernel for series $s (${kd#"$FPT_ROOT"/})"
		continue
	fi
	guest_build "$(fpt_series_arch "$s")"
	kver=$(fpt_kver "$k")
	echo "== $s ($kver)"
	mkdir -p "$FPT_VM/$s"

	while read -r name st why; do
		if [ "$st" = ok ]; then
			result PASS "$s/testmod-$name"
		elif [ "$st" = SKIP ]; then
			result SKIP "$s/testmod-$name" "$why"
		else
			result FAIL "$s/testmod-$name" "$why"
			fpt_make_tail 25 "$FPT_VM/$s/testmod-$name.log"
		fi
	done < <(fpt_build_test_modules "$s" "$k")
	if fpt_build_module "$s" "$k"; then
		result PASS "$s/build"
	else
		result FAIL "$s/build" "$FPT_ERR"
		fpt_make_tail 25 "$FPT_VM/$s/build.log"
		[ "${FPT_BOOT_WITHOUT_MODULE:-0}" = 1 ] || continue
	fi

	# stage.sh sets FPT_STAGE_FILES, FPT_STAGE_QEMU, FPT_STAGE_MEM,
	# FPT_STAGE_SMP, FPT_STAGE_APPEND and FPT_STAGE_TIMEOUT for the
	# robustness kinds
	FPT_STAGE_FILES='' FPT_STAGE_QEMU='' FPT_STAGE_MEM='' FPT_STAGE_SMP='' FPT_STAGE_APPEND='' FPT_STAGE_TIMEOUT=''
	if [ "$kind" != plain ] && ! fpt_robust_stage "$s" "$k" "$kind" >"$FPT_VM/$s/stage.log" 2>&1; then
		result FAIL "$s/stage" "could not stage the robustness series (build/vm/$s/stage.log)"
		fpt_tail 20 "$FPT_VM/$s/stage.log"
		continue
	fi
	if ! FPT_EXTRA_FILES="${FPT_EXTRA_FILES:-} $FPT_STAGE_FILES" fpt_initramfs "$s" >"$FPT_VM/$s/initramfs.log" 2>&1; then
		result FAIL "$s/boot" "could not build the initramfs"
		fpt_tail 20 "$FPT_VM/$s/initramfs.log"
		continue
	fi

	log=$FPT_VM/$s/console.log
	tmo=${FPT_STAGE_TIMEOUT:-$TIMEOUT}
	tests=${FPT_TESTS:-} smp=${FPT_STAGE_SMP:-${FPT_VM_SMP:-}}
	if [ "$(fpt_series_arch "$s")" = arm64 ]; then
		[ -n "$tests" ] || tests=${FPT_TESTS_ARM64:-netlink,coverage,integrity,rmmod}
		[ "$tests" != all ] || tests=
		smp=${smp:-1}
		echo "      $s: test groups ${tests:-all}, $smp vCPU"
	fi
	append=$(FPT_TESTS=$tests FPT_SCRIPT=$script FPT_APPEND="${FPT_APPEND:-}${FPT_STAGE_APPEND:+ $FPT_STAGE_APPEND}" fpt_append "$tmo")
	# A guest kernel that dies before /init starts the script (no @@START:
	# nothing of fpt is loaded yet; seen once as an int3 text-patching
	# oops in early boot, bookworm's QEMU 7.2's bug: README, "Tests") is
	# booted once more; its console is kept as console.log.early-crash.
	# Any later failure counts.
	for attempt in 1 2; do
		t0=$(date +%s.%N)
		boot_rc=0
		FPT_VM_QEMU_ARGS="${FPT_VM_QEMU_ARGS:-}${FPT_STAGE_QEMU:+ $FPT_STAGE_QEMU}" \
		FPT_VM_MEM=${FPT_STAGE_MEM:-${FPT_VM_MEM:-}} FPT_VM_SMP=$smp \
		bash "$FPT_TOOLS/run-guest.sh" "$kd" "$FPT_VM/$s/initramfs.cpio.gz" \
			"$log" "$tmo" "$append" 2>"$FPT_VM/$s/run-guest.err" || boot_rc=$?
		secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		if [ "$boot_rc" -eq 0 ] || [ "$attempt" = 2 ] || grep -qa '@@START' "$log"; then
			break
		fi
		cp "$log" "$log.early-crash"
		echo "      $s: the guest kernel died before the test script started (see console.log.early-crash); booting again"
	done

	if [ "$boot_rc" -eq 0 ]; then
		result PASS "$s/boot" "${secs}s"
	else
		result FAIL "$s/boot" "after ${secs}s: $(paste -sd' ' "$FPT_VM/$s/run-guest.err")"
		echo "    last 30 console lines (build/vm/$s/console.log):"
		fpt_tail 30 "$log"
	fi
	FPT_SCRIPT=$script parse_console "$s" "$log"
done
series_time

summary
