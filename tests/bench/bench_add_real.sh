#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Control-plane latency: the time from `xlbctl add-real` returning to the
# first packet that reaches the new real, in the netns lab (own prefix,
# torn down on exit).
#
# A client sends UDP datagrams to VIP 198.18.10.1:9000/udp, each from a new
# source port (so each is a new flow and is placed by the Maglev ring),
# every ~50 us, bounded to 3 s per round. The VIP starts with r1 only; r2
# runs a receiver bound to the VIP (on its lo) that notes CLOCK_MONOTONIC
# of the first datagram (the clock is the same in every namespace). The
# driver notes CLOCK_MONOTONIC when xlbctl add-real returns. Each round
# then removes r2 again. With equal weights r2 owns half the slots, so the
# first new flow after the ring update reaches it after ~2 send intervals.
#
# Baseline in the same run: the wall time of `xlbctl ping` (process start,
# connect, one request, answer), i.e. what any API call costs.
#
#   tests/bench/bench_add_real.sh [ROUNDS]    (default 20; --smoke: 3)
# Prints "XLB-BENCH add_real ..." lines and a summary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ROUNDS=${1:-20}
[ "$ROUNDS" = --smoke ] && ROUNDS=3
BIN=${BIN:-build/bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
export BIN XLB_LAB_PREFIX=${XLB_LAB_PREFIX:-xb$(($$ % 10000000))}
LAB=$ROOT/scripts/lab.sh
[ "$(id -u)" = 0 ] || { echo "bench_add_real: needs root (netns, XDP): skipped"; exit 0; }
for b in xlbd xlbctl xlb-decap; do
	[ -x "$BIN/$b" ] || { echo "bench_add_real: $BIN/$b not built: skipped"; exit 0; }
done

WORK=$(mktemp -d /tmp/xlb-bench-add-real.XXXXXX)
cleanup() {
	[ -n "${SEND_PID:-}" ] && kill "$SEND_PID" 2>/dev/null
	[ -n "${XLB_BENCH_KEEP_LOG:-}" ] && cp "$LAB_RUN/lb1/xlbd.log" "$XLB_BENCH_KEEP_LOG" 2>/dev/null
	QUIET=1 "$LAB" down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

QUIET=1 "$LAB" up --reals 2 >/dev/null
eval "$("$LAB" env)"
QUIET=1 "$LAB" xlbd --quarantine 1 ${XLB_BENCH_XLBD_ARGS:-} >/dev/null
CTL=("$BIN/xlbctl" --socket "$LAB_LB1_SOCK")
VIP=198.18.10.1:9000/udp
"${CTL[@]}" add-vip $VIP >/dev/null
"${CTL[@]}" add-real $VIP "$LAB_R1_4" >/dev/null

cat >"$WORK/recv.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3] + ".ready", "w").close()
s.settimeout(float(sys.argv[4]))
try:
    s.recv(2048)
    t = time.clock_gettime(time.CLOCK_MONOTONIC)
    open(sys.argv[3], "w").write("%.9f\n" % t)
except socket.timeout:
    open(sys.argv[3], "w").write("timeout\n")
EOF
cat >"$WORK/send.py" <<'EOF'
import socket, sys, time
addr, port, secs, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
end = time.monotonic() + secs
n = 0
while time.monotonic() < end and n < 200000:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", (addr, port))
    s.close()
    n += 1
    t = time.monotonic() + gap
    while time.monotonic() < t:
        pass
EOF
cat >"$WORK/add.py" <<'EOF'
import subprocess, sys, time
t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL)
t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
open(sys.argv[1], "w").write("%.9f %.9f\n" % (t0, t1))
EOF

lat=() cmd=() ping=() start=()
for ((i = 1; i <= ROUNDS; i++)); do
	rm -f "$WORK/first" "$WORK/first.ready"
	"$LAB" exec r2 python3 "$WORK/recv.py" 198.18.10.1 9000 "$WORK/first" 3 &
	RECV_PID=$!
	for ((k = 0; k < 50; k++)); do [ -e "$WORK/first.ready" ] && break; sleep 0.02; done
	"$LAB" exec c1 python3 "$WORK/send.py" 198.18.10.1 9000 3 0.00005 &
	SEND_PID=$!
	sleep 0.2
	python3 "$WORK/add.py" "$WORK/add" "${CTL[@]}" add-real $VIP "$LAB_R2_4"
	wait "$RECV_PID" || true
	kill "$SEND_PID" 2>/dev/null || true
	wait "$SEND_PID" 2>/dev/null || true
	SEND_PID=
	python3 "$WORK/add.py" "$WORK/ping" "${CTL[@]}" ping
	read -r t0 t1 <"$WORK/add"
	read -r p0 p1 <"$WORK/ping"
	first=$(cat "$WORK/first")
	"${CTL[@]}" del-real $VIP "$LAB_R2_4" >/dev/null
	if [ "$first" = timeout ]; then
		echo "XLB-BENCH add_real round=$i first_packet=timeout"
		continue
	fi
	l=$(awk -v a="$t1" -v f="$first" 'BEGIN{printf "%.3f", (f - a) * 1000}')
	s=$(awk -v a="$t0" -v f="$first" 'BEGIN{printf "%.3f", (f - a) * 1000}')
	c=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b - a) * 1000}')
	p=$(awk -v a="$p0" -v b="$p1" 'BEGIN{printf "%.3f", (b - a) * 1000}')
	lat+=("$l") cmd+=("$c") ping+=("$p") start+=("$s")
	echo "XLB-BENCH add_real round=$i after_return_ms=$l after_start_ms=$s add_real_cmd_ms=$c ping_cmd_ms=$p"
	sleep 0.1
done

python3 - "${lat[*]:-}" "${cmd[*]:-}" "${ping[*]:-}" "${start[*]:-}" <<'EOF'
import statistics as st, sys
lat, cmd, ping, start = ([float(x) for x in a.split()] for a in sys.argv[1:5])
if not lat:
    print("no round delivered a packet to the new real"); sys.exit(1)
def s(v): return "median %.3f ms, min %.3f, max %.3f" % (st.median(v), min(v), max(v))
print("first packet at the new real after xlbctl add-real returned: %s (%d rounds;"
      " negative = it arrived before xlbctl had returned)" % (s(lat), len(lat)))
print("first packet at the new real after xlbctl add-real was started: %s" % s(start))
print("xlbctl add-real, whole command (includes the state file fsync): %s" % s(cmd))
print("baseline xlbctl ping (no-op API round trip), whole command: %s" % s(ping))
print("ratios to the ping baseline: start->first packet %.2f, add-real command %.2f"
      % (st.median(start) / st.median(ping), st.median(cmd) / st.median(ping)))
EOF
