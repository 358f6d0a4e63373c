#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The traffic scenarios of test_traffic.sh with the reals behind the lab's
# router (segment B, 198.19.2.0/24 and 2001:db8:19::/64): the LB sends the
# encapsulated packets to the router's MAC, the router forwards them as plain
# IP, the reals decapsulate and answer the client through the router.
export XLB_E2E_ROUTED=1
exec bash "$(dirname "$0")/test_traffic.sh" "$@"
