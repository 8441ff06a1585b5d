#!/bin/sh
# What a user installs, used from outside the source tree:
#  1. `pip install` of the binding (bindings/python, pyproject.toml) into a
#     fresh virtual environment (python3 -m venv --system-site-packages, so
#     numpy comes from the system), offline (--no-build-isolation --no-index);
#     then `import ovica` and a small fit in a scratch directory, with the
#     library found through OVICA_LIBRARY and through LD_LIBRARY_PATH (the
#     search of an installed library);
#  2. `make install DESTDIR=<scratch> PYTHON_INSTALL=1`: the library, headers,
#     .pc file, the ovica program and the Python package land under DESTDIR,
#     and the program and the package work from there.
# Usage: sh tests/python_install.sh PYTHON MAKE     (run by `make check-python`)
set -u
PYTHON=${1:?usage: python_install.sh PYTHON MAKE}
MAKE=${2:-make}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/lib
T=$(mktemp -d "${TMPDIR:-/tmp}/ovica_install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1
unset PYTHONPATH OVICA_LIBRARY
passed=0; failed=0
ok()  { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "check-install: SKIPPED: $PYTHON has no venv/ensurepip (Debian: python3-venv)"; exit 0
fi

FIT='
import os, sys
import numpy as np
import ovica
here = os.path.realpath(ovica.__file__)
assert here.startswith(os.path.realpath(sys.argv[1])), "ovica imported from %s" % here
X, A, _ = ovica.make_2d_data("regular3", "exponential", n_samples=1000, seed=1)
est = ovica.OvercompleteICA(3, prior="exponential", max_steps=40, random_state=1).fit(X)
assert est.components_.shape == (3, 2) and est.n_iter_ == 40
print("ovica %s from %s, library %s (%s), score %.3f" % (
    ovica.__version__, os.path.dirname(here), ovica.library_path, ovica.library_origin, est.score(X)))
'

# --- 1. pip install into a fresh virtual environment ------------------------------
if "$PYTHON" -m venv --system-site-packages "$T/venv" > "$T/venv.log" 2>&1; then ok; else
  bad "python3 -m venv failed"; cat "$T/venv.log"; fi
if "$T/venv/bin/python" -m pip install --no-build-isolation --no-deps --no-index --quiet \
     "$ROOT/bindings/python" > "$T/pip.log" 2>&1; then ok; else
  bad "pip install ./bindings/python failed"; tail -n 20 "$T/pip.log"; fi
rm -rf "$ROOT/bindings/python/build" "$ROOT/bindings/python/ovica.egg-info"
mkdir -p "$T/work"
cd "$T/work" || exit 1
if OVICA_LIBRARY="$LIB/libovica.so.0" "$T/venv/bin/python" -c "$FIT" "$T/venv" > fit.txt 2>&1; then
  ok; echo "check-install: venv: $(cat fit.txt)"
else bad "import ovica + fit in the venv (OVICA_LIBRARY) failed"; cat fit.txt; fi
if LD_LIBRARY_PATH="$LIB" "$T/venv/bin/python" -c "$FIT" "$T/venv" > fit2.txt 2>&1 &&
   grep -q "(installed)" fit2.txt; then ok
else bad "import ovica in the venv through LD_LIBRARY_PATH failed"; cat fit2.txt; fi
if "$T/venv/bin/python" -m pip show ovica 2>/dev/null | grep -q '^Version: '; then ok; else
  bad "pip does not list ovica"; fi
# without any way to find the library: a clear ImportError naming OVICA_LIBRARY
if env -u LD_LIBRARY_PATH "$T/venv/bin/python" -c 'import ovica' > noimp.txt 2>&1; then
  # (an installed libovica on the system's path is also a correct answer)
  if "$T/venv/bin/python" -c 'import ovica; assert ovica.library_origin in ("installed", "find_library")' \
       >/dev/null 2>&1; then ok; else bad "ovica found a library it should not"; fi
elif grep -q "OVICA_LIBRARY" noimp.txt; then ok; else bad "the ImportError does not say what to do"; cat noimp.txt; fi

# --- 2. make install DESTDIR=... PYTHON_INSTALL=1 ---------------------------------
D="$T/root"
if (cd "$ROOT" && $MAKE --no-print-directory install DESTDIR="$D" PYTHON_INSTALL=1 \
      PYTHON="$PYTHON") > "$T/install.log" 2>&1; then ok; else
  bad "make install DESTDIR=... PYTHON_INSTALL=1 failed"; tail -n 20 "$T/install.log"; fi
P=$(sed -n 's/^PREFIX *?= *//p' "$ROOT/Makefile" | head -n 1)
for f in "$P/bin/ovica" "$P/lib/libovica.so.0" "$P/lib/libovica.a" "$P/include/ovica.h" \
         "$P/lib/pkgconfig/libovica.pc"; do
  if [ -e "$D$f" ]; then ok; else bad "make install did not install $f"; fi
done
if LD_LIBRARY_PATH="$D$P/lib" "$D$P/bin/ovica" version > v.txt 2>&1 && grep -q libovica v.txt; then ok
else bad "the installed ovica program does not run"; cat v.txt; fi
if LD_LIBRARY_PATH="$D$P/lib" "$D$P/bin/ovica" synth --samples 500 --out x.npy --quiet &&
   LD_LIBRARY_PATH="$D$P/lib" "$D$P/bin/ovica" train --data x.npy --atoms 3 --steps 10 \
     --out m.ovm --quiet && [ -s m.ovm ]; then ok
else bad "the installed ovica program cannot synth and train"; fi
pkg=$(find "$D" -name __init__.py -path '*/ovica/__init__.py' | head -n 1)
if [ -n "$pkg" ]; then
  ok
  site=$(dirname "$(dirname "$pkg")")
  if PYTHONPATH="$site" OVICA_LIBRARY="$D$P/lib/libovica.so.0" "$PYTHON" -c "$FIT" "$site" \
       > fit3.txt 2>&1; then ok; echo "check-install: DESTDIR: $(cat fit3.txt)"
  else bad "the package installed by make install does not import and fit"; cat fit3.txt; fi
else
  bad "make install PYTHON_INSTALL=1 did not install the Python package"
fi
if (cd "$ROOT" && $MAKE --no-print-directory uninstall DESTDIR="$D") > "$T/uninstall.log" 2>&1 &&
   [ ! -e "$D$P/bin/ovica" ] && [ ! -e "$D$P/lib/libovica.so.0" ]; then ok
else bad "make uninstall left files"; fi

echo "check-install: $passed passed, $failed failed"
[ $failed -eq 0 ]
