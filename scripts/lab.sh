#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The xlb lab: clients, LB hosts, real servers and a router in network
# namespaces that this script creates and removes, joined by veth pairs and
# bridges that live in a "switch" namespace of the lab (never in the host's).
#
#   scripts/lab.sh up [--lbs N] [--reals N] [--clients N] [--v6] [--routed]
#   scripts/lab.sh down | status | env
#   scripts/lab.sh exec NODE CMD...        # NODE: c1.., lb1.., r1.., rt, sw
#   scripts/lab.sh xlbd [--lb N] [XLBD-ARGS...]   # start xlbd on lbN (default lb1)
#   scripts/lab.sh xlbd-kill [--lb N] [SIGNAL]    # signal it (default TERM), wait for it
#   scripts/lab.sh ctl [--lb N] VERB [ARGS...]    # xlbctl against lbN's daemon
#
# Every name carries the prefix $XLB_LAB_PREFIX (default "xlb"): namespaces
# are PREFIX-NODE, interfaces inside them PREFIX-NODE too (unique, because
# xlbd pins its maps under /sys/fs/bpf/xlb/<ifname>/ in the host's shared
# bpffs), run files live under /run/xlb-lab/PREFIX/. `down` removes exactly
# the namespaces, pins and files of its own prefix, so labs with different
# prefixes can run side by side.
#
# Topology (segment A is one L2 bridge, br0; segment B, br1, only with --routed):
#
#   c1..cK ---+                         +--- r1..rM (default)
#   lb1..lbN -+-- br0 (198.18.0.0/22) --+
#             +--- rt (router) --- br1 (198.19.2.0/24) --- r1..rM (--routed)
#
#   client i   198.18.0.i     2001:db8::i
#   LB i       198.18.1.i     2001:db8::1:i
#   real i     198.18.2.i     2001:db8::2:i         (--routed: 198.19.2.i, 2001:db8:19::i)
#   router     198.18.3.1     2001:db8::3:1         and 198.19.2.254, 2001:db8:19::fe
#   VIPs       198.18.10.1-$VIPS (/32 on every real's lo), 2001:db8:10::1-$VIPS (with --v6)
#
# Clients route 198.18.10.0/24 (and 2001:db8:10::/64) via the LB, or as a
# multipath (ECMP, L4 hash) route over all LBs when there are several. LBs
# route segment B via the router. Reals answer clients directly (DSR).
#
# Services on every real: nginx on port 80 (every address, v4 and v6)
# answering "<real name>\n" (e.g. "r2"), keep-alive allowed for a long time;
# a UDP echo on port 7 of every address answering "<real name> <payload
# line>" from the address the datagram was sent to, the VIP (DSR)
# (scripts/lab-udp-echo.py).
# The reals run xlb's decap program (build/bin/xlb-decap) when it is built.
#
# Veth facts of this kernel, measured in this lab with the balancer on lb1
# (and re-checked by tests/e2e/test_traffic.sh, case veth_facts):
# - A frame sent with XDP_TX by the balancer on lbN's veth is delivered to
#   the peer (the bridge port p-lbN in the switch namespace) only when that
#   peer has an XDP program attached; without one every connection to the
#   VIP timed out (frames counted as xdp_tx, never received). So every
#   bridge port facing an LB gets .output/xdp_pass.bpf.o
#   (bpf/xdp_pass.bpf.c). The bridge then forwards ordinary skbs, so the
#   reals', router's and clients' ports need nothing.
# - Transmit checksum offload (and with it TSO): a client that sends with
#   offload on hands the bridge partial-checksum GSO super-packets; if the
#   bridge port towards the LB also has offload on, they reach the
#   balancer's XDP program as they are and do not survive XDP_TX: a 1 MB
#   upload through the VIP failed every time, while small requests passed.
#   With offload off on either of the two (the client's veth, or p-lbN,
#   where the bridge then segments and checksums in software) it passed.
#   The lab turns it off on every veth end (`ethtool -K IF tx off`): it
#   costs nothing here and keeps every path alike.
# - MTU: encapsulation adds 20 (IPIP in IPv4), 28 (GUE in IPv4), 40 (IPIP in
#   IPv6) or 48 (GUE in IPv6) bytes. Clients keep MTU 1500; LBs, router and
#   reals use $CORE_MTU (1600), as an operator raises the MTU between LBs
#   and reals or clamps the MSS. Replies stay within 1500 (client's MSS).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=${XLB_LAB_PREFIX:-xlb}
RUN_BASE=${XLB_LAB_RUN:-/run/xlb-lab}
RUN=$RUN_BASE/$P
BIN=${BIN:-build/bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$ROOT/$OUTPUT ;; esac
XDP_PASS_OBJ=$OUTPUT/xdp_pass.bpf.o
CLIENT_MTU=${XLB_LAB_CLIENT_MTU:-1500}
CORE_MTU=${XLB_LAB_CORE_MTU:-1600}
VIPS=${XLB_LAB_VIPS:-4}		# VIPs 198.18.10.1..VIPS on the reals
UDP_PORT=7

die() { echo "lab: $*" >&2; exit 1; }
say() { [ -n "${QUIET:-}" ] || echo "lab: $*"; }

[[ $P =~ ^[a-z][a-z0-9]{0,9}$ ]] ||
	die "XLB_LAB_PREFIX '$P' must be 1-10 lower-case letters/digits starting with a letter"

ns() { echo "$P-$1"; }			# namespace of a node
ifn() { echo "$P-$1"; }			# its interface on the lab (unique host-wide)
inns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# ---- addresses (shared with the tests through `lab.sh env`) ----
client4() { echo "198.18.0.$1"; }
client6() { echo "2001:db8::$1"; }
lb4() { echo "198.18.1.$1"; }
lb6() { echo "2001:db8::1:$1"; }
real4() { if [ "$ROUTED" = 1 ]; then echo "198.19.2.$1"; else echo "198.18.2.$1"; fi; }
real6() { if [ "$ROUTED" = 1 ]; then echo "2001:db8:19::$1"; else echo "2001:db8::2:$1"; fi; }
RT4=198.18.3.1 RT6=2001:db8::3:1 RTB4=198.19.2.254 RTB6=2001:db8:19::fe
vip4() { echo "198.18.10.$1"; }
vip6() { echo "2001:db8:10::$1"; }

load_state() {
	LBS=1 REALS=3 CLIENTS=1 V6=0 ROUTED=0
	# shellcheck disable=SC1091
	[ -f "$RUN/lab.env" ] && . "$RUN/lab.env"
	return 0
}

# Namespaces of this prefix that exist now.
own_netns() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$P-[a-z]+[0-9]*\$" || true
}

