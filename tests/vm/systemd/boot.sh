#!/bin/bash
# boot.sh: run by fpt-e2e.service (baked into the test image by
# tests/vm/mkrootfs.sh) after multi-user.target, once the payload disk has
# been unpacked over /.  Runs e2e.sh and speaks guest-init.sh's protocol
# on the second serial port (/dev/ttyS1 -> build/vm/SERIES/results.log):
#   @@START, e2e.sh's @@RESULT/@@INFO lines, @@TIMEOUT (guest watchdog),
#   @@DMESG-BEGIN / dmesg / @@DMESG-END, @@DONE rc=N
# then powers the guest off.
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
echo "@@START script=e2e.sh kernel=$(uname -r) systemd=$(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
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
echo "@@DONE rc=$rc"
sync
# The root disk is a throwaway overlay: no orderly shutdown needed.
systemctl poweroff --force --force
