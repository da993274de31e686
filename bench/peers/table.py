#!/usr/bin/env python3
"""Prints the side-by-side table of a bench/peers run.

Input: a file of lines "server load requests_per_s p99_ms cpu_us
[syscalls switches]", one per run (p99 and the last two, per request, may be
"-"). Output: a Markdown table of medians over the runs of
each (server, load), with eddy's ratio to each peer; with --http-targets,
also the verdict on each of eddy's targets against nginx (issue 4); with
--tls-targets, the TLS ones (issue 11).
"""
import argparse
import statistics

parser = argparse.ArgumentParser()
parser.add_argument("results")
parser.add_argument("--unit", default="requests", help="what one request is called")
parser.add_argument("--http-targets", action="store_true")
parser.add_argument("--tls-targets", action="store_true")
args = parser.parse_args()

groups = {}
for line in open(args.results):
    server, load, rps, p99, cpu, *kernel = line.split()
    groups.setdefault((server, load), []).append(
        (float(rps), p99, float(cpu), *(kernel or ["-", "-"])))


def median_of(values, digits):
    numbers = [float(v) for v in values if v != "-"]
    return f"{statistics.median(numbers):.{digits}f}" if numbers else "-"


rows = []
kernel_columns = {}
for (server, load), runs in groups.items():
    rows.append((server, load, statistics.median(r[0] for r in runs),
                 median_of((r[1] for r in runs), 3),
                 statistics.median(r[2] for r in runs)))
    kernel_columns[(server, load)] = (median_of((r[3] for r in runs), 2),
                                      median_of((r[4] for r in runs), 3))
show_kernel = any(v != ("-", "-") for v in kernel_columns.values())
eddy = {load: (rps, cpu) for server, load, rps, _, cpu in rows if server == "eddy"}

unit = args.unit
extra_head = " syscalls/req | switches/req |" if show_kernel else ""
print(f"| server | load | {unit}/s | p99 ms | server CPU us/{unit[:-1]} "
      f"| eddy {unit}/s ratio | eddy CPU ratio |{extra_head}")
print("|---|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if show_kernel else ""))
for server, load, rps, p99, cpu in rows:
    ratio_rps = ratio_cpu = "-"
    if server != "eddy" and load in eddy:
        ratio_rps = f"{eddy[load][0] / max(rps, 1):.2f}x"
        ratio_cpu = f"{eddy[load][1] / max(cpu, 1e-9):.2f}x"
    extra = ""
    if show_kernel:
        syscalls, switches = kernel_columns[(server, load)]
        extra = f" {syscalls} | {switches} |"
    print(f"| {server} | {load} | {rps:,.0f} | {p99} | {cpu:.2f} | {ratio_rps} | {ratio_cpu} |{extra}")

checks = []
if args.http_targets:
    checks = [
        ("keepalive", "server CPU/request <= 0.6x nginx", lambda e, n: e[1] <= 0.6 * n[1]),
        ("keepalive", "requests/s >= nginx", lambda e, n: e[0] >= n[0]),
        ("pipeline16", "requests/s >= 5x nginx", lambda e, n: e[0] >= 5 * n[0]),
        ("close", "requests/s >= nginx", lambda e, n: e[0] >= n[0]),
    ]
if args.tls_targets:
    checks = [
        ("keepalive", "server CPU/request <= nginx", lambda e, n: e[1] <= n[1]),
        ("keepalive", "requests/s >= nginx", lambda e, n: e[0] >= n[0]),
        ("pipeline16", "requests/s >= 3x nginx", lambda e, n: e[0] >= 3 * n[0]),
        ("handshake", "server CPU/connection <= 1.1x nginx", lambda e, n: e[1] <= 1.1 * n[1]),
        ("resume", "server CPU/connection <= 1.1x nginx", lambda e, n: e[1] <= 1.1 * n[1]),
    ]
if checks:
    nginx = {load: (rps, cpu) for server, load, rps, _, cpu in rows if server == "nginx"}
    verdicts = [(load, text, "met" if ok(eddy[load], nginx[load]) else "NOT MET")
                for load, text, ok in checks if load in eddy and load in nginx]
    if verdicts:
        print()
        print("Targets against nginx:")
        for load, text, verdict in verdicts:
            print(f"- {load}: {text}: {verdict}")
