#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xlbd's Prometheus endpoint end to end, in a lab of its own:
#   promtool      a real scrape of xlbd (`curl` inside the LB namespace)
#                 passes `promtool check metrics`; /healthz 200, other
#                 paths 404; build info, attach mode, API counters there
#   prometheus    a real Prometheus server (Debian's), listening on
#                 loopback inside the LB namespace with a 1 s scrape
#                 interval and a scratch TSDB, scrapes xlbd while the
#                 client sends N UDP datagrams and M TCP connections; the
#                 values Prometheus stored (HTTP query API) equal what was
#                 sent: UDP VIP packets = N = sum over its reals, new flows
#                 = the distinct source ports; TCP new flows = M, reals'
#                 packets add up to the VIP's; and every counter equals
#                 `xlbctl stats -j` read at the same quiet moment
#   health_gauge  nginx of r2 stopped: Prometheus sees xlb_real_up of r2
#                 go to 0 (the others stay 1), and back to 1 when nginx is
#                 back; transitions and probe counters grew
#   detached      the program detached behind xlbd's back: /healthz 503
#                 and xlb_xdp_attach_mode{mode="none"} within ~1 s (last:
#                 the lab forwards nothing after it)
#   bad_requests  a 64 KiB header, 40 idle half-sent requests (slowloris),
#                 unknown paths and methods: xlbd's API still answers at
#                 once, a scrape is served and passes promtool, and
#                 Prometheus's next scrape is fine
# Prometheus runs in the background for the file's lifetime only (killed
# and its storage removed at exit, on every path); every wait is bounded.
# shellcheck disable=SC2046 # $(real_addrs ...) is split into addresses on purpose
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file

PROM_PORT=9090
MET=127.0.0.1:9120
UDP_VIP=198.18.10.3:7/udp
TCP_VIP=198.18.10.1:80/tcp

need() { e2e_need_bins xlbd xlbctl xlb-decap; }

# inlb CMD...: a command in lb1's network namespace (where xlbd and Prometheus listen).
inlb() { "$LAB" exec lb1 "$@"; }

scrape() { inlb curl -s -m 5 "http://$MET/metrics"; }

