# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# A small harness for the shell tests (tests/e2e/test_*.sh), sourced, never
# run. It mirrors tests/lib/test.h: named cases, assertions that print name,
# actual and expected, and one machine-readable result line that tests/run.sh
# adds up:
#
#   . "$XLB_ROOT/tests/lib/testlib.sh"
#   test_foo() { t_eq "$(echo 1)" 1 "echo"; }
#   t_run foo test_foo
#   t_finish                 # prints "XLBT-RESULT passed=N failed=N skipped=N"
#
# Each case runs in a subshell with errexit on, so the first failed
# assertion (or any failing command) ends that case and only that case.
# Assertions and skips are recorded in files, which is how a subshell reports
# to the parent.
#
# Cleanup: t_on_exit CMD registers CMD for the end of the script (run last
# registered first, from a trap on EXIT, INT and TERM, also when a case or
# the script dies); t_defer CMD registers CMD for the end of the current case.
#
# Everything that waits is bounded: t_wait_for polls a command a limited
# number of times within a time limit.

T_PASSED=0
T_FAILED=0
T_SKIPPED=0
T_NUM=0
T_IN_CASE=
T_FINISHED=
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xlbt.XXXXXX")
: >"$T_DIR/on_exit"

t_log() { printf '# %s\n' "$*"; }
t_warn() { printf '# WARNING: %s\n' "$*" >&2; }

# Runs the registered commands of FILE, last registered first, each once.
_t_run_cleanups() {
	local file=$1 cmd
	[ -s "$file" ] || return 0
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		eval "$cmd" >/dev/null 2>&1 || true
	done < <(tac "$file")
	: >"$file"
}

# Registers CMD (a string evaluated later) to run when the script exits.
t_on_exit() { printf '%s\n' "$*" >>"$T_DIR/on_exit"; }

# Registers CMD to run when the current case ends (or at exit, outside a case).
t_defer() {
	if [ -n "$T_IN_CASE" ]; then
		printf '%s\n' "$*" >>"$T_DIR/case_cleanup"
	else
		t_on_exit "$@"
	fi
}

_t_exit_trap() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[ -f "$T_DIR/case_cleanup" ] && _t_run_cleanups "$T_DIR/case_cleanup"
	_t_run_cleanups "$T_DIR/on_exit"
	if [ -z "$T_FINISHED" ]; then
		# Died before t_finish: still leave one result line, and count the
		# death as a failure so it is never mistaken for success.
		t_log "script ended early (status $rc)"
		T_FAILED=$((T_FAILED + 1))
		echo "XLBT-RESULT passed=$T_PASSED failed=$T_FAILED skipped=$T_SKIPPED"
		[ "$rc" = 0 ] && rc=1
	fi
	rm -rf "$T_DIR"
	exit "$rc"
}
_t_signal() { t_log "caught SIG$1"; exit $((128 + $2)); }
trap _t_exit_trap EXIT
trap '_t_signal INT 2' INT
trap '_t_signal TERM 15' TERM

# ---- assertions: print what was wrong, record it, return 1 (ends the case) ----

_t_fail() {
	printf '#   FAIL: %s\n' "$*" >&2
	echo "$*" >>"$T_DIR/case_fail"
	return 1
}

t_eq() { # ACTUAL EXPECTED MSG
	[ "$1" = "$2" ] && return 0
	_t_fail "$3: actual '$1' expected '$2'"
}
t_ne() { # ACTUAL UNEXPECTED MSG
	[ "$1" != "$2" ] && return 0
	_t_fail "$3: actual '$1' must differ"
}
_t_num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; }
t_ge() { # ACTUAL MIN MSG  (numbers, decimals allowed)
	if _t_num "$1" && _t_num "$2" && awk -v a="$1" -v b="$2" 'BEGIN{exit !(a >= b)}'; then
		return 0
	fi
	_t_fail "$3: actual '$1' expected >= '$2'"
}
t_le() { # ACTUAL MAX MSG
	if _t_num "$1" && _t_num "$2" && awk -v a="$1" -v b="$2" 'BEGIN{exit !(a <= b)}'; then
		return 0
	fi
	_t_fail "$3: actual '$1' expected <= '$2'"
}
t_match() { # ACTUAL REGEX MSG
	[[ $1 =~ $2 ]] && return 0
	_t_fail "$3: actual '$1' does not match /$2/"
}
t_ok() { # MSG CMD...: CMD must succeed
	local msg=$1; shift
	"$@" && return 0
	_t_fail "$msg: command failed: $*"
}
t_fail() { _t_fail "$*"; }

