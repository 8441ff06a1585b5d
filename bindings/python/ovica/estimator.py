"""A scikit-learn style estimator over the trainer, and sparse coding with a
fixed dictionary.

The estimator follows scikit-learn's conventions without depending on it:
constructor arguments are stored unchanged (get_params/set_params,
sklearn.base.clone work), learned attributes end with an underscore, and
``components_`` is (n_components, n_features): one atom per ROW, the
transpose of the C library's basis A (m x n, atom i in column i).
"""

import inspect
import math

import numpy as np

from . import _lib
from .core import (Model, Prior, Solver, Trainer, TRAIN_PARAMS, loglik, synth_mix,
                   _as_prior)
from ._lib import as_input

__all__ = ["OvercompleteICA", "sparse_encode"]

_SCHEDULES = {"constant": 0, "cosine": 1}


def _seed(random_state):
    """A 64-bit trainer seed from random_state (None, an int or a
    numpy Generator/RandomState)."""
    if random_state is None:
        return int(np.random.randint(0, 2 ** 31 - 1))
    if isinstance(random_state, (int, np.integer)):
        return int(random_state) & 0xFFFFFFFFFFFFFFFF
    if hasattr(random_state, "integers"):
        return int(random_state.integers(0, 2 ** 63 - 1))
    if hasattr(random_state, "randint"):
        return int(random_state.randint(0, 2 ** 31 - 1))
    raise ValueError("random_state must be None, an int or a numpy random generator")


