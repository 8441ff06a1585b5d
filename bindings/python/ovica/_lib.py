"""Loading libovica with ctypes: where the library is found, the prototypes
of the functions the binding calls, the version check, errors as exceptions,
and the passing of numpy arrays.

Search order for the shared library (the first that loads wins):

1. the environment variable ``OVICA_LIBRARY``: a path to ``libovica.so*``
   (when set, nothing else is tried);
2. the in-tree build: ``lib/libovica.so.<MAJOR>`` at the root of the source
   tree that holds this package (``bindings/python/ovica`` -> ``../../..``),
   i.e. what ``make`` leaves there;
3. an installed library: ``libovica.so.<MAJOR>`` through the dynamic
   linker's search path (``ldconfig``, ``LD_LIBRARY_PATH``), then whatever
   ``ctypes.util.find_library("ovica")`` names.

The library's major version must equal :data:`ABI_MAJOR`, the version whose
ABI this binding was written for; a library of another major version raises
ImportError at ``import ovica``.
"""

import ctypes
import ctypes.util
import os
import threading

import numpy as np

#: Major version of the C ABI this binding declares (include/ovica/version.h).
ABI_MAJOR = 0

c_double_p = ctypes.POINTER(ctypes.c_double)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_void_pp = ctypes.POINTER(ctypes.c_void_p)

# Status codes (enum ovica_status; values frozen by the ABI).
OK = 0
DONE = 1
NOT_CONVERGED = 2
ENOMEM = -1
EINVAL = -2
ESIZE = -3
ENONFINITE = -4
EDOMAIN = -5
ENOTSUP = -6
EUSER = -7
ENUMERIC = -8
EIO = -9
EFORMAT = -10
EVERSION = -11
ESTATE = -12


def _candidates():
    env = os.environ.get("OVICA_LIBRARY")
    if env:
        return [("OVICA_LIBRARY", env)], True
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    soname = "libovica.so.%d" % ABI_MAJOR
    out = [("in-tree", os.path.join(root, "lib", soname))]
    out.append(("installed", soname))
    found = ctypes.util.find_library("ovica")
    if found:
        out.append(("find_library", found))
    return out, False


def _load():
    cands, explicit = _candidates()
    errors = []
    for origin, path in cands:
        if origin == "in-tree" and not os.path.exists(path):
            errors.append("%s: %s does not exist (run `make` at the top of the tree)" % (origin, path))
            continue
        try:
            return ctypes.CDLL(path), path, origin
        except OSError as e:
            errors.append("%s: %s" % (origin, e))
    raise ImportError("ovica: cannot load libovica (%s)%s" % (
        "; ".join(errors),
        "" if explicit else "; set OVICA_LIBRARY to the library's path"))


lib, path, origin = _load()

