"""The estimator's defaults find the features (issue #14): every fit below
passes only n_components, the sign of the features (the prior) and a noise
hint; everything else is the library's default. Data are made here with
numpy (not the C suite's generator), with fixed seeds.

Bars: sparse sources in many atoms (32 x 64, 32 x 96), MMCS >= 0.99 and
>= 90% of the atoms at cos >= 0.99 in each of 5 seeds (32 x 256 with about
10 active a sample: MMCS >= 0.98); a toy model of superposition, >= 90% of the
represented features at cos >= 0.99 in each of 5 models; 16 x 32, MMCS >=
0.98 in each of 5 seeds; the article's 2-D sets as in the C suite (3
regular: >= 19/20 within 2 degrees; 4 irregular and 3 Laplace: >= 18/20
within 3). The 2-D sets take minutes: OVICA_QUICK=1 runs 5 seeds of each
instead of 20 (with the bars scaled).
"""

import os
import time
import unittest

import numpy as np

from util import ovica

SEEDS = 5
SEEDS_2D = 5 if os.environ.get("OVICA_QUICK") else 20


def match(A_true, A_learned, signed):
    """Best-match cosines per true atom (Hungarian on |cos|, or cos when
    signed), via the library's matcher."""
    _, ang = ovica.match_atoms(np.ascontiguousarray(A_learned), np.ascontiguousarray(A_true),
                               use_sign=signed)
    return np.cos(np.radians(ang)), ang


