"""Thin wrappers of libovica's handles: Prior, Model, Solver, Sampler,
Trainer, Rng, and the free functions (synthetic data, metrics, likelihood,
.npy and model files).

Each class owns one C handle, made by the constructor (or a ``from_*`` /
``load`` class method) and released by ``close()`` or when the object is
garbage-collected. Arrays follow the C API's layout: data X are (N, m), the
basis A is (m, n) with atom i in column i, codes S are (N, n). A C-contiguous
float64 array is passed to the library as it is (no copy); anything else is
converted first. Errors raise :class:`ovica.OvicaError` subclasses carrying
the library's message.
"""

import ctypes
import math

import numpy as np

from . import _lib
from ._lib import F, check, as_input, as_output, ptr, c_double_p
from . import _capi

__all__ = [
    "Prior", "Model", "Solver", "Sampler", "PosteriorAccum", "Trainer", "StepStats",
    "InferStats", "Rng", "synth_basis_2d", "synth_random_basis", "synth_sources",
    "synth_mix", "make_2d_data", "match_atoms", "recovery", "loglik", "loglik_codes",
    "loglik_importance", "loglik_beta_default", "bits_per_dim", "atom_usage", "cluster_atoms", "merge_model",
    "npy_read", "npy_write", "TRAIN_PARAMS", "SOLVERS", "RULES", "SOLVER_PARAMS", "SAMPLER_PARAMS",
]


class _Handle:
    _free = None

    def __init__(self, handle, owner=None):
        self._h = ctypes.c_void_p(handle)
        self._owner = owner  # a borrowed handle keeps its owner alive

    @property
    def handle(self):
        """The C pointer (an int), for hosts that call the library themselves."""
        return self._h.value

    def close(self):
        """Releases the C handle now (idempotent)."""
        if self._owner is None and self._h is not None and self._h.value and self._free:
            type(self)._free(self._h)
        self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ptr(self):
        if self._h is None or not self._h.value:
            raise ValueError("%s: the handle has been closed" % type(self).__name__)
        return self._h


def _new(fn, name, *args):
    out = ctypes.c_void_p()
    check(fn(ctypes.byref(out), *args), name)
    return out.value


# --- priors ------------------------------------------------------------------------

# struct ovica_prior_callbacks and its member types, generated from the header
_PriorCallbacks = _capi.ovica_prior_callbacks

DOMAINS = _lib.enum_names("ovica_domain")                       # {"real": 0, "nonneg": 1}
PRIOR_KINDS = {v: k for k, v in _lib.enum_names("ovica_prior_kind").items()}


