#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Established connections stay on their real while the VIP changes, and
# draining stops new connections only. The long-lived connections are
# HTTP/1.1 keep-alive connections to the reals' nginx, each asking every
# 50 ms and checking that the same real answers every time
# (tests/lib/xlbt_client.py hold).
# - stickiness: add a real, remove another, change weights; no connection
#   whose real stays in the VIP may break or move;
# - drain (set-weight 0): no new connection reaches the drained real, and
#   its open connections keep being served.
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

CONNS=30	# P(none of 30 on a given real of 3) = (2/3)^30 ~ 5e-6

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

# hold_start VIP-ADDR SECONDS: long-lived connections in the background;
# sets HOLD_PID, HOLD_OUT, HOLD_STOP, HOLD_READY.
hold_start() {
	HOLD_OUT=$LAB_RUN/hold.$RANDOM.json
	HOLD_STOP=$HOLD_OUT.stop
	HOLD_READY=$HOLD_OUT.ready
	client hold --addr "$1" --conns $CONNS --duration "$2" --interval 0.05 \
		--stop-file "$HOLD_STOP" --ready-file "$HOLD_READY" >"$HOLD_OUT" &
	HOLD_PID=$!
	t_defer "touch '$HOLD_STOP'; kill $HOLD_PID"
	t_wait_for 10 test -s "$HOLD_READY" || t_fail "long-lived connections not opened"
}

hold_stop() {
	touch "$HOLD_STOP"
	local i
	for ((i = 0; i < 50; i++)); do kill -0 "$HOLD_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$HOLD_PID" || true
}

test_sticky() {
	need
	local out new n_r3 moved broken_kept survived
	e2e_vip 198.18.10.1:80/tcp -- $(real_addrs 4 3)
	hold_start 198.18.10.1 60
	t_log "held: $(python3 -c 'import json,sys,collections; print(dict(collections.Counter(json.load(open(sys.argv[1])).values())))' "$HOLD_READY")"
	sleep 0.5
	ctl add-real 198.18.10.1:80/tcp "$LAB_R4_4" >/dev/null
	sleep 0.5
	ctl set-weight 198.18.10.1:80/tcp "$LAB_R1_4" 3 >/dev/null
	sleep 0.5
	ctl del-real 198.18.10.1:80/tcp "$LAB_R3_4" >/dev/null
	sleep 0.5
	# New connections see the new table: r4 in, r3 out.
	new=$(client conns --addr 198.18.10.1 --count 300)
	hold_stop
	out=$(cat "$HOLD_OUT")
	n_r3=$(jget "$out" 'sum(1 for c in j["conns"] if c["real"] == "r3")')
	broken_kept=$(jget "$out" 'sum(1 for c in j["conns"] if c["real"] != "r3" and c["error"])')
	moved=$(jget "$out" 'sum(c["changed"] for c in j["conns"])')
	survived=$(jget "$out" 'sum(1 for c in j["conns"] if c["real"] != "r3" and not c["error"])')
	t_log "long-lived: opened $(jget "$out" 'j["opened"]'), requests $(jget "$out" 'j["requests"]'), on r3 (removed) $n_r3 (still working: $(jget "$out" 'sum(1 for c in j["conns"] if c["real"] == "r3" and not c["error"])')), others survived $survived, broken $broken_kept, answers from another real $moved"
	t_log "errors: $(jget "$out" '[c["error"] for c in j["conns"] if c["error"]]')"
	t_log "new connections after the changes: $(counts_of "$new")"
	t_eq "$(jget "$out" 'j["opened"]')" $CONNS "long-lived connections opened"
	t_eq "$broken_kept" 0 "connections broken whose real stayed"
	t_eq "$moved" 0 "answers from another real than the first"
	t_eq "$survived" $((CONNS - n_r3)) "connections survived whose real stayed"
	t_eq "$(jget "$new" 'j["ok"]')" 300 "new connections answered"
	t_eq "$(jget "$new" 'j["counts"].get("r3", 0)')" 0 "new connections to the removed real"
	t_ge "$(jget "$new" 'j["counts"].get("r4", 0)')" 1 "new connections to the added real"
}

test_drain() {
	need
	local out new
	e2e_vip 198.18.10.2:80/tcp -- $(real_addrs 4 3)
	hold_start 198.18.10.2 60
	sleep 0.5
	ctl set-weight 198.18.10.2:80/tcp "$LAB_R1_4" 0 >/dev/null
	sleep 0.5
	new=$(client conns --addr 198.18.10.2 --count 300)
	sleep 1		# the held connections keep asking meanwhile
	hold_stop
	out=$(cat "$HOLD_OUT")
	t_log "drain r1: new connections $(counts_of "$new"); long-lived on r1: $(jget "$out" 'sum(1 for c in j["conns"] if c["real"] == "r1")'), their requests $(jget "$out" 'sum(c["ok"] for c in j["conns"] if c["real"] == "r1")'), broken $(jget "$out" 'j["broken"]')"
	t_eq "$(jget "$new" 'j["ok"]')" 300 "new connections answered"
	t_eq "$(jget "$new" 'j["counts"].get("r1", 0)')" 0 "new connections to the drained real"
	t_ge "$(jget "$out" 'sum(1 for c in j["conns"] if c["real"] == "r1")')" 1 "long-lived connections on r1"
	t_eq "$(jget "$out" 'j["broken"]')" 0 "long-lived connections broken"
	t_eq "$(jget "$out" 'sum(c["changed"] for c in j["conns"])')" 0 "answers from another real"
	# Each held connection on r1 kept being served after the drain (about
	# 20 requests a second for ~2.5 s).
	t_ge "$(jget "$out" 'min([c["ok"] for c in j["conns"] if c["real"] == "r1"] or [0])')" 20 \
		"requests per drained connection"
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap) (issues 2, 3)"
	t_finish
fi
e2e_lab_up --reals 4
e2e_xlbd
t_run sticky_across_add_del_reweight test_sticky
t_run drain_keeps_open_connections test_drain
t_finish
