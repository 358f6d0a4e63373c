#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs the whole suite: C unit tests, BPF fixture tests, then the
# network-namespace end-to-end scenarios. Every test program prints one
# "XLBT-RESULT passed=N failed=N skipped=N" line; a program that dies
# without one counts as one failure. Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-.output}
export BIN=${BIN:-build/bin}
export XLB_ROOT=$PWD
ONLY=${ONLY:-}		# ONLY=regex limits the run to matching test names

total_p=0 total_f=0 total_s=0
failed_names=()

# Leftovers of e2e files that died without cleaning up: a file killed by
# the time limit below (TERM, then KILL 10 s later, possibly in the middle
# of its own `lab down`), or by anyone's SIGKILL. Every e2e file works
# under the lab prefix xt<its pid> (tests/lib/e2e.sh; test_lab also uses
# xt<pid>b), bench_add_real.sh under xb<its pid>, so whatever carries the
# prefix of a pid that no longer runs is an orphan: `lab.sh down` with that
# prefix stops the processes in its
# namespaces (xlbd, nginx, the UDP echo, Prometheus, clients) and removes
# the namespaces, pins and run files. Labs of live processes (another run
# on the same host) are left alone. Prints what it swept.
sweep_dead_labs() {
	local p pid swept=()
	[ "$(id -u)" = 0 ] || return 0
	for p in $( {
		ip netns list 2>/dev/null | awk '{print $1}'
		ls /run/xlb-lab /sys/fs/bpf/xlb /sys/fs/bpf/xlb/decap 2>/dev/null
	} | sed -nE 's/^(x[tb][0-9]+)b?(-.*)?$/\1/p' | sort -u); do
		pid=${p#x?}
		kill -0 "$pid" 2>/dev/null && continue
		XLB_LAB_PREFIX=$p QUIET=1 scripts/lab.sh down >/dev/null 2>&1 || true
		XLB_LAB_PREFIX=${p}b QUIET=1 scripts/lab.sh down >/dev/null 2>&1 || true
		swept+=("$p")
	done
	[ ${#swept[@]} = 0 ] || echo "!!! swept the leftovers of dead e2e files: ${swept[*]}"
}

run_one() {
	local name=$1; shift
	local log rc line p f s
	[ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]] && return 0
	echo "=== $name"
	log=$(mktemp)
	# Each program gets a time limit so that a hang cannot stall CI.
	timeout --kill-after=10 "${XLBT_TIMEOUT:-900}" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "!!! $name killed by the ${XLBT_TIMEOUT:-900} s time limit (exit $rc)"
	sweep_dead_labs
	line=$(grep -a '^XLBT-RESULT ' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "!!! $name exited $rc without a result line: counted as 1 failure"
		total_f=$((total_f + 1)); failed_names+=("$name")
		return
	fi
	p=$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")
	s=$(sed -E 's/.*skipped=([0-9]+).*/\1/' <<<"$line")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "!!! $name exited $rc with no failed case: counted as 1 failure"
		f=1
	fi
	total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
	[ "$f" != 0 ] && failed_names+=("$name")
}

sweep_dead_labs
for t in "$OUTPUT"/tests/unit/test_* "$OUTPUT"/tests/bpf/test_*; do
	[ -x "$t" ] || continue
	case $t in *.o|*.d) continue ;; esac
	run_one "${t#"$OUTPUT"/tests/}" "$t"
done

for t in tests/e2e/test_*.sh tests/bench/smoke_*.sh; do
	[ -f "$t" ] || continue
	run_one "${t#tests/}" bash "$t"
done

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
