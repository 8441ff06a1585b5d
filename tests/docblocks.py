#!/usr/bin/env python3
"""Docs that cannot drift: runs the code blocks of the user-facing documents
and checks the output they show.

    python3 tests/docblocks.py [--update] [--python PY] [FILE.md ...]

(default files: README.md, docs/TUTORIAL.md, bindings/python/README.md;
`make check-docs` runs it, and `make check` runs check-docs). For each
document, in order:

- a fenced block in sh, shell or bash is run with `sh -e` in a scratch
  directory of the document's own, which holds symbolic links to the tree's
  include/, lib/, bindings/, examples/ and build/ (so the tree-relative paths
  of the docs work and nothing is written into the tree), with build/bin
  (the ovica program) first on PATH, `python3` meaning PYTHON (default
  /usr/bin/python3), the binding importable (PYTHONPATH), pkg-config finding
  the in-tree library (a libovica.pc pointing at include/ and lib/),
  OPENBLAS_NUM_THREADS=1;
- the python blocks of a document are run one after another in one
  interpreter (a later block sees an earlier block's names, as a reader
  would), in the same directory;
- a block preceded by `<!-- docblock: skip -->` is not run (an install on a
  fresh machine, `make demo`: things the test itself stands on);
- a block preceded by `<!-- docblock: file NAME -->` is written to NAME in
  the scratch directory (a C program that a later shell block compiles);
- a `text` block preceded by `<!-- docblock: output -->` shows what the last
  run block printed on stdout; `<!-- docblock: output-of CMD -->` what the
  shell command CMD prints (for the output of a skipped block). The shown
  lines must be consecutive lines of the real output, the same words (blanks
  aside) with numbers within 2% or 0.05 (another machine's BLAS may round differently).
  With --update the shown lines are replaced by the real ones, digit for
  digit: run it after a change that moves the figures (the docs then show
  what the code printed on this machine).

Other blocks (c fragments, text without a marker) are not run. A document
must not hold indented (4-space) code blocks: a command there could drift
unseen, so every block is fenced and has a language.

Exit status 0 when every block ran and every output matched; the report
names each failure with its file and line.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FILES = ["README.md", "docs/TUTORIAL.md", "bindings/python/README.md"]
SHELLS = ("sh", "shell", "bash")
PYTHONS = ("python", "py", "python3")
MARKER = re.compile(r"^<!--\s*docblock:\s*(skip|file|output-of|output)\b\s*(.*?)\s*-->\s*$")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TIMEOUT = 300


class Block:
    def __init__(self, path, line, lang, text, marker, arg, end):
        self.path, self.line, self.lang, self.text = path, line, lang, text
        self.marker, self.arg = marker, arg
        self.end = end  # index of the closing fence line
        self.out = None

    def where(self):
        return "%s:%d" % (os.path.relpath(self.path, TREE), self.line)


def parse(path):
    """The fenced blocks of a markdown file; an error for an indented one."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, errors = [], []
    i, marker, arg = 0, None, ""
    prev_blank = True
    in_list = False
    while i < len(lines):
        ln = lines[i]
        m = MARKER.match(ln.strip())
        if m:
            marker, arg = m.group(1), m.group(2)
            i += 1
            continue
        f = re.match(r"^(\s*)```\s*([\w+-]*)\s*$", ln)
        if f:
            indent, lang = f.group(1), f.group(2).lower()
            j = i + 1
            while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                j += 1
            if j == len(lines):
                errors.append("%s:%d: unclosed code fence" % (path, i + 1))
                break
            body = "\n".join(l[len(indent):] if l.startswith(indent) else l
                             for l in lines[i + 1:j])
            blocks.append(Block(path, i + 1, lang, body + "\n", marker, arg, j))
            marker, arg = None, ""
            i = j + 1
            prev_blank = False
            continue
        if ln.strip():
            if re.match(r"^\s*([-*+]|\d+\.)\s", ln):
                in_list = True
            elif not ln.startswith(" "):
                in_list = False
            if ln.startswith("    ") and prev_blank and not in_list:
                errors.append("%s:%d: an indented code block: fence it with a language "
                              "(```sh, ```python, ```text...)" % (os.path.relpath(path, TREE),
                                                                   i + 1))
                while i + 1 < len(lines) and (lines[i + 1].startswith("    ") or
                                              not lines[i + 1].strip()):
                    i += 1
            if marker and not ln.strip().startswith("<!--"):
                errors.append("%s:%d: a docblock marker not followed by a code block"
                              % (os.path.relpath(path, TREE), i + 1))
                marker = None
        prev_blank = not ln.strip()
        i += 1
    return lines, blocks, errors


def skeleton(line):
    """The words of a line, numbers as '#', without blanks (numpy pads its
    columns to the widest number; numbers_close counts the numbers)."""
    return re.sub(r"\s+", "", NUMBER.sub("#", line))


