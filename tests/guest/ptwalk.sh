#!/bin/sh
# In-guest checks of the page-table verification path, with the KERNEL's
# own memory management only (fpt.ko is not loaded): the test-only walker
# fpt_ptwalk.ko (tests/modules/ptwalk) against pagemap, and on kernels with
# multi-size THP the contiguity hint the kernel itself sets for 64 KB folios
# (arm64 CONFIG_ARM64_CONTPTE: PTE_CONT on every aligned 64 KB folio mapped
# by one set_ptes() batch; x86 has no hint bit).
#   FPT_SCRIPT=ptwalk.sh  (check.sh: FPT_BOOT_WITHOUT_MODULE=1 lets it run
#   where fpt.ko does not build)
# Prints @@RESULT / @@INFO lines like run-tests.sh.

PATH=/fpt/bin:/fpt:$PATH
THP=/sys/kernel/mm/transparent_hugepage
MTHP=$THP/hugepages-64kB/enabled
PW=/sys/kernel/debug/fpt_ptwalk
ARCH=$(uname -m)
MB=64

pass() { echo "@@RESULT PASS $*"; }
fail() { echo "@@RESULT FAIL $*"; }
skip() { echo "@@RESULT SKIP $*"; }
info() { echo "@@INFO $*"; }
check() { # check NAME STATUS DETAIL
	if [ "$2" = 0 ]; then pass "$1" "$3"; else fail "$1" "$3"; fi
}
kv() { # kv KEY LINE...: value of KEY=... in the line
	k=$1; shift
	echo "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1
}
# pct PART WHOLE
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }'; }
# touch64 ARGS: a 64 KB aligned MB-MB region, touched in random order with
# a pattern (verified), page tables read by fpt-touch through the walker
touch64() { fpt-touch --size $MB --align64k --order random --fill; }
fields() { # the figures of one fpt-touch line
	echo "runs=$(kv runs "$1") pt_windows=$(kv pt_windows "$1") pt_runs=$(kv pt_runs "$1")" \
	     "pt_cont=$(kv pt_cont "$1") pt_cont_partial=$(kv pt_cont_partial "$1")" \
	     "pt_pmd=$(kv pt_pmd "$1") pattern_errors=$(kv pattern_errors "$1")"
}
# expect_4k LINE: no folding: pagemap and walker agree, no hint, data ok
ok_common() {
	[ "$(kv pattern_errors "$1")" = 0 ] && [ "$(kv pt_cont_partial "$1")" = 0 ] &&
		[ "$(kv runs "$1")" = "$(kv pt_runs "$1")" ]
}

info "kernel $(uname -r) $ARCH, $(nproc) cpus, thp $(cat $THP/enabled)"
# the rig: a dynamically linked guest program finds its libraries (on
# arm64 the cross C library and libmnl that mkinitramfs.sh copied)
if command -v fpt-nl >/dev/null; then
	out=$(fpt-nl --help 2>&1); check rig/fpt-nl-runs $? "$(echo "$out" | head -n1)"
fi

# ---- the walker ------------------------------------------------------------
if ! insmod /fpt/fpt_ptwalk.ko 2>/tmp/ins.err || [ ! -e $PW ]; then
	fail ptwalk/load "$(cat /tmp/ins.err) (no $PW?)"
	exit 1
fi
pass ptwalk/load "$PW"
# a bad query is refused, not crashed on
if echo "0 0 0" > $PW 2>/dev/null; then fail ptwalk/bad-query "pid 0 accepted"; else pass ptwalk/bad-query; fi

echo never > $THP/enabled
[ -e $MTHP ] && echo never > $MTHP

# ---- 4 KB pages: the walker agrees with pagemap; no hint anywhere -----------
l=$(touch64)
info "4k: $(fields "$l")"
ok_common "$l" && [ "$(kv pt_cont "$l")" = 0 ] && [ "$(kv pt_pmd "$l")" = 0 ] &&
	[ "$(kv pt_windows "$l")" = $((MB * 16)) ]
check ptwalk/4k $? "$(fields "$l")"

