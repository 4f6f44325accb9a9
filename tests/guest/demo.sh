#!/bin/sh
# The demo (make demo): the user's own path in the booted kernel: opt a
# cgroup in with fptctl, run a workload there and outside, read fpt's
# counters (fptctl stats) and a process's page-level coverage (fptctl
# scan --pid).  tests/vm/demo.sh boots the guest with one vCPU under
# qemu -icount shift=0,sleep=off (fpt.clock=icount): the guest's clock then
# counts executed instructions, 1 ns each, so the first-touch cost below is
# an instruction count, the same in every run.
PATH=/fpt/bin:$PATH
CG=/sys/fs/cgroup
THP=/sys/kernel/mm/transparent_hugepage
MB=64

kv() { k=$1; shift; echo "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1; }
say() { echo; echo "\$ $*"; "$@"; }
if [ "${FPT_CLOCK:-}" = icount ]; then
	unit="instructions"
else
	unit="time (ns)"
fi
row() { # row LABEL OUTPUT-OF-fpt-touch
	t=$(kv touch_ns "$2"); f=$(kv minflt "$2"); p=$(kv pages "$2")
	printf '%-28s %7s %10s %8s %10s %10s %10s\n' "$1" "$f" \
		"$(kv runs "$2")/$(kv windows "$2")" "$(kv coverage_pct "$2")%" \
		"$(awk -v t="$t" 'BEGIN { printf "%.1f M", t / 1e6 }')" \
		"$(awk -v t="$t" -v f="$f" 'BEGIN { if (f > 0) printf "%.0f", t / f; else print "-" }')" \
		"$(awk -v t="$t" -v p="$p" 'BEGIN { if (p > 0) printf "%.0f", t / p; else print "-" }')"
}
touch_in() { # touch_in CGROUP-DIR: fpt-touch in that cgroup ($$ of sh -c, not ours)
	sh -c 'echo $$ > "$0/cgroup.procs" && exec fpt-touch --size '"$MB"' --order reverse' "$1"
}

echo never > $THP/enabled	# the usual advice on database hosts
echo
echo "fpt demo on Linux $(uname -r), THP $(sed 's/.*\[\(.*\)\].*/\1/' $THP/enabled); $(nproc) vCPU$([ "${FPT_CLOCK:-}" = icount ] && echo ", qemu -icount: the clock counts instructions")"
insmod /fpt/fpt.ko || exit 1
echo "fpt.ko loaded; backends (the default in brackets): $(cat /sys/kernel/fpt/backend)"
mkdir -p $CG/db
# (fptd is not running in this guest: fptctl sets the policy in the
# kernel directly and says that it will not persist)
say fptctl enable --cgroup=db
say fptctl status

echo
echo "Workload: fpt-touch --size $MB (one write per 4 KB page, high to low),"
echo "once to warm up, then outside and inside db.  runs = aligned 64 KB"
echo "windows on 16 consecutive, 16-aligned physical pages (its own pagemap)."
echo
touch_in $CG >/dev/null	# the first big touch after boot costs ~2x
printf '%-28s %7s %10s %8s %10s %10s %10s\n' "first touch of $MB MB" faults runs coverage "$unit" "per fault" "per 4 KB"
row "4 KB pages (outside db)" "$(touch_in $CG)"
for b in $(tr -d '[]' < /sys/kernel/fpt/backend); do
	fptctl enable --cgroup=db --backend="$b" >/dev/null 2>&1
	row "in db, fpt $b backend" "$(touch_in $CG/db)"
done
[ "${FPT_CLOCK:-}" = icount ] &&
	echo "(instructions of the whole touch loop, kernel included: the emulator's"
[ "${FPT_CLOCK:-}" = icount ] &&
	echo " cost model, not a forecast of time on real hardware; see README.md)"
fptctl enable --cgroup=db >/dev/null 2>&1

say fptctl stats --cgroup=db

# a workload that stays, seen from outside: its page tables, per mapping
sh -c 'echo $$ > "$0/cgroup.procs" && exec fpt-touch --size '"$MB"' --order reverse --hold-signal' $CG/db >/tmp/held.out &
pid=$!
i=0
while ! grep -q READY /tmp/held.out 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
say fptctl scan --pid $pid
kill $pid 2>/dev/null
wait $pid 2>/dev/null

echo
rmmod fpt && echo "fpt.ko unloaded"
