#!/usr/bin/env bash
# Side-by-side echo benchmark: eddy-echo against a plain reference, the
# Boost.Asio asynchronous TCP echo server from Debian's libboost1.74-doc
# (examples/.../asio/example/cpp11/echo/async_tcp_echo_server.cpp, compiled
# here as shipped: one thread, one io_context, 1024-byte reads). Both
# servers use one thread for their connections; eddy-load --mode echo drives
# them and checks every byte that comes back.
#
#   bench/peers/run_echo_peers.sh [--install] [--duration 5] [--connections 64]
#                                 [--sizes "64 1024"] [--runs 3]
#
# For every message size it reports messages/s, p99 and the server's CPU
# time per message (user+sys from /proc), medians over the runs, which are
# interleaved between the servers. With 2+ CPUs the servers are pinned to
# CPU 0 and the load generator to CPU 1. Loopback only, bounded by
# --duration.
#
# The default sizes fit the Asio example's 1024-byte buffer. Larger ones are
# allowed but measure Nagle's algorithm more than the server: the example
# echoes in 1024-byte writes without TCP_NODELAY, so a 16 KiB message
# waits for delayed ACKs (about 40 ms per message here).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=5
connections=64
sizes="64 1024"
build=build/release
install=0
runs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --install) install=1 ;;
    --duration) duration=$2; shift ;;
    --connections) connections=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --build) build=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "run_echo_peers.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $install -eq 1 ]]; then third_party/install_deps.sh --bench; fi
source bench/peers/lib.sh
ensure_built eddy-echo eddy-load

servers=(eddy)
$server_cpu "$build/bin/eddy-echo" --port 18450 --bind 127.0.0.1 --workers 1 \
  >"$work/eddy.log" 2>&1 &
peer_pids+=($!)
declare -A server_pid=([eddy]=$! ) server_port=([eddy]=18450)

asio_source=/usr/share/doc/libboost1.74-doc/examples/libs/asio/example/cpp11/echo/async_tcp_echo_server.cpp
if [[ -f $asio_source ]]; then
  c++ -O2 -std=c++17 -pthread -o "$work/asio-echo" "$asio_source"
  # The example listens on every IPv4 address; the load only goes to
  # 127.0.0.1.
  $server_cpu "$work/asio-echo" 18451 &
  peer_pids+=($!)
  servers+=(asio)
  server_pid[asio]=$!
  server_port[asio]=18451
else
  echo "skip asio: libboost1.74-doc is not installed (use --install)" >&2
fi
for server in "${servers[@]}"; do wait_port "${server_port[$server]}"; done

results="$work/results.txt"
for run in $(seq 1 "$runs"); do
  for size in $sizes; do
    for server in "${servers[@]}"; do
      pid=${server_pid[$server]}
      before=$(cpu_ticks "$pid")
      read -r rate p99 messages < <($load_cpu "$build/bin/eddy-load" --mode echo \
        --port "${server_port[$server]}" --message_size "$size" \
        --connections "$connections" --duration "${duration}s" \
        --progress=false --json | parse_eddy_load_json)
      after=$(cpu_ticks "$pid")
      cpu_us=$(cpu_per_request "$before" "$after" "$messages")
      echo "$server ${size}B $rate $p99 $cpu_us" >>"$results"
      echo "$server ${size}B (run $run): $rate messages/s, p99 $p99 ms, $cpu_us us CPU/message" >&2
    done
  done
done

echo
machine_line
echo "One server thread each; $connections connections, one message in flight per connection; ${duration}s per load; median of $runs run(s)"
echo
python3 bench/peers/table.py --unit messages "$results"
