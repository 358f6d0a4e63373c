#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs the whole suite: C unit tests, BPF fixture tests, then the
# network-namespace end-to-end scenarios. Every test program prints one
# "XLBT-RESULT passed=N failed=N skipped=N" line; a program that dies
# without one counts as one failure. Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-.output}
export BIN=${BIN:-build/bin}
export XLB_ROOT=$PWD
ONLY=${ONLY:-}		# ONLY=regex limits the run to matching test names

total_p=0 total_f=0 total_s=0
failed_names=()

run_one() {
	local name=$1; shift
	local log rc line p f s
	[ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]] && return 0
	echo "=== $name"
	log=$(mktemp)
	# Each program gets a time limit so that a hang cannot stall CI.
	timeout --kill-after=10 "${XLBT_TIMEOUT:-900}" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -a '^XLBT-RESULT ' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "!!! $name exited $rc without a result line: counted as 1 failure"
		total_f=$((total_f + 1)); failed_names+=("$name")
		return
	fi
	p=$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")
	s=$(sed -E 's/.*skipped=([0-9]+).*/\1/' <<<"$line")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "!!! $name exited $rc with no failed case: counted as 1 failure"
		f=1
	fi
	total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
	[ "$f" != 0 ] && failed_names+=("$name")
}

for t in "$OUTPUT"/tests/unit/test_* "$OUTPUT"/tests/bpf/test_*; do
	[ -x "$t" ] || continue
	case $t in *.o|*.d) continue ;; esac
	run_one "${t#"$OUTPUT"/tests/}" "$t"
done

for t in tests/e2e/test_*.sh tests/bench/smoke_*.sh; do
	[ -f "$t" ] || continue
	run_one "${t#tests/}" bash "$t"
done

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
