#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Two LB hosts behind the client's ECMP route (multipath route, L4 hash):
# both xlbd get the same config and, with no shared state, must make the
# same choice. With --hash src-ip every connection of one source address
# lands on one real although its connections are spread over both LBs by
# the client's ECMP hash (40 connections per source: P(all through one LB)
# = 2^-39). With the default 5-tuple hash, every connection is answered
# (a connection's packets all take one LB) and both LBs carry traffic.
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

rx_packets() { # LB-number
	local ifname
	eval "ifname=\$LAB_LB${1}_IF"
	"$LAB" exec "lb$1" ip -j -s link show "$ifname" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

# both_vip VIP [opts]: the same VIP and reals on both LBs.
both_vip() {
	local vip=$1 lb r
	shift
	for lb in 1 2; do
		ctl --lb $lb add-vip "$vip" "$@" >/dev/null
		t_defer "'$LAB' ctl --lb $lb del-vip '$vip'"
		for r in $(real_addrs 4); do ctl --lb $lb add-real "$vip" "$r" >/dev/null; done
	done
}

test_src_ip_same_choice() {
	need
	local i args=() out a1 a2 b1 b2 per_src
	for ((i = 101; i <= 108; i++)); do
		args+=(--src "198.18.0.$i")
		"$LAB" exec c1 ip addr add "198.18.0.$i/22" dev "$XLB_LAB_PREFIX-c1" 2>/dev/null || true
	done
	both_vip 198.18.10.1:80/tcp --hash src-ip
	a1=$(rx_packets 1) a2=$(rx_packets 2)
	out=$(client conns --addr 198.18.10.1 --count 320 "${args[@]}" --deadline 60)
	b1=$(rx_packets 1) b2=$(rx_packets 2)
	per_src=$(jget "$out" '" ".join(str(len(v)) for v in j["by_src"].values())')
	t_log "8 sources x 40 connections over 2 LBs: packets lb1 $((b1 - a1)), lb2 $((b2 - a2)); reals per source: $per_src; per real: $(counts_of "$out")"
	t_eq "$(jget "$out" 'j["ok"]')" 320 "answered connections"
	t_eq "$(tr ' ' '\n' <<<"$per_src" | sort -u | paste -sd' ')" 1 "one real per source across both LBs"
	t_ge $((b1 - a1)) 100 "packets through lb1"
	t_ge $((b2 - a2)) 100 "packets through lb2"
}

test_5tuple_both_lbs() {
	need
	local out a1 a2 b1 b2
	both_vip 198.18.10.2:80/tcp
	a1=$(rx_packets 1) a2=$(rx_packets 2)
	out=$(client conns --addr 198.18.10.2 --count 600 --deadline 60)
	b1=$(rx_packets 1) b2=$(rx_packets 2)
	t_log "600 connections: packets lb1 $((b1 - a1)), lb2 $((b2 - a2)); per real: $(counts_of "$out")"
	t_eq "$(jget "$out" 'j["ok"]')" 600 "answered connections"
	# Each connection is ~5 packets; ECMP gives each LB about half.
	t_ge $((b1 - a1)) 600 "packets through lb1"
	t_ge $((b2 - a2)) 600 "packets through lb2"
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap) (issues 2, 3)"
	t_finish
fi
e2e_lab_up --lbs 2
e2e_xlbd --lb 1
e2e_xlbd --lb 2
t_run ecmp_src_ip_same_real_via_both_lbs test_src_ip_same_choice
t_run ecmp_5tuple_uses_both_lbs test_5tuple_both_lbs
t_finish
