#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`: xlb end to end in a few seconds. Brings the netns lab up
# (scripts/lab.sh: a client, one LB host, three reals running nginx and
# xlb-decap), starts xlbd on the LB, configures VIP 198.18.10.1:80/tcp with
# the three reals through xlbctl, sends a bounded burst of real HTTP requests
# from the client (each on a new TCP connection, so a new source port and a
# new Maglev pick), shows how they spread over the reals (each nginx answers
# with its own name: replies come straight from the real, DSR) and the
# counters from `xlbctl stats`, then tears everything down.
#
#   sudo make demo            # or: sudo scripts/demo.sh
#   sudo KEEP=1 make demo     # leave the lab up and print how to poke at it
#   REQUESTS=1000 make demo   # burst size (default 300, at most 20000)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export BIN=${BIN:-build/bin}
export XLB_LAB_PREFIX=${XLB_LAB_PREFIX:-xlb}
LAB=scripts/lab.sh
VIP=198.18.10.1
REQUESTS=${REQUESTS:-300}
KEEP=${KEEP:-}

[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }
[[ $REQUESTS =~ ^[0-9]+$ ]] && [ "$REQUESTS" -ge 1 ] && [ "$REQUESTS" -le 20000 ] ||
	{ echo "demo: REQUESTS must be 1..20000" >&2; exit 1; }
for b in xlbd xlbctl xlb-decap; do
	[ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is not built (make all)" >&2; exit 1; }
done

if [ -t 1 ]; then
	step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	step() { printf '\n==> %s\n' "$*"; }
fi
ctl() { "$LAB" ctl "$@"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$KEEP" ] && [ "$rc" = 0 ]; then
		return 0
	fi
	step "tearing the lab down"
	ctl shutdown --detach >/dev/null 2>&1 || true
	"$LAB" down || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "lab up: client c1, LB lb1, reals r1 r2 r3 (network namespaces $XLB_LAB_PREFIX-*)"
"$LAB" up --lbs 1 --reals 3
eval "$("$LAB" env)"

step "xlbd on lb1 (interface $LAB_LB1_IF)"
"$LAB" xlbd --lb 1

step "VIP $VIP:80/tcp -> $LAB_R1_4 $LAB_R2_4 $LAB_R3_4"
for args in "add-vip $VIP:80/tcp" "add-real $VIP:80/tcp $LAB_R1_4" \
	"add-real $VIP:80/tcp $LAB_R2_4" "add-real $VIP:80/tcp $LAB_R3_4"; do
	echo "xlbctl $args"
	# shellcheck disable=SC2086
	ctl $args
done
ctl list

step "$REQUESTS HTTP requests from c1 to http://$VIP/, one TCP connection each"
# One curl, URL globbing, "Connection: close": every request opens a new
# connection from a new source port. Bounded: 2 s per request, 120 s in all.
out=$(mktemp)
start=$(date +%s.%N)
"$LAB" exec c1 timeout 120 curl -s -m 2 -H 'Connection: close' \
	-w '%{http_code}\n' "http://$VIP/?n=[1-$REQUESTS]" >"$out" || true
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e - s}')
# Each answer is "<real>\n<http code>\n"; a failed request only "000\n".
ok=$(grep -c '^200$' "$out" || true)
echo "answered: $ok of $REQUESTS in ${secs}s"
grep -E '^r[0-9]+$' "$out" | sort | uniq -c | sort -k2 |
	awk -v n="$REQUESTS" '{ bar = ""; for (i = 0; i < 50 * $1 / n; i++) bar = bar "#";
		printf "  %-4s %6d  %5.1f%%  %s\n", $2, $1, 100 * $1 / n, bar }'
rm -f "$out"

step "xlbctl stats"
ctl stats

if [ -n "$KEEP" ]; then
	step "the lab stays up (KEEP=1); try:"
	cat <<EOF
  scripts/lab.sh status
  scripts/lab.sh exec c1 curl -s http://$VIP/        # one request: one real's name
  scripts/lab.sh exec c1 curl -s -H 'Connection: close' "http://$VIP/?[1-30]" | sort | uniq -c
  scripts/lab.sh ctl list                             # xlbctl against lb1's xlbd
  scripts/lab.sh ctl set-weight $VIP:80/tcp $LAB_R1_4 0   # drain r1
  scripts/lab.sh ctl stats
  scripts/lab.sh exec r1 $BIN/xlb-decap status        # decap counters on r1
  tail -f $LAB_RUN/lb1/xlbd.log
  scripts/lab.sh down                                 # when done (as root)
EOF
fi
[ "$ok" -gt 0 ] || { echo "demo: no request was answered" >&2; exit 1; }
