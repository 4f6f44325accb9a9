#!/bin/bash
# tests/pkg/run.sh: the packaging checks (make check-pkg; make check runs
# them with the unit tests).  No guest, no root needed but for nothing;
# a few seconds.  Prints "PASS|FAIL pkg/<check> <detail>" per check and
# writes "<passed> <failed>" to $RESULTS (build/pkg-results), which
# tests/vm/check.sh adds to its closing "N passed, N failed" line.
#
#   version        VERSION is the one version: debian/changelog agrees,
#                  fptd/fptctl --version and the dkms.conf made from
#                  dkms.conf.in say it, no other file spells it
#   dkms-tree      make install-dkms-src: exactly the module's sources
#   install        make install / uninstall with DESTDIR, both prefixes
#   man-*          man pages: made from markdown, man --warnings clean at
#                  the widths man and lintian use, whatis entries; fpt(7)
#                  explains every fallback counter of fpt.h
#   completion-*   bash completion against the built fptctl's own help
#   prom-*         promtool check rules / test rules (and that the test
#                  fails on a broken rule), the Grafana dashboard's
#                  expressions parse, every metric used is one fptd
#                  writes, and a live fptd's fpt.prom passes promtool
#                  check metrics
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=$ROOT/build
RESULTS=${RESULTS:-$BUILD/pkg-results}
T=$BUILD/tmp/pkg
rm -rf "$T"
mkdir -p "$T" "$(dirname "$RESULTS")"
rm -f "$RESULTS"
passed=0 failed=0

result() { # result PASS|FAIL NAME DETAIL...
	local st=$1 name=$2
	shift 2
	echo "$st pkg/$name${*:+ $*}"
	case $st in PASS) passed=$((passed + 1)) ;; FAIL) failed=$((failed + 1)) ;; esac
}
check() { # check NAME STATUS DETAIL
	if [ "$2" = 0 ]; then result PASS "$1" "$3"; else result FAIL "$1" "$3"; fi
}
finish() {
	echo "$passed $failed" >"$RESULTS"
	echo "packaging checks: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
oneline() { tr '\n' ' ' | tr -s ' ' | cut -c1-"${1:-300}"; }

VERSION=$(cat VERSION)
echo "== pkg: building fptd, fptctl, fpt-sim and the man pages (log: build/tmp/pkg/build.log)"
if ! make -s -j"$(nproc)" userspace >"$T/build.log" 2>&1; then
	result FAIL build "make userspace failed: $(tail -n 5 "$T/build.log" | oneline)"
	finish
fi
result PASS build "make userspace"

# --- version ------------------------------------------------------------------
why=""
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([~+][0-9A-Za-z.]+)?$ ]] || why+="VERSION '$VERSION' is not x.y.z; "
cl=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
[ "${cl%-*}" = "$VERSION" ] || why+="debian/changelog says $cl; "
v=$(build/daemon/fptd --version 2>&1 | awk '{ print $2 }')
[ "$v" = "$VERSION" ] || why+="fptd --version says $v; "
v=$(tools/fptctl/fptctl --version 2>&1 | awk '{ print $2 }')
[ "$v" = "$VERSION" ] || why+="fptctl --version says $v; "
make -s install-dkms-src DESTDIR="$T/dkms" >"$T/dkms.log" 2>&1 || why+="make install-dkms-src failed; "
dk=$T/dkms/usr/src/fpt-$VERSION
v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$dk/dkms.conf" 2>/dev/null)
[ "$v" = "$VERSION" ] || why+="dkms.conf PACKAGE_VERSION is '$v'; "
# Any other file that spells the version out is a second source.  (Test
# fixtures in tests/unit use version-like strings as data.)
others=$(git grep -lF -- "$VERSION" -- . ':!VERSION' ':!debian/changelog' ':!tests/unit' 2>/dev/null | paste -sd' ')
[ -z "$others" ] || why+="the version is written out in: $others; "
check version "$([ -z "$why" ]; echo $?)" "${why:-$VERSION everywhere: changelog $cl, fptd, fptctl, dkms.conf; no other file spells it}"

# --- the dkms source tree -------------------------------------------------------
want=$( (echo dkms.conf; echo VERSION; echo include/uapi/linux/fpt.h
	cd module && for f in Kbuild Makefile *.h *.c; do
		case $f in *.mod.c) ;; *) echo "module/$f" ;; esac; done) | sort)
