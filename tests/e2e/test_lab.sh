#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The lab itself (scripts/lab.sh), before any balancing: it comes up and goes
# down cleanly, again and again, touches nothing of the host, keeps labs of
# different prefixes apart, and its reals really serve HTTP and UDP (v4, v6,
# on the LBs' segment and behind the router) when reached directly.
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file
# The first two cases call `lab up` themselves: down at exit on every path.
t_on_exit "'$LAB' down"

host_snapshot() {
	{ ip -br link | awk '{print $1}'; ip -br addr; ip route; ip -6 route; } | sort
}

own_ns_count() { ip netns list | awk '{print $1}' | grep -c "^$XLB_LAB_PREFIX-" || true; }

test_up_down() {
	local before after
	before=$(host_snapshot)
	QUIET=1 "$LAB" up --v6 --lbs 2 --clients 2 --reals 3
	# c1 c2 lb1 lb2 r1 r2 r3 sw
	t_eq "$(own_ns_count)" 8 "namespaces after up"
	QUIET=1 "$LAB" up --reals 2	# up again: rebuilt, not doubled
	t_eq "$(own_ns_count)" 5 "namespaces after a second up (c1 lb1 r1 r2 sw)"
	QUIET=1 "$LAB" down
	t_eq "$(own_ns_count)" 0 "namespaces after down"
	QUIET=1 "$LAB" down		# down twice is fine
	t_eq "$(ls /run/xlb-lab/"$XLB_LAB_PREFIX" 2>/dev/null | wc -l)" 0 "run files after down"
	after=$(host_snapshot)
	t_eq "$after" "$before" "host links, addresses and routes unchanged"
	t_eq "$(ip -br link | grep -c "$XLB_LAB_PREFIX-\|^p-" || true)" 0 "no lab link in the host namespace"
}

test_prefixes_apart() {
	local other=${XLB_LAB_PREFIX}b
	t_on_exit "XLB_LAB_PREFIX=$other '$LAB' down"
	QUIET=1 "$LAB" up --reals 1
	XLB_LAB_PREFIX=$other QUIET=1 "$LAB" up --reals 1
	XLB_LAB_PREFIX=$other QUIET=1 "$LAB" down
	t_eq "$(own_ns_count)" 4 "our lab intact after the other's down"
	t_eq "$(ip netns list | grep -c "^$other-" || true)" 0 "the other lab is gone"
	t_eq "$("$LAB" exec c1 curl -s -m 2 http://198.18.2.1/)" r1 "our real still answers"
	QUIET=1 "$LAB" down
}

# shellcheck disable=SC2154 # a4/a6 are set through eval
test_onlink_services() {
	local out
	e2e_lab_up --v6
	for r in 1 2 3; do
		eval "a4=\$LAB_R${r}_4; a6=\$LAB_R${r}_6"
		out=$(client conns --addr "$a4" --count 50)
		t_eq "$(jget "$out" 'j["counts"].get("r'$r'", 0)')" 50 "HTTP v4 to r$r"
		out=$(client conns --addr "$a6" --count 50)
		t_eq "$(jget "$out" 'j["counts"].get("r'$r'", 0)')" 50 "HTTP v6 to r$r"
		out=$(client udp --addr "$a4" --count 20)
		t_eq "$(jget "$out" 'j["counts"].get("r'$r'", 0)')" 20 "UDP echo v4 to r$r"
		out=$(client udp --addr "$a6" --count 20)
		t_eq "$(jget "$out" 'j["counts"].get("r'$r'", 0)')" 20 "UDP echo v6 to r$r"
	done
	# Each real serves the VIPs on lo, answering from the VIP itself.
	t_eq "$("$LAB" exec r2 curl -s -m 2 "http://$LAB_VIP4/")" r2 "r2 serves the VIP locally"
	t_eq "$("$LAB" exec r3 curl -s -m 2 "http://[$LAB_VIP6]/")" r3 "r3 serves the v6 VIP locally"
	out=$(echo hi | "$LAB" exec r1 timeout 3 socat -T1 - "UDP4:$LAB_VIP4:$LAB_UDP_PORT")
	t_eq "$out" "r1 hi" "UDP echo on the VIP"
	# Without a balancer the client's VIP route leads nowhere: the LB does
	# not forward (no accidental path around xlb).
	t_eq "$("$LAB" exec c1 curl -s -m 1 "http://$LAB_VIP4/" || echo none)" none "VIP unreachable without xlbd"
}

test_routed_services() {
	local out
	e2e_lab_up --v6 --routed
	t_eq "$LAB_R1_4" 198.19.2.1 "routed reals are on segment B"
	out=$(client conns --addr "$LAB_R2_4" --count 50)
	t_eq "$(jget "$out" 'j["ok"]')" 50 "HTTP v4 through the router"
	out=$(client udp --addr "$LAB_R3_6" --count 20)
	t_eq "$(jget "$out" 'j["counts"].get("r3", 0)')" 20 "UDP v6 through the router"
	# The LB reaches the reals through the router (next hop = router MAC).
	t_match "$("$LAB" exec lb1 ip route get "$LAB_R1_4")" "via 198.18.3.1" "LB's route to a routed real"
}

test_veth_setup() {
	local port
	e2e_lab_up --lbs 2
	for port in p-lb1 p-lb2; do
		t_match "$("$LAB" exec sw ip -o link show "$port")" "prog/xdp" "XDP program on bridge port $port"
	done
	t_match "$("$LAB" exec lb1 ethtool -k "$LAB_LB1_IF" | grep '^tx-checksumming')" ": off" \
		"tx checksum offload off on the LB"
	t_match "$("$LAB" exec c1 ethtool -k "$XLB_LAB_PREFIX-c1" | grep '^tx-checksumming')" ": off" \
		"tx checksum offload off on the client"
	t_match "$("$LAB" exec sw ethtool -k p-r1 | grep '^tx-checksumming')" ": off" \
		"tx checksum offload off on a bridge port"
	if [ -x "$BIN/xlb-decap" ]; then
		t_match "$("$LAB" exec r1 ip -o link show "$LAB_R1_IF")" "prog/xdp" "xlb-decap on r1"
		t_match "$("$LAB" exec r1 "$BIN/xlb-decap" status "$LAB_R1_IF")" "attached" "xlb-decap status"
	fi
}

t_run up_down_leaves_host_untouched test_up_down
t_run prefixes_kept_apart test_prefixes_apart
t_run onlink_reals_serve_http_udp_v4_v6 test_onlink_services
QUIET=1 "$LAB" down
t_run routed_reals_serve_via_router test_routed_services
QUIET=1 "$LAB" down
t_run veth_xdp_and_offload_setup test_veth_setup
t_finish
