#!/usr/bin/env bash
# eddy-redis side by side with redis-server itself, driven by
# redis-benchmark on loopback, with and without pipelining (-P 16).
#
#   bench/peers/run_redis_peers.sh [--install] [--requests 200000] [--workers 1]
#
# Prints requests/s and the server's CPU time per request (user+sys from
# /proc) per command for each server, and eddy's ratios. With 2+
# CPUs each server is pinned to CPU 0 and redis-benchmark to CPU 1.
set -euo pipefail
cd "$(dirname "$0")/../.."

requests=200000
workers=1
install=0
build=build/release
while [[ $# -gt 0 ]]; do
  case "$1" in
    --install) install=1 ;;
    --requests) requests=$2; shift ;;
    --workers) workers=$2; shift ;;
    --build) build=$2; shift ;;
    *) echo "run_redis_peers.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $install -eq 1 ]]; then third_party/install_deps.sh --bench; fi
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing: rerun with --install" >&2; exit 1; }
source bench/peers/lib.sh
ensure_built eddy-redis
results="$work/results.txt"

# One redis-benchmark run per command and pipeline depth, so that the
# server's CPU time (from /proc) can be divided by that command's requests.
bench() {
  local name=$1 port=$2 pid=$3
  for pipeline in 1 16; do
    for command in set get incr mset; do
      local before after line rps cmd
      before=$(cpu_ticks "$pid")
      line=$($load_cpu redis-benchmark -p "$port" -n "$requests" -c 50 \
        -P "$pipeline" -q -t "$command" 2>/dev/null | tr '\r' '\n' |
        grep 'requests per second' | tail -n 1)
      after=$(cpu_ticks "$pid")
      cmd=${line%%:*}
      rps=$(echo "$line" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
      echo "$name|$cmd|P$pipeline|$rps|$(cpu_per_request "$before" "$after" "$requests")" >>"$results"
    done
  done
}

$server_cpu "$build/bin/eddy-redis" --port 16390 --workers "$workers" >/dev/null &
eddy_pid=$!
peer_pids+=("$eddy_pid")
redis_pid=""
if command -v redis-server >/dev/null; then
  $server_cpu redis-server --port 16391 --save "" --appendonly no --daemonize no >/dev/null &
  redis_pid=$!
  peer_pids+=("$redis_pid")
fi
wait_port 16390
[[ -n $redis_pid ]] && wait_port 16391
bench eddy 16390 "$eddy_pid"
[[ -n $redis_pid ]] && bench redis 16391 "$redis_pid"

machine_line
echo "redis-benchmark -n $requests -c 50, eddy-redis with $workers worker(s), redis-server $(redis-server --version 2>/dev/null | awk '{print $3}')"
echo
python3 - "$results" <<'PY'
import sys
rows = [l.strip().split("|") for l in open(sys.argv[1])]
eddy = {(r[1], r[2]): (float(r[3]), float(r[4])) for r in rows if r[0] == "eddy"}
redis = {(r[1], r[2]): (float(r[3]), float(r[4])) for r in rows if r[0] == "redis"}
print("| command | pipeline | eddy-redis req/s | redis-server req/s | eddy/redis req/s "
      "| eddy-redis CPU us/req | redis-server CPU us/req | eddy/redis CPU |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for key in sorted(eddy):
    rps, cpu = eddy[key]
    other = redis.get(key)
    if other:
        print(f"| {key[0]} | {key[1]} | {rps:,.0f} | {other[0]:,.0f} | {rps / other[0]:.2f}x "
              f"| {cpu:.2f} | {other[1]:.2f} | {cpu / max(other[1], 1e-9):.2f}x |")
    else:
        print(f"| {key[0]} | {key[1]} | {rps:,.0f} | - | - | {cpu:.2f} | - | - |")
PY
