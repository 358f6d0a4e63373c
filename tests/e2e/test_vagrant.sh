#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Vagrant lab's files are valid: `vagrant validate` on vagrant/Vagrantfile
# (--ignore-provider, so that no VirtualBox or libvirt is needed) and a shell
# syntax check of its provisioning script. Skipped when vagrant is not
# installed; boots nothing.
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# No version check over the network (Debian's vagrant lacks the checkpoint
# library anyway), and no state in the user's home.
export VAGRANT_CHECKPOINT_DISABLE=1
export VAGRANT_HOME=${TMPDIR:-/tmp}/xlb-vagrant-home.$$
t_on_exit "rm -rf '$VAGRANT_HOME'"

test_validate() {
	t_need vagrant
	local out
	out=$(cd "$ROOT/vagrant" && timeout 120 vagrant validate --ignore-provider 2>&1) || {
		printf '%s\n' "$out" | tail -20
		t_fail "vagrant validate failed"
	}
	t_match "$out" "validated successfully" "vagrant validate"
}

test_provision_syntax() {
	t_ok "bash -n vagrant/provision.sh" bash -n "$ROOT/vagrant/provision.sh"
	t_match "$(grep -c 'config.vm.define' "$ROOT/vagrant/Vagrantfile")" "^1$" "one define loop"
	for role in client lb router r1 r2 r3; do
		t_match "$(cat "$ROOT/vagrant/Vagrantfile")" "\"$role\"" "node $role defined"
	done
}

if ! command -v vagrant >/dev/null 2>&1; then
	t_skip "vagrant is not installed"
	t_finish
fi
t_run vagrant_validate test_validate
t_run vagrant_provision_syntax test_provision_syntax
t_finish
