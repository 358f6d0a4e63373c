#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Real traffic through xlb in the netns lab, reals on the LB's own L2
# segment (default) or behind the router (XLB_E2E_ROUTED=1, which is how
# test_routed.sh runs this file): TCP (HTTP to nginx) and UDP (socat echo)
# over IPv4 and IPv6 VIPs, each with IPIP and with GUE, and an IPv4 VIP
# carried to the reals over IPv6 (4in6). Every request is a new connection
# (or a datagram from a new socket), so a new flow; every answer names the
# real that served it and comes straight from that real (DSR). Checked:
# every request answered, every real used, and the reals' decap counters
# of the expected encapsulation grew.
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

ROUTED=${XLB_E2E_ROUTED:-0}
N_TCP=300	# P(some real gets none of 300) = 3 * (2/3)^300 ~ 1e-52
N_UDP=300

# check_flow PROTO VIP-ADDR VIP ENCAP REAL-FAMILY
check_flow() {
	local proto=$1 addr=$2 vip=$3 encap=$4 fam=$5 out n field before after i
	local -a reals
	# shellcheck disable=SC2207
	reals=($(real_addrs "$fam"))
	e2e_vip "$vip" --encap "$encap" -- "${reals[@]}"
	field=decap_$encap
	before=0
	for ((i = 1; i <= LAB_REALS; i++)); do before=$((before + $(decap_count r$i "$field"))); done
	if [ "$proto" = tcp ]; then
		n=$N_TCP
		out=$(client conns --addr "$addr" --count $n --deadline 60)
	else
		n=$N_UDP
		out=$(client udp --addr "$addr" --port "$LAB_UDP_PORT" --count $n --deadline 60)
	fi
	t_log "$vip $encap via IPv$fam reals: $(counts_of "$out") failed=$(jget "$out" 'j["failed"]') in $(jget "$out" 'j["secs"]')s"
	t_eq "$(jget "$out" 'j["ok"]')" $n "answered requests"
	for ((i = 1; i <= LAB_REALS; i++)); do
		t_ge "$(jget "$out" 'j["counts"].get("r'$i'", 0)')" 1 "requests served by r$i"
	done
	after=0
	for ((i = 1; i <= LAB_REALS; i++)); do after=$((after + $(decap_count r$i "$field"))); done
	# At least one encapsulated packet per request reached a real.
	t_ge $((after - before)) $n "$field on the reals"
}

setup() {
	local opts=(--v6)
	[ "$ROUTED" = 1 ] && opts+=(--routed)
	e2e_lab_up "${opts[@]}"
	e2e_xlbd
}

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

test_tcp4_ipip() { need; check_flow tcp 198.18.10.1 198.18.10.1:80/tcp ipip 4; }
test_tcp4_gue() { need; check_flow tcp 198.18.10.2 198.18.10.2:80/tcp gue 4; }
test_tcp6_ipip() { need; check_flow tcp 2001:db8:10::1 '[2001:db8:10::1]:80/tcp' ipip 6; }
test_tcp6_gue() { need; check_flow tcp 2001:db8:10::2 '[2001:db8:10::2]:80/tcp' gue 6; }
test_udp4_ipip() { need; check_flow udp 198.18.10.3 198.18.10.3:7/udp ipip 4; }
test_udp4_gue() { need; check_flow udp 198.18.10.4 198.18.10.4:7/udp gue 4; }
test_udp6_ipip() { need; check_flow udp 2001:db8:10::3 '[2001:db8:10::3]:7/udp' ipip 6; }
test_udp6_gue() { need; check_flow udp 2001:db8:10::4 '[2001:db8:10::4]:7/udp' gue 6; }
test_tcp4_in_ipv6() { need; check_flow tcp 198.18.10.1 198.18.10.1:80/tcp ipip 6; }

test_portless_vip() {
	need
	# Port 0: every TCP port of the VIP address goes to the reals.
	e2e_vip 198.18.10.2:0/tcp -- $(real_addrs 4)
	local out
	out=$(client conns --addr 198.18.10.2 --count 60)
	t_eq "$(jget "$out" 'j["ok"]')" 60 "port-less VIP answers on port 80"
}

