#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Health checks end to end: xlbd probes the lab's reals and takes a dead one
# out of its VIP's Maglev ring, and back in once it answers again. Each case
# uses short intervals (100-200 ms) so the file stays well under a minute,
# measures detection and recovery times from the moment of the change to
# the transition time xlbd reports (`xlbctl health -j`: last_change), and
# logs them as "#" lines:
#   stop_start  nginx of r2 stopped: out within fall x interval + timeout,
#               requests to r1/r3 unaffected (held connections, a request
#               stream); nginx back: in again within rise x interval
#   http_500    a real that accepts TCP but answers 500 is down for an HTTP
#               check, up for a TCP check of the same port
#   blackhole   a real whose replies to the LB are dropped (no RST) is found
#               by timeout
#   flapping    a real that comes and goes every 150 ms: transitions bounded
#               by the hold-down
#   all_down    every real down: fail_open forwards to all, drop drops
#               (counted as drop_no_real)
#   through_vip a real that lost its VIP on lo still answers on its own
#               address: a direct check keeps it, a through-VIP check (SYN in
#               IPIP, like client traffic) takes it out
#   restart     health is runtime state: after an xlbd restart a dead real
#               starts up (init up) and is out again within one interval +
#               timeout; the check itself comes back from the state file
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

now_ms() { date +%s%3N; }

# bound_ms THEORY: the bound a measured time (ms) is held to: the theoretical
# time plus slack for the probe's own latency, the prober's wakeup and the
# test's own polling, proportional to it: max(250 ms, 50 %). With 50 ms of
# slack, a 2-core VM with both cores busy measured within 18 ms of the bound
# (through_vip: 532 ms of 550). The bound still catches a detection that
# takes whole extra rounds (a fall count ignored, a probe lost).
bound_ms() {
	local slack=$(($1 / 2))
	[ "$slack" -ge 250 ] || slack=250
	echo $(($1 + slack))
}

# rfield VIP REAL EXPR: EXPR of python over `r` (the real's object of health -j).
rfield() {
	ctl -j health "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
r = [r for r in j["vips"][0]["reals"] if r["address"] == sys.argv[1]][0]
print(eval(sys.argv[2]))' "$2" "$3"
}

# in_ring VIP REAL yes|no: succeeds when the real is (not) in the ring.
in_ring() { [ "$(rfield "$1" "$2" '"yes" if r["in_ring"] else "no"')" = "$3" ]; }

# probed VIP REAL N: succeeds once the real's target has completed N probes
# (the very first probe decides alone; later ones count towards rise/fall).
probed() { [ "$(rfield "$1" "$2" 'r["health"]["probes"]')" -ge "$3" ]; }

# change_ms VIP REAL: the real's last health transition, epoch ms.
change_ms() {
	rfield "$1" "$2" 'int(__import__("datetime").datetime.strptime(r["health"]["last_change"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=__import__("datetime").timezone.utc).timestamp() * 1000)'
}

nginx_stop() { "$LAB" exec "$1" nginx -c "$LAB_RUN/$1/nginx.conf" -s stop 2>/dev/null; }
nginx_start() {
	"$LAB" exec "$1" nginx -c "$LAB_RUN/$1/nginx.conf" -e "$LAB_RUN/$1/nginx-error.log" ||
		return 1
}

