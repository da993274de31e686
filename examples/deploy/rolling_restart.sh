#!/bin/sh
# Restarts the three eddy-httpd instances behind haproxy.cfg one at a time,
# each with a listener hand-off: the new process takes the running one's
# listening socket, so no connection is refused or reset, and the old one
# drains (failing /readyz, so HAProxy stops choosing it) and exits 0. HAProxy
# sends a PROXY v2 header (send-proxy-v2), so each instance requires one from
# HAProxy's address and logs the client it names.
#
#   examples/deploy/rolling_restart.sh [path/to/eddy-httpd]
#
# The first run (nothing running yet) just starts the three instances.
set -eu
httpd=${1:-build/release/bin/eddy-httpd}
run_dir=${EDDY_RUN_DIR:-/tmp/eddy-fleet}
mkdir -p "$run_dir"
for port in 8081 8082 8083; do
  out="$run_dir/$port.out"
  touch "$out"
  started=$(grep -c "listening on" "$out" || true)
  "$httpd" --bind 127.0.0.1 --port "$port" --drain_delay 2s \
    --handoff_socket "$run_dir/$port.handoff" \
    --proxy_protocol required --proxy_trusted 127.0.0.1/32 \
    --access_log "$run_dir/$port.access.log" \
    >>"$out" 2>>"$run_dir/$port.err" &
  pid=$!
  # The start line comes once the new process serves (after the old one
  # was told to drain). The next instance waits for it: one instance of
  # three is ever in transition.
  tries=0
  while [ "$(grep -c "listening on" "$out" || true)" -le "$started" ]; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -gt 300 ]; then
      echo "port $port: the new process failed; the old one still serves" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "port $port: new process $pid serving"
done
