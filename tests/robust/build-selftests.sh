#!/bin/bash
# build-selftests.sh VER...: the kernel's own mm selftests from Debian's
# linux-source of exactly the kernels the guests boot (build/src/<VER>),
# built statically on the host for the robustness series.
#
#   build/selftests/<VER>/bin/<test>      static binaries
#   build/selftests/<VER>/build.log       the make output
#   build/selftests/<VER>/status          "<test> ok|FAILED" per wanted test
#
# 6.1's tree calls the directory selftests/vm (renamed mm in 6.3) and lacks
# the newer tests (cow, gup_longterm, ksm_functional_tests, pagemap_ioctl,
# mdwe_test, mkdirty, uffd-unit-tests/uffd-stress, which 6.1 has as the
# single "userfaultfd").  The source tree is shared and read-only to us: the
# selftest directory is mirrored as a tree of symbolic links under build/,
# where make writes its generated files; the uapi headers come from
# `make headers` with O= (out of tree).
# Libraries: -lnuma (ksm_tests, migration), -lcap (memfd_secret,
# mlock-random-test), -luring (cow, gup_longterm, optional): Debian's static
# archives (libnuma-dev, libcap-dev, liburing-dev).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
JOBS=${FPT_JOBS:-$(nproc)}
WANT="cow uffd-unit-tests uffd-stress userfaultfd mremap_dontunmap mremap_test migration
ksm_tests ksm_functional_tests split_huge_page_test khugepaged soft-dirty pagemap_ioctl
madv_populate mlock2-tests gup_longterm map_fixed_noreplace mdwe_test memfd_secret
transhuge-stress mkdirty map_populate mlock-random-test mrelease_test compaction_test
thuge-gen hugepage-mmap hugepage-mremap hugetlb-madvise"

rc=0
[ $# -gt 0 ] || set -- 6.1 6.12
for ver in "$@"; do
	src=$BUILD/src/$ver
	out=$BUILD/selftests/$ver
	[ -e "$src/.done" ] || BUILD=$BUILD bash "$ROOT/tests/vm/fetch-kernels.sh" --source "$ver" ||
		{ echo "build-selftests: could not fetch linux-source-$ver" >&2; rc=1; continue; }
	[ -f "$src/Makefile" ] || { echo "build-selftests: no source in $src" >&2; rc=1; continue; }
	sub=mm; [ -d "$src/tools/testing/selftests/mm" ] || sub=vm
	stamp="$(sha256sum "$0" | cut -c1-16) $(stat -c %Y "$src/Makefile")"
	if [ -f "$out/status" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "build-selftests: $ver cached ($(grep -c ' ok$' "$out/status") built)"
		continue
	fi
	rm -rf "$out"
	mkdir -p "$out/bin" "$out/tree/tools/testing/selftests"
	log=$out/build.log
	make -C "$src" O="$out/hdr" headers >"$log" 2>&1
	# symlink mirror of the selftest dir (lib.mk and kselftest headers too)
	cp -as "$src/tools/testing/selftests/$sub" "$out/tree/tools/testing/selftests/"
	for f in kselftest.h kselftest_harness.h; do
		[ -e "$src/tools/testing/selftests/$f" ] &&
			ln -s "$src/tools/testing/selftests/$f" "$out/tree/tools/testing/selftests/$f"
	done
	# lib.mk is copied: it finds the tree root (top_srcdir) from its own
	# real path, and local_config.h must be generated beside it, here
	cp "$src/tools/testing/selftests/lib.mk" "$out/tree/tools/testing/selftests/"
	for d in tools/include include mm; do ln -s "$src/$d" "$out/tree/$d"; done
	dir=$out/tree/tools/testing/selftests/$sub
	# ksm_tests' ksm_do_scan(N) waits for full_scans to grow by N, and
	# the first increment can be the end of the scan in progress, which
	# may already have passed the pages just madvised or written: then
	# the check runs a scan short.  ksm_merge_pages() waits for 2, where
	# KSM needs two visits (a page's checksum unchanged over two scans);
	# check_ksm_unmerge() for 1, where KSM needs one to see the pages
	# changed.  Without fpt, `ksm_tests -N -m 1` failed about one run in
	# three and `-U` one in eight (tests/robust/README.md).  Built here
	# with every ksm_do_scan(N) waiting for N + 1 increments.
	ksm=$dir/ksm_tests.c
	if [ -L "$ksm" ]; then
		perl -pe 's/\bksm_do_scan\((\d+), start_time/"ksm_do_scan(" . ($1 + 1) . ", start_time"/e' \
			"$(readlink "$ksm")" >"$ksm.new"
		[ "$(grep -c 'ksm_do_scan([0-9]' "$ksm.new")" = 2 ] && grep -q 'ksm_do_scan(3, start_time' "$ksm.new" ||
			{ echo "build-selftests: $ver: ksm_tests.c changed, the scan fix does not apply" >&2; exit 1; }
		rm "$ksm" && mv "$ksm.new" "$ksm"
	fi
	present=()
	for t in $WANT; do [ -f "$dir/$t.c" ] && present+=("$out/bin/$t"); done
	# -k: what builds is kept; each wanted test is judged below
	make -C "$dir" -k -j"$JOBS" OUTPUT="$out/bin" \
		KHDR_INCLUDES="-isystem $out/hdr/usr/include" LDFLAGS=-static \
		"${present[@]}" >>"$log" 2>&1 || true
	: >"$out/status"
	for t in $WANT; do
		if [ ! -f "$dir/$t.c" ]; then
			continue
		elif [ -x "$out/bin/$t" ] && ! ldd "$out/bin/$t" >/dev/null 2>&1; then
			echo "$t ok" >>"$out/status"
		else
			echo "$t FAILED" >>"$out/status"; rc=1
		fi
	done
	echo "$stamp" >"$out/stamp"
	echo "build-selftests: $ver ($sub): $(grep -c ' ok$' "$out/status") built, $(grep -c FAILED "$out/status" || true) failed (log build/selftests/$ver/build.log)"
done
exit $rc
