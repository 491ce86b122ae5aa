#!/usr/bin/env bash
# A/B of two server jars on one machine (docs/BENCHMARKS.md): runs one bench script with JAR=A, then with JAR=B,
# one run each, N times in alternation (so both see the same machine state), and prints the medians of A and B
# and the ratio B/A of each figure. Only same-session ratios are comparable on a shared machine.
#
#   bench/run-ab.sh [-n runs] A.jar B.jar -- bench/<script>.sh [script options, without -n]
#   e.g. bench/run-ab.sh -n 3 /tmp/before.jar target/flock-server.jar -- bench/run-fanout.sh -f 16 -t flock
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3
while getopts "n:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    *) sed -n '2,7p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 4 ] && [ "$3" = "--" ] || { sed -n '2,7p' "$0"; exit 2; }
A=$1 B=$2
shift 3
for jar in "$A" "$B"; do [ -f "$jar" ] || { echo "no such jar: $jar" >&2; exit 2; }; done
OUT=$(mktemp -d /tmp/flock-ab.XXXXXX)
for run in $(seq "$RUNS"); do
  for side in A B; do
    jar=$A; [ "$side" = B ] && jar=$B
    echo "== A/B run $run/$RUNS: $side ($jar): $*"
    JAR=$jar "$1" -n 1 "${@:2}" | tee "$OUT/$side.$run.log"
    grep '^RESULT ' "$OUT/$side.$run.log" | cut -c8- >>"$OUT/$side.jsonl"
  done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
keys = ["actualDeliveriesPerSec", "deliveryRatio", "deliveryP50Ms", "deliveryP99Ms", "serverCpuSPerMillionDeliveries",
        "serverCores", "serverPeakRssMb", "otherProcessesCores", "skippedSendSlots"]
rows = {s: [json.loads(l) for l in open(f"{out}/{s}.jsonl")] for s in "AB"}
print(f"\nmedians of {len(rows['A'])} runs each (A = first jar, B = second), and B/A:")
for k in keys:
    vals = {s: [r[k] for r in rows[s] if r.get(k) is not None] for s in "AB"}
    if not vals["A"] or not vals["B"]:
        continue
    a, b = statistics.median(vals["A"]), statistics.median(vals["B"])
    ratio = f"{b / a:8.3f}" if a else "       -"
    print(f"  {k:32s} A {a:10.3f}   B {b:10.3f}   B/A {ratio}   (A runs {vals['A']}, B runs {vals['B']})")
print(f"\nlogs and RESULT lines: {out}")
PY
