#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xlb-decap for real, in network namespaces this file creates: the CLI's
# error handling, attach / re-attach / status / detach with pins, and real
# encapsulated traffic (IPIP and GUE, v4 and v6) sent from an "LB" namespace
# to a "real" namespace whose VIPs are on lo: the echo replies must come
# straight back to the client address, and the counters must say why.
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

# Names under the file's lab prefix (tests/lib/e2e.sh), in the lab's own
# pattern, so that `lab.sh down` with that prefix removes them too: a file
# killed before its trap ran is swept by tests/run.sh like any lab. lb0/r0
# never clash with a lab's nodes (numbered from 1).
NS_LB=$XLB_LAB_PREFIX-dlb
NS_RS=$XLB_LAB_PREFIX-drs
IF_LB=$XLB_LAB_PREFIX-lb0	# interface names are unique per test run: pins are keyed by name
IF_RS=$XLB_LAB_PREFIX-r0
PIN=/sys/fs/bpf/xlb/decap/$IF_RS
SEND=$XLB_ROOT/tests/lib/xlbt_encap_send.py
DECAP=$BIN/xlb-decap

in_rs() { nsenter --net="/run/netns/$NS_RS" "$@"; }
in_lb() { nsenter --net="/run/netns/$NS_LB" "$@"; }
decap() { in_rs "$DECAP" "$@"; }
status_json() { decap status "$IF_RS" -j; }
counter() { jget "$(status_json)" "j[0]['counters']['$1']"; }

teardown() {
	decap detach "$IF_RS" >/dev/null 2>&1 || true
	ip netns del "$NS_LB" 2>/dev/null || true
	ip netns del "$NS_RS" 2>/dev/null || true
	rm -rf "$PIN"
	# xlb-decap made these; removed once nothing else is pinned there.
	rmdir /sys/fs/bpf/xlb/decap /sys/fs/bpf/xlb 2>/dev/null || true
}
t_on_exit teardown

setup() {
	teardown
	ip netns add "$NS_LB"
	ip netns add "$NS_RS"
	ip link add "$IF_LB" netns "$NS_LB" type veth peer name "$IF_RS" netns "$NS_RS"
	ip -n "$NS_LB" addr add 198.18.0.1/24 dev "$IF_LB"
	ip -n "$NS_LB" addr add 198.18.1.1/32 dev "$IF_LB"		# the client lives here too
	ip -n "$NS_LB" addr add 2001:db8::1/64 dev "$IF_LB" nodad
	ip -n "$NS_LB" addr add 2001:db8:1::1/128 dev "$IF_LB" nodad
	ip -n "$NS_RS" addr add 198.18.0.21/24 dev "$IF_RS"
	ip -n "$NS_RS" addr add 2001:db8::21/64 dev "$IF_RS" nodad
	ip -n "$NS_RS" link set lo up
	ip -n "$NS_RS" addr add 198.18.0.10/32 dev lo			# the VIPs
	ip -n "$NS_RS" addr add 2001:db8::10/128 dev lo
	# No DAD: a tentative link-local address would delay the real's first
	# neighbour solicitation (for its IPv6 replies) by a second or more.
	ip netns exec "$NS_LB" sysctl -qw "net.ipv6.conf.$IF_LB.accept_dad=0"
	ip netns exec "$NS_RS" sysctl -qw "net.ipv6.conf.$IF_RS.accept_dad=0"
	ip -n "$NS_LB" link set "$IF_LB" up
	ip -n "$NS_RS" link set "$IF_RS" up
	ip -n "$NS_RS" route add 198.18.1.0/24 via 198.18.0.1
	ip -n "$NS_RS" -6 route add 2001:db8:1::/64 via 2001:db8::1
	# The replies leave by the route above; the requests came in tunnelled.
	ip netns exec "$NS_RS" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		"net.ipv4.conf.$IF_RS.rp_filter=0"
}

send() { # KIND... [--gue-port N]: JSON of which echo requests got a direct reply
	local lbmac rsmac
	lbmac=$(ip -n "$NS_LB" -br link show "$IF_LB" | awk '{print $3}')
	rsmac=$(ip -n "$NS_RS" -br link show "$IF_RS" | awk '{print $3}')
	in_lb timeout 30 python3 "$SEND" "$IF_LB" "$lbmac" "$rsmac" "$@"
}

test_cli_errors() {
	local out rc
	for args in "attach no-such-if0" "attach lo --gue-port 0" "attach lo --gue-port 65536" \
		    "attach lo --gue-port 80x" "attach lo --vip 198.18.0" \
		    "attach lo --vip 198.18.0.10:80/tcp" "attach lo --mode turbo" "attach" \
		    "status no-such-if0" "detach no-such-if0" "frobnicate" "attach lo --bogus"; do
		rc=0
		# shellcheck disable=SC2086
		out=$("$DECAP" $args 2>&1) || rc=$?
		t_eq "$rc" "$([ "$args" = frobnicate ] && echo 2 || echo 1)" "exit status of '$args'"
		t_eq "$(wc -l <<<"$out")" 1 "one-line message for '$args'"
	done
	out=$("$DECAP" attach no-such-if0 2>&1 || true)
	t_match "$out" "unknown interface 'no-such-if0'" "names the interface"
	out=$("$DECAP" attach lo --gue-port 65536 2>&1 || true)
	t_match "$out" "65536.*1-65535" "names the port and the range"
	out=$("$DECAP" attach lo --vip 198.18.0 2>&1 || true)
	t_match "$out" '"198.18.0"' "names the address"
	t_match "$("$DECAP" -h)" "Usage: xlb-decap attach" "help"
}

