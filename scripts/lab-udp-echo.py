#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""UDP echo of a lab real server (scripts/lab.sh): answers every datagram with
"<name> <first line of the payload>\\n", from the address the datagram was sent
to (IP_PKTINFO / IPV6_PKTINFO), so that a reply to a VIP leaves from the VIP
itself, as direct server return needs.

  lab-udp-echo.py NAME PORT [--v6]

One process serves every address of the namespace. (socat UDP-RECVFROM with
fork, one child per datagram, was tried first: under a burst of a few hundred
datagrams a second its children took datagrams meant for the parent, and it
stopped answering for minutes.)
"""
import select
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    socks = []
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.setsockopt(socket.SOL_IP, IP_PKTINFO, 1)
    s4.bind(("0.0.0.0", port))
    socks.append(s4)
    if "--v6" in sys.argv[3:]:
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        s6.bind(("::", port))
        socks.append(s6)
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            data, anc, _, peer = s.recvmsg(4096, 256)
            line = data.split(b"\n", 1)[0].decode("utf-8", "replace")
            reply = f"{name} {line}\n".encode()
            cmsg = []
            for level, kind, val in anc:
                if s.family == socket.AF_INET and level == socket.SOL_IP and kind == IP_PKTINFO:
                    # struct in_pktinfo {ifindex, spec_dst, addr}: reply from addr.
                    _, _, dst = struct.unpack("i4s4s", val[:12])
                    cmsg = [(socket.SOL_IP, IP_PKTINFO, struct.pack("i4s4s", 0, dst, dst))]
                elif s.family == socket.AF_INET6 and level == socket.IPPROTO_IPV6 \
                        and kind == IPV6_PKTINFO:
                    dst, _ = struct.unpack("16si", val[:20])
                    cmsg = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack("16si", dst, 0))]
            try:
                s.sendmsg([reply], cmsg, 0, peer)
            except OSError as e:
                print(f"lab-udp-echo: reply to {peer}: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
