#!/bin/sh
# Tests of the `ovica` program: every subcommand, --help, exit codes (0 ok,
# 1 runtime failure, 2 usage error, 130 SIGINT), a synth/train/encode/basis/
# eval/plot round trip on a small data set, the demo, and valid SVG output.
# Usage: sh tests/cli/run.sh path/to/ovica        (run by `make check`)
set -u
OVICA=${1:?usage: run.sh path/to/ovica}
case $OVICA in /*) ;; *) OVICA=$(pwd)/$OVICA ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/ovica_cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1
export OPENBLAS_NUM_THREADS=1

passed=0; failed=0
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect CODE ARGS...: runs ovica ARGS, output in out.txt/err.txt, checks the exit code.
expect() {
  want=$1; shift
  "$OVICA" "$@" >out.txt 2>err.txt
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else
    bad "ovica $* exited with $got, wanted $want"; sed 's/^/    /' err.txt | head -n 5
  fi
}
# has FILE TEXT: FILE contains TEXT
has() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2'"; sed 's/^/    /' "$1" | head -n 5; fi; }
# size FILE BYTES
size() {
  s=$(wc -c < "$1" 2>/dev/null | tr -d ' ')
  if [ "${s:-x}" = "$2" ]; then ok; else bad "$1 has ${s:-no} bytes, wanted $2"; fi
}
# svg FILE: well-formed XML whose root is <svg>
svg() {
  if [ ! -s "$1" ]; then bad "$1 missing or empty"; return; fi
  if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]); sys.exit(0 if d.documentElement.tagName == "svg" else 1)' "$1"; then ok
    else bad "$1 is not a well-formed SVG document"; fi
  elif command -v xmllint >/dev/null 2>&1; then
    if xmllint --noout "$1"; then ok; else bad "$1 is not well-formed XML"; fi
  else
    if head -n 1 "$1" | grep -q '^<?xml' && tail -n 1 "$1" | grep -q '^</svg>$'; then ok
    else bad "$1 does not look like SVG"; fi
  fi
}

# --- the program and its help ------------------------------------------------
expect 2
expect 0 --help;                 has out.txt "usage: ovica <command>"
expect 0 help train;             has out.txt "usage: ovica train"
expect 2 help frobnicate
expect 2 frobnicate
expect 0 version;                has out.txt "libovica"
expect 0 --version
for c in demo synth train encode basis eval plot score cluster scan; do
  expect 0 "$c" --help;          has out.txt "usage: ovica $c"
  expect 0 "$c" -h
done

# --- usage errors: exit 2, with a message naming the problem --------------------
expect 2 synth;                                   has err.txt "--out is required"
expect 2 synth --out x.npy --samples abc;         has err.txt "--samples"
expect 2 synth --out x.npy --samples -5
expect 2 synth --out x.npy --samples 1.5
expect 2 synth --out x.npy --samples ' 5'
expect 2 synth --out x.npy --samples 0
expect 2 synth --out x.npy --samples 99999999999999999999999
expect 2 synth --out x.npy --noise nan;           has err.txt "NaN"
expect 2 synth --out x.npy --noise inf
expect 2 synth --out x.npy --noise 1e999
expect 2 synth --out x.npy --noise -0.1
expect 2 synth --out x.npy --noise 0.1x
expect 2 synth --out x.npy --scale 0
expect 2 synth --out x.npy --set bogus;           has err.txt "regular3"
expect 2 synth --out x.npy --set random;          has err.txt "--atoms"
expect 2 synth --out x.npy --atoms 5;             has err.txt "3 atoms"
expect 2 synth --out x.npy --frobnicate;          has err.txt "unknown option"
expect 2 synth --out x.npy --out y.npy;           has err.txt "twice"
expect 2 synth --out;                             has err.txt "needs a value"
expect 2 synth -o x.npy
expect 2 synth extra --out x.npy
expect 2 train --data x.npy --out m.ovm;          has err.txt "--atoms"
expect 2 train --data x.npy --atoms 0 --out m.ovm
expect 2 train --data x.npy --atoms 3 --out m.ovm --lr 0
expect 2 train --data x.npy --atoms 3 --out m.ovm --rule bogus
expect 2 train --data x.npy --atoms 3 --out m.ovm --steps=
expect 2 encode --data x.npy --out s.npy;         has err.txt "MODEL"
expect 2 encode m.ovm --out s.npy
expect 2 eval m.ovm;                              has err.txt "--truth"
expect 2 basis
expect 2 basis a.ovm b.ovm
expect 2 plot --out p.svg;                        has err.txt "nothing to draw"
expect 2 plot --model m.ovm --basis a.npy --out p.svg
expect 2 demo --steps 0

# --- runtime failures: exit 1 ----------------------------------------------------
expect 1 train --data missing.npy --atoms 3 --out m.ovm;    has err.txt "missing.npy"
expect 1 encode missing.ovm --data x.npy --out s.npy;       has err.txt "missing.ovm"
expect 1 basis missing.ovm
expect 1 synth --out no/such/dir/x.npy --samples 10
expect 1 plot --curve missing.csv --out p.svg

# --- synth ---------------------------------------------------------------------------
expect 0 synth --samples 600 --seed 3 --out X.npy --basis-out A.npy --sources-out S0.npy
has err.txt "600 samples"
size X.npy $((128 + 600 * 2 * 8)); size A.npy $((128 + 2 * 3 * 8)); size S0.npy $((128 + 600 * 3 * 8))
expect 0 synth --samples 600 --seed 3 --out X2.npy --quiet
if cmp -s X.npy X2.npy; then ok; else bad "synth is not reproducible for a seed"; fi
if [ -s err.txt ]; then bad "--quiet printed to stderr"; else ok; fi
expect 0 synth --set irregular4 --prior laplace --activity 0.5 --samples 50 --out X4.npy --basis-out A4.npy --quiet
size A4.npy $((128 + 2 * 4 * 8))
expect 0 synth --set random --atoms 6 --dim 4 --samples 300 --noise 0 --out R.npy --basis-out RA.npy --quiet
size R.npy $((128 + 300 * 4 * 8)); size RA.npy $((128 + 4 * 6 * 8))

# --- train, encode, basis, eval, plot ---------------------------------------------
# sparse sources: the run stops where the trainer says the basis has settled
# (--stop), and the codes' threads (--threads) do not change the result
expect 0 synth --set random --atoms 16 --dim 8 --activity 0.1 --samples 4000 --noise 0.01 --seed 5 \
  --out SP.npy --basis-out SPA.npy --quiet
expect 0 train --data SP.npy --atoms 16 --steps 400 --truth SPA.npy --out sp1.ovm
has err.txt "settled, so stopped early"; has out.txt "recovered 16/16"
if grep -q "trained at step 400 of 400" err.txt; then bad "the sparse run did not stop early"; else ok; fi
expect 0 train --data SP.npy --atoms 16 --steps 400 --threads 2 --out sp2.ovm --quiet
if cmp -s sp1.ovm sp2.ovm; then ok; else bad "--threads 2 changed the model"; fi
expect 0 train --data SP.npy --atoms 16 --steps 160 --stop 0 --out sp0.ovm
has err.txt "trained at step 160 of 160"
expect 2 train --data SP.npy --atoms 16 --threads 0 --out sp0.ovm;  has err.txt "--threads"
# float32 data: coded in single precision by default (--precision auto), the
# same run as the float64 file at --precision single; --precision double on
# the float32 file is the double run of its values
expect 0 synth --set random --atoms 16 --dim 8 --activity 0.1 --samples 4000 --noise 0.01 --seed 5 \
  --out SP32.npy --float32 --quiet
size SP32.npy $((128 + 4000 * 8 * 4))
expect 0 train --data SP32.npy --atoms 16 --steps 400 --truth SPA.npy --out f32a.ovm
has out.txt "recovered 16/16"
expect 0 train --data SP32.npy --atoms 16 --steps 400 --precision single --out f32s.ovm --quiet
if cmp -s f32a.ovm f32s.ovm; then ok; else bad "--precision auto is not single for a float32 file"; fi
expect 0 train --data SP32.npy --atoms 16 --steps 400 --precision double --out f32d.ovm --quiet
if cmp -s f32a.ovm f32d.ovm; then bad "--precision double gave the single run"; else ok; fi
expect 2 train --data SP32.npy --atoms 16 --precision half --out f32h.ovm; has err.txt "--precision"
expect 2 train --data SP.npy --atoms 16 --stop 2 --out sp0.ovm;     has err.txt "--stop"
expect 2 train --data SP.npy --atoms 16 --stop nan --out sp0.ovm
expect 0 train --data X.npy --atoms 3 --steps 25 --out m.ovm --log log.csv --truth A.npy
has err.txt "step 25/25"; has err.txt "model saved to m.ovm"; has out.txt "MMCS"
lines=$(wc -l < log.csv | tr -d ' ')
if [ "$lines" = 26 ]; then ok; else bad "log.csv has $lines lines, wanted 26"; fi
has log.csv "step,objective"
expect 0 train --data X.npy --atoms 4 --steps 5 --batch 200 --rule natural --solver ista \
  --schedule constant --lr 0.05 --init random --prior laplace --sigma 0.1 --keep final --out m4.ovm --quiet
if [ -s err.txt ] || [ -s out.txt ]; then bad "train --quiet printed something"; else ok; fi
# every output is checked before training: exit 2 at once, nothing written
t0=$(date +%s%N)
expect 2 train --data X.npy --atoms 3 --steps 100000000 --out no/such/dir/m.ovm --quiet
t1=$(date +%s%N)
has err.txt "cannot write 'no/such/dir/m.ovm'"
if [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]; then ok; else bad "the unwritable --out took $(( (t1 - t0) / 1000000 )) ms to be refused"; fi
expect 2 train --data X.npy --atoms 3 --steps 100000000 --out m9.ovm --log no/such/dir/l.csv --quiet
has err.txt "\-\-log: cannot write"
expect 2 train --data X.npy --atoms 3 --steps 100000000 --out m9.ovm --checkpoint no/such/ck.ovm --quiet
has err.txt "\-\-checkpoint: cannot write"
mkdir -p adir
expect 2 train --data X.npy --atoms 3 --steps 100000000 --out adir --quiet; has err.txt "is a directory"
expect 2 train --data X.npy --atoms 3 --steps 5 --out m9.ovm --log m9.ovm; has err.txt "different files"
if [ -e m9.ovm ] || [ -e m9.partial.ovm ]; then bad "a refused run wrote a file"; else ok; fi

# a transposed file, or fewer samples than atoms: refused unless --force
"$OVICA" synth --samples 5 --seed 3 --set random --atoms 12 --dim 8 --out few.npy --quiet
expect 2 train --data few.npy --atoms 12 --steps 2 --out f.ovm; has err.txt "fewer samples than dimensions"
has err.txt "\-\-force"
expect 0 train --data few.npy --atoms 12 --steps 2 --out f.ovm --force; has err.txt "warning"
expect 2 train --data X.npy --atoms 3 --max-samples 2 --steps 2 --out f.ovm; has err.txt "fewer than the 3 atoms"
expect 0 train --data X.npy --atoms 3 --max-samples 2 --steps 2 --out f.ovm --force --quiet

# unknown options and commands: the nearest name is suggested
expect 2 train --data X.npy --atoms 3 --out f.ovm --stesp 5; has err.txt "did you mean --steps?"
expect 2 encode m.ovm --data X.npy --out S.npy --solvr fista; has err.txt "did you mean --solver?"
expect 2 trian;                                   has err.txt "did you mean 'train'?"
expect 2 train --data X.npy --atoms 3 --out f.ovm --zzzzzz 5
if grep -q "did you mean" err.txt; then bad "a suggestion for a name far from every option"; else ok; fi

# the progress names its quantities
# (the rule from draws: its monitor runs every 25 steps; auto's sparse route has none)
expect 0 train --data X.npy --atoms 3 --steps 30 --rule exact --out p.ovm
has err.txt "batch objective"; has err.txt "monitor best"
expect 0 encode m.ovm --data X.npy --out S.npy;   has err.txt "600 samples"
size S.npy $((128 + 600 * 3 * 8))
for s in active auto; do expect 0 encode m.ovm --data X.npy --out Sa.npy --solver $s; has err.txt "($s): 600 converged"; size Sa.npy $((128 + 600 * 3 * 8)); done
expect 1 encode m.ovm --data R.npy --out S.npy;   has err.txt "columns"
expect 0 basis m.ovm --out B.npy;                 size B.npy $((128 + 2 * 3 * 8))
expect 0 basis m.ovm;                             has out.txt "# model m.ovm: m = 2, n = 3"
expect 0 eval m.ovm --truth A.npy --data X.npy;   has out.txt "recovered"; has out.txt "dead"
expect 0 eval m4.ovm --truth A.npy --sign no --threshold 10; has out.txt "MMCS"
expect 1 eval m.ovm --truth RA.npy;               has err.txt "rows"
expect 0 plot --model m.ovm --data X.npy --truth A.npy --curve log.csv --title 'a <&> "title"' --out p.svg
svg p.svg
expect 0 plot --data X.npy --points 100 --out pd.svg;  svg pd.svg
expect 0 plot --curve log.csv --out pc.svg;            svg pc.svg
expect 0 plot --basis RA.npy --truth RA.npy --out pg.svg; svg pg.svg
expect 0 synth --set random --atoms 5 --dim 3 --samples 10 --out R3.npy --basis-out RA3.npy --quiet
expect 0 plot --basis RA3.npy --out pb.svg;            svg pb.svg
expect 1 plot --curve X.npy --out pe.svg

# checkpoints: resume where a run stopped
expect 0 train --data X.npy --atoms 3 --steps 20 --out c20.ovm --checkpoint ck.ovm --checkpoint-every 5 --quiet
expect 0 basis ck.ovm                                   # a checkpoint is also a model file
expect 0 train --data X.npy --resume ck.ovm --steps 30 --out c30.ovm --log l30.csv
has err.txt "at step 30 of 30 (10 steps"
lines=$(wc -l < l30.csv | tr -d ' ')
if [ "$lines" = 11 ]; then ok; else bad "l30.csv has $lines lines, wanted 11"; fi
if sed -n 2p l30.csv | grep -q '^21,'; then ok; else bad "the resumed log does not start at step 21"; fi
expect 2 train --data X.npy --resume ck.ovm --prior laplace --out c.ovm;  has err.txt "checkpoint"
expect 1 train --data X.npy --resume ck.ovm --out c.ovm;   has err.txt "nothing left"
expect 1 train --data X.npy --resume m.ovm --steps 30 --out c.ovm; has err.txt "TRST"
expect 1 train --data X.npy --resume ck.ovm --atoms 4 --steps 40 --out c.ovm; has err.txt "atoms"
expect 1 train --data R.npy --resume ck.ovm --steps 40 --out c.ovm; has err.txt "columns"

# a corrupt model is refused with a clear message
head -c 100 m.ovm > cut.ovm
expect 1 basis cut.ovm;                           has err.txt "truncated"
cp m.ovm flip.ovm; printf 'Z' | dd of=flip.ovm bs=1 seek=60 conv=notrunc 2>/dev/null
expect 1 basis flip.ovm;                          has err.txt "checksum"

# --- a NaN met in a later batch: the file row is named, the best basis so far is
# saved next to the output (seed 7 meets row 2500's block at step 29, after the
# monitor's first evaluation at step 25)
"$OVICA" synth --samples 3000 --seed 3 --out X3k.npy --quiet
python3 - <<'PY' 2>/dev/null
import struct
with open("X3k.npy", "rb") as f:
    b = bytearray(f.read())
hl = struct.unpack("<H", b[8:10])[0]
off = 10 + hl + (2500 * 2 + 1) * 8
b[off:off + 8] = struct.pack("<d", float("nan"))
with open("Xn.npy", "wb") as f:
    f.write(b)
PY
if [ -s Xn.npy ]; then
  expect 1 train --data Xn.npy --atoms 3 --batch 100 --block 100 --steps 60 --seed 7 --rule exact \
    --keep best --out nan.ovm
  has err.txt "Xn.npy holds a non-finite value (nan) at row 2500, column 1"
  has err.txt "training step 29 failed"
  has err.txt "saved the best basis so far (monitor objective"
  has err.txt "nan.partial.ovm"
  if [ -e nan.ovm ]; then bad "a failed run wrote its --out"; else ok; fi
  expect 0 basis nan.partial.ovm;               has out.txt "m = 2, n = 3"
else
  bad "no python3 to write a NaN into a .npy file"
fi

# --- a write failure mid-run (the checkpoint's directory removed): the best basis
# so far is saved next to the output, exit 1
mkdir -p ckdir
"$OVICA" train --data X.npy --atoms 3 --steps 100000000 --checkpoint ckdir/ck.ovm \
  --checkpoint-every 50 --rule exact --keep best --out wf.ovm >wf.out 2>wf.err &
pid=$!
sleep 1
rm -rf ckdir
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then kill -9 $pid; bad "train went on after a failed checkpoint write"; fi
wait $pid; rc=$?
if [ $rc -eq 1 ]; then ok; else bad "train exited with $rc after a write failure, wanted 1"; fi
has wf.err "cannot write the checkpoint"
has wf.err "saved the best basis so far"
expect 0 basis wf.partial.ovm
if [ -e wf.ovm ]; then bad "a failed run wrote its --out"; else ok; fi

# --- Ctrl-C (SIGINT) or SIGTERM: the basis so far is saved to OUT.partial.ovm,
# OUT is left alone, exit 130 or 143 -----------------------------------------------
"$OVICA" train --data X.npy --atoms 3 --steps 100000000 --out int.ovm --checkpoint intck.ovm \
  --checkpoint-every 1000000000 >int.out 2>int.err &
pid=$!
sleep 1
kill -INT $pid 2>/dev/null
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then kill -9 $pid; bad "train did not stop on SIGINT"; fi
wait $pid; rc=$?
if [ $rc -eq 130 ]; then ok; else bad "train exited with $rc after SIGINT, wanted 130"; sed 's/^/    /' int.err | tail -n 3; fi
has int.err "interrupted by SIGINT"
has int.err "int.partial.ovm"
if [ -e int.ovm ]; then bad "an interrupted run wrote its --out"; else ok; fi
expect 0 basis int.partial.ovm
"$OVICA" train --data X.npy --atoms 3 --steps 100000000 --out term.ovm >term.out 2>term.err &
pid=$!
sleep 1
kill -TERM $pid 2>/dev/null
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then kill -9 $pid; bad "train did not stop on SIGTERM"; fi
wait $pid; rc=$?
if [ $rc -eq 143 ]; then ok; else bad "train exited with $rc after SIGTERM, wanted 143"; fi
has term.err "interrupted by SIGTERM"
expect 0 basis term.partial.ovm
k=$(sed -n 's/.*interrupted by SIGINT at step \([0-9]*\) of.*/\1/p' int.err)
if [ -n "$k" ]; then
  ok
  expect 0 train --data X.npy --resume intck.ovm --steps $((k + 2)) --out int2.ovm
  has err.txt "at step $((k + 2)) of $((k + 2)) (2 steps"
