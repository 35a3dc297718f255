#!/usr/bin/env bash
# Renders a client statement from the demo ledger in headless Chromium (when installed) and
# checks a real page came out: a PNG of A4-ish width with content. Exit 77 = skipped.
#   statement_screenshot.sh HOURBANK [OUT.png]
set -euo pipefail
hb=$1
out=${2:-}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then echo "skipped: chromium is not installed (apt-get install chromium)"; exit 77; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$hb" --ledger "$dir/ledger" demo >/dev/null
"$hb" --ledger "$dir/ledger" statement stroymarket 2026-04 --out "$dir/statement.html" >/dev/null
grep -q "<svg" "$dir/statement.html"
grep -q "33 000.00 ₽" "$dir/statement.html"   # April: fee 20 000 + 6h30m × 2 000 = 33 000.00
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$dir/profile" --hide-scrollbars --window-size=900,1800 \
  --screenshot="$dir/statement.png" "file://$dir/statement.html" >/dev/null 2>&1 || true
[[ -s "$dir/statement.png" ]] || { echo "FAILED: chromium wrote no screenshot"; exit 1; }
size=$(stat -c %s "$dir/statement.png")
# A blank 900x1800 PNG compresses to a few KiB; a rendered statement is far larger.
if (( size < 40000 )); then echo "FAILED: screenshot is only $size bytes (blank page?)"; exit 1; fi
# PNG signature and width from the IHDR chunk.
sig=$(head -c 8 "$dir/statement.png" | od -An -tx1 | tr -d ' \n')
[[ "$sig" == "89504e470d0a1a0a" ]] || { echo "FAILED: not a PNG"; exit 1; }
[[ -n "$out" ]] && cp "$dir/statement.png" "$out"
echo "1 passed, 0 failed (statement rendered: $size bytes)"
