#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Smoke run of bench_add_real.sh for make check: three rounds in the netns
# lab; passes when every round's first packet reached the new real (the
# timings themselves are not judged). Skips without root or the binaries.
set -u
cd "$(dirname "$0")/../.."
out=$(timeout 120 bash tests/bench/bench_add_real.sh --smoke 2>&1)
rc=$?
echo "$out"
if grep -q 'skipped$' <<<"$out"; then
	echo "XLBT-RESULT passed=0 failed=0 skipped=1"
	exit 0
fi
n=$(grep -cE '^XLB-BENCH add_real round=[0-9]+ after_return_ms=-?[0-9.]+ ' <<<"$out")
if [ "$rc" = 0 ] && [ "$n" = 3 ]; then
	echo "ok - bench_add_real --smoke: 3 of 3 rounds reached the new real"
	echo "XLBT-RESULT passed=1 failed=0 skipped=0"
else
	echo "not ok - bench_add_real --smoke: exit $rc, $n of 3 rounds timed"
	echo "XLBT-RESULT passed=0 failed=1 skipped=0"
fi
exit 0
