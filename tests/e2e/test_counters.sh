#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `xlbctl stats -j` agrees with the traffic the test sent, read as deltas
# around each burst:
# - UDP: N datagrams, each from a new socket. VIP packets = N; bytes = the
#   frames as received (payload + UDP + IP + Ethernet headers); new flows =
#   the distinct source ports the client used (a port the kernel handed out
#   twice is the same 5-tuple, an LRU hit); each real's packets = the answers
#   the client got from it; global tx and encap_ipip/encap_gue grow by N.
# - TCP: M connections. VIP packets and bytes = what the client's interface
#   transmitted (ARP/ND aside: at most a few frames, which never reach the
#   VIP counters); new flows = M (every SYN); per-real packets add up to the
#   VIP's. Direct server return: the LB's interface received no more than
#   the client sent, while the client received every reply.
# - Drops: datagrams to an unconfigured port of a VIP address count in
#   drop_no_vip_port, one each.
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

stats() { ctl -j stats; }

# vstat JSON VIP FIELD: a VIP's counter; rstat JSON VIP REAL FIELD; gstat JSON NAME.
vstat() { jget "$1" 'sum(v["'"$3"'"] for v in j["vips"] if v["vip"] == "'"$2"'")'; }
rstat() { jget "$1" 'sum(r["'"$4"'"] for v in j["vips"] if v["vip"] == "'"$2"'" for r in v["reals"] if r["address"] == "'"$3"'")'; }
gstat() { jget "$1" 'j["global"]["'"$2"'"]'; }

# link_stat NODE IFNAME rx|tx packets|bytes: an interface counter.
link_stat() {
	"$LAB" exec "$1" ip -j -s link show "$2" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["'"$3"'"]["'"$4"'"])'
}
tx_of_client() { link_stat c1 "$XLB_LAB_PREFIX-c1" tx "$1"; }

# quiet: waits (at most 3 s) until the client has sent nothing for 0.3 s:
# the kernel still sends the last ACKs of closed connections after the
# client program has exited; counters read in the middle of those disagree.
quiet() {
	local i a b
	b=$(tx_of_client packets)
	for ((i = 0; i < 10; i++)); do
		sleep 0.3
		a=$(tx_of_client packets)
		[ "$a" = "$b" ] && return 0
		b=$a
	done
	t_warn "client still sending after 3 s"
}

# udp_counters VIP-ADDR VIP ENCAP HEADER-BYTES FAMILY
udp_counters() {
	local addr=$1 vip=$2 encap=$3 hdr=$4 fam=$5 n=400 b a out i real
	e2e_vip "$vip" --encap "$encap" -- $(real_addrs "$fam")
	b=$(stats)
	out=$(client udp --addr "$addr" --port "$LAB_UDP_PORT" --count $n)
	a=$(stats)
	t_eq "$(jget "$out" 'j["ok"]')" $n "datagrams answered"
	d() { echo $(($(vstat "$a" "$vip" "$1") - $(vstat "$b" "$vip" "$1"))); }
	t_log "$vip: sent $n datagrams ($(jget "$out" 'j["bytes_sent"]') payload bytes, $(jget "$out" 'j["sports"]') source ports): packets $(d packets), bytes $(d bytes), new_flows $(d new_flows), drops $(d drops); client saw $(counts_of "$out")"
	t_eq "$(d packets)" $n "VIP packets"
	t_eq "$(d bytes)" $(($(jget "$out" 'j["bytes_sent"]') + n * hdr)) "VIP bytes (frames as received)"
	t_eq "$(d new_flows)" "$(jget "$out" 'j["sports"]')" "VIP new flows (distinct 5-tuples)"
	t_eq "$(d drops)" 0 "VIP drops"
	for ((i = 1; i <= LAB_REALS; i++)); do
		eval "real=\$LAB_R${i}_$fam"
		t_eq "$(($(rstat "$a" "$vip" "$real" packets) - $(rstat "$b" "$vip" "$real" packets)))" \
			"$(jget "$out" 'j["counts"].get("r'$i'", 0)')" "packets to r$i = answers from r$i"
	done
	t_eq "$(($(gstat "$a" tx) - $(gstat "$b" tx)))" $n "global tx"
	t_eq "$(($(gstat "$a" encap_$encap) - $(gstat "$b" encap_$encap)))" $n "global encap_$encap"
}

