#!/usr/bin/env bash
# Builds eddy and runs every test: the Release build, then the same suite
# under ASan+UBSan and under TSan, then the parser fuzz targets for a bounded
# time. Installs missing Debian packages first (third_party/install_deps.sh).
#
#   tests/run.sh            everything (what CI runs)
#   tests/run.sh --quick    the Release build only
#
# Build trees go to build/release, build/asan, build/tsan, build/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "usage: tests/run.sh [--quick]" >&2; exit 2 ;;
  esac
done

if [[ $quick -eq 1 ]]; then
  third_party/install_deps.sh --clients
else
  third_party/install_deps.sh --fuzz --clients --browser --observe --deploy
fi
jobs=$(nproc)
fuzz_seconds=${EDDY_FUZZ_SECONDS:-60}

suite() {
  local name=$1
  shift
  echo "=== eddy tests: $name build ==="
  cmake -S . -B "build/$name" -G Ninja "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs"
}

suite release -DCMAKE_BUILD_TYPE=Release
[[ $quick -eq 1 ]] && exit 0

suite asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDDY_SANITIZE=address \
  -DEDDY_BUILD_BENCH=OFF
# TSan's shadow memory needs a predictable address layout on kernels with
# high mmap randomisation; setarch -R turns randomisation off for the run.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  suite tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDDY_SANITIZE=thread \
  -DEDDY_BUILD_BENCH=OFF

if [[ -f tests/fuzz/CMakeLists.txt ]]; then
  echo "=== eddy fuzz targets: ${fuzz_seconds}s each ==="
  CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEDDY_FUZZ=ON -DEDDY_BUILD_TESTS=OFF -DEDDY_BUILD_BENCH=OFF \
    -DEDDY_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build/fuzz -j "$jobs"
  for target in build/fuzz/bin/*_fuzz; do
    corpus="build/fuzz/corpus/$(basename "$target")"
    mkdir -p "$corpus"
    "$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
      -artifact_prefix=build/fuzz/ "$corpus" \
      tests/fuzz/seeds/"$(basename "$target")" 2>&1 | tail -n 5
  done
fi
echo "=== eddy tests: all suites passed ==="
