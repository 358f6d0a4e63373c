#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs every benchmark and prints its report: each built
# $OUTPUT/tests/bench/bench_* binary, then each tests/bench/bench_*.sh script
# (scripts that need root or a lab decide for themselves whether they can
# run). Benchmarks are not pass/fail; a benchmark that exits non-zero is
# listed at the end and makes the exit status 1. BENCH=regex limits the run
# to matching names; BENCH_ARGS are passed to the binaries.
set -u
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-.output}
export OUTPUT BIN=${BIN:-build/bin} XLB_ROOT=$PWD
ONLY=${BENCH:-}

failed=()
ran=0

run_one() {
	local name=$1; shift
	local rc
	[ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]] && return 0
	echo "=== $name ($(date -u +%FT%TZ), $(nproc) CPUs)"
	timeout --kill-after=10 "${XLB_BENCH_TIMEOUT:-1800}" "$@"
	rc=$?
	ran=$((ran + 1))
	if [ "$rc" != 0 ]; then
		echo "!!! $name exited $rc"
		failed+=("$name")
	fi
	echo
}

for b in "$OUTPUT"/tests/bench/bench_*; do
	[ -x "$b" ] || continue
	case $b in *.o|*.d) continue ;; esac
	# shellcheck disable=SC2086 # BENCH_ARGS is a list of words
	run_one "$(basename "$b")" "$b" ${BENCH_ARGS:-}
done

for s in tests/bench/bench_*.sh; do
	[ -f "$s" ] || continue
	run_one "$(basename "$s")" bash "$s"
done

echo "$ran benchmarks run, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} = 0 ]