test_lifecycle() {
	local j id1 id2
	setup
	t_eq "$(jget "$(status_json)" 'j[0]["attached"]')" False "not attached at first"
	decap attach "$IF_RS" >/dev/null
	j=$(status_json)
	t_eq "$(jget "$j" 'j[0]["attached"]')" True "attached"
	t_eq "$(jget "$j" 'j[0]["gue_port"]')" 6080 "default GUE port"
	t_eq "$(jget "$j" 'j[0]["restrict_vips"]')" False "no allow list"
	t_eq "$(jget "$j" 'j[0]["dispatcher"] in (True, False)')" True "dispatcher reported"
	t_ok "pins exist" test -e "$PIN/xlb_dstats" -a -e "$PIN/xlb_decap_vips"
	id1=$(jget "$j" 'j[0]["prog_id"]')
	t_eq "$(ip -n "$NS_RS" link show "$IF_RS" | grep -c "prog/xdp id $id1")" 1 "the kernel agrees"

	# Re-attach with other settings: replaced in place, one program on the interface.
	decap attach "$IF_RS" --gue-port 7000 --vip 198.18.0.10 --vip 2001:db8::10 >/dev/null
	j=$(status_json)
	id2=$(jget "$j" 'j[0]["prog_id"]')
	t_ne "$id2" "$id1" "a new program"
	t_eq "$(jget "$j" 'j[0]["gue_port"]')" 7000 "new GUE port"
	t_eq "$(jget "$j" '",".join(sorted(j[0]["vips"]))')" "198.18.0.10,2001:db8::10" "allow list"
	t_eq "$(ip -n "$NS_RS" link show "$IF_RS" | grep -c "prog/xdp id $id2")" 1 "the kernel agrees"

	# Another mode cannot be swapped in place: detached and attached again.
	decap attach "$IF_RS" --mode generic >/dev/null
	t_eq "$(jget "$(status_json)" 'j[0]["mode"]')" generic "generic mode"
	t_match "$(decap status)" "$IF_RS: xlb-decap attached" "listed by status without IFACE"

	decap detach "$IF_RS" >/dev/null
	t_eq "$(jget "$(status_json)" 'j[0]["attached"]')" False "detached"
	t_ok "pins removed" test ! -e "$PIN"
	t_eq "$(ip -n "$NS_RS" link show "$IF_RS" | grep -c prog/xdp || true)" 0 "no XDP program left"
	t_eq "$(decap detach "$IF_RS" >/dev/null 2>&1; echo $?)" 1 "detach twice fails"
}

test_foreign_program() {
	setup
	[ -e "$XLB_ROOT/.output/xdp_pass.bpf.o" ] || t_skip "xdp_pass.bpf.o not built"
	ip -n "$NS_RS" link set "$IF_RS" xdp obj "$XLB_ROOT/.output/xdp_pass.bpf.o" sec xdp
	t_eq "$(decap attach "$IF_RS" >/dev/null 2>&1; echo $?)" 1 "refuses to replace another program"
	t_match "$(decap attach "$IF_RS" 2>&1 || true)" "detach it first" "says what to do"
	t_match "$(decap status "$IF_RS")" "not attached" "status"
	ip -n "$NS_RS" link set "$IF_RS" xdp off
}

test_traffic() {
	local out
	setup
	decap attach "$IF_RS" >/dev/null
	out=$(send 4in4 6in6 4in6 6in4 gue4in4 gue6in6)
	for k in 4in4 6in6 4in6 6in4 gue4in4 gue6in6; do
		t_eq "$(jget "$out" "j['$k']")" True "$k: reply straight from the real"
	done
	t_eq "$(counter decap_ipip)" 4 "decap_ipip"
	t_eq "$(counter decap_gue)" 2 "decap_gue"
	t_eq "$(counter drop_malformed)" 0 "drop_malformed"

	# GUE on another port: the default one now passes untouched (and gets no reply).
	decap attach "$IF_RS" --gue-port 7000 >/dev/null
	out=$(send gue4in4 --gue-port 7000)
	t_eq "$(jget "$out" "j['gue4in4']")" True "GUE on port 7000"
	out=$(send gue4in4)
	t_eq "$(jget "$out" "j['gue4in4']")" False "GUE on 6080 is not decapsulated"
	t_eq "$(counter decap_gue)" 3 "decap_gue kept across re-attach and counted"
}

test_allow_list() {
	local out before
	setup
	decap attach "$IF_RS" --vip 198.18.0.10 >/dev/null
	out=$(send 4in4 6in6)
	t_eq "$(jget "$out" "j['4in4']")" True "listed VIP decapsulated"
	t_eq "$(jget "$out" "j['6in6']")" False "unlisted VIP dropped"
	t_eq "$(counter drop_not_allowed)" 1 "drop_not_allowed"
}

t_run cli_errors test_cli_errors
t_run lifecycle test_lifecycle
t_run foreign_program test_foreign_program
t_run traffic test_traffic
t_run allow_list test_allow_list
t_finish
