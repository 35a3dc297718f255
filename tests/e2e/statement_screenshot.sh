#!/usr/bin/env bash
# Renders a client statement from the demo ledger in headless Chromium and checks what the
# browser made of it:
#   - the DOM Chromium parsed (--dump-dom) has the title, the chart and the April total, and it
#     is Russian throughout for this RUB client (plan title, invoice line descriptions);
#   - laid out at the A4 text width (210 mm less 2 × 14 mm margins = 182 mm = 688 CSS px), no
#     element of the page reaches past the body's edges and no table cell's text spills out
#     of its cell: checked by a script added to a copy of
#     the statement (the statement itself has none) that measures every element's box, for
#     April and for May, whose work awaiting acceptance has an 83-character task without spaces;
#   - the screenshot is a 900x1800 PNG, mostly white paper with real content on it, and the
#     statement's own colours are there: the heading rule (#143d6b), the chart's bars for
#     included (#c5d3e3), used (#2f6db5) and overage (#d0453b) hours.
# Without Chromium: exit 77 (ctest: Skipped); under CI=true a missing Chromium is a failure
# (tools/setup.sh installs the Debian package `chromium`).
#   statement_screenshot.sh HOURBANK [OUT.png]
set -euo pipefail
hb=$1
out=${2:-}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  if [[ "${CI:-}" == true ]]; then echo "FAILED: chromium is not installed (CI=true; tools/setup.sh installs it)"; exit 1; fi
  echo "skipped: chromium is not installed (apt-get install chromium)"; exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$hb" --ledger "$dir/ledger" demo >/dev/null
"$hb" --ledger "$dir/ledger" statement stroymarket 2026-04 --out "$dir/statement.html" >/dev/null
grep -q "<svg" "$dir/statement.html"
grep -q "33 000.00 ₽" "$dir/statement.html"   # April: fee 20 000 + 6h30m × 2 000 = 33 000.00
for colour in '#c5d3e3' '#2f6db5' '#d0453b'; do
  grep -q "fill=\"$colour\"" "$dir/statement.html" || { echo "FAILED: the chart has no $colour bar"; exit 1; }
done
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$dir/profile" --hide-scrollbars)

# 1. The DOM as Chromium parsed it.
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$dir/statement.html" >"$dir/dom.html" 2>"$dir/dom.err" || true
[[ -s "$dir/dom.html" ]] || { echo "FAILED: chromium --dump-dom printed nothing: $(tail -3 "$dir/dom.err")"; exit 1; }
for want in "<svg" "33 000.00 ₽" "<h1>Отчёт за апрель 2026</h1>" "1С: сопровождение, тариф «Старт»" \
            "часы сверх тарифа, 6 ч 30 мин" "Платежи и задолженность"; do
  grep -qF "$want" "$dir/dom.html" || { echo "FAILED: the parsed DOM lacks '$want'"; exit 1; }
done
for unwanted in "hours beyond the plan" "1C support Start"; do
  if grep -qF "$unwanted" "$dir/dom.html"; then echo "FAILED: the Russian statement says '$unwanted'"; exit 1; fi
done

# 2. The page width: nothing runs past the right edge of an A4 page.
long_task="SM-ЗАДАЧА-БЕЗ-ПРОБЕЛОВ-$(printf 'X%.0s' {1..60})"
"$hb" --ledger "$dir/ledger" log stroymarket 1h --kind development --task "$long_task" \
  --staff "Константин-Константинопольский" --at 2026-05-05T10:00 >/dev/null
"$hb" --ledger "$dir/ledger" log stroymarket 2h --kind development --task SM-50 --at 2026-05-06T10:00 >/dev/null
"$hb" --ledger "$dir/ledger" accept stroymarket --task SM-50 --at 2026-05-07T10:00 >/dev/null
"$hb" --ledger "$dir/ledger" statement stroymarket 2026-05 --out "$dir/may.html" >/dev/null
grep -qF "$long_task" "$dir/may.html" || { echo "FAILED: May's statement lacks the task awaiting acceptance"; exit 1; }
for month in statement may; do
  python3 - "$dir/$month.html" "$dir/$month-layout.html" <<'EOF'
