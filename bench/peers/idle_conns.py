#!/usr/bin/env python3
"""Scale check: hold many idle keep-alive HTTP connections open against one
server and report the server's RSS growth per connection, then check that
it still answers a fresh request.

  bench/peers/idle_conns.py --pid PID --port PORT --connections 10000 [--path /]

Each connection sends one GET and reads its response (so per-connection
state is what a served-then-idle keep-alive connection costs), then stays
open. Past ~28,000 connections the loopback ephemeral port range runs out,
so connections are spread over source addresses 127.0.0.2, 127.0.0.3, ...
Loopback only; everything is closed on exit.
"""
import argparse
import resource
import selectors
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--path", default="/")
    p.add_argument("--per_source", type=int, default=25000)
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < want:
        sys.exit(f"need {want} file descriptors; raise ulimit -n")

    request = f"GET {args.path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    before = rss_kib(args.pid)
    deadline = time.monotonic() + args.timeout
    socks = []
    sel = selectors.DefaultSelector()
    pending = 0
    for i in range(args.connections):
        source = f"127.0.0.{2 + i // args.per_source}"
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Pick the source port at connect(), not bind(): bind() alone must
        # avoid every port in TIME-WAIT from earlier runs, connect() only
        # those with the same destination.
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((source, 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", args.port))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, [b"", False])
        pending += 1
        # Keep the handshake queue short: drain before opening too many.
        while pending > 500 or (i == args.connections - 1 and pending > 0):
            if time.monotonic() > deadline:
                sys.exit("timed out opening connections")
            for key, events in sel.select(timeout=1.0):
                state = key.data
                if events & selectors.EVENT_WRITE and not state[1]:
                    key.fileobj.send(request)
                    state[1] = True
                    sel.modify(key.fileobj, selectors.EVENT_READ, state)
                elif events & selectors.EVENT_READ:
                    chunk = key.fileobj.recv(4096)
                    if not chunk:
                        sys.exit("server closed a connection")
                    state[0] += chunk
                    if b"\r\n\r\n" in state[0]:
                        sel.unregister(key.fileobj)
                        pending -= 1
    time.sleep(1.0)  # let the server settle (buffers released when idle)
    after = rss_kib(args.pid)
    growth = (after - before) * 1024 / args.connections
    # Still serving?
    probe = socket.create_connection(("127.0.0.1", args.port), timeout=10)
    probe.sendall(request)
    reply = probe.recv(4096)
    probe.close()
    ok = reply.startswith(b"HTTP/1.1 200")
    print(f"connections={args.connections} rss_before_kib={before} "
          f"rss_after_kib={after} bytes_per_connection={growth:.0f} "
          f"still_serving={'yes' if ok else 'NO'}")
    for s in socks:
        s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
