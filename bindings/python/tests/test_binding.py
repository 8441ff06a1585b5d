"""The binding itself: loading, version check, errors, zero-copy passing,
callbacks, low-level handles."""
import ctypes
import os
import tempfile
import tracemalloc
import unittest

import numpy as np

from util import ovica, TREE, CC, compile_c, run_python

from ovica import _lib


def address(p):
    """The address a ctypes pointer argument carries."""
    return ctypes.cast(p, ctypes.c_void_p).value


class Recorder:
    """Stands in front of one library function (ovica._lib.F.<name>) and
    records the address of its argument number `index` at every call."""

    def __init__(self, name, index):
        self.name, self.index, self.seen = name, index, []

    def __enter__(self):
        self.real = getattr(_lib.F, self.name)

        def wrapper(*args):
            self.seen.append(address(args[self.index]))
            return self.real(*args)
        setattr(_lib.F, self.name, wrapper)
        return self

    def __exit__(self, *exc):
        setattr(_lib.F, self.name, self.real)


class TestLoading(unittest.TestCase):
    def test_version(self):
        self.assertEqual(ovica.__version__.split(".")[0], str(ovica.ABI_MAJOR))
        if TREE:
            with open(os.path.join(TREE, "include", "ovica", "version.h")) as f:
                text = f.read()
            self.assertIn("#define OVICA_VERSION_MAJOR %d\n" % ovica.ABI_MAJOR, text)

    def test_library_from_environment(self):
        r = run_python("import ovica; print(ovica.library_origin, ovica.library_path)",
                       {"OVICA_LIBRARY": ovica.library_path})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["OVICA_LIBRARY", ovica.library_path])

    def test_missing_library(self):
        r = run_python("import ovica", {"OVICA_LIBRARY": "/nonexistent/libovica.so.0"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("/nonexistent/libovica.so.0", r.stderr)

    @unittest.skipUnless(TREE and CC, "needs the in-tree build and a C compiler")
    def test_major_version_mismatch(self):
        with tempfile.TemporaryDirectory() as d:
            so = compile_c(os.path.join(os.path.dirname(__file__), "fake_version.c"),
                           os.path.join(d, "libfake.so"), shared=True, link_ovica=False)
            r = run_python("import ovica", {"OVICA_LIBRARY": so})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("libovica 7.0.0 (major 7); this binding needs major version 0", r.stderr)


class TestErrors(unittest.TestCase):
    def test_status_becomes_exception_with_message(self):
        with self.assertRaises(ovica.InvalidArgumentError) as cm:
            ovica.Model(2, 3, "laplace", sigma=-1.0)
        e = cm.exception
        self.assertEqual(e.status, -2)
        self.assertEqual(e.name, ovica.strerror(-2))
        self.assertEqual(e.message, ovica.error_message())   # the library's own text
        self.assertIn("sigma must be > 0 (got -1)", str(e))
        self.assertIsInstance(e, ValueError)

    def test_size_and_nonfinite(self):
        model = ovica.Model(2, 3, "laplace", 0.1, basis=ovica.synth_basis_2d())
        s = ovica.Solver("fista")
        X = np.ones((4, 2))
        X[2, 1] = np.nan
        with self.assertRaises(ovica.NonFiniteError) as cm:
            s.infer(model, X)
        self.assertTrue(cm.exception.message)
        self.assertIn(cm.exception.message, str(cm.exception))
        with self.assertRaises(ovica.SizeError) as cm:
            model.objective(np.ones((4, 2)), np.zeros((4, 5)))
        self.assertTrue(cm.exception.message)

    def test_unknown_names(self):
        with self.assertRaises(ValueError):
            ovica.Solver("newton")
        with self.assertRaises(ValueError):
            ovica.Trainer(ovica.Model(2, 3), rule="magic")
        t = ovica.Trainer(ovica.Model(2, 3))
        with self.assertRaises(ovica.InvalidArgumentError) as cm:
            t.set_param("lr", 1e9)
        self.assertIn("lr", str(cm.exception).lower())

    def test_file_errors(self):
        with self.assertRaises(ovica.OvicaIOError) as cm:
            ovica.Model.load("/nonexistent/model.ovm")
        self.assertIn("/nonexistent/model.ovm", cm.exception.message)
        self.assertIsInstance(cm.exception, OSError)
        with self.assertRaises(ovica.FormatError):
            ovica.Model.from_bytes(b"not a model file at all, not at all")


class TestThreads(unittest.TestCase):
    def test_errors_and_results_per_thread(self):
        import threading
        A = ovica.synth_basis_2d()
        X, _, _ = ovica.make_2d_data(n_samples=500, seed=13)
        model = ovica.Model(2, 3, "exponential", 0.05, basis=A)  # shared, read-only
        ref = ovica.Solver().infer(model, X)
        bad = X.copy()
        bad[7, 1] = np.inf
        out = {}

        def work(k):
            s = ovica.Solver()          # one handle per thread
            try:
                for _ in range(3):
                    same = np.array_equal(s.infer(model, X), ref)
                    try:
                        if k % 2:
                            s.infer(model, bad)
                        else:
                            model.objective(X, np.zeros((500, 5)))
                    except ovica.OvicaError as e:
                        msg = e.message
                    out[k] = (same, msg)
            except Exception as e:  # reported below
                out[k] = e
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in range(4):
            same, msg = out[k]
            self.assertTrue(same)
            if k % 2:
                self.assertIn("row 7, column 1", msg)
            else:
                self.assertNotIn("row 7", msg)


class TestNoCopy(unittest.TestCase):
    def setUp(self):
        self.model = ovica.Model(2, 3, "exponential", 0.05, basis=ovica.synth_basis_2d())
        self.X, _, _ = ovica.make_2d_data(n_samples=500, seed=3)

    def test_pointer_given_is_the_array(self):
        X = self.X
        self.assertTrue(X.flags.c_contiguous and X.dtype == np.float64)
        with Recorder("ovica_solver_infer", 2) as rec:
            S = ovica.Solver().infer(self.model, X)
        self.assertEqual(rec.seen, [X.ctypes.data])
        # the output array handed in is written in place, too
        out = np.empty_like(S)
        with Recorder("ovica_solver_infer", 5) as rec:
            r = ovica.Solver().infer(self.model, X, out=out)
        self.assertIs(r, out)
        self.assertEqual(rec.seen, [out.ctypes.data])
        np.testing.assert_array_equal(out, S)

    def test_other_layouts_are_copied(self):
        X = self.X
        for other in (np.asfortranarray(X), X.astype(np.int64), np.repeat(X, 2, 0)[::2]):
            with Recorder("ovica_solver_infer", 2) as rec:
                S = ovica.Solver().infer(self.model, other)
            self.assertNotEqual(rec.seen[0], other.ctypes.data)
            self.assertEqual(S.shape, (500, 3))

    def test_float32_is_coded_in_place_in_float32(self):
        """float32 data goes to ovica_solver_infer_f32 as it is (no copy
        when C-contiguous) and gives float32 codes; a float32 array in
        another layout is copied, still as float32."""
        X32 = self.X.astype(np.float32)
        with Recorder("ovica_solver_infer_f32", 2) as rec:
            S = ovica.Solver().infer(self.model, X32)
        self.assertEqual(rec.seen, [X32.ctypes.data])
        self.assertEqual(S.dtype, np.float32)
        F32 = np.asfortranarray(X32)
        with Recorder("ovica_solver_infer_f32", 2) as rec:
            S2 = ovica.Solver().infer(self.model, F32)
        self.assertNotEqual(rec.seen[0], F32.ctypes.data)
        np.testing.assert_array_equal(S2, S)
        with self.assertRaisesRegex(ValueError, "float32"):
            ovica.Solver().infer(self.model, X32, out=np.empty((500, 3)))

    def test_float32_training_data_in_place(self):
        """float32 training data go to ovica_trainer_step_f32 as they are
        (no float64 copy). By default their codes are computed in single
        precision; with precision 2 (double) they train exactly as their
        float64 values do, and precision 1 (single) on the float64 values
        trains exactly as the float32 data at the default."""
        X32 = self.X.astype(np.float32)
        kw = dict(prior="exponential", max_steps=5, random_state=0)
        est = ovica.OvercompleteICA(3, **kw)
        with Recorder("ovica_trainer_step_f32", 1) as rec:
            est.fit(X32)
        self.assertEqual(rec.seen, [X32.ctypes.data] * 5)
        X64 = X32.astype(np.float64)
        single = ovica.OvercompleteICA(3, trainer_params={"precision": 1}, **kw).fit(X64)
        np.testing.assert_array_equal(est.components_, single.components_)
        ref = ovica.OvercompleteICA(3, **kw).fit(X64)
        dbl = ovica.OvercompleteICA(3, trainer_params={"precision": 2}, **kw).fit(X32)
        np.testing.assert_array_equal(dbl.components_, ref.components_)
        t = ovica.Trainer(ovica.Model(2, 3, "exponential", 0.05), "auto", 4)
        u = ovica.Trainer(ovica.Model(2, 3, "exponential", 0.05), "auto", 4)
        t.set_param("precision", 2)
        for _ in range(3):
            t.accumulate(X32)
            t.apply()
            u.step(X32.astype(np.float64))
        np.testing.assert_array_equal(t.basis, u.basis)
        bad = X32.copy()
        bad[7, 1] = np.nan
        with self.assertRaises(ovica.NonFiniteError):
            t.step(bad)

    def test_estimator_passes_training_data_in_place(self):
        X = self.X
        est = ovica.OvercompleteICA(3, prior="exponential", max_steps=5, random_state=0)
        with Recorder("ovica_trainer_step", 1) as rec:
            est.fit(X)
        self.assertEqual(rec.seen, [X.ctypes.data] * 5)
        with Recorder("ovica_solver_infer", 2) as rec:
            est.transform(X)
        self.assertEqual(rec.seen, [X.ctypes.data])

    def test_no_memory_for_a_copy(self):
        # numpy reports its data allocations to tracemalloc: a copy of X
        # would show up as a peak of X.nbytes.
        X = np.random.RandomState(0).standard_normal((100000, 8))
        model = ovica.Model(8, 12, "laplace", 0.1, basis=np.ones((8, 12)))
        S = np.zeros((100000, 12))

        def peak(Xin, Sin):
            tracemalloc.start()
            model.objective(Xin, Sin)
            p = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return p
        self.assertLess(peak(X, S), X.nbytes // 4)                   # 6.4 MB not copied
        self.assertGreaterEqual(peak(np.asfortranarray(X), S), X.nbytes)  # the control


class TestCallbacks(unittest.TestCase):
    def test_user_prior(self):
        # a Laplace(1) prior written in Python equals the built-in one
        user = ovica.Prior.from_callbacks(
            neglogp=lambda s: np.abs(s).sum() + s.size * np.log(2.0),
            grad=np.sign,
            prox=lambda v, t: np.sign(v) * np.maximum(np.abs(v) - t, 0.0),
            curvature=np.zeros_like, name="py-laplace")
        self.assertEqual(user.kind, "user")
        self.assertEqual(user.name, "py-laplace")
        A = ovica.synth_basis_2d()
        X, _, _ = ovica.make_2d_data(prior="laplace", n_samples=200, seed=5)
        mu = ovica.Model(2, 3, user, 0.1, basis=A)
        mb = ovica.Model(2, 3, "laplace", 0.1, basis=A)
        Su = ovica.Solver("fista", tol=1e-10, max_iter=5000).infer(mu, X)
        Sb = ovica.Solver("fista", tol=1e-10, max_iter=5000).infer(mb, X)
        np.testing.assert_allclose(Su, Sb, atol=1e-7)

    def test_exception_in_callback_is_the_cause(self):
        def bad(s):
            raise KeyError("from python")
        p = ovica.Prior.from_callbacks(neglogp=bad, grad=np.sign)
        with self.assertRaises(ovica.CallbackError) as cm:
            p.neglogp(np.ones(3))
        self.assertIsInstance(cm.exception.__cause__, KeyError)
        self.assertEqual(cm.exception.status, -7)

    def test_schedule_callback(self):
        X, _, _ = ovica.make_2d_data(n_samples=300, seed=2)
        m = ovica.Model(2, 3, "exponential", 0.05)
        t = ovica.Trainer(m, "natural", seed=1, steps=10)
        t.init_basis("spread", X)
        seen = []
        t.set_lr_schedule(lambda k, total: seen.append((k, total)) or 0.01)
        st = t.step(X)
        self.assertEqual(seen, [(0, 10)])
        self.assertAlmostEqual(st.lr, 0.01)
        t.set_lr_schedule(lambda k, total: 1 / 0)
        with self.assertRaises(ovica.CallbackError) as cm:
            t.step(X)
        self.assertIsInstance(cm.exception.__cause__, ZeroDivisionError)


class TestHandles(unittest.TestCase):
    def test_accumulate_apply_equals_step_and_stats_sum(self):
        X, _, _ = ovica.make_2d_data(n_samples=400, seed=4)
        m = ovica.Model(2, 3, "exponential", 0.05)

        def trainer():
            t = ovica.Trainer(m, "natural", seed=9, steps=20, monitor_every=0)
            t.init_basis("spread", X)
            return t
        a, b, c = trainer(), trainer(), trainer()
        a.step(X)
        b.accumulate(X)
        b.apply()
        np.testing.assert_array_equal(a.basis, b.basis)
        # two halves accumulated elsewhere, summed, imported: one step on all
        h1, h2 = trainer(), trainer()
        h1.accumulate(X[:200])
        h2.accumulate(X[200:])
        total = h1.export_stats() + h2.export_stats()
        self.assertEqual(total.size, c.stats_size)
        c.import_stats(total)
        c.apply()
        np.testing.assert_allclose(c.basis, a.basis, rtol=0, atol=1e-12)
        with self.assertRaises(ovica.StateError):
            c.apply()

    def test_files_and_checkpoints(self):
        X, _, _ = ovica.make_2d_data(n_samples=300, seed=6)
        m = ovica.Model(2, 3, "exponential", 0.05)
        t = ovica.Trainer(m, "auto", seed=3, steps=12)
        t.init_basis("spread", X)
        for _ in range(4):
            t.step(X)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "ck.ovm")
            t.save_checkpoint(p)
            r = ovica.Trainer.load_checkpoint(p)
            self.assertEqual(r.step_index, 4)
            self.assertEqual(r.rule, "auto")
            np.testing.assert_array_equal(r.basis, t.basis)
            loaded = ovica.Model.load(p)  # a checkpoint is also a model file
            np.testing.assert_array_equal(loaded.basis, t.basis)
            self.assertEqual(loaded.prior.kind, "exponential")
            q = os.path.join(d, "x.npy")
            ovica.npy_write(q, X)
            np.testing.assert_array_equal(np.load(q), X)
            np.testing.assert_array_equal(ovica.npy_read(q), X)
        again = ovica.Model.from_bytes(loaded.to_bytes())
        np.testing.assert_array_equal(again.basis, loaded.basis)

    def test_optional_functions(self):
        X, A, _ = ovica.make_2d_data(n_samples=300, seed=12)
        m = ovica.Model(2, 3, "exponential", 0.05, basis=A)
        usage = ovica.atom_usage(m, X)
        self.assertEqual(usage.shape, (3,))
        self.assertTrue(np.all(usage > 0))
        t = ovica.Trainer(m, "auto", seed=1)
        with self.assertRaises(ovica.StateError):
            t.best_basis()
        t.set_best(A, 2.5)
        B, obj = t.best_basis()
        np.testing.assert_array_equal(B, A)
        self.assertEqual(obj, 2.5)
        t.set_sampler_seed(77)
        self.assertIn("momentum", ovica.TRAIN_PARAMS) if "adam" in ovica.TRAIN_PARAMS else None

    def test_merge_model(self):
        X, A, _ = ovica.make_2d_data(n_samples=2000, seed=13)
        # an over-provisioned basis: each true atom and a copy 8 degrees off
        th = np.deg2rad(8.0)
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        m6 = ovica.Model(2, 6, "exponential", 0.05, basis=np.hstack([A, R @ A]))
        merged, assign = ovica.merge_model(m6, X, 3, seed=1)
        self.assertEqual((merged.m, merged.n), (2, 3))
        self.assertEqual(sorted(assign[:3]), [0, 1, 2])
        np.testing.assert_array_equal(assign[:3], assign[3:])  # each copy joins its atom
        _, ang = ovica.match_atoms(merged.basis, A, use_sign=True)
        self.assertLess(ang.max(), 3.0)
        for bad in (0, 7):
            with self.assertRaises(ValueError):
                ovica.merge_model(m6, X, bad)
        with self.assertRaises(ValueError):
            ovica.merge_model(m6, X[:, :1], 3)

    def test_sampler_and_metrics(self):
        A = ovica.synth_basis_2d()
        X, _, S0 = ovica.make_2d_data(n_samples=200, seed=8)
        m = ovica.Model(2, 3, "exponential", 0.05, basis=A)
        S = ovica.Solver().infer(m, X)
        acc = ovica.PosteriorAccum(2, 3)
        ovica.Sampler(seed=1).run(m, X, S, sweeps=3, accum=acc)
        self.assertEqual(acc.draws, 600)
        self.assertTrue(np.all(S >= 0))
        assign, ang = ovica.match_atoms(A[:, ::-1], A, use_sign=True)
        np.testing.assert_array_equal(assign, [2, 1, 0])
        np.testing.assert_allclose(ang, 0, atol=1e-6)
        ll = ovica.loglik(m, X)
        self.assertEqual(ll.shape, (200,))
        np.testing.assert_allclose(ovica.loglik_codes(m, X, ovica.Solver(tol=1e-7, max_iter=3000).infer(m, X)),
                                   ll, rtol=1e-6)


if __name__ == "__main__":
    unittest.main()
