#!/bin/sh
# Runs Check suite binaries under a tool (sanitizer build, valgrind), JOBS at
# a time, and prints one closing line "LABEL: N passed, N failed" in the
# style of tests/run.sh. A suite counts its failed checks; a suite that exits
# non-zero although its checks passed (a sanitizer or valgrind report, a leak
# found at exit) or prints no Check summary counts one more failure.
#   usage: run_tool.sh LABEL JOBS "WRAPPER COMMAND" suite...
# WRAPPER may be "" (the suites run directly).
label=$1; jobs=$2; wrap=$3
shift 3
dir=$(mktemp -d "${TMPDIR:-/tmp}/ovica-$label.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
start=$(date +%s)
i=0
for t in "$@"; do
  i=$((i + 1))
  printf '%s %s\n' "$i" "$t"
done | xargs -P "$jobs" -n 2 sh -c '
  s=$(date +%s)
  $0 "$3" > "$1/$2.out" 2>&1
  echo $? > "$1/$2.rc"
  echo $(( $(date +%s) - s )) > "$1/$2.sec"
' "$wrap" "$dir"
passed=0; failed=0; status=0; i=0
for t in "$@"; do
  i=$((i + 1))
  out=$(cat "$dir/$i.out" 2>/dev/null); rc=$(cat "$dir/$i.rc" 2>/dev/null || echo 127)
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
  if [ -n "$line" ]; then
    c=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
    f=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
    e=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
    passed=$((passed + c - f - e)); failed=$((failed + f + e))
    if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
      echo "$t: $label: exit $rc with all checks passed (tool report above)"
      failed=$((failed + 1))
    fi
  else
    echo "$t: $label: no Check summary (exit $rc)"; failed=$((failed + 1))
  fi
  echo "($label: $t took $(cat "$dir/$i.sec" 2>/dev/null) s)"
  [ "$rc" -ne 0 ] && status=1
done
echo "($label: $(( $(date +%s) - start )) s in all)"
echo "$label: $passed passed, $failed failed"
exit $status
