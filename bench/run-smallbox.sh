#!/usr/bin/env bash
# The small box of issue 9 (docs/BENCHMARKS.md): the jar started exactly as the Dockerfile starts it (its JAVA_OPTS,
# read from the Dockerfile, MALLOC_ARENA_MAX=2, --conf conf/flock.json) with the JVM told it has 256 MB
# (-XX:MaxRAM=256m, what the container limit does), 2,000 users in rooms of 10 of whom 200 move at 20 Hz.
# Each run starts a fresh server; prints medians and the server's peak RSS (VmHWM).
#
#   bench/run-smallbox.sh [-n runs] [-w warm-up seconds] [-j "extra jvm opts"]
#   env: JAR, the server (target/flock-server.jar); BENCH_JAR, LoadGen (bench/target/flock-bench.jar, built when missing);
#        CONF, its config file (conf/flock.json; an older jar refuses keys it does not know: give it its own)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
WARMUP=45
EXTRA=""
PORT=${SMALLBOX_PORT:-8798}
JAR=${JAR:-target/flock-server.jar}
while getopts "n:w:j:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    j) EXTRA=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
require_jar
require_bench_jar
# the ENV JAVA_OPTS="..." value of the Dockerfile, continuation lines joined
JAVA_OPTS=$(sed -n '/^ENV JAVA_OPTS="/,/"/p' Dockerfile | tr -d '\\\n' | sed 's/^ENV JAVA_OPTS="\([^"]*\)".*/\1/')
[ -n "$JAVA_OPTS" ] || { echo "no JAVA_OPTS in the Dockerfile" >&2; exit 2; }
echo "JAVA_OPTS (Dockerfile): $JAVA_OPTS -XX:MaxRAM=256m $EXTRA"

OUT=$(mktemp -d /tmp/flock-smallbox.XXXXXX)
PID=
stop_server() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; fi
}
trap stop_server EXIT

for run in $(seq "$RUNS"); do
  refuse_busy "$PORT"
  # shellcheck disable=SC2086
  MALLOC_ARENA_MAX=2 FLOCK_PORT=$PORT FLOCK_HOST=127.0.0.1 java $JAVA_OPTS -XX:MaxRAM=256m $EXTRA \
    -jar "$JAR" --conf "${CONF:-conf/flock.json}" >"$OUT/server.$run.log" 2>&1 &
  PID=$!
  wait_port "$PORT" "$PID" server "$OUT/server.$run.log"
  echo "== run $run/$RUNS (pid $PID, warm-up ${WARMUP} s)"
  java -cp "$BENCH_JAR" dev.flock.bench.LoadGen fanout --url "ws://127.0.0.1:$PORT/" --rooms 200 --users 10 --movers 1 \
    --hz 20 --warmup "$WARMUP" --duration 30 --server-pid "$PID" | tee "$OUT/run.$run.log"
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  echo "   server peak RSS (VmHWM) $((hwm / 1024)) MB"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["vmHwmMb"]=int(sys.argv[2])/1024; print(json.dumps(r))' \
    "$(grep '^RESULT ' "$OUT/run.$run.log" | cut -c8-)" "$hwm" >>"$OUT/smallbox.jsonl"
  stop_server
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(f"{out}/smallbox.jsonl")]
keys = ["joined", "actualDeliveriesPerSec", "deliveryRatio", "deliveryP50Ms", "deliveryP99Ms", "deliveryMaxMs",
        "heartbeatsUnanswered", "serverCpuSPerMillionDeliveries", "serverCores", "generatorCores", "vmHwmMb",
        "otherProcessesCores"]
print(f"\nmedians of {len(rows)} runs (targets: no errors, p99 <= 30 ms, RSS < 256 MB):")
for k in keys:
    print(f"  {k:32s} {statistics.median(r[k] for r in rows):12.3f}")
print(f"  errors (all runs)                {[r['errors'] for r in rows]}")
print(f"\nlogs and RESULT lines: {out}")
PY
