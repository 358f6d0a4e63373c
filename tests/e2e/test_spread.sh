#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# How xlb spreads new connections, measured with real connections (each a
# new TCP connection from a new source port, answered by the real's nginx):
# - equal weights: 3000 connections over three reals;
# - weights 1:2:3: 3000 connections, shares follow the weights;
# - client affinity (--hash src-ip): all connections of one source address
#   land on one real, and different sources use different reals;
# - two LB hosts behind the client's ECMP route: the same config gives the
#   same choice on both (src-ip mode: one source, connections through both
#   LBs, one real).
#
# Tolerance. With ideal Maglev shares, the counts are multinomial(n, p). The
# test uses Pearson's chi-square against the expected shares, 2 degrees of
# freedom (3 reals), and fails above 27.63, its 1 - 1e-6 quantile: a correct
# balancer fails one run in a million by chance (at the 0.999 quantile,
# 13.82, two such cases per run made one CI run in 500 fail for nothing,
# and one failure blocks a merge). Maglev's own slot imbalance
# (M = 65537, three reals: well under 1% by the unit tests) shifts the
# expected counts by less than 10 of 1000, which moves chi-square by less
# than ~0.3 at n = 3000, so it is negligible against the threshold. A broken
# spread is caught: 40/30/30 instead of 1/3 each gives chi-square = 60,
# weights 1:2:3 ignored (1/3 each) about 670.
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

N=3000
CHI2_MAX=27.63	# chi-square, 2 degrees of freedom, p = 1e-6

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

# spread_check JSON "w1 w2 w3" WHAT
spread_check() {
	local out=$1 w=$2 what=$3 counts x2
	counts=$(count_list "$out" 3)
	x2=$(chi2 "$counts" "$w")
	t_log "$what: counts r1 r2 r3 = $counts (weights $w), chi-square $x2, failed $(jget "$out" 'j["failed"]'), $(jget "$out" 'j["secs"]')s"
	t_eq "$(jget "$out" 'j["ok"]')" $N "answered connections"
	t_le "$x2" $CHI2_MAX "chi-square of the spread against weights $w"
}

test_equal_weights() {
	need
	e2e_vip 198.18.10.1:80/tcp -- $(real_addrs 4)
	spread_check "$(client conns --addr 198.18.10.1 --count $N --deadline 120)" "1 1 1" "equal weights"
}

test_weights_123() {
	need
	e2e_vip 198.18.10.2:80/tcp -- "$LAB_R1_4=1" "$LAB_R2_4=2" "$LAB_R3_4=3"
	spread_check "$(client conns --addr 198.18.10.2 --count $N --deadline 120)" "1 2 3" "weights 1:2:3"
}

test_src_ip_affinity() {
	need
	local i srcs=() args=() out per_src reals_used
	# Sixteen more client addresses on c1 (inside the lab's namespace).
	for ((i = 101; i <= 116; i++)); do
		srcs+=("198.18.0.$i")
		args+=(--src "198.18.0.$i")
		"$LAB" exec c1 ip addr add "198.18.0.$i/22" dev "$XLB_LAB_PREFIX-c1" 2>/dev/null || true
	done
	e2e_vip 198.18.10.3:80/tcp --hash src-ip -- $(real_addrs 4)
	out=$(client conns --addr 198.18.10.3 --count $((16 * 40)) "${args[@]}" --deadline 60)
	t_eq "$(jget "$out" 'j["ok"]')" 640 "answered connections"
	# Reals seen per source address: must be exactly one each.
	per_src=$(jget "$out" '" ".join(str(len(v)) for v in j["by_src"].values())')
	reals_used=$(jget "$out" 'len(j["counts"])')
	t_log "src-ip: 16 sources x 40 connections; reals per source: $per_src; per real: $(counts_of "$out")"
	t_eq "$(tr ' ' '\n' <<<"$per_src" | sort -u | paste -sd' ')" 1 "one real per source address"
	# P(16 sources all on one of 3 reals) = 3 * 3^-16 ~ 7e-8.
	t_ge "$reals_used" 2 "sources spread over reals"
	# The same sources under the default 5-tuple hash use several reals each.
	e2e_vip 198.18.10.4:80/tcp -- $(real_addrs 4)
	out=$(client conns --addr 198.18.10.4 --count 160 --src 198.18.0.101 --deadline 60)
	t_ge "$(jget "$out" 'len(j["counts"])')" 2 "5-tuple hash: one source uses several reals"
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap) (issues 2, 3)"
	t_finish
fi
e2e_lab_up
e2e_xlbd
t_run spread_equal_weights_3000_conns test_equal_weights
t_run spread_weights_1_2_3_3000_conns test_weights_123
t_run client_affinity_src_ip test_src_ip_affinity
t_finish
