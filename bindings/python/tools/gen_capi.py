#!/usr/bin/env python3
"""Writes bindings/python/ovica/_capi.py, the ctypes description of libovica's
public C API, from the public headers (include/ovica/*.h).

    python3 bindings/python/tools/gen_capi.py            # rewrite _capi.py
    python3 bindings/python/tools/gen_capi.py --check    # exit 1 if it is stale
    python3 bindings/python/tools/gen_capi.py -o FILE    # write elsewhere

(`make gen-binding` and `make check-binding` run the first two.)

What it reads, with the conventions of the headers (include/ovica.h):
- every `OVICA_API ret name(params);` declaration: a function, with its
  ctypes restype and argtypes; `OVICA_API extern const T *const name;`: an
  exported datum (the type objects);
- every `enum name { A = 1, ... };`: its constants (values frozen);
- every object-like `#define OVICA_... <number>`: versions, limits, betas;
  function-like macros and macros without a numeric value are skipped (the
  generated file lists the skipped function-like ones);
- `typedef struct X X;`: an opaque handle (passed as c_void_p);
  `typedef struct X { ... } X;`: a struct, generated as a ctypes.Structure
  (function-pointer members get CFUNCTYPE types named <struct>_<member>);
  a struct whose header defines OVICA_<X>_VERSION is versioned: its
  constructor sets `version` to that macro;
  `typedef ret (*name)(params);`: a callback type (CFUNCTYPE).
Declarations inside `#ifdef OVICA_EXPERIMENTAL` and in a header that refuses
to compile without OVICA_EXPERIMENTAL (ovica/debug.h) are generated too and
marked experimental (Function.experimental, EXPERIMENTAL_NAMES).

Stdlib only; the output depends only on the headers (files in sorted order),
so it is byte-for-byte reproducible.
"""

import argparse
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_OUT = os.path.join(TREE, "bindings", "python", "ovica", "_capi.py")
COMMAND = "python3 bindings/python/tools/gen_capi.py  (make gen-binding)"

SCALARS = {
    "void": None,
    "char": "ctypes.c_char",
    "int": "ctypes.c_int",
    "unsigned int": "ctypes.c_uint",
    "unsigned": "ctypes.c_uint",
    "long": "ctypes.c_long",
    "unsigned long": "ctypes.c_ulong",
    "long long": "ctypes.c_longlong",
    "unsigned long long": "ctypes.c_ulonglong",
    "size_t": "ctypes.c_size_t",
    "ptrdiff_t": "ctypes.c_ssize_t",
    "int32_t": "ctypes.c_int32",
    "uint32_t": "ctypes.c_uint32",
    "int64_t": "ctypes.c_int64",
    "uint64_t": "ctypes.c_uint64",
    "double": "ctypes.c_double",
    "float": "ctypes.c_float",
}


class ParseError(Exception):
    pass


def strip_comments(text):
    """Removes C comments, keeping newlines (line numbers stay right)."""
    def repl(m):
        s = m.group(0)
        if s.startswith("/"):
            return "\n" * s.count("\n") if s.startswith("/*") else ""
        return s
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*"', repl, text, flags=re.S)


def segments(text):
    """Splits a comment-free header into (code, experimental, defines): code
    chunks outside preprocessor lines, each with whether it sits inside an
    OVICA_EXPERIMENTAL conditional, and the #define lines with the same flag."""
    lines = text.split("\n")
    joined = []
    i = 0
    while i < len(lines):
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i]
        joined.append(line)
        i += 1
    whole_file_exp = any(re.match(r"\s*#\s*error\b.*OVICA_EXPERIMENTAL", l) for l in joined)
    stack = []  # one bool per open conditional: does it select OVICA_EXPERIMENTAL?
    out, defines, buf, cur = [], [], [], None
    for line in joined:
        m = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        exp = whole_file_exp or any(stack)
        if m:
            d, rest = m.group(1), m.group(2).strip()
            if d in ("if", "ifdef", "ifndef"):
                stack.append(d == "ifdef" and rest == "OVICA_EXPERIMENTAL")
            elif d in ("else", "elif"):
                if stack:
                    stack[-1] = False
            elif d == "endif":
                if not stack:
                    raise ParseError("#endif without #if")
                stack.pop()
            elif d == "define":
                defines.append((rest, exp))
            continue
        if cur is not None and exp != cur:
            out.append(("\n".join(buf), cur))
            buf = []
        cur = exp
        buf.append(line)
    if buf:
        out.append(("\n".join(buf), cur))
    return out, defines


