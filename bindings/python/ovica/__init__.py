"""ovica: Python binding of libovica (overcomplete ICA after Lewicki &
Sejnowski), through ctypes: no compiled extension, numpy only.

    import ovica
    X, A_true, _ = ovica.make_2d_data("regular3", "exponential", 3000)
    est = ovica.OvercompleteICA(3, prior="exponential", max_steps=100,
                                random_state=1).fit(X)
    est.components_          # (3, 2): one atom per row
    S = est.transform(X)     # MAP codes
    est.score(X)             # mean log-likelihood, nats per sample

The shared library is found through OVICA_LIBRARY, then the in-tree build
(lib/ after `make`), then the installed one (see ovica._lib). Its major
version must match the binding's (checked at import). Every public C
function is also reachable raw as ovica.capi.<C name> (see ovica.capi).
"""

from ._lib import (ABI_MAJOR, ConvergenceWarning, OvicaError, InvalidArgumentError,
                   SizeError, NonFiniteError, DomainError, NotSupportedError,
                   CallbackError, NumericalError, OvicaIOError, FormatError, VersionError,
                   StateError, OvicaMemoryError, strerror, error_message)
from . import _lib
from . import capi  # the raw C API: every public function (ovica.capi.<C name>)
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .estimator import OvercompleteICA, sparse_encode

__version__ = _lib.version
#: Path of the shared library that was loaded, and how it was found.
library_path = _lib.path
library_origin = _lib.origin

__all__ = list(_core_all) + [
    "OvercompleteICA", "sparse_encode", "NotFittedError", "ConvergenceWarning", "OvicaError",
    "InvalidArgumentError", "SizeError", "NonFiniteError", "DomainError",
    "NotSupportedError", "CallbackError", "NumericalError", "OvicaIOError", "FormatError",
    "VersionError", "StateError", "OvicaMemoryError", "strerror", "error_message",
    "ABI_MAJOR", "library_path", "library_origin",
]


def __getattr__(name):
    # NotFittedError is scikit-learn's when it can be imported (imported on
    # first use, so that `import ovica` does not load scikit-learn)
    if name == "NotFittedError":
        from . import estimator
        return estimator._not_fitted_error()
    raise AttributeError("module 'ovica' has no attribute %r" % (name,))
