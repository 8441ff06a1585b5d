"""A scikit-learn style estimator over the trainer, and sparse coding with a
fixed dictionary.

The estimator follows scikit-learn's conventions without depending on it:
constructor arguments are stored unchanged (get_params/set_params,
sklearn.base.clone work) and checked at the start of fit(), learned
attributes end with an underscore, and ``components_`` is (n_components,
n_features): one atom per ROW, the transpose of the C library's basis A
(m x n, atom i in column i). When scikit-learn is importable, inputs are
checked by its ``check_array`` (same messages) and an unfitted estimator
raises its ``NotFittedError``; otherwise a faithful fallback is used.
"""

import inspect
import math
import numbers

import numpy as np

from . import _lib
from .core import (Model, Prior, Solver, Trainer, TRAIN_PARAMS, RULES, SOLVERS, INIT_METHODS,
                   loglik, synth_mix, _as_prior)

__all__ = ["OvercompleteICA", "sparse_encode", "NotFittedError"]

_SCHEDULES = {"constant": 0, "cosine": 1}

# scikit-learn is optional: its exception and input checks when present.
# It is imported on first need (an unfitted call, a fit, ovica.NotFittedError),
# not at `import ovica`, which stays fast.
_SK = None


def _sklearn():
    """(sklearn's NotFittedError, check_array), or False without scikit-learn."""
    global _SK
    if _SK is None:
        try:
            from sklearn.exceptions import NotFittedError as nfe
            from sklearn.utils.validation import check_array as ca
            _SK = (nfe, ca)
        except Exception:  # noqa: BLE001 - absent or broken: the fallback
            _SK = False
    return _SK


