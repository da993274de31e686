#!/usr/bin/env bash
# Side-by-side HTTP benchmark: eddy-httpd against nginx, h2o and lighttpd,
# each with the same number of workers, serving the same 13-byte body on
# loopback. For every server and load it reports requests/s, p99 latency and
# the server's CPU time per request (user+sys of all its processes and
# threads from /proc over the run: the honest figure when the load
# generator is the bottleneck), with eddy's ratio to each peer.
#
#   bench/peers/run_peers.sh [--install] [--duration 10] [--connections 64]
#                            [--workers 1] [--servers "eddy nginx h2o lighttpd"]
#                            [--loads "keepalive close pipeline16"] [--build DIR]
#                            [--runs 3]
#
# With --runs N every load is repeated N times and the table shows medians.
# Loads: keepalive (wrk, HTTP/1.1 keep-alive), close (a new connection per
# request: eddy-load --mode http10 when built, else wrk with
# "Connection: close"), pipeline16 (wrk with 16 pipelined requests per
# write). With 2+ CPUs the server is pinned to CPU 0 and the load generator
# to CPU 1. Loopback only; every run is bounded by --duration.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10
connections=64
workers=1
servers="eddy nginx h2o lighttpd"
loads="keepalive close pipeline16"
build=build/release
install=0
runs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --install) install=1 ;;
    --duration) duration=$2; shift ;;
    --connections) connections=$2; shift ;;
    --workers) workers=$2; shift ;;
    --servers) servers=$2; shift ;;
    --loads) loads=$2; shift ;;
    --build) build=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "run_peers.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $install -eq 1 ]]; then third_party/install_deps.sh --bench; fi
command -v wrk >/dev/null || { echo "wrk is missing: rerun with --install" >&2; exit 1; }
if [[ ! -x $build/bin/eddy-httpd ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target eddy-httpd eddy-load >/dev/null
fi

work=$(mktemp -d /tmp/eddy-peers.XXXXXX)
chmod 755 "$work"  # h2o drops to 'nobody' when started as root
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

server_cpu=""
load_cpu=""
if [[ $(nproc) -ge 2 ]]; then
  server_cpu="taskset -c 0"
  load_cpu="taskset -c 1"
fi
printf 'Hello, world!' > "$work/index.txt"
printf 'init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n' > "$work/pipeline16.lua"

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# Prints "pid port path" after starting the named server.
start_server() {
  local name=$1 port=$2
  case "$name" in
    eddy)
      $server_cpu "$build/bin/eddy-httpd" --port "$port" --bind 127.0.0.1 \
        --workers "$workers" >"$work/eddy.log" 2>&1 &
      echo "$! $port /" ;;
    nginx)
      command -v nginx >/dev/null || return 1
      cat >"$work/nginx.conf" <<NGINX
worker_processes $workers;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 65536; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 "Hello, world!"; }
  }
}
NGINX
      $server_cpu nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
      echo "$! $port /" ;;
    h2o)
      command -v h2o >/dev/null || return 1
      cat >"$work/h2o.conf" <<H2O
listen:
  host: 127.0.0.1
  port: $port
num-threads: $workers
$([[ $(id -u) -eq 0 ]] && echo "user: nobody")
access-log: /dev/null
error-log: $work/h2o-error.log
hosts:
  default:
    paths:
      /:
        file.dir: $work
H2O
      $server_cpu h2o -c "$work/h2o.conf" >/dev/null 2>&1 &
      echo "$! $port /index.txt" ;;
    lighttpd)
      command -v lighttpd >/dev/null || return 1
      cat >"$work/lighttpd.conf" <<LIGHTTPD
server.document-root = "$work"
server.bind = "127.0.0.1"
server.port = $port
server.max-worker = $((workers > 1 ? workers : 0))
server.max-keep-alive-requests = 1000000
server.errorlog = "$work/lighttpd-error.log"
mimetype.assign = (".txt" => "text/plain")
LIGHTTPD
      $server_cpu lighttpd -D -f "$work/lighttpd.conf" &
      echo "$! $port /index.txt" ;;
  esac
}

# user+sys clock ticks of a process and all its descendants.
cpu_ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    if [[ -r /proc/$pid/stat ]]; then
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    fi
  done
  echo "$total"
}

