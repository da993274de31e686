#!/usr/bin/env bash
# Side-by-side HTTP benchmark: eddy-httpd against nginx, h2o and lighttpd,
# each with the same number of workers, serving the same 13-byte body on
# loopback. For every server and load it reports requests/s, p99 latency and
# the server's CPU time per request (user+sys of all its processes and
# threads from /proc over the run: the honest figure when the load
# generator is the bottleneck), with eddy's ratio to each peer.
# The body64k and body1m loads fetch /bytes/65536 and /bytes/1048576
# instead: eddy-httpd generates the body per request (a dynamic response,
# moved into the connection and sent with the head in one sendmsg), the
# peers serve a file of that size from the scratch root (nginx reads it
# through its output buffers; nginx-sendfile, with "sendfile on", hands it to
# the kernel with sendfile and copies nothing in user space).
#
#   bench/peers/run_peers.sh [--install] [--duration 10] [--connections 64]
#                            [--workers 1] [--servers "eddy nginx h2o lighttpd"]
#                            (also: eddy-nometrics, eddy-httpd --metrics=false;
#                            nginx-deferred, nginx with "listen ... deferred";
#                            nginx-sendfile, nginx with "sendfile on")
#                            [--loads "keepalive close pipeline16 body64k body1m"]
#                            [--build DIR] [--tls]
#                            [--runs 3] [--idle_connections 10000]
#
# With --tls eddy-httpd and nginx serve HTTPS (TLS 1.3 only, the same ECDSA
# P-256 certificate, made here; h2o and lighttpd are skipped), the wrk loads
# run over https, and two loads measure handshakes: handshake (a new
# connection per request, full handshake: eddy-load --mode http10 --tls) and
# resume (the same with session resumption: --tls_resume; eddy-load says how
# many handshakes resumed). eddy-load rather than openssl s_time: s_time is
# one sequential client, so the server idles while it computes its half of
# each handshake, where eddy-load keeps --connections handshakes in flight.
# The client's half costs about as much CPU as the server's, so on one load
# CPU the rates are bounded by the client: compare server CPU per connection.
# With --runs N every load is repeated N times and the table shows medians.
# Loads: keepalive (wrk, HTTP/1.1 keep-alive), close (a new connection per
# request: eddy-load --mode http10 when built, else wrk with
# "Connection: close"), pipeline16 (wrk with 16 pipelined requests per
# write), body64k and body1m (wrk, keep-alive, 64 KiB and 1 MiB bodies),
# idle (not run unless named: the scale check, bench/peers/idle_conns.py
# opens --idle_connections keep-alive connections that each made one request,
# reports the server's RSS growth per connection and checks a new request is
# still served; above ~28,000 it spreads them over 127.0.0.x source
# addresses, and both sides need that many descriptors). With 2+ CPUs the server is pinned to CPU 0 and the load generator
# to CPU 1. Loopback only; every run is bounded by --duration.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10
connections=64
workers=1
servers="eddy nginx h2o lighttpd"
loads="keepalive close pipeline16 body64k body1m"
build=build/release
install=0
runs=1
idle_connections=10000
tls=0
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
    --idle_connections) idle_connections=$2; shift ;;
    --tls) tls=1 ;;
    *) echo "run_peers.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $install -eq 1 ]]; then third_party/install_deps.sh --bench; fi
command -v wrk >/dev/null || { echo "wrk is missing: rerun with --install" >&2; exit 1; }
source bench/peers/lib.sh
ensure_built eddy-httpd eddy-load

printf 'Hello, world!' > "$work/index.txt"
scheme=http
curl_tls=()
if [[ $tls -eq 1 ]]; then
  scheme=https
  curl_tls=(--insecure)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
fi
# The bodies the peers serve for the body loads, the bytes eddy-httpd's
# /bytes/N generates ("abc...z" repeated).
mkdir -p "$work/bytes"
for size in 65536 1048576; do
  python3 -c "import sys; sys.stdout.write(''.join(chr(97 + i % 26) for i in range($size)))" \
    >"$work/bytes/$size"
done
printf 'init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n' > "$work/pipeline16.lua"

