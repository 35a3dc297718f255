#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOURBANK_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
cd build
ctest --output-on-failure -j"$jobs" --timeout 600
(cd .. && tools/ci_extra.sh)