class Prior(_Handle):
    """A prior on one source coordinate (ovica/prior.h).

    ``Prior("laplace", b)`` or ``Prior("exponential", b)`` make a built-in
    prior; :meth:`from_callbacks` makes a user prior from Python functions."""

    _free = staticmethod(F.ovica_prior_free)

    def __init__(self, kind="laplace", scale=1.0, _handle=None, _owner=None):
        if _handle is None:
            if kind == "laplace":
                _handle = _new(F.ovica_prior_laplace_new, "ovica_prior_laplace_new", float(scale))
            elif kind == "exponential":
                _handle = _new(F.ovica_prior_exponential_new, "ovica_prior_exponential_new",
                               float(scale))
            else:
                raise ValueError("prior must be 'laplace' or 'exponential', got %r" % (kind,))
        _Handle.__init__(self, _handle, _owner)
        self._keep = None

    @classmethod
    def from_callbacks(cls, neglogp, grad, prox=None, curvature=None, domain="real",
                       name=None):
        """A user prior. The functions work elementwise on numpy arrays:
        ``neglogp(s) -> float`` (sum of -log p), ``grad(s) -> array``
        (d(-log p)/ds), optional ``prox(v, t) -> array`` and
        ``curvature(s) -> array``. An exception raised by one of them stops
        the library call, which then raises CallbackError with the exception
        as its cause."""
        if domain not in DOMAINS:
            raise ValueError("domain must be 'real' or 'nonneg'")

        def guard(fn):
            def wrapper(*args):
                try:
                    return fn(*args)
                except BaseException as e:  # noqa: B902 - handed back to the caller
                    _lib.callback_failed(e)
                    return 1
            return wrapper

        def c_neglogp(s, count, out, user):
            out[0] = float(neglogp(np.ctypeslib.as_array(s, (count,))))
            return 0

        def elementwise(fn):
            def c_fn(s, count, out, user):
                np.ctypeslib.as_array(out, (count,))[:] = fn(np.ctypeslib.as_array(s, (count,)))
                return 0
            return c_fn

        def c_prox(v, count, t, out, user):
            np.ctypeslib.as_array(out, (count,))[:] = prox(np.ctypeslib.as_array(v, (count,)), t)
            return 0

        cb = _PriorCallbacks()  # version: OVICA_PRIOR_CALLBACKS_VERSION
        cb.domain = DOMAINS[domain]
        cb.name = name.encode() if name else None
        keep = [_capi.ovica_prior_callbacks_neglogp(guard(c_neglogp)),
                _capi.ovica_prior_callbacks_grad(guard(elementwise(grad)))]
        cb.neglogp, cb.grad = keep
        if prox is not None:
            keep.append(_capi.ovica_prior_callbacks_prox(guard(c_prox)))
            cb.prox = keep[-1]
        if curvature is not None:
            keep.append(_capi.ovica_prior_callbacks_curvature(guard(elementwise(curvature))))
            cb.curvature = keep[-1]
        h = _new(F.ovica_prior_user_new, "ovica_prior_user_new", ctypes.byref(cb), None)
        p = cls(_handle=h)
        p._keep = keep  # the C function pointers must outlive every copy of the prior
        return p

    @property
    def kind(self):
        return PRIOR_KINDS.get(F.ovica_prior_kind(self._ptr()), "?")

    @property
    def domain(self):
        return "nonneg" if F.ovica_prior_domain(self._ptr()) == 1 else "real"

    @property
    def name(self):
        return F.ovica_prior_name(self._ptr()).decode()

    @property
    def scale(self):
        v = ctypes.c_double()
        check(F.ovica_prior_scale(self._ptr(), ctypes.byref(v)), "ovica_prior_scale")
        return v.value

    @property
    def has_prox(self):
        return F.ovica_prior_has_prox(self._ptr()) == 1

    def neglogp(self, s):
        """sum of -log p(s_i) over all entries of s."""
        a = np.ascontiguousarray(s, dtype=np.float64).ravel()
        out = ctypes.c_double()
        _lib.clear_pending()
        check(F.ovica_prior_neglogp(self._ptr(), ptr(a), a.size, ctypes.byref(out)),
              "ovica_prior_neglogp")
        return out.value

    def _elementwise(self, fn, name, s, *extra):
        a = np.ascontiguousarray(s, dtype=np.float64)
        out = np.empty_like(a)
        _lib.clear_pending()
        if extra:
            check(fn(self._ptr(), ptr(a), a.size, *extra, ptr(out)), name)
        else:
            check(fn(self._ptr(), ptr(a), a.size, ptr(out)), name)
        return out

    def grad(self, s):
        """d(-log p)/ds elementwise (a subgradient at kinks)."""
        return self._elementwise(F.ovica_prior_grad, "ovica_prior_grad", s)

    def prox(self, v, t):
        """prox of t(-log p) elementwise."""
        return self._elementwise(F.ovica_prior_prox, "ovica_prior_prox", v, float(t))

    def curvature(self, s):
        """-d^2 log p/ds^2 elementwise."""
        return self._elementwise(F.ovica_prior_curvature, "ovica_prior_curvature", s)

    def clone(self):
        p = Prior(_handle=_new(F.ovica_prior_clone, "ovica_prior_clone", self._ptr()))
        p._keep = self._keep
        return p

    def __deepcopy__(self, memo):
        # copy.deepcopy (sklearn.base.clone): a clone of the handle, which
        # also works for a prior made of Python callbacks (they are shared)
        return self.clone()

    def __copy__(self):
        return self.clone()

    def __reduce__(self):
        # pickle: a built-in prior is its kind and scale; a prior made of
        # Python callbacks has no portable form
        if self._h is None or self.kind not in ("laplace", "exponential"):
            raise TypeError("only a built-in prior (laplace, exponential) can be pickled or "
                            "copied, not %r" % (self,))
        return (Prior, (self.kind, self.scale))

    def __repr__(self):
        if self._h is None:
            return "Prior(<closed>)"
        if self.kind == "user":
            return "Prior.from_callbacks(name=%r, domain=%r)" % (self.name, self.domain)
        return "Prior(%r, %r)" % (self.kind, self.scale)


def _as_prior(prior, scale=1.0):
    if isinstance(prior, Prior):
        return prior
    return Prior(prior, scale)


# --- model ------------------------------------------------------------------------


