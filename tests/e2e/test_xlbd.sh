#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xlbd and xlbctl against the pinned maps, in the netns lab (scripts/lab.sh,
# its own prefix, torn down on exit): every verb is checked in the maps
# themselves (bpftool dumps of /sys/fs/bpf/xlb/IFACE/*), bad input of every
# kind is refused with a message naming the problem while the daemon keeps
# running and nothing changes, non-root peers are refused, a SIGKILL restart
# adopts the attached program and the maps (same program id, same ring map),
# tampered map entries are repaired (SIGHUP, and on start), SIGHUP reloads
# the config file, and `shutdown --detach` removes program and pins.
# Traffic through the VIPs checks that what the maps say is what packets do.
set -euo pipefail
. "$(dirname "$0")/../lib/e2e.sh"
e2e_require_file
if [ -n "$(e2e_missing xlbd xlbctl xlb-decap)" ]; then
	t_skip "not built yet: $(e2e_missing xlbd xlbctl xlb-decap)"
	t_finish
fi
command -v bpftool >/dev/null || { t_skip "needs bpftool"; t_finish; }

V1=198.18.10.1:80/tcp
V2=198.18.10.2:80/tcp
MAPS=$T_DIR/maps.py

# maps.py PIN CMD [ARGS]: reads the pinned maps with bpftool and prints one fact.
cat >"$MAPS" <<'EOF'
import json, subprocess, sys, collections
pin, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]

def dump(what):
    return json.loads(subprocess.check_output(["bpftool", "map", "dump"] + what + ["-j"]))

def addr(a, fam):
    import ipaddress
    b = bytes(a["bytes"])
    return str(ipaddress.ip_address(b[:4] if fam == 4 else b))

def vips():
    out = {}
    for e in dump(["pinned", pin + "/xlb_vips"]):
        k, v = e["formatted"]["key"], e["formatted"]["value"]
        port = ((k["port"] & 0xff) << 8) | (k["port"] >> 8)
        a = addr(k["addr"], k["family"])
        name = ("[%s]" % a if k["family"] == 6 else a) + ":%d/%s" % (port, {6: "tcp", 17: "udp"}[k["proto"]])
        out[name] = v
    return out

def inner_id(vip_id):
    key = [str(b) for b in vip_id.to_bytes(4, "little")]
    r = json.loads(subprocess.check_output(["bpftool", "map", "lookup", "pinned", pin + "/xlb_rings", "key"] + key + ["-j"]))
    return r.get("formatted", {}).get("value", None) or int.from_bytes(bytes(int(x, 16) for x in r["value"]), "little")

def ring(vip_id):
    # Inner maps carry no BTF: raw little-endian bytes.
    return [int.from_bytes(bytes(int(x, 16) for x in e["value"]), "little")
            for e in dump(["id", str(inner_id(vip_id))])]

def real(idx):
    # One lookup, not a dump: xlb_reals has 65536 entries, and a dump of them
    # takes seconds on a loaded VM (long enough to outlast a quarantine).
    key = [str(b) for b in idx.to_bytes(4, "little")]
    e = json.loads(subprocess.check_output(["bpftool", "map", "lookup", "pinned", pin + "/xlb_reals", "key"] + key + ["-j"]))
    v = e["formatted"]["value"]
    return {"addr": addr(v["addr"], v["family"]) if v["family"] else "", "family": v["family"],
            "flags": v["flags"], "mac": ":".join("%02x" % b for b in v["next_hop_mac"])}

if cmd == "vip":          # VIP -> "id ring_size hash encap" or "none"
    v = vips().get(args[0])
    print("none" if v is None else "%d %d %d %d" % (v["id"], v["ring_size"], v["hash_mode"], v["encap"]))
elif cmd == "nvips":
    print(len(vips()))
elif cmd == "ring":       # VIP id -> "index:slots ..." sorted by index
    c = collections.Counter(ring(int(args[0])))
    print(" ".join("%d:%d" % kv for kv in sorted(c.items())))
elif cmd == "ringsize":
    print(len(ring(int(args[0]))))
elif cmd == "inner":
    print(inner_id(int(args[0])))
elif cmd == "ringsum":
    import hashlib
    print(hashlib.sha1(json.dumps(ring(int(args[0]))).encode()).hexdigest())