# Prints "pid port path" after starting the named server.
start_server() {
  local name=$1 port=$2
  case "$name" in
    eddy | eddy-nometrics)
      # eddy-nometrics: the same build with request counting, latency
      # histograms and the server's series off, to measure what they cost.
      local metrics=true
      [[ $name == eddy-nometrics ]] && metrics=false
      local tls_flags=()
      [[ $tls -eq 1 ]] && tls_flags=(--tls_cert "$work/cert.pem" --tls_key "$work/key.pem")
      $server_cpu "$build/bin/eddy-httpd" --port "$port" --bind 127.0.0.1 \
        --workers "$workers" --metrics="$metrics" "${tls_flags[@]}" \
        >"$work/$name.log" 2>&1 &
      echo "$! $port /" ;;
    nginx | nginx-deferred | nginx-sendfile)
      # nginx-deferred: the same with "listen ... deferred" (TCP_DEFER_ACCEPT,
      # read at once on accept), the counterpart of eddy's defer_accept.
      # nginx-sendfile: the files of the body loads go out with sendfile.
      command -v nginx >/dev/null || return 1
      local deferred="" sendfile=off
      [[ $name == nginx-deferred ]] && deferred=" deferred"
      [[ $name == nginx-sendfile ]] && sendfile=on
      local ssl="" ssl_lines=""
      if [[ $tls -eq 1 ]]; then
        ssl=" ssl"
        ssl_lines="ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.3;"
      fi
      cat >"$work/$name.conf" <<NGINX
worker_processes $workers;
daemon off;
pid $work/$name.pid;
error_log $work/$name-error.log;
events { worker_connections 65536; }
http {
  access_log off;
  keepalive_requests 1000000;
  sendfile $sendfile;
  server {
    listen 127.0.0.1:$port$ssl$deferred;
    $ssl_lines
    location / { default_type text/plain; return 200 "Hello, world!"; }
    location /bytes/ { root $work; default_type application/octet-stream; }
  }
}
NGINX
      $server_cpu nginx -c "$work/$name.conf" -e "$work/$name-error.log" &
      echo "$! $port /" ;;
    h2o)
      [[ $tls -eq 0 ]] || return 1
      command -v h2o >/dev/null || return 1
      cat >"$work/h2o.conf" <<H2O
listen:
  host: 127.0.0.1
  port: $port
num-threads: $workers
max-connections: 1000000
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
      [[ $tls -eq 0 ]] || return 1
      command -v lighttpd >/dev/null || return 1
      cat >"$work/lighttpd.conf" <<LIGHTTPD
server.document-root = "$work"
server.bind = "127.0.0.1"
server.port = $port
server.max-worker = $((workers > 1 ? workers : 0))
server.max-keep-alive-requests = 1000000
server.max-fds = $(ulimit -Hn)
server.max-connections = $(($(ulimit -Hn) - 64))
server.errorlog = "$work/lighttpd-error.log"
mimetype.assign = (".txt" => "text/plain")
LIGHTTPD
      $server_cpu lighttpd -D -f "$work/lighttpd.conf" &
      echo "$! $port /index.txt" ;;
  esac
}

# The URL a load fetches from a server whose hello URL is $2.
load_url() {
  local load=$1 url=$2 base=${2#*://}
  base=$scheme://${base%%/*}
  case "$load" in
    body64k) echo "$base/bytes/65536" ;;
    body1m) echo "$base/bytes/1048576" ;;
    *) echo "$url" ;;
  esac
}

