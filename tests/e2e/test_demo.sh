#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo` works: scripts/demo.sh (under this file's own lab prefix, with
# a smaller burst) brings the lab up, configures the VIP, answers every
# request, prints a spread over the three reals and the stats, and leaves
# no namespace behind.
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

test_demo() {
	e2e_need_bins xlbd xlbctl xlb-decap
	local out
	t_defer "'$LAB' down"
	out=$(REQUESTS=150 timeout 300 "$XLB_ROOT/scripts/demo.sh" 2>&1) || {
		printf '%s\n' "$out" | tail -30
		t_fail "demo.sh failed"
	}
	printf '%s\n' "$out" | sed -n '/HTTP requests/,/xlbctl stats/p' | sed 's/^/#   /'
	t_match "$out" "answered: 150 of 150" "every request answered"
	for r in r1 r2 r3; do
		t_match "$out" "  $r +[0-9]+" "spread line for $r"
	done
	t_eq "$(ip netns list | grep -c "^$XLB_LAB_PREFIX-" || true)" 0 "lab torn down"
}

t_run demo_prints_a_spread test_demo
t_finish
