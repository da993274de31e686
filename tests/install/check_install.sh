#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, builds the consumer project
# against it with find_package(eddy), and runs it.
#   check_install.sh <build dir> <source dir of the consumer> [guide program]
set -euo pipefail
build_dir=$1
consumer_src=$2
guide_source=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer_src" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DGUIDE_SOURCE="$guide_source" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