def numbers_close(a, b):
    na, nb = NUMBER.findall(a), NUMBER.findall(b)
    if len(na) != len(nb):
        return False
    for x, y in zip(na, nb):
        x, y = float(x), float(y)
        if abs(x - y) > max(0.05, 0.02 * max(abs(x), abs(y))):
            return False
    return True


def match_output(shown, actual):
    """The index in `actual` where the shown lines start (same words, close
    numbers), or (None, reason)."""
    want = [l.rstrip() for l in shown.rstrip("\n").split("\n")]
    got = [l.rstrip() for l in actual.rstrip("\n").split("\n")]
    k = len(want)
    sk = [skeleton(l) for l in want]
    near = None
    for i in range(0, len(got) - k + 1):
        if [skeleton(l) for l in got[i:i + k]] == sk:
            if all(numbers_close(a, b) for a, b in zip(want, got[i:i + k])):
                return i, None
            near = i
    if near is not None:
        bad = [(a, b) for a, b in zip(want, got[near:near + k]) if not numbers_close(a, b)]
        return near, "figures differ, e.g. shown %r, printed %r" % bad[0]
    return None, "the shown lines are not in the output"


def setup_dir(root, python):
    """A scratch directory with links into the tree, a bin/ with python3,
    and a libovica.pc for the in-tree library."""
    for name in ("include", "lib", "bindings", "examples", "build"):
        os.symlink(os.path.join(TREE, name), os.path.join(root, name))
    shim = os.path.join(root, ".docbin")
    os.mkdir(shim)
    for name in ("python3", "python"):
        os.symlink(python, os.path.join(shim, name))
    pc = os.path.join(root, ".pkgconfig")
    os.mkdir(pc)
    with open(os.path.join(pc, "libovica.pc"), "w") as f:
        f.write("Name: libovica\nDescription: in-tree libovica (tests/docblocks.py)\n"
                "Version: 0\nCflags: -I%s/include\nLibs: -L%s/lib -Wl,-rpath,%s/lib -lovica\n"
                % (TREE, TREE, TREE))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([shim, os.path.join(TREE, "build", "bin"), env.get("PATH", "")])
    env["PYTHONPATH"] = os.path.join(TREE, "bindings", "python")
    env["PKG_CONFIG_PATH"] = pc + os.pathsep + env.get("PKG_CONFIG_PATH", "")
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["TMPDIR"] = root  # a block's mktemp -d is removed with the scratch directory
    env.pop("OVICA_LIBRARY", None)
    return env


# The python blocks of one document run in one interpreter, in document
# order between the shell blocks: this driver reads a block per line (JSON)
# on stdin and answers a line with its stdout, stderr and success.
DRIVER = r'''
import io, json, sys, traceback, contextlib
g = {"__name__": "__main__"}
out = sys.stdout
for line in sys.stdin:
    where, code = json.loads(line)
    buf, err = io.StringIO(), io.StringIO()
    ok = True
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            exec(compile(code, where, "exec"), g)
    except BaseException:
        ok = False
        err.write("%s: the block raised:\n%s" % (where, traceback.format_exc()))
    out.write(json.dumps([ok, buf.getvalue(), err.getvalue()]) + "\n")
    out.flush()
'''


