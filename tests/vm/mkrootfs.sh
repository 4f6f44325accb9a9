#!/bin/bash
# mkrootfs.sh [SERIES]: the Debian root file system of the systemd end-to-end
# test (tests/vm/systemd.sh), built on the host with debootstrap and cached:
#
#   build/rootfs/SERIES/base.raw     ext4 image of the root file system
#                                    (mke2fs -d: no loop mount needed)
#   build/rootfs/SERIES/vmlinuz      the kernel and the initrd that the
#   build/rootfs/SERIES/initrd.img   image's own initramfs-tools made
#   build/rootfs/SERIES/kver         the kernel release inside
#   build/rootfs/SERIES/build.log    what building it printed
#   build/rootfs/cache/              downloaded .debs, kept across rebuilds
#
# SERIES is a kernel series of fetch-kernels.sh (default 6.12): the image
# gets that very kernel release (image + headers + kbuild, from
# bookworm-backports for 6.12) installed by apt, so /lib/modules/KVER is
# there for modprobe and dkms.  Debian's 6.12 kbuild depends on pahole,
# which bookworm lacks: a dummy "pahole" package without files stands in
# (modules are then built without BTF: module/Makefile skips it when there
# is no pahole binary).
#
# The image holds Debian (bookworm, minbase) with systemd, udev, kmod, dkms,
# gcc, make, procps, bash-completion and the libraries of fptd/fptctl:
# every dependency of the fpt-dkms and fptd packages, so that `apt install
# ./fpt-dkms_*.deb ./fptd_*.deb` works in the guest, which has no network.
# And Debian's PostgreSQL 15 (postgresql-15: server, pgbench; the client),
# for e2e.sh's postgres group: its cluster 15/main is created by the
# package but set to start.conf "manual", so no boot starts it (the
# postgresql generator makes postgresql@15-main.service wanted only for
# "auto" clusters); the test starts it itself.
# Nothing of fpt itself: each test run gets a qcow2 overlay of base.raw and
# the packages of the current tree on a second disk (a tar file read from
# /dev/vdb by fpt-e2e.service, the one unit baked in here; see systemd.sh).
#
# Rebuilt only when this script or the kernel release changes (the key is
# kept in build/rootfs/SERIES/.done), or with FPT_ROOTFS_REBUILD=1.
# Uses the Debian mirror that the host's apt uses (fpt_mirror in lib.sh).
# Needs root (debootstrap, chroot, mounts inside a private mount namespace).
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

series=${1:-6.12}
[ "$(id -u)" -eq 0 ] || { echo "mkrootfs: needs root (debootstrap, chroot)" >&2; exit 1; }
for t in debootstrap mke2fs unshare dpkg-deb; do
	command -v "$t" >/dev/null || { echo "mkrootfs: $t missing (make deps)" >&2; exit 1; }
done
[ -e "$FPT_BUILD/kernels/$series" ] || { echo "mkrootfs: no build/kernels/$series (fetch-kernels.sh first)" >&2; exit 1; }
kver=$(fpt_kver "$series")
case $series in
6.1) suite=bookworm ;;
*) suite=bookworm-backports ;;
esac

