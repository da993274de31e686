#!/usr/bin/env python3
"""Prints the side-by-side table of a bench/peers run.

Input: a file of lines "server load requests_per_s p99_ms cpu_us", one per
run (p99 may be "-"). Output: a Markdown table of medians over the runs of
each (server, load), with eddy's ratio to each peer; with --http-targets,
also the verdict on each of eddy's targets against nginx (issue 4).
"""
import argparse
import statistics

parser = argparse.ArgumentParser()
parser.add_argument("results")
parser.add_argument("--unit", default="requests", help="what one request is called")
parser.add_argument("--http-targets", action="store_true")
args = parser.parse_args()

groups = {}
for line in open(args.results):
    server, load, rps, p99, cpu = line.split()
    groups.setdefault((server, load), []).append((float(rps), p99, float(cpu)))


def median_p99(values):
    numbers = [float(v) for v in values if v != "-"]
    return f"{statistics.median(numbers):.3f}" if numbers else "-"


rows = []
for (server, load), runs in groups.items():
    rows.append((server, load, statistics.median(r[0] for r in runs),
                 median_p99(r[1] for r in runs),
                 statistics.median(r[2] for r in runs)))
eddy = {load: (rps, cpu) for server, load, rps, _, cpu in rows if server == "eddy"}

unit = args.unit
print(f"| server | load | {unit}/s | p99 ms | server CPU us/{unit[:-1]} "
      f"| eddy {unit}/s ratio | eddy CPU ratio |")
print("|---|---|---:|---:|---:|---:|---:|")
for server, load, rps, p99, cpu in rows:
    ratio_rps = ratio_cpu = "-"
    if server != "eddy" and load in eddy:
        ratio_rps = f"{eddy[load][0] / max(rps, 1):.2f}x"
        ratio_cpu = f"{eddy[load][1] / max(cpu, 1e-9):.2f}x"
    print(f"| {server} | {load} | {rps:,.0f} | {p99} | {cpu:.2f} | {ratio_rps} | {ratio_cpu} |")

if args.http_targets:
    nginx = {load: (rps, cpu) for server, load, rps, _, cpu in rows if server == "nginx"}
    checks = [
        ("keepalive", "server CPU/request <= 0.6x nginx", lambda e, n: e[1] <= 0.6 * n[1]),
        ("keepalive", "requests/s >= nginx", lambda e, n: e[0] >= n[0]),
        ("pipeline16", "requests/s >= 5x nginx", lambda e, n: e[0] >= 5 * n[0]),
        ("close", "requests/s >= nginx", lambda e, n: e[0] >= n[0]),
    ]
    verdicts = [(load, text, "met" if ok(eddy[load], nginx[load]) else "NOT MET")
                for load, text, ok in checks if load in eddy and load in nginx]
    if verdicts:
        print()
        print("Targets against nginx:")
        for load, text, verdict in verdicts:
            print(f"- {load}: {text}: {verdict}")