class Model(_Handle):
    """The model x = A s + e: basis A (m x n), noise sigma and the prior
    (ovica/model.h). ``Model(m, n, prior, sigma, basis=None)``."""

    _free = staticmethod(F.ovica_model_free)

    def __init__(self, m=None, n=None, prior="laplace", sigma=0.05, basis=None,
                 _handle=None, _owner=None, _keep=None):
        if _handle is None:
            pr = _as_prior(prior)
            _handle = _new(F.ovica_model_new, "ovica_model_new", int(m), int(n), pr._ptr(),
                           float(sigma))
            _keep = pr._keep
        _Handle.__init__(self, _handle, _owner)
        self._keep = _keep
        if basis is not None:
            self.basis = basis

    @property
    def m(self):
        return F.ovica_model_dim(self._ptr())

    @property
    def n(self):
        return F.ovica_model_atoms(self._ptr())

    @property
    def basis(self):
        """A copy of the basis A, shape (m, n), atom i in column i.
        Assigning an (m, n) array replaces it (ovica_model_set_basis)."""
        out = np.empty((self.m, self.n))
        check(F.ovica_model_get_basis(self._ptr(), ptr(out), out.shape[0], out.shape[1]),
              "ovica_model_get_basis")
        return out

    @basis.setter
    def basis(self, A):
        a, p = as_input(A, "basis")
        check(F.ovica_model_set_basis(self._ptr(), p, a.shape[0], a.shape[1]),
              "ovica_model_set_basis")

    @property
    def sigma(self):
        return F.ovica_model_sigma(self._ptr())

    @sigma.setter
    def sigma(self, value):
        check(F.ovica_model_set_sigma(self._ptr(), float(value)), "ovica_model_set_sigma")

    @property
    def prior(self):
        """A copy of the model's prior."""
        p = Prior(_handle=_new(F.ovica_prior_clone, "ovica_prior_clone",
                               F.ovica_model_prior(self._ptr())))
        p._keep = self._keep
        return p

    @prior.setter
    def prior(self, prior):
        check(F.ovica_model_set_prior(self._ptr(), prior._ptr()), "ovica_model_set_prior")
        self._keep = prior._keep

    @property
    def lipschitz(self):
        v = ctypes.c_double()
        check(F.ovica_model_lipschitz(self._ptr(), ctypes.byref(v)), "ovica_model_lipschitz")
        return v.value

    def objective(self, X, S):
        """Per-sample MAP objective E(s_k), an array of N values."""
        x, px = as_input(X, "X")
        s, ps = as_input(S, "S")
        out = np.empty(x.shape[0])
        _lib.clear_pending()
        check(F.ovica_model_objective(self._ptr(), px, x.shape[0], x.shape[1], ps, s.shape[1],
                                      ptr(out), None), "ovica_model_objective")
        return out

    def optimality(self, X, S):
        """Worst violation of the MAP optimality condition over the batch."""
        x, px = as_input(X, "X")
        s, ps = as_input(S, "S")
        v = ctypes.c_double()
        _lib.clear_pending()
        check(F.ovica_model_optimality(self._ptr(), px, x.shape[0], x.shape[1], ps, s.shape[1],
                                       ctypes.byref(v)), "ovica_model_optimality")
        return v.value

    def clone(self):
        return Model(_handle=_new(F.ovica_model_clone, "ovica_model_clone", self._ptr()),
                     _keep=self._keep)

    def save(self, path):
        """Saves the model file (atomically; ovica/modelio.h)."""
        check(F.ovica_model_save(self._ptr(), _path(path)), "ovica_model_save")

    def to_bytes(self):
        buf = ctypes.c_void_p()
        n = ctypes.c_size_t()
        check(F.ovica_model_save_buffer(self._ptr(), ctypes.byref(buf), ctypes.byref(n)),
              "ovica_model_save_buffer")
        try:
            return ctypes.string_at(buf, n.value)
        finally:
            F.ovica_free(buf)

    @classmethod
    def load(cls, path):
        return cls(_handle=_new(F.ovica_model_load, "ovica_model_load", _path(path)))

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        return cls(_handle=_new(F.ovica_model_load_buffer, "ovica_model_load_buffer",
                                data, len(data)))

    def __reduce__(self):
        # pickle, copy.deepcopy: through the model file's bytes (a model with
        # a user prior raises NotSupportedError)
        return (Model.from_bytes, (self.to_bytes(),))

    def __repr__(self):
        if self._h is None:
            return "Model(<closed>)"
        return "Model(m=%d, n=%d, prior=%r, sigma=%r)" % (self.m, self.n, self.prior, self.sigma)


def _path(p):
    import os
    return os.fsencode(p)


# --- solver -----------------------------------------------------------------------

def _bounded(table, bounds):
    """The entries of a parameter table that the loaded library accepts
    (its `bounds` function knows them)."""
    lo, hi = ctypes.c_double(), ctypes.c_double()
    return {name: i for name, i in table.items()
            if bounds(i, ctypes.byref(lo), ctypes.byref(hi)) == 0}


#: Solver parameters by name -> enum ovica_solver_param value: from the
#: library (ovica_solver_param_count/_name) when it has them, else from the
#: headers' enum (generated _capi.py); only those the library accepts.
SOLVER_PARAMS = _bounded(_lib.param_table("solver", "ovica_solver_param"),
                         F.ovica_solver_param_bounds)


class InferStats(_capi.ovica_infer_stats):
    """struct ovica_infer_stats (layout and version generated from the header)."""

    def as_dict(self):
        return {f: getattr(self, f) for f, _ in self._fields_ if f != "version"}


#: The MAP solvers (ovica_solver_type_find names).
def _registry(count, at, name):
    """The names of the library's built-in types, in its order."""
    return tuple(name(at(i)).decode() for i in range(count()))


#: The solver types of the library (ovica_solver_type_count/_at).
SOLVERS = _registry(F.ovica_solver_type_count, F.ovica_solver_type_at, F.ovica_solver_type_name)


def _solver_type(name):
    t = F.ovica_solver_type_find(name.encode()) if isinstance(name, str) else None
    if not t:
        raise ValueError("unknown solver %r (one of %s)" % (name, ", ".join(SOLVERS)))
    return t