elif cmd == "real":       # index -> "addr flags mac"
    r = real(int(args[0]))
    print("%s %d %s" % (r["addr"] or "-", r["flags"], r["mac"]))
elif cmd == "addrs":      # "addr:count ..."
    out = []
    for e in dump(["pinned", pin + "/xlb_vip_addrs"]):
        k = e["formatted"]["key"]
        out.append("%s:%d" % (addr(k["addr"], k["family"]), e["formatted"]["value"]))
    print(" ".join(sorted(out)))
EOF

maps() { python3 "$MAPS" "$PIN" "$@"; }
vip_id() { maps vip "$1" | cut -d' ' -f1; }
# idx VIP REAL: the real index xlbd gave the pair (from list -j).
idx() {
	jget "$(ctl list -j)" '[r["index"] for v in j["vips"] if v["vip"] == "'"$1"'" for r in v["reals"] if r["address"] == "'"$2"'"][0]'
}
prog_id() { ip -n "$LAB_PREFIX-lb1" -j link show "$LAB_LB1_IF" | jget "$(cat)" 'j[0].get("xdp", {}).get("prog", {}).get("id", 0)'; }
alive() { kill -0 "$(cat "$LAB_RUN/lb1/xlbd.pid")" 2>/dev/null; }
# fails CMD...: the command must fail with a one-line error; prints it.
fails() {
	local out rc=0
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" != 0 ] || { t_fail "succeeded but must fail: $*"; return 1; }
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || { t_fail "not one line: $out"; return 1; }
	printf '%s\n' "$out"
}

e2e_lab_up --reals 4
PIN=/sys/fs/bpf/xlb/$LAB_LB1_IF
# Quarantine long enough for the checks in between, short enough to watch it end.
e2e_xlbd --quarantine 6

