# shellcheck shell=bash
# The systemd end-to-end series of check.sh: "<kernel series>-systemd",
# e.g. 6.12-systemd.  Sourced by check.sh (uses its result/parse_console).
#
# Unlike the busybox series, this boots a real Debian root file system
# (tests/vm/mkrootfs.sh: debootstrap, cached in build/rootfs/SERIES) with
# systemd as PID 1, and installs fpt into it the way an operator does:
#   - on the host, `make` then `make install DESTDIR=<stage>` (what the
#     project's Makefiles install: fptd, its unit and config, fptctl, ...);
#     the module is not taken from there but built inside the guest by
#     dkms from the source tree staged at /usr/src/fpt-VERSION;
#   - the stage, fpt-touch/fpt-nl and the guest scripts
#     (tests/vm/systemd/{boot,e2e}.sh under /usr/local/lib/fpt-e2e) go into a
#     tar file that the guest sees as its second disk (/dev/vdb);
#   - the root disk is a qcow2 overlay of the cached base image, so a code
#     change costs no image rebuild and every run starts from the same disk.
# The guest's fpt-e2e.service (baked into the image) unpacks /dev/vdb over
# / and runs boot.sh, which runs e2e.sh and writes the @@ protocol of
# guest-init.sh (@@RESULT/@@INFO/@@DMESG-BEGIN/-END/@@DONE) to the second
# serial port: build/vm/SERIES/results.log.  The first serial port (kernel
# and systemd console) goes to build/vm/SERIES/console.log.
#
# Files: build/vm/SERIES/{install.log,stage/,payload.tar,run.qcow2,
#        console.log,results.log,run-guest.err}
# Environment: FPT_SYSTEMD_TIMEOUT (host timeout of the boot, default 900 s),
#   FPT_TESTS (guest test filter, as for the other series), FPT_APPEND,
#   FPT_VM_MEM (default 2G here), FPT_VM_SMP, FPT_VM_CPU, FPT_VERBOSE=1
#   (show the results port while it runs), FPT_ROOTFS_REBUILD=1.

