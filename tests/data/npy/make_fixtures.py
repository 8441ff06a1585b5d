#!/usr/bin/python3
"""Writes the .npy fixtures of tests/check_npy.c (test_numpy_fixtures) with
numpy's own writer (np.save, np.lib.format.write_array), so that the
library's reader is tested on files numpy really writes, not only on the
images the suite builds byte by byte.

    /usr/bin/python3 tests/data/npy/make_fixtures.py     # Debian's numpy

The files are committed; neither `make check` nor CI runs this script. It
writes the same bytes on every run (for a given numpy version; these were
written by numpy 1.24). Each file is < 1 KiB.

Values: element (i, j) of an R x C array is i * 0.5 - j * 0.25 + 1/3,
computed in float64 in that order (as the C test recomputes it), then cast
by numpy to the file's dtype (float32: round to nearest).

Accepted (2-D float32/float64):
  f8_c.npy         '<f8', C order, 4 x 3
  f4_c.npy         '<f4', C order, 4 x 3
  f8_be.npy        '>f8', C order, 4 x 3
  f4_be.npy        '>f4', C order, 4 x 3
  f8_fortran.npy   '<f8', Fortran order, 4 x 3
  f4_fortran.npy   '<f4', Fortran order, 4 x 3
  f8_v2.npy        '<f8', C order, 4 x 3, format version 2.0
  f8_v3.npy        '<f8', C order, 4 x 3, format version 3.0
  f8_row.npy       '<f8', 1 x 5
  f8_col.npy       '<f8', 5 x 1
Refused (OVICA_EFORMAT):
  bad_i8.npy       '<i8', 4 x 3 (integers)
  bad_f2.npy       '<f2', 4 x 3 (half precision)
  bad_1d.npy       '<f8', shape (5,)
  bad_3d.npy       '<f8', shape (2, 3, 2)
  bad_empty.npy    '<f8', shape (0, 3)
  bad_object.npy   '|O', 4 x 3 (a pickle, np.save(allow_pickle=True))
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def values(rows, cols):
    i = np.arange(rows, dtype=np.float64)[:, None]
    j = np.arange(cols, dtype=np.float64)[None, :]
    return i * 0.5 - j * 0.25 + 1.0 / 3.0


def save(name, arr, version=None, allow_pickle=False):
    path = os.path.join(HERE, name)
    if version is None:
        np.save(path, arr, allow_pickle=allow_pickle)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=allow_pickle)
    size = os.path.getsize(path)
    assert size < 1024, (name, size)
    # what numpy reads back is what was meant
    back = np.load(path, allow_pickle=allow_pickle)
    assert back.dtype == arr.dtype and back.shape == arr.shape, name
    if arr.dtype != object:
        assert np.array_equal(back, arr), name
    print("%-16s %-6s %-12s %s %4d bytes" % (name, arr.dtype.str, arr.shape,
                                             "F" if np.isfortran(arr) else "C", size))


def main():
    x = values(4, 3)
    save("f8_c.npy", x.astype("<f8"))
    save("f4_c.npy", x.astype("<f4"))
    save("f8_be.npy", x.astype(">f8"))
    save("f4_be.npy", x.astype(">f4"))
    save("f8_fortran.npy", np.asfortranarray(x.astype("<f8")))
    save("f4_fortran.npy", np.asfortranarray(x.astype("<f4")))
    save("f8_v2.npy", x.astype("<f8"), version=(2, 0))
    save("f8_v3.npy", x.astype("<f8"), version=(3, 0))
    save("f8_row.npy", values(1, 5))
    save("f8_col.npy", values(5, 1))

    save("bad_i8.npy", np.arange(12, dtype="<i8").reshape(4, 3))
    save("bad_f2.npy", x.astype("<f2"))
    save("bad_1d.npy", values(1, 5).reshape(5))
    save("bad_3d.npy", values(6, 2).reshape(2, 3, 2))
    save("bad_empty.npy", values(0, 3))
    obj = np.empty((4, 3), dtype=object)
    for i in range(4):
        for j in range(3):
            obj[i, j] = float(x[i, j])
    save("bad_object.npy", obj, allow_pickle=True)


if __name__ == "__main__":
    main()
