#!/bin/bash
# e2e.sh: fpt end to end, the way an operator installs and runs it, on a
# Debian system booted with systemd (tests/vm/systemd.sh boots the guest;
# boot.sh runs this after multi-user.target and powers off).  The payload
# has already put `make install`'s files, the dkms source tree
# (/usr/src/fpt-VERSION), fpt-touch and fpt-nl (/usr/local/bin) in place.
#
# Prints one "@@RESULT PASS|FAIL <name> <detail>" per check and "@@INFO"
# lines with measurements; the host counts them (check.sh).  Exit status:
# 0 if every check passed.
#
# Groups (fpte2e.tests=a,b on the kernel command line, i.e. FPT_TESTS, runs
# only those; later groups need the earlier ones):
#   install  what make install put where; fptd --check; systemctl enable
#   dkms     dkms add/build/install for the running kernel; modprobe
#   fptd     systemctl start fptd: READY, module loaded by fptd, interval 1 s
#   policy   fptctl enable --cgroup=db.slice (persisted by fptd)
#   workload systemd-run --slice=db.slice fpt-touch: pagemap coverage, and
#            fptctl stats / /proc/fpt / sysfs / netlink / Prometheus agree
#   restart  systemctl restart fptd: the policy never leaves the kernel
#   kill     kill -9 fptd: systemd restarts it, nothing is lost
#   reload   rmmod + modprobe fpt: the policy is back within 1 s
#   thp2m    fptctl enable --thp2m=deny under THP "always": 64 KB runs, no
#            2 MB THP in db.slice; other slices keep their THP
#   broken   a broken policy file: the old policy stays, error in the journal
#   measure  fptd's RSS and CPU at a 1 s report interval (30 s)
#
# Everything is judged from outside fptd: the kernel's /proc/fpt and
# /sys/kernel/fpt, the workload's own pagemap, systemd's view of the unit.

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
D=/usr/local/lib/fpt-e2e
W=/run/fpt-e2e
mkdir -p "$W"
KVER=$(uname -r)
VER=$(cat "$D/dkms-version")
SLICE=db.slice
CONF=/etc/fpt/fptd.conf
POLDIR=/etc/fpt/policy.d
STATE=/var/lib/fpt/policies.conf
PROMDIR=/var/lib/prometheus/node-exporter
PROM=$PROMDIR/fpt.prom
THP=/sys/kernel/mm/transparent_hugepage
TOUCH_MB=64
FAILED=0

