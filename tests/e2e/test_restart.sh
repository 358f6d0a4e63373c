#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Restarting xlbd does not stop forwarding. While the client sends a steady
# stream of HTTP requests (one new TCP connection each, every 10 ms) and
# keeps long-lived connections busy, xlbd is killed with SIGKILL, and a new
# xlbd is started a second later. Not one request may fail; the new xlbd
# must adopt the attached program and the pinned maps (same VIP, same reals,
# counters continue) and accept changes again.
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

vip_packets() { ctl -j stats | python3 -c 'import json,sys; print(sum(v["packets"] for v in json.load(sys.stdin)["vips"]))'; }

prog_id() { "$LAB" exec lb1 ip -o link show "$LAB_LB1_IF" | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}'; }

test_sigkill_restart() {
	need
	local out held id_before id_after list after pk_before pk_after
	e2e_vip 198.18.10.1:80/tcp -- $(real_addrs 4)
	# Bounded: at most 1000 requests, 8 s; 20 held connections for 8 s.
	load_start 198.18.10.1 1000 8 20
	id_before=$(prog_id)
	sleep 2
	pk_before=$(vip_packets)
	QUIET=1 "$LAB" xlbd-kill KILL
	t_log "xlbd killed (SIGKILL) at ~2 s; XDP program id $id_before still attached: $(prog_id)"
	sleep 1
	e2e_xlbd
	id_after=$(prog_id)
	pk_after=$(vip_packets)
	load_wait
	out=$LOAD_STREAM held=$LOAD_HELD
	t_log "stream: sent $(jget "$out" 'j["sent"]'), ok $(jget "$out" 'j["ok"]'), failed $(jget "$out" 'j["failed"]') $(jget "$out" 'j["errors"]'), per real $(counts_of "$out")"
	t_log "held: $(jget "$held" 'j["survived"]') of $(jget "$held" 'j["opened"]') survived, $(jget "$held" 'j["requests"]') requests, $(jget "$held" 'sum(c["changed"] for c in j["conns"])') answers from another real; program id before $id_before after $id_after; VIP packets before the kill $pk_before, right after the restart $pk_after"
	t_ge "$(jget "$out" 'j["sent"]')" 500 "requests sent during the restart"
	t_eq "$(jget "$out" 'j["failed"]')" 0 "requests failed across the restart"
	t_eq "$(jget "$held" 'j["broken"]')" 0 "long-lived connections broken"
	t_eq "$(jget "$held" 'j["opened"]')" 20 "long-lived connections opened"
	t_eq "$(jget "$held" 'sum(c["changed"] for c in j["conns"])')" 0 "held connections moved to another real"
	# Adopted, not rebuilt: the counters in the pinned maps carried on.
	t_ge "$pk_after" "$pk_before" "VIP packet counter after the restart >= before the kill"
	# Adopted: the new daemon knows the VIP and its reals.
	list=$(ctl list)
	t_match "$list" "198.18.10.1" "VIP in the new daemon's list"
	t_match "$list" "$LAB_R3_4" "reals in the new daemon's list"
	# ...and can change them: drain r3, new connections avoid it.
	ctl set-weight 198.18.10.1:80/tcp "$LAB_R3_4" 0 >/dev/null
	after=$(client conns --addr 198.18.10.1 --count 200)
	t_log "after drain of r3 by the new daemon: $(counts_of "$after")"
	t_eq "$(jget "$after" 'j["ok"]')" 200 "answered after the restart"
	t_eq "$(jget "$after" 'j["counts"].get("r3", 0)')" 0 "drained real unused"
}

test_sigterm_restart() {
	need
	local out
	e2e_vip 198.18.10.2:80/tcp -- $(real_addrs 4)
	QUIET=1 "$LAB" xlbd-kill TERM
	# SIGTERM stops the daemon but, like SIGKILL, leaves forwarding in place.
	out=$(client conns --addr 198.18.10.2 --count 100)
	t_eq "$(jget "$out" 'j["ok"]')" 100 "answered while no xlbd runs"
	e2e_xlbd
	t_match "$(ctl list)" "198.18.10.2" "VIP restored from the state file"
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap) (issues 2, 3)"
	t_finish
fi
e2e_lab_up
e2e_xlbd
t_run sigkill_restart_loses_no_request test_sigkill_restart
t_run sigterm_leaves_forwarding test_sigterm_restart
t_finish
