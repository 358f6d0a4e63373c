#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Traffic for xlb's end-to-end tests, run inside a lab client namespace.

The lab's reals answer HTTP with their own name ("r2\n") and UDP echo with
"<name> <payload>", so every answer says which real served it. Every mode is
bounded in count and in time, and prints one JSON object on stdout.

  conns  --addr A [--port 80] --count N [--src S ...] [--deadline SEC]
         [--duration SEC --interval SEC]
      N HTTP/1.0 requests, each on a new TCP connection (new source port):
      {"sent", "ok", "failed", "counts": {real: n}, "by_src": {src: {real: n}},
       "errors": {kind: n}, "sports": distinct source ports, "secs"}
      With --duration the requests are paced (one every --interval s) for
      that long, still at most --count: a steady stream.
  udp    --addr A [--port 7] --count N [--deadline SEC]
      N datagrams, each from a new socket (new source port), one answer
      awaited per datagram: same summary, plus "bytes_sent" (UDP payload).
  hold   --addr A [--port 80] --conns K --duration SEC [--interval SEC]
         [--stop-file F] [--ready-file F]
      K long-lived HTTP/1.1 keep-alive connections. Each asks every
      --interval s and checks that the same real answers every time. Stops
      after --duration s or when --stop-file exists. Per connection:
      {"real", "ok", "error", "changed"}; plus totals.
"""
import argparse
import json
import os
import socket
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def http_request(sock, host, keepalive):
    conn = "keep-alive" if keepalive else "close"
    ver = "1.1" if keepalive else "1.0"
    sock.sendall(f"GET / HTTP/{ver}\r\nHost: {host}\r\nConnection: {conn}\r\n\r\n".encode())


def read_response(sock, buf=b""):
    """Reads one HTTP response; returns (body, rest of buffer)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("eof in headers")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.") or " 200 " not in lines[0] + " ":
        raise ConnectionError("status " + lines[0])
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    if length is None:
        raise ConnectionError("no content-length")
    while len(buf) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("eof in body")
        buf += chunk
    return buf[:length].decode().strip(), buf[length:]


