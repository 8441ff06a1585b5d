"""Loading libovica with ctypes: where the library is found, the version
check, the binding of every public function with the prototypes generated
from the headers (_capi.py), errors as exceptions, and the passing of numpy
arrays.

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

from . import _capi

#: Major version of the C ABI this binding declares (include/ovica/version.h,
#: through the generated _capi.py).
ABI_MAJOR = _capi.OVICA_VERSION_MAJOR

c_double_p = ctypes.POINTER(ctypes.c_double)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_void_pp = ctypes.POINTER(ctypes.c_void_p)

# Status codes (enum ovica_status; values frozen by the ABI), from _capi.py.
OK = _capi.OVICA_OK
DONE = _capi.OVICA_DONE
NOT_CONVERGED = _capi.OVICA_NOT_CONVERGED
ENOMEM = _capi.OVICA_ENOMEM
EINVAL = _capi.OVICA_EINVAL
ESIZE = _capi.OVICA_ESIZE
ENONFINITE = _capi.OVICA_ENONFINITE
EDOMAIN = _capi.OVICA_EDOMAIN
ENOTSUP = _capi.OVICA_ENOTSUP
EUSER = _capi.OVICA_EUSER
ENUMERIC = _capi.OVICA_ENUMERIC
EIO = _capi.OVICA_EIO
EFORMAT = _capi.OVICA_EFORMAT
EVERSION = _capi.OVICA_EVERSION
ESTATE = _capi.OVICA_ESTATE


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
# Every prototype, constant and struct comes from _capi.py, which
# bindings/python/tools/gen_capi.py generates from include/ovica/*.h
# (`make gen-binding`; `make check-binding` fails when it is stale). Every
# OVICA_API function the loaded library exports is bound on F with its
# argtypes/restype, experimental ones (ovica/debug.h) included; a function
# the loaded library lacks (an older library) is absent from F, and
# optional() / F.<name> then raise MissingFunctionError.

#: the generated description of the C API (prototypes, enums, #defines, structs)
capi = _capi


class MissingFunctionError(AttributeError, NotImplementedError):
    """A function of the headers that the loaded library does not export."""


class _Funcs:
    """The library's functions with their prototypes set, as attributes.

    Every call the binding makes goes through this table (``F.<name>``), so
    that a test can put a recording wrapper in front of one function."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _capi.FUNCTIONS:
            raise MissingFunctionError("%s is not in %s (libovica %s)" % (name, path, version))
        raise AttributeError("%s is not a libovica function (ovica/_capi.py)" % name)


F = _Funcs()
#: names of the header's functions that the loaded library lacks
missing = []
for _name, _spec in _capi.FUNCTIONS.items():
    try:
        _fn = getattr(lib, _name)
    except AttributeError:
        missing.append(_name)
        continue
    _fn.restype = _spec.restype
    _fn.argtypes = list(_spec.argtypes)
    setattr(F, _name, _fn)
missing = tuple(missing)


def optional(name):
    """The function `name`, or NotImplementedError (MissingFunctionError) if
    the loaded library predates it."""
    return getattr(F, name)


def has(name):
    """Whether the loaded library exports the function `name`."""
    return name in F.__dict__


def data(name):
    """The value of an exported datum (DATA of _capi.py: the type objects,
    e.g. ``data("ovica_solver_fista")``) as an int pointer."""
    spec = _capi.DATA[name]
    return spec.ctype.in_dll(lib, name).value


def enum_names(enum, prefix=None):
    """{lower-case name without the common prefix: value} of an enum of the
    headers, e.g. enum_names("ovica_solver_param") -> {"max_iter": 0, ...}."""
    items = _capi.ENUMS[enum].items
    if prefix is None:
        prefix = os.path.commonprefix([n for n, _ in items])
        prefix = prefix[:prefix.rfind("_") + 1]
    return {n[len(prefix):].lower(): v for n, v in items}


# The parameter tables' functions (added by the parameter-table work; used
# when the loaded library exports them). Spelled out so that the
# reachability test (tests/test_capi.py) sees them used.
_PARAM_FUNCS = {
    "solver": ("ovica_solver_param_count", "ovica_solver_param_name"),
    "sampler": ("ovica_sampler_param_count", "ovica_sampler_param_name"),
    "trainer": ("ovica_trainer_param_count", "ovica_trainer_param_name"),
}


def param_table(kind, enum):
    """Parameter names of a handle type ("solver", "sampler", "trainer") ->
    their ids: from the library (ovica_<kind>_param_count/_name) when it has
    them, else from the enum of the headers (_capi.py)."""
    count, name = _PARAM_FUNCS[kind]
    if has(count) and has(name):
        out = {}
        for i in range(getattr(F, count)()):
            nm = getattr(F, name)(i)
            if isinstance(nm, bytes):
                nm = nm.decode()
            if nm:
                out[nm.lower()] = i
        return out
    return enum_names(enum)


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


def _ctype_ptr(dtype):
    return c_float_p if np.dtype(dtype) == np.float32 else c_double_p


def as_input(x, name, ndim=2, cols=None, dtype=np.float64):
    """A C-contiguous view of x in dtype (float64, or float32 for the
    single-precision entry points): x itself when it already has that
    layout (no copy), otherwise a converted copy. Returns (array, pointer)."""
    a = np.asarray(x)
    if a.dtype != dtype or not a.flags.c_contiguous or not a.flags.aligned:
        a = np.ascontiguousarray(a, dtype=dtype)
    if a.ndim != ndim:
        raise ValueError("%s must be a %d-D array, got shape %s" % (name, ndim, a.shape))
    if cols is not None and a.shape[-1] != cols:
        raise ValueError("%s must have %d columns, got shape %s" % (name, cols, a.shape))
    return a, a.ctypes.data_as(_ctype_ptr(dtype))


def as_output(out, shape, name, dtype=np.float64):
    """Checks a caller-supplied output array (dtype, C-contiguous, writable,
    of the given shape) or allocates one. Returns (array, pointer)."""
    if out is None:
        out = np.empty(shape, dtype=dtype)
    else:
        if not isinstance(out, np.ndarray) or out.dtype != dtype or \
                not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("%s must be a writable C-contiguous %s array"
                             % (name, np.dtype(dtype).name))
        if out.shape != tuple(shape):
            raise ValueError("%s must have shape %s, got %s" % (name, tuple(shape), out.shape))
    return out, out.ctypes.data_as(_ctype_ptr(dtype))


def ptr(a):
    return a.ctypes.data_as(c_double_p)
