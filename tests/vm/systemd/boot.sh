#!/bin/bash
# boot.sh: run by fpt-e2e.service (baked into the test image by
# tests/vm/mkrootfs.sh) after multi-user.target, once the payload disk has
# been unpacked over /.  Runs e2e.sh and speaks guest-init.sh's protocol
# on the second serial port (/dev/ttyS1 -> build/vm/SERIES/results-N.log):
#   @@START, e2e.sh's @@RESULT/@@INFO lines, @@TIMEOUT (guest watchdog),
#   @@DMESG-BEGIN / dmesg / @@DMESG-END, @@DONE rc=N
# then powers the guest off.  Two phases on the same disk: the first boot
# runs e2e.sh with FPT_PHASE=1; if it asked for a reboot (it creates
# /var/lib/fpt-e2e/reboot) boot.sh says "@@REBOOT rc=N" instead of @@DONE
# and reboots the guest in the ordinary way (qemu exits, -no-reboot; the
# host boots the disk again).  The next boot runs e2e.sh with FPT_PHASE=2,
# and its @@DONE carries the worse exit status of the two.
#
# Kernel command line: fpte2e.timeout=SECS (watchdog for e2e.sh),
# fpte2e.tests=a,b (exported as FPT_TESTS): every fpte2e.KEY=VALUE as
# FPT_KEY=VALUE.  (Not "fpt.": the kernel hands fpt.* to the module fpt as
# its parameters.)

exec </dev/null >/dev/ttyS1 2>&1
stty -F /dev/ttyS1 -onlcr 2>/dev/null   # plain \n on the wire

for arg in $(cat /proc/cmdline); do
	case $arg in
	fpte2e.*=*)
		key=${arg%%=*}; key=${key#fpte2e.}
		case $key in *[!A-Za-z0-9_.-]*|'') continue ;; esac
		export "FPT_$(echo "$key" | tr 'a-z.-' 'A-Z__')=${arg#*=}"
		;;
	esac
done

D=/usr/local/lib/fpt-e2e
STATE=/var/lib/fpt-e2e
mkdir -p "$STATE"
PHASE=$(cat "$STATE/phase" 2>/dev/null || echo 1)
export FPT_PHASE=$PHASE
echo "@@START script=e2e.sh phase=$PHASE kernel=$(uname -r) systemd=$(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
# The payload brought unit files: let systemd see them.
systemctl daemon-reload

rc=0
case ${FPT_TIMEOUT:-} in
''|*[!0-9]*) "$D/e2e.sh" || rc=$? ;;
*)
	timeout -k 10 "$FPT_TIMEOUT" "$D/e2e.sh" || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "@@TIMEOUT e2e.sh still running after ${FPT_TIMEOUT}s; killed"
		echo w >/proc/sysrq-trigger 2>/dev/null   # blocked tasks -> dmesg
	fi
	;;
esac

echo "@@DMESG-BEGIN"
dmesg
echo "@@DMESG-END"
if [ "$PHASE" = 1 ] && [ -e "$STATE/reboot" ]; then
	rm -f "$STATE/reboot"
	echo 2 >"$STATE/phase"
	echo "$rc" >"$STATE/rc-1"
	echo "@@REBOOT rc=$rc"
	sync
	# an ordinary reboot: units stop, fptd included, as on a real host
	systemctl --no-block reboot
	exit 0
fi
prev=$(cat "$STATE/rc-1" 2>/dev/null || echo 0)
[ "$rc" != 0 ] || rc=$prev
echo "@@DONE rc=$rc"
sync
# The root disk is a throwaway overlay: no orderly shutdown needed.
systemctl poweroff --force --force