# Runs one load; prints "requests_per_s p99_ms requests".
run_load() {
  local load=$1 url=$2 out="$work/load.out"
  case "$load" in
    keepalive | body64k | body1m)
      $load_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency "$url" >"$out" 2>&1 ;;
    pipeline16)
      $load_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency \
        -s "$work/pipeline16.lua" "$url" >"$out" 2>&1 ;;
    handshake | resume)
      local hostport=${url#*://}; hostport=${hostport%%/*}
      local resume=()
      [[ $load == resume ]] && resume=(--tls_resume)
      $load_cpu "$build/bin/eddy-load" --mode http10 --tls "${resume[@]}" \
        --host 127.0.0.1 --port "${hostport##*:}" --path / \
        --connections "$connections" --duration "${duration}s" \
        --progress=false --json | parse_eddy_load_json
      return ;;
    close)
      if [[ -x $build/bin/eddy-load ]]; then
        local hostport=${url#*://}; hostport=${hostport%%/*}
        local path=/${url#*://*/}
        local tls_flag=()
        [[ $tls -eq 1 ]] && tls_flag=(--tls)
        $load_cpu "$build/bin/eddy-load" --mode http10 "${tls_flag[@]}" --host 127.0.0.1 \
          --port "${hostport##*:}" --path "$path" --connections "$connections" \
          --duration "${duration}s" --progress=false --json | parse_eddy_load_json
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

# Every server runs for the whole script (idle ones cost nothing), and the
# runs are interleaved (run 1 of every server, then run 2, ...), so that a
# machine that changes speed mid-way slows every server alike.
results="$work/results.txt"
port=18400
started=()
declare -A server_pid server_url
for server in $servers; do
  port=$((port + 1))
  if ! read -r pid sport path < <(start_server "$server" "$port"); then
    echo "skip $server: not installed (use --install)" >&2
    continue
  fi
  peer_pids+=("$pid")
  wait_port "$sport"
  url="$scheme://127.0.0.1:$sport$path"
  body=$(curl -s "${curl_tls[@]}" "$url" || true)
  [[ "$body" == "Hello, world!" ]] || echo "warning: $server answered '$body'" >&2
  for load in $loads; do
    [[ $load == body* ]] || continue
    want=$(load_url "$load" "$url")
    size=$(curl -s "${curl_tls[@]}" -o /dev/null -w '%{size_download}' "$want" || true)
    [[ $size == "${want##*/}" ]] || echo "warning: $server sent $size bytes for $want" >&2
  done
  started+=("$server")
  server_pid[$server]=$pid
  server_url[$server]=$url
done
for run in $(seq 1 "$runs"); do
  for load in $loads; do
    [[ $load == idle ]] && continue
    for server in "${started[@]}"; do
      pid=${server_pid[$server]}
      kernel_counters_start "$pid"
      before=$(cpu_ticks "$pid")
      read -r rps p99 requests < <(run_load "$load" \
        "$(load_url "$load" "${server_url[$server]}")")
      after=$(cpu_ticks "$pid")
      read -r syscalls switches < <(kernel_counters_stop "$requests")
      cpu_us=$(cpu_per_request "$before" "$after" "$requests")
      echo "$server $load $rps $p99 $cpu_us $syscalls $switches" >>"$results"
      echo "$server $load (run $run): $rps req/s, p99 $p99 ms, $cpu_us us CPU/request, $syscalls syscalls/request, $switches switches/request" >&2
    done
  done
done

# The scale check runs once per server, after the loads.
idle_results="$work/idle.txt"
if [[ " $loads " == *" idle "* ]]; then
  for server in "${started[@]}"; do
    pid=${server_pid[$server]}
    # nginx serves from its worker process, not the master (h2o's child
    # processes are helpers: it serves from the process started).
    worker=""
    [[ $server == nginx* ]] && worker=$(pgrep -P "$pid" | head -n 1 || true)
    port=${server_url[$server]#*://127.0.0.1:}
    path=/${port#*/}
    line=$(python3 bench/peers/idle_conns.py --pid "${worker:-$pid}" \
      --port "${port%%/*}" --path "$path" --connections "$idle_connections" 2>&1 |
      tail -n 1 || true)
    echo "$server idle: $line" >&2
    echo "$server $line" >>"$idle_results"
  done
fi

echo
machine_line
echo "Workers per server: $workers; connections: $connections; duration: ${duration}s per load; median of $runs run(s)"
[[ $tls -eq 1 ]] && echo "TLS 1.3, ECDSA P-256; OpenSSL $(openssl version | cut -d' ' -f2); kTLS: $(grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null && echo 'tls ULP available' || echo 'tls ULP not loaded')"
echo
targets=--http-targets
[[ $tls -eq 1 ]] && targets=--tls-targets
[[ -f $results ]] && python3 bench/peers/table.py "$targets" "$results"
if [[ -f $idle_results ]]; then
  echo
  echo "| server | idle keep-alive connections | RSS growth per connection | still serving |"
  echo "|---|---:|---:|---|"
  while read -r server fields; do
    declare -A f=()
    for kv in $fields; do f[${kv%%=*}]=${kv#*=}; done
    if [[ -n ${f[bytes_per_connection]:-} ]]; then
      echo "| $server | ${f[connections]} | ${f[bytes_per_connection]} bytes | ${f[still_serving]} |"
    else
      echo "| $server | $idle_connections | failed: $fields | - |"
    fi
  done <"$idle_results"
fi
