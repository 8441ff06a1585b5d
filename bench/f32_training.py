#!/usr/bin/env python3
"""Training on float32 data in single precision against float64 (issue 15;
a benchmark, not a test): the recovery cases of the sparse defaults, each
fitted by ovica.OvercompleteICA with its defaults on the same data as
float64 and as float32 (the float32 array goes to ovica_trainer_step_f32,
whose codes are then computed in single precision), on seeds that no test
uses.

    OPENBLAS_NUM_THREADS=1 python3 -W ignore bench/f32_training.py
    OPENBLAS_NUM_THREADS=1 python3 -W ignore bench/f32_training.py --seeds 3 --first-seed 700

Per case and dtype: the MMCS of the learned atoms against the true ones
(one-to-one matching; signed for the non-negative sources), the atoms at
cos >= 0.99, the steps the fit took (it stops where the trainer says the
basis has settled) and the milliseconds per step of the fit (one thread
unless --threads), and the float64 time per step over the float32 one. Every fit of a pair starts from the same seed; the data are
rounded to float32 once and the float64 fit gets the rounded values, so
the only difference is the arithmetic of the codes.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
import ovica  # noqa: E402

# (label, m, n, activity, prior, rows, noise)
CASES = [
    ("16 x 32, 5% exponential, noise 0.05", 16, 32, 0.05, "exponential", 10000, 0.05),
    ("32 x 64, 5% exponential, noise 0.01", 32, 64, 0.05, "exponential", 20000, 0.01),
    ("32 x 96, 4% Laplace, noise 0.01", 32, 96, 0.04, "laplace", 30000, 0.01),
    ("32 x 256, 4% exponential, noise 0.01", 32, 256, 0.04, "exponential", 20000, 0.01),
    ("128 x 512, 3% exponential, noise 0.01", 128, 512, 0.03, "exponential", 50000, 0.01),
]


def sparse_data(seed, m, n, p, kind, N, noise):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    A /= np.linalg.norm(A, axis=0)
    mask = rng.random((N, n)) < p
    amp = rng.exponential(1.0, (N, n)) if kind == "exponential" else rng.laplace(0.0, 1.0, (N, n))
    X = (mask * amp) @ A.T + noise * rng.standard_normal((N, m))
    return np.ascontiguousarray(X, dtype=np.float32), A


def score(A, est, signed):
    _, ang = ovica.match_atoms(np.ascontiguousarray(est.components_.T), np.ascontiguousarray(A),
                               use_sign=signed)
    c = np.cos(np.radians(ang))
    return c.mean(), int((c >= 0.99).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=600)
    ap.add_argument("--threads", type=int, default=1, help="the trainer's threads")
    ap.add_argument("--cases", nargs="+", type=int, default=None,
                    help="indices of the cases to run (default all)")
    a = ap.parse_args()
    print("OPENBLAS_NUM_THREADS=%s, trainer threads %d"
          % (os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"), a.threads))
    # one small untimed fit of each dtype first: the first fit of a process
    # pays one-time start-up costs (lazy initialisation, first page faults)
    Xw, _ = sparse_data(1, 16, 32, 0.05, "exponential", 2000, 0.05)
    for X in (Xw.astype(np.float64), Xw):
        ovica.OvercompleteICA(32, prior="exponential", noise_sigma=0.05, max_steps=60).fit(X)
    print("%-40s %5s | %-8s %7s %5s %7s | %-8s %7s %5s %7s | %s" % (
        "case", "seed", "float64", "atoms", "steps", "ms/step", "float32", "atoms", "steps",
        "ms/step", "per step"))
    for ci, (label, m, n, p, kind, N, noise) in enumerate(CASES):
        if a.cases is not None and ci not in a.cases:
            continue
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            X32, A = sparse_data(seed, m, n, p, kind, N, noise)
            X64 = X32.astype(np.float64)
            row = []
            for X in (X64, X32):
                est = ovica.OvercompleteICA(n, prior=kind, noise_sigma=0.05, random_state=seed,
                                            trainer_params={"threads": a.threads})
                t0 = time.perf_counter()
                est.fit(X)
                sec = time.perf_counter() - t0
                mm, c99 = score(A, est, kind == "exponential")
                row.append((mm, c99, est.n_steps_, sec))
            (m64, a64, s64, t64), (m32, a32, s32, t32) = row
            print("%-40s %5d | %.4f %3d/%-3d %5d %7.2f | %.4f %3d/%-3d %5d %7.2f | %.2fx" % (
                label, seed, m64, a64, n, s64, 1e3 * t64 / s64, m32, a32, n, s32,
                1e3 * t32 / s32, (t64 / s64) / (t32 / s32)))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