class Solver(_Handle):
    """MAP inference of the codes (ovica/solver.h).
    ``Solver("fista", max_iter=1000, tol=1e-6, ...)``; parameters by the names
    of :data:`SOLVER_PARAMS`."""

    _free = staticmethod(F.ovica_solver_free)

    def __init__(self, kind="fista", **params):
        _Handle.__init__(self, _new(F.ovica_solver_new, "ovica_solver_new", _solver_type(kind)))
        for k, v in params.items():
            self.set_param(k, v)

    @property
    def kind(self):
        return F.ovica_solver_type_name(F.ovica_solver_get_type(self._ptr())).decode()

    def set_param(self, name, value):
        check(F.ovica_solver_set_param(self._ptr(), _param_id(SOLVER_PARAMS, name),
                                       float(value)), "ovica_solver_set_param")

    def get_param(self, name):
        v = ctypes.c_double()
        check(F.ovica_solver_get_param(self._ptr(), _param_id(SOLVER_PARAMS, name),
                                       ctypes.byref(v)), "ovica_solver_get_param")
        return v.value

    def infer(self, model, X, out=None, init=None, return_stats=False):
        """s_hat for the rows of X, shape (N, n). A float32 X is coded by
        ovica_solver_infer_f32 (ISTA and FISTA then iterate in single
        precision; the other solvers solve in double and round) and gives
        float32 codes; anything else is coded in float64. ``out``: an
        optional C-contiguous (N, n) array of that dtype to write into (no
        allocation); ``init``: starting codes (sets the solver's warm start
        for this call). Returns S, or (S, stats) with ``return_stats``; a hit
        iteration limit is reported in stats (``converged`` < N) and by
        ``last_status`` (ovica._lib.NOT_CONVERGED), not as an error."""
        single = getattr(X, "dtype", None) == np.float32
        dt = np.float32 if single else np.float64
        x, px = as_input(X, "X", cols=model.m, dtype=dt)
        S, ps = as_output(out, (x.shape[0], model.n), "out", dtype=dt)
        warm = init is not None
        if warm:
            S[...] = init
            self.set_param("warm_start", 1)
        stats = InferStats()
        fn = F.ovica_solver_infer_f32 if single else F.ovica_solver_infer
        name = "ovica_solver_infer_f32" if single else "ovica_solver_infer"
        _lib.clear_pending()
        try:
            self.last_status = check(fn(self._ptr(), model._ptr(), px, x.shape[0], x.shape[1],
                                        ps, S.shape[1], ctypes.byref(stats)), name)
        finally:
            if warm:
                self.set_param("warm_start", 0)
        return (S, stats.as_dict()) if return_stats else S


def _param_id(table, name):
    if isinstance(name, int):
        return name
    try:
        return table[name]
    except KeyError:
        raise ValueError("unknown parameter %r; known: %s" % (name, ", ".join(sorted(table))))


# --- sampler ----------------------------------------------------------------------

#: Sampler parameters by name (as SOLVER_PARAMS; the sampler has no bounds function).
SAMPLER_PARAMS = _lib.param_table("sampler", "ovica_sampler_param")


class PosteriorAccum:
    """Sums over posterior draws (struct ovica_posterior_accum) as numpy
    arrays: zs, ss, bnd (n, n), xs (m, n), and draws."""

    def __init__(self, m, n):
        self.zs = np.zeros((n, n))
        self.ss = np.zeros((n, n))
        self.xs = np.zeros((m, n))
        self.bnd = np.zeros((n, n))
        self.draws = 0.0

    def _struct(self):
        return _capi.ovica_posterior_accum(zs=ptr(self.zs), ss=ptr(self.ss), xs=ptr(self.xs),
                                           bnd=ptr(self.bnd), draws=self.draws)


class Sampler(_Handle):
    """Exact posterior draws of s given x (ovica/sampler.h)."""

    _free = staticmethod(F.ovica_sampler_free)

    def __init__(self, seed=0, **params):
        _Handle.__init__(self, _new(F.ovica_sampler_new, "ovica_sampler_new",
                                    ctypes.c_uint64(int(seed))))
        for k, v in params.items():
            self.set_param(k, v)

    def set_param(self, name, value):
        check(F.ovica_sampler_set_param(self._ptr(), _param_id(SAMPLER_PARAMS, name),
                                        float(value)), "ovica_sampler_set_param")

    def get_param(self, name):
        v = ctypes.c_double()
        check(F.ovica_sampler_get_param(self._ptr(), _param_id(SAMPLER_PARAMS, name),
                                        ctypes.byref(v)), "ovica_sampler_get_param")
        return v.value

    def run(self, model, X, S, sweeps, sigma_t=None, accum=None):
        """Runs `sweeps` sweeps of the chains S (N, n; updated in place, must
        be a C-contiguous float64 array) at noise level sigma_t (default: the
        model's sigma), adding to `accum` (a PosteriorAccum) if given."""
        x, px = as_input(X, "X", cols=model.m)
        S, ps = as_output(S, (x.shape[0], model.n), "S")
        acc = accum._struct() if accum is not None else None
        check(F.ovica_sampler_run(self._ptr(), model._ptr(),
                                  float(model.sigma if sigma_t is None else sigma_t), px,
                                  x.shape[0], x.shape[1], ps, S.shape[1], int(sweeps),
                                  ctypes.byref(acc) if acc is not None else None),
              "ovica_sampler_run")
        if accum is not None:
            accum.draws = acc.draws
        return S


# --- trainer ----------------------------------------------------------------------

#: Trainer parameters by name (as SOLVER_PARAMS): the names the loaded
#: library knows.
TRAIN_PARAMS = _bounded(_lib.param_table("trainer", "ovica_train_param"),
                        F.ovica_trainer_param_bounds)
INIT_METHODS = _lib.enum_names("ovica_init_method")     # {"random": 0, "spread": 1, "data": 2}
REGIMES = {v: k for k, v in _lib.enum_names("ovica_regime").items()}
#: The update rules of the library (ovica_rule_type_count/_at).
RULES = _registry(F.ovica_rule_type_count, F.ovica_rule_type_at, F.ovica_rule_type_name)
GUARD_FLAGS = {v: k for k, v in _lib.enum_names("ovica_guard_flag").items()}


class StepStats(_capi.ovica_step_stats):
    """struct ovica_step_stats: what one training step did (layout and
    version generated from the header)."""

    def as_dict(self):
        d = {f: getattr(self, f) for f, _ in self._fields_ if f != "version"}
        d["guards"] = [n for bit, n in sorted(GUARD_FLAGS.items()) if self.guard & bit]
        return d