# ---- down ----

# Stops the processes inside one of our namespaces (started by this lab or
# its users: nginx, the UDP echo, xlbd), TERM first, KILL after 3 s.
stop_ns_procs() {
	local n=$1 pids i
	pids=$(ip netns pids "$n" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		pids=$(ip netns pids "$n" 2>/dev/null || true)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	sleep 0.2
}

cmd_down() {
	local n d
	for n in $(own_netns); do
		stop_ns_procs "$n"
	done
	for n in $(own_netns); do
		ip netns del "$n" 2>/dev/null || true
	done
	# Pins left by an xlbd that was killed, or by xlb-decap: only the
	# directories named after this lab's interfaces.
	for d in /sys/fs/bpf/xlb/"$P"-* /sys/fs/bpf/xlb/*/"$P"-* /sys/fs/bpf/xlb-decap/"$P"-*; do
		[ -e "$d" ] || continue
		[[ $(basename "$d") =~ ^$P-(lb|r)[0-9]+$ ]] || continue
		rm -rf "$d"
	done
	# The directories xlb-decap and xlbd create above those, once empty
	# (rmdir leaves them to any other lab that still has pins there).
	rmdir /sys/fs/bpf/xlb/decap /sys/fs/bpf/xlb 2>/dev/null || true
	rm -rf "$RUN"
	[ -n "$(own_netns)" ] && die "namespaces left: $(own_netns | tr '\n' ' ')"
	say "down ($P)"
}

# ---- up ----

new_ns() {
	local n=$1 name
	name=$(ns "$n")
	ip netns add "$name"
	ip -n "$name" link set lo up
	inns "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
}

# wire NODE IFNAME BRIDGE MTU: a veth from NODE to a new port of BRIDGE in
# the switch namespace; checksum offload off on both ends.
wire() {
	local n=$1 ifname=$2 br=$3 mtu=$4 port
	port=p-${ifname#"$P"-}
	ip -n "$(ns "$n")" link add "$ifname" mtu "$mtu" type veth peer name "$port" netns "$(ns sw)"
	ip -n "$(ns sw)" link set "$port" mtu "$mtu" master "$br" up
	inns "$n" ethtool -K "$ifname" tx off >/dev/null
	inns sw ethtool -K "$port" tx off >/dev/null
	ip -n "$(ns "$n")" link set "$ifname" up
}

addr() { # NODE IFNAME ADDR4/LEN [ADDR6/LEN]
	ip -n "$(ns "$1")" addr add "$3" dev "$2"
	[ "$V6" = 1 ] && [ -n "${4:-}" ] && ip -n "$(ns "$1")" -6 addr add "$4" dev "$2" nodad
	return 0
}

ensure_xdp_pass() {
	[ -f "$XDP_PASS_OBJ" ] && return 0
	make -s -C "$ROOT" "${XDP_PASS_OBJ#"$ROOT"/}" >/dev/null ||
		die "cannot build $XDP_PASS_OBJ"
}

start_real_services() {
	local i=$1 n dir conf name
	n=r$i
	name=$n
	dir=$RUN/$n
	mkdir -p "$dir/tmp"
	conf=$dir/nginx.conf
	cat >"$conf" <<EOF
# nginx of lab real $name (generated by scripts/lab.sh)
worker_processes 1;
daemon on;
user root;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	keepalive_timeout 600s;
	keepalive_requests 1000000;
	server {
		listen 80 backlog=4096;
		$([ "$V6" = 1 ] && echo "listen [::]:80 ipv6only=on backlog=4096;")
		location / {
			default_type text/plain;
			add_header X-Real $name;
			return 200 "$name\n";
		}
	}
}
EOF
	inns "$n" nginx -c "$conf" -e "$dir/nginx-error.log" </dev/null >/dev/null 2>&1 ||
		die "nginx failed on $n: $(tail -3 "$dir/nginx-error.log" 2>/dev/null)"

	# UDP echo: one process for every address (VIPs included), replying
	# from the address each datagram was sent to (DSR); see its lead comment.
	local v6=()
	[ "$V6" = 1 ] && v6=(--v6)
	inns "$n" setsid python3 "$ROOT/scripts/lab-udp-echo.py" "$name" "$UDP_PORT" "${v6[@]}" \
		</dev/null >>"$dir/udp-echo.log" 2>&1 &
}

cmd_up() {
	local i v n nh4 nh6
	LBS=1 REALS=3 CLIENTS=1 V6=0 ROUTED=0
	while [ $# -gt 0 ]; do
		case $1 in
		--lbs) LBS=$2; shift 2 ;;
		--reals) REALS=$2; shift 2 ;;
		--clients) CLIENTS=$2; shift 2 ;;
		--v6) V6=1; shift ;;
		--routed) ROUTED=1; shift ;;
		*) die "up: unknown option $1 (accepted: --lbs N --reals N --clients N --v6 --routed)" ;;
		esac
	done
	[[ $LBS =~ ^[0-9]+$ ]] && [ "$LBS" -ge 1 ] && [ "$LBS" -le 8 ] || die "--lbs: 1..8"
	[[ $REALS =~ ^[0-9]+$ ]] && [ "$REALS" -ge 1 ] && [ "$REALS" -le 16 ] || die "--reals: 1..16"
	[[ $CLIENTS =~ ^[0-9]+$ ]] && [ "$CLIENTS" -ge 1 ] && [ "$CLIENTS" -le 8 ] || die "--clients: 1..8"
	[ "$(id -u)" = 0 ] || die "needs root"
	for t in ip ethtool nginx python3; do command -v $t >/dev/null || die "needs $t (make deps)"; done
	ensure_xdp_pass

	# Rebuild from scratch: `up` twice gives the same lab. A failure half-way
	# removes the half-built lab again.
	QUIET=1 cmd_down
	trap 'rc=$?; if [ $rc != 0 ]; then echo "lab: up failed, removing the lab" >&2; QUIET=1 cmd_down; fi' EXIT
	# Interrupted (Ctrl-C, a test's time limit): exit with the signal's
	# status, so that the EXIT trap above sees a failure ($? is 0 in an EXIT
	# trap run for an untrapped signal, and the half-built lab would stay).
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p "$RUN"
	cat >"$RUN/lab.env" <<EOF
LBS=$LBS
REALS=$REALS
CLIENTS=$CLIENTS
V6=$V6
ROUTED=$ROUTED
EOF

	# The switch: bridges only, no addresses.
	new_ns sw
	ip -n "$(ns sw)" link add br0 type bridge mcast_snooping 0
	ip -n "$(ns sw)" link set br0 up
	if [ "$ROUTED" = 1 ]; then
		ip -n "$(ns sw)" link add br1 type bridge mcast_snooping 0
		ip -n "$(ns sw)" link set br1 up
	fi

	for ((i = 1; i <= CLIENTS; i++)); do
		n=c$i
		new_ns $n
		inns $n sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
			net.ipv6.fib_multipath_hash_policy=1 >/dev/null
		wire $n "$(ifn $n)" br0 "$CLIENT_MTU"
		addr $n "$(ifn $n)" "$(client4 $i)/22" "$(client6 $i)/64"
		if [ "$LBS" = 1 ]; then
			ip -n "$(ns $n)" route add 198.18.10.0/24 via "$(lb4 1)"
			[ "$V6" = 1 ] && ip -n "$(ns $n)" -6 route add 2001:db8:10::/64 via "$(lb6 1)"
		else
			nh4=() nh6=()
			for ((v = 1; v <= LBS; v++)); do
				nh4+=(nexthop via "$(lb4 $v)")
				nh6+=(nexthop via "$(lb6 $v)")
			done
			ip -n "$(ns $n)" route add 198.18.10.0/24 "${nh4[@]}"
			[ "$V6" = 1 ] && ip -n "$(ns $n)" -6 route add 2001:db8:10::/64 "${nh6[@]}"
		fi
		# Segment B directly via the router (diagnostics; the VIPs go via the LBs).
		if [ "$ROUTED" = 1 ]; then
			ip -n "$(ns $n)" route add 198.19.2.0/24 via $RT4
			[ "$V6" = 1 ] && ip -n "$(ns $n)" -6 route add 2001:db8:19::/64 via $RT6
		fi
	done

	for ((i = 1; i <= LBS; i++)); do
		n=lb$i
		new_ns $n
		wire $n "$(ifn $n)" br0 "$CORE_MTU"
		addr $n "$(ifn $n)" "$(lb4 $i)/22" "$(lb6 $i)/64"
		# The balancer XDP_TXes out of this veth: its bridge port needs
		# an XDP program to receive those frames (see the lead comment).
		ip -n "$(ns sw)" link set dev "p-$n" xdpdrv obj "$XDP_PASS_OBJ" sec xdp
		if [ "$ROUTED" = 1 ]; then
			ip -n "$(ns $n)" route add 198.19.2.0/24 via $RT4
			[ "$V6" = 1 ] && ip -n "$(ns $n)" -6 route add 2001:db8:19::/64 via $RT6
		fi
	done

	if [ "$ROUTED" = 1 ]; then
		n=rt
		new_ns $n
		inns $n sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
		wire $n "$(ifn rt)" br0 "$CORE_MTU"
		wire $n "$(ifn rtb)" br1 "$CORE_MTU"
		addr $n "$(ifn rt)" "$RT4/22" "$RT6/64"
		addr $n "$(ifn rtb)" "$RTB4/24" "$RTB6/64"
	fi

	for ((i = 1; i <= REALS; i++)); do
		n=r$i
		new_ns $n
		# DSR: the VIPs are local (on lo) but never answered for on
		# the wire (arp_ignore/arp_announce, as for LVS-DR), and
		# replies from a VIP leave by the normal route (rp_filter off).
		inns $n sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 >/dev/null
		if [ "$ROUTED" = 1 ]; then
			wire $n "$(ifn $n)" br1 "$CORE_MTU"
			addr $n "$(ifn $n)" "$(real4 $i)/24" "$(real6 $i)/64"
			ip -n "$(ns $n)" route add default via $RTB4
			[ "$V6" = 1 ] && ip -n "$(ns $n)" -6 route add default via $RTB6
		else
			wire $n "$(ifn $n)" br0 "$CORE_MTU"
			addr $n "$(ifn $n)" "$(real4 $i)/22" "$(real6 $i)/64"
		fi
		for ((v = 1; v <= VIPS; v++)); do
			ip -n "$(ns $n)" addr add "$(vip4 $v)/32" dev lo
			[ "$V6" = 1 ] && ip -n "$(ns $n)" -6 addr add "$(vip6 $v)/128" dev lo nodad
		done
		if [ -x "$BIN/xlb-decap" ]; then
			# nsenter --net only: xlb-decap shares the host's bpffs.
			nsenter --net="/run/netns/$(ns $n)" "$BIN/xlb-decap" attach "$(ifn $n)" \
				>"$RUN/decap-$n.log" 2>&1 ||
				die "xlb-decap attach failed on $n: $(tail -3 "$RUN/decap-$n.log")"
			echo 1 >"$RUN/decap-$n.ok"
		fi
		start_real_services $i
	done

	prime_neighbours
	wait_udp_echoes
	trap - EXIT INT TERM
	say "up ($P): $CLIENTS client(s), $LBS LB(s), $REALS real(s)$([ "$ROUTED" = 1 ] && echo " behind the router")$([ "$V6" = 1 ] && echo ", IPv6")"
	[ -x "$BIN/xlb-decap" ] || say "note: $BIN/xlb-decap is not built: reals cannot decapsulate"
}

# Warms the LBs' and clients' neighbour tables (xlbd reads next-hop MACs
# from them): one UDP datagram to the discard port of every neighbour that
# forwarding needs (the host has no ping), then a bounded wait for the
# entries. Bounded: one datagram each, 2 s in all.
probe() { # NODE ADDR
	inns "$1" timeout 1 bash -c "echo probe >/dev/udp/$2/9" 2>/dev/null || true
}
prime_neighbours() {
	local i j k want=()
	for ((i = 1; i <= LBS; i++)); do
		if [ "$ROUTED" = 1 ]; then
			want+=("lb$i $RT4")
			[ "$V6" = 1 ] && want+=("lb$i $RT6")
		else
			for ((j = 1; j <= REALS; j++)); do
				want+=("lb$i $(real4 $j)")
				[ "$V6" = 1 ] && want+=("lb$i $(real6 $j)")
			done
		fi
		for ((j = 1; j <= CLIENTS; j++)); do
			want+=("c$j $(lb4 $i)")
			[ "$V6" = 1 ] && want+=("c$j $(lb6 $i)")
		done
	done
	for k in "${want[@]}"; do
		# shellcheck disable=SC2086
		probe $k
	done
	for ((i = 0; i < 20; i++)); do
		j=0
		for k in "${want[@]}"; do
			# shellcheck disable=SC2086
			set -- $k
			ip -n "$(ns "$1")" neigh show "$2" | grep -q lladdr || j=$((j + 1))
		done
		[ "$j" = 0 ] && return 0
		sleep 0.1
	done
	say "warning: $j neighbour entries unresolved"
}

# The UDP echoes start in the background: `up` returns once every one of
# them is bound (v4, and v6 with --v6), so that a test's first datagram
# finds it. nginx needs no wait (it binds before it daemonizes). Bounded:
# 10 s in all.
wait_udp_echoes() {
	local i n left=0
	for ((n = 0; n < 100; n++)); do
		left=0
		for ((i = 1; i <= REALS; i++)); do
			[ "$(inns "r$i" ss -Hlun "sport = :$UDP_PORT" | wc -l)" -ge $((1 + V6)) ] ||
				left=$((left + 1))
		done
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	die "the UDP echo of $left real(s) not bound after 10 s (see $RUN/r*/udp-echo.log)"
}

