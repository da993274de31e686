#!/usr/bin/env bash
# eddy's headers are spelled "eddy/<layer>/<name>.h" everywhere a user reads
# code (sources, examples, tests, docs), so that the code a user copies is the
# code that works against the installed package. Fails listing every include
# that names a layer folder without the prefix.
#   check_include_spelling.sh <source dir>
set -euo pipefail
cd "$1"
# tests/install/consumer has net/ and http/ folders of its own on purpose.
if hits=$(grep -rnE --exclude-dir=consumer '#include [<"](core|net|http)/' \
    core net http examples bench tests docs README.md); then
  echo "includes without the eddy/ prefix:"
  echo "$hits"
  exit 1
fi
echo "every eddy include is spelled eddy/..."
