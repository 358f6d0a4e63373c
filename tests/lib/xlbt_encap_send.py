#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
Sends xlb-encapsulated ICMP echo requests (client -> VIP, wrapped LB -> real
as the balancer would) out of an interface with a packet socket, and waits
for the echo replies the real sends straight back to the client (DSR).
Used by tests/e2e/test_decap.sh; run it in the LB's network namespace.

  xlbt_encap_send.py IFACE SRC_MAC DST_MAC KIND... [--gue-port N] [--vip4 A] [--vip6 A]

KIND is 4in4, 6in6, 4in6, 6in4, gue4in4, gue6in6. Addresses are the test's
(client 198.18.1.1 / 2001:db8:1::1, LB 198.18.0.1 / 2001:db8::1, real
198.18.0.21 / 2001:db8::21). Prints {"KIND": true|false, ...} as JSON.
Checksums are computed from RFC 1071; every wait is bounded.
"""
import json
import socket
import struct
import sys
import time

CLIENT4, LB4, REAL4 = "198.18.1.1", "198.18.0.1", "198.18.0.21"
CLIENT6, LB6, REAL6 = "2001:db8:1::1", "2001:db8::1", "2001:db8::21"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def a6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, a6(src), a6(dst)) + payload


def udp(sport, dport, payload):
    # Checksum 0: GUE's outer UDP checksum is optional (RFC 6935 for IPv6 tunnels).
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def echo4(seq):
    b = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + b"xlb-decap-e2e" * 2
    return ip4(CLIENT4, VIP4, 1, b[:2] + struct.pack("!H", csum(b)) + b[4:])


def echo6(seq):
    b = struct.pack("!BBHHH", 128, 0, 0, 0x4242, seq) + b"xlb-decap-e2e" * 2
    pseudo = a6(CLIENT6) + a6(VIP6) + struct.pack("!IxxxB", len(b), 58)
    return ip6(CLIENT6, VIP6, 58, b[:2] + struct.pack("!H", csum(pseudo + b)) + b[4:])


def frame(kind, seq):
    inner = echo4(seq) if kind.startswith("4") or kind == "gue4in4" else echo6(seq)
    if kind in ("4in4", "6in4"):
        return 0x0800, ip4(LB4, REAL4, 4 if kind == "4in4" else 41, inner)
    if kind in ("6in6", "4in6"):
        return 0x86DD, ip6(LB6, REAL6, 41 if kind == "6in6" else 4, inner)
    if kind == "gue4in4":
        return 0x0800, ip4(LB4, REAL4, 17, udp(40001, GUE_PORT, inner))
    if kind == "gue6in6":
        return 0x86DD, ip6(LB6, REAL6, 17, udp(40001, GUE_PORT, inner))
    raise SystemExit("unknown kind " + kind)


def is_reply(fr, v6, seq):
    et = struct.unpack("!H", fr[12:14])[0]
    if not v6 and et == 0x0800 and len(fr) >= 42:
        return (fr[23] == 1 and fr[30:34] == socket.inet_aton(CLIENT4) and fr[34] == 0
                and struct.unpack("!H", fr[40:42])[0] == seq)
    if v6 and et == 0x86DD and len(fr) >= 62:
        return (fr[20] == 58 and fr[38:54] == a6(CLIENT6) and fr[54] == 129
                and struct.unpack("!H", fr[60:62])[0] == seq)
    return False


def main():
    global GUE_PORT, VIP4, VIP6
    args, opts = [], {"--gue-port": "6080", "--vip4": "198.18.0.10", "--vip6": "2001:db8::10"}
    it = iter(sys.argv[1:])
    for a in it:
        if a in opts:
            opts[a] = next(it)
        else:
            args.append(a)
    GUE_PORT, VIP4, VIP6 = int(opts["--gue-port"]), opts["--vip4"], opts["--vip6"]
    ifn, smac, dmac, kinds = args[0], args[1], args[2], args[3:]
    smac = bytes.fromhex(smac.replace(":", ""))
    dmac = bytes.fromhex(dmac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((ifn, 0))
    s.settimeout(0.2)
    result = {}
    for seq, kind in enumerate(kinds, 1):
        et, l3 = frame(kind, seq)
        v6 = kind in ("6in6", "6in4", "gue6in6")
        s.send(dmac + smac + struct.pack("!H", et) + l3)
        deadline, got = time.time() + 2, False
        while time.time() < deadline and not got:
            try:
                got = is_reply(s.recv(2048), v6, seq)
            except socket.timeout:
                pass
        result[kind] = got
    print(json.dumps(result))


if __name__ == "__main__":
    main()