out=$FPT_BUILD/rootfs/$series
cache=$FPT_BUILD/rootfs/cache
key="$(sha256sum <"$0" | cut -c1-16) $kver"
if [ "${FPT_ROOTFS_REBUILD:-0}" != 1 ] && [ -f "$out/.done" ] && [ "$(cat "$out/.done")" = "$key" ] &&
	[ -f "$out/base.raw" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
	echo "mkrootfs: build/rootfs/$series is up to date ($kver)"
	exit 0
fi

M=$(fpt_mirror)
t0=$(date +%s)
mkdir -p "$out" "$cache/debootstrap" "$cache/apt/partial"
rm -f "$out/.done"
dir=$out/dir
rm -rf "$dir" "$out/base.raw" "$out/base.raw.tmp"
log=$out/build.log
: >"$log"
echo "mkrootfs: debootstrap bookworm + $kver ($suite) into build/rootfs/$series (log: ${log#"$FPT_ROOT"/})"

# The packages of the image, besides minbase.  kbuild/headers/image of
# exactly $kver: the module built on the host and the guest's dkms must see
# the same kernel.
PKGS=(
	systemd systemd-sysv udev dbus kmod procps jq bash-completion
	dkms make gcc libc6-dev
	libsystemd0 libkmod2 libmnl0 libinih1
	initramfs-tools
	postgresql-15
	"linux-image-$kver" "linux-headers-$kver"
)

# A "pahole" package with no files, for linux-kbuild-6.12's Depends.
pahole_deb=$out/pahole-dummy.deb
mkdir -p "$FPT_BUILD/tmp"
pd=$(mktemp -d "$FPT_BUILD/tmp/pahole.XXXXXX")
mkdir -p "$pd/DEBIAN"
cat >"$pd/DEBIAN/control" <<'EOF'
Package: pahole
Version: 0~fpt.dummy
Architecture: all
Maintainer: fpt test rig <root@localhost>
Priority: optional
Section: devel
Description: stand-in for pahole (fpt test image; bookworm has no pahole)
 linux-kbuild-6.12 from bookworm-backports depends on pahole, which only
 trixie has.  This package has no files: kernel modules are built without
 BTF (CONFIG_DEBUG_INFO_BTF_MODULES=), which fpt's module/Makefile does
 when there is no pahole binary.
EOF
dpkg-deb --root-owner-group --build "$pd" "$pahole_deb" >>"$log"
rm -rf "$pd"

# Everything that mounts runs in a private mount namespace: whatever
# happens, no mount outlives it.
stage1() {
	debootstrap --variant=minbase --cache-dir="$cache/debootstrap" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		bookworm "$dir" "$M"
}
stage2() {
	mount -t proc proc "$dir/proc"
	mount -t sysfs sysfs "$dir/sys"
	mount --bind /dev "$dir/dev"
	mount -t devpts devpts "$dir/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null || true
	mount -t tmpfs tmpfs "$dir/tmp"
	mount --bind "$cache/apt" "$dir/var/cache/apt/archives"
	cp "$pahole_deb" "$dir/tmp/pahole-dummy.deb"
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	cat >"$dir/etc/apt/sources.list" <<-EOF
	deb $M bookworm main
	deb $M bookworm-backports main
	EOF
	# initrd: gzip (no zstd in the image), and the virtio disk driver
	# whatever MODULES= finds in the chroot.
	mkdir -p "$dir/etc/initramfs-tools/conf.d"
	echo 'COMPRESS=gzip' >"$dir/etc/initramfs-tools/conf.d/fpt-e2e"
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root /bin/sh -exc '
		printf "%s\n" virtio_pci virtio_blk ext4 >> /etc/initramfs-tools/modules
		apt-get -q update
		dpkg -i /tmp/pahole-dummy.deb
		apt-get install -y -q --no-install-recommends "$@"
		rm -f /usr/sbin/policy-rc.d
		' sh "${PKGS[@]}"
}
export -f stage1 stage2
export dir cache M pahole_deb
export PKGS_LIST="${PKGS[*]}"
if ! unshare -m --propagation private bash -c 'set -euo pipefail; stage1' >>"$log" 2>&1; then
	echo "mkrootfs: debootstrap failed (${log#"$FPT_ROOT"/}):" >&2; fpt_tail 20 "$log" >&2; exit 1
fi
t1=$(date +%s)
if ! unshare -m --propagation private bash -c 'set -euo pipefail; read -ra PKGS <<<"$PKGS_LIST"; stage2' >>"$log" 2>&1; then
	echo "mkrootfs: installing packages failed (${log#"$FPT_ROOT"/}):" >&2; fpt_tail 20 "$log" >&2; exit 1
fi
t2=$(date +%s)

# --- configuration -----------------------------------------------------------
[ -f "$dir/boot/vmlinuz-$kver" ] && [ -f "$dir/boot/initrd.img-$kver" ] ||
	{ echo "mkrootfs: no /boot/vmlinuz-$kver or initrd.img-$kver in the image" >&2; exit 1; }
# (build is an absolute symlink: test it inside the tree)
[ -L "$dir/lib/modules/$kver/build" ] && [ -f "$dir/usr/src/linux-headers-$kver/Makefile" ] ||
	{ echo "mkrootfs: no /lib/modules/$kver/build -> linux-headers-$kver" >&2; exit 1; }
# PostgreSQL: the package made the cluster 15/main; no boot starts it
[ -f "$dir/etc/postgresql/15/main/start.conf" ] && [ -x "$dir/usr/lib/postgresql/15/bin/pgbench" ] ||
	{ echo "mkrootfs: no cluster 15/main or no pgbench after installing postgresql-15" >&2; exit 1; }
echo manual >"$dir/etc/postgresql/15/main/start.conf"
echo "fpt-e2e" >"$dir/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tfpt-e2e\n' >"$dir/etc/hosts"
# fsck pass 0: the kernel mounts / read-write (rw on the command line)
echo '/dev/vda / ext4 rw,errors=remount-ro 0 0' >"$dir/etc/fstab"
# No password for root: a person can log in on the serial console of a
# debugging boot (FPT_VERBOSE=1); the guest has no network.
chroot "$dir" passwd -d root >>"$log" 2>&1
# Nothing periodic or networked in the test boots.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer man-db.timer dpkg-db-backup.timer systemd-timesyncd.service \
	systemd-networkd-wait-online.service getty@tty1.service; do
	ln -sfn /dev/null "$dir/etc/systemd/system/$u"
done
# The only fpt-specific part of the image: a oneshot after multi-user.target
# that unpacks the payload disk (/dev/vdb, a tar file: the current build of
# fpt and the test scripts) over / and runs its boot script, which prints
# the results on the second serial port and powers the guest off.
install -d "$dir/usr/local/sbin" "$dir/etc/systemd/system/multi-user.target.wants"
cat >"$dir/usr/local/sbin/fpt-e2e-start" <<'EOF'
#!/bin/sh
# Unpack the payload disk over / and run its boot script (see
# tests/vm/systemd.sh in the fpt source tree).  If there is no payload,
# say so on the second serial port and power off.
if ! tar --keep-directory-symlink --no-same-owner -xf /dev/vdb -C / ||
	[ ! -x /usr/local/lib/fpt-e2e/boot.sh ]; then
	echo "@@RESULT FAIL payload could not unpack /dev/vdb" >/dev/ttyS1
	echo "@@DONE rc=1" >/dev/ttyS1
	systemctl poweroff --force
	exit 1
fi
exec /usr/local/lib/fpt-e2e/boot.sh
EOF
chmod 755 "$dir/usr/local/sbin/fpt-e2e-start"
cat >"$dir/etc/systemd/system/fpt-e2e.service" <<'EOF'
[Unit]
Description=fpt end-to-end test (payload from /dev/vdb)
After=multi-user.target
ConditionPathExists=/dev/vdb

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/fpt-e2e-start
StandardOutput=journal
StandardError=journal
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
ln -sfn ../fpt-e2e.service "$dir/etc/systemd/system/multi-user.target.wants/fpt-e2e.service"

cp "$dir/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$dir/boot/initrd.img-$kver" "$out/initrd.img"
echo "$kver" >"$out/kver"

# --- the image -----------------------------------------------------------------
used_mb=$(du -sxm "$dir" | cut -f1)
size_mb=$(( (used_mb * 13 / 10 + 1536 + 255) / 256 * 256 ))
echo "mkrootfs: $used_mb MB of files, image $size_mb MB" | tee -a "$log"
mke2fs -q -F -t ext4 -L fpt-root -d "$dir" "$out/base.raw.tmp" "${size_mb}M" >>"$log" 2>&1 ||
	{ echo "mkrootfs: mke2fs -d failed (${log#"$FPT_ROOT"/})" >&2; fpt_tail 10 "$log" >&2; exit 1; }
mv -f "$out/base.raw.tmp" "$out/base.raw"
rm -rf "$dir"
t3=$(date +%s)
echo "mkrootfs: done in $((t3 - t0)) s (debootstrap $((t1 - t0)) s, packages $((t2 - t1)) s, image $((t3 - t2)) s)" | tee -a "$log"
echo "$key" >"$out/.done"
