#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Smoke run of the Maglev benchmark for make check: bench_maglev --quick
# (two small configurations, a few milliseconds) must exit 0, report that its
# tables equal the textbook loop's, and print positive timings for both
# implementations. Passes only when it actually produced numbers.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/smoke.sh
bin=$OUTPUT/tests/bench/bench_maglev

need_bin "$bin"
out=$(timeout 5 "$bin" --quick 2>&1)
rc=$?
echo "$out"
lines=$(grep -cE '^XLB-BENCH maglev .* xlb_ms=[0-9.]+ baseline_ms=[0-9.]+ ' <<<"$out")
zero=$(grep -E '^XLB-BENCH maglev ' <<<"$out" | grep -cE '(xlb|baseline)_ms=0\.0000( |$)')
if [ "$rc" = 0 ] && [ "$lines" -ge 2 ] && [ "$zero" = 0 ] &&
   grep -q '^tables identical to the baseline: yes$' <<<"$out"; then
	echo "ok - bench_maglev --quick produced $lines timed configurations"
	result 1 0
fi
echo "not ok - bench_maglev --quick: exit $rc, $lines timed lines, $zero zero timings"
result 0 1