test_stop_start() {
	need
	local vip=198.18.10.1:80/tcp r2=$LAB_R2_4 t0 td tu det rec out held
	local iv=200 to=150 rise=2 fall=3 after
	e2e_vip $vip --health http --interval-ms $iv --timeout-ms $to --rise $rise --fall $fall \
		-- $(real_addrs 4)
	# If the case ends early: nginx back (fails harmlessly when it runs).
	t_defer "'$LAB' exec r2 nginx -c '$LAB_RUN/r2/nginx.conf' >/dev/null 2>&1 || true"
	t_ok "every real in the ring" t_wait_for 3 in_ring $vip "$r2" yes
	t_ok "r2 probed twice" t_wait_for 3 probed $vip "$r2" 2
	# Bounded: one request every 10 ms for 5 s (at most 600); 24 held connections for 5 s.
	load_start 198.18.10.1 600 5 24
	sleep 1
	nginx_stop r2
	t0=$(now_ms)
	t_ok "r2 out of the ring" t_wait_for 3 in_ring $vip "$r2" no
	td=$(change_ms $vip "$r2")
	det=$((td - t0))
	t_log "detection (nginx stopped -> out of the ring): $det ms; theory fall x interval + timeout = $((fall * iv + to)) ms, bound $(bound_ms $((fall * iv + to))) ms; reason: $(rfield $vip "$r2" 'r["health"]["last_reason"]')"
	t_le "$det" "$(bound_ms $((fall * iv + to)))" "detection time, ms"
	# Traffic after the detection: none to r2, none failed.
	after=$(client conns --addr 198.18.10.1 --count 150)
	t_eq "$(jget "$after" 'j["ok"]')" 150 "requests answered after the detection"
	t_eq "$(jget "$after" 'j["counts"].get("r2", 0)')" 0 "requests to r2 after the detection"
	sleep 1
	nginx_start r2
	t0=$(now_ms)
	t_ok "r2 back in the ring" t_wait_for 3 in_ring $vip "$r2" yes
	tu=$(change_ms $vip "$r2")
	rec=$((tu - t0))
	t_log "recovery (nginx started -> in the ring): $rec ms; theory rise x interval = $((rise * iv)) ms, bound $(bound_ms $((rise * iv))) ms"
	t_le "$rec" "$(bound_ms $((rise * iv)))" "recovery time, ms"
	load_wait
	out=$LOAD_STREAM held=$LOAD_HELD
	t_log "stream: sent $(jget "$out" 'j["sent"]'), failed $(jget "$out" 'j["failed"]') $(jget "$out" 'j["errors"]'), per real $(counts_of "$out")"
	t_log "held: $(jget "$held" 'len([c for c in j["conns"] if c["real"] != "r2"])') on r1/r3, of which broken $(jget "$held" 'len([c for c in j["conns"] if c["real"] != "r2" and not c["ok"]])'); $(jget "$held" 'len([c for c in j["conns"] if c["real"] == "r2"])') on r2"
	# Connections to the other reals are unaffected: not one broken or moved.
	t_ge "$(jget "$held" 'len([c for c in j["conns"] if c["real"] not in ("r2", None)])')" 8 "held connections on r1/r3"
	t_eq "$(jget "$held" 'len([c for c in j["conns"] if c["real"] not in ("r2", None) and (not c["ok"] or c["changed"])])')" 0 "held connections on r1/r3 broken or moved"
	# Stream: only requests that went to r2 between its stop and its detection may
	# fail (about a third of the requests of that window, one every 10 ms).
	t_le "$(jget "$out" 'j["failed"]')" $(((det / 10 + 10) / 2)) "stream requests failed (only r2's, before the detection)"
	t_ge "$(jget "$out" 'j["counts"].get("r2", 0)')" 1 "r2 served the stream again after its return"
}

test_http_500() {
	need
	local vip=198.18.10.2:80/tcp r2=$LAB_R2_4 reason
	# On r2, port 8081 accepts TCP and answers every request with a 500 (stopped
	# at the end of the case, and by lab down in any case).
	"$LAB" exec r2 setsid python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8081), H).serve_forever()' </dev/null >/dev/null 2>&1 &
	t_defer "kill $! 2>/dev/null || true"
	t_ok "500 responder listening" t_wait_for 3 "$LAB" exec r2 sh -c 'ss -ltn | grep -q ":8081 "'
	e2e_vip $vip --health http --interval-ms 100 --timeout-ms 80 --rise 2 --fall 2 \
		-- $(real_addrs 4)
	t_ok "r2 up with its nginx" t_wait_for 3 in_ring $vip "$r2" yes
	ctl set-health $vip "$r2" --health http --health-port 8081 >/dev/null
	t_ok "r2 down for an http check of a 500" t_wait_for 3 in_ring $vip "$r2" no
	reason=$(rfield $vip "$r2" 'r["health"]["last_reason"]')
	t_log "http check of the 500 responder: down, reason \"$reason\""
	t_eq "$reason" "http status 500" "failure reason"
	ctl set-health $vip "$r2" --health tcp --health-port 8081 >/dev/null
	t_ok "r2 up for a tcp check of the same port" t_wait_for 3 in_ring $vip "$r2" yes
	t_log "tcp check of the same port: $(rfield $vip "$r2" 'r["health"]["state"]')"
	t_eq "$(rfield $vip "$r2" 'r["health"]["kind"]')" tcp "the override's kind"
	t_eq "$(rfield $vip "$LAB_R1_4" 'r["health"]["kind"]')" http "the VIP's kind on the others"
}

