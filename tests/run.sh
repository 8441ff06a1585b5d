#!/bin/sh
# Runs the Check suite binaries given as arguments, JOBS at a time (default:
# the number of cores), then prints each suite's output in order and one
# closing line "check: N passed, N failed" summed over all suites. Exits
# non-zero if any suite failed or crashed.
# OpenBLAS runs single-threaded here: the suites' problems are small, and
# suites already run in parallel.
: "${OPENBLAS_NUM_THREADS:=1}"
export OPENBLAS_NUM_THREADS
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

i=0
running=0
for t in "$@"; do
  i=$((i + 1))
  ( "$t" > "$tmp/$i.out" 2>&1; echo $? > "$tmp/$i.rc" ) &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n 2>/dev/null || wait
    running=$((running - 1))
  fi
done
wait

passed=0; failed=0; status=0; i=0
for t in "$@"; do
  i=$((i + 1))
  cat "$tmp/$i.out"
  rc=$(cat "$tmp/$i.rc" 2>/dev/null || echo 1)
  line=$(grep -E '^[0-9]+%: Checks: ' "$tmp/$i.out" | tail -n 1)
  if [ -n "$line" ]; then
    c=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
    f=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
    e=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
    passed=$((passed + c - f - e)); failed=$((failed + f + e))
  else
    echo "$t: no Check summary (exit $rc)"; failed=$((failed + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
done
echo "check: $passed passed, $failed failed"
exit $status
