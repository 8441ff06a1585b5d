"""Shared helpers of the binding's tests."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYROOT = os.path.dirname(HERE)  # bindings/python
sys.path.insert(0, PYROOT)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import ovica  # noqa: E402

# The source tree when the library is the in-tree build (lib/ at the root).
TREE = os.path.dirname(os.path.dirname(ovica.library_path)) \
    if ovica.library_origin == "in-tree" else None
CC = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def compile_c(src, out, shared=False, link_ovica=True):
    """Compiles a test C program against include/ and the in-tree lib/."""
    cmd = [CC, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", src, "-o", out]
    if shared:
        cmd[1:1] = ["-shared", "-fPIC"]
    if link_ovica:
        cmd += ["-I" + os.path.join(TREE, "include"), "-L" + os.path.join(TREE, "lib"),
                "-Wl,-rpath," + os.path.join(TREE, "lib"), "-lovica"]
    subprocess.run(cmd, check=True)
    return out


def run_python(code, env=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = PYROOT
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
