# SPDX-License-Identifier: GPL-2.0-only
#
# Shared by tests/bench/smoke_*.sh (sourced from the repository root): the
# result line tests/run.sh counts, and the checks that fail a smoke run when
# its benchmark is not built or skip it without root.

OUTPUT=${OUTPUT:-.output}

# result PASSED FAILED [SKIPPED]: print the XLBT-RESULT line and end the run.
result() { echo "XLBT-RESULT passed=$1 failed=$2 skipped=${3:-0}"; exit 0; }

# need_bin PATH: not ok (one failure) unless the benchmark binary is built.
need_bin() {
	[ -x "$1" ] && return 0
	echo "not ok - $1 is not built (make test-bins)"
	result 0 1 0
}

# need_root WHY: skipped unless running as root; WHY says what needs it.
need_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "skip - $1"
	result 0 0 1
}
