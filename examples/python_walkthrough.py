# %% [markdown]
# # libovica from Python: a walkthrough
#
# A notebook-style script (cells marked `# %%`, runnable as a plain script
# or cell by cell in an editor that knows the marks). It learns an
# overcomplete basis for the article's 2-D data with the scikit-learn style
# estimator, looks at the result, compares bases by their likelihood, codes
# data with a fixed dictionary, and drives the low-level trainer by hand
# (accumulate / export / import / apply, as data-parallel training does).
#
#     make                         # builds lib/libovica.so
#     /usr/bin/python3 examples/python_walkthrough.py [--quick]
#
# Only numpy is needed (Debian: python3-numpy).

# %%
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))  # the in-tree package
import ovica  # noqa: E402

QUICK = "--quick" in sys.argv
N = 3000 if QUICK else 20000
STEPS = 120 if QUICK else 300
print("libovica", ovica.__version__, "from", ovica.library_path)

# %% [markdown]
# ## Data: three non-negative sources, two sensors
# `make_2d_data` draws exponential sources and mixes them with atoms at 90,
# 210 and 330 degrees, plus noise of standard deviation 0.05.

# %%
X, A_true, S_true = ovica.make_2d_data("regular3", "exponential", n_samples=N, noise=0.05,
                                       seed=1)
print("X", X.shape, "true atoms (columns):\n", A_true.round(3))

# %% [markdown]
# ## Learning the basis
# Three atoms in two dimensions: an overcomplete basis. The estimator runs
# the library's trainer (annealed Monte Carlo EM, then the exact likelihood
# gradient) and keeps the best basis its monitor saw. The callback is
# called after every step; returning True would stop training.

# %%
def progress(est, stats):
    if (stats["step"] + 1) % (STEPS // 4) == 0:
        print("  step %3d  objective %.4f  lr %.3f  sigma_t %.3f" % (
            stats["step"] + 1, stats["objective"], stats["lr"], stats["sigma_t"]))


est = ovica.OvercompleteICA(3, prior="exponential", noise_sigma=0.05, max_steps=STEPS,
                            random_state=1, callback=progress)
est.fit(X)
print(est)
print("components_ (one atom per row):\n", est.components_.round(3))
directions = np.degrees(np.arctan2(est.components_[:, 1], est.components_[:, 0])) % 360
print("atom directions (degrees):", np.sort(directions).round(2))

# %%
rec = ovica.recovery(est.components_.T, A_true, use_sign=True)
print("max angle error %.2f degrees, MMCS %.5f" % (rec["max_angle_deg"], rec["mmcs"]))
assert rec["max_angle_deg"] < 5.0

# %% [markdown]
# ## Codes, reconstruction, likelihood
# `transform` gives the MAP codes; they are sparse and non-negative.
# `score` is the mean log-likelihood per sample (nats), by the Laplace
# approximation.

# %%
S = est.transform(X)
print("mean active coefficients per sample: %.2f of 3" % (S > 0).sum(1).mean())
R = est.inverse_transform(S)
print("reconstruction RMS error %.4f (noise 0.05)" % np.sqrt(np.mean((R - X) ** 2)))
X_test, _, _ = ovica.make_2d_data("regular3", "exponential", n_samples=1000, seed=99)
print("held-out log-likelihood: %.4f nats/sample" % est.score(X_test))

# %% [markdown]
# A complete basis (two atoms) explains the same data worse: the
# likelihood says so.

# %%
complete = ovica.OvercompleteICA(2, prior="exponential", max_steps=STEPS // 2,
                                 random_state=1).fit(X)
print("2 atoms: %.4f nats/sample; 3 atoms: %.4f" % (complete.score(X_test), est.score(X_test)))

# %% [markdown]
# ## Coding with a fixed dictionary
# `sparse_encode` takes a dictionary shaped like `components_`.

# %%
codes = ovica.sparse_encode(X[:5], est.components_, prior="exponential", noise_sigma=0.05)
print(codes.round(3))
assert np.array_equal(codes, est.transform(X[:5]))

# %% [markdown]
# ## The trainer by hand: accumulate, sum, apply
# Each "worker" accumulates the statistics of its share of the batch; the
# sums are added (MPI_Allreduce would do this across machines) and
# imported into one trainer, which applies the step.

# %%
model = ovica.Model(2, 3, "exponential", 0.05)
K = STEPS // 2
# (same seed: the workers' apply steps stay identical; no monitor: each
# worker's monitor batch would be its own first share)
workers = [ovica.Trainer(model, "auto", seed=5, steps=K, monitor_every=0) for _ in range(2)]
for w in workers:
    w.init_basis("spread", X)
shares = np.array_split(X, 2)
for step in range(K):
    for w, part in zip(workers, shares):
        w.accumulate(part)
    total = workers[0].export_stats() + workers[1].export_stats()
    for w in workers:
        w.import_stats(total)
        w.apply()
assert np.array_equal(workers[0].basis, workers[1].basis)
rec2 = ovica.recovery(workers[0].basis, A_true, use_sign=True)
print("two workers, %d steps: max angle error %.2f degrees" % (K, rec2["max_angle_deg"]))

# %% [markdown]
# ## Saving and loading

# %%
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "basis.ovm")
    est.model_.save(path)
    loaded = ovica.Model.load(path)
    print("loaded", loaded)
    assert np.array_equal(loaded.basis, est.components_.T)

# %% [markdown]
# ## Errors
# Library errors are Python exceptions carrying the library's message. The
# estimator checks its input first, as scikit-learn does (a ValueError with
# scikit-learn's wording); the low-level calls pass it to the library.

# %%
bad = np.array([[np.nan, 1.0]])
try:
    est.transform(bad)
except ValueError as e:
    print("the estimator refuses it: %s" % str(e).split("\n")[0])
try:
    ovica.Solver("fista").infer(est.model_, bad)
except ovica.NonFiniteError as e:
    print("caught %s: %s" % (type(e).__name__, e.message))
print("done")
