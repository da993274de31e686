#!/usr/bin/env bash
# Installs missing Debian packages, builds eddy (Release) and runs the demo
# server in the foreground; extra arguments go to the server, e.g.
#   examples/run_demo.sh --port 8080 --workers 2
# Stop it with Ctrl-C (SIGINT): it drains and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
third_party/install_deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
demo=eddy-echo
[[ -f examples/eddy_httpd.cc ]] && demo=eddy-httpd
# Everything the install step copies, so `cmake --install build/release`
# works right after this script (the README's order).
cmake --build build/release -j "$(nproc)" --target installable
exec "build/release/bin/$demo" "$@"