# ---- 2 MB THP: windows under a PMD are reported as such, no hint ------------
echo always > $THP/enabled
l=$(fpt-touch --size $MB --align2m --order random --fill)
info "thp 2M: $(fields "$l") anon_huge_kb=$(kv anon_huge_kb "$l")"
pmdw=$(( $(kv anon_huge_kb "$l") / 64 ))
[ "$(kv pattern_errors "$l")" = 0 ] && [ "$(kv pt_cont "$l")" = 0 ] && [ "$pmdw" -gt 0 ] &&
	[ "$(kv pt_pmd "$l")" = "$pmdw" ]
check ptwalk/thp-pmd $? "pt_pmd=$(kv pt_pmd "$l") windows from AnonHugePages=$pmdw"
echo never > $THP/enabled

# ---- the kernel's own 64 KB folios (mTHP) ----------------------------------
if [ ! -e $MTHP ]; then
	skip ptwalk/mthp "no multi-size THP on $(uname -r)"
	exit 0
fi
echo always > $MTHP
l=$(touch64)
info "mthp 64kB always: $(fields "$l")"
w=$(kv pt_windows "$l") r=$(kv pt_runs "$l") c=$(kv pt_cont "$l")
info "mthp 64kB always: runs $(pct "$r" "$w")% of $w windows, PTE_CONT on $(pct "$c" "$w")%"
if [ "$ARCH" = aarch64 ]; then
	# every 64 KB folio the kernel maps gets the hint (contpte folding)
	ok_common "$l" && [ "$w" = $((MB * 16)) ] && [ "$r" = "$w" ] && [ "$c" = "$r" ]
	check ptwalk/mthp-cont $? "$(fields "$l")"
else
	ok_common "$l" && [ "$w" = $((MB * 16)) ] && [ "$r" = "$w" ] && [ "$c" = 0 ]
	check ptwalk/mthp-runs $? "$(fields "$l") (no hint bit on $ARCH)"
fi

# The debugfs text interface from the shell, on a process held alive: the
# per-window lines agree with the total line.
fpt-touch --size $MB --align64k --order random --hold-signal > /tmp/hold.out &
hp=$!
i=0
while ! grep -q READY /tmp/hold.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
a=$(kv addr "$(head -n1 /tmp/hold.out)")
echo "$hp $a $(printf '%#x' $((a + MB * 1024 * 1024)))" > $PW
cat $PW > /tmp/pw.txt
kill -TERM $hp; wait $hp
tot=$(head -n1 /tmp/pw.txt)
nl=$(grep -c ' pte=16 contig=1 aligned=1 ' /tmp/pw.txt)
ncont=$(grep -c ' cont=16 ' /tmp/pw.txt)
info "shell query: $tot; window lines: $nl runs, $ncont with cont=16"
[ "$(kv runs "$tot")" = "$nl" ] && [ "$(kv cont "$tot")" = "$ncont" ] && [ "$nl" = $((MB * 16)) ]
check ptwalk/shell $? "$tot"

# mprotect of half a folded window: the block unfolds (ro_window_cont=0),
# no block keeps a partial hint, data intact (fpt-integrity checks every
# byte); then the rest of the integrity subtests under mTHP.
out=$(fpt-integrity all --size 16 2>&1)
echo "$out" | sed 's/^/    /'
info "integrity under mthp: $(echo "$out" | grep -E '^subtest=mprotect|^(ok|FAIL) mprotect' | tr '\n' ' ')"
if [ "$ARCH" = aarch64 ]; then
	pre=$(kv pt_cont "$(echo "$out" | grep '^subtest=mprotect')")
	[ "${pre:-0}" -gt 0 ]
	check ptwalk/mprotect-folded-before $? "pt_cont=$pre before the mprotect"
fi
echo "$out" | grep -q '^ok mprotect .*ro_window_cont=0'
check ptwalk/mprotect-unfold $? "$(echo "$out" | grep ' mprotect ')"
echo "$out" | grep -q '^summary passed=6 failed=0'
check ptwalk/integrity-mthp $? "$(echo "$out" | grep '^summary')"

# ---- back to never: no new hint ---------------------------------------------
echo never > $MTHP
l=$(touch64)
info "mthp 64kB never: $(fields "$l")"
ok_common "$l" && [ "$(kv pt_cont "$l")" = 0 ]
check ptwalk/mthp-never $? "$(fields "$l")"

rmmod fpt_ptwalk
check ptwalk/rmmod $? ""
