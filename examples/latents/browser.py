"""The feature browser of the latents benchmark (docs/LATENTS.md): one static
HTML page, no server and no external assets (inline SVG), listing features of
each method with their top-activating text snippets highlighted by
activation, their activation histograms and the interpretability proxy.

    /usr/bin/python3 examples/latents/browser.py --results build/latents/results
        [--out build/latents/results/browser.html] [--per-method 24] [--snippets 8]

Reads results.json, browse.npz and text.txt written by compare.py. The
features shown are a random sample (fixed seed) of each method's live
features, not the best ones: the page is meant to show what a method's
features typically look like.
"""
import argparse
import html
import json
import os
import sys

import numpy as np

NAMES = {"ovica": "libovica (defaults)", "l1": "L1 SAE", "topk": "TopK SAE"}
CSS = """
body{font-family:sans-serif;margin:16px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
.feature{border:1px solid #ddd;border-radius:4px;padding:8px;margin:8px 0;display:flex;gap:14px}
.meta{width:230px;flex:none;font-size:12px}.meta b{font-size:13px}
.snips{font-family:monospace;font-size:13px;white-space:pre;overflow:hidden}
.snip{margin:1px 0}.snip span{border-radius:2px}.peak{outline:1px solid #900}
.val{color:#777;display:inline-block;width:48px;text-align:right;margin-right:8px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}
"""


def hist_svg(v, bins=20, w=220, h=60):
    """Activation histogram of the feature's non-zero values (bars, log counts)."""
    if len(v) == 0:
        return '<svg class="hist" width="%d" height="%d"></svg>' % (w, h)
    cnt, edges = np.histogram(v, bins=bins, range=(0, float(v.max())))
    top = np.log1p(cnt).max() or 1.0
    bw = w / bins
    bars = "".join('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a78c2"><title>%.3g-%.3g: %d'
                   '</title></rect>' % (i * bw, h - 12 - (h - 14) * np.log1p(c) / top, bw - 1,
                                        (h - 14) * np.log1p(c) / top, edges[i], edges[i + 1], c)
                   for i, c in enumerate(cnt))
    return ('<svg class="hist" width="%d" height="%d"><rect width="%d" height="%d" fill="#f6f6f6"/>%s'
            '<text x="0" y="%d" font-size="9">0</text><text x="%d" y="%d" font-size="9" text-anchor="end">'
            '%.3g</text></svg>' % (w, h, w, h - 12, bars, h - 2, w, h - 2, float(v.max())))


def snippet(text, pos_to_row, col, p, vmax, left=40, right=10):
    out = []
    for q in range(max(0, p - left), min(len(text), p + right + 1)):
        r = pos_to_row.get(q)
        a = 0.0 if r is None else max(0.0, float(col[r])) / vmax
        c = text[q]
        ch = "\u21b5" if c == "\n" else html.escape(c)
        if a > 0.02 or q == p:
            style = ' style="background:rgba(230,120,0,%.2f)"' % min(1.0, a) if a > 0.02 else ""
            out.append('<span%s%s>%s</span>' % (' class="peak"' if q == p else "", style, ch))
        else:
            out.append(ch)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--per-method", type=int, default=24)
    ap.add_argument("--snippets", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    out = a.out or os.path.join(a.results, "browser.html")
    with open(os.path.join(a.results, "results.json")) as fh:
        R = json.load(fh)
    B = np.load(os.path.join(a.results, "browse.npz"))
    with open(os.path.join(a.results, "text.txt"), encoding="ascii") as fh:
        text = fh.read()
    pos = B["pos"]
    pos_to_row = {int(p): i for i, p in enumerate(pos)}
    rng = np.random.default_rng(a.seed)
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>libovica latents: feature browser'
             '</title><style>%s</style></head><body>' % CSS,
             '<h1>Features of a character model\'s residual stream: libovica against sparse autoencoders</h1>',
             '<p>%d held-out characters (contiguous), %d-dimensional activations%s. Each method: a random sample '
             'of its live features (active on at least one of these characters). Snippets: the characters '
             'before and after each of the feature\'s largest activations, shaded by the activation '
             '(the outlined character is the one the activation was read at; \u21b5 is a newline). Proxy: '
             'share of the top 50 activations on one current / next character / current bigram.</p>'
             % (len(pos), R["data"]["d"],
                "" if "lm" not in R else ", residual stream after block %d of %d" % (R["lm"]["layer"], R["lm"]["layers"]))]
    svg = os.path.join(a.results, "frontier.svg")
    if os.path.exists(svg):
        with open(svg) as fh:
            parts.append('<div class="frontier">%s</div>' % fh.read())
    n_total = 0
    rank = {"ovica": 0, "l1": 1, "topk": 2}
    for m in sorted(R["methods"], key=lambda m: (rank.get(m["method"], 9), m["ratio"])):
        key = m["key"]
        C = B[key]
        P = B[key + "_proxy"]
        live = np.flatnonzero((C > 0).sum(0) > 0)
        pick = np.sort(rng.choice(live, size=min(a.per_method, len(live)), replace=False)) if len(live) else []
        op = m["operating_point"]
        steps = (" after %d steps" % m["steps"]) if m.get("settings", {}).get("ica_max_steps") else ""
        parts.append('<h2 class="method" id="%s">%s, %dx overcomplete (%d atoms%s): mean L0 %.1f, FVU %.3f, '
                     '%d of %d features live here</h2>' % (key, NAMES.get(m["method"], m["method"]), m["ratio"],
                                                       m["atoms"], steps, op["l0"], op["fvu"], len(live),
                                                       m["atoms"]))
        for j in pick:
            col = C[:, j]
            v = col[col > 0]
            top = np.argsort(-col)[: a.snippets]
            top = top[col[top] > 0]
            vmax = float(col[top[0]]) if len(top) else 1.0
            pr = P[j]
            prs = "n/a (fewer than 50 activations)" if np.isnan(pr[0]) else "%.2f / %.2f / %.2f" % tuple(pr)
            cur = [text[pos[r]] for r in top]
            mode = max(set(cur), key=cur.count) if cur else ""
            snips = "".join('<div class="snip"><span class="val">%.3g</span>%s</div>'
                            % (col[r], snippet(text, pos_to_row, col, int(pos[r]), vmax)) for r in top)
            parts.append('<div class="feature" data-method="%s" data-feature="%d" data-proxy="%s">'
                         '<div class="meta"><b>%s #%d</b><br>active on %.2f%% of characters<br>'
                         'proxy (cur/next/bigram): %s<br>most common current char in top: %s<br>%s</div>'
                         '<div class="snips">%s</div></div>'
                         % (key, j, "" if np.isnan(pr[0]) else "%.3f" % np.nanmax(pr[:2]), key, j,
                            100.0 * len(v) / len(col), prs, html.escape(repr(mode)), hist_svg(v), snips))
            n_total += 1
    parts.append("</body></html>")
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    print("browser: %d features of %d methods in %s" % (n_total, len(R["methods"]), out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
