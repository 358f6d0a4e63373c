#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Smoke run of the metrics benchmark for make check: bench_metrics --quick
# (512 VIPs x 100 reals on full-size per-CPU maps, a full flow table, 3 runs)
# must exit 0 and print its three figure lines with non-zero timings. Passes
# only when it produced figures, and fails when a scrape of 512 x 100 (the
# faster of batch and per-key, as AUTO picks) takes 100 ms or more: the
# issue's budget. Needs root for bpf_map_create; skipped without.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/smoke.sh
bin=$OUTPUT/tests/bench/bench_metrics
BUDGET_MS=100

need_bin "$bin"
need_root "bench_metrics needs root (bpf_map_create)"
out=$(timeout 120 "$bin" --quick 2>&1)
rc=$?
echo "$out"
reads=$(grep -E '^XLB-BENCH metrics-reads rows=51200 batch_ms=[0-9.]+ per_key_ms=[0-9.]+ ' <<<"$out")
scrape=$(grep -E '^XLB-BENCH metrics-scrape vips=512 reals=51200 bytes=[0-9]+ batch_ms=[0-9.]+ per_key_ms=[0-9.]+ auto_ms=[0-9.]+ ' <<<"$out")
flows=$(grep -E '^XLB-BENCH metrics-flows entries=[0-9]+ batch_ms=[0-9.]+ ' <<<"$out")
zero=$(grep -E '^XLB-BENCH metrics-(reads|scrape)' <<<"$out" | grep -cE '_ms=0\.000( |$)')
if [ "$rc" != 0 ] || [ -z "$reads" ] || [ -z "$scrape" ] || [ -z "$flows" ] || [ "$zero" != 0 ]; then
	echo "not ok - bench_metrics --quick: exit $rc, figures missing or zero"
	result 0 1 0
fi
auto_ms=$(sed -E 's/.* auto_ms=([0-9.]+).*/\1/' <<<"$scrape")
if awk -v t="$auto_ms" -v b="$BUDGET_MS" 'BEGIN { exit !(t < b) }'; then
	echo "ok - scrape of 512 VIPs x 100 reals: $auto_ms ms (budget $BUDGET_MS ms)"
	result 1 0 0
fi
echo "not ok - scrape of 512 VIPs x 100 reals took $auto_ms ms, budget $BUDGET_MS ms"
result 0 1 0