# fpt_systemd_stage SERIES: build and `make install` into build/vm/SERIES/stage,
# add the dkms source tree, the guest programs and scripts, and pack
# build/vm/SERIES/payload.tar.  Non-zero with FPT_ERR set on failure; a
# part that an operator's `make install` should have installed but did not
# is named in FPT_STAGE_WARN (the stage then gets it from its own Makefile,
# so that the rest of the run still means something).
fpt_systemd_stage() {
	local s=$1 k=${1%-systemd} out stage kdir ver f c log
	out=$FPT_VM/$s
	stage=$out/stage
	log=$out/install.log
	kdir=$FPT_BUILD/kernels/$k/kdir
	FPT_ERR= FPT_STAGE_WARN=
	rm -rf "$stage" "$out/payload.tar"
	mkdir -p "$stage"
	: >"$log"
	# What an operator runs in the source tree: make, then make install.
	# KDIR: the headers of the guest's kernel (the host has none of its own).
	if ! make -C "$FPT_ROOT" -j"$FPT_JOBS" KDIR="$kdir" >>"$log" 2>&1; then
		FPT_ERR="make failed (build/vm/$s/install.log)"; return 1
	fi
	if ! make -C "$FPT_ROOT" install KDIR="$kdir" DESTDIR="$stage" >>"$log" 2>&1; then
		FPT_ERR="make install DESTDIR=... failed (build/vm/$s/install.log)"; return 1
	fi
	# The module comes from dkms in the guest, not from make install (whose
	# modules_install would also bring a modules.* index of its own).
	rm -rf "$stage/lib/modules" "$stage/usr/lib/modules"
	if [ ! -e "$stage/usr/sbin/fptd" ] && [ ! -e "$stage/usr/local/sbin/fptd" ]; then
		FPT_STAGE_WARN="${FPT_STAGE_WARN:+$FPT_STAGE_WARN; }top-level make install did not install fptd"
		if [ -f "$FPT_ROOT/daemon/Makefile" ]; then
			echo "== fallback: make -C daemon install" >>"$log"
			make -C "$FPT_ROOT/daemon" install DESTDIR="$stage" >>"$log" 2>&1 ||
				{ FPT_ERR="make -C daemon install failed (build/vm/$s/install.log)"; return 1; }
		fi
	fi
	# dkms source tree: what dkms.conf needs (module/, include/).
	ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$FPT_ROOT/dkms.conf")
	[ -n "$ver" ] || { FPT_ERR="no PACKAGE_VERSION in dkms.conf"; return 1; }
	if [ ! -d "$stage/usr/src/fpt-$ver" ]; then
		f=$stage/usr/src/fpt-$ver
		mkdir -p "$f/module"
		cp "$FPT_ROOT/dkms.conf" "$f/"
		cp "$FPT_ROOT"/module/{Kbuild,Makefile} "$FPT_ROOT"/module/*.h "$f/module/"
		for c in "$FPT_ROOT"/module/*.c; do   # sources, not kbuild's *.mod.c
			case $c in *.mod.c) ;; *) cp "$c" "$f/module/" ;; esac
		done
		cp -r "$FPT_ROOT/include" "$f/"
	fi
	# Test programs and scripts.
	mkdir -p "$stage/usr/local/bin" "$stage/usr/local/lib/fpt-e2e"
	for f in fpt-touch fpt-nl; do
		[ -x "$FPT_GUEST_BIN/$f" ] || { FPT_ERR="no $f in ${FPT_GUEST_BIN:-build/guest/bin} (guest build failed?)"; return 1; }
		cp "$FPT_GUEST_BIN/$f" "$stage/usr/local/bin/"
	done
	cp "$FPT_TOOLS/systemd/boot.sh" "$FPT_TOOLS/systemd/e2e.sh" "$stage/usr/local/lib/fpt-e2e/"
	chmod 755 "$stage"/usr/local/lib/fpt-e2e/*.sh
	echo "$ver" >"$stage/usr/local/lib/fpt-e2e/dkms-version"
	# Owned by root in the guest; tar pads to a multiple of 10240 bytes, so
	# the file is a whole number of 512-byte sectors.
	tar -C "$stage" --owner=0 --group=0 --numeric-owner -cf "$out/payload.tar" . ||
		{ FPT_ERR="tar of the stage failed"; return 1; }
}

# fpt_systemd_boot SERIES LOG RESULTS TIMEOUT: boot the image with a fresh
# overlay and the payload; 0 if the guest printed @@DONE.
fpt_systemd_boot() {
	local s=$1 log=$2 res=$3 tmo=$4 k=${1%-systemd} rootfs out append rc gt
	out=$FPT_VM/$s
	rootfs=$FPT_BUILD/rootfs/$k
	rm -f "$out/run.qcow2" "$log" "$res"
	qemu-img create -q -f qcow2 -F raw -b "$rootfs/base.raw" "$out/run.qcow2" >&2 || return 1
	gt=${FPT_GUEST_TIMEOUT:-$((tmo - 60))}
	append="root=/dev/vda rw console=ttyS0 panic=-1 quiet loglevel=4 systemd.show_status=false"
	# fpte2e.*, not fpt.*: the kernel would hand those to fpt.ko as parameters
	append="$append fpte2e.timeout=$gt${FPT_TESTS:+ fpte2e.tests=$(printf '%s' "$FPT_TESTS" | tr -s '[:space:]' ',')}"
	append="$append${FPT_APPEND:+ $FPT_APPEND}"
	: >"$res"
	local qemu=(
		qemu-system-x86_64 -machine q35 -cpu "${FPT_VM_CPU:-max}"
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
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null >"$out/qemu.out" 2>&1 || rc=$?
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	rm -f "$out/run.qcow2"
	grep -q '@@DONE' "$res" && return 0
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "no @@DONE after ${tmo}s: guest killed (timeout)" >&2
		return 124
	fi
	echo "qemu exited with status $rc without @@DONE: $(tail -n 3 "$out/qemu.out" | paste -sd' ')" >&2
	return 1
}

# fpt_systemd_series SERIES: the whole series, reporting through result().
fpt_systemd_series() {
	local s=$1 k=${1%-systemd} out log res t0 secs boot_rc tmo parsed
	out=$FPT_VM/$s
	tmo=${FPT_SYSTEMD_TIMEOUT:-900}
	mkdir -p "$out"
	echo "== $s ($(fpt_kver "$k"), Debian root file system, systemd)"

	t0=$(date +%s)
	if bash "$FPT_TOOLS/mkrootfs.sh" "$k" >"$out/rootfs.out" 2>&1; then
		result PASS "$s/rootfs" "$(tail -n 1 "$out/rootfs.out")"
	else
		result FAIL "$s/rootfs" "mkrootfs.sh failed after $(($(date +%s) - t0)) s"
		fpt_tail 25 "$out/rootfs.out"
		return
	fi

	if fpt_systemd_stage "$s"; then
		result PASS "$s/install" "make install DESTDIR + dkms source tree + payload ($(du -k "$out/payload.tar" | cut -f1) kB)"
	else
		result FAIL "$s/install" "$FPT_ERR"
		fpt_make_tail 25 "$out/install.log"
		return
	fi
	[ -n "$FPT_STAGE_WARN" ] && result FAIL "$s/make-install" "$FPT_STAGE_WARN"

	log=$out/console.log
	res=$out/results.log
	t0=$(date +%s.%N)
	boot_rc=0
	fpt_systemd_boot "$s" "$log" "$res" "$tmo" 2>"$out/run-guest.err" || boot_rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$boot_rc" -eq 0 ]; then
		result PASS "$s/boot" "${secs}s"
	else
		result FAIL "$s/boot" "after ${secs}s: $(paste -sd' ' "$out/run-guest.err")"
		echo "    last 30 console lines (build/vm/$s/console.log):"
		fpt_tail 30 "$log"
		echo "    last 15 lines of the results port (build/vm/$s/results.log):"
		fpt_tail 15 "$res"
	fi
	# The results port carries the dmesg dump; without one (the guest never
	# got that far) the kernel console is scanned instead.
	parsed=$res
	if ! grep -q '@@DMESG-BEGIN' "$res" 2>/dev/null; then
		parsed=$out/results+console.log
		cat "$res" "$log" >"$parsed" 2>/dev/null
	fi
	FPT_SCRIPT=e2e.sh parse_console "$s" "$parsed"
}
