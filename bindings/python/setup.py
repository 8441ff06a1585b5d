"""The package's version for pyproject.toml (dynamic): the C library's,
read from include/ovica/version.h at the top of the source tree (the only
place it lives), or from PKG-INFO when building from an sdist."""
import os
import re

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def version():
    h = os.environ.get("OVICA_VERSION_H") or os.path.join(HERE, "..", "..", "include", "ovica",
                                                           "version.h")
    if os.path.exists(h):
        text = open(h).read()
        parts = [re.search(r"#define OVICA_VERSION_%s (\d+)" % k, text) for k in
                 ("MAJOR", "MINOR", "PATCH")]
        if all(parts):
            return ".".join(p.group(1) for p in parts)
    info = os.path.join(HERE, "PKG-INFO")
    if os.path.exists(info):
        m = re.search(r"^Version: (\S+)", open(info).read(), re.M)
        if m:
            return m.group(1)
    raise RuntimeError("ovica: cannot find include/ovica/version.h (set OVICA_VERSION_H)")


setup(version=version())
