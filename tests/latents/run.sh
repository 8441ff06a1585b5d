#!/bin/sh
# The latents benchmark end to end at toy size (docs/LATENTS.md), part of
# `make check`: a tiny character model trained for a few seconds, its
# activations, the library and both autoencoders on them, the toy model of
# superposition, the feature browser; then the page is opened in headless
# Chromium and must render every feature it lists (DOM) and not be blank
# (screenshot pixels).
#   sh tests/latents/run.sh PYTHON OUTDIR
set -u
PY=${1:-/usr/bin/python3}
OUT=${2:-build/latents-test}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "check-latents: FAILED: $*"; exit 1; }
if ! "$PY" -c 'import numpy, torch' >/dev/null 2>&1; then
  echo "check-latents: SKIPPED: no numpy/torch for $PY (make deps-latents installs them)"; exit 0; fi
for c in chromium; do command -v $c >/dev/null 2>&1 || { echo "check-latents: SKIPPED: no $c (make deps-latents)"; exit 0; }; done
[ -d /usr/share/games/fortunes ] || { echo "check-latents: SKIPPED: no /usr/share/games/fortunes (make deps-latents)"; exit 0; }
rm -rf "$OUT"; mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1
t0=$(date +%s)
"$PY" "$HERE/examples/latents/charlm.py" --out "$OUT" --tiny --threads 1 > "$OUT/charlm.log" 2>&1 \
  || { cat "$OUT/charlm.log"; fail "charlm.py"; }
"$PY" "$HERE/examples/latents/compare.py" --data "$OUT" --out "$OUT/results" --tiny --threads 1 \
  > "$OUT/compare.log" 2>&1 || { cat "$OUT/compare.log"; fail "compare.py"; }
"$PY" "$HERE/examples/latents/browser.py" --results "$OUT/results" > "$OUT/browser.log" 2>&1 \
  || { cat "$OUT/browser.log"; fail "browser.py"; }
# The figures: every method measured, finite, in range; the toy benchmark ran.
"$PY" - "$OUT" <<'PYEOF' || fail "results.json"
import json, math, sys, os
import numpy as np
out = sys.argv[1]
R = json.load(open(os.path.join(out, "results", "results.json")))
lm = json.load(open(os.path.join(out, "lm.json")))
acts = np.load(os.path.join(out, "acts.npy"), mmap_mode="r")
pos = np.load(os.path.join(out, "pos.npy"))
text = open(os.path.join(out, "text.txt")).read()
assert acts.dtype == np.float32 and acts.shape == (lm["rows"], lm["d_model"]), acts.shape
assert len(pos) == acts.shape[0] and pos.min() >= 0 and pos.max() < len(text)
assert np.all(np.diff(pos[:100]) == 1), "rows of the first window are consecutive characters"
keys = sorted(m["key"] for m in R["methods"])
assert keys == ["l1_2x", "ovica_2x", "topk_2x"], keys
for m in R["methods"]:
    for p in m["frontier"]:
        assert math.isfinite(p["fvu"]) and 0 <= p["fvu"] < 2 and 0 < p["l0"] <= m["atoms"], (m["key"], p)
    assert 0 <= m["dead"] <= m["atoms"]
    assert m["proxy"]["judged"] > 0, m["key"]
    assert all(0 < q <= 1 for q in m["proxy"]["quantiles"]), m["proxy"]
topk = [m for m in R["methods"] if m["method"] == "topk"][0]
assert abs(topk["frontier"][0]["l0"] - topk["frontier"][0]["level"]) < 1e-9, "TopK codes have exactly k active"
t = R["toy"]
assert t["represented"] > 0 and len(t["methods"]) == 8, t
print("check-latents: %d rows x %d; methods %s; toy %d represented" % (
    acts.shape[0], acts.shape[1], ", ".join(keys), t["represented"]))
PYEOF
n=$(sed -n 's/^browser: \([0-9]*\) features.*/\1/p' "$OUT/browser.log")
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "browser.py listed no features"
# Headless Chromium: the DOM it builds from the page has every feature, each
# with its histogram (an inline SVG) and its snippets.
CH="chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync"
PAGE="file://$(cd "$OUT/results" && pwd)/browser.html"
U=$(mktemp -d)
timeout 60 $CH --user-data-dir="$U" --dump-dom "$PAGE" > "$OUT/dom.html" 2>/dev/null
rm -rf "$U"
nf=$(grep -o 'class="feature"' "$OUT/dom.html" | wc -l)
nh=$(grep -o '<svg class="hist"' "$OUT/dom.html" | wc -l)
ns=$(grep -o 'class="snip"' "$OUT/dom.html" | wc -l)
[ "$nf" -eq "$n" ] || fail "Chromium's DOM has $nf feature elements, the page lists $n"
[ "$nh" -eq "$n" ] || fail "Chromium's DOM has $nh histograms for $n features"
[ "$ns" -ge "$n" ] || fail "Chromium's DOM has $ns snippets for $n features"
U=$(mktemp -d)
timeout 60 $CH --user-data-dir="$U" --window-size=1200,1400 --screenshot="$OUT/browser.png" "$PAGE" \
  > "$OUT/chromium.log" 2>&1
rm -rf "$U"
[ -s "$OUT/browser.png" ] || { cat "$OUT/chromium.log"; fail "no screenshot"; }
if "$PY" -c 'import PIL' >/dev/null 2>&1; then
  "$PY" - "$OUT/browser.png" <<'PYEOF' || fail "the screenshot is blank"
import sys
import numpy as np
from PIL import Image
im = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
ink = (im.sum(2) < 600).mean()            # not white
orange = ((im[..., 0] > 200) & (im[..., 1] > 120) & (im[..., 1] < 220) & (im[..., 2] < 170)).mean()
blue = ((im[..., 2] > 150) & (im[..., 0] < 120)).mean()   # histogram bars, plot lines
print("check-latents: screenshot %dx%d: %.1f%% ink, %.2f%% highlight, %.2f%% bars" % (
    im.shape[1], im.shape[0], 100 * ink, 100 * orange, 100 * blue))
assert ink > 0.02 and orange > 0.001 and blue > 0.001
PYEOF
fi
echo "check-latents: ok: $n features rendered by headless Chromium ($(($(date +%s) - t0)) s)"
