#!/usr/bin/python3
"""How long after SIGTERM eddy-httpd's /readyz turns 503.

Starts eddy-httpd with --drain_delay, checks /readyz is 200, sends SIGTERM
and polls /readyz on fresh connections until it answers 503; the time from
the kill to that answer, over RUNS runs (loopback only).

  bench/lifecycle/readyz_after_sigterm.py build/release/bin/eddy-httpd [RUNS]
"""
import http.client
import os
import signal
import subprocess
import sys
import time


def readyz(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status
    finally:
        connection.close()


def one_run(binary):
    server = subprocess.Popen(
        [binary, "--port=0", "--bind=127.0.0.1", "--workers=2",
         "--drain_delay=2s", "--log_level=warning"],
        stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        assert readyz(port) == 200, "not ready after start"
        start = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        deadline = start + 10
        while readyz(port) != 503:
            assert time.monotonic() < deadline, "readiness never failed"
        return (time.monotonic() - start) * 1000
    finally:
        server.wait(timeout=30)


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    times = sorted(one_run(binary) for _ in range(runs))
    print("runs=%d min=%.2f ms median=%.2f ms max=%.2f ms" %
          (runs, times[0], times[runs // 2], times[-1]))


if __name__ == "__main__":
    main()
