# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Helpers shared by the end-to-end tests (tests/e2e/test_*.sh), sourced after
# being root is checked. Each test file gets its own lab prefix ("xt<pid>"),
# so its namespaces, pins and run files are its own and `lab down` from the
# exit trap removes exactly them, whatever way the file ends.
#
#   e2e_lab_up [lab.sh up options]      # lab up + teardown registered + env
#   e2e_xlbd [--lb N]                   # xlbd on an LB (stopped at teardown)
#   ctl [--lb N] VERB ...               # xlbctl against that xlbd
#   client [--node cN] MODE ...         # tests/lib/xlbt_client.py in a client
#   jget JSON EXPR                      # a value out of JSON (python3)

XLB_ROOT=${XLB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$XLB_ROOT"
# shellcheck source=tests/lib/testlib.sh
. "$XLB_ROOT/tests/lib/testlib.sh"

export BIN=${BIN:-build/bin}
case $BIN in /*) ;; *) BIN=$XLB_ROOT/$BIN ;; esac
export XLB_LAB_PREFIX=${XLB_LAB_PREFIX:-xt$(($$ % 10000000))}
LAB=$XLB_ROOT/scripts/lab.sh
CLIENT_PY=$XLB_ROOT/tests/lib/xlbt_client.py

# e2e_missing BIN...: prints the binaries (of build/bin) not built yet.
e2e_missing() {
	local b out=()
	for b in "$@"; do [ -x "$BIN/$b" ] || out+=("$b"); done
	echo "${out[*]}"
}

# e2e_require_file: skips the whole file unless root and the base tools exist.
e2e_require_file() {
	if [ "$(id -u)" != 0 ]; then t_skip "needs root (netns, XDP)"; t_finish; fi
	local t
	for t in ip ethtool nginx socat curl python3 nsenter; do
		command -v "$t" >/dev/null || { t_skip "needs $t (make deps)"; t_finish; }
	done
}

# e2e_need_bins BIN...: skips the current case unless they are built.
e2e_need_bins() {
	local m
	m=$(e2e_missing "$@")
	[ -z "$m" ] || t_skip "not built yet: $m"
}

e2e_lab_up() {
	t_on_exit "'$LAB' down"
	QUIET=1 "$LAB" up "$@" || return 1
	eval "$("$LAB" env)"
}

e2e_xlbd() {
	QUIET=1 "$LAB" xlbd "$@"
}

ctl() { "$LAB" ctl "$@"; }

client() {
	local node=c1
	if [ "${1:-}" = --node ]; then node=$2; shift 2; fi
	"$LAB" exec "$node" python3 "$CLIENT_PY" "$@"
}

# load_start ADDR COUNT SECONDS CONNS: in the background, a stream of at most
# COUNT requests (one every 10 ms) and CONNS held connections, both for
# SECONDS (deadline 30 s), killed if the case ends early. load_wait waits for
# both and leaves their JSON summaries in LOAD_STREAM and LOAD_HELD.
load_start() {
	local addr=$1 count=$2 secs=$3 conns=$4
	client conns --addr "$addr" --count "$count" --duration "$secs" --interval 0.01 \
		--deadline 30 >"$LAB_RUN/load-stream.json" &
	LOAD_PIDS=$!
	client hold --addr "$addr" --conns "$conns" --duration "$secs" --interval 0.1 \
		--deadline 30 >"$LAB_RUN/load-hold.json" &
	LOAD_PIDS="$LOAD_PIDS $!"
	t_defer "kill $LOAD_PIDS 2>/dev/null"
}

load_wait() {
	local pid
	for pid in $LOAD_PIDS; do wait "$pid" || true; done
	LOAD_STREAM=$(cat "$LAB_RUN/load-stream.json")
	LOAD_HELD=$(cat "$LAB_RUN/load-hold.json")
}

# e2e_vip VIP [add-vip options...] -- REAL[=WEIGHT]...: a VIP with its reals,
# removed again when the case ends.
e2e_vip() {
	local vip=$1 opts=() r
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	ctl add-vip "$vip" "${opts[@]}" >/dev/null
	t_defer "'$LAB' ctl del-vip '$vip'"
	for r in "$@"; do
		if [[ $r == *=* ]]; then
			ctl add-real "$vip" "${r%%=*}" --weight "${r#*=}" >/dev/null
		else
			ctl add-real "$vip" "$r" >/dev/null
		fi
	done
}

# real_addrs 4|6 [N]: the addresses of reals 1..N (default all), one line.
real_addrs() {
	local fam=$1 n=${2:-$LAB_REALS} i out=()
	for ((i = 1; i <= n; i++)); do eval "out+=(\"\$LAB_R${i}_$fam\")"; done
	echo "${out[*]}"
}

# counts_of JSON: the per-real counts of a client summary as "r1=N r2=N ...".
counts_of() {
	jget "$1" '" ".join("%s=%d" % kv for kv in sorted(j["counts"].items()))'
}

# count_list JSON N: the counts of r1..rN as "n1 n2 ...", 0 for absent reals.
count_list() {
	jget "$1" '" ".join(str(j["counts"].get("r%d" % i, 0)) for i in range(1, '"$2"' + 1))'
}

# decap_count NODE FIELD: a counter of xlb-decap on a real (0 if unknown).
decap_count() {
	"$LAB" exec "$1" "$BIN/xlb-decap" status 2>/dev/null |
		awk -v f="$2" '$1 == f {print $2; found = 1} END {if (!found) print 0}'
}

# jget JSON EXPR: evaluates a python expression on the parsed JSON `j`.
jget() {
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# chi2 "o1 o2 ..." "w1 w2 ...": Pearson's chi-square of observed counts
# against shares proportional to the weights.
chi2() {
	python3 - "$1" "$2" <<'EOF'
import sys
o = [float(x) for x in sys.argv[1].split()]
w = [float(x) for x in sys.argv[2].split()]
n, tw = sum(o), sum(w)
print(round(sum((oi - n * wi / tw) ** 2 / (n * wi / tw) for oi, wi in zip(o, w)), 3))
EOF
}
