#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Smoke run of the health-engine benchmark for make check: bench_health with
# 200 targets (50 as baseline) at a 500 ms interval, 2 s measured each, in
# its own network namespace (it creates it itself and it dies with it). It
# must exit 0, print its XLB-BENCH line with every probe answered and a
# positive CPU figure. Passes only when it actually produced figures; skipped
# without root (it needs unshare(CLONE_NEWNET)).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/smoke.sh
bin=$OUTPUT/tests/bench/bench_health

need_bin "$bin"
need_root "bench_health needs root for its network namespace"
out=$(timeout 30 "$bin" -n 200 -b 50 -d 2 -i 500 2>&1)
rc=$?
echo "$out"
line=$(grep -E '^XLB-BENCH health ' <<<"$out" | tail -1)
field() { sed -nE "s/.* $1=([0-9.]+).*/\1/p" <<<"$line"; }
probes=$(field probes)
failed=$(field failed)
cpu=$(field cpu_pct)
if [ "$rc" = 0 ] && [ -n "$line" ] && [ "${probes:-0}" -ge 600 ] && [ "$failed" = 0 ] &&
   awk -v c="${cpu:-0}" 'BEGIN { exit !(c > 0) }'; then
	echo "ok - bench_health: $probes probes of 200 targets, cpu $cpu%"
	result 1 0 0
fi
echo "not ok - bench_health: exit $rc, probes=${probes:-none} failed=${failed:-none} cpu=${cpu:-none}"
result 0 1 0