got=$(cd "$dk" 2>/dev/null && find . -type f | sed 's|^\./||' | sort)
kb=$(du -sk "$dk" 2>/dev/null | cut -f1)
check dkms-tree "$([ -n "$got" ] && [ "$got" = "$want" ]; echo $?)" \
	"/usr/src/fpt-$VERSION: $(echo "$got" | wc -l) files, ${kb} kB$([ "$got" = "$want" ] || echo "; differs from the module's sources: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | oneline 200)")"

# --- make install / uninstall ----------------------------------------------------
inst() { # inst PREFIX DIR: install, list, uninstall, list what is left
	local p=$1 d=$2
	make -s install DESTDIR="$d" PREFIX="$p" >"$d.log" 2>&1 || return 1
	(cd "$d" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$d.files"
	find "$d" -name fptd.service -exec cp {} "$d.unit" \;
	make -s uninstall DESTDIR="$d" PREFIX="$p" >>"$d.log" 2>&1 || return 1
	(cd "$d" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$d.left"
}
why=""
if inst /usr/local "$T/inst-local"; then
	for f in /usr/local/sbin/fptd /usr/local/sbin/fptctl /usr/local/bin/fpt-sim \
		/usr/local/lib/systemd/system/fptd.service /etc/fpt/fptd.conf \
		/usr/local/share/man/man8/fptctl.8 /usr/local/share/man/man8/fptd.8 \
		/usr/local/share/man/man5/fptd.conf.5 /usr/local/share/man/man7/fpt.7 \
		/usr/local/share/man/man1/fpt-sim.1 \
		/usr/local/share/bash-completion/completions/fptctl \
		/usr/local/share/doc/fpt/examples/monitoring/fpt-alerts.yml \
		/usr/local/share/doc/fpt/examples/systemd/postgresql.service.d/fpt.conf; do
		grep -qxF "$f" "$T/inst-local.files" || why+="no $f; "
	done
	out=$(grep -v '^/usr/local/' "$T/inst-local.files" | grep -v '^/etc/fpt/fptd.conf$' | paste -sd' ')
	[ -z "$out" ] || why+="outside the prefix: $out; "
	grep -q '^ExecStart=/usr/local/sbin/fptd$' "$T/inst-local.unit" 2>/dev/null ||
		why+="the unit's ExecStart is $(grep '^ExecStart=' "$T/inst-local.unit" 2>/dev/null); "
	[ -s "$T/inst-local.left" ] && why+="left after uninstall: $(paste -sd' ' "$T/inst-local.left"); "
else
	why+="make install/uninstall PREFIX=/usr/local failed: $(tail -n 3 "$T/inst-local.log" | oneline 200); "
fi
if inst /usr "$T/inst-usr"; then
	grep -qxF /lib/systemd/system/fptd.service "$T/inst-usr.files" || why+="PREFIX=/usr: the unit is not in /lib/systemd/system; "
	grep -q '^ExecStart=/usr/sbin/fptd$' "$T/inst-usr.unit" 2>/dev/null || why+="PREFIX=/usr: ExecStart is not /usr/sbin/fptd; "
else
	why+="make install/uninstall PREFIX=/usr failed; "
fi
# an fptd.conf the administrator changed survives uninstall
mkdir -p "$T/inst-keep" && make -s install DESTDIR="$T/inst-keep" >/dev/null 2>&1 &&
	echo "interval = 5" >>"$T/inst-keep/etc/fpt/fptd.conf" &&
	make -s uninstall DESTDIR="$T/inst-keep" >/dev/null 2>&1
[ -f "$T/inst-keep/etc/fpt/fptd.conf" ] || why+="uninstall removed a changed fptd.conf; "
check install "$([ -z "$why" ]; echo $?)" "${why:-make install + uninstall, PREFIX=/usr/local and /usr: $(wc -l <"$T/inst-local.files") files, all under the prefix (and /etc/fpt/fptd.conf), none left; a changed fptd.conf is kept}"

# --- man pages ---------------------------------------------------------------------
for page in fptctl.8 fptd.8 fptd.conf.5 fpt.7 fpt-sim.1; do
	f=build/man/$page
	if [ ! -s "$f" ]; then
		result FAIL "man-$page" "build/man/$page was not made"
		continue
	fi
	why=""
	# what man and lintian run (lintian: MANWIDTH=120)
	for w in 80 120; do
		out=$(LC_ALL=C.UTF-8 MANWIDTH=$w man --warnings -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || why+="MANWIDTH=$w: $(echo "$out" | oneline 200); "
	done
	lines=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)
	[ "$lines" -gt 20 ] || why+="renders as $lines lines; "
	wi=$(lexgrog "$f" 2>&1)
	case $wi in *": \"${page%.*} - "*) ;; *) why+="whatis: $wi; " ;; esac
	check "man-$page" "$([ -z "$why" ]; echo $?)" "${why:-man --warnings clean at 80 and 120 columns, $lines lines; $(echo "$wi" | cut -d'"' -f2 | cut -c1-70)}"
