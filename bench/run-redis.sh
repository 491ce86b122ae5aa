#!/usr/bin/env bash
# Redis-mode fan-out benchmark (docs/BENCHMARKS.md): a fresh redis-server on a free loopback port, two
# flock-server instances on it, LoadGen spreading every room over both (--url a,b), N runs, medians at the end.
# LoadGen sums CPU over both instances and Redis (--server-pid i1,i2,redis); this script also prints each
# process's share, so the reader sees where the CPU went.
#
#   bench/run-redis.sh [-n runs] [-f flush-ms] [-j "jvm opts"] [-s] [-- LoadGen options]
#   -s: through Sentinel (issue 23): the Redis gets a replica and three sentinels, the instances redis-sentinel://;
#       the replica's and the sentinels' CPU is reported apart (not in serverCpuSPerMillionDeliveries)
#   e.g. bench/run-redis.sh -n 3 -j "-Xmx256m -XX:ActiveProcessorCount=1" -- --rooms 40 --users 10 --hz 20 --warmup 45 --duration 20
#   env: JAR, the server (target/flock-server.jar); BENCH_JAR, LoadGen (bench/target/flock-bench.jar, built when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
FLUSH=16
JVM_OPTS="-Xmx256m"
PORT_A=${PORT_A:-8785}
PORT_B=${PORT_B:-8786}
JAR=${JAR:-target/flock-server.jar}
SENTINEL=0
while getopts "n:f:j:sh" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    f) FLUSH=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    s) SENTINEL=1 ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
loadgen_options "$@"
require_jar
require_bench_jar
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }

OUT=$(mktemp -d /tmp/flock-redis-bench.XXXXXX)
PIDS=()

# utime+stime of a pid in clock ticks
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

trap stop_all EXIT

for run in $(seq "$RUNS"); do
  refuse_busy "$PORT_A" "$PORT_B"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --notify-keyspace-events Ex >"$OUT/redis.log" 2>&1 &
  REDIS_PID=$!; PIDS+=("$REDIS_PID")
  wait_port "$REDIS_PORT" "$REDIS_PID" redis "$OUT/redis.log"
  URL="redis://127.0.0.1:$REDIS_PORT"
  if [ "$SENTINEL" = 1 ]; then
    mkdir -p "$OUT/sentinel$run"
    start_sentinels "$REDIS_PORT" "$OUT/sentinel$run" 5000
    URL=$SENTINEL_URL
    HA_PIDS=("$REPLICA_PID" "${PIDS[@]: -3}")
  fi
  for name in a b; do
    port=$PORT_A; [ "$name" = b ] && port=$PORT_B
    # shellcheck disable=SC2086
    FLOCK_PORT=$port FLOCK_REDIS_URL="$URL" FLOCK_FLUSH_INTERVAL_MS=$FLUSH \
      FLOCK_LOG_LEVEL=warn java $JVM_OPTS -jar "$JAR" >"$OUT/$name.log" 2>&1 &
    pid=$!; PIDS+=("$pid"); eval "PID_$name=$pid"
    wait_port "$port" "$pid" "$name" "$OUT/$name.log"
  done
  echo "== run $run/$RUNS: redis $REDIS_PID, instances $PID_a $PID_b (flush ${FLUSH} ms)"
  before=("$(ticks "$PID_a")" "$(ticks "$PID_b")" "$(ticks "$REDIS_PID")")
  ha_before=0; if [ "$SENTINEL" = 1 ]; then for p in "${HA_PIDS[@]}"; do ha_before=$((ha_before + $(ticks "$p"))); done; fi
  java -cp "$BENCH_JAR" dev.flock.bench.LoadGen fanout --url "ws://127.0.0.1:$PORT_A/,ws://127.0.0.1:$PORT_B/" \
    --server-pid "$PID_a,$PID_b,$REDIS_PID" "${LOADGEN_OPTS[@]}" | tee "$OUT/run.$run.log"
  after=("$(ticks "$PID_a")" "$(ticks "$PID_b")" "$(ticks "$REDIS_PID")")
  ha_after=0; if [ "$SENTINEL" = 1 ]; then for p in "${HA_PIDS[@]}"; do ha_after=$((ha_after + $(ticks "$p"))); done; fi
  hz=$(getconf CLK_TCK)
  echo "   CPU seconds over the whole run: instance a $(( (after[0]-before[0]) / hz )).$(( (after[0]-before[0]) % hz )), instance b $(( (after[1]-before[1]) / hz )).$(( (after[1]-before[1]) % hz )), redis $(( (after[2]-before[2]) / hz )).$(( (after[2]-before[2]) % hz ))" \
    | tee -a "$OUT/run.$run.log"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["instanceACpuS"], r["instanceBCpuS"], r["redisCpuS"], r["replicaAndSentinelsCpuS"] = [float(x)/float(sys.argv[6]) for x in sys.argv[2:6]]; print(json.dumps(r))' \
    "$(grep '^RESULT ' "$OUT/run.$run.log" | cut -c8-)" \
    "$(( after[0]-before[0] ))" "$(( after[1]-before[1] ))" "$(( after[2]-before[2] ))" "$(( ha_after-ha_before ))" "$hz" >>"$OUT/redis.jsonl"
  stop_all
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
keys = ["actualDeliveriesPerSec", "deliveryRatio", "deliveryP50Ms", "deliveryP99Ms", "deliveryMaxMs",
        "serverCpuSPerMillionDeliveries", "serverCores", "generatorCores", "otherProcessesCores",
        "instanceACpuS", "instanceBCpuS", "redisCpuS", "replicaAndSentinelsCpuS"]
rows = [json.loads(l) for l in open(f"{out}/redis.jsonl")]
print(f"\nmedians of {len(rows)} runs (CPU per process: whole run, connect and warm-up included):")
for k in keys:
    vals = [r[k] for r in rows if r.get(k) is not None]
    if vals:
        print(f"  {k:32s} {statistics.median(vals):12.3f}")
print(f"\nlogs and RESULT lines: {out}")
PY
