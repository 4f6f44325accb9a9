#!/bin/bash
# build-deb.sh: the Debian packages of this tree (make deb).
#
# Copies the tree as git sees it (committed or not, but nothing ignored:
# no build/) to build/deb/src/fpt-VERSION, runs `dpkg-buildpackage -us -uc
# -b` there (a clean tree, every time), and lintian on the result.  The
# packages land in build/deb/: fpt-dkms_VERSION-REV_all.deb,
# fptd_VERSION-REV_ARCH.deb (and fptd-dbgsym).  Logs: build/deb/build.log,
# build/deb/lintian.log.  Exit status: 1 if the build failed, 2 if lintian
# reported an error or warning that debian/README does not explain.
#
# Needs the build dependencies of debian/control (make deps installs them).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# the test rig exports BUILD=<checkout>/build; the package build is its own
unset BUILD
ROOT=$PWD
OUT=$ROOT/build/deb
VERSION=$(cat VERSION)
SRC=$OUT/src/fpt-$VERSION
rm -rf "$OUT"
mkdir -p "$SRC"

# the tree: tracked and new files, not ignored ones (build/, objects)
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -C "$SRC" -xf -

echo "== dpkg-buildpackage -us -uc -b in build/deb/src/fpt-$VERSION (log: build/deb/build.log)"
t0=$(date +%s)
if ! (cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" | sed 's/^/    | /'
	echo "deb: dpkg-buildpackage failed"
	exit 1
fi
echo "   built in $(($(date +%s) - t0)) s: $(cd "$OUT/src" && ls ./*.deb | sed 's|^\./||' | paste -sd' ')"
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT/"

echo "== lintian (log: build/deb/lintian.log)"
changes=$(ls "$OUT"/*.changes)
lintian --info --display-info --pedantic "$changes" >"$OUT/lintian.log" 2>&1
# E: and W: tags must be explained in debian/README ("tag: why")
bad=0
while read -r level _pkg tag _rest; do
	case $level in E: | W:) ;; *) continue ;; esac
	grep -q "^$tag:" debian/README 2>/dev/null && continue
	echo "   unexplained: $level $_pkg $tag $_rest"
	bad=1
done < <(grep -E '^[EW]: ' "$OUT/lintian.log")
sed 's/^/   /' "$OUT/lintian.log" | grep -E '^   [EWIPX]: ' | sort | uniq -c | sort -rn | head -n 40
[ "$bad" = 0 ] || { echo "deb: lintian: errors or warnings not explained in debian/README"; exit 2; }
echo "deb: lintian: no error or warning that debian/README does not explain"
