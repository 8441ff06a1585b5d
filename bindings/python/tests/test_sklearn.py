"""The estimator as scikit-learn expects it: check_estimator, pickling and
copies, components_ as the single source of truth, NotFittedError, input
and parameter checks (with and without scikit-learn)."""
import copy
import io
import json
import pickle
import unittest
import warnings

import numpy as np

from util import ovica, run_python

try:
    import sklearn  # noqa: F401
    from sklearn.utils.estimator_checks import check_estimator
    from sklearn.utils.validation import check_array
    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False
try:
    import joblib
except ImportError:
    joblib = None
try:
    import scipy.sparse as sp
except ImportError:
    sp = None


@unittest.skipUnless(HAVE_SKLEARN, "scikit-learn is not installed")
class TestCheckEstimator(unittest.TestCase):
    def test_check_estimator_passes_every_check(self):
        # every check is run (generate_only) so that a failure names its check
        failed = []
        n = 0
        for est, chk in check_estimator(
                ovica.OvercompleteICA(max_steps=5, random_state=0), generate_only=True):
            n += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    chk(est)
            except Exception as e:  # noqa: BLE001 - collected and reported
                failed.append("%s: %s: %s" % (getattr(chk, "func", chk).__name__,
                                              type(e).__name__, str(e)[:200]))
        self.assertGreater(n, 30)
        self.assertEqual(failed, [])

    def test_clone_and_grid_search(self):
        from sklearn.base import clone
        from sklearn.model_selection import GridSearchCV
        X, _, _ = ovica.make_2d_data(n_samples=300, seed=3)
        est = ovica.OvercompleteICA(3, prior="exponential", max_steps=10, random_state=0)
        self.assertEqual(clone(est).get_params(), est.get_params())
        gs = GridSearchCV(est, {"noise_sigma": [0.05, 0.2]}, cv=2, n_jobs=2).fit(X)
        self.assertIn(gs.best_params_["noise_sigma"], (0.05, 0.2))
        self.assertEqual(gs.best_estimator_.components_.shape, (3, 2))


class TestPickle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.A, _ = ovica.make_2d_data("regular3", "exponential", n_samples=600, seed=5)
        cls.est = ovica.OvercompleteICA(3, prior="exponential", max_steps=30, random_state=2,
                                        batch_size=200).fit(cls.X)

    def same(self, a, b):
        np.testing.assert_array_equal(a.components_, b.components_)
        np.testing.assert_array_equal(a.transform(self.X), b.transform(self.X))
        np.testing.assert_array_equal(a.score_samples(self.X), b.score_samples(self.X))
        self.assertEqual(a.n_iter_, b.n_iter_)
        self.assertEqual(a.get_params(), b.get_params())

    def test_pickle(self):
        b = pickle.loads(pickle.dumps(self.est))
        self.same(self.est, b)
        self.assertEqual(b.trainer_.step_index, 30)

    def test_deepcopy(self):
        b = copy.deepcopy(self.est)
        self.same(self.est, b)
        self.assertIsNot(b.trainer_, self.est.trainer_)

    @unittest.skipUnless(joblib, "joblib is not installed")
    def test_joblib(self):
        f = io.BytesIO()
        joblib.dump(self.est, f)
        f.seek(0)
        self.same(self.est, joblib.load(f))

    def test_partial_fit_goes_on_after_a_round_trip(self):
        est = ovica.OvercompleteICA(3, prior="exponential", max_steps=40, random_state=2)
        for k in range(3):
            est.partial_fit(self.X[k * 200:(k + 1) * 200])
        b = pickle.loads(pickle.dumps(est))
        self.assertEqual(b.trainer_.step_index, 3)
        self.assertEqual(b.trainer_.get_param("steps"), 40)
        before = b.components_.copy()
        b.partial_fit(self.X[:200])
        self.assertEqual(b.n_steps_, 4)
        self.assertEqual(b.n_iter_, 4)
        self.assertEqual(b.trainer_.step_index, 4)
        self.assertFalse(np.array_equal(before, b.components_))
        self.assertEqual(est.n_steps_, 3)  # the original is untouched

    def test_unfitted_and_prior_objects_pickle(self):
        est = ovica.OvercompleteICA(3, prior=ovica.Prior("laplace", 2.0))
        b = pickle.loads(pickle.dumps(est))
        self.assertEqual((b.prior.kind, b.prior.scale), ("laplace", 2.0))
        with self.assertRaises(ovica.NotFittedError):
            b.transform(self.X)
        m = pickle.loads(pickle.dumps(self.est.model_))
        np.testing.assert_array_equal(m.basis, self.est.model_.basis)

    def test_user_prior_is_refused_clearly(self):
        p = ovica.Prior.from_callbacks(lambda s: float(np.abs(s).sum()), np.sign)
        with self.assertRaisesRegex(TypeError, "built-in prior"):
            pickle.dumps(p)
        # but it can be deep-copied (sklearn.base.clone of an estimator using it)
        q = copy.deepcopy(p)
        self.assertEqual(q.kind, "user")
        self.assertEqual(q.neglogp(np.array([1.0, -2.0])), 3.0)
        est = ovica.OvercompleteICA(2, prior=p)
        self.assertEqual(copy.deepcopy(est).prior.kind, "user")