# Runs one load; prints "requests_per_s p99_ms requests".
run_load() {
  local load=$1 url=$2 out="$work/load.out"
  case "$load" in
    keepalive)
      $load_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency "$url" >"$out" 2>&1 ;;
    pipeline16)
      $load_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency \
        -s "$work/pipeline16.lua" "$url" >"$out" 2>&1 ;;
    close)
      if [[ -x $build/bin/eddy-load ]]; then
        local hostport=${url#http://}; hostport=${hostport%%/*}
        local path=/${url#http://*/}
        $load_cpu "$build/bin/eddy-load" --mode http10 --host 127.0.0.1 \
          --port "${hostport##*:}" --path "$path" --connections "$connections" \
          --duration "${duration}s" --progress=false --json >"$out" 2>&1
        python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lat = d.get("latency_us", {})
print(f'{d["requests_per_sec"]:.0f} {lat.get("p99", 0) / 1000:.3f} {d["requests"]}')
PY
        return
      fi
      $load_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency \
        -H "Connection: close" "$url" >"$out" 2>&1 ;;
  esac
  python3 - "$out" "$load" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
reqs = int(re.search(r"(\d+) requests in", text).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
p99 = float(m.group(1)) * scale[m.group(2)] if m else 0.0
# wrk times a pipelined batch only to its first response: no honest p99.
print(f"{rps:.0f} {p99:.3f} {reqs}" if "pipeline" not in sys.argv[2] else f"{rps:.0f} - {reqs}")
PY
}

ticks_per_second=$(getconf CLK_TCK)
results="$work/results.txt"
port=18400
for server in $servers; do
  port=$((port + 1))
  if ! read -r pid sport path < <(start_server "$server" "$port"); then
    echo "skip $server: not installed (use --install)" >&2
    continue
  fi
  pids+=("$pid")
  wait_port "$sport"
  url="http://127.0.0.1:$sport$path"
  body=$(curl -s "$url" || true)
  [[ "$body" == "Hello, world!" ]] || echo "warning: $server answered '$body'" >&2
  for load in $loads; do
    for run in $(seq 1 "$runs"); do
      before=$(cpu_ticks "$pid")
      read -r rps p99 requests < <(run_load "$load" "$url")
      after=$(cpu_ticks "$pid")
      cpu_us=$(python3 -c "print(f'{($after - $before) / $ticks_per_second * 1e6 / max($requests, 1):.2f}')")
      echo "$server $load $rps $p99 $cpu_us" >>"$results"
      echo "$server $load (run $run): $rps req/s, p99 $p99 ms, $cpu_us us CPU/request" >&2
    done
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done

echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); kernel $(uname -r)"
echo "Workers per server: $workers; connections: $connections; duration: ${duration}s per load; median of $runs run(s)"
echo
python3 - "$results" <<'PY'
import statistics, sys
raw = [l.split() for l in open(sys.argv[1])]
groups = {}
for server, load, rps, p99, cpu in raw:
    groups.setdefault((server, load), []).append((float(rps), p99, float(cpu)))
def median_p99(values):
    numbers = [float(v) for v in values if v != "-"]
    return f"{statistics.median(numbers):.3f}" if numbers else "-"
rows = []
for (server, load), runs in groups.items():
    rows.append([server, load, str(statistics.median(r[0] for r in runs)),
                 median_p99(r[1] for r in runs),
                 f"{statistics.median(r[2] for r in runs):.2f}"])
eddy = {r[1]: r for r in rows if r[0] == "eddy"}
print("| server | load | requests/s | p99 ms | server CPU us/request | eddy req/s ratio | eddy CPU/request ratio |")
print("|---|---|---:|---:|---:|---:|---:|")
for server, load, rps, p99, cpu in rows:
    ratio_rps = ratio_cpu = "-"
    if server != "eddy" and load in eddy:
        ratio_rps = f"{float(eddy[load][2]) / max(float(rps), 1):.2f}x"
        ratio_cpu = f"{float(eddy[load][4]) / max(float(cpu), 1e-9):.2f}x"
    print(f"| {server} | {load} | {float(rps):,.0f} | {p99} | {cpu} | {ratio_rps} | {ratio_cpu} |")

# eddy's targets against nginx (issue 4), said plainly either way.
nginx = {r[1]: r for r in rows if r[0] == "nginx"}
checks = [
    ("keepalive", "server CPU/request <= 0.6x nginx", lambda e, n: float(e[4]) <= 0.6 * float(n[4])),
    ("keepalive", "requests/s >= nginx", lambda e, n: float(e[2]) >= float(n[2])),
    ("pipeline16", "requests/s >= 5x nginx", lambda e, n: float(e[2]) >= 5 * float(n[2])),
    ("close", "requests/s >= nginx", lambda e, n: float(e[2]) >= float(n[2])),
]
if nginx and eddy:
    print()
    print("Targets against nginx:")
    for load, text, ok in checks:
        if load in eddy and load in nginx:
            verdict = "met" if ok(eddy[load], nginx[load]) else "NOT MET"
            print(f"- {load}: {text}: {verdict}")
PY
