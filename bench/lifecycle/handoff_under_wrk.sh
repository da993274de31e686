#!/bin/sh
# The cost of a listener hand-off as a client sees it: wrk (-t1 -c16, 6 s,
# --latency) against eddy-httpd, once without a restart and once with a new
# process taking over at 2 s; and how long the new process takes from exec
# to serving (its start line, printed after the old one was told to drain).
#
#   bench/lifecycle/handoff_under_wrk.sh build/release/bin/eddy-httpd
set -eu
httpd=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
port_of() { sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1; }
wait_line() {
  i=0
  while ! grep -q "listening on" "$1"; do
    i=$((i + 1)); [ "$i" -lt 500 ] || { echo "no start line" >&2; exit 1; }
    sleep 0.01
  done
}
flags="--bind 127.0.0.1 --port 0 --workers 1 --drain_delay 1s --log_level warning --handoff_socket $dir/handoff"

for run in baseline handoff; do
  "$httpd" $flags >"$dir/old.out" &
  old=$!
  wait_line "$dir/old.out"
  port=$(port_of "$dir/old.out")
  wrk -t1 -c16 -d6s --latency "http://127.0.0.1:$port/" >"$dir/wrk.out" &
  load=$!
  sleep 2
  if [ "$run" = handoff ]; then
    start=$(date +%s%N)
    "$httpd" $flags >"$dir/new.out" &
    new=$!
    wait_line "$dir/new.out"
    end=$(date +%s%N)
    echo "handoff: new process serving $(( (end - start) / 1000000 )) ms after exec"
    wait "$old"
  fi
  wait "$load"
  echo "$run:"; grep -E "Latency |99%|Requests/sec|errors|Non-2xx" "$dir/wrk.out"
  if [ "$run" = handoff ]; then kill -TERM "$new"; wait "$new"; else kill -TERM "$old"; wait "$old"; fi
  rm -f "$dir/old.out" "$dir/new.out"
done
