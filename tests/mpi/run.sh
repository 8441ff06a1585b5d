#!/bin/sh
# make check-mpi: the MPI tests (docs/SCALING.md).
#   sh tests/mpi/run.sh MPIRUN BINDIR
# 1. build/mpi/check_mpi on 2 ranks, then on 3 (unequal shards, a reduction
#    tree that is not a power of two): rank shards vs one process, bit-identical
#    ranks, reduce modes, a rule from draws, checkpoint and resume in-process;
# 2. a real restart of the program: ovica-mpi-train stopped after step 25
#    (last checkpoint at step 20), started again with --resume, compared with
#    an uninterrupted run.
# As root OpenMPI needs its two consent variables; --oversubscribe lets the
# ranks outnumber the cores. OpenBLAS is single-threaded in every rank.
mpirun=${1:-mpirun}
bin=${2:-build/mpi}
if [ "$(id -u)" -eq 0 ]; then
  OMPI_ALLOW_RUN_AS_ROOT=1; OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
fi
OPENBLAS_NUM_THREADS=1; export OPENBLAS_NUM_THREADS
run() { "$mpirun" --oversubscribe -x OPENBLAS_NUM_THREADS "$@"; }
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

for np in 2 3; do
  echo "== check-mpi: $np ranks"
  run -np $np "$bin/check_mpi" > "$tmp/out.$np" 2> "$tmp/err.$np" || fail=1
  cat "$tmp/out.$np"
  if [ $fail -ne 0 ]; then cat "$tmp/err.$np"; fi
done

echo "== check-mpi: restart of ovica-mpi-train (2 ranks)"
"$bin/check_mpi" --synth "$tmp/X.npy" || fail=1
common="--data $tmp/X.npy --atoms 8 --prior laplace --rule natural --steps 40 --batch 300
        --seed 9 --monitor-rows 400 --monitor-every 5 --keep final --verify-every 1 --quiet"
# shellcheck disable=SC2086
run -np 2 "$bin/ovica-mpi-train" $common --out "$tmp/full.ovm" || fail=1
# shellcheck disable=SC2086
run -np 2 "$bin/ovica-mpi-train" $common --checkpoint "$tmp/ck.ovm" --checkpoint-every 10 \
    --stop-after 25 --out "$tmp/never.ovm" || fail=1
if [ -e "$tmp/never.ovm" ]; then echo "FAIL: a stopped run wrote its model"; fail=1; fi
# shellcheck disable=SC2086
run -np 2 "$bin/ovica-mpi-train" $common --checkpoint "$tmp/ck.ovm" --resume "$tmp/ck.ovm" \
    --out "$tmp/resumed.ovm" || fail=1
"$bin/check_mpi" --compare "$tmp/resumed.ovm" "$tmp/full.ovm" 1e-6 || fail=1
# bad usage is refused with status 2 on every rank
run -np 2 "$bin/ovica-mpi-train" --data "$tmp/X.npy" --atoms 0 > /dev/null 2>&1
rc=$?
if [ $rc -ne 2 ]; then echo "FAIL: --atoms 0 gave exit status $rc, wanted 2"; fail=1; fi
run -np 2 "$bin/ovica-mpi-train" --data "$tmp/missing.npy" --atoms 3 --quiet > /dev/null 2>&1 && {
  echo "FAIL: a missing data file was accepted"; fail=1; }

if [ $fail -eq 0 ]; then echo "check-mpi: all passed"; else echo "check-mpi: FAILED"; fi
exit $fail
