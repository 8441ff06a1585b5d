#!/usr/bin/python3
"""Coding in float32 against float64 (issue 15, not a test): the coding case
of bench/peers.py (m 64, n 256, 10,000 samples, 5% active, noise 0.01, mu =
0.05), the data rounded to float32 for every variant, coded by FISTA and by
the active-set solver from float64 and from float32 arrays (the latter go
through ovica_solver_infer_f32). Prints seconds (best of 3), the LASSO
objective's relative distance from the exact one (the active-set solver in
double at tolerance 1e-10) and the largest code difference.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -W ignore bench/f32_coding.py
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
sys.path.insert(0, HERE)
import ovica  # noqa: E402
from peers import make_data, lasso_obj  # noqa: E402

MU = 0.05


def main():
    print("prior       solver dtype   seconds  objective - exact (relative)  largest code difference")
    for prior, seed in (("exponential", 8), ("laplace", 7)):
        A, _, X = make_data(np.random.default_rng(seed), 64, 256, 10000, 0.05, prior, 0.01)
        D = np.ascontiguousarray(A.T)
        X32 = X.astype(np.float32)
        X64 = X32.astype(np.float64)
        kw = dict(prior=prior, noise_sigma=0.05, prior_scale=0.05)  # mu = sigma^2 / b
        exact = ovica.sparse_encode(X64, D, solver="active", tol=1e-10, **kw)
        f_ex = lasso_obj(X64, A, exact, MU)
        for solver in ("fista", "active"):
            for data in (X64, X32):
                best = np.inf
                for _ in range(3):
                    t0 = time.perf_counter()
                    S = ovica.sparse_encode(data, D, solver=solver, tol=1e-6, max_iter=20000, **kw)
                    best = min(best, time.perf_counter() - t0)
                f = lasso_obj(X64, A, S.astype(np.float64), MU)
                print("%-11s %-6s %-7s %7.3f  %.1e                       %.1e"
                      % (prior, solver, S.dtype.name, best, (f - f_ex) / f_ex,
                         np.abs(S - exact).max()))


if __name__ == "__main__":
    main()