import sys
src = open(sys.argv[1], encoding="utf-8").read()
check = """<script>
(function () {
  var body = document.body.getBoundingClientRect(), bad = [], els = document.querySelectorAll('body *');
  for (var i = 0; i < els.length; i++) {
    var r = els[i].getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > body.right + 0.5 || r.left < body.left - 0.5)
      bad.push(els[i].tagName.toLowerCase() + (els[i].id ? '#' + els[i].id : '') + ' ' + Math.round(r.left) +
               '..' + Math.round(r.right));
    // A table cell whose text is wider than the cell spills over its neighbour.
    var tag = els[i].tagName;
    if ((tag === 'TD' || tag === 'TH') && els[i].scrollWidth > els[i].clientWidth + 1)
      bad.push(tag.toLowerCase() + ' "' + els[i].textContent.slice(0, 20) + '" ' + els[i].scrollWidth + '>' +
               els[i].clientWidth);
  }
  var out = document.createElement('pre');
  out.id = 'layout-check';
  out.textContent = 'width=' + Math.round(body.width) + ' scroll=' + document.documentElement.scrollWidth +
      ' view=' + window.innerWidth + ' overflow=' + bad.length + ' ' + bad.slice(0, 6).join('; ');
  document.body.appendChild(out);
})();
</script>"""
assert src.count("</body>") == 1
open(sys.argv[2], "w", encoding="utf-8").write(src.replace("</body>", check + "</body>"))
EOF
  # 794 CSS px = 210 mm: the body is then exactly its max-width, 182 mm.
  timeout 120 "$browser" "${flags[@]}" --window-size=794,1123 --dump-dom "file://$dir/$month-layout.html" \
    >"$dir/$month-layout.dom" 2>"$dir/layout.err" || true
  layout=$(grep -o 'id="layout-check">[^<]*' "$dir/$month-layout.dom" | sed 's/.*>//' || true)
  [[ -n "$layout" ]] || { echo "FAILED: no layout measured for $month: $(tail -3 "$dir/layout.err")"; exit 1; }
  [[ "$layout" == "width=688 scroll=794 view=794 overflow=0 "* ]] ||
    { echo "FAILED: $month runs past the A4 text width (182 mm = 688 px): $layout"; exit 1; }
  echo "layout $month: $layout"
done

# 3. The rendered page.
timeout 120 "$browser" "${flags[@]}" --window-size=900,1800 \
  --screenshot="$dir/statement.png" "file://$dir/statement.html" >/dev/null 2>&1 || true
[[ -s "$dir/statement.png" ]] || { echo "FAILED: chromium wrote no screenshot"; exit 1; }
python3 - "$dir/statement.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "FAILED: not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
if (width, height) != (900, 1800):
    sys.exit(f"FAILED: screenshot is {width}x{height}, want 900x1800 (--window-size)")
if depth != 8 or ctype not in (2, 6) or interlace:
    sys.exit(f"FAILED: unexpected PNG format depth {depth} colour type {ctype} interlace {interlace}")
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
rows, prev = [], bytearray(stride)
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line
counts = {}
for line in rows:
    for i in range(0, stride, bpp):
        px = line[i:i + 3]
        counts[px] = counts.get(px, 0) + 1
total = width * height
white = counts.get(b"\xff\xff\xff", 0)
def n(hexcolour): return counts.get(bytes.fromhex(hexcolour), 0)
problems = []
if not 0.5 * total < white < 0.97 * total:
    problems.append(f"white is {100 * white / total:.1f}% of the page (blank or not paper?)")
if len(counts) < 50:
    problems.append(f"only {len(counts)} distinct colours (no text rendered?)")
# Solid areas of the statement's own colours (a bar or a rule is many pixels of one colour).
for colour, what, least in (("143d6b", "heading rule", 300), ("c5d3e3", "included bars", 500),
                            ("2f6db5", "used bars", 500), ("d0453b", "overage bars", 100)):
    if n(colour) < least:
        problems.append(f"{what} #{colour}: {n(colour)} pixels, want >= {least}")
if problems:
    sys.exit("FAILED: " + "; ".join(problems))
print(f"rendered: {width}x{height}, {100 * white / total:.1f}% white, {len(counts)} colours, "
      f"bars {n('c5d3e3')}/{n('2f6db5')}/{n('d0453b')} px, rule {n('143d6b')} px")
EOF
[[ -n "$out" ]] && cp "$dir/statement.png" "$out"
echo "1 passed, 0 failed"