class TestComponents(unittest.TestCase):
    def setUp(self):
        self.X, self.A, _ = ovica.make_2d_data("regular3", "exponential", n_samples=600, seed=9)
        self.est = ovica.OvercompleteICA(3, prior="exponential", max_steps=20,
                                         random_state=1).fit(self.X)

    def test_assigned_components_are_used(self):
        est = self.est
        new = self.A.T.copy()  # the true atoms, one per row
        fitted = est.model_  # its prior and sigma (tuned by the trainer) stay
        ref = ovica.Model(2, 3, fitted.prior, fitted.sigma, basis=new.T)
        S_ref = ovica.Solver("auto", max_iter=1000, tol=1e-6).infer(ref, self.X)
        est.components_ = new
        np.testing.assert_array_equal(est.transform(self.X), S_ref)
        np.testing.assert_array_equal(est.score_samples(self.X), ovica.loglik(ref, self.X))
        np.testing.assert_allclose(est.inverse_transform(S_ref), S_ref @ new, rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_array_equal(est.model_.basis, new.T)
        # changed in place, too
        est.components_[0] *= -1
        self.assertFalse(np.array_equal(est.transform(self.X), S_ref))
        # and the next partial_fit step starts from it
        est.components_ = new.copy()
        est.partial_fit(self.X)
        self.assertLess(np.abs(est.components_ - new).max(), 0.2)
        with self.assertRaisesRegex(ValueError, "components_ must have shape"):
            est.components_ = np.ones((2, 2))
            est.transform(self.X)

    def test_n_iter(self):
        self.assertEqual(self.est.n_iter_, 20)
        self.assertEqual(self.est.n_steps_, 20)


class TestChecks(unittest.TestCase):
    def setUp(self):
        self.X, _, _ = ovica.make_2d_data(n_samples=200, seed=4)

    def test_not_fitted_error(self):
        self.assertTrue(issubclass(ovica.NotFittedError, ValueError))
        self.assertTrue(issubclass(ovica.NotFittedError, AttributeError))
        est = ovica.OvercompleteICA(3)
        for call in (est.transform, est.score, est.score_samples, est.inverse_transform):
            with self.assertRaisesRegex(ovica.NotFittedError, "is not fitted yet"):
                call(self.X)
        self.assertFalse(hasattr(est, "model_"))
        if HAVE_SKLEARN:
            from sklearn.exceptions import NotFittedError
            self.assertIs(ovica.NotFittedError, NotFittedError)

    def test_parameters_named_as_in_python(self):
        cases = [
            (dict(noise_sigma=-1), "noise_sigma must be > 0, got -1"),
            (dict(prior_scale=0.0), "prior_scale must be > 0, got 0.0"),
            (dict(n_components=0), "n_components must be None or an int >= 1, got 0"),
            (dict(solver="newton"), "solver must be one of 'pg', 'ista', 'fista', 'active', "
                                    "'auto', got 'newton'"),
            (dict(rule="bogus"), "rule must be one of"),
            (dict(max_steps=0), "max_steps must be None or an int >= 1, got 0"),
            (dict(batch_size=0), "batch_size must be None or an int >= 1, got 0"),
            (dict(learning_rate=-1.0), "learning_rate must be None or a number in (0, "),
            (dict(schedule="linear"), "schedule must be 'cosine' or 'constant', got 'linear'"),
            (dict(keep="last"), "keep must be 'best' or 'final', got 'last'"),
            (dict(max_iter=0), "max_iter must be an int >= 1, got 0"),
            (dict(tol=-1.0), "tol must be >= 0, got -1.0"),
            (dict(trainer_params={"step_cap": -5}), "trainer_params['step_cap'] must lie in"),
        ]
        for params, msg in cases:
            with self.subTest(params=params):
                with self.assertRaises(ValueError) as cm:
                    kw = dict(n_components=3, max_steps=2)
                    kw.update(params)
                    ovica.OvercompleteICA(**kw).fit(self.X)
                self.assertTrue(str(cm.exception).startswith(msg), str(cm.exception))
                self.assertNotIn("ovica_", str(cm.exception))
        with self.assertRaisesRegex(ValueError, "^noise_sigma must be > 0, got -1$"):
            ovica.OvercompleteICA(3, noise_sigma=-1).partial_fit(self.X)
        with self.assertRaisesRegex(ValueError, "^noise_sigma must be > 0, got 0$"):
            ovica.sparse_encode(self.X, np.eye(2), noise_sigma=0)

    def test_inputs_refused_with_sklearn_wording(self):
        est = ovica.OvercompleteICA(3, max_steps=2, random_state=0)
        with self.assertRaisesRegex(ValueError, "^Complex data not supported"):
            est.fit(self.X + 1j)
        with self.assertRaisesRegex(ValueError, "^Expected 2D array, got 1D array instead"):
            est.fit(self.X[:, 0])
        with self.assertRaisesRegex(ValueError, r"^Found array with 0 sample\(s\) \(shape=\(0, 2\)\) "
                                    "while a minimum of 1 is required by OvercompleteICA."):
            est.fit(np.empty((0, 2)))
        with self.assertRaisesRegex(ValueError, r"^Found array with 0 feature\(s\)"):
            est.fit(np.empty((5, 0)))
        if sp is not None:
            with self.assertRaisesRegex(TypeError, "^A sparse matrix was passed, but dense data "
                                        "is required"):
                est.fit(sp.csr_matrix(self.X))
        est.fit(self.X)
        with self.assertRaisesRegex(ValueError, "^X has 3 features, but OvercompleteICA is "
                                    "expecting 2 features as input."):
            est.transform(np.ones((4, 3)))

    def test_fallback_without_sklearn_matches_sklearn(self):
        # the same inputs in a process where scikit-learn cannot be imported
        code = r'''
import json, sys
sys.modules["sklearn"] = None
import numpy as np
import ovica
try:
    import scipy.sparse as sp
except ImportError:
    sp = None
assert ovica.NotFittedError.__module__ == "ovica.estimator"
assert issubclass(ovica.NotFittedError, ValueError) and issubclass(ovica.NotFittedError, AttributeError)
X = np.arange(12.0).reshape(6, 2)
cases = {"complex": X + 1j, "1d": X[:, 0], "3d": X.reshape(2, 3, 2), "empty0": np.empty((0, 2)),
         "empty1": np.empty((5, 0)), "nan": np.where(X > 5, np.nan, X),
         "inf": np.where(X > 5, np.inf, X), "scalar": np.float64(3.0)}
if sp is not None:
    cases["sparse"] = sp.csr_matrix(X)
out = {}
for k, v in cases.items():
    try:
        ovica.OvercompleteICA(2, max_steps=1, random_state=0).fit(v)
        out[k] = ["passed", ""]
    except Exception as e:
        out[k] = [type(e).__name__, str(e)]
try:
    ovica.OvercompleteICA(2).transform(X)
except ovica.NotFittedError as e:
    out["unfitted"] = ["NotFittedError", str(e)]
print(json.dumps(out))
'''
        r = run_python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["unfitted"][0], "NotFittedError")
        for k, (kind, msg) in got.items():
            self.assertNotEqual(kind, "passed", k)
        if not HAVE_SKLEARN:
            return
        X = np.arange(12.0).reshape(6, 2)
        cases = {"complex": X + 1j, "1d": X[:, 0], "3d": X.reshape(2, 3, 2),
                 "empty0": np.empty((0, 2)), "empty1": np.empty((5, 0)),
                 "nan": np.where(X > 5, np.nan, X), "inf": np.where(X > 5, np.inf, X),
                 "scalar": np.float64(3.0)}
        if sp is not None:
            cases["sparse"] = sp.csr_matrix(X)
        for k, v in cases.items():
            with self.subTest(case=k):
                with self.assertRaises(Exception) as cm:
                    check_array(v, dtype=np.float64, estimator="OvercompleteICA",
                                input_name="X")
                want = [type(cm.exception).__name__, str(cm.exception)]
                if k == "nan":  # sklearn adds an advertisement of its own estimators
                    want[1] = want[1].split("\n")[0]
                    got[k][1] = got[k][1].split("\n")[0]
                self.assertEqual(got[k], want)


if __name__ == "__main__":
    unittest.main()
