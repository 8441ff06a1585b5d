#!/bin/sh
# Runs each Check suite binary given as an argument, then prints one closing
# line "check: N passed, N failed" summed over all suites. Exits non-zero if
# any suite failed or crashed.
passed=0; failed=0; status=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
  if [ -n "$line" ]; then
    c=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
    f=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
    e=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
    passed=$((passed + c - f - e)); failed=$((failed + f + e))
  else
    echo "$t: no Check summary (exit $rc)"; failed=$((failed + 1))
  fi
  [ $rc -ne 0 ] && status=1
done
echo "check: $passed passed, $failed failed"
exit $status
