#!/bin/sh
# Test of `ovica separate` (run by `make check-cli`, part of `make check`):
# three espeak-ng voices (different voices, languages and sentences, about
# 4.5 s each, resampled to 8 kHz) are mixed into 2 channels by a known 2 x 3
# matrix; `ovica separate` with its defaults must recover them with a mean
# SNR of at least 10 dB (each output matched to a voice by the best
# permutation, scaled by least squares). Also prints the SNR that the TRUE
# matrix gives with the same inference (--mixing: the ceiling of the
# inference) and the time taken; checks exit codes, the outputs, Ctrl-C,
# the raw domain, 16-bit input and that equal seeds give equal files.
# Usage: sh tests/cli/separate.sh path/to/ovica path/to/mixwav
set -u
OVICA=${1:?usage: separate.sh path/to/ovica path/to/mixwav}
MIXWAV=${2:?usage: separate.sh path/to/ovica path/to/mixwav}
case $OVICA in /*) ;; *) OVICA=$(pwd)/$OVICA ;; esac
case $MIXWAV in /*) ;; *) MIXWAV=$(pwd)/$MIXWAV ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/ovica_separate.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1
export OPENBLAS_NUM_THREADS=1
BAR=${SEPARATE_MIN_SNR:-10}

passed=0; failed=0
ok()  { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() {
  want=$1; shift
  "$OVICA" "$@" >out.txt 2>err.txt
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else
    bad "ovica $* exited with $got, wanted $want"; sed 's/^/    /' err.txt | head -n 5
  fi
}
has() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2'"; sed 's/^/    /' "$1" | head -n 5; fi; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "FAIL: espeak-ng is missing (make deps-cli installs it)"; exit 1
fi

# --- the mixture -------------------------------------------------------------------
espeak-ng -v en-us -w v1.wav "The quick brown fox jumps over the lazy dog near the river bank this morning." &&
espeak-ng -v en+f3 -w v2.wav "She sells sea shells by the sea shore, and the shells she sells are surely seashells." &&
espeak-ng -v de -w v3.wav "Guten Morgen, heute scheint die Sonne und wir gehen zusammen im Park spazieren." ||
  { echo "FAIL: espeak-ng could not speak"; exit 1; }
# columns at 17.5, 53.1 and 107.5 degrees
"$MIXWAV" mix 8000 "0.95,0.6,-0.3;0.3,0.8,0.95" mix.wav truth.npy ref v1.wav v2.wav v3.wav > mix.txt ||
  { echo "FAIL: mixwav mix"; exit 1; }
REFS="ref-1.wav ref-2.wav ref-3.wav"

# --- usage and failures ---------------------------------------------------------------
expect 0 separate --help;                                  has out.txt "usage: ovica separate"
expect 2 separate --in mix.wav --out o;                    has err.txt "--sources"
expect 2 separate --sources 3 --out o;                     has err.txt "--in"
expect 2 separate --in mix.wav --sources 3;                has err.txt "--out"
expect 2 separate --in mix.wav --sources 3 --out o --domain fourier
expect 2 separate --in mix.wav --sources 3 --out o --hop 300; has err.txt "half the window"
expect 2 separate --in mix.wav --sources 3 --out o --compress 1.5
expect 1 separate --in missing.wav --sources 3 --out o;    has err.txt "missing.wav"
expect 1 separate --in truth.npy --sources 3 --out o;      has err.txt "truth.npy"
expect 1 separate --in mix.wav --sources 2 --out o --mixing truth.npy; has err.txt "2 x 3"
expect 1 separate --in mix.wav --sources 3 --out mix.wav --steps 1; has err.txt "not a directory"

# --- separation with the defaults: the figure of merit ---------------------------------
t0=$(now)
expect 0 separate --in mix.wav --sources 3 --out sep
t1=$(now)
cp err.txt sep.err
has sep.err "wrote sep/source-1.wav"
for f in source-1.wav source-2.wav source-3.wav mixing.npy; do
  if [ -s "sep/$f" ]; then ok; else bad "separate did not write sep/$f"; fi
done
"$MIXWAV" snr 3 $REFS sep/source-1.wav sep/source-2.wav sep/source-3.wav > snr.txt || bad "mixwav snr"
snr=$(sed -n 's/^mean SNR \(.*\) dB$/\1/p' snr.txt)

t2=$(now)
expect 0 separate --in mix.wav --sources 3 --out ceil --mixing truth.npy --quiet
t3=$(now)
"$MIXWAV" snr 3 $REFS ceil/source-1.wav ceil/source-2.wav ceil/source-3.wav > ceil.txt || bad "mixwav snr"
ceil=$(sed -n 's/^mean SNR \(.*\) dB$/\1/p' ceil.txt)

echo "separate: 3 espeak-ng voices mixed into 2 channels at 8 kHz ($(sed -n 's/.*(\([0-9.]* s\)).*/\1/p' mix.txt))"
sed 's/^/  ovica:      /' snr.txt
echo "separate: libovica (learned basis): mean SNR ${snr:-?} dB in $(secs "$t0" "$t1") s" \
     "| true mixing matrix, same inference (ceiling): ${ceil:-?} dB in $(secs "$t2" "$t3") s | bar $BAR dB"
grep 'learned in' sep.err | sed 's/^/  /'
if [ -n "$snr" ] && awk -v s="$snr" -v b="$BAR" 'BEGIN { exit !(s >= b) }'; then ok; else
  bad "mean SNR ${snr:-?} dB is below $BAR dB"; fi
if [ -n "$ceil" ] && awk -v s="$ceil" 'BEGIN { exit !(s >= 11) }'; then ok; else
  bad "the true matrix gives ${ceil:-?} dB: the inference or the test data changed"; fi

# --- equal seeds give equal files; the raw domain; 16-bit mono input --------------------
expect 0 separate --in mix.wav --sources 3 --out d1 --steps 30 --quiet
expect 0 separate --in mix.wav --sources 3 --out d2 --steps 30 --quiet
if [ -s err.txt ] || [ -s out.txt ]; then bad "separate --quiet printed something"; else ok; fi
for f in source-1.wav source-2.wav source-3.wav mixing.npy; do
  if cmp -s "d1/$f" "d2/$f"; then ok; else bad "separate is not reproducible: d1/$f differs"; fi
done
expect 0 separate --in mix.wav --sources 3 --out raw --domain raw --steps 20 --quiet
expect 0 separate --in v1.wav --sources 2 --out mono --steps 10 --window 256 --hop 64 --quiet

# --- Ctrl-C: stops learning, separates with the basis so far, exit 130 -----------------
"$OVICA" separate --in mix.wav --sources 3 --out int --steps 100000000 >int.out 2>int.err &
pid=$!
sleep 2
kill -INT $pid 2>/dev/null
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then kill -9 $pid; bad "separate did not stop on SIGINT"; fi
wait $pid; rc=$?
if [ $rc -eq 130 ]; then ok; else bad "separate exited with $rc after SIGINT, wanted 130"; sed 's/^/    /' int.err | tail -n 3; fi
if [ -s int/source-3.wav ] && [ -s int/mixing.npy ]; then ok; else bad "an interrupted separate wrote no sources"; fi

echo "check-cli separate: $passed passed, $failed failed"
[ $failed -eq 0 ]