def sparse_data(seed, m, n, p, kind, N, noise, with_codes=False):
    """X (N x m) = S A^T + noise: a random unit basis A (m x n), Bernoulli(p)
    activity times exponential or Laplace amplitudes of scale 1. Returns
    (X, A), or (X, A, S) with_codes."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    A /= np.linalg.norm(A, axis=0)
    mask = rng.random((N, n)) < p
    amp = rng.exponential(1.0, (N, n)) if kind == "exponential" else rng.laplace(0.0, 1.0, (N, n))
    S = mask * amp
    X = np.ascontiguousarray(S @ A.T + noise * rng.standard_normal((N, m)))
    return (X, A, S) if with_codes else (X, A)


def toy_model(seed, nf=20, nh=8, p=0.05, steps=3000, batch=512):
    """A toy model of superposition (Elhage et al. 2022), trained with Adam
    in numpy: h = W x, x_hat = ReLU(W^T h + b), loss sum_j 0.9^j (x_hat_j -
    x_j)^2 averaged. Returns W (nh x nf)."""
    rng = np.random.default_rng(500 + seed)
    W = 0.3 * rng.standard_normal((nh, nf))
    b = np.zeros(nf)
    imp = 0.9 ** np.arange(nf)
    mW, vW, mb, vb = np.zeros_like(W), np.zeros_like(W), np.zeros(nf), np.zeros(nf)
    for t in range(1, steps + 1):
        x = rng.random((batch, nf)) * (rng.random((batch, nf)) < p)
        h = x @ W.T
        y = h @ W + b
        G = np.where(y > 0, 2 * imp * (y - x), 0.0) / (batch * nf)
        gb = G.sum(0)
        gW = h.T @ G + (G @ W.T).T @ x
        for prm, g, mm, vv in ((W, gW, mW, vW), (b, gb, mb, vb)):
            mm *= 0.9
            mm += 0.1 * g
            vv *= 0.999
            vv += 0.001 * g * g
            prm -= 1e-2 * (mm / (1 - 0.9 ** t)) / (np.sqrt(vv / (1 - 0.999 ** t)) + 1e-8)
    return W


def fit(X, n, prior, noise, seed):
    est = ovica.OvercompleteICA(n, prior=prior, noise_sigma=noise, random_state=seed)
    return est.fit(X)


class TestSparseDefaults(unittest.TestCase):
    def run_sparse(self, label, m, n, p, kind, N, noise, mmcs_bar, frac_bar):
        rows, met = [], 0
        t0 = time.time()
        for seed in range(1, SEEDS + 1):
            X, A = sparse_data(200 + seed, m, n, p, kind, N, noise)
            est = fit(X, n, kind, 0.05, seed)
            c, _ = match(A, est.components_.T, kind == "exponential")
            mmcs, c99 = c.mean(), int((c >= 0.99).sum())
            met += mmcs >= mmcs_bar and c99 >= frac_bar * n
            rows.append("%.4f/%d(%s)" % (mmcs, c99, est.regime_))
        print("\nestimator defaults, %s: %d/%d seeds met the bar (%.1f s per fit): %s"
              % (label, met, SEEDS, (time.time() - t0) / SEEDS, " ".join(rows)))
        self.assertEqual(met, SEEDS, "%s: %s" % (label, rows))

    def test_exponential_32x64(self):
        self.run_sparse("32 x 64, 5% active exponential, noise 0.01", 32, 64, 0.05,
                        "exponential", 20000, 0.01, 0.99, 0.9)

    def test_laplace_32x96(self):
        self.run_sparse("32 x 96, 4% active Laplace, noise 0.01", 32, 96, 0.04, "laplace",
                        30000, 0.01, 0.99, 0.9)

    def test_many_active_32x256(self):
        # about 10 active atoms a sample in 32 dimensions: the codes' own
        # noise estimate pins the threshold, and auto's second probe (the
        # refitted estimate) keeps the sparse route (docs/LEARNING.md).
        # MMCS bar 0.98 (as 16 x 32): on these numpy-made sets the five
        # seeds gave 0.9891-0.9950 with 251-254 of 256 atoms at cos >= 0.99
        # (the C suite's sets: 0.9958-0.9980)
        self.run_sparse("32 x 256, 4% active exponential, noise 0.01", 32, 256, 0.04,
                        "exponential", 20000, 0.01, 0.98, 0.9)

    def test_16x32(self):
        self.run_sparse("16 x 32, 5% active exponential, noise 0.05", 16, 32, 0.05,
                        "exponential", 10000, 0.05, 0.98, 0.0)

    def test_superposition(self):
        rows, met = [], 0
        for seed in range(1, SEEDS + 1):
            W = toy_model(seed)
            rng = np.random.default_rng(900 + seed)
            x = rng.random((20000, W.shape[1])) * (rng.random((20000, W.shape[1])) < 0.05)
            H = np.ascontiguousarray(x @ W.T)
            rep = W[:, np.linalg.norm(W, axis=0) >= 0.5]
            est = fit(H, W.shape[1], "exponential", 0.05, seed)
            c, _ = match(rep, est.components_.T, True)
            c99 = int((c >= 0.99).sum())
            met += rep.shape[1] > 0 and c99 >= 0.9 * rep.shape[1]
            rows.append("%d/%d" % (c99, rep.shape[1]))
        print("\nestimator defaults, toy model of superposition (20 features in 8 units): "
              "%d/%d models met the bar: %s" % (met, SEEDS, " ".join(rows)))
        self.assertEqual(met, SEEDS, rows)


class TestArticleSetsDefaults(unittest.TestCase):
    """The article's 2-D sets through the estimator's defaults (the whole
    data set passed to fit; no batch size, no step count)."""

    def run_2d(self, name, prior, N, bar_deg, bar_count):
        within, worst, t0 = 0, 0.0, time.time()
        for seed in range(1, SEEDS_2D + 1):
            r = ovica.Rng(300 + seed)
            A = ovica.synth_basis_2d(name)
            S = ovica.synth_sources(r, prior, N, A.shape[1])
            X = ovica.synth_mix(A, S, 0.05, r)
            est = fit(X, A.shape[1], prior, 0.05, seed)
            _, ang = match(A, est.components_.T, prior == "exponential")
            within += ang.max() <= bar_deg
            worst = max(worst, ang.max())
        need = bar_count * SEEDS_2D / 20.0
        print("\nestimator defaults, %s %s: %d/%d within %g degrees (worst %.2f; %.1f s per fit)"
              % (name, prior, within, SEEDS_2D, bar_deg, worst, (time.time() - t0) / SEEDS_2D))
        self.assertGreaterEqual(within, need)

    def test_regular3_exponential(self):
        self.run_2d("regular3", "exponential", 10000, 2.0, 19)

    def test_irregular4_exponential(self):
        self.run_2d("irregular4", "exponential", 20000, 3.0, 18)

    def test_regular3_laplace(self):
        self.run_2d("regular3", "laplace", 50000, 3.0, 18)


if __name__ == "__main__":
    unittest.main()