done
# fpt(7) explains each fallback reason fpt.h counts, and no other
h=$(grep -o 'X(FB_[A-Z_]*, *fallback_[a-z_]*' include/uapi/linux/fpt.h | sed 's/.*, *//' | sort)
m=$(grep -o '^fallback_[a-z_]*$' man/fpt.7.md | sort)
check man-fallback-reasons "$([ -n "$h" ] && [ "$h" = "$m" ]; echo $?)" \
	"fpt.h counts $(echo "$h" | wc -l) fallback reasons; fpt(7) explains $(echo "$m" | wc -l)$([ "$h" = "$m" ] || echo ": differ: $(diff <(echo "$h") <(echo "$m") | grep '^[<>]' | oneline 200)")"

# --- bash completion --------------------------------------------------------------
# comp LINE: what completing the end of LINE offers (plain bash; "=" is a
# word of its own, as readline splits it)
cat >"$T/comp.sh" <<'EOF'
source "$1"
shift
for line in "$@"; do
	read -ra COMP_WORDS <<<"$(sed -e 's/=/ = /g' <<<"$line")"
	case $line in *" " | *=) COMP_WORDS+=("") ;; esac
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line}
	COMPREPLY=()
	_fptctl
	printf '%s\n' "$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' ')"
done
EOF
comp() { PATH=$ROOT/tools/fptctl:$PATH bash "$T/comp.sh" completion/fptctl.bash "$@" 2>&1; }
cmds=$(tools/fptctl/fptctl --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && !/^  / { on = 0 }' | sort | paste -sd' ')
got=$(comp "fptctl ")
check completion-commands "$([ -n "$cmds" ] && [ "$got" = "$cmds" ]; echo $?)" "fptctl <TAB>: [$got] (fptctl --help: [$cmds])"
why=""
for c in $cmds; do
	[ "$c" = help ] && continue
	want=$( (tools/fptctl/fptctl "$c" --help | awk '/^Usage:/ { on = 1 } on && /^$/ { exit } on' |
		grep -o -- '--[a-z0-9][a-z0-9-]*'; echo --help) | sort -u | paste -sd' ')
	got=$(comp "fptctl $c --")
	[ "$got" = "$want" ] || why+="$c: [$got] != [$want]; "
done
check completion-options "$([ -z "$why" ]; echo $?)" "${why:-the options of every command, as its usage line lists them}"
why=""
got=$(comp "fptctl enable --mode " "fptctl enable --backend=" "fptctl enable --thp2m=d" \
	"fptctl enable --defrag " "fptctl stats --watch " "fptctl help di" "fptctl --ver" | paste -sd'|')
[ "$got" = "madvise off on|auto folio reserve|deny|no yes||disable|--version" ] || why="got [$got]"
pid=$(comp "fptctl scan --pid $$")
case " $pid " in *" $$ "*) ;; *) why+=" --pid $$: [$pid]" ;; esac
check completion-values "$([ -z "$why" ]; echo $?)" "${why:-mode, backend, thp2m (--opt=value too), defrag, no value for --watch, help COMMAND, --version, process ids}"

# --- Prometheus rules and the Grafana dashboard --------------------------------
out=$(promtool check rules monitoring/fpt-alerts.yml 2>&1); rc=$?
check prom-check-rules "$rc" "promtool check rules: $(echo "$out" | grep -E 'SUCCESS|FAILED|error' | oneline 200)"
out=$(cd monitoring && promtool test rules fpt-alerts.test.yml 2>&1); rc=$?
ntests=$(grep -c '^  - interval:' monitoring/fpt-alerts.test.yml)
check prom-test-rules "$rc" "promtool test rules: $ntests test groups over $(grep -c '^      - alert:' monitoring/fpt-alerts.yml) alerts: $(echo "$out" | grep -E 'SUCCESS|FAILED' | oneline 100)$([ $rc = 0 ] || echo "; $(echo "$out" | oneline 300)")"
# the tests must be able to fail: a rule that fires late is caught
mkdir -p "$T/mut"
sed '0,/expr: fptd_up == 0/s//expr: fptd_up == 2/' monitoring/fpt-alerts.yml >"$T/mut/fpt-alerts.yml"
cp monitoring/fpt-alerts.test.yml "$T/mut/"
(cd "$T/mut" && promtool test rules fpt-alerts.test.yml >/dev/null 2>&1); rc=$?
check prom-test-rules-can-fail "$([ $rc != 0 ]; echo $?)" "with FptdStopped broken (fptd_up == 2) promtool test rules exits $rc"

