#!/bin/sh
# The demo (make demo): in the booted kernel, one workload touches 128 MB
# of fresh anonymous memory outside and then inside an opted-in cgroup;
# pagemap shows where its pages landed.
PATH=/fpt/bin:$PATH
CG=/sys/fs/cgroup
THP=/sys/kernel/mm/transparent_hugepage

kv() { k=$1; shift; echo "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1; }
row() { # row LABEL OUTPUT-OF-fpt-touch
	printf '%-34s %9s %8s %9s %11s\n' "$1" "$(kv minflt "$2")" \
		"$(kv runs "$2")/$(kv windows "$2")" "$(kv coverage_pct "$2")%" \
		"$(($(kv touch_ns "$2") / 1000000)) ms"
}

echo never > $THP/enabled	# the usual advice on database hosts
echo
echo "fpt demo on Linux $(uname -r): THP $(cat $THP/enabled)"
insmod /fpt/fpt.ko || exit 1
mkdir -p $CG/db
echo "fpt.ko loaded; backends (default in brackets): $(cat /sys/kernel/fpt/backend)"
echo
echo "Workload: fpt-touch --size 128 (write one byte per 4 KB page, high to low)"
echo "'runs' = aligned 64 KB windows backed by 16 consecutive PFNs starting at a"
echo "multiple of 16, read from /proc/self/pagemap."
echo
printf '%-34s %9s %8s %9s %11s\n' "" "faults" "runs" "coverage" "first touch"
row "outside any policy" "$(fpt-touch --size 128 --order reverse)"
fpt-nl set --cgroup db --mode on >/dev/null
for b in $(tr -d '[]' < /sys/kernel/fpt/backend); do
	fpt-nl set --cgroup db --mode on --backend "$b" >/dev/null
	row "in cgroup db, fpt on ($b)" \
		"$(sh -c 'echo $$ > "$0/cgroup.procs" && exec fpt-touch --size 128 --order reverse' $CG/db)"
done
echo
echo "(emulated CPU: times are only comparable within this table)"
echo
echo "/proc/fpt:"
cat /proc/fpt
echo
echo "fallbacks and reservations (/sys/kernel/fpt/stats):"
cd /sys/kernel/fpt/stats && grep . -- * | tr '\n' ' ' | fold -s -w 78
echo
rmmod fpt && echo "fpt.ko unloaded"