else
  bad "no step count in the interrupted run's message"
fi

# --- demo ---------------------------------------------------------------------------
expect 0 demo --out D --samples 2000 --steps 30 --quiet
has out.txt "recovered"; svg D/demo.svg
for f in data.npy truth.npy model.ovm train.csv; do
  if [ -s "D/$f" ]; then ok; else bad "demo did not write D/$f"; fi
done
expect 0 eval D/model.ovm --truth D/truth.npy
expect 1 demo --out X.npy --steps 1 --quiet;      has err.txt "not a directory"

# --- score, cluster, scan -------------------------------------------------------------
expect 0 score m.ovm --data X.npy;                 has out.txt "nats per sample"; has out.txt "bits per dimension"
expect 0 score m.ovm --data X.npy --importance 50; has out.txt "importance sampling"
expect 2 score m.ovm;                              has err.txt "--data"
expect 2 score m.ovm --data X.npy --quantum 0
expect 1 score m.ovm --data RA.npy;                has err.txt "columns"
expect 1 score missing.ovm --data X.npy
expect 0 cluster m4.ovm --data X.npy --k 2 --out c2.ovm; has out.txt "wrote 2 merged atoms (refitted on the data)"
expect 0 cluster m4.ovm --data X.npy --k 2 --refit 0 --out c2p.ovm; has out.txt "wrote 2 merged atoms to"
expect 2 cluster m4.ovm --data X.npy --k 2 --refit 2 --out c.ovm
expect 0 basis c2.ovm;                             has out.txt "2"
expect 0 cluster m4.ovm --data X.npy --k-max 3 --out c3.ovm; has out.txt "chosen"
expect 2 cluster m4.ovm --data X.npy --out c.ovm;  has err.txt "exactly one"
expect 2 cluster m4.ovm --data X.npy --k 9 --out c.ovm; has err.txt "exceeds"
expect 0 scan --data X.npy --atoms 2,3 --steps 5;  has out.txt "<- best"
expect 2 scan --data X.npy --atoms 2,,3;           has err.txt "--atoms"
expect 2 scan --data X.npy --atoms 0
expect 2 scan --data X.npy --atoms 2 --held-out 1

echo "check-cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