# ---- status, env, exec ----

cmd_status() {
	local n
	load_state
	if [ -z "$(own_netns)" ]; then
		echo "lab $P: down"
		return 0
	fi
	echo "lab $P: clients=$CLIENTS lbs=$LBS reals=$REALS v6=$V6 routed=$ROUTED run=$RUN"
	for n in $(own_netns); do
		echo "== $n"
		ip -n "$n" -br addr show | grep -v '^lo ' | sed 's/^/   /' || true
		ip -n "$n" -o link show | awk '/prog\/xdp/ {sub(/@.*/, "", $2); print "   xdp on " $2}' || true
		ip netns pids "$n" 2>/dev/null | xargs -r ps -o comm= -p 2>/dev/null |
			sort | uniq -c | awk '{printf "   %s x%s\n", $2, $1}' || true
	done
}

# Shell assignments describing the lab, for tests and scripts:
#   eval "$(scripts/lab.sh env)"
cmd_env() {
	local i
	load_state
	echo "LAB_PREFIX=$P LAB_RUN=$RUN LAB_LBS=$LBS LAB_REALS=$REALS LAB_CLIENTS=$CLIENTS"
	echo "LAB_V6=$V6 LAB_ROUTED=$ROUTED LAB_UDP_PORT=$UDP_PORT LAB_VIPS=$VIPS"
	echo "LAB_VIP4=$(vip4 1) LAB_VIP6=$(vip6 1)"
	for ((i = 1; i <= CLIENTS; i++)); do echo "LAB_C${i}_4=$(client4 $i) LAB_C${i}_6=$(client6 $i)"; done
	for ((i = 1; i <= LBS; i++)); do
		echo "LAB_LB${i}_4=$(lb4 $i) LAB_LB${i}_6=$(lb6 $i) LAB_LB${i}_IF=$(ifn lb$i)"
		echo "LAB_LB${i}_SOCK=$RUN/lb$i/xlbd.sock LAB_LB${i}_STATE=$RUN/lb$i/state"
	done
	for ((i = 1; i <= REALS; i++)); do
		echo "LAB_R${i}_4=$(real4 $i) LAB_R${i}_6=$(real6 $i) LAB_R${i}_IF=$(ifn r$i)"
	done
}