test_unconfigured_port_dropped() {
	need
	e2e_vip 198.18.10.1:80/tcp -- $(real_addrs 4)
	local out
	# Port 8080 of the VIP address is not configured: dropped by the LB, so
	# the connection times out (nothing answers).
	out=$(client conns --addr 198.18.10.1 --port 8080 --count 2 --timeout 1)
	t_eq "$(jget "$out" 'j["ok"]')" 0 "unconfigured port not served"
}

# The veth facts that scripts/lab.sh works around, observed again: without
# the XDP program on the LB's bridge port, XDP_TX frames are lost; with
# transmit checksum offload (and so TSO) on both at the client and at the
# bridge port that transmits to the LB, a 1 MB upload through the VIP fails. Both are kernel behaviour that may change, so the
# outcomes are logged, not asserted; what is asserted is that the lab's
# setup (restored after each experiment) carries both kinds of traffic.
test_veth_facts() {
	need
	local out up_cmd blob=$LAB_RUN/blob
	e2e_vip 198.18.10.1:80/tcp -- $(real_addrs 4)
	head -c 1000000 /dev/urandom >"$blob"
	up_cmd=(curl -s -m 3 -o /dev/null -w '%{http_code}' --data-binary "@$blob" http://198.18.10.1/)

	"$LAB" exec sw ip link set dev p-lb1 xdpdrv off
	t_defer "'$LAB' exec sw ip link set dev p-lb1 xdpdrv obj '$XLB_ROOT/.output/xdp_pass.bpf.o' sec xdp"
	out=$(client conns --addr 198.18.10.1 --count 3 --timeout 1)
	t_log "no XDP program on p-lb1: $(jget "$out" 'j["ok"]') of 3 connections answered"
	"$LAB" exec sw ip link set dev p-lb1 xdpdrv obj "$XLB_ROOT/.output/xdp_pass.bpf.o" sec xdp
	out=$(client conns --addr 198.18.10.1 --count 30)
	t_eq "$(jget "$out" 'j["ok"]')" 30 "answered with the XDP program back on p-lb1"

	t_defer "'$LAB' exec c1 ethtool -K '$XLB_LAB_PREFIX-c1' tx off"
	t_defer "'$LAB' exec sw ethtool -K p-lb1 tx off"
	"$LAB" exec c1 ethtool -K "$XLB_LAB_PREFIX-c1" tx on >/dev/null
	t_log "tx offload on at the client only: 1 MB upload -> HTTP $("$LAB" exec c1 "${up_cmd[@]}" || true)"
	"$LAB" exec sw ethtool -K p-lb1 tx on >/dev/null
	t_log "tx offload on at the client and p-lb1: 1 MB upload -> HTTP $("$LAB" exec c1 "${up_cmd[@]}" || true)"
	"$LAB" exec c1 ethtool -K "$XLB_LAB_PREFIX-c1" tx off >/dev/null
	t_log "tx offload on at p-lb1 only: 1 MB upload -> HTTP $("$LAB" exec c1 "${up_cmd[@]}" || true)"
	"$LAB" exec sw ethtool -K p-lb1 tx off >/dev/null
	t_eq "$("$LAB" exec c1 "${up_cmd[@]}")" 200 "1 MB upload with offload off (as the lab sets it)"
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap) (issues 2, 3)"
	t_finish
fi
setup
t_run tcp4_ipip test_tcp4_ipip
t_run tcp4_gue test_tcp4_gue
t_run tcp6_ipip test_tcp6_ipip
t_run tcp6_gue test_tcp6_gue
t_run udp4_ipip test_udp4_ipip
t_run udp4_gue test_udp4_gue
t_run udp6_ipip test_udp6_ipip
t_run udp6_gue test_udp6_gue
t_run tcp4_vip_over_ipv6_reals test_tcp4_in_ipv6
t_run portless_vip test_portless_vip
t_run unconfigured_vip_port_dropped test_unconfigured_port_dropped
t_run veth_facts test_veth_facts
t_finish