# Metric names fptd writes (the literals of daemon/prom.c), and what the
# rules and the dashboard use.
fptd_metrics=$(grep -o '"fptd\?_[a-z0-9_]*' daemon/prom.c | tr -d '"' | sort -u)
dash_exprs=$(python3 - monitoring/grafana-dashboard.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
def walk(ps):
    for p in ps:
        if p.get("type") == "row":
            walk(p.get("panels", []))
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            bad.append(f"panel {p.get('title')!r}: datasource is not ${{datasource}}")
        if not p.get("targets"):
            bad.append(f"panel {p.get('title')!r}: no targets")
        for t in p.get("targets", []):
            print(t["expr"])
walk(d["panels"])
for v in d["templating"]["list"]:
    if v["type"] == "query":
        print(v["definition"].replace("label_values(", "group by (x) (").rsplit(",", 1)[0] + ")")
if bad:
    print("BAD " + "; ".join(bad))
EOF
)
rc=$?
why=""
[ $rc = 0 ] || why+="the dashboard is not valid JSON; "
why+=$(echo "$dash_exprs" | sed -n 's/^BAD //p')
# every expression must parse: as recording rules for promtool, with the
# dashboard's variables given values
{
	echo "groups:"
	echo "  - name: dashboard"
	echo "    rules:"
	i=0
	echo "$dash_exprs" | grep -v '^BAD ' | while IFS= read -r e; do
		i=$((i + 1))
		e=${e//\$__rate_interval/5m}
		e=${e//\$instance/.*}
		e=${e//\$cgroup/.*}
		printf '      - record: dashboard:expr_%d\n        expr: %s\n' "$i" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$e")"
	done
} >"$T/dashboard-rules.yml"
out=$(promtool check rules "$T/dashboard-rules.yml" 2>&1) || why+="promtool: $(echo "$out" | grep -v '^Checking' | oneline 300); "
n=$(grep -c 'record:' "$T/dashboard-rules.yml")
ok="grafana-dashboard.json: $n expressions parse (promtool), every panel on the datasource variable"
check prom-dashboard "$([ -z "$why" ] && [ "$n" -gt 10 ]; echo $?)" "${why:-$ok}"
used=$( (echo "$dash_exprs"; grep -v '^\s*#' monitoring/fpt-alerts.yml) |
	grep -o '\b\(fptd\?\|node\)_[a-z0-9_]*' | sort -u)
unknown=$(comm -23 <(echo "$used") <( (echo "$fptd_metrics"; echo node_textfile_mtime_seconds) | sort -u) | paste -sd' ')
check prom-metric-names "$([ -z "$unknown" ]; echo $?)" \
	"$(echo "$used" | wc -l) metrics used by the rules and the dashboard; $([ -z "$unknown" ] && echo "all written by fptd (daemon/prom.c) or node-exporter" || echo "not written by fptd: $unknown")"

# a real fptd (no module on this host: load_module = no) writes fpt.prom
mkdir -p "$T/fptd"/{cg,pol,state,prom}
cat >"$T/fptd/fptd.conf" <<EOF
[daemon]
cgroup_root = $T/fptd/cg
policy_dir = $T/fptd/pol
state_dir = $T/fptd/state
control_socket = $T/fptd/control
load_module = no
[report]
interval = 1
prometheus_dir = $T/fptd/prom
EOF
build/daemon/fptd -c "$T/fptd/fptd.conf" >"$T/fptd/log" 2>&1 &
fpid=$!
for _ in $(seq 50); do [ -s "$T/fptd/prom/fpt.prom" ] && break; sleep 0.1; done
sleep 0.2
cp "$T/fptd/prom/fpt.prom" "$T/fptd/fpt.prom" 2>/dev/null
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
if [ -s "$T/fptd/fpt.prom" ]; then
	out=$(promtool check metrics <"$T/fptd/fpt.prom" 2>&1); rc=$?
	fams=$(grep -c '^# TYPE' "$T/fptd/fpt.prom")
	check prom-live-fptd "$([ $rc = 0 ] && [ -z "$out" ]; echo $?)" \
		"fptd without the module wrote $fams metric families; promtool check metrics: rc=$rc ${out:-clean}"
else
	result FAIL prom-live-fptd "fptd wrote no fpt.prom in 5 s: $(oneline 300 <"$T/fptd/log")"
fi

finish
