#!/usr/bin/env bash
# Run `npm test` N times in a row (default 5) while a CPU hog spins on one core; print each
# run's wall time and pass/fail counts, and the log directory. Exit 1 if any run failed.
#   scripts/test-under-load.sh [runs]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
logs=$(mktemp -d "${TMPDIR:-/tmp}/tg-load-XXXXXX")
node -e 'for (;;) {}' &
hog=$!
trap 'kill "$hog" 2>/dev/null' EXIT
echo "CPU hog: pid $hog; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); logs: $logs"
bad=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  npm test >"$logs/run-$i.log" 2>&1
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  pass=$(grep -aE '^(# |ℹ )pass ' "$logs/run-$i.log" | tail -1 | awk '{print $3}')
  fail=$(grep -aE '^(# |ℹ )fail ' "$logs/run-$i.log" | tail -1 | awk '{print $3}')
  [ "$rc" -ne 0 ] && bad=$((bad + 1))
  printf 'run %d: exit %d, %.1f s, pass %s, fail %s, load %s\n' "$i" "$rc" "$secs" "${pass:-?}" "${fail:-?}" "$(cut -d' ' -f1 /proc/loadavg)"
done
echo "$((runs - bad)) of $runs runs green"
[ "$bad" -eq 0 ]