_SCHEDULE_FN = _capi.ovica_schedule_fn


class Trainer(_Handle):
    """Step-by-step learning of the basis (ovica/trainer.h).

    ``Trainer(model, rule="auto", seed=0, **params)`` copies the model;
    parameters by the names of :data:`TRAIN_PARAMS` (lr, steps, schedule...).
    """

    _free = staticmethod(F.ovica_trainer_free)

    def __init__(self, model, rule="auto", seed=0, _handle=None, **params):
        if _handle is None:
            rt = F.ovica_rule_type_find(rule.encode()) if isinstance(rule, str) else None
            if not rt:
                raise ValueError("unknown rule %r (one of %s)" % (rule, ", ".join(RULES)))
            _handle = _new(F.ovica_trainer_new, "ovica_trainer_new", model._ptr(), rt,
                           ctypes.c_uint64(int(seed) & 0xFFFFFFFFFFFFFFFF))
        _Handle.__init__(self, _handle)
        self._keep = [getattr(model, "_keep", None)]
        self._schedules = {}
        for k, v in params.items():
            self.set_param(k, v)

    @classmethod
    def load_checkpoint(cls, path):
        """A trainer from a checkpoint file (ovica_checkpoint_load)."""
        return cls(None, _handle=_new(F.ovica_checkpoint_load, "ovica_checkpoint_load",
                                      _path(path)))

    def save_checkpoint(self, path):
        check(F.ovica_checkpoint_save(self._ptr(), _path(path)), "ovica_checkpoint_save")

    def checkpoint_bytes(self):
        """The checkpoint (ovica_checkpoint_save_buffer) as bytes: the
        model, rule, parameters, step index and best basis."""
        buf = ctypes.c_void_p()
        n = ctypes.c_size_t()
        check(_lib.optional("ovica_checkpoint_save_buffer")(self._ptr(), ctypes.byref(buf),
                                                             ctypes.byref(n)),
              "ovica_checkpoint_save_buffer")
        try:
            return ctypes.string_at(buf, n.value)
        finally:
            F.ovica_free(buf)

    def __reduce__(self):
        # pickle, copy.deepcopy: through the checkpoint's bytes (what a
        # checkpoint does not hold, see ovica/modelio.h, is not carried over)
        return (Trainer.from_checkpoint_bytes, (self.checkpoint_bytes(),))

    @classmethod
    def from_checkpoint_bytes(cls, data):
        """A trainer from the bytes of a checkpoint (ovica_checkpoint_load_buffer)."""
        data = bytes(data)
        return cls(None, _handle=_new(_lib.optional("ovica_checkpoint_load_buffer"),
                                      "ovica_checkpoint_load_buffer", data, len(data)))

    @property
    def rule(self):
        return F.ovica_rule_type_name(F.ovica_trainer_rule(self._ptr())).decode()

    def set_param(self, name, value):
        check(F.ovica_trainer_set_param(self._ptr(), _param_id(TRAIN_PARAMS, name),
                                        float(value)), "ovica_trainer_set_param")

    def get_param(self, name):
        v = ctypes.c_double()
        check(F.ovica_trainer_get_param(self._ptr(), _param_id(TRAIN_PARAMS, name),
                                        ctypes.byref(v)), "ovica_trainer_get_param")
        return v.value

    @staticmethod
    def param_bounds(name):
        lo, hi = ctypes.c_double(), ctypes.c_double()
        check(F.ovica_trainer_param_bounds(_param_id(TRAIN_PARAMS, name), ctypes.byref(lo),
                                           ctypes.byref(hi)), "ovica_trainer_param_bounds")
        return lo.value, hi.value

    def set_solver(self, kind):
        check(F.ovica_trainer_set_solver(self._ptr(), _solver_type(kind)),
              "ovica_trainer_set_solver")

    def _set_schedule(self, which, fn):
        setter = (F.ovica_trainer_set_lr_schedule if which == "lr"
                  else F.ovica_trainer_set_sigma_schedule)
        if fn is None:
            check(setter(self._ptr(), None, None), setter.__name__)
            self._schedules.pop(which, None)
            return

        def c_fn(step, total, user):
            try:
                return float(fn(step, total))
            except BaseException as e:  # noqa: B902 - handed back to the caller
                _lib.callback_failed(e)
                return math.nan  # the trainer stops the step with OVICA_EUSER

        cfn = _SCHEDULE_FN(c_fn)
        check(setter(self._ptr(), cfn, None), setter.__name__)
        self._schedules[which] = cfn

    def set_lr_schedule(self, fn):
        """fn(step, total) -> learning rate, or None for the built-in schedule."""
        self._set_schedule("lr", fn)

    def set_sigma_schedule(self, fn):
        """fn(step, total) -> noise level sigma_t, or None for the built-in one."""
        self._set_schedule("sigma", fn)

    def init_basis(self, method="spread", X=None):
        if method not in INIT_METHODS:
            raise ValueError("init must be one of %s" % ", ".join(INIT_METHODS))
        if X is None:
            check(F.ovica_trainer_init_basis(self._ptr(), INIT_METHODS[method], None, 0, 0),
                  "ovica_trainer_init_basis")
        else:
            x, px = as_input(X, "X")
            check(F.ovica_trainer_init_basis(self._ptr(), INIT_METHODS[method], px,
                                             x.shape[0], x.shape[1]), "ovica_trainer_init_basis")

    def set_monitor(self, X):
        x, px = as_input(X, "X")
        check(F.ovica_trainer_set_monitor(self._ptr(), px, x.shape[0], x.shape[1]),
              "ovica_trainer_set_monitor")

    def step(self, X):
        """One step (accumulate + apply) on the batch X; returns StepStats.
        A float32 X goes to ovica_trainer_step_f32 without a copy: by default
        (parameter "precision" 0) its codes are computed in single precision
        and the rest of the step in float64; with "precision" 2 the step is
        the one on X.astype(float64), bit for bit. Anything else is taken as
        float64."""
        single = getattr(X, "dtype", None) == np.float32
        x, px = as_input(X, "X", dtype=np.float32 if single else np.float64)
        st = StepStats()
        _lib.clear_pending()
        fn = "ovica_trainer_step_f32" if single else "ovica_trainer_step"
        check(getattr(F, fn)(self._ptr(), px, x.shape[0], x.shape[1], ctypes.byref(st)), fn)
        return st

    def accumulate(self, X):
        """Adds the batch's sufficient statistics (first half of a step);
        float32 as in step()."""
        single = getattr(X, "dtype", None) == np.float32
        x, px = as_input(X, "X", dtype=np.float32 if single else np.float64)
        _lib.clear_pending()
        fn = "ovica_trainer_accumulate_f32" if single else "ovica_trainer_accumulate"
        check(getattr(F, fn)(self._ptr(), px, x.shape[0], x.shape[1]), fn)

    def apply(self):
        """Applies the accumulated statistics (second half); returns StepStats."""
        st = StepStats()
        _lib.clear_pending()
        check(F.ovica_trainer_apply(self._ptr(), ctypes.byref(st)), "ovica_trainer_apply")
        return st

    def clear_stats(self):
        check(F.ovica_trainer_clear_stats(self._ptr()), "ovica_trainer_clear_stats")

    @property
    def stats_size(self):
        return F.ovica_trainer_stats_size(self._ptr())

    def export_stats(self):
        """The accumulated statistics as a flat float64 array (to be summed
        across processes and imported back)."""
        buf = np.empty(self.stats_size)
        check(F.ovica_trainer_stats_export(self._ptr(), ptr(buf), buf.size),
              "ovica_trainer_stats_export")
        return buf

    def import_stats(self, buf):
        b, pb = as_input(buf, "stats", ndim=1)
        check(F.ovica_trainer_stats_import(self._ptr(), pb, b.size), "ovica_trainer_stats_import")

    @property
    def model(self):
        """A copy of the trainer's current model."""
        return Model(_handle=_new(F.ovica_model_clone, "ovica_model_clone",
                                  F.ovica_trainer_model(self._ptr())), _keep=self._keep[0])

    @property
    def basis(self):
        """A copy of the current basis, (m, n)."""
        mp = F.ovica_trainer_model(self._ptr())
        m, n = F.ovica_model_dim(mp), F.ovica_model_atoms(mp)
        out = np.empty((m, n))
        check(F.ovica_model_get_basis(mp, ptr(out), m, n), "ovica_model_get_basis")
        return out

    @basis.setter
    def basis(self, A):
        a, p = as_input(A, "basis")
        check(F.ovica_trainer_set_basis(self._ptr(), p, a.shape[0], a.shape[1]),
              "ovica_trainer_set_basis")

    def best_basis(self):
        """(basis, monitor objective) of the best basis seen; StateError if
        the monitor has not run."""
        mp = F.ovica_trainer_model(self._ptr())
        m, n = F.ovica_model_dim(mp), F.ovica_model_atoms(mp)
        out = np.empty((m, n))
        obj = ctypes.c_double()
        check(F.ovica_trainer_best_basis(self._ptr(), ptr(out), m, n, ctypes.byref(obj)),
              "ovica_trainer_best_basis")
        return out, obj.value

    def restore_best(self):
        check(F.ovica_trainer_restore_best(self._ptr()), "ovica_trainer_restore_best")

    def set_sampler_seed(self, seed):
        """Reseeds only the posterior sampler (data-parallel training: the
        same trainer seed everywhere, a sampler seed per process)."""
        check(_lib.optional("ovica_trainer_set_sampler_seed")(
            self._ptr(), ctypes.c_uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)),
            "ovica_trainer_set_sampler_seed")

    def set_best(self, A, objective):
        """Sets the best basis and its monitor objective (e.g. when resuming)."""
        a, p = as_input(A, "basis")
        check(_lib.optional("ovica_trainer_set_best")(self._ptr(), p, a.shape[0], a.shape[1],
                                                       float(objective)),
              "ovica_trainer_set_best")

    @property
    def step_index(self):
        return F.ovica_trainer_step_index(self._ptr())

    @step_index.setter
    def step_index(self, k):
        check(F.ovica_trainer_set_step_index(self._ptr(), int(k)), "ovica_trainer_set_step_index")

    def atom_usage(self):
        n = F.ovica_model_atoms(F.ovica_trainer_model(self._ptr()))
        out = np.empty(n)
        check(F.ovica_trainer_atom_usage(self._ptr(), ptr(out), n), "ovica_trainer_atom_usage")
        return out

    @property
    def converged(self):
        """True once the run has settled on the sparse route, so that a host
        may stop before its planned steps (ovica_trainer_converged)."""
        return F.ovica_trainer_converged(self._ptr()) == 1

    @property
    def regime(self):
        """The route the trainer is on: "undecided" (auto's probe), "sparse",
        "dense" or "map" (ovica_trainer_regime)."""
        return REGIMES[F.ovica_trainer_regime(self._ptr())]

    def set_regime(self, regime, keep_basis=False):
        """Decides auto's regime now: "sparse" or "dense"."""
        ids = {v: k for k, v in REGIMES.items()}
        if regime not in ("sparse", "dense"):
            raise ValueError("regime must be 'sparse' or 'dense', got %r" % (regime,))
        check(F.ovica_trainer_set_regime(self._ptr(), ids[regime], int(bool(keep_basis))),
              "ovica_trainer_set_regime")


