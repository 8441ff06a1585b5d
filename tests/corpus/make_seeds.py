#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/fuzz_*.c) into
tests/corpus/<target>/. Run from the repository root; only needed to
regenerate the seeds (the files are committed). Crash inputs found by
fuzzing go into the same directories under a name starting with "crash-"
and are then replayed by tests/check_corpus.c like every seed."""
import os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)))


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- .npy -------------------------------------------------------------------
def npy(descr, fortran, shape, values, major=1, quote="'", trailing=", ", suffix="",
        raw_header=None, data=None):
    if raw_header is None:
        q = quote
        sh = "(" + ", ".join(str(s) + suffix for s in shape) + ("," if len(shape) == 1 else "") + ")"
        d = "{%sdescr%s: %s%s%s, %sfortran_order%s: %s, %sshape%s: %s%s}" % (
            q, q, q, descr, q, q, q, "True" if fortran else "False", q, q, sh, trailing)
    else:
        d = raw_header
    lb = 2 if major == 1 else 4
    pre = 6 + 2 + lb
    total = pre + len(d) + 1
    pad = (64 - total % 64) % 64
    hdr = (d + " " * pad + "\n").encode("latin-1")
    out = b"\x93NUMPY" + bytes([major, 0]) + (struct.pack("<H", len(hdr)) if lb == 2
                                              else struct.pack("<I", len(hdr))) + hdr
    if data is None:
        kind = descr.lstrip("<>=|")
        end = ">" if descr.startswith(">") else "<"
        fmt = end + ("d" if kind == "f8" else "f")
        data = b"".join(struct.pack(fmt, v) for v in values)
    return out + data


nan, inf = float("nan"), float("inf")
seeds = {
    "f8_2x3": npy("<f8", False, (2, 3), [1, -2, 3.5, 0, 1e-300, 1e300]),
    "f4_3x2": npy("<f4", False, (3, 2), [1, 2, 3, 4, 5, 6]),
    "f8_be_2x2": npy(">f8", False, (2, 2), [0.5, -0.25, 8, 16]),
    "f4_be_1x3": npy(">f4", False, (1, 3), [1, 2, 3]),
    "f8_fortran_2x3": npy("<f8", True, (2, 3), [1, 2, 3, 4, 5, 6]),
    "f8_native_1x2": npy("=f8", False, (1, 2), [7, 8]),
    "f8_v2_1x1": npy("<f8", False, (1, 1), [42], major=2),
    "f8_v3_2x1": npy("<f8", False, (2, 1), [1, 2], major=3),
    "f8_long_suffix": npy("<f8", False, (1, 2), [1, 2], suffix="L"),
    "f8_dquote": npy("<f8", False, (2, 1), [3, 4], quote='"', trailing=""),
    "f8_special": npy("<f8", False, (2, 2), [nan, inf, -inf, -0.0]),
    "bad_truncated": npy("<f8", False, (2, 3), [1, 2, 3, 4, 5, 6])[:-5],
    "bad_1d": npy("<f8", False, (3,), [1, 2, 3]),
    "bad_int": npy("<i8", False, (1, 1), [], data=b"\x01" + b"\x00" * 7),
    "bad_trailing": npy("<f8", False, (1, 1), [1]) + b"\x00",
    "bad_empty": npy("<f8", False, (0, 3), []),
    "bad_keys": npy("", False, (), [], raw_header="{'descr': '<f8', 'shape': (1, 1), }",
                    data=b"\x00" * 8),
}
for name, data in seeds.items():
    put("npy", name, data)
    put("npy_file", name, data)


# ---- model files ---------------------------------------------------------------
def crc64(b):
    crc = 0xFFFFFFFFFFFFFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


def section(tag, payload):
    return tag + struct.pack("<Q", len(payload)) + payload


def modl(m, n, sigma, family, b, A):
    return section(b"MODL", struct.pack("<QQdIId", m, n, sigma, family, 0, b) +
                   b"".join(struct.pack("<d", v) for v in A))


def envelope(sections, version=1):
    total = 24 + len(sections) + 8
    head = b"\x89OVICA\r\n" + struct.pack("<IIQ", version, 100, total)
    body = head + sections
    return body + struct.pack("<Q", crc64(body))


m2x3 = modl(2, 3, 0.1, 0, 1.0, [0, 0.866, -0.866, 1, -0.5, -0.5])
m1x1 = modl(1, 1, 1e-3, 1, 0.5, [1.0])
opt = section(b"note", b"hello")
models = {
    "laplace_2x3": m2x3,
    "expo_1x1": m1x1,
    "optional_section": m2x3 + opt,
    "trst_section": m2x3 + section(b"TRST", b"\x00" * 16),
    "unknown_required": m2x3 + section(b"ZZZZ", b""),
    "bad_sigma": modl(1, 1, -1.0, 0, 1.0, [1.0]),
    "bad_size": section(b"MODL", struct.pack("<QQdIId", 2, 2, 1.0, 0, 0, 1.0)),
}
for name, sec in models.items():
    put("model", "raw_" + name, b"\x00" + envelope(sec))   # mode 0: bytes as they are
    put("model", "env_" + name, b"\x01" + sec)             # mode 1: sections only
put("model", "raw_v2", b"\x00" + envelope(m2x3, version=2))
put("model", "raw_truncated", b"\x00" + envelope(m2x3)[:40])

# ---- CLI arguments ---------------------------------------------------------------
def args(mode, *strings):
    return bytes([mode]) + b"\x00".join(s.encode() for s in strings)


clis = {
    "numbers": args(0x40, "1.5", "-0", "1e-300", "0x1p-3", "18446744073709551615", "nan"),
    "options": args(0x80, "--rate", "0.3", "--steps=300", "--prior", "laplace", "--flag",
                    "data.npy", "out"),
    "errors": args(0xC0, "--rate=0", "--steps", "-1", "--nope", "--flag=1"),
    "dashdash": args(0x48, "--", "--rate", "-", "x"),
    "help": args(0x00, "a", "-h"),
    "ranges": args(0x35, "1e6", "1", "0", "1000", "inf", " 1", "1 "),
}
for name, data in clis.items():
    put("cliargs", name, data)

# ---- numerical problems (fuzz_infer) ---------------------------------------------
def infer(m, n, N, flags, flags2, b, sigma, Acols, X, S):
    out = bytes([m - 1, n - 1, N - 1, flags, flags2, b, sigma])
    for how, col in Acols:
        out += bytes([how]) + bytes(col)
    return out + bytes(X) + bytes(S)


def v(x):  # moderate value x in [-6.25, 6.19] -> byte
    return int(round(x * 16 + 100))


b1, s1 = 125, 100      # b = 1, sigma ~ 1e-32 (byte 100); 125 -> 1
sig = {"normal": 108, "tiny": 8, "huge": 242, "unit": 125}
A3 = [(0, [v(1), v(0)]), (0, [v(-0.5), v(0.87)]), (0, [v(-0.5), v(-0.87)])]
X4 = [v(x) for x in (1, 0.5, -1, 2, 0, 0, 0.3, -0.2)]
S4 = [v(0)] * 12
probs = {
    "regular3": infer(2, 3, 4, 0x00, 0x0F, 125, sig["normal"], A3, X4, S4),
    "expo_fista": infer(2, 3, 4, 0x05, 0x2F, 125, sig["normal"], A3, X4, S4),
    "zero_data": infer(2, 3, 4, 0x02, 0x1F, 125, sig["normal"], A3, [v(0)] * 8, S4),
    "duplicate_atoms": infer(2, 3, 4, 0x04, 0x6F, 125,
                             sig["normal"], [A3[0], (210, []), A3[1]], X4, S4),
    "zero_atom": infer(2, 3, 4, 0x01, 0x0F, 125, sig["normal"], [A3[0], (235, []), A3[2]],
                       X4, S4),
    "rank_deficient": infer(3, 3, 2, 0x02, 0x4F, 125, sig["normal"],
                            [(0, [v(1), v(1), v(0)]), (0, [v(2), v(2), v(0)]),
                             (0, [v(0), v(0), v(0)])], X4[:6], [v(0.5)] * 6),
    "sigma_tiny": infer(2, 3, 4, 0x00, 0x8F, 125, sig["tiny"], A3, X4, S4),
    "sigma_huge": infer(2, 3, 4, 0x03, 0x8F, 125, sig["huge"], A3, X4, S4),
    "nan_data": infer(2, 3, 4, 0x00, 0x0F, 125, sig["unit"], A3, X4[:3] + [216] + X4[4:], S4),
    "inf_basis": infer(2, 3, 4, 0x00, 0x0F, 125, sig["unit"],
                       [A3[0], (0, [217, v(0)]), A3[2]], X4, S4),
    "warm_start_special": infer(2, 3, 4, 0x08, 0x0F, 125, sig["unit"], A3, X4,
                                [v(1), 205, 206, 208, 209, v(0)] * 2),
}
for name, data in probs.items():
    put("infer", name, data)