def err_kind(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    return type(e).__name__ + ":" + str(e)[:60]


def summary():
    return {"sent": 0, "ok": 0, "failed": 0, "counts": {}, "by_src": {}, "errors": {}, "ports": set()}


def finish(res, start):
    """Distinct local ports used (= distinct 5-tuples), and the run time."""
    res["sports"] = len(res.pop("ports"))
    res["secs"] = round(time.monotonic() - start, 3)
    return res


def record(res, src, real=None, error=None):
    res["sent"] += 1
    if error is not None:
        res["failed"] += 1
        res["errors"][error] = res["errors"].get(error, 0) + 1
        return
    res["ok"] += 1
    res["counts"][real] = res["counts"].get(real, 0) + 1
    if src:
        per = res["by_src"].setdefault(src, {})
        per[real] = per.get(real, 0) + 1


def do_conns(a):
    res = summary()
    fam = family_of(a.addr)
    start = time.monotonic()
    end = start + (a.duration if a.duration else a.deadline)
    hard_end = start + a.deadline
    srcs = a.src or [None]
    i = 0
    while i < a.count and time.monotonic() < min(end, hard_end):
        src = srcs[i % len(srcs)]
        i += 1
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            if src:
                s.bind((src, 0))
            s.connect((a.addr, a.port))
            res["ports"].add(s.getsockname()[1])
            http_request(s, a.addr, False)
            real, _ = read_response(s)
            record(res, src, real)
        except Exception as e:  # noqa: BLE001 - every failure is counted
            record(res, src, error=err_kind(e))
        finally:
            s.close()
        if a.interval:
            nxt = start + i * a.interval
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    return finish(res, start)


def do_udp(a):
    res = summary()
    res["bytes_sent"] = 0
    fam = family_of(a.addr)
    start = time.monotonic()
    for i in range(a.count):
        if time.monotonic() - start > a.deadline:
            break
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(a.timeout)
        payload = f"xlbt-{i}\n".encode()
        try:
            s.connect((a.addr, a.port))
            res["ports"].add(s.getsockname()[1])
            s.send(payload)
            res["bytes_sent"] += len(payload)
            data = s.recv(2048).decode().strip()
            name, _, echoed = data.partition(" ")
            if echoed != payload.decode().strip():
                raise ConnectionError("bad echo " + data[:40])
            record(res, None, name)
        except Exception as e:  # noqa: BLE001
            record(res, None, error=err_kind(e))
        finally:
            s.close()
    return finish(res, start)


def do_hold(a):
    fam = family_of(a.addr)
    conns = []
    start = time.monotonic()
    for _ in range(a.conns):
        c = {"real": None, "ok": 0, "error": None, "changed": 0, "buf": b""}
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            s.connect((a.addr, a.port))
            http_request(s, a.addr, True)
            c["real"], c["buf"] = read_response(s)
            c["ok"] = 1
            c["sock"] = s
            c["lport"] = s.getsockname()[1]
        except Exception as e:  # noqa: BLE001
            c["error"] = "open:" + err_kind(e)
            s.close()
        conns.append(c)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            json.dump({c.get("lport", 0): c["real"] for c in conns}, f)
    end = start + a.duration
    while time.monotonic() < end:
        if a.stop_file and os.path.exists(a.stop_file):
            break
        t0 = time.monotonic()
        for c in conns:
            if c["error"] or "sock" not in c:
                continue
            try:
                http_request(c["sock"], a.addr, True)
                real, c["buf"] = read_response(c["sock"], c["buf"])
                c["ok"] += 1
                if real != c["real"]:
                    c["changed"] += 1
            except Exception as e:  # noqa: BLE001
                c["error"] = err_kind(e)
                c["sock"].close()
        delay = a.interval - (time.monotonic() - t0)
        if delay > 0:
            time.sleep(delay)
    out = {"conns": [], "opened": 0, "survived": 0, "broken": 0, "requests": 0}
    for c in conns:
        if "sock" in c:
            out["opened"] += 1
            if c["error"]:
                out["broken"] += 1
            else:
                out["survived"] += 1
                c["sock"].close()
        out["requests"] += c["ok"]
        out["conns"].append({k: c.get(k) for k in ("real", "ok", "error", "changed", "lport")})
    out["secs"] = round(time.monotonic() - start, 3)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("conns", "udp", "hold"):
        sp = sub.add_parser(name)
        sp.add_argument("--addr", required=True)
        sp.add_argument("--port", type=int, default=7 if name == "udp" else 80)
        sp.add_argument("--timeout", type=float, default=2.0, help="per operation, s")
        sp.add_argument("--deadline", type=float, default=120.0, help="whole run, s")
        if name in ("conns", "udp"):
            sp.add_argument("--count", type=int, required=True)
        if name == "conns":
            sp.add_argument("--src", action="append")
            sp.add_argument("--duration", type=float, default=0)
            sp.add_argument("--interval", type=float, default=0)
        if name == "hold":
            sp.add_argument("--conns", type=int, required=True)
            sp.add_argument("--duration", type=float, required=True)
            sp.add_argument("--interval", type=float, default=0.1)
            sp.add_argument("--stop-file")
            sp.add_argument("--ready-file")
    a = p.parse_args()
    if getattr(a, "count", 1) > 100000 or getattr(a, "conns", 1) > 1000:
        sys.exit("xlbt_client: count/conns too large (limits 100000/1000)")
    if getattr(a, "duration", 0) > 600 or a.deadline > 600:
        sys.exit("xlbt_client: duration/deadline above 600 s")
    res = {"conns": do_conns, "udp": do_udp, "hold": do_hold}[a.mode](a)
    json.dump(res, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