# --- rng, synthetic data, metrics ------------------------------------------------


class Rng(_Handle):
    """The library's seeded generator (xoshiro256**; ovica/rng.h)."""

    _free = staticmethod(F.ovica_rng_free)

    def __init__(self, seed=0):
        _Handle.__init__(self, _new(F.ovica_rng_new, "ovica_rng_new",
                                    ctypes.c_uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)))

    def uniform(self):
        return F.ovica_rng_uniform(self._ptr())

    def normal(self, size):
        out = np.empty(int(size))
        check(F.ovica_rng_fill_normal(self._ptr(), ptr(out), out.size), "ovica_rng_fill_normal")
        return out


SYNTH_SETS = {"regular3": (0, 3), "irregular4": (1, 4)}
_KIND_IDS = {"laplace": 0, "exponential": 1}


def synth_basis_2d(name="regular3"):
    """One of the article's 2-D bases, shape (2, n): "regular3" or "irregular4"."""
    if name not in SYNTH_SETS:
        raise ValueError("unknown set %r" % (name,))
    sid, n = SYNTH_SETS[name]
    A = np.empty((2, n))
    check(F.ovica_synth_basis_2d(sid, ptr(A), 2, n), "ovica_synth_basis_2d")
    return A


def synth_random_basis(rng, m, n):
    A = np.empty((m, n))
    check(F.ovica_synth_random_basis(rng._ptr(), ptr(A), m, n), "ovica_synth_random_basis")
    return A