# The version first, before any other symbol is looked up: a library of
# another major version may lack some of them.
lib.ovica_version_number.restype = ctypes.c_int
lib.ovica_version_number.argtypes = []
lib.ovica_version_string.restype = ctypes.c_char_p
lib.ovica_version_string.argtypes = []
version_number = lib.ovica_version_number()
version = lib.ovica_version_string().decode()
if version_number // 10000 != ABI_MAJOR:
    raise ImportError(
        "ovica: %s is libovica %s (major %d); this binding needs major version %d"
        % (path, version, version_number // 10000, ABI_MAJOR))

# --- prototypes ---------------------------------------------------------------
# (name, restype, argtypes). Only what the binding calls.
_V = ctypes.c_void_p
_D = ctypes.c_double
_Z = ctypes.c_size_t
_I = ctypes.c_int
_U64 = ctypes.c_uint64
_S = ctypes.c_char_p
_DP = c_double_p

_PROTOS = [
    ("ovica_version_number", _I, []),
    ("ovica_version_string", _S, []),
    ("ovica_strerror", _S, [_I]),
    ("ovica_error_message", _S, []),
    ("ovica_error_last", _I, []),
    ("ovica_error_clear", None, []),
    ("ovica_free", None, [_V]),
    # prior
    ("ovica_prior_laplace_new", _I, [c_void_pp, _D]),
    ("ovica_prior_exponential_new", _I, [c_void_pp, _D]),
    ("ovica_prior_user_new", _I, [c_void_pp, _V, _V]),
    ("ovica_prior_clone", _I, [c_void_pp, _V]),
    ("ovica_prior_free", None, [_V]),
    ("ovica_prior_kind", _I, [_V]),
    ("ovica_prior_domain", _I, [_V]),
    ("ovica_prior_name", _S, [_V]),
    ("ovica_prior_scale", _I, [_V, _DP]),
    ("ovica_prior_has_prox", _I, [_V]),
    ("ovica_prior_neglogp", _I, [_V, _DP, _Z, _DP]),
    ("ovica_prior_grad", _I, [_V, _DP, _Z, _DP]),
    ("ovica_prior_prox", _I, [_V, _DP, _Z, _D, _DP]),
    ("ovica_prior_curvature", _I, [_V, _DP, _Z, _DP]),
    # model
    ("ovica_model_new", _I, [c_void_pp, _Z, _Z, _V, _D]),
    ("ovica_model_clone", _I, [c_void_pp, _V]),
    ("ovica_model_free", None, [_V]),
    ("ovica_model_dim", _Z, [_V]),
    ("ovica_model_atoms", _Z, [_V]),
    ("ovica_model_set_basis", _I, [_V, _DP, _Z, _Z]),
    ("ovica_model_get_basis", _I, [_V, _DP, _Z, _Z]),
    ("ovica_model_sigma", _D, [_V]),
    ("ovica_model_set_sigma", _I, [_V, _D]),
    ("ovica_model_prior", _V, [_V]),
    ("ovica_model_set_prior", _I, [_V, _V]),
    ("ovica_model_lipschitz", _I, [_V, _DP]),
    ("ovica_model_objective", _I, [_V, _DP, _Z, _Z, _DP, _Z, _DP, _DP]),
    ("ovica_model_optimality", _I, [_V, _DP, _Z, _Z, _DP, _Z, _DP]),
    # solver
    ("ovica_solver_type_find", _V, [_S]),
    ("ovica_solver_type_name", _S, [_V]),
    ("ovica_solver_type_count", _Z, []),
    ("ovica_solver_type_at", _V, [_Z]),
    ("ovica_solver_new", _I, [c_void_pp, _V]),
    ("ovica_solver_free", None, [_V]),
    ("ovica_solver_get_type", _V, [_V]),
    ("ovica_solver_set_param", _I, [_V, _I, _D]),
    ("ovica_solver_get_param", _I, [_V, _I, _DP]),
    ("ovica_solver_infer", _I, [_V, _V, _DP, _Z, _Z, _DP, _Z, _V]),
    # sampler
    ("ovica_sampler_new", _I, [c_void_pp, _U64]),
    ("ovica_sampler_free", None, [_V]),
    ("ovica_sampler_set_param", _I, [_V, _I, _D]),
    ("ovica_sampler_get_param", _I, [_V, _I, _DP]),
    ("ovica_sampler_run", _I, [_V, _V, _D, _DP, _Z, _Z, _DP, _Z, _Z, _V]),
    # rule, trainer
    ("ovica_rule_type_find", _V, [_S]),
    ("ovica_rule_type_name", _S, [_V]),
    ("ovica_rule_type_count", _Z, []),
    ("ovica_rule_type_at", _V, [_Z]),
    ("ovica_rule_type_uses_draws", _I, [_V]),
    ("ovica_trainer_new", _I, [c_void_pp, _V, _V, _U64]),
    ("ovica_trainer_free", None, [_V]),
    ("ovica_trainer_set_param", _I, [_V, _I, _D]),
    ("ovica_trainer_get_param", _I, [_V, _I, _DP]),
    ("ovica_trainer_param_bounds", _I, [_I, _DP, _DP]),
    ("ovica_trainer_rule", _V, [_V]),
    ("ovica_trainer_set_solver", _I, [_V, _V]),
    ("ovica_trainer_set_lr_schedule", _I, [_V, _V, _V]),
    ("ovica_trainer_set_sigma_schedule", _I, [_V, _V, _V]),
    ("ovica_trainer_init_basis", _I, [_V, _I, _DP, _Z, _Z]),
    ("ovica_trainer_set_monitor", _I, [_V, _DP, _Z, _Z]),
    ("ovica_trainer_step", _I, [_V, _DP, _Z, _Z, _V]),
    ("ovica_trainer_accumulate", _I, [_V, _DP, _Z, _Z]),
    ("ovica_trainer_apply", _I, [_V, _V]),
    ("ovica_trainer_clear_stats", _I, [_V]),
    ("ovica_trainer_stats_size", _Z, [_V]),
    ("ovica_trainer_stats_export", _I, [_V, _DP, _Z]),
    ("ovica_trainer_stats_import", _I, [_V, _DP, _Z]),
    ("ovica_trainer_model", _V, [_V]),
    ("ovica_trainer_set_basis", _I, [_V, _DP, _Z, _Z]),
    ("ovica_trainer_best_basis", _I, [_V, _DP, _Z, _Z, _DP]),
    ("ovica_trainer_restore_best", _I, [_V]),
    ("ovica_trainer_step_index", _Z, [_V]),
    ("ovica_trainer_set_step_index", _I, [_V, _Z]),
    ("ovica_trainer_atom_usage", _I, [_V, _DP, _Z]),
    ("ovica_trainer_regime", _I, [_V]),
    ("ovica_trainer_set_regime", _I, [_V, _I, _I]),
    # model files and checkpoints
    ("ovica_model_save", _I, [_V, _S]),
    ("ovica_model_load", _I, [c_void_pp, _S]),
    ("ovica_model_save_buffer", _I, [_V, c_void_pp, c_size_t_p]),
    ("ovica_model_load_buffer", _I, [c_void_pp, _V, _Z]),
    ("ovica_checkpoint_save", _I, [_V, _S]),
    ("ovica_checkpoint_load", _I, [c_void_pp, _S]),
    # npy
    ("ovica_npy_info", _I, [_S, c_size_t_p, c_size_t_p]),
    ("ovica_npy_read_into", _I, [_S, _DP, _Z, _Z]),
    ("ovica_npy_write", _I, [_S, _DP, _Z, _Z]),
    # eval
    ("ovica_loglik_beta_default", _D, [_V]),
    ("ovica_loglik_codes", _I, [_V, _DP, _Z, _Z, _DP, _Z, _D, _DP, _DP]),
    ("ovica_loglik", _I, [_V, _DP, _Z, _Z, _D, _DP, _DP]),
    ("ovica_loglik_importance", _I, [_V, _DP, _Z, _Z, _Z, _U64, _DP, _DP, _DP]),
    ("ovica_bits_per_dim", _I, [_D, _Z, _D, _DP]),
    ("ovica_cluster_atoms", _I, [_DP, _Z, _Z, _DP, _Z, _I, _U64, _DP, c_size_t_p]),
    # rng, synth, metrics
    ("ovica_rng_new", _I, [c_void_pp, _U64]),
    ("ovica_rng_free", None, [_V]),
    ("ovica_rng_uniform", _D, [_V]),
    ("ovica_rng_fill_normal", _I, [_V, _DP, _Z]),
    ("ovica_synth_basis_2d", _I, [_I, _DP, _Z, _Z]),
    ("ovica_synth_random_basis", _I, [_V, _DP, _Z, _Z]),
    ("ovica_synth_sources", _I, [_V, _I, _D, _D, _DP, _Z, _Z]),
    ("ovica_synth_mix", _I, [_V, _DP, _Z, _Z, _DP, _Z, _D, _DP]),
    ("ovica_match_atoms", _I, [_DP, _Z, _Z, _DP, _Z, _I, c_size_t_p, _DP]),
    ("ovica_recovery_eval", _I, [_V, _DP, _Z, _Z, _DP, _Z, _I, _D, _DP, _Z]),
]


# Functions added after 0.1.0 was first published: bound when the loaded
# library has them (the wrappers then raise NotImplementedError otherwise).
_OPTIONAL = [
    ("ovica_trainer_set_sampler_seed", _I, [_V, _U64]),
    ("ovica_trainer_set_best", _I, [_V, _DP, _Z, _Z, _D]),
    ("ovica_atom_usage", _I, [_V, _DP, _Z, _Z, _DP, _Z]),
    ("ovica_checkpoint_save_buffer", _I, [_V, c_void_pp, c_size_t_p]),
    ("ovica_checkpoint_load_buffer", _I, [c_void_pp, _V, _Z]),
]


class _Funcs:
    """The library's functions with their prototypes set, as attributes.

    Every call the binding makes goes through this table (``F.<name>``), so
    that a test can put a recording wrapper in front of one function."""


F = _Funcs()
for _name, _res, _args in _PROTOS:
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args
    setattr(F, _name, _fn)
for _name, _res, _args in _OPTIONAL:
    if hasattr(lib, _name):
        _fn = getattr(lib, _name)
        _fn.restype = _res
        _fn.argtypes = _args
        setattr(F, _name, _fn)


def optional(name):
    """The optional function `name`, or NotImplementedError if the loaded
    library predates it."""
    fn = getattr(F, name, None)
    if fn is None:
        raise NotImplementedError("%s is not in %s (libovica %s)" % (name, path, version))
    return fn


# --- errors ---------------------------------------------------------------------


class OvicaError(Exception):
    """An error status returned by libovica.

    Attributes: ``status`` (the negative code), ``name`` (ovica_strerror of
    it), ``message`` (the library's detailed message, ovica_error_message),
    ``function`` (the C function that failed)."""

    def __init__(self, status, message, function=None):
        self.status = status
        self.name = strerror(status)
        self.message = message
        self.function = function
        text = "%s: %s" % (self.name, message) if message else self.name
        if function:
            text = "%s: %s" % (function, text)
        Exception.__init__(self, text)

    def __str__(self):
        return self.args[0]


class InvalidArgumentError(OvicaError, ValueError):
    """OVICA_EINVAL: a NULL pointer, an out-of-range parameter, a zero size."""


class SizeError(OvicaError, ValueError):
    """OVICA_ESIZE: sizes do not agree."""


class NonFiniteError(OvicaError, ValueError):
    """OVICA_ENONFINITE: NaN or infinity in the input."""


class DomainError(OvicaError, ValueError):
    """OVICA_EDOMAIN: a value outside the prior's domain."""


class NotSupportedError(OvicaError, NotImplementedError):
    """OVICA_ENOTSUP: the operation is not supported by this object."""


class CallbackError(OvicaError, RuntimeError):
    """OVICA_EUSER: a user callback stopped the computation."""


class NumericalError(OvicaError, ArithmeticError):
    """OVICA_ENUMERIC: a factorisation failed, divergence."""


class OvicaIOError(OvicaError, OSError):
    """OVICA_EIO: a file could not be opened, read, written or renamed."""


class FormatError(OvicaError, ValueError):
    """OVICA_EFORMAT: a corrupt, truncated or unsupported file."""


class VersionError(OvicaError, ValueError):
    """OVICA_EVERSION: a struct or file of a version this library does not know."""


class StateError(OvicaError, RuntimeError):
    """OVICA_ESTATE: the call is not valid in the object's current state."""


class OvicaMemoryError(OvicaError, MemoryError):
    """OVICA_ENOMEM: the library ran out of memory."""


_ERRORS = {
    ENOMEM: OvicaMemoryError, EINVAL: InvalidArgumentError, ESIZE: SizeError,
    ENONFINITE: NonFiniteError, EDOMAIN: DomainError, ENOTSUP: NotSupportedError,
    EUSER: CallbackError, ENUMERIC: NumericalError, EIO: OvicaIOError,
    EFORMAT: FormatError, EVERSION: VersionError, ESTATE: StateError,
}


class ConvergenceWarning(UserWarning):
    """An iterative computation hit its iteration limit (OVICA_NOT_CONVERGED)."""


def strerror(status):
    return F.ovica_strerror(int(status)).decode("utf-8", "replace")


def error_message():
    return F.ovica_error_message().decode("utf-8", "replace")


def make_error(status, function=None):
    cls = _ERRORS.get(status, OvicaError)
    return cls(status, error_message(), function)


def check(status, function=None):
    """Raises the exception of a negative status; returns the status otherwise
    (0, or a positive informational code such as NOT_CONVERGED)."""
    if status < 0:
        pending = getattr(_pending, "exc", None)
        _pending.exc = None
        err = make_error(status, function)
        if pending is not None:
            raise err from pending
        raise err
    return status


# The exception raised inside a Python callback, re-raised (as the cause of
# the CallbackError) when the library call returns. Per thread: callbacks run
# in the thread that made the library call.
_pending = threading.local()


def callback_failed(exc):
    _pending.exc = exc


def clear_pending():
    _pending.exc = None


# --- arrays ----------------------------------------------------------------------


def as_input(x, name, ndim=2, cols=None):
    """A float64 C-contiguous view of x: x itself when it already has that
    layout (no copy), otherwise a converted copy. Returns (array, pointer)."""
    a = np.asarray(x)
    if a.dtype != np.float64 or not a.flags.c_contiguous or not a.flags.aligned:
        a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError("%s must be a %d-D array, got shape %s" % (name, ndim, a.shape))
    if cols is not None and a.shape[-1] != cols:
        raise ValueError("%s must have %d columns, got shape %s" % (name, cols, a.shape))
    return a, a.ctypes.data_as(c_double_p)


def as_output(out, shape, name):
    """Checks a caller-supplied output array (float64, C-contiguous, writable,
    of the given shape) or allocates one. Returns (array, pointer)."""
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    else:
        if not isinstance(out, np.ndarray) or out.dtype != np.float64 or \
                not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("%s must be a writable C-contiguous float64 array" % name)
        if out.shape != tuple(shape):
            raise ValueError("%s must have shape %s, got %s" % (name, tuple(shape), out.shape))
    return out, out.ctypes.data_as(c_double_p)


def ptr(a):
    return a.ctypes.data_as(c_double_p)