test_blackhole() {
	need
	local vip=198.18.10.3:80/tcp r3=$LAB_R3_4 t0 det rec iv=200 to=150 fall=2 rise=2
	e2e_vip $vip --health tcp --interval-ms $iv --timeout-ms $to --rise $rise --fall $fall \
		-- $(real_addrs 4)
	t_ok "r3 in the ring" t_wait_for 3 in_ring $vip "$r3" yes
	t_ok "r3 probed twice" t_wait_for 3 probed $vip "$r3" 2
	# r3 drops whatever it would send to the LB: SYN-ACKs vanish, no RST comes back.
	"$LAB" exec r3 ip route add blackhole "$LAB_LB1_4/32"
	t0=$(now_ms)
	t_defer "'$LAB' exec r3 ip route del blackhole '$LAB_LB1_4/32' 2>/dev/null || true"
	t_ok "r3 out of the ring" t_wait_for 3 in_ring $vip "$r3" no
	det=$(($(change_ms $vip "$r3") - t0))
	t_log "blackholed real: down after $det ms, reason \"$(rfield $vip "$r3" 'r["health"]["last_reason"]')\"; theory fall x interval + timeout = $((fall * iv + to)) ms, bound $(bound_ms $((fall * iv + to))) ms"
	t_eq "$(rfield $vip "$r3" 'r["health"]["last_reason"]')" timeout "failure reason"
	t_le "$det" "$(bound_ms $((fall * iv + to)))" "detection time, ms"
	"$LAB" exec r3 ip route del blackhole "$LAB_LB1_4/32"
	t0=$(now_ms)
	t_ok "r3 back" t_wait_for 3 in_ring $vip "$r3" yes
	rec=$(($(change_ms $vip "$r3") - t0))
	t_log "blackhole removed: up after $rec ms; theory rise x interval = $((rise * iv)) ms, bound $(bound_ms $((rise * iv))) ms"
	t_le "$rec" "$(bound_ms $((rise * iv)))" "recovery time, ms"
}

test_flapping() {
	need
	local vip=198.18.10.4:80/tcp r1=$LAB_R1_4 i n hold=1000 t0 win bound
	e2e_vip $vip --health tcp --interval-ms 100 --timeout-ms 60 --rise 1 --fall 1 \
		--hold-down-ms $hold -- $(real_addrs 4)
	t_ok "r1 in the ring" t_wait_for 3 in_ring $vip "$r1" yes
	t_defer "'$LAB' exec r1 ip route del blackhole '$LAB_LB1_4/32' 2>/dev/null || true"
	n=$(rfield $vip "$r1" 'r["health"]["transitions"]')
	t0=$(now_ms)
	# Bounded: 26 toggles, 150 ms apart (about 4 s): without damping, ~26 transitions.
	for ((i = 0; i < 26; i++)); do
		if ((i % 2 == 0)); then
			"$LAB" exec r1 ip route add blackhole "$LAB_LB1_4/32"
		else
			"$LAB" exec r1 ip route del blackhole "$LAB_LB1_4/32"
		fi
		sleep 0.15
	done
	n=$(($(rfield $vip "$r1" 'r["health"]["transitions"]') - n))
	win=$(($(now_ms) - t0))
	bound=$((2 * ((win + hold - 1) / hold + 1)))
	t_log "flapping real (26 toggles in $win ms, rise 1, fall 1, hold-down $hold ms): $n transitions; bound 2 x (T / hold_down + 1) = $bound"
	t_ge "$n" 2 "transitions (the flapping was seen)"
	t_le "$n" "$bound" "transitions bounded by the hold-down"
	t_ok "r1 back once stable" t_wait_for 4 in_ring $vip "$r1" yes
}

vip_no_real_drops() {
	ctl -j stats | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(sum(v.get("drop_reasons", {}).get("no_real", 0) for v in j["vips"] if v["vip"] == sys.argv[1]))' "$1"
}

all_down_now() {
	[ "$(ctl -j health "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vips"][0].get("all_reals_down"))')" = True ]
}

test_all_down() {
	need
	local vip=198.18.10.1:80/tcp out d0 d1
	# A check of a port nothing listens on: every real down, while nginx serves.
	e2e_vip $vip --health tcp --health-port 8082 --interval-ms 100 --timeout-ms 80 \
		--rise 1 --fall 1 -- $(real_addrs 4)
	t_ok "every real down" t_wait_for 3 all_down_now $vip
	t_log "all down, fail_open: $(ctl health $vip | head -1)"
	out=$(client conns --addr 198.18.10.1 --count 150)
	t_log "fail_open: $(jget "$out" 'j["ok"]') of 150 answered, per real $(counts_of "$out")"
	t_eq "$(jget "$out" 'j["ok"]')" 150 "fail_open: requests answered"
	t_eq "$(jget "$out" 'len(j["counts"])')" 3 "fail_open: every real used"
	ctl set-health $vip --all-down drop >/dev/null
	t_match "$(ctl health $vip | head -1)" "all down: drop, NOW" "health shows the policy and state"
	d0=$(vip_no_real_drops $vip)
	out=$(client conns --addr 198.18.10.1 --count 5 --timeout 0.5 --deadline 10)
	d1=$(vip_no_real_drops $vip)
	t_log "drop: $(jget "$out" 'j["ok"]') of 5 answered, drop_no_real of the VIP +$((d1 - d0))"
	t_eq "$(jget "$out" 'j["ok"]')" 0 "drop: requests answered"
	t_ge "$((d1 - d0))" 5 "drop: packets counted as drop_no_real"
	t_match "$(grep -c 'all 3 reals are down' "$LAB_RUN/lb1/xlbd.log")" '^[1-9]' "logged"
	# A real that answers again ends it.
	ctl set-health $vip "$LAB_R1_4" --health tcp --health-port 80 >/dev/null
	t_ok "r1 back" t_wait_for 3 in_ring $vip "$LAB_R1_4" yes
	out=$(client conns --addr 198.18.10.1 --count 50)
	t_eq "$(counts_of "$out")" "r1=50" "only the healthy real serves"
}

