#!/bin/bash
# run.sh TEST...: build and run the unit test programs (see Makefile).
# Prints each program's cmocka output, then PASS/FAIL lines per test case,
# and writes "<passed> <failed>" to $RESULTS.  Exit 1 if anything failed.
set -uo pipefail
BUILD=${BUILD:-../../build/unit}
RESULTS=${RESULTS:-../../build/unit-results}
MAKE=${MAKE:-make}
passed=0 failed=0
lines=()

mkdir -p "$(dirname "$RESULTS")" "$BUILD"
rm -f "$RESULTS"
for t in "$@"; do
	echo "== unit/$t"
	if ! $MAKE --no-print-directory "$BUILD/$t" >"$BUILD/$t.build.log" 2>&1; then
		sed 's/^/    | /' "$BUILD/$t.build.log" | tail -n 30
		lines+=("FAIL unit/$t (does not build)")
		failed=$((failed + 1))
		continue
	fi
	out=$("$BUILD/$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	# cmocka: "[       OK ] case" / "[  FAILED  ] case" / "[  ERROR   ] case"
	# ("[  ERROR   ] --- message" is a failed assertion's text)
	# until "[==========] N test(s) run.", then a summary that repeats names.
	n=0
	while IFS= read -r l; do
		case $l in
		"[  ERROR   ] --- "*) ;;	# an assertion's message, not a case
		"[       OK ] "*) lines+=("PASS unit/$t/${l#\[       OK \] }"); passed=$((passed + 1)); n=$((n + 1)) ;;
		"[  FAILED  ] "*|"[  ERROR   ] "*)
			lines+=("FAIL unit/$t/${l#\[  *  \] }"); failed=$((failed + 1)); n=$((n + 1)) ;;
		esac
	done < <(printf '%s\n' "$out" | sed '/^\[==========\] [0-9]* test(s) run\./,$d')
	if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^\[==========\] [0-9]* test(s) run\.'; then
		lines+=("FAIL unit/$t (exited $rc before cmocka's summary: crash or sanitizer report)")
		failed=$((failed + 1))
	elif [ "$n" -eq 0 ]; then
		lines+=("FAIL unit/$t (no test case ran)")
		failed=$((failed + 1))
	fi
done
printf '%s\n' "${lines[@]}"
echo "$passed $failed" >"$RESULTS"
echo "unit tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
