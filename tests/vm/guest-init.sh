#!/bin/sh
# Generic /init of the fpt test guests (PID 1, run by busybox sh).
#
# Kernel command line (read from /proc/cmdline):
#   fpt.script=NAME   run /fpt/NAME (default run-tests.sh)
#   fpt.timeout=SECS  guest-side watchdog: after SECS, dump blocked tasks into
#                     dmesg, kill the script (and everything it started) and
#                     carry on with the dmesg dump; rc is then 137
#   fpt.KEY=VALUE     every fpt.* parameter is exported to the script as
#                     FPT_KEY=VALUE (upper-cased, . and - become _), e.g.
#                     fpt.tests=a,b -> FPT_TESTS=a,b
#
# Console protocol (the host parses it):
#   @@START ...            script about to run
#   ... script output ...
#   @@TIMEOUT ...          only when the guest watchdog fired
#   @@DMESG-BEGIN / full dmesg / @@DMESG-END
#   @@DONE rc=N            N = exit status of the script
# then the guest powers off.  A guest that never gets there (hang in the
# kernel, panic, ...) is killed by the host's timeout in run-guest.sh.
#
# No `set -e` here on purpose: PID 1 must never exit early (that panics the
# kernel before the host sees anything useful).

export PATH=/fpt/bin:/fpt:/bin
umask 022

# devtmpfs first so that /dev/console and /dev/null exist for what follows.
mount -t devtmpfs devtmpfs /dev 2>/dev/null
if [ -c /dev/console ]; then
	exec </dev/console >/dev/console 2>&1
elif [ -c /dev/ttyS0 ]; then
	exec </dev/ttyS0 >/dev/ttyS0 2>&1
fi

mnt() { mount "$@" 2>/dev/null || true; }
mnt -t proc proc /proc
mnt -t sysfs sysfs /sys
mnt -t tmpfs -o mode=1777 tmpfs /tmp
mnt -t tmpfs -o mode=755 tmpfs /run
mnt -t cgroup2 cgroup2 /sys/fs/cgroup
mnt -t tracefs tracefs /sys/kernel/tracing
mnt -t debugfs debugfs /sys/kernel/debug
hostname fpt-guest 2>/dev/null

# fpt.* parameters -> FPT_* environment
set -f
# shellcheck disable=SC2013 # words, not lines, are wanted
for arg in $(cat /proc/cmdline); do
	case $arg in
	fpt.*=*)
		key=${arg%%=*}
		key=${key#fpt.}
		case $key in *[!A-Za-z0-9_.-]*|'') continue ;; esac
		var=FPT_$(echo "$key" | tr 'a-z.-' 'A-Z__')
		export "$var=${arg#*=}"
		;;
	esac
done
set +f

script=${FPT_SCRIPT:-run-tests.sh}
path=/fpt/$script

echo "@@START script=$script kernel=$(uname -r)"
if [ ! -e "$path" ]; then
	echo "init: $path not found"
	rc=127
else
	wd=
	case ${FPT_TIMEOUT:-} in
	''|*[!0-9]*) ;;
	*)
		(
			sleep "$FPT_TIMEOUT"
			echo "@@TIMEOUT $script still running after ${FPT_TIMEOUT}s; killing it"
			echo w > /proc/sysrq-trigger 2>/dev/null  # blocked tasks -> dmesg
			kill -KILL -1   # every process but init (and this one)
		) &
		wd=$!
		;;
	esac
	cd /fpt || cd /
	if [ -x "$path" ]; then
		"$path"
	else
		sh "$path"
	fi
	rc=$?
	cd /
	[ -n "$wd" ] && kill "$wd" 2>/dev/null
fi

echo "@@DMESG-BEGIN"
dmesg
echo "@@DMESG-END"
echo "@@DONE rc=$rc"
sync
poweroff -f
# Not reached; if it is, exiting PID 1 panics and panic=-1 + -no-reboot
# make qemu exit.
sleep 10
exit "$rc"