def statements(code):
    """Top-level statements (split at ';' outside braces), whitespace-normalised."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(code):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0:
            out.append(" ".join(code[start:i].split()))
            start = i + 1
    rest = " ".join(code[start:].split())
    for tok in ("OVICA_BEGIN_DECLS", "OVICA_END_DECLS"):
        rest = rest.replace(tok, "")
    if rest.strip():
        raise ParseError("text after the last ';': %r" % rest.strip()[:80])
    return [s.replace("OVICA_BEGIN_DECLS", "").replace("OVICA_END_DECLS", "").strip()
            for s in out]


def eval_int(expr, consts):
    """Value of an integer/float constant expression made of literals, known
    constants, parentheses and + - * / << | ~."""
    e = expr.strip()
    if not re.fullmatch(r"[\w\s()+\-*/<>|~.]+", e):
        return None
    names = re.findall(r"[A-Za-z_]\w*", e)
    env = {}
    for n in names:
        if n not in consts:
            return None
        env[n] = consts[n]
    e = re.sub(r"(?<=[\d.])[uUlL]+\b", "", e)
    try:
        v = eval(e, {"__builtins__": {}}, env)  # noqa: S307 - checked characters
    except Exception:
        return None
    if isinstance(v, float) and "." not in expr and "e" not in expr.lower():
        v = int(v)
    return v if isinstance(v, (int, float)) else None


class Api:
    def __init__(self):
        self.functions = []   # dict(name, ret, params, header, exp)
        self.data = []        # dict(name, type, header, exp)
        self.enums = []       # dict(name, items [(n, v)], header, exp)
        self.defines = []     # (name, value, header, exp)
        self.skipped_macros = []  # function-like macros: (name, header, exp)
        self.opaque = set()
        self.structs = []     # dict(name, fields [(n, type)], header, exp)
        self.fntypes = []     # dict(name, ret, params, header, exp)
        self.consts = {}

    # --- declarations ---------------------------------------------------------

    def parse_decl(self, decl, need_name=True):
        """'const double *X' -> (name, (base, stars)); function pointers are
        ('name', ('fn', ret, params))."""
        decl = decl.strip()
        m = re.fullmatch(r"(.+?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)", decl)
        if m:
            ret = self.parse_decl(m.group(1), need_name=False)[1]
            return m.group(2), ("fn", ret, self.parse_params(m.group(3)))
        toks = re.findall(r"[A-Za-z_]\w*|\*", decl)
        if not toks or len(toks) != len(re.findall(r"\S+", decl.replace("*", " * "))):
            raise ParseError("cannot read declaration %r" % decl)
        toks = [t for t in toks if t not in ("const", "struct", "enum", "volatile")]
        stars = toks.count("*")
        words = [t for t in toks if t != "*"]
        name = None
        if need_name:
            if len(words) < 2:
                raise ParseError("declaration without a name: %r" % decl)
            name = words.pop()
        base = " ".join(words)
        return name, (base, stars)

    def parse_params(self, text):
        text = text.strip()
        if text in ("", "void"):
            return []
        parts, depth, start = [], 0, 0
        for i, c in enumerate(text):
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == "," and depth == 0:
                parts.append(text[start:i])
                start = i + 1
        parts.append(text[start:])
        return [self.parse_decl(p) for p in parts]

    def statement(self, s, header, exp):
        # attributes that do not change the ABI
        s = re.sub(r'OVICA_DEPRECATED\s*\(\s*"(?:\\.|[^"\\])*"\s*\)', " ", s)
        s = " ".join(s.split())
        if not s:
            return
        if s.startswith("OVICA_API"):
            body = s[len("OVICA_API"):].strip()
            if body.startswith("extern"):
                name, ty = self.parse_decl(body[len("extern"):])
                self.data.append(dict(name=name, type=ty, header=header, exp=exp))
                return
            m = re.fullmatch(r"(.+?)\b(\w+)\s*\((.*)\)", body)
            if not m:
                raise ParseError("cannot read function %r" % s)
            ret = self.parse_decl(m.group(1), need_name=False)[1]
            self.functions.append(dict(name=m.group(2), ret=ret,
                                       params=self.parse_params(m.group(3)),
                                       header=header, exp=exp))
            return
        m = re.fullmatch(r"enum (\w+) \{(.*)\}", s)
        if m:
            items, nxt = [], 0
            for part in m.group(2).split(","):
                part = part.strip()
                if not part:
                    continue
                if "=" in part:
                    n, v = (x.strip() for x in part.split("=", 1))
                    val = eval_int(v, self.consts)
                    if val is None:
                        raise ParseError("enum value %r" % part)
                else:
                    n, val = part, nxt
                self.consts[n] = val
                items.append((n, val))
                nxt = val + 1
            self.enums.append(dict(name=m.group(1), items=items, header=header, exp=exp))
            return
        m = re.fullmatch(r"typedef struct (\w+) (\w+)", s)
        if m and m.group(1) == m.group(2):
            self.opaque.add(m.group(1))
            return
        m = re.fullmatch(r"typedef struct (\w+) \{(.*)\} (\w+)", s)
        if m and m.group(1) == m.group(3):
            fields = [self.parse_decl(f) for f in statements(m.group(2)) if f]
            self.structs.append(dict(name=m.group(1), fields=fields, header=header, exp=exp))
            return
        m = re.fullmatch(r"typedef (.+)", s)
        if m:
            name, ty = self.parse_decl(m.group(1))
            if ty[0] != "fn":
                raise ParseError("unsupported typedef %r" % s)
            self.fntypes.append(dict(name=name, ret=ty[1], params=ty[2], header=header,
                                     exp=exp))
            return
        raise ParseError("unsupported statement %r" % s)

    def define(self, text, header, exp):
        m = re.match(r"(\w+)(\()?\s*(.*)", text)
        name, fnlike, value = m.group(1), m.group(2), m.group(3).strip()
        if not name.startswith("OVICA_"):
            return
        if fnlike:
            if name not in [x[0] for x in self.skipped_macros]:
                self.skipped_macros.append((name, header, exp))
            return
        v = eval_int(value, self.consts) if value else None
        if v is None:
            return  # include guards, attributes, strings, initialisers
        self.consts[name] = v
        self.defines.append((name, v, header, exp))

    def read(self, path, header):
        code, defines = segments(strip_comments(open(path, encoding="utf-8").read()))
        # defines first: enum values and versions may refer to them
        for text, exp in defines:
            self.define(text, header, exp)
        for chunk, exp in code:
            for s in statements(chunk):
                self.statement(s, header, exp)

    # --- ctypes expressions ---------------------------------------------------

    def ctype(self, ty, ret=False):
        if ty[0] == "fn":
            raise ParseError("inline function pointer outside a struct")
        base, stars = ty
        fn_names = {f["name"] for f in self.fntypes}
        struct_names = {s["name"] for s in self.structs}
        if base in fn_names:
            if stars:
                raise ParseError("pointer to a callback type")
            return base
        if base in self.opaque:
            if stars == 0:
                raise ParseError("opaque struct by value: %s" % base)
            return "ctypes.c_void_p" if stars == 1 else \
                self.pointer("ctypes.c_void_p", stars - 1)
        if base in struct_names:
            return base if stars == 0 else self.pointer(base, stars)
        if base not in SCALARS:
            raise ParseError("unknown type %r" % base)
        if base == "void":
            if stars == 0:
                return "None"
            return "ctypes.c_void_p" if stars == 1 else self.pointer("ctypes.c_void_p", stars - 1)
        if base == "char" and stars >= 1:
            return "ctypes.c_char_p" if stars == 1 else self.pointer("ctypes.c_char_p", stars - 1)
        return self.pointer(SCALARS[base], stars)

    @staticmethod
    def pointer(t, stars):
        for _ in range(stars):
            t = "ctypes.POINTER(%s)" % t
        return t

    def c_text(self, ty):
        if ty[0] == "fn":
            return "fn"
        base, stars = ty
        return base + " " + "*" * stars if stars else base


def collect(tree):
    api = Api()
    files = sorted(glob.glob(os.path.join(tree, "include", "ovica", "*.h")))
    if not files:
        raise ParseError("no headers under %s/include/ovica" % tree)
    for path in files:
        api.read(path, "ovica/" + os.path.basename(path))
    return api


def render(api):
    L = []
    w = L.append
    w("# Generated by %s" % COMMAND)
    w("# from include/ovica/*.h. Do not edit: change the headers and regenerate;")
    w("# `make check-binding` (part of `make check-python`) fails when this file is stale.")
    w('"""ctypes description of libovica\'s public C API, generated from its headers.')
    w("")
    w("FUNCTIONS: every OVICA_API function (name -> Function(restype, argtypes, ...));")
    w("DATA: the exported data (type objects); ENUMS and the enum constants as module")
    w("attributes; DEFINES and the numeric #define constants as module attributes;")
    w("the public structs as ctypes.Structure classes named as in C (a versioned")
    w("struct's constructor sets `version` to its OVICA_..._VERSION); the callback")
    w("types as CFUNCTYPE classes named as in C. Declarations that are visible only")
    w("with OVICA_EXPERIMENTAL are included, marked experimental (EXPERIMENTAL_NAMES).")
    w('"""')
    w("")
    w("import collections")
    w("import ctypes")
    w("")
    w("Function = collections.namedtuple(")
    w('    "Function", "name restype argtypes argnames header experimental")')
    w('Datum = collections.namedtuple("Datum", "name ctype header experimental")')
    w('Enum = collections.namedtuple("Enum", "name items header experimental")')
    w("")
    w("# --- #define constants ---------------------------------------------------------")
    w("")
    for name, v, header, exp in api.defines:
        w("%s = %r%s" % (name, v, "  # experimental" if exp else ""))
    w("")
    w("DEFINES = {")
    for name, v, header, exp in api.defines:
        w("    %r: %s," % (name, name))
    w("}")
    w("")
    w("#: function-like macros of the headers, not generated (compute them in Python)")
    w("SKIPPED_MACROS = (")
    for name, header, exp in api.skipped_macros:
        w("    %r,%s" % (name, "  # experimental" if exp else ""))
    w(")")
    w("")
    w("# --- enums -----------------------------------------------------------------------")
    w("")
    for e in api.enums:
        w("# enum %s (%s)%s" % (e["name"], e["header"], ", experimental" if e["exp"] else ""))
        for n, v in e["items"]:
            w("%s = %d" % (n, v))
        w("")
    w("ENUMS = {")
    for e in api.enums:
        w("    %r: Enum(%r, (" % (e["name"], e["name"]))
        for n, v in e["items"]:
            w("        (%r, %d)," % (n, v))
        w("    ), %r, %r)," % (e["header"], e["exp"]))
    w("}")
    w("")
    w("# --- callback types and structs --------------------------------------------------")
    w("")
    for f in api.fntypes:
        args = ", ".join(api.ctype(p[1]) for p in f["params"])
        w("# typedef %s (*%s)(...) (%s)" % (api.c_text(f["ret"]), f["name"], f["header"]))
        w("%s = ctypes.CFUNCTYPE(%s%s)" % (f["name"], api.ctype(f["ret"], ret=True),
                                          ", " + args if args else ""))
        w("")
    for s in api.structs:
        cb_fields = []
        for fname, ty in s["fields"]:
            if ty[0] == "fn":
                tname = "%s_%s" % (s["name"], fname)
                args = ", ".join(api.ctype(p[1]) for p in ty[2])
                w("%s = ctypes.CFUNCTYPE(%s%s)" % (tname, api.ctype(ty[1], ret=True),
                                                  ", " + args if args else ""))
                cb_fields.append(fname)
        vmacro = s["name"].upper() + "_VERSION"
        versioned = vmacro in api.consts and s["fields"] and s["fields"][0][0] == "version"
        w("")
        w("")
        w("class %s(ctypes.Structure):" % s["name"])
        w('    """struct %s (%s)%s."""' % (s["name"], s["header"],
                                           ", experimental" if s["exp"] else ""))
        w("    _fields_ = [")
        for fname, ty in s["fields"]:
            t = "%s_%s" % (s["name"], fname) if ty[0] == "fn" else api.ctype(ty)
            w("        (%r, %s)," % (fname, t))
        w("    ]")
        if versioned:
            w("    #: the struct version this header describes (%s)" % vmacro)
            w("    VERSION = %s" % vmacro)
            w("")
            w("    def __init__(self, *args, **kwargs):")
            w("        ctypes.Structure.__init__(self, *args, **kwargs)")
            w('        if not args and "version" not in kwargs:')
            w("            self.version = %s" % vmacro)
        w("")
        w("")
    w("STRUCTS = {")
    for s in api.structs:
        w("    %r: %s," % (s["name"], s["name"]))
    w("}")
    w("CALLBACK_TYPES = {")
    for f in api.fntypes:
        w("    %r: %s," % (f["name"], f["name"]))
    w("}")
    w("")
    w("# --- exported data and functions ----------------------------------------------")
    w("")
    w("DATA = {")
    for d in api.data:
        w("    %r: Datum(%r, %s, %r, %r)," % (d["name"], d["name"], api.ctype(d["type"]),
                                             d["header"], d["exp"]))
    w("}")
    w("")
    w("FUNCTIONS = {")
    for f in api.functions:
        w("    %r: Function(" % f["name"])
        w("        %r, %s," % (f["name"], api.ctype(f["ret"], ret=True)))
        args = [api.ctype(p[1]) for p in f["params"]]
        if args:
            w("        (")
            for a in args:
                w("            %s," % a)
            w("        ),")
        else:
            w("        (),")
        w("        %r," % (tuple(p[0] for p in f["params"]),))
        w("        %r, %r)," % (f["header"], f["exp"]))
    w("}")
    w("")
    w("#: names (functions, data, enums, constants, structs) visible only with")
    w("#: OVICA_EXPERIMENTAL: no ABI promise")
    exp_names = sorted({f["name"] for f in api.functions if f["exp"]}
                       | {d["name"] for d in api.data if d["exp"]}
                       | {e["name"] for e in api.enums if e["exp"]}
                       | {n for e in api.enums if e["exp"] for n, _ in e["items"]}
                       | {n for n, _, _, exp in api.defines if exp}
                       | {s["name"] for s in api.structs if s["exp"]})
    w("EXPERIMENTAL_NAMES = frozenset({")
    for n in exp_names:
        w("    %r," % n)
    w("})")
    return "\n".join(L) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default=DEFAULT_OUT, help="file to write (default: %(default)s)")
    ap.add_argument("--tree", default=TREE, help="source tree holding include/ (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if the output file differs from a fresh generation")
    a = ap.parse_args(argv)
    try:
        text = render(collect(a.tree))
    except ParseError as e:
        sys.stderr.write("gen_capi: %s\n" % e)
        return 2
    if a.check:
        try:
            old = open(a.output, encoding="utf-8").read()
        except OSError:
            old = None
        if old != text:
            sys.stderr.write("gen_capi: %s is stale; regenerate it with: %s\n"
                             % (os.path.relpath(a.output, a.tree), COMMAND))
            return 1
        return 0
    tmp = a.output + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