test_udp4_counters() { need; udp_counters 198.18.10.3 198.18.10.3:7/udp ipip 42 4; }
test_udp6_counters() { need; udp_counters 2001:db8:10::3 '[2001:db8:10::3]:7/udp' gue 62 6; }

test_tcp_counters() {
	need
	local vip=198.18.10.1:80/tcp m=300 b a out tp0 tp1 tb0 tb1 dp db sum i lr0 lr1 cr0 cr1
	e2e_vip "$vip" -- $(real_addrs 4)
	b=$(stats); tp0=$(tx_of_client packets); tb0=$(tx_of_client bytes)
	lr0=$(link_stat lb1 "$LAB_LB1_IF" rx packets); cr0=$(link_stat c1 "$XLB_LAB_PREFIX-c1" rx packets)
	out=$(client conns --addr 198.18.10.1 --count $m)
	quiet
	a=$(stats); tp1=$(tx_of_client packets); tb1=$(tx_of_client bytes)
	lr1=$(link_stat lb1 "$LAB_LB1_IF" rx packets); cr1=$(link_stat c1 "$XLB_LAB_PREFIX-c1" rx packets)
	dp=$(($(vstat "$a" "$vip" packets) - $(vstat "$b" "$vip" packets)))
	db=$(($(vstat "$a" "$vip" bytes) - $(vstat "$b" "$vip" bytes)))
	sum=0
	for ((i = 1; i <= LAB_REALS; i++)); do
		eval "real=\$LAB_R${i}_4"
		# shellcheck disable=SC2154
		sum=$((sum + $(rstat "$a" "$vip" "$real" packets) - $(rstat "$b" "$vip" "$real" packets)))
	done
	t_log "$m connections: client sent $((tp1 - tp0)) packets / $((tb1 - tb0)) bytes; VIP counted $dp packets / $db bytes, new_flows $(($(vstat "$a" "$vip" new_flows) - $(vstat "$b" "$vip" new_flows))), reals' packets sum $sum"
	t_eq "$(jget "$out" 'j["ok"]')" $m "connections answered"
	t_le "$dp" $((tp1 - tp0)) "VIP packets <= client's transmitted packets"
	t_ge "$dp" $((tp1 - tp0 - 4)) "VIP packets >= client's transmitted packets - 4 (ARP/ND)"
	t_le "$db" $((tb1 - tb0)) "VIP bytes <= client's transmitted bytes"
	t_ge "$db" $((tb1 - tb0 - 4 * 90)) "VIP bytes >= client's transmitted bytes - 4 ARP/ND frames"
	t_eq "$(($(vstat "$a" "$vip" new_flows) - $(vstat "$b" "$vip" new_flows)))" $m "VIP new flows (SYNs)"
	t_eq "$sum" "$dp" "per-real packets add up to the VIP's"
	# Direct server return: the client received the replies, the LB saw
	# only the client's packets (ARP/ND aside), none of the replies.
	t_log "DSR: client received $((cr1 - cr0)) packets, LB received $((lr1 - lr0)) (client sent $((tp1 - tp0)))"
	t_ge $((cr1 - cr0)) $((2 * m)) "replies received by the client"
	t_le $((lr1 - lr0)) $((tp1 - tp0 + 4)) "LB received no more than the client sent (+4 ARP/ND)"
}

test_drop_counters() {
	need
	local b a out
	e2e_vip 198.18.10.4:7/udp -- $(real_addrs 4)
	b=$(stats)
	# Port 9 of the VIP address is not configured: dropped, nobody answers.
	out=$(client udp --addr 198.18.10.4 --port 9 --count 20 --timeout 0.2)
	a=$(stats)
	t_eq "$(jget "$out" 'j["ok"]')" 0 "no answer from an unconfigured port"
	t_eq "$(($(gstat "$a" drop_no_vip_port) - $(gstat "$b" drop_no_vip_port)))" 20 "drop_no_vip_port"
	t_eq "$(($(gstat "$a" tx) - $(gstat "$b" tx)))" 0 "nothing forwarded"
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap) (issues 2, 3)"
	t_finish
fi
e2e_lab_up --v6
e2e_xlbd
t_run udp4_counters_match_traffic test_udp4_counters
t_run udp6_gue_counters_match_traffic test_udp6_counters
t_run tcp_counters_match_client_interface test_tcp_counters
t_run drop_counters test_drop_counters
t_finish