test_through_vip() {
	need
	local vip=198.18.10.3:80/tcp r1=$LAB_R1_4 t0 det iv=200 to=150 fall=2 out
	e2e_vip $vip --health tcp --through-vip --interval-ms $iv --timeout-ms $to --rise 2 \
		--fall $fall -- $(real_addrs 4)
	t_ok "r1 probed twice through the VIP" t_wait_for 3 probed $vip "$r1" 2
	t_eq "$(rfield $vip "$r1" 'r["health"]["last_ok"]')" True "through-VIP probe of a good real"
	# The half-open connections of the probes are reset by the prober.
	t_eq "$("$LAB" exec r2 ss -Htn state syn-recv | wc -l)" 0 "half-open probe connections left on r2"
	t_defer "'$LAB' exec r1 ip addr add 198.18.10.3/32 dev lo 2>/dev/null || true"
	"$LAB" exec r1 ip addr del 198.18.10.3/32 dev lo
	t0=$(now_ms)
	t_ok "r1 without its VIP out of the ring" t_wait_for 3 in_ring $vip "$r1" no
	det=$(($(change_ms $vip "$r1") - t0))
	t_log "through the VIP: r1 lost its VIP on lo, down after $det ms, reason \"$(rfield $vip "$r1" 'r["health"]["last_reason"]')\" (theory $((fall * iv + to)) ms, bound $(bound_ms $((fall * iv + to))) ms)"
	t_le "$det" "$(bound_ms $((fall * iv + to)))" "detection time, ms"
	out=$(client conns --addr 198.18.10.3 --count 100)
	t_eq "$(jget "$out" 'j["ok"]')" 100 "requests answered with r1 out"
	# A direct check does not see it: r1 still answers on its own address.
	ctl set-health $vip --health tcp --interval-ms $iv --timeout-ms $to --rise 2 --fall $fall >/dev/null
	t_ok "direct check: r1 up again (the failure it cannot see)" t_wait_for 3 in_ring $vip "$r1" yes
	t_log "direct check of the same real: $(rfield $vip "$r1" 'r["health"]["state"]')"
}

test_restart() {
	need
	local vip=198.18.10.2:80/tcp r2=$LAB_R2_4 t0 det iv=200 to=150
	e2e_vip $vip --health http --interval-ms $iv --timeout-ms $to --rise 2 --fall 3 \
		-- $(real_addrs 4)
	t_defer "'$LAB' exec r2 nginx -c '$LAB_RUN/r2/nginx.conf' >/dev/null 2>&1 || true"
	nginx_stop r2
	t_ok "r2 out of the ring" t_wait_for 3 in_ring $vip "$r2" no
	QUIET=1 "$LAB" xlbd-kill TERM
	e2e_xlbd
	t0=$(now_ms)
	t_eq "$(ctl -j health $vip | python3 -c 'import json,sys; print(json.load(sys.stdin)["vips"][0]["check"]["kind"])')" http "check restored from the state file"
	t_ok "r2 out again after the restart" t_wait_for 3 in_ring $vip "$r2" no
	det=$(($(change_ms $vip "$r2") - t0))
	t_log "after a restart, the dead real (init up) was out again $det ms after the socket answered; theory interval + timeout = $((iv + to)) ms, bound $(bound_ms $((iv + to))) ms"
	t_le "$det" "$(bound_ms $((iv + to)))" "time to find it again, ms"
	nginx_start r2
	t_ok "r2 back" t_wait_for 3 in_ring $vip "$r2" yes
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built: $(e2e_missing xlbd xlbctl xlb-decap)"
	t_finish
fi
e2e_lab_up || { t_fail "lab up"; t_finish; }
e2e_xlbd
t_run stop_start test_stop_start
t_run http_500 test_http_500
t_run blackhole test_blackhole
t_run flapping test_flapping
t_run all_down test_all_down
t_run through_vip test_through_vip
t_run restart test_restart
t_finish