test_verbs_vs_maps() {
	local id i1 i2 i3 i4 t0 want ring before after changed out
	ctl add-vip $V1 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	ctl add-real $V1 "$LAB_R2_4" >/dev/null
	before=$(maps ring "$(vip_id $V1)")
	ctl add-real $V1 "$LAB_R3_4" --weight 2 >/dev/null
	id=$(vip_id $V1)
	t_eq "$(maps vip $V1)" "$id 65537 0 0" "xlb_vips entry: id, ring 65537, 5tuple, ipip"
	t_eq "$(maps addrs)" "198.18.10.1:1" "xlb_vip_addrs"
	i1=$(idx $V1 "$LAB_R1_4"); i2=$(idx $V1 "$LAB_R2_4"); i3=$(idx $V1 "$LAB_R3_4")
	t_match "$(maps real "$i1")" "^$LAB_R1_4 0 ([0-9a-f]{2}:){5}[0-9a-f]{2}$" "xlb_reals[$i1]"
	t_ne "$(maps real "$i3" | cut -d' ' -f3)" "00:00:00:00:00:00" "next-hop MAC resolved"
	ring=$(maps ring "$id")
	t_log "ring: $ring (index:slots), before r3: $before"
	# Weights 1:1:2 of 65537 slots: 16384, 16384, 32768 within 2%.
	python3 - "$ring" "$i1" "$i2" "$i3" <<'EOF' || t_fail "ring shares off: $ring"
import sys
c = dict(map(int, kv.split(":")) for kv in sys.argv[1].split())
want = {int(sys.argv[2]): 0.25, int(sys.argv[3]): 0.25, int(sys.argv[4]): 0.5}
assert set(c) == set(want), c
assert all(abs(c[i] / 65537 - w) < 0.02 for i, w in want.items()), c
EOF
	# Adding r3 (weight 2 of 4) moves about half the slots, all of them to r3.
	changed=$(python3 -c 'import sys
a = dict(map(int, kv.split(":")) for kv in sys.argv[1].split())
b = dict(map(int, kv.split(":")) for kv in sys.argv[2].split())
print(b.get(int(sys.argv[3]), 0))' "$before" "$ring" "$i3")
	t_le "$changed" 34000 "slots that moved to the new real"

	out=$(client conns --addr 198.18.10.1 --count 200)
	t_log "traffic: $(counts_of "$out")"
	t_eq "$(jget "$out" 'j["failed"]')" 0 "requests failed"

	# Drain: r3 keeps its entry (flags 0) but has no slot.
	ctl set-weight $V1 "$LAB_R3_4" 0 >/dev/null
	t_eq "$(maps ring "$id" | tr ' ' '\n' | grep -c "^$i3:" || true)" 0 "drained real has no slots"
	t_eq "$(maps real "$i3" | cut -d' ' -f2)" 0 "drained real not flagged down"
	t_eq "$(jget "$(ctl list -j)" '[r["state"] for v in j["vips"] for r in v["reals"] if r["address"] == "'"$LAB_R3_4"'"][0]')" drain "list state"

	# Removal: slots rewritten, entry flagged down, index quarantined, then freed.
	# r4 is added right after the removal, before the slow checks (a ring dump
	# takes seconds on a loaded VM), so that it comes well inside the 6 s
	# quarantine whatever the machine's speed; the gap is logged.
	t0=$(date +%s%3N)
	ctl del-real $V1 "$LAB_R2_4" >/dev/null
	ctl add-real $V1 "$LAB_R4_4" >/dev/null
	i4=$(idx $V1 "$LAB_R4_4")
	t_log "r2 (index $i2) removed, r4 added $(($(date +%s%3N) - t0)) ms later: index $i4 (quarantine 6 s)"
	t_ne "$i4" "$i2" "quarantined index not reused"
	t_eq "$(maps real "$i2" | cut -d' ' -f1-2)" "$LAB_R2_4 1" "removed real flagged XLB_REAL_F_DOWN"
	want="$(printf '%s\n' "$i1" "$i4" | sort -n | tr '\n' ' ')"
	# (r4's next hop is normally known at once; a wait covers an ARP round.)
	t_wait_for 10 bash -c "[ \"\$(python3 '$MAPS' '$PIN' ring $id | tr ' ' '\n' | cut -d: -f1 | sort -n | tr '\n' ' ')\" = '$want' ]" ||
		t_eq "$(maps ring "$id" | tr ' ' '\n' | cut -d: -f1 | sort -n | tr '\n' ' ')" "$want" "only r1 and r4 in the ring"
	t_wait_for 20 bash -c "[ \"\$(python3 '$MAPS' '$PIN' real $i2)\" = '- 0 00:00:00:00:00:00' ]" ||
		t_fail "quarantined index $i2 not freed: $(maps real "$i2")"
	out=$(client conns --addr 198.18.10.1 --count 100)
	t_eq "$(jget "$out" 'sorted(j["counts"])')" "['r1', 'r4']" "traffic goes to r1 and r4 only"

	ctl del-vip $V1 >/dev/null
	t_eq "$(maps vip $V1)" none "VIP gone from xlb_vips"
	t_eq "$(maps addrs)" "" "xlb_vip_addrs empty"
}

test_bad_input() {
	local before msg big
	ctl add-vip $V1 --ring-size 251 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	before=$(ctl dump)
	msg=$(fails ctl add-vip 198.18.10.300:80/tcp); t_match "$msg" '198.18.10.300' "bad VIP"
	msg=$(fails ctl add-vip 198.18.10.1:80); t_match "$msg" 'invalid VIP' "VIP without proto"
	msg=$(fails ctl frobnicate); t_match "$msg" 'unknown or ambiguous verb "frobnicate"' "unknown verb"
	msg=$(fails ctl add-vip $V1); t_match "$msg" 'already exists' "duplicate VIP"
	msg=$(fails ctl add-real $V1 "$LAB_R1_4"); t_match "$msg" "already has real $LAB_R1_4" "duplicate real"
	msg=$(fails ctl add-real 198.18.10.9:80/tcp "$LAB_R1_4"); t_match "$msg" 'does not exist' "unknown VIP"
	msg=$(fails ctl del-real $V1 "$LAB_R2_4"); t_match "$msg" "has no real $LAB_R2_4" "unknown real"
	msg=$(fails ctl set-weight $V1 "$LAB_R1_4" 1001); t_match "$msg" 'weight 1001 out of range 0..1000' "weight range"
	msg=$(fails ctl add-real $V1 "$LAB_R2_4" --weight -3); t_match "$msg" 'unknown option|not a number' "negative weight"
	msg=$(fails ctl add-vip $V2 --ring-size 1000); t_match "$msg" 'ring size 1000 is not one of' "ring size"
	msg=$(fails ctl add-vip $V2 --hash rr); t_match "$msg" 'unknown hash "rr"' "hash mode"
	msg=$(fails ctl add-vip $V2 --encap gre); t_match "$msg" 'unknown encap "gre"' "encap"
	msg=$(fails ctl add-real $V1 not-an-address); t_match "$msg" 'not-an-address' "bad real"
	# The lab's LB has no IPv6 address: an IPv6 real has no outer source.
	msg=$(fails ctl add-real $V1 2001:db8::2:1)
	t_match "$msg" 'needs an IPv6 outer source address: set settings.src_v6' "no IPv6 outer source"
	echo '{"vips":[{"vip":"198.18.10.2:80/tcp","reals":[{"address":"198.18.2.1","wieght":2}]}]}' >"$T_DIR/bad.json"
	msg=$(fails ctl apply -f "$T_DIR/bad.json"); t_match "$msg" 'unknown key "wieght"' "apply: unknown key"
	echo '{"vips":[' >"$T_DIR/bad2.json"
	msg=$(fails ctl apply -f "$T_DIR/bad2.json"); t_match "$msg" 'bad2.json:' "apply: malformed file"
	# The API itself: malformed JSON, missing verb, unknown key, oversized request.
	msg=$(printf 'nonsense\n' | socat -t 5 - "UNIX-CONNECT:$LAB_LB1_SOCK")
	t_match "$msg" '"ok":false,"error":"malformed request' "malformed request"
	msg=$(printf '{"vip":"x"}\n' | socat -t 5 - "UNIX-CONNECT:$LAB_LB1_SOCK")
	t_match "$msg" 'missing \\"verb\\"' "no verb"
	msg=$(printf '{"verb":"del-vip","vip":"%s","force":true}\n' $V1 | socat -t 5 - "UNIX-CONNECT:$LAB_LB1_SOCK")
	t_match "$msg" 'unknown key \\"force\\"' "unknown request key"
	big=$(python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b"{\"verb\":\"dump\",\"pad\":\"" + b"x" * (2 << 20))
except OSError:
    pass
print(s.recv(4096).decode().strip())' "$LAB_LB1_SOCK")
	t_match "$big" 'request larger than 1048576 bytes' "oversized request"
	alive || t_fail "xlbd died"
	t_eq "$(ctl dump)" "$before" "nothing changed by bad input"
}

test_non_root_refused() {
	command -v setpriv >/dev/null || t_skip "needs setpriv"
	local msg mode
	mode=$(stat -c %a "$LAB_LB1_SOCK")
	t_eq "$mode" 600 "socket mode"
	msg=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$BIN/xlbctl" --socket "$LAB_LB1_SOCK" list 2>&1 || true)
	t_match "$msg" 'Permission denied' "file mode keeps non-root out"
	# Past the file mode, SO_PEERCRED still refuses.
	chmod 0666 "$LAB_LB1_SOCK"
	t_defer "chmod 0600 '$LAB_LB1_SOCK'"
	msg=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$BIN/xlbctl" --socket "$LAB_LB1_SOCK" add-vip $V2 2>&1 || true)
	t_match "$msg" 'serves root only \(peer uid 65534\)' "SO_PEERCRED check"
	t_eq "$(maps vip $V2)" none "nothing added"
}

test_second_daemon_refused() {
	local out rc=0
	out=$(timeout 10 nsenter --net="/run/netns/$LAB_PREFIX-lb1" -- "$BIN/xlbd" --foreground \
		--iface "$LAB_LB1_IF" --state-dir "$T_DIR/st2" --socket "$T_DIR/x2.sock" 2>&1) || rc=$?
	t_ne "$rc" 0 "second xlbd on the same interface exits"
	t_match "$out" 'another process \(xlbd\?\) manages this interface' "says why"
	alive || t_fail "first xlbd died"
	t_ok "first xlbd answers" ctl ping
}

test_apply_dump_ring_resize() {
	local out id inner
	cat >"$T_DIR/state.json" <<EOF
{"settings": {"hash_seed": 0},
 "vips": [{"vip": "$V2", "hash": "src-ip", "encap": "gue", "ring_size": 251,
           "reals": [{"address": "$LAB_R2_4", "weight": 3}, {"address": "$LAB_R1_4"}]},
          {"vip": "$V1", "reals": [{"address": "$LAB_R3_4"}]}]}
EOF
	ctl apply -f "$T_DIR/state.json" >/dev/null
	t_defer "'$LAB' ctl apply -f /dev/stdin <<<'{}'"
	out=$(ctl dump)
	t_eq "$(jget "$out" '[v["vip"] for v in j["vips"]]')" "['$V1', '$V2']" "dump: VIPs sorted"
	t_eq "$(jget "$out" '[(r["address"], r["weight"]) for r in j["vips"][1]["reals"]]')" \
		"[('$LAB_R1_4', 1), ('$LAB_R2_4', 3)]" "dump: reals sorted, default weight"
	# dump | apply is a fixed point.
	printf '%s\n' "$out" >"$T_DIR/dump.json"
	ctl apply -f "$T_DIR/dump.json" >/dev/null
	t_eq "$(ctl dump)" "$out" "apply(dump) == dump"
	id=$(vip_id $V2)
	t_eq "$(maps vip $V2)" "$id 251 1 1" "xlb_vips: ring 251, src-ip, gue"
	inner=$(maps inner "$id")
	out=$(client conns --addr 198.18.10.2 --count 20)
	t_eq "$(jget "$out" 'j["failed"]')" 0 "GUE VIP serves"
	# Ring size change: a new inner map swapped in, the VIP entry follows.
	sed -i 's/"ring_size": 251/"ring_size": 1021/' "$T_DIR/state.json"
	ctl apply -f "$T_DIR/state.json" >/dev/null
	t_eq "$(maps vip $V2)" "$id 1021 1 1" "xlb_vips ring_size 1021"
	t_eq "$(maps ringsize "$id")" 1021 "ring map has 1021 slots"
	t_ne "$(maps inner "$id")" "$inner" "a new inner map"
	out=$(client conns --addr 198.18.10.2 --count 20)
	t_eq "$(jget "$out" 'j["failed"]')" 0 "served after the resize"
	# A whole-file apply with one bad VIP changes nothing.
	sed -i "s|\"vip\": \"$V1\"|\"vip\": \"198.18.10.1:80/tcpp\"|" "$T_DIR/state.json"
	out=$(ctl dump)
	fails ctl apply -f "$T_DIR/state.json" >/dev/null
	t_eq "$(ctl dump)" "$out" "failed apply changed nothing"
}

test_sigkill_adopts() {
	local id pid_before ring_before inner_before out spid stream
	ctl add-vip $V1 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	ctl add-real $V1 "$LAB_R2_4" --weight 0 >/dev/null
	ctl add-real $V1 "$LAB_R3_4" >/dev/null
	id=$(vip_id $V1)
	pid_before=$(prog_id)
	ring_before=$(maps ringsum "$id")
	inner_before=$(maps inner "$id")
	out=$(ctl list -j)
	# A bounded stream of new connections across the kill and the restart.
	client conns --addr 198.18.10.1 --count 400 --duration 3 --interval 0.005 --deadline 20 \
		>"$T_DIR/stream.json" &
	spid=$!
	t_defer "kill $spid"
	sleep 0.5
	QUIET=1 "$LAB" xlbd-kill KILL
	t_eq "$(prog_id)" "$pid_before" "program stays attached after SIGKILL"
	t_eq "$(jget "$(client conns --addr 198.18.10.1 --count 30)" 'j["failed"]')" 0 "forwarding without xlbd"
	e2e_xlbd --quarantine 2
	wait "$spid" || true
	stream=$(cat "$T_DIR/stream.json")
	t_log "stream across SIGKILL + restart: sent $(jget "$stream" 'j["sent"]'), failed $(jget "$stream" 'j["failed"]'), $(counts_of "$stream")"
	t_ge "$(jget "$stream" 'j["sent"]')" 200 "requests sent across the restart"
	t_eq "$(jget "$stream" 'j["failed"]')" 0 "requests lost across SIGKILL + restart"
	t_eq "$(prog_id)" "$pid_before" "same program id after restart"
	t_eq "$(maps inner "$id")" "$inner_before" "same ring map"
	t_eq "$(maps ringsum "$id")" "$ring_before" "ring untouched"
	t_eq "$(ctl list -j | jget "$(cat)" '[(v["vip"], v["id"], [(r["address"], r["index"], r["weight"]) for r in v["reals"]]) for v in j["vips"]]')" \
		"$(jget "$out" '[(v["vip"], v["id"], [(r["address"], r["index"], r["weight"]) for r in v["reals"]]) for v in j["vips"]]')" \
		"same VIP ids, real indices (drained real included) and weights"
	grep -q "adopted attached xlb_ingress id $pid_before" "$LAB_RUN/lb1/xlbd.log" || t_fail "adoption not logged"
}

test_pins_without_program() {
	local id inner out
	ctl add-vip $V1 --ring-size 251 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	id=$(vip_id $V1)
	inner=$(maps inner "$id")
	out=$(maps ringsum "$id")
	# Program gone (detached by hand), maps still pinned: xlbd loads a new
	# program that reuses the pinned maps, contents untouched.
	QUIET=1 "$LAB" xlbd-kill KILL
	ip -n "$LAB_PREFIX-lb1" link set dev "$LAB_LB1_IF" xdp off
	t_eq "$(prog_id)" 0 "detached by hand"
	e2e_xlbd --quarantine 2
	t_ne "$(prog_id)" 0 "attached again"
	t_eq "$(maps inner "$id")" "$inner" "same ring map (pins reused)"
	t_eq "$(maps ringsum "$id")" "$out" "same ring"
	grep -q "reusing 9 pinned maps" "$LAB_RUN/lb1/xlbd.log" || t_fail "reuse not logged"
	t_eq "$(jget "$(client conns --addr 198.18.10.1 --count 20)" 'j["failed"]')" 0 "serves"
}

test_tamper_repaired() {
	local id i1 vk out
	ctl add-vip $V1 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	ctl add-real $V1 "$LAB_R2_4" >/dev/null
	id=$(vip_id $V1)
	i1=$(idx $V1 "$LAB_R1_4")
	out=$(maps ringsum "$id")
	# xlb_vips key of V1: address, port 80 (network order), TCP, IPv4.
	vk="198 18 10 1 0 0 0 0 0 0 0 0 0 0 0 0 0 80 6 4"
	# 0. A ring slot changed behind xlbd's back: read back and repaired, one ring a second.
	bpftool map update id "$(maps inner "$id")" key 7 0 0 0 value 0 0 0 0
	t_wait_for 8 bash -c "[ \"\$(python3 '$MAPS' '$PIN' ringsum $id)\" = '$out' ]" ||
		t_fail "ring not repaired by the periodic read-back"
	grep -q "ring slots differed from the desired state: repaired" "$LAB_RUN/lb1/xlbd.log" ||
		t_fail "repair not logged"
	# 1. While running: wrong hash mode, a ring slot zeroed, the address count gone.
	bpftool map update pinned "$PIN/xlb_vips" key $vk value $id 0 0 0 1 0 1 0 0 0 2 0
	bpftool map update id "$(maps inner "$id")" key 5 0 0 0 value 0 0 0 0
	bpftool map delete pinned "$PIN/xlb_vip_addrs" key 198 18 10 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4
	kill -HUP "$(cat "$LAB_RUN/lb1/xlbd.pid")"
	t_wait_for 8 bash -c "[ \"\$(python3 '$MAPS' '$PIN' ringsum $id)\" = '$out' ]" || t_fail "ring not repaired"
	t_eq "$(maps vip $V1)" "$id 65537 0 0" "xlb_vips entry repaired"
	t_eq "$(maps addrs)" "198.18.10.1:1" "xlb_vip_addrs repaired"
	# 2. While xlbd is down: a real's MAC zeroed, a stray VIP added.
	QUIET=1 "$LAB" xlbd-kill KILL
	bpftool map update pinned "$PIN/xlb_reals" key $i1 0 0 0 value 198 18 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4 0
	bpftool map update pinned "$PIN/xlb_vips" key 198 18 10 3 0 0 0 0 0 0 0 0 0 0 0 0 0 80 6 4 value 9 0 0 0 1 1 0 0 0 0 0 0
	e2e_xlbd --quarantine 2
	t_ne "$(maps real "$i1" | cut -d' ' -f3)" "00:00:00:00:00:00" "next-hop MAC repaired on start"
	t_eq "$(maps vip 198.18.10.3:80/tcp)" none "stray VIP removed on start"
	t_eq "$(maps ringsum "$id")" "$out" "ring as before"
	t_eq "$(jget "$(client conns --addr 198.18.10.1 --count 30)" 'j["failed"]')" 0 "serves after repair"
}

test_next_hop_follows_neighbour() {
	local i1 mac ns=$LAB_PREFIX-lb1
	ctl add-vip $V1 --ring-size 251 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	i1=$(idx $V1 "$LAB_R1_4")
	mac=$(maps real "$i1" | cut -d' ' -f3)
	t_eq "$mac" "$(ip -n "$LAB_PREFIX-r1" -j link show "$LAB_R1_IF" | jget "$(cat)" 'j[0]["address"]')" \
		"next hop = r1's MAC"
	# The kernel's neighbour entry changes: xlbd hears it and rewrites xlb_reals.
	ip -n "$ns" neigh replace "$LAB_R1_4" lladdr 02:00:5e:00:53:01 dev "$LAB_LB1_IF" nud reachable
	t_defer "ip -n '$ns' neigh replace '$LAB_R1_4' lladdr '$mac' dev '$LAB_LB1_IF' nud reachable"
	t_wait_for 6 bash -c "python3 '$MAPS' '$PIN' real $i1 | grep -q ' 02:00:5e:00:53:01\$'" ||
		t_fail "xlb_reals not updated: $(maps real "$i1")"
	ip -n "$ns" neigh replace "$LAB_R1_4" lladdr "$mac" dev "$LAB_LB1_IF" nud reachable
	t_wait_for 6 bash -c "python3 '$MAPS' '$PIN' real $i1 | grep -q ' $mac\$'" ||
		t_fail "xlb_reals not restored: $(maps real "$i1")"
	t_eq "$(jget "$(client conns --addr 198.18.10.1 --count 20)" 'j["failed"]')" 0 "serves"
	# A real whose neighbour is unknown: resolved on add (ARP), then in the ring.
	ip -n "$ns" neigh del "$LAB_R2_4" dev "$LAB_LB1_IF" 2>/dev/null || true
	ctl add-real $V1 "$LAB_R2_4" >/dev/null
	t_wait_for 6 bash -c "'$BIN/xlbctl' --socket '$LAB_LB1_SOCK' list | grep -q '$LAB_R2_4 .* up '" ||
		t_fail "r2 not resolved: $(ctl list)"
	t_eq "$(maps ring "$(vip_id $V1)" | wc -w)" 2 "both reals in the ring"
}

test_state_file_reconciled_on_start() {
	local id i1 st=$LAB_RUN/lb1/state/state.json
	ctl add-vip $V1 --ring-size 251 >/dev/null
	t_defer "'$LAB' ctl del-vip $V1"
	ctl add-real $V1 "$LAB_R1_4" >/dev/null
	ctl add-real $V1 "$LAB_R2_4" >/dev/null
	id=$(vip_id $V1)
	i1=$(idx $V1 "$LAB_R1_4")
	# While xlbd is down the state file changes: r2 goes, r1 drains, a VIP comes.
	QUIET=1 "$LAB" xlbd-kill TERM
	python3 - "$st" "$LAB_R2_4" "$LAB_R3_4" <<'PY'
import json, sys
p, r2, r3 = sys.argv[1:4]
s = json.load(open(p))
v = s["vips"][0]
v["reals"] = [dict(r, weight=0) for r in v["reals"] if r["address"] != r2]
s["vips"].append({"vip": "198.18.10.2:80/tcp", "ring_size": 251, "reals": [{"address": r3}]})
json.dump(s, open(p, "w"))
PY
	e2e_xlbd --quarantine 2
	t_defer "'$LAB' ctl del-vip $V2"
	t_eq "$(maps ring "$id")" "0:251" "V1 ring empty (all slots XLB_REAL_NONE): r1 drained, r2 gone"
	t_eq "$(maps real "$i1" | cut -d' ' -f1-2)" "$LAB_R1_4 0" "drained r1 keeps its index, not down"
	t_eq "$(maps vip $V2 | cut -d' ' -f2)" 251 "new VIP from the state file"
	t_eq "$(maps ring "$(vip_id $V2)" | cut -d: -f2)" 251 "its ring has its one real"
	t_eq "$(maps addrs)" "198.18.10.1:1 198.18.10.2:1" "xlb_vip_addrs"
	t_eq "$(jget "$(client conns --addr 198.18.10.2 --count 20)" 'sorted(j["counts"])')" "['r3']" "new VIP serves"
}

test_sighup_reloads_config() {
	local cfg=$LAB_RUN/lb1/config.json
	printf '{"vips":[{"vip":"%s","reals":[{"address":"%s"}]}]}\n' $V2 "$LAB_R1_4" >"$cfg"
	QUIET=1 "$LAB" xlbd-kill TERM
	e2e_xlbd --quarantine 2 --config "$cfg"
	t_defer "'$LAB' ctl apply -f /dev/stdin <<<'{}'"
	t_eq "$(maps vip $V2)" none "state file wins over the config at start"
	kill -HUP "$(cat "$LAB_RUN/lb1/xlbd.pid")"
	t_wait_for 8 bash -c "[ \"\$(python3 '$MAPS' '$PIN' vip $V2)\" != none ]" || t_fail "SIGHUP did not apply the config"
	t_eq "$(jget "$(ctl dump)" '[v["vip"] for v in j["vips"]]')" "['$V2']" "desired state = config"
	# A broken config on SIGHUP is refused; the daemon keeps its state.
	echo '{"vips": 3}' >"$cfg"
	kill -HUP "$(cat "$LAB_RUN/lb1/xlbd.pid")"
	# Polled, not a fixed sleep: on a loaded VM the reload can take longer.
	t_wait_for 8 grep -q 'config not reloaded.*"vips" must be an array' "$LAB_RUN/lb1/xlbd.log" ||
		t_fail "bad config not logged"
	alive || t_fail "xlbd died on a bad config"
	t_eq "$(jget "$(ctl dump)" '[v["vip"] for v in j["vips"]]')" "['$V2']" "kept after a bad config"
}

test_shutdown_detach() {
	ctl shutdown --detach >/dev/null
	t_wait_for 5 bash -c "! kill -0 $(cat "$LAB_RUN/lb1/xlbd.pid") 2>/dev/null" || t_fail "xlbd still runs"
	rm -f "$LAB_RUN/lb1/xlbd.pid"
	t_eq "$(prog_id)" 0 "program detached"
	t_eq "$(ls "$PIN" 2>/dev/null | wc -l)" 0 "pins removed"
	[ ! -e "$PIN" ] || t_fail "$PIN still exists"
	# Without --foreground xlbd daemonizes once it is ready and writes its pid file.
	local sock=$LAB_RUN/lb1/d.sock pidf=$LAB_RUN/lb1/d.pid pid
	nsenter --net="/run/netns/$LAB_PREFIX-lb1" -- "$BIN/xlbd" --iface "$LAB_LB1_IF" \
		--state-dir "$LAB_RUN/lb1/state" --socket "$sock" --pid-file "$pidf" \
		--xdp-mode generic --detach-on-exit </dev/null >/dev/null 2>&1
	t_defer "[ -f '$pidf' ] && kill \$(cat '$pidf')"
	t_ok "daemon answers" "$BIN/xlbctl" --socket "$sock" ping
	pid=$(cat "$pidf")
	t_eq "$(cat /proc/"$pid"/comm)" xlbd "pid file names the daemon"
	t_ne "$(prog_id)" 0 "attached again"
	t_match "$(ip -n "$LAB_PREFIX-lb1" -d link show "$LAB_LB1_IF")" 'xdpgeneric' "--xdp-mode generic"
	kill "$pid"
	t_wait_for 5 bash -c "! kill -0 $pid 2>/dev/null" || t_fail "daemon still runs"
	[ ! -e "$pidf" ] || t_fail "pid file left behind"
	t_eq "$(prog_id)" 0 "--detach-on-exit detached"
}

t_run verbs_vs_maps test_verbs_vs_maps
t_run bad_input test_bad_input
t_run non_root_refused test_non_root_refused
t_run second_daemon_refused test_second_daemon_refused
t_run apply_dump_ring_resize test_apply_dump_ring_resize
t_run sigkill_adopts test_sigkill_adopts
t_run pins_without_program test_pins_without_program
t_run tamper_repaired test_tamper_repaired
t_run next_hop_follows_neighbour test_next_hop_follows_neighbour
t_run state_file_reconciled_on_start test_state_file_reconciled_on_start
t_run sighup_reloads_config test_sighup_reloads_config
t_run shutdown_detach test_shutdown_detach
t_finish