class OvercompleteICA:
    """Overcomplete ICA (Lewicki & Sejnowski) with libovica's trainer.

    Parameters
    ----------
    n_components : int or None
        Number of atoms n (None: n_features). Overcomplete when larger than
        the number of features.
    prior : "exponential", "laplace" or an ovica.Prior
        Prior of the sources: "exponential" (the default, as in ``ovica
        train``) for non-negative feature activations along signed atoms,
        as a sparse autoencoder's; "laplace" for signed sources.
    noise_sigma : float
        Noise standard deviation sigma of the model x = A s + e: a hint.
        With rule="auto" the trainer estimates the noise itself when the
        sources are sparse (see ``regime_``) and uses this value only when
        they are dense.
    prior_scale : float
        Scale b of a built-in prior (E|s| = b); tuned by the trainer on the
        sparse route, as noise_sigma.
    solver : "auto", "active", "fista", "ista" or "pg"
        MAP solver used in training and by transform/score ("auto": the
        exact active-set solver for the built-in priors).
    rule : str
        Update rule: "auto" (the library's default: a short probe on the
        sparse route decides between the sparse route and the annealed
        exact gradient from posterior draws), "dictionary" (the sparse
        route), "exact", "em", "natural", "plain", "reconstruction".
    max_steps : int or None
        Training steps of fit() (also the length of the schedules); None:
        the library's default (trainer parameter "steps").
    batch_size : int or None
        Rows per step (None: all of X every step; the trainer then draws the
        rows each step uses, trainer parameter "batch"). Batches are
        consecutive slices of a shuffled copy of X, cycled.
    learning_rate : float or None
        Base learning rate (None: the trainer's default).
    schedule : "cosine" or "constant"
        Learning-rate schedule (cosine: linear warm-up then cosine decay).
    init : None, "spread", "random", "data" or an array (n_components, n_features)
        Initial basis (None: the trainer's choice, atoms drawn from the data
        on the sparse route and spread atoms for the rules from draws).
    random_state : None, int or numpy generator
        Seeds the trainer and the batch shuffling.
    keep : "final" or "best"
        After fit(), keep the last basis, or the best one the monitor saw
        (the Laplace-approximation monitor does not rank bases reliably for
        the exponential prior, and does not run on the sparse route).
    max_iter, tol : int, float
        Iteration limit and relative tolerance of the MAP solver in
        transform() (the library's defaults: 1000, 1e-6).
    beta : float or None
        Smoothing of the likelihood estimate in score() (None: the
        library's recommended value for the prior).
    trainer_params : dict or None
        Further trainer parameters by name (ovica.TRAIN_PARAMS: "step_cap",
        "anneal", "sweeps", ...).
    callback : callable or None
        Called after every training step as callback(estimator, stats) with
        stats a dict (step, objective, mse, active, lr, sigma_t, update,
        monitor, best, guards, ...); returning True stops fit() early.
    verbose : int
        1: a line every 10% of the steps on stderr.

    Attributes
    ----------
    components_ : (n_components, n_features) array, one atom per row.
    n_features_in_ : int
    n_steps_ : int, training steps done.
    regime_ : str, the route the trainer took: "sparse" (MAP codes, the
        noise and the sparsity weight estimated from the data), "dense"
        (posterior draws), "undecided" (stopped during auto's probe) or
        "map" (one of the article's MAP rules).
    history_ : list of dicts, the stats of every step of fit()/partial_fit().
    model_ : ovica.Model, the fitted model (basis, sigma, prior).
    trainer_ : ovica.Trainer, the trainer (for more partial_fit() steps).
    """

    def __init__(self, n_components=None, *, prior="exponential", noise_sigma=0.05,
                 prior_scale=1.0, solver="auto", rule="auto", max_steps=None,
                 batch_size=None, learning_rate=None, schedule="cosine", init=None,
                 random_state=None, keep="final", max_iter=1000, tol=1e-6, beta=None,
                 trainer_params=None, callback=None, verbose=0):
        self.n_components = n_components
        self.prior = prior
        self.noise_sigma = noise_sigma
        self.prior_scale = prior_scale
        self.solver = solver
        self.rule = rule
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.init = init
        self.random_state = random_state
        self.keep = keep
        self.max_iter = max_iter
        self.tol = tol
        self.beta = beta
        self.trainer_params = trainer_params
        self.callback = callback
        self.verbose = verbose

    # --- scikit-learn protocol ---------------------------------------------------
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params):
        names = self._param_names()
        for k, v in params.items():
            if k not in names:
                raise ValueError("invalid parameter %r for %s" % (k, type(self).__name__))
            setattr(self, k, v)
        return self

    def __repr__(self):
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()}
        args = ["%s=%r" % (k, v) for k, v in self.get_params().items()
                if not (isinstance(v, (str, int, float, type(None))) and v == defaults.get(k))]
        return "%s(%s)" % (type(self).__name__, ", ".join(args))

    # --- training ---------------------------------------------------------------
    def _check_X(self, X, fitted=True):
        x, _ = as_input(X, "X")
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError("X must have at least one sample and one feature, got shape %s"
                             % (x.shape,))
        if fitted and x.shape[1] != self.n_features_in_:
            raise ValueError("X has %d features, the model was fitted with %d"
                             % (x.shape[1], self.n_features_in_))
        return x

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise RuntimeError("%s is not fitted yet: call fit() or partial_fit() first"
                               % type(self).__name__)

    def _setup(self, x):
        m = x.shape[1]
        n = m if self.n_components is None else int(self.n_components)
        if n < 1:
            raise ValueError("n_components must be >= 1")
        if self.schedule not in _SCHEDULES:
            raise ValueError("schedule must be 'cosine' or 'constant'")
        if self.keep not in ("best", "final"):
            raise ValueError("keep must be 'best' or 'final'")
        prior = _as_prior(self.prior, self.prior_scale)
        model = Model(m, n, prior, self.noise_sigma)
        seed = _seed(self.random_state)
        t = Trainer(model, self.rule, seed)
        if self.max_steps is not None:
            t.set_param("steps", max(1, int(self.max_steps)))
        self._total_steps = int(t.get_param("steps"))
        t.set_param("schedule", _SCHEDULES[self.schedule])
        if self.learning_rate is not None:
            t.set_param("lr", self.learning_rate)
        for k, v in (self.trainer_params or {}).items():
            if k not in TRAIN_PARAMS:
                raise ValueError("unknown trainer parameter %r; known: %s"
                                 % (k, ", ".join(sorted(TRAIN_PARAMS))))
            t.set_param(k, v)
        t.set_solver(self.solver)
        if self.init is None:
            pass  # the trainer initialises at its first step
        elif isinstance(self.init, str):
            t.init_basis(self.init, x)
        else:
            init = np.asarray(self.init, dtype=np.float64)
            if init.shape != (n, m):
                raise ValueError("init must have shape (n_components, n_features) = %s, got %s"
                                 % ((n, m), init.shape))
            t.basis = init.T
        self.n_features_in_ = m
        self.trainer_ = t
        self.model_ = t.model
        self.n_steps_ = 0
        self.history_ = []
        self._shuffle_seed = seed
        self._update_components()

    def _update_components(self):
        self.model_ = self.trainer_.model
        self.components_ = np.ascontiguousarray(self.model_.basis.T)
        self.regime_ = self.trainer_.regime

    def _one_step(self, batch, total):
        st = self.trainer_.step(batch)
        info = st.as_dict()
        self.history_.append(info)
        self.n_steps_ += 1
        if self.verbose:
            every = max(1, total // 10)
            if self.n_steps_ % every == 0 or self.n_steps_ == 1:
                import sys
                sys.stderr.write("ovica: step %d/%d objective %.6g lr %.4g%s\n" % (
                    info["step"] + 1, total, info["objective"], info["lr"],
                    "" if math.isnan(info["best"]) else " best %.6g" % info["best"]))
        if self.callback is not None:
            self._update_components()
            return bool(self.callback(self, info))
        return False

    def fit(self, X, y=None):
        """Learns the basis from X (n_samples, n_features): max_steps steps
        of the trainer from the chosen initialisation."""
        x = self._check_X(X, fitted=False)
        self._setup(x)
        N = x.shape[0]
        B = N if not self.batch_size or self.batch_size >= N else int(self.batch_size)
        data = x
        if B < N:
            rs = np.random.RandomState(self._shuffle_seed & 0x7FFFFFFF)
            data = np.ascontiguousarray(x[rs.permutation(N)])
        nb = N // B
        total = self._total_steps
        for k in range(total):
            batch = data if B == N else data[(k % nb) * B:(k % nb + 1) * B]
            if self._one_step(batch, total):
                break
        if self.keep == "best":
            try:
                self.trainer_.restore_best()
            except _lib.StateError:
                pass  # the monitor never ran: keep the final basis
        self._update_components()
        return self

    def partial_fit(self, X, y=None):
        """One training step on the batch X (the first call initialises the
        model from X). The schedules run over max_steps steps."""
        if not hasattr(self, "trainer_"):
            x = self._check_X(X, fitted=False)
            self._setup(x)
        else:
            x = self._check_X(X)
        self._one_step(x, self._total_steps)
        self._update_components()
        return self

    # --- using the model -----------------------------------------------------------
    def _solver(self):
        return Solver(self.solver, max_iter=self.max_iter, tol=self.tol)

    def transform(self, X):
        """MAP codes s_hat, shape (n_samples, n_components)."""
        self._check_fitted()
        x = self._check_X(X)
        with self._solver() as s:
            S, stats = s.infer(self.model_, x, return_stats=True)
            _warn_not_converged(s, stats, x.shape[0])
        return S

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def inverse_transform(self, S):
        """Reconstruction S A^T = S @ components_, shape (n_samples, n_features)."""
        self._check_fitted()
        s, _ = as_input(S, "S", cols=self.components_.shape[0])
        return synth_mix(self.model_.basis, s, 0.0)

    def score_samples(self, X):
        """Per-sample log-likelihood log P(x|A) in nats (Laplace approximation)."""
        self._check_fitted()
        return loglik(self.model_, self._check_X(X), self.beta)

    def score(self, X, y=None):
        """Mean log-likelihood per sample, in nats (higher is better)."""
        return float(np.mean(self.score_samples(X)))


def sparse_encode(X, dictionary, *, prior="exponential", noise_sigma=0.05, prior_scale=1.0,
                  solver="auto", max_iter=1000, tol=1e-6, init=None, return_stats=False):
    """MAP codes of the rows of X with a fixed dictionary.

    dictionary is shaped like components_: (n_components, n_features), one
    atom per row. Returns codes (n_samples, n_components), or (codes, stats)
    with return_stats (iterations, converged, objective, violation,
    seconds)."""
    d = np.asarray(dictionary, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError("dictionary must be 2-D (n_components, n_features)")
    x, _ = as_input(X, "X")
    if x.shape[1] != d.shape[1]:
        raise ValueError("X has %d features, the dictionary %d" % (x.shape[1], d.shape[1]))
    pr = prior if isinstance(prior, Prior) else Prior(prior, prior_scale)
    with Model(d.shape[1], d.shape[0], pr, noise_sigma, basis=d.T) as model, \
            Solver(solver, max_iter=max_iter, tol=tol) as s:
        S, stats = s.infer(model, x, init=init, return_stats=True)
        _warn_not_converged(s, stats, x.shape[0])
    return (S, stats) if return_stats else S


def _warn_not_converged(solver, stats, N):
    if solver.last_status == _lib.NOT_CONVERGED:
        import warnings
        warnings.warn("MAP codes: %d of %d samples reached the tolerance within %d iterations "
                      "(raise max_iter or tol)" % (stats["converged"], N, stats["iterations"]),
                      _lib.ConvergenceWarning, stacklevel=3)