# Skips the current case (or, outside a case, records one skipped case for
# the whole file). Inside a case it ends the case.
t_skip() {
	if [ -n "$T_IN_CASE" ]; then
		echo "$*" >"$T_DIR/case_skip"
		exit 0
	fi
	T_NUM=$((T_NUM + 1)); T_SKIPPED=$((T_SKIPPED + 1))
	echo "ok $T_NUM - ${T_FILE_NAME:-$(basename "$0")} # SKIP $*"
}

# ---- running cases ----

# t_run NAME FUNC [ARGS...]: one case, in a subshell with errexit.
t_run() {
	local name=$1 func=$2 rc start secs errexit=
	shift 2
	[[ $- == *e* ]] && errexit=1
	rm -f "$T_DIR/case_fail" "$T_DIR/case_skip"
	: >"$T_DIR/case_cleanup"
	T_NUM=$((T_NUM + 1))
	start=$(date +%s.%N)
	echo "# --- $name"
	set +e
	(
		T_IN_CASE=$name
		set -eEuo pipefail
		trap '_t_run_cleanups "$T_DIR/case_cleanup"' EXIT
		trap 'exit 143' TERM
		trap 'exit 130' INT
		"$func" "$@"
	)
	rc=$?
	[ -n "$errexit" ] && set -e
	# Also when the subshell was killed before its own trap could run.
	_t_run_cleanups "$T_DIR/case_cleanup"
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
	if [ -s "$T_DIR/case_fail" ] || [ "$rc" != 0 ]; then
		[ -s "$T_DIR/case_fail" ] || echo "#   FAIL: exited with status $rc" >&2
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $name (${secs}s)"
	elif [ -f "$T_DIR/case_skip" ]; then
		T_SKIPPED=$((T_SKIPPED + 1))
		echo "ok $T_NUM - $name # SKIP $(cat "$T_DIR/case_skip")"
	else
		T_PASSED=$((T_PASSED + 1))
		echo "ok $T_NUM - $name (${secs}s)"
	fi
	[ "$rc" -ge 129 ] && [ "$rc" -le 143 ] && [ "$rc" != 141 ] && { t_log "case interrupted"; exit "$rc"; }
	return 0
}

# t_finish: the summary and the result line; exits 0 unless a case failed.
t_finish() {
	T_FINISHED=1
	echo "# $T_PASSED passed, $T_FAILED failed, $T_SKIPPED skipped"
	echo "XLBT-RESULT passed=$T_PASSED failed=$T_FAILED skipped=$T_SKIPPED"
	[ "$T_FAILED" = 0 ] && exit 0
	exit 1
}

# ---- bounded helpers ----

# t_wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds, at most
# SECONDS seconds and 10*SECONDS+1 tries. Returns 1 on timeout.
t_wait_for() {
	local secs=$1 tries i deadline
	shift
	tries=$(awk -v s="$secs" 'BEGIN{printf "%d", s * 10 + 1}')
	deadline=$(( $(date +%s) + ${secs%.*} + 1 ))
	for ((i = 0; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -gt "$deadline" ] && break
		sleep 0.1
	done
	return 1
}

# t_retry COUNT DELAY CMD...: runs CMD up to COUNT times, DELAY s apart.
t_retry() {
	local count=$1 delay=$2 i
	shift 2
	for ((i = 1; i <= count; i++)); do
		"$@" && return 0
		[ "$i" -lt "$count" ] && sleep "$delay"
	done
	return 1
}

# t_need CMD...: skips the current case (or file) unless every command exists.
t_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || { t_skip "needs $c"; return 1; }
	done
}

# t_root: skips unless running as root (netns, XDP and bpffs need it).
t_root() { [ "$(id -u)" = 0 ] || { t_skip "needs root"; return 1; }; }
