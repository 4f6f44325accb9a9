# shellcheck shell=bash
# The systemd end-to-end series of check.sh: "<kernel series>-systemd",
# e.g. 6.12-systemd.  Sourced by check.sh (uses its result/parse_console).
#
# Unlike the busybox series, this boots a real Debian root file system
# (tests/vm/mkrootfs.sh: debootstrap, cached in build/rootfs/SERIES) with
# systemd as PID 1, and installs fpt into it the way an operator does:
#   - on the host, the Debian packages of the tree are built from a clean
#     copy (tests/pkg/build-deb.sh: dpkg-buildpackage -us -uc -b, then
#     lintian); the guest installs fpt-dkms and fptd with apt, and dkms
#     builds the module inside the guest (its postinst);
#   - the packages, fpt-touch/fpt-nl and the guest scripts
#     (tests/vm/systemd/{boot,e2e}.sh under /usr/local/lib/fpt-e2e) go into a
#     tar file that the guest sees as its second disk (/dev/vdb);
#   - the root disk is a qcow2 overlay of the cached base image, so a code
#     change costs no image rebuild and every run starts from the same disk.
# The guest's fpt-e2e.service (baked into the image) unpacks /dev/vdb over
# / and runs boot.sh, which runs e2e.sh and writes the @@ protocol of
# guest-init.sh (@@RESULT/@@INFO/@@DMESG-BEGIN/-END/@@DONE) to the second
# serial port.  The first boot ends with "@@REBOOT" and a `systemctl
# reboot` of the guest (qemu exits: -no-reboot); the host boots the same
# overlay again, and the second boot checks what came back, then purges
# the packages (@@DONE).  Boot N's serial ports: build/vm/SERIES/
# console-N.log (kernel and systemd) and results-N.log.
#
# Files: build/vm/SERIES/{deb.log,stage/,payload.tar,run.qcow2,
#        console-N.log,results-N.log,run-guest.err}; build/deb/ (packages)
# Environment: FPT_SYSTEMD_TIMEOUT (host timeout of each boot, default
#   2400 s: a cap; boot 1 has dkms build the module under TCG), FPT_TESTS (guest test filter, as for the other series),
#   FPT_APPEND, FPT_VM_MEM (default 2G here), FPT_VM_SMP, FPT_VM_CPU,
#   FPT_VERBOSE=1 (show the results port while it runs), FPT_ROOTFS_REBUILD=1.