class PythonSession:
    def __init__(self, python, root, env):
        drv = os.path.join(root, ".driver.py")
        open(drv, "w").write(DRIVER)
        self.p = subprocess.Popen([python, drv], cwd=root, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, block):
        self.p.stdin.write(json.dumps([block.where(), block.text]) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            return False, "", "the interpreter died: " + self.p.stderr.read()[-2000:]
        return tuple(json.loads(line))

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except Exception:  # noqa: BLE001
            self.p.kill()


def run_doc(path, python, failures, timings):
    lines, blocks, errors = parse(path)
    failures.extend(errors)
    root = tempfile.mkdtemp(prefix="ovica_docs.")
    try:
        env = setup_dir(root, python)
        session = None
        py_failed = False
        last = None
        edits = []
        for b in blocks:
            if b.marker == "skip":
                continue
            if b.marker == "file":
                name = b.arg.strip()
                if not name or "/" in name:
                    failures.append("%s: docblock file needs a plain file name" % b.where())
                    continue
                open(os.path.join(root, name), "w").write(b.text)
                continue
            if b.lang in SHELLS:
                t0 = time.time()
                r = subprocess.run(["sh", "-e", "-c", b.text], cwd=root, env=env,
                                   capture_output=True, text=True, timeout=TIMEOUT)
                timings.append((b.where(), time.time() - t0))
                if r.returncode != 0:
                    failures.append("%s: shell block exited with %d:\n%s%s" % (
                        b.where(), r.returncode, _indent(b.text), _indent(r.stderr[-2000:])))
                b.out = r.stdout
                last = b
            elif b.lang in PYTHONS:
                if py_failed:  # a later block would fail for the earlier one's names
                    b.out = None
                    last = b
                    continue
                if session is None:
                    session = PythonSession(python, root, env)
                t0 = time.time()
                ok, out, err = session.run(b)
                timings.append((b.where(), time.time() - t0))
                if not ok:
                    py_failed = True
                    failures.append("%s: python block failed:\n%s" % (b.where(), _indent(err)))
                b.out = out
                last = b
            elif b.marker in ("output", "output-of"):
                if b.marker == "output-of":
                    t0 = time.time()
                    r = subprocess.run(["sh", "-e", "-c", b.arg], cwd=root, env=env,
                                       capture_output=True, text=True, timeout=TIMEOUT)
                    timings.append((b.where() + " (output-of)", time.time() - t0))
                    if r.returncode != 0:
                        failures.append("%s: `%s` exited with %d:\n%s" % (
                            b.where(), b.arg, r.returncode, _indent(r.stderr[-2000:])))
                        continue
                    actual = r.stdout
                else:
                    if last is None or last.out is None:
                        failures.append("%s: an output block with no run block before it"
                                        % b.where())
                        continue
                    actual = last.out
                i, why = match_output(b.text, actual)
                if UPDATE and i is not None:
                    k = len(b.text.rstrip("\n").split("\n"))
                    new = actual.rstrip("\n").split("\n")[i:i + k]
                    if [l.rstrip() for l in new] != b.text.rstrip("\n").split("\n"):
                        edits.append((b, new))
                elif why is not None:
                    failures.append("%s: %s\n  shown:\n%s  printed:\n%s" % (
                        b.where(), why, _indent(b.text), _indent(actual)))
        if edits:
            for b, new in sorted(edits, key=lambda e: -e[0].line):
                lines[b.line:b.end] = [l.rstrip() for l in new]
            open(path, "w", encoding="utf-8").write("\n".join(lines))
            for b, _ in edits:
                print("docblocks: updated the output block at %s" % b.where())
    finally:
        if session is not None:
            session.close()
        shutil.rmtree(root, ignore_errors=True)
    return len([b for b in blocks if b.marker != "skip" and
                (b.lang in SHELLS + PYTHONS or b.marker in ("output", "output-of", "file"))])


def _indent(s):
    return "".join("    " + l + "\n" for l in s.rstrip("\n").split("\n")) if s.strip() else ""


UPDATE = False

SELFTEST_DOC = """# a document the checker must refuse in four places

```sh
echo 'x = 1.50'
```

<!-- docblock: output -->
```text
x = 1.51
```

<!-- docblock: output -->
```text
x = 2.50
```

```sh
exit 3
```

    ovica frobnicate

```python
print("y", 7)
```

<!-- docblock: output -->
```text
y 7
```

<!-- docblock: skip -->
```sh
exit 4
```

```python
raise ValueError("the python block fails")
```
"""


def selftest(python):
    """The checker itself: a document with a wrong figure, a failing shell
    block, an indented block and a failing python block gives exactly those
    four failures (and --update fixes the figure)."""
    d = tempfile.mkdtemp(prefix="ovica_docs_selftest.")
    try:
        path = os.path.join(d, "doc.md")
        open(path, "w").write(SELFTEST_DOC)
        failures = []
        run_doc(path, python, failures, [])
        kinds = sorted(("figures differ" in f and "figure") or ("exited with 3" in f and "shell")
                       or ("indented code block" in f and "indented")
                       or ("the block raised" in f and "python") or f for f in failures)
        want = ["figure", "indented", "python", "shell"]
        if kinds != want:
            print("docblocks: selftest FAILED: wanted failures %s, got:\n%s"
                  % (want, "\n".join(failures)))
            return 1
        print("docblocks: selftest ok (a wrong figure, a failing shell block, an indented "
              "block and a failing python block are caught)")
        return 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    global UPDATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="markdown files (default: %s)"
                    % ", ".join(DEFAULT_FILES))
    ap.add_argument("--update", action="store_true",
                    help="replace the shown outputs by the real ones")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the interpreter of python blocks and of `python3` in shell blocks")
    ap.add_argument("--selftest", action="store_true",
                    help="check the checker on a document with known faults")
    a = ap.parse_args()
    UPDATE = a.update
    if a.selftest:
        return selftest(a.python)
    files = [os.path.join(TREE, f) if not os.path.isabs(f) else f
             for f in (a.files or DEFAULT_FILES)]
    if not os.path.exists(os.path.join(TREE, "build", "bin", "ovica")):
        print("docblocks: build/bin/ovica is missing (make cli)")
        return 1
    failures, timings = [], []
    t0 = time.time()
    n = 0
    for f in files:
        n += run_doc(f, a.python, failures, timings)
    for f in failures:
        print("FAIL: " + f)
    slow = sorted(timings, key=lambda t: -t[1])[:3]
    print("check-docs: %d blocks in %d files, %d failures, %.1f s (slowest: %s)" % (
        n, len(files), len(failures), time.time() - t0,
        ", ".join("%s %.1f s" % (w, s) for w, s in slow)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
