#!/usr/bin/env bash
# Fan-out benchmark, several runs in one session, medians at the end (docs/BENCHMARKS.md).
# Each run starts a fresh server, drives it with LoadGen (which samples the server's CPU and RSS via
# --server-pid), then stops it. With -t floor,flock both servers alternate within every run, so their
# ratios come from the same machine state: only same-session ratios are comparable on shared machines.
#
#   bench/run-fanout.sh [-n runs] [-f flush-ms] [-t floor|flock|floor,flock] [-j "jvm opts"] [-- LoadGen options]
#   e.g. bench/run-fanout.sh -n 3 -f 16 -t floor,flock -- --rooms 40 --users 10 --hz 20 --warmup 20 --duration 20
#   env: JAR, the server (target/flock-server.jar); BENCH_JAR, LoadGen and FloorServer (bench/target/flock-bench.jar, built when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
FLUSH=16
TARGETS=floor
JVM_OPTS="-Xmx256m"
FLOOR_PORT=${FLOOR_PORT:-8788}
FLOCK_BENCH_PORT=${FLOCK_BENCH_PORT:-8797}
JAR=${JAR:-target/flock-server.jar}
while getopts "n:f:t:j:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    f) FLUSH=$OPTARG ;;
    t) TARGETS=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
loadgen_options "$@"
require_jar
require_bench_jar

OUT=$(mktemp -d /tmp/flock-bench.XXXXXX)
SERVER_PID=

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

# start_server target -> sets SERVER_PID and PORT; waits (bounded) until the port accepts connections.
start_server() {
  local target=$1
  case $target in
    floor) PORT=$FLOOR_PORT
           refuse_busy "$PORT"
           # shellcheck disable=SC2086
           java $JVM_OPTS -cp "$BENCH_JAR" dev.flock.bench.FloorServer --port "$PORT" --flush-interval-ms "$FLUSH" \
             >"$OUT/$target.server.log" 2>&1 &
           ;;
    flock) PORT=$FLOCK_BENCH_PORT
           refuse_busy "$PORT"
           # shellcheck disable=SC2086
           FLOCK_PORT=$PORT FLOCK_FLUSH_INTERVAL_MS=$FLUSH FLOCK_LOG_LEVEL=warn java $JVM_OPTS -jar "$JAR" \
             >"$OUT/$target.server.log" 2>&1 &
           ;;
    *) echo "unknown target $target (floor or flock)" >&2; exit 2 ;;
  esac
  SERVER_PID=$!
  wait_port "$PORT" "$SERVER_PID" "$target" "$OUT/$target.server.log"
}

IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for run in $(seq "$RUNS"); do
  for target in "${TARGET_LIST[@]}"; do
    start_server "$target"
    echo "== run $run/$RUNS: $target (flush ${FLUSH} ms, pid $SERVER_PID)"
    java -cp "$BENCH_JAR" dev.flock.bench.LoadGen fanout --url "ws://127.0.0.1:$PORT/" --server-pid "$SERVER_PID" \
      "${LOADGEN_OPTS[@]}" | tee "$OUT/$target.$run.log"
    grep '^RESULT ' "$OUT/$target.$run.log" | cut -c8- >>"$OUT/$target.jsonl"
    stop_server
  done
done

python3 - "$OUT" "${TARGET_LIST[@]}" <<'PY'
import json, statistics, sys
out, targets = sys.argv[1], sys.argv[2:]
keys = ["actualDeliveriesPerSec", "deliveryRatio", "deliveryP50Ms", "deliveryP99Ms", "deliveryMaxMs",
        "serverCpuSPerMillionDeliveries", "serverCores", "generatorCores", "serverPeakRssMb", "otherProcessesCores"]
med = {}
for t in targets:
    rows = [json.loads(l) for l in open(f"{out}/{t}.jsonl")]
    med[t] = {k: statistics.median(r[k] for r in rows if r.get(k) is not None) for k in keys}
    print(f"\nmedians of {len(rows)} runs, {t}:")
    for k in keys:
        print(f"  {k:32s} {med[t][k]:12.3f}")
if "floor" in med and "flock" in med:
    f, o = med["floor"], med["flock"]
    print("\nflock vs floor (medians, same session):")
    print(f"  CPU per delivery ratio  {o['serverCpuSPerMillionDeliveries'] / f['serverCpuSPerMillionDeliveries']:.3f}")
    print(f"  p99 difference          {o['deliveryP99Ms'] - f['deliveryP99Ms']:+.2f} ms")
print(f"\nlogs and RESULT lines: {out}")
PY
