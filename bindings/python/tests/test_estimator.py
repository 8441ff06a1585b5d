"""The scikit-learn style estimator and sparse_encode."""
import os
import subprocess
import tempfile
import unittest

import numpy as np

from util import ovica, TREE, CC, compile_c


def angles(components, A_true, use_sign=True):
    return ovica.match_atoms(np.asarray(components).T, A_true, use_sign=use_sign)[1]


class TestRecovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # the article's 2-D set: 3 exponential sources at 90, 210, 330 degrees
        cls.X, cls.A, cls.S = ovica.make_2d_data("regular3", "exponential", n_samples=3000,
                                                 noise=0.05, seed=1)
        cls.est = ovica.OvercompleteICA(3, prior="exponential", noise_sigma=0.05,
                                        max_steps=120, random_state=1).fit(cls.X)

    def test_recovers_the_basis(self):
        ang = angles(self.est.components_, self.A)
        self.assertLess(ang.max(), 3.0, "angles %s" % ang)
        self.assertEqual(self.est.components_.shape, (3, 2))   # one atom per row
        self.assertEqual(self.est.n_steps_, 120)
        self.assertEqual(len(self.est.history_), 120)

    def test_best_of_seeds_by_held_out_score(self):
        # (a single start can end in a wrong basin on data this small; the
        # held-out likelihood picks a good run without knowing the truth,
        # as docs/TUTORIAL.md recommends)
        X_test, _, _ = ovica.make_2d_data("regular3", "exponential", n_samples=1000, seed=2)
        fits = [ovica.OvercompleteICA(3, prior="exponential", max_steps=100,
                                      random_state=seed).fit(self.X) for seed in (2, 3, 4)]
        best = max(fits, key=lambda e: e.score(X_test))
        ang = angles(best.components_, self.A)
        self.assertLess(ang.max(), 3.0, "angles %s of the run with the best score" % ang)

    def test_transform_inverse_score(self):
        est = self.est
        S = est.transform(self.X)
        self.assertEqual(S.shape, (3000, 3))
        self.assertTrue(np.all(S >= 0))
        S32 = est.transform(self.X.astype(np.float32))  # dtype kept, as scikit-learn does
        self.assertEqual(S32.dtype, np.float32)
        np.testing.assert_allclose(S32, S, rtol=1e-4, atol=1e-4)
        R = est.inverse_transform(S)
        np.testing.assert_allclose(R, S @ est.components_, rtol=1e-12, atol=1e-12)
        self.assertLess(np.mean((R - self.X) ** 2), 0.05 ** 2 * 2)
        ll = est.score_samples(self.X[:500])
        self.assertEqual(ll.shape, (500,))
        self.assertAlmostEqual(est.score(self.X[:500]), ll.mean())
        # the learned basis scores better than a bad one
        bad = ovica.OvercompleteICA(3, prior="exponential", max_steps=1, random_state=0,
                                    rule="natural", learning_rate=1e-6, keep="final").fit(self.X)
        self.assertGreater(est.score(self.X[:500]), bad.score(self.X[:500]) + 0.1)