# status PATH [curl args]: the HTTP status of a request to xlbd's endpoint.
status() { local p=$1; shift; inlb curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" "http://$MET$p" || true; }

# promq QUERY: Prometheus's answer (JSON) to an instant query.
promq() {
	inlb curl -s -m 5 --get --data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query"
}

# promval QUERY: the value of the query's only sample, "none" without one
# (integers printed as integers).
promval() {
	promq "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if len(r) != 1:
    print("none")
else:
    v = float(r[0]["value"][1])
    print(int(v) if v == int(v) else v)'
}

# scraped_after T: Prometheus holds a scrape of xlbd that started after unix time T.
scraped_after() {
	local ts
	ts=$(promval 'timestamp(up{job="xlb"})')
	[ "$ts" != none ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$ts" "$1" &&
		[ "$(promval 'up{job="xlb"}')" = 1 ]
}

# wait_scrape: waits (at most 10 s) for a successful scrape that started after now.
wait_scrape() {
	local t
	t=$(date +%s.%N)
	t_wait_for 10 scraped_after "$t" || t_fail "no successful Prometheus scrape of xlbd within 10 s"
}

# pv METRIC VIP: a per-VIP value in Prometheus.
pv() { promval "$1{vip=\"$2\"}"; }

# up_is REAL 0|1: Prometheus's latest xlb_real_up of REAL on the TCP VIP.
up_is() { [ "$(promval "xlb_real_up{vip=\"$TCP_VIP\",real=\"$1\"}")" = "$2" ]; }

start_prometheus() {
	PROM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xlbt-prom.XXXXXX")
	t_on_exit "rm -rf '$PROM_DIR'"
	cat >"$PROM_DIR/prometheus.yml" <<EOF
# Prometheus of tests/e2e/test_metrics.sh (scratch, removed at exit)
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xlb
    static_configs:
      - targets: ['$MET']
EOF
	setsid nsenter --net="/run/netns/$LAB_PREFIX-lb1" -- prometheus \
		--config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
		--storage.tsdb.retention.time=1h --web.listen-address="127.0.0.1:$PROM_PORT" \
		</dev/null >"$PROM_DIR/prometheus.log" 2>&1 &
	PROM_PID=$!
	t_on_exit "kill $PROM_PID; sleep 0.5; kill -9 $PROM_PID"
	if ! t_wait_for 30 inlb curl -sf -m 2 "http://127.0.0.1:$PROM_PORT/-/ready"; then
		tail -5 "$PROM_DIR/prometheus.log" >&2
		return 1
	fi
	t_log "prometheus $(prometheus --version 2>&1 | awk 'NR==1{print $3}') pid $PROM_PID on 127.0.0.1:$PROM_PORT in lb1, storage $PROM_DIR/data"
}

# ---- cases ----

test_promtool() {
	need
	t_need promtool curl
	local out
	out=$(scrape)
	t_ok "promtool check metrics on a real scrape" promtool check metrics <<<"$out"
	t_log "scrape: $(wc -c <<<"$out") bytes, $(grep -vc '^#' <<<"$out") samples, $(grep -c '^# TYPE' <<<"$out") families"
	t_match "$out" 'xlb_build_info\{version="[^"]+"\} 1' "build info"
	t_match "$out" 'xlb_xdp_attach_mode\{mode="(native|generic)",interface="'"$LAB_LB1_IF"'"\} 1' "attach mode"
	t_match "$out" 'xlb_api_requests_total\{verb="add-vip",result="ok"\} [1-9]' "API requests counted"
	t_match "$out" 'xlb_state_writes_total\{result="success"\} [1-9]' "state-file writes counted"
	t_match "$out" 'xlb_vip_drops_total\{vip="'"$UDP_VIP"'",reason="no_real"\} 0' "per-reason drops"
	t_eq "$(status /healthz)" 200 "/healthz while attached"
	t_eq "$(status /nope)" 404 "unknown path"
	t_eq "$(status /metrics -X POST)" 405 "POST /metrics"
}

test_prometheus_counts() {
	need
	t_need prometheus curl
	local n=300 m=200 out_u out_t st r i real sum_u=0 sum_t=0 p0 p1
	# UDP: every datagram answered, so it went through the balancer before
	# the client counted it.
	out_u=$(client udp --addr 198.18.10.3 --port "$LAB_UDP_PORT" --count $n)
	out_t=$(client conns --addr 198.18.10.1 --count $m)
	t_eq "$(jget "$out_u" 'j["ok"]')" $n "datagrams answered"
	t_eq "$(jget "$out_t" 'j["ok"]')" $m "connections answered"
	# Quiet once the last FINs and ACKs are through: the VIPs' packet count
	# unchanged over 0.5 s (polled, at most 5 s; a fixed 1 s could end too
	# early on a loaded VM). Then the maps, then Prometheus.
	vip_pk() { jget "$(ctl -j stats)" 'sum(v["packets"] for v in j["vips"])'; }
	p0=$(vip_pk)
	for ((i = 0; i < 10; i++)); do
		sleep 0.5
		p1=$(vip_pk)
		[ "$p1" = "$p0" ] && break
		p0=$p1
	done
	st=$(ctl -j stats)
	wait_scrape
	t_log "Prometheus: $UDP_VIP packets $(pv xlb_vip_packets_total $UDP_VIP), new flows $(pv xlb_vip_new_flows_total $UDP_VIP) ($(jget "$out_u" 'j["sports"]') source ports); $TCP_VIP packets $(pv xlb_vip_packets_total $TCP_VIP), new flows $(pv xlb_vip_new_flows_total $TCP_VIP), bytes $(pv xlb_vip_bytes_total $TCP_VIP)"
	t_eq "$(pv xlb_vip_packets_total "$UDP_VIP")" $n "UDP VIP packets in Prometheus = datagrams sent"
	t_eq "$(pv xlb_vip_new_flows_total "$UDP_VIP")" "$(jget "$out_u" 'j["sports"]')" \
		"UDP VIP new flows = distinct source ports"
	t_eq "$(promval "sum(xlb_vip_drops_total{vip=\"$UDP_VIP\"})")" 0 "UDP VIP drops"
	t_eq "$(pv xlb_vip_new_flows_total "$TCP_VIP")" $m "TCP VIP new flows = connections"
	for ((i = 1; i <= LAB_REALS; i++)); do
		eval "real=\$LAB_R${i}_4"
		r=$(promval "xlb_real_packets_total{vip=\"$UDP_VIP\",real=\"$real\"}")
		t_eq "$r" "$(jget "$out_u" 'j["counts"].get("r'$i'", 0)')" "UDP packets to r$i = answers from r$i"
		sum_u=$((sum_u + r))
		sum_t=$((sum_t + $(promval "xlb_real_packets_total{vip=\"$TCP_VIP\",real=\"$real\"}")))
	done
	t_eq "$sum_u" $n "UDP: sum over reals = datagrams sent"
	t_eq "$sum_t" "$(pv xlb_vip_packets_total "$TCP_VIP")" "TCP: sum over reals = VIP packets"
	t_eq "$(promval "sum(xlb_real_packets_total{vip=\"$UDP_VIP\"})")" $n "UDP: sum() in PromQL"
	# Prometheus stored exactly what the maps hold (nothing moved since st).
	for v in "$UDP_VIP" "$TCP_VIP"; do
		for f in packets bytes new_flows; do
			t_eq "$(pv "xlb_vip_${f}_total" "$v")" \
				"$(jget "$st" 'sum(v["'$f'"] for v in j["vips"] if v["vip"] == "'"$v"'")')" \
				"$v $f: Prometheus = xlbctl stats"
		done
	done
	t_eq "$(promval 'xlb_packets_total{verdict="tx",reason="to_real"}')" \
		"$(jget "$st" 'j["global"]["tx"]')" "global tx: Prometheus = xlbctl stats"
}

test_health_gauge() {
	need
	t_need prometheus curl
	local r2=$LAB_R2_4 tr0 tr1 t0 t1 pr0 pr1
	t_ok "r2 up in Prometheus before" up_is "$r2" 1
	tr0=$(promval "xlb_real_transitions_total{vip=\"$TCP_VIP\",real=\"$r2\"}")
	pr0=$(promval 'sum(xlb_health_probes_total)')
	t0=$(date +%s%3N)
	kill "$(cat "$LAB_RUN/r2/nginx.pid")"
	t_defer "'$LAB' exec r2 nginx -c '$LAB_RUN/r2/nginx.conf' -e '$LAB_RUN/r2/nginx-error.log'"
	t_wait_for 15 up_is "$r2" 0 || t_fail "xlb_real_up of r2 not 0 in Prometheus within 15 s"
	t1=$(date +%s%3N)
	t_log "nginx of r2 stopped: Prometheus saw xlb_real_up 0 after $((t1 - t0)) ms (interval 200 ms, fall 2, scrape 1 s)"
	t_eq "$(promval "xlb_vip_reals_up{vip=\"$TCP_VIP\"}")" 2 "reals up of the VIP"
	t_ok "r1 still up" up_is "$LAB_R1_4" 1
	"$LAB" exec r2 nginx -c "$LAB_RUN/r2/nginx.conf" -e "$LAB_RUN/r2/nginx-error.log"
	t0=$(date +%s%3N)
	t_wait_for 15 up_is "$r2" 1 || t_fail "xlb_real_up of r2 not back to 1 within 15 s"
	t_log "nginx of r2 back: Prometheus saw xlb_real_up 1 after $(($(date +%s%3N) - t0)) ms"
	wait_scrape
	tr1=$(promval "xlb_real_transitions_total{vip=\"$TCP_VIP\",real=\"$r2\"}")
	pr1=$(promval 'sum(xlb_health_probes_total)')
	t_ge "$((tr1 - tr0))" 2 "transitions of r2 (down and up)"
	t_ge "$((pr1 - pr0))" 1 "probes counted"
	t_ge "$(promval 'sum(xlb_health_probes_total{result=~"failure|timeout"})')" 2 \
		"failed probes counted (fall 2)"
	t_ne "$(promval "xlb_real_probe_latency_seconds{vip=\"$TCP_VIP\",real=\"$LAB_R1_4\"}")" none \
		"probe latency of r1"
	# Same scrape: every probe that ran is in the histogram, local errors are not.
	t_eq "$(promval 'xlb_health_probe_duration_seconds_count - scalar(sum(xlb_health_probes_total{result!="error"}))')" \
		0 "histogram count = probes by result (but error)"
}

test_bad_requests() {
	need
	t_need python3 curl
	local out t0 t1 code
	# 64 KiB of header: refused (431), or the connection is closed.
	code=$(inlb curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 65536 /dev/zero | tr '\0' a)" \
		"http://$MET/metrics" || true)
	t_log "64 KiB header: status $code"
	[[ $code =~ ^(431|400|413|000)$ ]] || t_fail "64 KiB header answered $code"
	t_eq "$(status /../../etc/passwd --path-as-is)" 404 "path traversal is just an unknown path"
	t_eq "$(status /metricsx)" 404 "unknown path"
	# 40 connections that send half a request line and then nothing.
	inlb python3 - "$MET" 40 8 <<'EOF' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.create_connection((host, int(port)), timeout=2)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    socks.append(s)
time.sleep(float(sys.argv[3]))
EOF
	local slow=$!
	t_defer "kill $slow"
	sleep 1
	t0=$(date +%s%3N)
	t_ok "API answers during the slowloris" ctl ping
	t1=$(date +%s%3N)
	t_log "xlbctl ping with 40 idle connections held: $((t1 - t0)) ms"
	t_le $((t1 - t0)) 2000 "ping within 2 s"
	out=$(scrape)
	t_ok "a scrape beside them passes promtool" promtool check metrics <<<"$out"
	t_eq "$(status /healthz)" 200 "/healthz beside them"
	wait_scrape
	wait "$slow" 2>/dev/null || true
	t_ok "xlbd alive" kill -0 "$(cat "$LAB_RUN/lb1/xlbd.pid")"
	t_ok "API answers after" ctl ping
}

# Scrape cost in the lab: the two VIPs, then 100 more VIPs of the 3 reals.
scrape_times() {
	local i times=() out
	for ((i = 0; i < 5; i++)); do
		times+=("$(inlb curl -s -m 5 -o /dev/null -w '%{time_total}' "http://$MET/metrics" |
			awk '{printf "%.2f", $1 * 1000}')")
	done
	out=$(scrape)
	t_log "scrape of $(grep -c '^xlb_vip_reals{' <<<"$out") VIPs / $(grep -c '^xlb_real_up{' <<<"$out") (VIP, real) rows, $(wc -c <<<"$out") bytes: ${times[*]} ms (curl's time_total); render (previous scrape) $(awk '/^xlb_metrics_render_duration_seconds /{printf "%.0f", $2 * 1e6}' <<<"$out") us"
}

test_scrape_cost() {
	need
	local i
	scrape_times
	for ((i = 1; i <= 100; i++)); do
		ctl add-vip "198.18.11.$i:80/tcp" --ring-size 251 >/dev/null
		t_defer "'$LAB' ctl del-vip '198.18.11.$i:80/tcp'"
		for r in $(real_addrs 4); do ctl add-real "198.18.11.$i:80/tcp" "$r" >/dev/null; done
	done
	scrape_times
	t_ok "xlbd scraped by Prometheus meanwhile" wait_scrape
}

test_detached() {
	need
	local mode
	mode=$(scrape | sed -n 's/^xlb_xdp_attach_mode{mode="\([a-z]*\)".*/\1/p')
	t_match "$mode" '^(native|generic)$' "attached before"
	# Both kinds off: whichever xlbd used.
	inlb ip link set dev "$LAB_LB1_IF" xdpgeneric off
	inlb ip link set dev "$LAB_LB1_IF" xdpdrv off
	t_wait_for 5 bash -c "[ \"\$('$LAB' exec lb1 curl -s -m 2 -o /dev/null -w '%{http_code}' http://$MET/healthz)\" = 503 ]" ||
		t_fail "/healthz not 503 within 5 s of the detach"
	t_match "$(scrape)" 'xlb_xdp_attach_mode\{mode="none",interface="'"$LAB_LB1_IF"'"\} 1' "attach mode none"
	t_ok "xlbd still answers" ctl ping
}

if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap)"
	t_finish
fi
e2e_lab_up
e2e_xlbd
ctl add-vip "$UDP_VIP" >/dev/null
for r in $(real_addrs 4); do ctl add-real "$UDP_VIP" "$r" >/dev/null; done
ctl add-vip "$TCP_VIP" --health http --interval-ms 200 --timeout-ms 150 --rise 2 --fall 2 >/dev/null
for r in $(real_addrs 4); do ctl add-real "$TCP_VIP" "$r" >/dev/null; done
t_run promtool_check_on_a_real_scrape test_promtool
if command -v prometheus >/dev/null && start_prometheus; then
	t_run prometheus_stores_what_was_sent test_prometheus_counts
	t_run health_gauge_flips_in_prometheus test_health_gauge
	t_run bad_requests_do_not_disturb_xlbd test_bad_requests
else
	t_skip "Prometheus server not available or did not start (scripts/deps.sh installs it)"
fi
t_run scrape_cost test_scrape_cost
t_run healthz_follows_the_attach_state test_detached
t_finish