class _FallbackNotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before fit (as scikit-learn's
    sklearn.exceptions.NotFittedError: a ValueError and an AttributeError)."""


_FallbackNotFittedError.__name__ = _FallbackNotFittedError.__qualname__ = "NotFittedError"


def _not_fitted_error():
    sk = _sklearn()
    return sk[0] if sk else _FallbackNotFittedError


def __getattr__(name):
    # ovica.estimator.NotFittedError (and ovica.NotFittedError): scikit-learn's
    # class when it can be imported, else the fallback
    if name == "NotFittedError":
        return _not_fitted_error()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _is_sparse(X):
    mod = type(X).__module__ or ""
    return mod.startswith("scipy.sparse")


def _fallback_check_array(X, estimator_name, input_name):
    """scikit-learn's check_array(X, dtype=float64, order="C") without
    scikit-learn: the same refusals with the same messages."""
    if _is_sparse(X):
        raise TypeError("A sparse matrix was passed, but dense data is required. Use "
                        "X.toarray() to convert to a dense numpy array.")
    a = np.asarray(X)
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported\n{}\n".format(a))
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        raise ValueError("Expected 2D array, got scalar array instead:\narray={}.\n"
                         "Reshape your data either using array.reshape(-1, 1) if your data "
                         "has a single feature or array.reshape(1, -1) if it contains a "
                         "single sample.".format(a))
    if a.ndim == 1:
        raise ValueError("Expected 2D array, got 1D array instead:\narray={}.\n"
                         "Reshape your data either using array.reshape(-1, 1) if your data "
                         "has a single feature or array.reshape(1, -1) if it contains a "
                         "single sample.".format(a))
    if a.ndim >= 3:
        raise ValueError("Found array with dim %d. %s expected <= 2."
                         % (a.ndim, estimator_name))
    if not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else \
            "infinity or a value too large for %r" % (a.dtype,)
        raise ValueError("Input %s contains %s." % (input_name, what))
    context = " by %s" % estimator_name
    if a.shape[0] < 1:
        raise ValueError("Found array with %d sample(s) (shape=%s) while a minimum of %d is "
                         "required%s." % (a.shape[0], a.shape, 1, context))
    if a.shape[1] < 1:
        raise ValueError("Found array with %d feature(s) (shape=%s) while a minimum of %d is "
                         "required%s." % (a.shape[1], a.shape, 1, context))
    return np.ascontiguousarray(a)


def _check_array(X, estimator_name="OvercompleteICA", input_name="X", keep_float32=False):
    """X as a 2-D C-contiguous float64 array (float32 kept as it is with
    keep_float32: the coding entry points then work in single precision)
    with at least one sample and one feature, finite; refused (sparse,
    complex, 1-D...) with scikit-learn's messages."""
    single = keep_float32 and getattr(X, "dtype", None) == np.float32
    dt = np.float32 if single else np.float64
    sk = _sklearn()
    if sk:
        a = sk[1](X, dtype=dt, order="C", estimator=estimator_name,
                  input_name=input_name)
        return np.ascontiguousarray(a, dtype=dt)
    return np.ascontiguousarray(_fallback_check_array(X, estimator_name, input_name), dtype=dt)


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
    raise ValueError("random_state must be None, an int or a numpy random generator, got %r"
                     % (random_state,))


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


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
        the library's default (trainer parameter "steps"). On the sparse
        route fit() stops sooner when the trainer reports that the basis
        has settled (trainer parameter "stop"; trainer_params={"stop": 0}
        takes every step); n_steps_ says how many were taken.
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

    Parameters are stored as given and checked at the start of fit() (a
    ValueError naming the parameter, e.g. "noise_sigma must be > 0, got -1").

    Attributes
    ----------
    components_ : (n_components, n_features) array, one atom per row. The
        single source of truth: transform, score and inverse_transform use
        it, and an assigned array (same shape) replaces the basis, also for
        the next partial_fit() step.
    n_features_in_ : int
    n_iter_ : int, training steps done (the same as n_steps_).
    n_steps_ : int, training steps done.
    regime_ : str, the route the trainer took: "sparse" (MAP codes, the
        noise and the sparsity weight estimated from the data), "dense"
        (posterior draws), "undecided" (stopped during auto's probe) or
        "map" (one of the article's MAP rules).
    history_ : list of dicts, the stats of every step of fit()/partial_fit().
    model_ : ovica.Model, the model of components_ (basis, sigma, prior).
    trainer_ : ovica.Trainer, the trainer (for more partial_fit() steps).

    A fitted estimator pickles (pickle, copy.deepcopy, joblib) through the
    library's model file and trainer checkpoint (ovica/modelio.h): it
    transforms identically afterwards, and partial_fit() goes on from the
    saved step, basis and best basis (the trainer's random stream and
    posterior chains are not saved). A user prior (Prior.from_callbacks)
    cannot be pickled.
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

    def _more_tags(self):
        return {"X_types": ["2darray"], "preserves_dtype": [np.float64]}

    # --- pickling: the model file and the trainer's checkpoint -------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("_model", None)
        trainer = state.pop("trainer_", None)
        if model is not None:
            state["_model_bytes"] = model.to_bytes()
        if trainer is not None:
            state["_checkpoint_bytes"] = trainer.checkpoint_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        mb = state.pop("_model_bytes", None)
        cb = state.pop("_checkpoint_bytes", None)
        self.__dict__.update(state)
        if mb is not None:
            self._model = Model.from_bytes(mb)
        if cb is not None:
            t = Trainer.from_checkpoint_bytes(cb)
            t.set_solver(self.solver)  # not part of a checkpoint
            self.trainer_ = t

    # --- checks ----------------------------------------------------------------
    def _validate_params(self):
        """Checks every constructor argument, with its Python name."""
        def bad(name, what):
            raise ValueError("%s must be %s, got %r" % (name, what, getattr(self, name)))

        n = self.n_components
        if n is not None and (not _is_int(n) or n < 1):
            bad("n_components", "None or an int >= 1")
        if not isinstance(self.prior, Prior) and self.prior not in ("laplace", "exponential"):
            bad("prior", "'laplace', 'exponential' or an ovica.Prior")
        for name in ("noise_sigma", "prior_scale"):
            v = getattr(self, name)
            if not _is_real(v) or not math.isfinite(v) or v <= 0:
                bad(name, "> 0")
        if self.solver not in SOLVERS:
            bad("solver", "one of %s" % ", ".join(repr(x) for x in SOLVERS))
        if self.rule not in RULES:
            bad("rule", "one of %s" % ", ".join(repr(x) for x in RULES))
        lo, hi = Trainer.param_bounds("steps")
        if self.max_steps is not None and (not _is_int(self.max_steps) or
                                           not lo <= self.max_steps <= hi or self.max_steps < 1):
            bad("max_steps", "None or an int >= 1")
        if self.batch_size is not None and (not _is_int(self.batch_size) or self.batch_size < 1):
            bad("batch_size", "None or an int >= 1")
        if self.learning_rate is not None:
            lo, hi = Trainer.param_bounds("lr")
            v = self.learning_rate
            if not _is_real(v) or not math.isfinite(v) or v <= 0 or not lo <= v <= hi:
                bad("learning_rate", "None or a number in (0, %g]" % hi)
        if self.schedule not in _SCHEDULES:
            bad("schedule", "'cosine' or 'constant'")
        if isinstance(self.init, str):
            if self.init not in INIT_METHODS:
                bad("init", "'spread', 'random', 'data' or an array")
        if self.keep not in ("best", "final"):
            bad("keep", "'best' or 'final'")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            bad("max_iter", "an int >= 1")
        if not _is_real(self.tol) or not math.isfinite(self.tol) or self.tol < 0:
            bad("tol", ">= 0")
        if self.beta is not None and (not _is_real(self.beta) or not math.isfinite(self.beta)
                                      or self.beta <= 0):
            bad("beta", "None or > 0")
        tp = self.trainer_params
        if tp is not None:
            if not isinstance(tp, dict):
                bad("trainer_params", "None or a dict")
            for k, v in tp.items():
                if k not in TRAIN_PARAMS:
                    raise ValueError("trainer_params: unknown trainer parameter %r; known: %s"
                                     % (k, ", ".join(sorted(TRAIN_PARAMS))))
                lo, hi = Trainer.param_bounds(k)
                if not _is_real(v) or not lo <= v <= hi:
                    raise ValueError("trainer_params[%r] must lie in [%g, %g], got %r"
                                     % (k, lo, hi, v))
        if self.callback is not None and not callable(self.callback):
            bad("callback", "None or a callable")
        if not _is_int(self.verbose) and not isinstance(self.verbose, bool):
            bad("verbose", "an int")
        rs = self.random_state
        if not (rs is None or _is_int(rs) or hasattr(rs, "integers") or hasattr(rs, "randint")):
            bad("random_state", "None, an int or a numpy random generator")

    def _check_X(self, X, fitted=True, name="X", keep_float32=False):
        x = _check_array(X, type(self).__name__, name, keep_float32)
        if fitted and x.shape[1] != self.n_features_in_:
            raise ValueError("X has %d features, but %s is expecting %d features as input."
                             % (x.shape[1], type(self).__name__, self.n_features_in_))
        return x

    def _check_fitted(self):
        if "components_" not in self.__dict__:
            raise _not_fitted_error()("This %s instance is not fitted yet. Call 'fit' with "
                                 "appropriate arguments before using this estimator."
                                 % type(self).__name__)

    # --- the model of components_ ------------------------------------------------
    def _components(self):
        """components_, checked: an (n_components, n_features) finite array."""
        c = np.asarray(self.components_, dtype=np.float64)
        want = (self._model.n, self.n_features_in_)
        if c.shape != want:
            raise ValueError("components_ must have shape (n_components, n_features) = %s, "
                             "got %s" % (want, c.shape))
        if not np.isfinite(c).all():
            raise ValueError("components_ must be finite")
        return c

    def _current_model(self):
        """The model whose basis is components_: the fitted one, or a new one
        with its prior and sigma when components_ was reassigned or changed
        (nothing is cached, so transform etc. leave the estimator as it is)."""
        self._check_fitted()
        c = self._components()
        if np.array_equal(c, self._basis_src):
            return self._model
        return Model(self._model.m, self._model.n, self._model.prior, self._model.sigma,
                     basis=c.T)

    @property
    def model_(self):
        """The model (ovica.Model) whose basis is components_."""
        if "components_" not in self.__dict__:
            raise AttributeError("model_: %s is not fitted yet" % type(self).__name__)
        return self._current_model()

    def _update_components(self):
        self._model = self.trainer_.model
        self._basis_src = self._model.basis.T.copy()
        self.components_ = np.ascontiguousarray(self._basis_src)
        self.n_iter_ = self.n_steps_
        self.regime_ = self.trainer_.regime

    def _steps_total(self):
        """The planned steps: max_steps, or the library's default."""
        return int(self.trainer_.get_param("steps"))

    # --- training ---------------------------------------------------------------
    def _setup(self, x):
        m = x.shape[1]
        n = m if self.n_components is None else int(self.n_components)
        prior = _as_prior(self.prior, self.prior_scale)
        model = Model(m, n, prior, float(self.noise_sigma))
        seed = _seed(self.random_state)
        t = Trainer(model, self.rule, seed)
        if self.max_steps is not None:
            t.set_param("steps", int(self.max_steps))
        t.set_param("schedule", _SCHEDULES[self.schedule])
        if self.learning_rate is not None:
            t.set_param("lr", self.learning_rate)
        for k, v in (self.trainer_params or {}).items():
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
        self.n_steps_ = 0
        self.history_ = []
        self._shuffle_seed = seed
        self._update_components()

    def _one_step(self, batch, total):
        st = self.trainer_.step(batch)
        info = st.as_dict()
        self.history_.append(info)
        self.n_steps_ += 1
        self.n_iter_ = self.n_steps_
        if self.verbose:
            every = max(1, total // 10)
            if self.n_steps_ % every == 0 or self.n_steps_ == 1:
                import sys
                sys.stderr.write("ovica: step %d/%d  batch objective %.6g%s  lr %.4g\n" % (
                    info["step"] + 1, total, info["objective"],
                    "" if math.isnan(info["best"]) else
                    "  monitor best %.6g" % info["best"], info["lr"]))
        if self.callback is not None:
            self._update_components()
            return bool(self.callback(self, info))
        return False

    def fit(self, X, y=None):
        """Learns the basis from X (n_samples, n_features): max_steps steps
        of the trainer from the chosen initialisation, fewer when the trainer
        reports that the run has settled (ovica_trainer_converged: the
        sparse route's convergence test; trainer_params={"stop": 0} takes
        every step). float32 data are trained on as they are (no float64
        copy): their codes are computed in single precision, the statistics
        and the update in float64 (trainer_params={"precision": 2}: all in
        float64, the same steps as on the float64 values)."""
        self._validate_params()
        x = self._check_X(X, fitted=False, keep_float32=True)
        self._setup(x)
        N = x.shape[0]
        B = N if not self.batch_size or self.batch_size >= N else int(self.batch_size)
        data = x
        if B < N:
            rs = np.random.RandomState(self._shuffle_seed & 0x7FFFFFFF)
            data = np.ascontiguousarray(x[rs.permutation(N)])
        nb = N // B
        total = self._steps_total()
        for k in range(total):
            batch = data if B == N else data[(k % nb) * B:(k % nb + 1) * B]
            if self._one_step(batch, total) or self.trainer_.converged:
                break
        if self.keep == "best":
            try:
                self.trainer_.restore_best()
            except _lib.StateError:
                pass  # the monitor never ran: keep the final basis
        self._update_components()
        return self

    def partial_fit(self, X, y=None):
        """One training step on the batch X (the first call checks the
        parameters and initialises the model from X). The schedules run over
        max_steps steps. An assigned components_ is the basis the step
        starts from."""
        if "trainer_" not in self.__dict__:
            self._validate_params()
            x = self._check_X(X, fitted=False, keep_float32=True)
            self._setup(x)
        else:
            x = self._check_X(X, keep_float32=True)
            c = self._components()
            if not np.array_equal(c, self._basis_src):
                self.trainer_.basis = c.T
        self._one_step(x, self._steps_total())
        self._update_components()
        return self

    # --- using the model -----------------------------------------------------------
    def _solver(self):
        return Solver(self.solver, max_iter=self.max_iter, tol=self.tol)

    def transform(self, X):
        """MAP codes s_hat under components_, shape (n_samples, n_components);
        float32 data gives float32 codes (coded in single precision where
        the solver has it, see sparse_encode)."""
        self._check_fitted()
        x = self._check_X(X, keep_float32=True)
        model = self._current_model()
        with self._solver() as s:
            S, stats = s.infer(model, x, return_stats=True)
            _warn_not_converged(s, stats, x.shape[0])
        return S

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def inverse_transform(self, S):
        """Reconstruction S @ components_, shape (n_samples, n_features)."""
        self._check_fitted()
        c = self._components()
        s = _check_array(S, type(self).__name__, "S")
        if s.shape[1] != c.shape[0]:
            raise ValueError("S has %d columns, but %s has %d components"
                             % (s.shape[1], type(self).__name__, c.shape[0]))
        return synth_mix(np.ascontiguousarray(c.T), s, 0.0)

    def score_samples(self, X):
        """Per-sample log-likelihood log P(x|A) in nats (Laplace
        approximation), A = components_.T."""
        self._check_fitted()
        x = self._check_X(X)
        return loglik(self._current_model(), x, self.beta)

    def score(self, X, y=None):
        """Mean log-likelihood per sample, in nats (higher is better)."""
        return float(np.mean(self.score_samples(X)))


def sparse_encode(X, dictionary, *, prior="exponential", noise_sigma=0.05, prior_scale=1.0,
                  solver="auto", max_iter=1000, tol=1e-6, init=None, return_stats=False):
    """MAP codes of the rows of X with a fixed dictionary.

    dictionary is shaped like components_: (n_components, n_features), one
    atom per row. Returns codes (n_samples, n_components), or (codes, stats)
    with return_stats (iterations, converged, objective, violation,
    seconds). A float32 X is coded by ovica_solver_infer_f32 and gives
    float32 codes: FISTA and ISTA then iterate in single precision (sgemm),
    the active-set solver (the default) solves in double and rounds."""
    for name, v in (("noise_sigma", noise_sigma), ("prior_scale", prior_scale)):
        if not _is_real(v) or not math.isfinite(v) or v <= 0:
            raise ValueError("%s must be > 0, got %r" % (name, v))
    if solver not in SOLVERS:
        raise ValueError("solver must be one of %s, got %r"
                         % (", ".join(repr(x) for x in SOLVERS), solver))
    if not _is_int(max_iter) or max_iter < 1:
        raise ValueError("max_iter must be an int >= 1, got %r" % (max_iter,))
    if not _is_real(tol) or not math.isfinite(tol) or tol < 0:
        raise ValueError("tol must be >= 0, got %r" % (tol,))
    d = _check_array(dictionary, "sparse_encode", "dictionary")
    x = _check_array(X, "sparse_encode", "X", keep_float32=True)
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
