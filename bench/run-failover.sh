#!/usr/bin/env bash
# Sentinel failover (issue 23): a primary, a replica and three sentinels (quorum 2, down-after-milliseconds DOWN_MS)
# from redis-server processes on free loopback ports, two flock-server instances on redis-sentinel://, and
# LoadGen failover: --rooms rooms, each with a sender on instance a and a receiver on b, a move every 20 ms; after 3 s
# it kill -9s the primary and reports when every room's fan-out was back, when the sentinels promoted the replica,
# and Flock's own part (back minus promoted). Fresh topology and instances each run; medians at the end.
#
#   bench/run-failover.sh [-n runs] [-r rooms] [-d down-after-ms] [-j "server jvm opts"]
#   e.g. bench/run-failover.sh -n 3 -r 100
#   env: JAR (target/flock-server.jar), BENCH_JAR (bench/target/flock-bench.jar); FAILOVER_PORT_A/B (8781/8782)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
ROOMS=100
DOWN_MS=1000
JVM_OPTS="-Xmx256m"
PORT_A=${FAILOVER_PORT_A:-8781}
PORT_B=${FAILOVER_PORT_B:-8782}
JAR=${JAR:-target/flock-server.jar}
while getopts "n:r:d:j:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    r) ROOMS=$OPTARG ;;
    d) DOWN_MS=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
done
require_jar
require_bench_jar
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "redis-cli is not installed" >&2; exit 2; }
OUT=$(mktemp -d /tmp/flock-failover.XXXXXX)
PIDS=()
trap stop_all EXIT

phase() {  # run
  local run=$1
  refuse_busy "$PORT_A" "$PORT_B"
  local dir="$OUT/run$run"; mkdir -p "$dir"
  local primary; primary=$(free_port)
  redis-server --port "$primary" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >"$dir/primary.log" 2>&1 &
  local primary_pid=$!; PIDS+=("$primary_pid")
  wait_port "$primary" "$primary_pid" primary "$dir/primary.log"
  start_sentinels "$primary" "$dir" "$DOWN_MS"
  for name in a b; do
    local port=$PORT_A; [ "$name" = b ] && port=$PORT_B
    # shellcheck disable=SC2086
    (ulimit -n 20000; FLOCK_PORT=$port FLOCK_HOST=127.0.0.1 FLOCK_REDIS_URL="$SENTINEL_URL" \
      FLOCK_MAX_CONNECTIONS_PER_IP=0 FLOCK_LOG_LEVEL=info exec java $JVM_OPTS -jar "$JAR") >"$dir/$name.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$port" "$!" "$name" "$dir/$name.log"
  done
  echo "== run $run/$RUNS: primary $primary (pid $primary_pid), sentinels ${SENTINEL_PORTS[*]}"
  java -cp "$BENCH_JAR" dev.flock.bench.LoadGen failover --url "ws://127.0.0.1:$PORT_A/,ws://127.0.0.1:$PORT_B/" \
    --rooms "$ROOMS" --kill-pid "$primary_pid" --sentinel "127.0.0.1:${SENTINEL_PORTS[0]}" --label "run$run" | tee "$dir/gen.log"
  grep '^RESULT ' "$dir/gen.log" | cut -c8- >>"$OUT/failover.jsonl" || echo "no RESULT" >&2
  stop_all
}

for run in $(seq "$RUNS"); do
  phase "$run"
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/failover.jsonl")]
def med(k):
    return statistics.median(r[k] for r in rows)
print(f"medians of {len(rows)} runs: every room back {med('backSlowestS'):.2f} s after the kill (median room"
      f" {med('backMedianS'):.2f} s); sentinels promoted at {med('promotedS'):.2f} s; Flock's part {med('flockPartS'):.2f} s")
print("per run (slowest room, promoted):", ", ".join(f"{r['backSlowestS']:.2f}/{r['promotedS']:.2f}" for r in rows))
PY
echo "logs: $OUT"
