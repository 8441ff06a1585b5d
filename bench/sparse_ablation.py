#!/usr/bin/env python3
"""Ablation of the sparse route (docs/ABLATION.md, "Sparse sources"): what
each part of the default contributes, on sparse cases made here with numpy
(held-out kinds, seeds 700+). Every variant changes ONE trainer parameter
(or the rule) from the library's defaults, through the estimator's
trainer_params.

    OPENBLAS_NUM_THREADS=1 python3 bench/sparse_ablation.py [--seeds 2]

Prints, per case and variant, MMCS and the atoms at cos >= 0.99 for each
seed, and the mean seconds per fit.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python", "tests"))
sys.path.insert(0, HERE)
import ovica  # noqa: E402
from sparse_peers import sparse_data, toy_data, score  # noqa: E402

VARIANTS = [
    ("defaults (auto)", {}, "auto"),
    ("no swap", {"swap": 0}, "auto"),
    ("threshold 1 sigma", {"threshold": 1.0}, "auto"),
    ("window 1 (no running statistics)", {"window": 1}, "auto"),
    ("rows 256 per step", {"batch": 256}, "auto"),
    ("exact gradient from draws (the old default)", {}, "exact"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    a = ap.parse_args()
    cases = [
        ("32x64, 5% exponential, noise 0.01",
         lambda s: sparse_data(700 + s, 32, 64, 0.05, "exponential", 20000, 0.01), "exponential"),
        ("16x32, 5% exponential, noise 0.05",
         lambda s: sparse_data(800 + s, 16, 32, 0.05, "exponential", 10000, 0.05), "exponential"),
        ("superposition 20 in 8", lambda s: toy_data(10 + s), "exponential"),
    ]
    print("%-36s %-44s %s" % ("case", "variant", "MMCS/atoms at cos >= 0.99 per seed; s per fit"))
    for name, make, prior in cases:
        data = [make(s) for s in range(1, a.seeds + 1)]
        for label, params, rule in VARIANTS:
            cells, t0 = [], time.time()
            for d in data:
                X, A = d[0], d[1]
                n = d[3] if len(d) == 4 else A.shape[1]
                est = ovica.OvercompleteICA(n, prior=prior, noise_sigma=0.05, rule=rule,
                                            trainer_params=params or None, random_state=1)
                est.fit(X)
                mm, c99 = score(A, est.components_.T, prior == "exponential")
                cells.append("%.4f/%d" % (mm, c99))
            print("%-36s %-44s %s; %.1f s" % (name, label, " ".join(cells),
                                             (time.time() - t0) / len(data)), flush=True)


if __name__ == "__main__":
    main()
