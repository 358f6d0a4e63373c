#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Smoke run of bench_add_real.sh for make check: three rounds in the netns
# lab; passes when every round's first packet reached the new real (the
# timings themselves are not judged). Skips without root or the binaries.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/smoke.sh
out=$(timeout 120 bash tests/bench/bench_add_real.sh --smoke 2>&1)
rc=$?
echo "$out"
grep -q 'skipped$' <<<"$out" && result 0 0 1
n=$(grep -cE '^XLB-BENCH add_real round=[0-9]+ after_return_ms=-?[0-9.]+ ' <<<"$out")
if [ "$rc" = 0 ] && [ "$n" = 3 ]; then
	echo "ok - bench_add_real --smoke: 3 of 3 rounds reached the new real"
	result 1 0 0
fi
echo "not ok - bench_add_real --smoke: exit $rc, $n of 3 rounds timed"
result 0 1 0