pass() { echo "@@RESULT PASS $*"; }
fail() { echo "@@RESULT FAIL $*"; FAILED=$((FAILED + 1)); }
info() { echo "@@INFO $*"; }
check() { # check NAME STATUS DETAIL: PASS if STATUS is 0
	if [ "$2" = 0 ]; then pass "$1" "$3"; else fail "$1" "$3"; fi
}
want() {
	[ -z "${FPT_TESTS:-}" ] && return 0
	case ",$FPT_TESTS," in *",$1,"*) return 0 ;; esac
	return 1
}
kv() { # kv KEY TEXT: the value of KEY=... in TEXT
	local k=$1; shift
	echo "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
oneline() { tr '\n' ' ' | tr -s ' ' | cut -c1-"${1:-400}"; }
# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout
wait_for() {
	local end
	end=$(awk -v n="$(now)" -v s="$1" 'BEGIN { printf "%.3f", n + s }')
	shift
	until "$@"; do
		awk -v n="$(now)" -v e="$end" 'BEGIN { exit !(n > e) }' && return 1
		sleep 0.1
	done
}
unit() { systemctl show -p "$2" --value "$1"; }

# --- reading fpt's counters ------------------------------------------------
COUNTERS=$(ls /sys/kernel/fpt/stats 2>/dev/null)   # refreshed after load
# /proc/fpt: "# ..." comment lines, a header line starting "cgroup_id" that
# names the columns, then one row per policy (path as "/db.slice").
# proc_row PATH: the row of the policy of cgroup PATH ("db.slice")
proc_row() {
	awk -v p="/$1" '/^#/ { next } $1 == "cgroup_id" { hdr = 1; next } hdr && $2 == p' /proc/fpt 2>/dev/null
}
# proc_counter PATH NAME: one column of that row, by the header's name
proc_counter() {
	awk -v p="/$1" -v n="$2" '/^#/ { next }
		$1 == "cgroup_id" { for (i = 1; i <= NF; i++) if ($i == n) c = i; hdr = 1; next }
		hdr && c && $2 == p { print $c }' /proc/fpt 2>/dev/null
}
# policy_there PATH MODE: without forking (the 20 ms sampler uses it)
policy_there() {
	local id path mode rest
	while read -r id path mode rest; do
		[ "$path" = "/$1" ] && [ "$mode" = "$2" ] && return 0
	done </proc/fpt 2>/dev/null
	return 1
}
# every counter of one source as "name=value ..." (sorted by name)
counters_proc() {
	awk -v p="/$1" '/^#/ { next }
		$1 == "cgroup_id" { for (i = 1; i <= NF; i++) h[i] = $i; hdr = 1; next }
		hdr && $2 == p { for (i = 7; i <= NF; i++) print h[i] "=" $i }' /proc/fpt 2>/dev/null | sort | paste -sd' '
}
counters_json_policy() {
	fptctl stats --json 2>/dev/null | jq -r --arg p "/$1" \
		'.policies[] | select(.path == $p) | .counters | to_entries[] | "\(.key)=\(.value)"' | sort | paste -sd' '
}
counters_json_global() {
	fptctl stats --json 2>/dev/null | jq -r '.global.counters | to_entries[] | "\(.key)=\(.value)"' | sort | paste -sd' '
}
counters_sysfs() {
	local c
	for c in /sys/kernel/fpt/stats/*; do echo "$(basename "$c")=$(cat "$c")"; done | sort | paste -sd' '
}
counters_nl() { # fpt-nl (the tests' own netlink client): "k=v ..." minus the non-counters
	fpt-nl stats ${1:+--cgroup "$1"} 2>/dev/null | tr ' ' '\n' |
		grep -E "^($(echo $COUNTERS | tr ' ' '|'))=" | sort | paste -sd' '
}
prom_value() { # prom_value METRIC{LABELS}
	awk -v m="$1" '$1 == m { print $2 }' "$PROM" 2>/dev/null
}

# --- the workload ------------------------------------------------------------
# workload NAME: fpt-touch in db.slice through systemd-run, as an operator
# would start a service there; judges its pagemap coverage (its own
# /proc/self/pagemap) and fpt's runs counter across the touch loop.
W_RUNS=0
workload() {
	local name=$1 out rc cov runs cd ahk
	out=$(systemd-run --slice="$SLICE" --wait --pipe --quiet \
		/usr/local/bin/fpt-touch --size "$TOUCH_MB" --order reverse \
		--counter /sys/kernel/fpt/stats/runs 2>&1)
	rc=$?
	info "$name: $out"
	cov=$(kv coverage_pct "$out"); runs=$(kv runs "$out"); cd=$(kv counter_delta "$out")
	W_RUNS=${runs:-0}
	if [ $rc != 0 ] || [ -z "$cov" ]; then
		fail "$name-coverage" "systemd-run --slice=$SLICE fpt-touch exited $rc: $(echo "$out" | oneline 200)"
		return 1
	fi
	ahk=$(kv anon_huge_kb "$out")
	# 2 MB THP would be runs too, but not fpt's: there must be none
	check "$name-coverage" "$(ge "$cov" 99 && [ "$ahk" = 0 ]; echo $?)" \
		"pagemap: ${cov}% of $TOUCH_MB MB in aligned 64 KB runs (>= 99%), 2 MB THP ${ahk} kB (must be 0), compound pages $(kv compound "$out")"
	check "$name-runs-counter" "$([ "$cd" = "$runs" ]; echo $?)" \
		"pagemap runs $runs, /sys/kernel/fpt/stats/runs +$cd across the touch loop"
}

# outside NAME: the same workload in a slice without a policy
outside() {
	systemd-run --slice=other.slice --wait --pipe --quiet \
		/usr/local/bin/fpt-touch --size "$TOUCH_MB" --order reverse "$@" 2>&1
}

# counters_agree NAME: with nothing opted in running, every view of the
# counters must say the same: fptctl stats --json, /proc/fpt, fpt-nl
# (netlink), and, db.slice being the only policy that ever saw faults
# since the module was loaded, the global counters (sysfs, fptctl, netlink)
# equal db.slice's.
counters_agree() {
	local name=$1 p j n g gj gn ok=0 why=""
	p=$(counters_proc "$SLICE"); j=$(counters_json_policy "$SLICE"); n=$(counters_nl "$SLICE")
	g=$(counters_sysfs); gj=$(counters_json_global); gn=$(counters_nl)
	[ -n "$p" ] || { ok=1; why="no /proc/fpt row for /$SLICE; "; }
	[ "$p" = "$j" ] || { ok=1; why="${why}fptctl stats --json policy [$j] != /proc/fpt [$p]; "; }
	[ "$p" = "$n" ] || { ok=1; why="${why}netlink policy [$n] != /proc/fpt [$p]; "; }
	[ "$g" = "$gj" ] || { ok=1; why="${why}fptctl stats --json global [$gj] != sysfs [$g]; "; }
	[ "$g" = "$gn" ] || { ok=1; why="${why}netlink global [$gn] != sysfs [$g]; "; }
	[ "$g" = "$p" ] || { ok=1; why="${why}global (sysfs) [$g] != /$SLICE [$p] (the only policy with faults); "; }
	check "$name-counters-agree" "$ok" "${why:-fptctl stats, /proc/fpt, netlink, sysfs: $(echo "$p" | tr ' ' '\n' | grep -E '^(runs|faults_64k|fallback_no_block|fallback_kernel)=' | paste -sd' ')}"
	C_RUNS=$(kv runs "$p")
}

# prom_agrees NAME: within 3 report intervals fptd's Prometheus file shows
# db.slice's and the global runs as the kernel has them now.
prom_agrees() {
	local name=$1 t0
	P_WANT_C=$(proc_counter "$SLICE" runs); P_WANT_G=$(cat /sys/kernel/fpt/stats/runs)
	t0=$(now)
	if wait_for 5 prom_matches; then
		pass "$name-prometheus" "fpt_cgroup_runs_total{cgroup=\"$SLICE\"} $P_WANT_C, fpt_runs_total $P_WANT_G after $(since "$t0") s"
	else
		fail "$name-prometheus" "after 5 s $PROM has fpt_cgroup_runs_total{cgroup=\"$SLICE\"}=$(prom_value "fpt_cgroup_runs_total{cgroup=\"$SLICE\"}") (want $P_WANT_C), fpt_runs_total=$(prom_value fpt_runs_total) (want $P_WANT_G); mtime $(stat -c %y "$PROM" 2>&1)"
	fi
}
prom_matches() {
	[ "$(prom_value "fpt_cgroup_runs_total{cgroup=\"$SLICE\"}")" = "$P_WANT_C" ] &&
		[ "$(prom_value fpt_runs_total)" = "$P_WANT_G" ]
}

# policy_watch_start/stop: sample /proc/fpt every 20 ms in the background;
# stop prints "samples misses".
policy_watch_start() {
	(
		s=0 m=0
		trap 'echo "$s $m" >"$W/watch.out"; exit 0' TERM
		while :; do
			s=$((s + 1))
			policy_there "$SLICE" on || m=$((m + 1))
			sleep 0.02
		done
	) &
	WATCH_PID=$!
}
# (not in a $(...) subshell: wait needs the sampler to be our child)
policy_watch_stop() {
	rm -f "$W/watch.out"
	kill "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null
	read -r samples misses <"$W/watch.out" 2>/dev/null || { samples=0 misses=-1; }
}

# ready_latency: READY=1 of the current fptd instance, in ms after its exec
ready_latency() {
	local a b
	a=$(unit fptd ExecMainStartTimestampMonotonic)
	b=$(unit fptd ActiveEnterTimestampMonotonic)
	awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0 && b >= a) printf "%.1f", (b - a) / 1000; else print "?" }'
}

journal_since() { # journal_since CURSOR-FILE: fptd's journal after the cursor
	journalctl -u fptd --no-pager -o cat --after-cursor="$(cat "$1")" 2>/dev/null
}
mark_journal() { journalctl -n 0 --show-cursor --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p' >"$1"; }

dump_journal() {
	echo "---- journalctl -b -u fptd (last 120 lines) ----"
	journalctl -b -u fptd --no-pager -o short-monotonic | tail -n 120
	echo "----"
}
finish() {
	if [ "$FAILED" -gt 0 ]; then
		info "$FAILED check(s) failed; fptd's journal (-b, last 60 lines) follows"
		journalctl -b -u fptd --no-pager -o short-monotonic 2>&1 | tail -n 60 | sed 's/^/@@INFO journal: /'
		info "systemctl status fptd: $(systemctl status fptd --no-pager 2>&1 | head -n 12 | oneline 600)"
	fi
	dump_journal
	exit $((FAILED > 0))
}
need() { # need NAME: stop here when an earlier step this one depends on failed
	[ "${1:-0}" = 0 ] && return 0
	fail "$2" "not run: $3"
	finish
}

info "kernel $KVER, $(systemctl --version | head -n1), $(nproc) cpus, MemTotal $(awk '/MemTotal/ { print $2 }' /proc/meminfo) kB"
# (systemd-analyze waits for the end of the boot, which includes this unit)
info "boot: systemd started $(awk -v u="$(systemctl show -p UserspaceTimestampMonotonic --value)" 'BEGIN { printf "%.1f", u / 1e6 }') s after the kernel, multi-user.target reached at $(awk -v u="$(unit multi-user.target ActiveEnterTimestampMonotonic)" 'BEGIN { printf "%.1f", u / 1e6 }') s"
failed_units=$(systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{ print $1 }' | paste -sd' ')
check boot-no-failed-units "$([ -z "$failed_units" ]; echo $?)" "failed units: ${failed_units:-none}"
check boot-multi-user "$([ "$(unit multi-user.target ActiveState)" = active ]; echo $?)" \
	"multi-user.target $(unit multi-user.target ActiveState)"

# --- install -------------------------------------------------------------------
if want install; then
	missing=
	for f in fptd fptctl; do command -v "$f" >/dev/null || missing="$missing $f"; done
	[ -f "$CONF" ] || missing="$missing $CONF"
	[ -d "$POLDIR" ] || missing="$missing $POLDIR/"
	systemctl cat fptd.service >/dev/null 2>&1 || missing="$missing fptd.service"
	[ -f "/usr/src/fpt-$VER/dkms.conf" ] || missing="$missing /usr/src/fpt-$VER/dkms.conf"
	check install-files "$([ -z "$missing" ]; echo $?)" \
		"${missing:+missing:$missing; }fptd=$(command -v fptd) fptctl=$(command -v fptctl) unit=$(unit fptd FragmentPath)"
	nf=$(ldd "$(command -v fptd)" "$(command -v fptctl)" 2>&1 | grep 'not found' | oneline 200)
	check install-libs "$([ -z "$nf" ]; echo $?)" "shared libraries of fptd and fptctl: ${nf:-all found}"
	out=$(fptd --check 2>&1); rc=$?
	check fptd-check-config "$rc" "fptd --check: $(echo "$out" | oneline 200)"
	out=$(systemd-analyze verify fptd.service 2>&1); rc=$?
	check unit-verify "$([ $rc = 0 ] && [ -z "$out" ]; echo $?)" "systemd-analyze verify fptd.service: rc=$rc ${out:+$(echo "$out" | oneline 300)}"
	info "systemd-analyze security fptd: $(systemd-analyze security fptd.service 2>/dev/null | tail -n1)"
	out=$(systemctl enable fptd 2>&1); rc=$?
	check unit-enable "$([ $rc = 0 ] && [ "$(systemctl is-enabled fptd 2>&1)" = enabled ]; echo $?)" \
		"systemctl enable fptd: rc=$rc, is-enabled $(systemctl is-enabled fptd 2>&1)"
fi

# --- dkms --------------------------------------------------------------------------
DKMS_OK=0
if want dkms; then
	[ ! -d /sys/module/fpt ]; check dkms-not-loaded-yet $? "fpt not loaded before dkms (nothing loads it at boot)"
	t0=$(now)
	out=$(dkms add "/usr/src/fpt-$VER" 2>&1); rc=$?
	check dkms-add "$rc" "dkms add /usr/src/fpt-$VER: $(echo "$out" | tail -n1 | oneline 200)"
	t1=$(now)
	out=$(dkms build -m fpt -v "$VER" -k "$KVER" 2>&1); rc=$?
	tb=$(since "$t1")
	if [ $rc != 0 ]; then
		fail dkms-build "dkms build -m fpt -v $VER -k $KVER: rc=$rc after ${tb}s: $(echo "$out" | tail -n3 | oneline 300)"
		tail -n 40 "/var/lib/dkms/fpt/$VER/build/make.log" 2>/dev/null | sed 's/^/@@INFO make.log: /'
		DKMS_OK=1
	else
		pass dkms-build "built for $KVER in ${tb}s (TCG)"
	fi
	t2=$(now)
	out=$(dkms install -m fpt -v "$VER" -k "$KVER" 2>&1); rc=$?
	check dkms-install "$rc" "dkms install: rc=$rc after $(since "$t2")s: $(echo "$out" | tail -n1 | oneline 200)"
	[ $rc = 0 ] || DKMS_OK=1
	st=$(dkms status -m fpt 2>/dev/null | grep '^fpt/' | oneline 200)
	check dkms-status "$(echo "$st" | grep -q "fpt/$VER, $KVER, x86_64: installed"; echo $?)" "dkms status: $st"
	info "dkms add+build+install: $(since "$t0") s"
	fn=$(modinfo -n fpt 2>&1); vm=$(modinfo -F vermagic fpt 2>&1)
	check dkms-modinfo "$(case $fn in /lib/modules/$KVER/updates/dkms/fpt.ko*) case $vm in "$KVER "*) echo 0 ;; *) echo 1 ;; esac ;; *) echo 1 ;; esac)" \
		"modinfo: $fn, vermagic $vm"
	out=$(modprobe fpt 2>&1); rc=$?
	check modprobe "$([ $rc = 0 ] && [ -r /proc/fpt ] && [ -d /sys/kernel/fpt/stats ]; echo $?)" \
		"modprobe fpt: rc=$rc ${out:+$out }backend $(cat /sys/kernel/fpt/backend 2>&1), version $(cat /sys/kernel/fpt/version 2>&1)"
	out=$(modprobe -r fpt 2>&1); rc=$?
	check modprobe-r "$([ $rc = 0 ] && [ ! -d /sys/module/fpt ]; echo $?)" "modprobe -r fpt: rc=$rc $out"
	[ -d /sys/module/fpt ] && DKMS_OK=1
fi

# --- fptd ------------------------------------------------------------------------------
FPTD_OK=0
if want fptd; then
	need "$DKMS_OK" fptd-start "the module did not install with dkms"
	# The host's THP: Debian's kernel says "always", which gives a large
	# enough anonymous region 2 MB pages (contiguous, but not fpt's work);
	# a database host typically runs "madvise".  thp2m below tests fpt
	# under "always".
	info "THP: enabled $(cat $THP/enabled), hugepages-64kB $(cat $THP/hugepages-64kB/enabled) (Debian's defaults); setting enabled = madvise"
	echo madvise >$THP/enabled
	# The operator's settings: a report every second (for the measurements
	# below), and node-exporter's textfile directory (its package makes it).
	sed -i 's/^;\{0,1\}[[:space:]]*interval[[:space:]]*=.*/interval = 1/' "$CONF"
	mkdir -p "$PROMDIR"
	out=$(fptd --check 2>&1); rc=$?
	check fptd-conf-interval "$([ $rc = 0 ] && grep -qx 'interval = 1' "$CONF"; echo $?)" \
		"[report] interval = 1 in $CONF; fptd --check: $(echo "$out" | oneline 150)"
	mark_journal "$W/cursor"
	t0=$(now)
	out=$(systemctl start fptd 2>&1); rc=$?
	ts=$(since "$t0")
	check fptd-start "$rc" "systemctl start fptd: rc=$rc in ${ts}s ${out:+$(echo "$out" | oneline 200)}"
	[ $rc = 0 ] || FPTD_OK=1
	# Known failure: fpt.ko's init (and arming at the first policy) writes
	# /sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled with
	# filp_open() in the caller's mount namespace, which fptd.service's
	# ProtectKernelTunables= makes read-only (EROFS, -30).  Say so, then go
	# on with a drop-in that opens that directory, so that the later steps
	# still test something.  The failure above stays counted.
	if [ $rc != 0 ] && dmesg | grep -q 'fpt: cannot set .*hugepages-64kB/enabled (-30)'; then
		fail fptd-sandbox-mthp "fpt.ko cannot write hugepages-64kB/enabled from fptd's sandbox (EROFS under ProtectKernelTunables=): $(dmesg | grep -m1 'fpt: cannot set' | oneline 150)"
		mkdir -p /etc/systemd/system/fptd.service.d
		printf '[Service]\nReadWritePaths=-/sys/kernel/mm/transparent_hugepage\n' \
			>/etc/systemd/system/fptd.service.d/50-e2e-workaround.conf
		info "WORKAROUND applied for the rest of the run: fptd.service.d/50-e2e-workaround.conf: ReadWritePaths=-/sys/kernel/mm/transparent_hugepage"
		systemctl daemon-reload
		systemctl stop fptd 2>/dev/null
		systemctl reset-failed fptd 2>/dev/null
		mark_journal "$W/cursor"
		t0=$(now)
		out=$(systemctl start fptd 2>&1); rc=$?
		ts=$(since "$t0")
		check fptd-start-workaround "$rc" "with the workaround: systemctl start fptd: rc=$rc in ${ts}s ${out:+$(echo "$out" | oneline 200)}"
		[ $rc = 0 ] && FPTD_OK=0
	fi
	lat=$(ready_latency)
	st=$(unit fptd ActiveState)/$(unit fptd SubState)
	check fptd-ready "$([ "$st" = active/running ] && [ "$lat" != "?" ]; echo $?)" \
		"$st; READY=1 ${lat} ms after exec (ExecMainStart -> ActiveEnter), systemctl start returned after ${ts}s"
	info "READY latency (first start, module loaded by fptd): ${lat} ms; systemctl start fptd took ${ts} s"
	# where the time goes: systemd's timestamps of the unit and fptd's own
	# journal lines, all CLOCK_MONOTONIC (journald may lag a little)
	wait_for 3 sh -c "journalctl -u fptd -o cat --no-pager --after-cursor='$(cat "$W/cursor")' | grep -q 'connected to the fpt module'"
	info "READY breakdown: $(journalctl -u fptd -o short-monotonic --no-pager --after-cursor="$(cat "$W/cursor")" 2>/dev/null |
		awk -v x="$(unit fptd ExecMainStartTimestampMonotonic)" -v r="$(unit fptd ActiveEnterTimestampMonotonic)" '
			{ t = substr($0, 2, index($0, "]") - 2) * 1e6 }
			/fptd [0-9.]* starting:/ && !t1 { t1 = t }
			/connected to the fpt module/ && !t2 { t2 = t }
			END { if (x > 0 && t1 && t2 && r) printf "exec (systemd forks, sandbox set up) -> fptd has read its config +%.0f ms -> module loaded (libkmod) and connected +%.0f ms -> READY=1 seen by systemd +%.0f ms", (t1 - x) / 1000, (t2 - x) / 1000, (r - x) / 1000; else print "n/a" }')"
	COUNTERS=$(ls /sys/kernel/fpt/stats 2>/dev/null)
	j=$(journal_since "$W/cursor")
	check fptd-loaded-module "$([ -d /sys/module/fpt ] && echo "$j" | grep -q 'connected to the fpt module'; echo $?)" \
		"/sys/module/fpt $([ -d /sys/module/fpt ] && echo present || echo absent); journal: $(echo "$j" | grep -m1 'connected to the fpt module' | oneline 150)"
	check fptd-control-socket "$([ -S /run/fpt/control ]; echo $?)" "$(ls -l /run/fpt/control 2>&1)"
	info "fptd status: $(unit fptd StatusText)"
	out=$(fptctl status 2>&1); rc=$?
	check fptctl-status "$([ $rc = 0 ] && fptctl status --json 2>/dev/null | jq -e '.module_loaded and .fptd_running' >/dev/null; echo $?)" \
		"fptctl status: rc=$rc; $(echo "$out" | oneline 300)"
	[ "$(unit fptd ActiveState)" = active ] || FPTD_OK=1
	# A clean start logs nothing at warning level or worse.
	w=$(journalctl _SYSTEMD_UNIT=fptd.service -p warning --no-pager -o cat \
		--after-cursor="$(cat "$W/cursor")" 2>/dev/null | grep -v '^$' | oneline 300)
	check fptd-start-no-warnings "$([ -z "$w" ]; echo $?)" "fptd's warnings since systemctl start: ${w:-none}"
fi

# --- policy ------------------------------------------------------------------------------
POLICY_OK=0
if want policy; then
	need "$FPTD_OK" fptctl-enable "fptd did not start"
	[ ! -d /sys/fs/cgroup/$SLICE ]; check slice-absent-before $? "/sys/fs/cgroup/$SLICE does not exist before the workload"
	out=$(fptctl enable --cgroup="$SLICE" 2>&1); rc=$?
	check fptctl-enable "$([ $rc = 0 ] && echo "$out" | grep -q 'via fptd (persistent)'; echo $?)" \
		"fptctl enable --cgroup=$SLICE: rc=$rc: $(echo "$out" | oneline 250)"
	# Known failure: fptctl refuses a cgroup that does not exist yet (exit
	# 4) even when it goes through fptd, which keeps such a policy until
	# the cgroup appears.  Go on with the slice made first, so that the
	# later steps still test something; the failure above stays counted.
	if [ $rc = 4 ]; then
		systemctl start "$SLICE"
		out=$(fptctl enable --cgroup="$SLICE" 2>&1); rc=$?
		info "WORKAROUND: systemctl start $SLICE first ($([ -d /sys/fs/cgroup/$SLICE ] && echo cgroup made || echo no cgroup)); fptctl enable again: rc=$rc: $(echo "$out" | oneline 200)"
	fi
	[ $rc = 0 ] || POLICY_OK=1
	check policy-persisted "$(grep -q "$SLICE" "$STATE" 2>/dev/null; echo $?)" "$STATE: $(oneline 200 <"$STATE" 2>&1)"
	st=$(fptctl status --json 2>/dev/null | jq -c --arg p "/$SLICE" '[.policies[] | select(.path == $p)]')
	info "fptctl status (policy of $SLICE before its cgroup exists): $st; fptd: $(unit fptd StatusText)"
fi

# --- workload --------------------------------------------------------------------------------
if want workload; then
	need "$POLICY_OK" workload-coverage "fptctl enable failed"
	# the baseline: no policy, reverse touch order (chance runs ~0)
	out=$(outside)
	info "outside (other.slice, no policy): $out"
	cov=$(kv coverage_pct "$out")
	check outside-baseline "$([ -n "$cov" ] && le "$cov" 10 && [ "$(kv compound "$out")" = 0 ]; echo $?)" \
		"other.slice: ${cov}% in runs (<= 10%), compound pages $(kv compound "$out") (must be 0: no 64 KB folios outside a policy)"
	workload workload
	check policy-in-kernel "$(policy_there "$SLICE" on; echo $?)" "/proc/fpt: $(proc_row "$SLICE" | cut -d' ' -f1-7)"
	r=$(proc_counter "$SLICE" runs)
	# The policy's counter covers the whole process (stack, heap, ld.so...),
	# the pagemap runs only the touched region: a little more, never less.
	check workload-policy-runs "$([ -n "$r" ] && [ "$r" -ge "$W_RUNS" ] && [ "$r" -le $((W_RUNS + 64)) ]; echo $?)" \
		"$SLICE policy runs $r (/proc/fpt) vs $W_RUNS runs in the region's pagemap (allowed: +0..64 for the rest of the process)"
	counters_agree workload

	# The same seen from outside the process: fptctl scan of a held
	# workload (its /proc/PID/pagemap) against the workload's own count.
	rm -f "$W/held.out"
	systemd-run --unit=fpt-e2e-held --slice="$SLICE" --quiet \
		-p StandardOutput="file:$W/held.out" \
		/usr/local/bin/fpt-touch --size "$TOUCH_MB" --order reverse --hold-signal >/dev/null 2>&1
	if wait_for 60 grep -q READY "$W/held.out"; then
		out=$(head -n1 "$W/held.out"); addr=$(kv addr "$out"); hr=$(kv runs "$out")
		js=$(fptctl scan --unit fpt-e2e-held.service --json 2>&1); rc=$?
		sr=$(echo "$js" | jq -r --arg a "$addr" '
			def h: ltrimstr("0x") | ascii_downcase | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
			($a | h) as $x | [.processes[].vmas[] | select((.start | h) <= $x and $x < (.end | h)) | .counts.runs] | add // "none"' 2>&1)
		tot=$(echo "$js" | jq -r '.total.runs' 2>&1)
		check scan-agrees "$([ $rc = 0 ] && [ "$sr" = "$hr" ]; echo $?)" \
			"fptctl scan --unit fpt-e2e-held.service: runs $sr in the VMA at $addr (process total $tot) vs the workload's own pagemap $hr (rc=$rc)"
		systemctl stop fpt-e2e-held.service
	else
		fail scan-agrees "the held workload did not print READY in 60 s: $(oneline 200 <"$W/held.out" 2>&1)"
		systemctl stop fpt-e2e-held.service 2>/dev/null
	fi
	counters_agree held
	prom_agrees workload
fi

# --- restart ---------------------------------------------------------------------------------
if want restart; then
	need "$POLICY_OK" restart "no policy"
	r0=$(proc_counter "$SLICE" runs); id0=$(proc_row "$SLICE" | awk '{ print $1 }')
	pid0=$(unit fptd MainPID)
	policy_watch_start
	t0=$(now)
	out=$(systemctl restart fptd 2>&1); rc=$?
	tr=$(since "$t0")
	sleep 1
	policy_watch_stop
	pid1=$(unit fptd MainPID)
	check restart-active "$([ $rc = 0 ] && [ "$(unit fptd ActiveState)" = active ] && [ "$pid1" != "$pid0" ]; echo $?)" \
		"systemctl restart fptd: rc=$rc in ${tr}s, MainPID $pid0 -> $pid1, READY $(ready_latency) ms after exec"
	info "READY latency (restart, module already loaded): $(ready_latency) ms"
	check restart-policy-held "$([ "$misses" = 0 ] && [ "$samples" -gt 10 ]; echo $?)" \
		"/proc/fpt sampled every 20 ms across the restart: $SLICE missing in $misses of $samples samples"
	id1=$(proc_row "$SLICE" | awk '{ print $1 }'); r1=$(proc_counter "$SLICE" runs)
	check restart-same-policy "$([ -n "$id1" ] && [ "$id1" = "$id0" ] && [ "$r1" -ge "$r0" ]; echo $?)" \
		"cgroup id $id0 -> $id1, runs $r0 -> $r1 (the policy and its counters stay)"
	p=$(fptctl status --json 2>/dev/null | jq -r --arg p "/$SLICE" '.policies[] | select(.path == $p) | .persistent')
	check restart-persistent "$([ "$p" = true ]; echo $?)" "fptctl status: $SLICE persistent=$p"
	workload restart
	counters_agree restart
fi

# --- kill -9 -----------------------------------------------------------------------------------
if want kill; then
	need "$POLICY_OK" kill "no policy"
	r0=$(proc_counter "$SLICE" runs)
	pid0=$(unit fptd MainPID); n0=$(unit fptd NRestarts)
	mark_journal "$W/cursor"
	policy_watch_start
	t0=$(now)
	kill -9 "$pid0"
	back() { p=$(unit fptd MainPID); [ "$p" != 0 ] && [ "$p" != "$pid0" ] && [ "$(unit fptd ActiveState)" = active ]; }
	wait_for 30 back; rc=$?
	tk=$(since "$t0")
	sleep 1
	policy_watch_stop
	pid1=$(unit fptd MainPID); n1=$(unit fptd NRestarts)
	check kill-restarted "$([ $rc = 0 ] && [ "$n1" = $((n0 + 1)) ]; echo $?)" \
		"kill -9 $pid0: active again as $pid1 after ${tk}s (RestartSec=$(unit fptd RestartUSec)), NRestarts $n0 -> $n1, READY $(ready_latency) ms after exec"
	check kill-policy-held "$([ "$misses" = 0 ] && [ "$samples" -gt 10 ]; echo $?)" \
		"/proc/fpt sampled every 20 ms: $SLICE missing in $misses of $samples samples"
	j=$(journal_since "$W/cursor")
	check kill-state-restored "$(echo "$j" | grep -q "runtime polic.* restored from $STATE" && grep -q "$SLICE" "$STATE"; echo $?)" \
		"$(echo "$j" | grep -m1 'restored from' | oneline 200)"
	r1=$(proc_counter "$SLICE" runs)
	p=$(fptctl status --json 2>/dev/null | jq -r --arg p "/$SLICE" '.policies[] | select(.path == $p) | .persistent')
	check kill-nothing-lost "$([ "$p" = true ] && [ -n "$r1" ] && [ "$r1" -ge "$r0" ]; echo $?)" \
		"$SLICE persistent=$p, runs $r0 -> $r1"
	workload kill
	counters_agree kill
	prom_agrees kill
fi

# --- rmmod / modprobe ------------------------------------------------------------------------
if want reload; then
	need "$POLICY_OK" reload "no policy"
	pid0=$(unit fptd MainPID)
	out=$(rmmod fpt 2>&1); rc=$?
	check reload-rmmod "$([ $rc = 0 ] && [ ! -e /proc/fpt ]; echo $?)" "rmmod fpt: rc=$rc $out"
	sleep 0.5
	info "fptd while the module is gone: $(unit fptd ActiveState), $(unit fptd StatusText)"
	t0=$(now)
	out=$(modprobe fpt 2>&1); rc=$?
	tm=$(since "$t0")
	t1=$(now)
	wait_for 5 policy_there "$SLICE" on; back=$?
	tb=$(since "$t1")
	check reload-policy-back "$([ $rc = 0 ] && [ $back = 0 ] && le "$tb" 1.0; echo $?)" \
		"modprobe fpt took ${tm}s; the $SLICE policy was back in /proc/fpt ${tb}s after it returned (<= 1 s)"
	info "reload breakdown (journal): $(journalctl -u fptd -o short-monotonic --no-pager -n 20 2>/dev/null |
		awk '{ t = substr($0, 2, index($0, "]") - 2) + 0 }
			/the fpt module was loaded/ { t0 = t; t1 = t2 = 0 }
			/connected to the fpt module/ && t0 && !t1 { t1 = t }
			/policy of db.slice set/ && t0 && !t2 { t2 = t }
			END { if (t0 && t2) printf "fptd saw the family +0 -> connected +%.0f ms -> policy set (netlink reply, includes the kernel arming its hooks) +%.0f ms", (t1 - t0) * 1000, (t2 - t0) * 1000; else print "n/a" }')"
	check reload-fptd-same "$([ "$(unit fptd MainPID)" = "$pid0" ] && [ "$(unit fptd ActiveState)" = active ]; echo $?)" \
		"fptd MainPID $pid0 -> $(unit fptd MainPID), $(unit fptd ActiveState): it followed the module without a restart"
	COUNTERS=$(ls /sys/kernel/fpt/stats 2>/dev/null)
	workload reload
	counters_agree reload
	prom_agrees reload
fi

# --- thp2m=deny under THP "always" ---------------------------------------------------------
if want thp2m; then
	need "$POLICY_OK" thp2m "no policy"
	echo always >$THP/enabled
	out=$(fptctl enable --cgroup="$SLICE" --thp2m=deny 2>&1); rc=$?
	check thp2m-enable "$([ $rc = 0 ] && [ "$(proc_row "$SLICE" | awk '{ print $6 }')" = 0x1 ]; echo $?)" \
		"THP enabled=always; fptctl enable --cgroup=$SLICE --thp2m=deny: rc=$rc: $(echo "$out" | oneline 150); /proc/fpt flags $(proc_row "$SLICE" | awk '{ print $6 }')"
	workload thp2m
	counters_agree thp2m
	out=$(outside --align2m)
	info "outside, THP always: $out"
	check thp2m-outside-keeps-thp "$([ "$(kv anon_huge_kb "$out")" -gt 0 ] 2>/dev/null; echo $?)" \
		"other.slice keeps the administrator's 2 MB THP: AnonHugePages $(kv anon_huge_kb "$out") kB"
	fptctl enable --cgroup="$SLICE" >/dev/null 2>&1
	echo madvise >$THP/enabled
fi

# --- a broken policy file --------------------------------------------------------------------
if want broken; then
	need "$FPTD_OK" broken "fptd did not start"
	# a file policy first, on a cgroup that exists (a sleeping service)
	systemd-run --unit=fpt-e2e-web --slice=web.slice --quiet sleep 3600 >/dev/null 2>&1
	printf '# fpt e2e\n[web.slice]\nmode = madvise\n' >"$POLDIR/50-e2e.conf"
	systemctl reload fptd
	wait_for 5 policy_there web.slice madvise
	check file-policy-applied $? "$POLDIR/50-e2e.conf + systemctl reload fptd: /proc/fpt: $(proc_row web.slice | cut -d' ' -f1-6)"
	pid0=$(unit fptd MainPID)
	# now break it: a bad value on line 4, and a change of mode that must not
	# take effect
	printf '# fpt e2e\n[web.slice]\nmode = on\ndefrag = sometimes\n' >"$POLDIR/50-e2e.conf"
	out=$(fptd --check 2>&1); rc=$?
	check broken-fptd-check "$([ $rc != 0 ] && echo "$out" | grep -q '50-e2e.conf:4'; echo $?)" \
		"fptd --check: rc=$rc: $(echo "$out" | oneline 200)"
	mark_journal "$W/cursor"
	out=$(systemctl reload fptd 2>&1); rc=$?
	sleep 2
	j=$(journalctl -u fptd --no-pager -o cat -p err --after-cursor="$(cat "$W/cursor")" 2>/dev/null)
	check broken-journal-error "$(echo "$j" | grep -q '50-e2e.conf:4'; echo $?)" \
		"systemctl reload: rc=$rc; journal (priority err): $(echo "$j" | oneline 300)"
	check broken-old-policy-kept "$(policy_there web.slice madvise && policy_there "$SLICE" on; echo $?)" \
		"/proc/fpt: web.slice $(proc_row web.slice | awk '{ print $3 }') (file's old mode madvise), $SLICE $(proc_row "$SLICE" | awk '{ print $3 }')"
	check broken-fptd-running "$([ "$(unit fptd MainPID)" = "$pid0" ] && [ "$(unit fptd ActiveState)" = active ]; echo $?)" \
		"fptd MainPID $pid0 -> $(unit fptd MainPID), $(unit fptd ActiveState); status: $(unit fptd StatusText)"
	wait_for 5 grep -qx 'fptd_config_last_reload_successful 0' "$PROM"
	check broken-prometheus "$?" "$(grep '^fptd_config_last_reload_successful' "$PROM" 2>&1)"
	workload broken
	# repaired: the file's policy goes away with the file
	rm -f "$POLDIR/50-e2e.conf"
	systemctl reload fptd
	no_web() { [ -z "$(proc_row web.slice)" ]; }
	wait_for 5 no_web
	check broken-repaired "$?" "file removed + reload: web.slice policy $(proc_row web.slice | awk '{ print $3 }' | grep . || echo gone); status: $(unit fptd StatusText)"
	systemctl stop fpt-e2e-web.service 2>/dev/null
fi

# --- measurements ----------------------------------------------------------------------------
if want measure; then
	need "$FPTD_OK" measure "fptd did not start"
	pid=$(unit fptd MainPID)
	hz=$(getconf CLK_TCK)
	ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
	rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
	c0=$(ticks); t0=$(now); m0=$(stat -c %Y.%y "$PROM" 2>/dev/null)
	rmax=0 rsum=0 n=0 writes=0 last=$(stat -c %y "$PROM" 2>/dev/null)
	for i in $(seq 30); do
		sleep 1
		r=$(rss); rsum=$((rsum + r)); n=$((n + 1)); [ "$r" -gt "$rmax" ] && rmax=$r
		m=$(stat -c %y "$PROM" 2>/dev/null)
		[ "$m" != "$last" ] && writes=$((writes + 1)); last=$m
	done
	c1=$(ticks); el=$(since "$t0")
	cpu=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v t="$el" 'BEGIN { printf "%.2f", c / hz / t * 100 }')
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	info "fptd at a 1 s report interval over ${el}s (2 policies, idle workload): VmRSS avg $((rsum / n)) kB max $rmax kB (VmHWM $hwm kB); CPU $((c1 - c0)) ticks = ${cpu}% of one CPU (TCG emulation); $writes rewrites of fpt.prom"
	check measure-report-interval "$([ "$writes" -ge 20 ]; echo $?)" "fpt.prom rewritten $writes times in ${el}s at interval = 1"
	check measure-fptd-alive "$([ "$(unit fptd MainPID)" = "$pid" ]; echo $?)" "fptd MainPID $pid throughout"
fi

# fptd's own complaints over the whole run (warnings that no step caused on purpose)
finish