# fpt_systemd_stage SERIES: build the packages (and lintian them), stage
# them with the guest programs and scripts, pack build/vm/SERIES/payload.tar.
# Non-zero with FPT_ERR set if there are no packages; the lintian verdict
# is in FPT_LINTIAN (PASS/FAIL) and FPT_LINTIAN_MSG.
fpt_systemd_stage() {
	local s=$1 out stage ver f rc
	out=$FPT_VM/$s
	stage=$out/stage
	FPT_ERR='' FPT_LINTIAN=FAIL FPT_LINTIAN_MSG=''
	rm -rf "$stage" "$out/payload.tar"
	ver=$(cat "$FPT_ROOT/VERSION")
	rc=0
	bash "$FPT_ROOT/tests/pkg/build-deb.sh" >"$out/deb.log" 2>&1 || rc=$?
	if [ "$rc" = 1 ] || ! ls "$FPT_BUILD"/deb/fptd_"$ver"-*.deb >/dev/null 2>&1; then
		FPT_ERR="dpkg-buildpackage failed (build/vm/$s/deb.log, build/deb/build.log)"
		return 1
	fi
	if [ "$rc" = 0 ]; then
		FPT_LINTIAN=PASS
		FPT_LINTIAN_MSG="lintian --pedantic: $(grep -cE '^[EW]: ' "$FPT_BUILD/deb/lintian.log") errors/warnings, all explained in debian/README; $(grep -cE '^[IP]: ' "$FPT_BUILD/deb/lintian.log") info/pedantic"
	else
		FPT_LINTIAN_MSG="lintian: $(grep 'unexplained:' "$out/deb.log" | sed 's/^ *unexplained: //' | paste -sd';' | cut -c1-300)"
	fi
	mkdir -p "$stage/usr/local/bin" "$stage/usr/local/lib/fpt-e2e/debs"
	cp "$FPT_BUILD"/deb/fpt-dkms_"$ver"-*_all.deb "$FPT_BUILD"/deb/fptd_"$ver"-*.deb \
		"$stage/usr/local/lib/fpt-e2e/debs/"
	rm -f "$stage"/usr/local/lib/fpt-e2e/debs/*dbgsym*
	for f in fpt-touch fpt-nl; do
		[ -x "$FPT_GUEST_BIN/$f" ] || { FPT_ERR="no $f in ${FPT_GUEST_BIN:-build/guest/bin} (guest build failed?)"; return 1; }
		cp "$FPT_GUEST_BIN/$f" "$stage/usr/local/bin/"
	done
	cp "$FPT_TOOLS/systemd/boot.sh" "$FPT_TOOLS/systemd/e2e.sh" "$stage/usr/local/lib/fpt-e2e/"
	chmod 755 "$stage"/usr/local/lib/fpt-e2e/*.sh
	echo "$ver" >"$stage/usr/local/lib/fpt-e2e/version"
	# Owned by root in the guest; tar pads to a multiple of 10240 bytes, so
	# the file is a whole number of 512-byte sectors.
	tar -C "$stage" --owner=0 --group=0 --numeric-owner -cf "$out/payload.tar" . ||
		{ FPT_ERR="tar of the stage failed"; return 1; }
}

# fpt_systemd_boot SERIES N TIMEOUT: boot N of the image (1: a fresh
# overlay of the base image; later boots: the same overlay) with the
# payload; 0 if the guest printed @@DONE or @@REBOOT on its results port.
fpt_systemd_boot() {
	local s=$1 n=$2 tmo=$3 k=${1%-systemd} rootfs out append rc gt log res
	out=$FPT_VM/$s
	rootfs=$FPT_BUILD/rootfs/$k
	log=$out/console-$n.log res=$out/results-$n.log
	rm -f "$log" "$res"
	if [ "$n" = 1 ]; then
		rm -f "$out/run.qcow2"
		qemu-img create -q -f qcow2 -F raw -b "$rootfs/base.raw" "$out/run.qcow2" >&2 || return 1
	fi
	# the guest's watchdog counts from e2e.sh's start, after the boot
	gt=${FPT_GUEST_TIMEOUT:-$((tmo - 300))}
	append="root=/dev/vda rw console=ttyS0 panic=-1 quiet loglevel=4 systemd.show_status=false"
	# fpte2e.*, not fpt.*: the kernel would hand those to fpt.ko as parameters
	append="$append fpte2e.timeout=$gt${FPT_TESTS:+ fpte2e.tests=$(printf '%s' "$FPT_TESTS" | tr -s '[:space:]' ',')}"
	append="$append${FPT_APPEND:+ $FPT_APPEND}"
	: >"$res"
	fpt_qemu_x86 || return 1
	local qemu=(
		"${FPT_QEMU_X86[@]}" -machine q35 -cpu "${FPT_VM_CPU:-max}"
		-m "${FPT_VM_MEM:-2G}" -smp "${FPT_VM_SMP:-2}"
		-accel tcg -display none -no-reboot -nic none -monitor none
		-kernel "$rootfs/vmlinuz" -initrd "$rootfs/initrd.img" -append "$append"
		-drive "file=$out/run.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap"
		-drive "file=$out/payload.tar,if=virtio,format=raw,readonly=on"
		-serial "file:$log" -serial "file:$res"
	)
	local tailpid=
	if [ "${FPT_VERBOSE:-0}" = 1 ]; then
		tail -n +1 -F "$res" 2>/dev/null &
		tailpid=$!
	fi
	rc=0
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null >"$out/qemu-$n.out" 2>&1 || rc=$?
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	grep -q '@@DONE\|@@REBOOT' "$res" && return 0
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "boot $n: no @@DONE after ${tmo}s: guest killed (timeout)" >&2
		return 124
	fi
	echo "boot $n: qemu exited with status $rc without @@DONE: $(tail -n 3 "$out/qemu-$n.out" | paste -sd' ')" >&2
	return 1
}

# fpt_systemd_series SERIES: the whole series, reporting through result().
fpt_systemd_series() {
	local s=$1 k=${1%-systemd} out t0 t00 secs boot_rc tmo parsed n
	out=$FPT_VM/$s
	tmo=${FPT_SYSTEMD_TIMEOUT:-2400}
	mkdir -p "$out"
	rm -f "$out"/console-*.log "$out"/results-*.log
	echo "== $s ($(fpt_kver "$k"), Debian root file system, systemd)"
	t00=$(date +%s)

	t0=$(date +%s)
	if bash "$FPT_TOOLS/mkrootfs.sh" "$k" >"$out/rootfs.out" 2>&1; then
		result PASS "$s/rootfs" "$(tail -n 1 "$out/rootfs.out")"
	else
		result FAIL "$s/rootfs" "mkrootfs.sh failed after $(($(date +%s) - t0)) s"
		fpt_tail 25 "$out/rootfs.out"
		return
	fi

	t0=$(date +%s)
	if fpt_systemd_stage "$s"; then
		result PASS "$s/deb-build" "dpkg-buildpackage -us -uc -b from a clean copy of the tree: $(cd "$FPT_BUILD/deb" && ls ./*.deb | sed 's|^\./||' | grep -v dbgsym | paste -sd' ') in $(($(date +%s) - t0)) s (with lintian)"
		result "$FPT_LINTIAN" "$s/lintian" "$FPT_LINTIAN_MSG"
	else
		result FAIL "$s/deb-build" "$FPT_ERR"
		fpt_tail 25 "$out/deb.log"
		return
	fi

	# Boot 1 installs and exercises fpt and ends with a reboot of the guest;
	# boot 2 checks what came back and purges.  (A guest that does not ask
	# for the reboot said @@DONE: nothing more to boot.)
	for n in 1 2; do
		t0=$(date +%s.%N)
		boot_rc=0
		fpt_systemd_boot "$s" "$n" "$tmo" 2>"$out/run-guest.err" || boot_rc=$?
		secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		if [ "$boot_rc" -eq 0 ]; then
			result PASS "$s/boot-$n" "${secs}s$(grep -q '@@REBOOT' "$out/results-$n.log" && echo ", then the guest rebooted")"
		else
			result FAIL "$s/boot-$n" "after ${secs}s: $(paste -sd' ' "$out/run-guest.err")"
			echo "    last 30 console lines (build/vm/$s/console-$n.log):"
			fpt_tail 30 "$out/console-$n.log"
			echo "    last 15 lines of the results port (build/vm/$s/results-$n.log):"
			fpt_tail 15 "$out/results-$n.log"
		fi
		grep -q '@@REBOOT' "$out/results-$n.log" || break
	done
	rm -f "$out/run.qcow2"
	echo "      $s: the series took $(($(date +%s) - t00)) s (packages, boots, checks)"
	# The results ports carry the dmesg dumps; without one (a guest that
	# never got that far) the kernel console is scanned instead.
	parsed=$out/results.log
	cat "$out"/results-[0-9].log >"$parsed" 2>/dev/null
	if ! grep -q '@@DMESG-BEGIN' "$parsed" 2>/dev/null; then
		cat "$out"/console-[0-9].log >>"$parsed" 2>/dev/null
	fi
	FPT_SCRIPT=e2e.sh parse_console "$s" "$parsed"
}
