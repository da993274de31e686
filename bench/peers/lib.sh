# Shared by the side-by-side scripts in bench/peers: pinning, server
# start-up checks, CPU accounting and clean-up. Source it after `cd` to the
# repository root; it sets `work` (a scratch directory removed on exit),
# `server_cpu` and `load_cpu` (taskset prefixes, empty on one CPU).

work=$(mktemp -d /tmp/eddy-peers.XXXXXX)
chmod 755 "$work"  # h2o drops to 'nobody' when started as root
peer_pids=()
peers_cleanup() {
  for pid in "${peer_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  for pid in "${peer_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap peers_cleanup EXIT

# The server on CPU 0, the load generator on CPU 1, so that neither steals
# the other's cycles and the server's CPU time is its own.
server_cpu=""
load_cpu=""
if [[ $(nproc) -ge 2 ]]; then
  server_cpu="taskset -c 0"
  load_cpu="taskset -c 1"
fi
ticks_per_second=$(getconf CLK_TCK)

# Builds the named eddy targets into $build unless they are there already.
ensure_built() {
  local target missing=()
  for target in "$@"; do
    [[ -x $build/bin/$target ]] || missing+=("$target")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target "${missing[@]}" >/dev/null
}

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# user+sys clock ticks of a process and all its children.
cpu_ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    if [[ -r /proc/$pid/stat ]]; then
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    fi
  done
  echo "$total"
}

# Microseconds of server CPU per request: cpu_per_request BEFORE AFTER COUNT.
cpu_per_request() {
  python3 -c "print(f'{($2 - $1) / $ticks_per_second * 1e6 / max($3, 1):.2f}')"
}

# eddy-load --json on stdin -> "requests_per_s p99_ms requests".
parse_eddy_load_json() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
if "tls" in d:
    print("eddy-load: %d TLS handshakes, %d resumed" % (d["tls"]["handshakes"], d["tls"]["resumed"]), file=sys.stderr)
p99_ms = d.get("latency_us", {}).get("p99", 0) / 1000
print("%.0f %.3f %d" % (d["requests_per_sec"], p99_ms, d["requests"]))'
}

# Counts the server's system calls and context switches while a load runs,
# when perf is installed (Debian: linux-perf) and allowed:
#   kernel_counters_start PID; ...load...; kernel_counters_stop COUNT
# kernel_counters_stop prints "syscalls_per_request switches_per_request",
# or "- -" without perf.
kernel_counters_start() {
  counters_file="$work/counters.txt"
  rm -f "$counters_file"
  counters_pid=""
  command -v perf >/dev/null || return 0
  local pids
  pids=$(echo "$1" $(pgrep -P "$1" 2>/dev/null || true) | tr ' ' ',')
  perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pids" \
    -o "$counters_file" >/dev/null 2>&1 &
  counters_pid=$!
  sleep 0.2  # perf attaches before the load starts
}

kernel_counters_stop() {
  if [[ -n $counters_pid ]]; then
    kill -INT "$counters_pid" 2>/dev/null || true
    wait "$counters_pid" 2>/dev/null || true
  fi
  python3 - "$counters_file" "$1" <<'PY'
import sys
counts = {}
try:
    for line in open(sys.argv[1]):
        fields = line.strip().split(",")
        if len(fields) > 2 and fields[0].isdigit():
            counts[fields[2]] = int(fields[0])
except OSError:
    pass
requests = max(int(sys.argv[2]), 1)
syscalls = counts.get("raw_syscalls:sys_enter")
switches = counts.get("context-switches")
if syscalls is None or switches is None:
    print("- -")
else:
    print(f"{syscalls / requests:.2f} {switches / requests:.3f}")
PY
}

machine_line() {
  echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); kernel $(uname -r)"
}