def synth_sources(rng, prior, N, n, scale=1.0, activity=1.0):
    """Sparse i.i.d. sources (N, n) from the "laplace" or "exponential" prior."""
    if prior not in _KIND_IDS:
        raise ValueError("prior must be 'laplace' or 'exponential'")
    S = np.empty((N, n))
    check(F.ovica_synth_sources(rng._ptr(), _KIND_IDS[prior], float(scale), float(activity),
                                ptr(S), N, n), "ovica_synth_sources")
    return S


def synth_mix(A, S, noise_sigma=0.0, rng=None):
    """X = S A^T + noise, shape (N, m)."""
    a, pa = as_input(A, "A")
    s, ps = as_input(S, "S", cols=a.shape[1])
    X = np.empty((s.shape[0], a.shape[0]))
    check(F.ovica_synth_mix(rng._ptr() if rng is not None else None, pa, a.shape[0],
                            a.shape[1], ps, s.shape[0], float(noise_sigma), ptr(X)),
          "ovica_synth_mix")
    return X


def make_2d_data(name="regular3", prior="exponential", n_samples=2000, noise=0.05, seed=1,
                 scale=1.0):
    """The article's 2-D data as the `ovica demo` program makes them:
    returns (X (N, 2), A_true (2, n), S (N, n))."""
    r = Rng(seed)
    A = synth_basis_2d(name)
    S = synth_sources(r, prior, n_samples, A.shape[1], scale)
    X = synth_mix(A, S, noise, r)
    return X, A, S


def match_atoms(A_learned, A_true, use_sign=False):
    """Optimal matching of learned to true atoms (columns): returns
    (assign, angle_deg), one entry per true atom (assign -1 when unmatched)."""
    a, pa = as_input(A_learned, "A_learned")
    t, pt = as_input(A_true, "A_true", cols=None)
    assign = (ctypes.c_size_t * t.shape[1])()
    ang = np.empty(t.shape[1])
    check(F.ovica_atoms_match(pa, a.shape[0], a.shape[1], pt, t.shape[1], int(bool(use_sign)),
                              assign, ptr(ang)), "ovica_atoms_match")
    big = ctypes.c_size_t(-1).value
    return np.array([-1 if v == big else v for v in assign], dtype=np.int64), ang


_Recovery = _capi.ovica_recovery


def recovery(A_learned, A_true, use_sign=False, threshold_deg=3.0, S=None):
    """Recovery of a true basis (both (m, n) with atoms in columns): a dict
    with max_angle_deg, mean_angle_deg, mmcs, recovered, dead."""
    a, pa = as_input(A_learned, "A_learned")
    t, pt = as_input(A_true, "A_true")
    rec = _Recovery()  # version: OVICA_RECOVERY_VERSION
    if S is not None:
        s, ps = as_input(S, "S", cols=a.shape[1])
        N = s.shape[0]
    else:
        ps, N = None, 0
    check(F.ovica_recovery_eval(pa, a.shape[0], a.shape[1], pt, t.shape[1],
                                int(bool(use_sign)), float(threshold_deg), ps, N,
                                ctypes.byref(rec)),
          "ovica_recovery_eval")
    return {f: getattr(rec, f) for f, _ in rec._fields_ if f != "version"}


