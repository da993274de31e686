#!/usr/bin/env bash
# Installs the Debian 12 packages eddy needs, and only those that are missing.
# Idempotent and quiet when everything is present, so the README's commands can
# call it on every run.
#
#   third_party/install_deps.sh            build + test dependencies
#   third_party/install_deps.sh --bench    also the peers and load tools for bench/
#   third_party/install_deps.sh --fuzz     also clang's sanitizer/libFuzzer runtime
#   third_party/install_deps.sh --clients  also the real HTTP clients the tests drive
#   third_party/install_deps.sh --browser  also headless Chromium for the page test
#   third_party/install_deps.sh --observe  also Prometheus (and promtool) for the metrics tests
#   third_party/install_deps.sh --deploy   also HAProxy for the fleet (drain, restart) tests
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libabsl-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev openssl curl
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(wrk apache2-utils nginx-light h2o lighttpd redis-tools redis-server libhttp-parser-dev libboost1.74-doc) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --clients) packages+=(apache2-utils wrk redis-tools python3 python3-websockets) ;;
    --browser) packages+=(chromium) ;;
    --observe) packages+=(prometheus) ;;
    --deploy) packages+=(haproxy) ;;
    *) echo "install_deps.sh: unknown option '$arg' (use --bench, --fuzz, --clients, --browser, --observe, --deploy)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "eddy: installing missing Debian packages: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "eddy: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "eddy: packages installed"
