#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo: a ledger from the five price lists,
# then balances, burned hours and invoices. The demo ledger is left in build/demo-ledger.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target hourbank
rm -rf build/demo-ledger
exec build/tools/hourbank --ledger build/demo-ledger demo