# --- likelihood ----------------------------------------------------------------------


def loglik_beta_default(prior):
    return F.ovica_loglik_beta_default(prior._ptr())


def _beta(model, beta):
    if beta is None:
        return F.ovica_loglik_beta_default(F.ovica_model_prior(model._ptr()))
    return float(beta)


def loglik(model, X, beta=None):
    """Per-sample log P(x|A) in nats by the Laplace approximation
    (ovica_loglik_laplace). A MAP code that missed its tolerance gives a
    ConvergenceWarning."""
    import warnings
    x, px = as_input(X, "X", cols=model.m)
    out = np.empty(x.shape[0])
    _lib.clear_pending()
    st = check(F.ovica_loglik_laplace(model._ptr(), px, x.shape[0], x.shape[1],
                                      _beta(model, beta), ptr(out), None),
               "ovica_loglik_laplace")
    if st == _lib.NOT_CONVERGED:
        warnings.warn("ovica_loglik_laplace: " + _lib.error_message(), _lib.ConvergenceWarning,
                      stacklevel=2)
    return out


def loglik_codes(model, X, S, beta=None):
    """Per-sample Laplace approximation at given MAP codes (ovica_loglik_codes)."""
    x, px = as_input(X, "X", cols=model.m)
    s, ps = as_input(S, "S", cols=model.n)
    out = np.empty(x.shape[0])
    _lib.clear_pending()
    check(F.ovica_loglik_codes(model._ptr(), px, x.shape[0], x.shape[1], ps, s.shape[1],
                               _beta(model, beta), ptr(out), None), "ovica_loglik_codes")
    return out


def loglik_importance(model, X, draws=10000, seed=0):
    """Importance-sampling estimate: (per-sample values, mean, standard error)."""
    x, px = as_input(X, "X", cols=model.m)
    out = np.empty(x.shape[0])
    mean, se = ctypes.c_double(), ctypes.c_double()
    check(F.ovica_loglik_importance(model._ptr(), px, x.shape[0], x.shape[1], int(draws),
                                    ctypes.c_uint64(int(seed)), ptr(out), ctypes.byref(mean),
                                    ctypes.byref(se)), "ovica_loglik_importance")
    return out, mean.value, se.value


def atom_usage(model, X):
    """Mean amplitude each atom contributes on X (ovica_atoms_usage): n values."""
    x, px = as_input(X, "X", cols=model.m)
    out = np.empty(model.n)
    _lib.clear_pending()
    check(_lib.optional("ovica_atoms_usage")(model._ptr(), px, x.shape[0], x.shape[1],
                                             ptr(out), out.size), "ovica_atoms_usage")
    return out


def bits_per_dim(mean_loglik, m, quantum):
    v = ctypes.c_double()
    check(F.ovica_loglik_bits(float(mean_loglik), int(m), float(quantum), ctypes.byref(v)),
          "ovica_loglik_bits")
    return v.value


def cluster_atoms(A, k, weights=None, use_sign=False, seed=0):
    """Weighted spherical k-means of the atoms (columns of A): returns
    (merged (m, k) unit atoms, assign (n,), -1 for a zero atom)."""
    a, pa = as_input(A, "A")
    m, n = a.shape
    if weights is not None:
        w, pw = as_input(weights, "weights", ndim=1)
    else:
        pw = None
    merged = np.empty((m, int(k)))
    assign = (ctypes.c_size_t * n)()
    check(F.ovica_atoms_cluster(pa, m, n, pw, int(k), int(bool(use_sign)),
                                ctypes.c_uint64(int(seed)), ptr(merged), assign),
          "ovica_atoms_cluster")
    big = ctypes.c_size_t(-1).value
    return merged, np.array([-1 if v == big else v for v in assign], dtype=np.int64)


def merge_model(model, X, k, seed=0):
    """Merges an over-provisioned model to k atoms and refits them on X
    (ovica_model_merge: usage-weighted clustering of the atoms, then a model
    of k atoms trained with the library's defaults from the merged start).
    Returns (the merged Model, assign (n,): each atom's cluster, -1 for a
    zero atom)."""
    x, px = as_input(X, "X", cols=model.m)
    n = model.n
    assign = (ctypes.c_size_t * n)()
    _lib.clear_pending()
    h = _new(F.ovica_model_merge, "ovica_model_merge", model._ptr(), px, x.shape[0], x.shape[1],
             int(k), ctypes.c_uint64(int(seed)), assign)
    big = ctypes.c_size_t(-1).value
    return (Model(_handle=h, _keep=model._keep),
            np.array([-1 if v == big else v for v in assign], dtype=np.int64))


# --- .npy files ------------------------------------------------------------------------


def npy_read(path):
    """Reads a 2-D .npy file with the library's reader (float64, C order)."""
    r, c = ctypes.c_size_t(), ctypes.c_size_t()
    p = _path(path)
    check(F.ovica_npy_info(p, ctypes.byref(r), ctypes.byref(c)), "ovica_npy_info")
    out = np.empty((r.value, c.value))
    check(F.ovica_npy_read_into(p, ptr(out), r.value, c.value), "ovica_npy_read_into")
    return out


def npy_write(path, data):
    """Writes a 2-D array as a float64 .npy file, atomically."""
    a, pa = as_input(data, "data")
    check(F.ovica_npy_write(_path(path), pa, a.shape[0], a.shape[1]), "ovica_npy_write")