class TestBitForBit(unittest.TestCase):
    def setUp(self):
        self.X, A, _ = ovica.make_2d_data("regular3", "exponential", n_samples=800, seed=7)
        self.est = ovica.OvercompleteICA(3, prior="exponential", max_steps=30, random_state=4,
                                         max_iter=400, tol=1e-7).fit(self.X)

    def test_same_as_low_level_calls(self):
        est = self.est
        fitted = est.model_  # the trainer tuned its sigma and prior scale
        model = ovica.Model(2, 3, ovica.Prior("exponential", fitted.prior.scale), fitted.sigma,
                            basis=est.components_.T)
        S = ovica.Solver("auto", max_iter=400, tol=1e-7).infer(model, self.X)
        self.assertTrue(np.array_equal(est.transform(self.X), S))
        enc = ovica.sparse_encode(self.X, est.components_, prior="exponential",
                                  noise_sigma=fitted.sigma, prior_scale=fitted.prior.scale,
                                  max_iter=400, tol=1e-7)
        self.assertTrue(np.array_equal(enc, S))

    @unittest.skipUnless(TREE and CC, "needs the in-tree build and a C compiler")
    def test_same_as_a_c_program(self):
        with tempfile.TemporaryDirectory() as d:
            exe = compile_c(os.path.join(os.path.dirname(__file__), "encode_ref.c"),
                            os.path.join(d, "encode_ref"))
            self.est.model_.save(os.path.join(d, "m.ovm"))
            np.save(os.path.join(d, "x.npy"), self.X)
            subprocess.run([exe, os.path.join(d, "m.ovm"), os.path.join(d, "x.npy"),
                            os.path.join(d, "s.npy"), "auto", "400", "1e-7"], check=True,
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
            S_c = np.load(os.path.join(d, "s.npy"))
        S_py = self.est.transform(self.X)
        self.assertEqual(S_c.shape, S_py.shape)
        self.assertTrue(np.array_equal(S_c, S_py),
                        "max |diff| %g" % np.max(np.abs(S_c - S_py)))


class TestProtocol(unittest.TestCase):
    def setUp(self):
        self.X, self.A, _ = ovica.make_2d_data(n_samples=600, seed=11)

    def test_get_set_params(self):
        est = ovica.OvercompleteICA(4, prior="exponential", max_steps=7)
        p = est.get_params()
        self.assertEqual(p["n_components"], 4)
        self.assertEqual(p["max_steps"], 7)
        self.assertIn("random_state", p)
        clone = type(est)(**p)
        self.assertEqual(clone.get_params(), p)
        self.assertIs(est.set_params(max_steps=9, rule="natural"), est)
        self.assertEqual(est.max_steps, 9)
        with self.assertRaises(ValueError):
            est.set_params(nonsense=1)
        self.assertIn("n_components=4", repr(est))

    def test_reproducible_with_random_state(self):
        a = ovica.OvercompleteICA(3, prior="exponential", max_steps=15, random_state=5,
                                  batch_size=200).fit(self.X)
        b = ovica.OvercompleteICA(3, prior="exponential", max_steps=15, random_state=5,
                                  batch_size=200).fit(self.X)
        np.testing.assert_array_equal(a.components_, b.components_)

    def test_partial_fit(self):
        est = ovica.OvercompleteICA(3, prior="exponential", max_steps=40, random_state=2)
        for k in range(3):
            est.partial_fit(self.X[k * 200:(k + 1) * 200])
        self.assertEqual(est.n_steps_, 3)
        self.assertEqual(est.trainer_.step_index, 3)
        self.assertEqual(est.components_.shape, (3, 2))
        with self.assertRaises(ValueError):
            est.partial_fit(np.ones((5, 3)))

    def test_callback_and_early_stop(self):
        seen = []

        def cb(estimator, stats):
            seen.append((stats["step"], estimator.components_.shape))
            return stats["step"] == 4   # stop after the 5th step
        est = ovica.OvercompleteICA(3, prior="exponential", max_steps=50, random_state=1,
                                    callback=cb).fit(self.X)
        self.assertEqual(est.n_steps_, 5)
        self.assertEqual(seen, [(k, (3, 2)) for k in range(5)])

    def test_custom_init_and_trainer_params(self):
        init = self.A.T.copy()
        est = ovica.OvercompleteICA(3, prior="exponential", max_steps=1, init=init,
                                    learning_rate=1e-9, rule="natural", keep="final",
                                    trainer_params={"step_cap": 0.01}).fit(self.X)
        self.assertLess(angles(est.components_, self.A).max(), 1e-3)
        self.assertEqual(est.trainer_.get_param("step_cap"), 0.01)
        with self.assertRaises(ValueError):
            ovica.OvercompleteICA(3, trainer_params={"bogus": 1}).fit(self.X)

    def test_errors(self):
        est = ovica.OvercompleteICA(3)
        with self.assertRaises(ovica.NotFittedError):
            est.transform(self.X)
        with self.assertRaises(ValueError) as cm:
            ovica.OvercompleteICA(3, noise_sigma=0).fit(self.X)
        self.assertEqual(str(cm.exception), "noise_sigma must be > 0, got 0")
        X = self.X.copy()
        X[3, 0] = np.inf
        with self.assertRaisesRegex(ValueError, "^Input X contains infinity"):
            ovica.OvercompleteICA(3, max_steps=2, init="random").fit(X)
        with self.assertRaises(ValueError):
            ovica.OvercompleteICA(3, solver="newton").fit(self.X)

    def test_sparse_encode_laplace(self):
        D = ovica.synth_basis_2d().T        # (3, 2), like components_
        X = np.array([[1.0, 0.0], [0.0, 0.0]])
        S, stats = ovica.sparse_encode(X, D, prior="laplace", noise_sigma=0.1,
                                       return_stats=True)
        self.assertEqual(S.shape, (2, 3))
        np.testing.assert_array_equal(S[1], 0)
        self.assertEqual(stats["converged"], 2)
        with self.assertWarns(ovica.ConvergenceWarning):
            S2 = ovica.sparse_encode(X, D, prior="laplace", noise_sigma=0.1, max_iter=2,
                                     tol=0, solver="fista")
        self.assertEqual(S2.shape, (2, 3))

    def test_sparse_encode_float32(self):
        """float32 data is coded in single precision and gives float32
        codes: the active-set solver's reach the float64 objective to 1e-7
        and the float64 codes to 1e-3 (float rounding times the supports'
        conditioning), FISTA's the same objective to 1e-5; float64 data
        stays float64."""
        rng = np.random.default_rng(12)
        D = rng.standard_normal((48, 24))
        D /= np.linalg.norm(D, axis=1, keepdims=True)
        S0 = (rng.random((300, 48)) < 0.05) * rng.exponential(1.0, (300, 48))
        X = (S0 @ D + 0.01 * rng.standard_normal((300, 24))).astype(np.float32)
        kw = dict(prior="exponential", noise_sigma=0.05, prior_scale=1.0)
        S64, st64 = ovica.sparse_encode(X.astype(np.float64), D, return_stats=True, **kw)
        S32, st32 = ovica.sparse_encode(X, D, return_stats=True, **kw)
        self.assertEqual(S64.dtype, np.float64)
        self.assertEqual(S32.dtype, np.float32)
        self.assertLess(abs(st32["objective"] - st64["objective"]), 1e-7 * abs(st64["objective"]))
        self.assertLess(np.max(np.abs(S32 - S64)), 1e-3)
        F32, sf = ovica.sparse_encode(X, D, solver="fista", tol=1e-6, max_iter=20000,
                                      return_stats=True, **kw)
        self.assertEqual(F32.dtype, np.float32)
        self.assertEqual(sf["converged"], 300)
        self.assertLess(abs(sf["objective"] - st64["objective"]), 1e-5 * abs(st64["objective"]))


if __name__ == "__main__":
    unittest.main()