cmd_exec() {
	local n=$1
	shift
	[ -e "/run/netns/$(ns "$n")" ] || die "no node $n in lab $P"
	# nsenter --net keeps the host's mount namespace (and bpffs), unlike
	# `ip netns exec`, so pinned maps stay shared.
	exec nsenter --net="/run/netns/$(ns "$n")" -- "$@"
}

lb_arg() {
	LB=1
	if [ "${1:-}" = --lb ]; then LB=$2; return 2; fi
	return 0
}

cmd_xlbd() {
	local dir pidf i rc=0
	lb_arg "$@" || rc=$?; shift $rc
	[ -x "$BIN/xlbd" ] || die "$BIN/xlbd is not built"
	[ -e "/run/netns/$(ns lb$LB)" ] || die "no lb$LB in lab $P (lab.sh up first)"
	dir=$RUN/lb$LB
	pidf=$dir/xlbd.pid
	mkdir -p "$dir/state"
	if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		die "xlbd already runs on lb$LB (pid $(cat "$pidf"))"
	fi
	rm -f "$dir/xlbd.sock"
	# setsid: its own session, so that a test's job control or a Ctrl-C in
	# the caller's terminal does not reach it; nsenter --net so that its
	# pins are in the host's bpffs and outlive it.
	setsid nsenter --net="/run/netns/$(ns lb$LB)" -- "$BIN/xlbd" --iface "$(ifn lb$LB)" \
		--foreground --state-dir "$dir/state" --socket "$dir/xlbd.sock" "$@" \
		</dev/null >>"$dir/xlbd.log" 2>&1 &
	echo $! >"$pidf"
	for ((i = 0; i < 100; i++)); do
		[ -S "$dir/xlbd.sock" ] && { say "xlbd on lb$LB: pid $(cat "$pidf"), log $dir/xlbd.log"; return 0; }
		kill -0 "$(cat "$pidf")" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$dir/xlbd.log" >&2
	die "xlbd on lb$LB did not come up (socket $dir/xlbd.sock)"
}

