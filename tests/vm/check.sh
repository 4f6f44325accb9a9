#!/bin/bash
# check.sh: build fpt for each test kernel, boot it in qemu, collect results.
# This is what `make check` runs.
#
# Per series in ${FPT_KERNELS:-6.1 6.12 6.12-systemd}:
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
# The last line is "N passed, N failed"; exit 1 if anything failed.
#
# Environment:
#   FPT_KERNELS   series to test             (default "6.1 6.12 6.12-systemd")
#   FPT_TESTS     comma-separated filter -> guest's fpt.tests= / $FPT_TESTS
#   FPT_SCRIPT    guest script in /fpt to run          (default run-tests.sh)
#   FPT_TIMEOUT   host timeout per boot, seconds       (default 900)
#   FPT_GUEST_TIMEOUT  guest watchdog, seconds         (default FPT_TIMEOUT-60)
#   FPT_APPEND    extra kernel command line
#   FPT_VERBOSE=1 show the guest console while it runs
#   FPT_VM_MEM, FPT_VM_SMP, FPT_VM_CPU: see run-guest.sh
#   FPT_SYSTEMD_TIMEOUT, FPT_ROOTFS_REBUILD: see systemd.sh
#   FPT_UNIT_RESULTS  file with the unit tests' "<passed> <failed>", added
#                 to the totals (make check sets it)
#   logs: build/vm/<series>/{build.log,console.log}, build/vm/guest-build.log
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/vm/systemd.sh
. "$(dirname "$0")/systemd.sh"

KERNELS=${FPT_KERNELS:-6.1 6.12 6.12-systemd}
TIMEOUT=${FPT_TIMEOUT:-900}
DMESG_BAD='WARNING:|BUG:|Oops|[Bb]ad page|lockdep|possible circular locking|INFO: task|general protection|Call Trace|Kernel panic'

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
# FPT_UNIT_RESULTS (set by `make check`): a file "<passed> <failed>" that
# the unit tests (tests/unit/run.sh) wrote; their counts join the total.
if [ -n "${FPT_UNIT_RESULTS:-}" ]; then
	if read -r up uf <"$FPT_UNIT_RESULTS" 2>/dev/null &&
		[[ $up =~ ^[0-9]+$ && $uf =~ ^[0-9]+$ ]]; then
		echo "      unit tests: $up passed, $uf failed (counted below)"
		passed=$((passed + up)) failed=$((failed + uf))
	else
		result FAIL unit/results "no readable counts in $FPT_UNIT_RESULTS"
	fi
fi

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
		bad=$(dmesg_section "$log" | grep -E "$DMESG_BAD" || true)
	else
		# No dump (crash, hang): whatever the kernel put on the console.
		bad=$(tr -d '\r' <"$log" | grep -E "$DMESG_BAD" || true)
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
if ! fpt_fetch_kernels; then
	fpt_tail 20 "$FPT_VM/fetch.log"
	for s in $KERNELS; do result FAIL "$s/kernel" "fetch-kernels.sh failed"; done
	summary
	exit 1
fi

echo "== building guest programs (log: build/vm/guest-build.log)"
if ! fpt_build_guest; then
	result FAIL guest/build "make -C ${FPT_GUEST_DIR#"$FPT_ROOT"/} failed"
	fpt_make_tail 25 "$FPT_VM/guest-build.log"
	# Boot anyway, with what did build: the other tests still mean something.
fi

for s in $KERNELS; do
	case $s in
	*-systemd)
		if [ -e "$FPT_BUILD/kernels/${s%-systemd}/vmlinuz" ]; then
			fpt_systemd_series "$s"
		else
			result FAIL "$s/kernel" "no kernel for series ${s%-systemd} (build/kernels/${s%-systemd})"
		fi
		continue ;;
	esac
	if [ ! -e "$FPT_BUILD/kernels/$s/vmlinuz" ]; then
		result FAIL "$s/kernel" "no kernel for series $s (build/kernels/$s)"
		continue
	fi
	kver=$(fpt_kver "$s")
	echo "== $s ($kver)"
	mkdir -p "$FPT_VM/$s"

	if fpt_build_module "$s"; then
		result PASS "$s/build"
	else
		result FAIL "$s/build" "$FPT_ERR"
		fpt_make_tail 25 "$FPT_VM/$s/build.log"
		continue
	fi

	if ! fpt_initramfs "$s" >"$FPT_VM/$s/initramfs.log" 2>&1; then
		result FAIL "$s/boot" "could not build the initramfs"
		fpt_tail 20 "$FPT_VM/$s/initramfs.log"
		continue
	fi

	log=$FPT_VM/$s/console.log
	append=$(fpt_append "$TIMEOUT")
	# A guest kernel that dies before /init starts the script (no @@START:
	# nothing of fpt is loaded yet; seen once under TCG as an int3 text-
	# patching oops in early boot) is booted once more; its console is
	# kept as console.log.early-crash.  Any later failure counts.
	for attempt in 1 2; do
		t0=$(date +%s.%N)
		boot_rc=0
		bash "$FPT_TOOLS/run-guest.sh" "$FPT_BUILD/kernels/$s" "$FPT_VM/$s/initramfs.cpio.gz" \
			"$log" "$TIMEOUT" "$append" 2>"$FPT_VM/$s/run-guest.err" || boot_rc=$?
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
	parse_console "$s" "$log"
done

summary