cmd_xlbd_kill() {
	local pidf pid sig i rc=0
	lb_arg "$@" || rc=$?; shift $rc
	sig=${1:-TERM}
	pidf=$RUN/lb$LB/xlbd.pid
	[ -f "$pidf" ] || die "no xlbd pid file for lb$LB"
	pid=$(cat "$pidf")
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$pidf"; return 0; }
		sleep 0.1
	done
	die "xlbd (pid $pid) still runs 5 s after SIG$sig"
}

cmd_ctl() {
	local rc=0
	lb_arg "$@" || rc=$?; shift $rc
	[ -x "$BIN/xlbctl" ] || die "$BIN/xlbctl is not built"
	[ $# -ge 1 ] || die "ctl: VERB missing"
	exec "$BIN/xlbctl" --socket "$RUN/lb$LB/xlbd.sock" "$@"
}

usage() {
	sed -n '4,/^# Every name/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-2}"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
up) cmd_up "$@" ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
exec) [ $# -ge 2 ] || usage; cmd_exec "$@" ;;
xlbd) load_state; cmd_xlbd "$@" ;;
xlbd-kill) load_state; cmd_xlbd_kill "$@" ;;
ctl) cmd_ctl "$@" ;;
-h|--help|help) usage 0 ;;
*) echo "lab: unknown command '$cmd'" >&2; usage ;;
esac
