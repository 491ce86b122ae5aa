#!/usr/bin/env bash
# Rolling restart (issue 20): a fresh redis-server on a free loopback port, two flock-server instances on it, and
# LoadGen restart: --conns SDK-like clients (rooms of 10, half on each instance; after a close each reconnects 1 s
# later, to the instance that stays, as a load balancer would send it, and re-joins). Once all joined it sends SIGTERM
# to instance a. Each run does it twice, with a fresh fleet each time: FLOCK_SHUTDOWN_SPREAD_MS=SPREAD (the closes
# spread over the window, 2000 by default) and FLOCK_SHUTDOWN_SPREAD_MS=0 (all at once, the reference). Reports per
# phase: every client of a back after how long, the peak re-join rate (most re-joins in any 100 ms, per second; and
# the most in any one second), and the presence events that
# any client saw about another user after the SIGTERM (the reconnect grace should make them 0). Medians at the end,
# and the peak ratio spread / all-at-once of each run.
#
#   bench/run-restart.sh [-n runs] [-c conns] [-s spread-ms] [-j "server jvm opts"]
#   e.g. bench/run-restart.sh -n 3 -c 4000
#   env: JAR (target/flock-server.jar), BENCH_JAR (bench/target/flock-bench.jar); RESTART_PORT_A/B (8771/8772)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
CONNS=4000
SPREAD=2000
JVM_OPTS="-Xmx256m"
PORT_A=${RESTART_PORT_A:-8771}
PORT_B=${RESTART_PORT_B:-8772}
JAR=${JAR:-target/flock-server.jar}
while getopts "n:c:s:j:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    s) SPREAD=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
done
require_jar
require_bench_jar
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }
OUT=$(mktemp -d /tmp/flock-restart.XXXXXX)
PIDS=()
trap stop_all EXIT

phase() {  # run spread
  local run=$1 spread=$2
  refuse_busy "$PORT_A" "$PORT_B"
  local redis_port; redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 &
  local redis_pid=$!; PIDS+=("$redis_pid")
  wait_port "$redis_port" "$redis_pid" redis "$OUT/redis.log"
  local pid_a pid_b
  for name in a b; do
    local port=$PORT_A; [ "$name" = b ] && port=$PORT_B
    # shellcheck disable=SC2086
    (ulimit -n 20000; FLOCK_PORT=$port FLOCK_HOST=127.0.0.1 FLOCK_REDIS_URL="redis://127.0.0.1:$redis_port" \
      FLOCK_SHUTDOWN_SPREAD_MS=$spread FLOCK_SHUTDOWN_TIMEOUT_MS=10000 FLOCK_MAX_CONNECTIONS_PER_IP=0 \
      FLOCK_LOG_LEVEL=warn exec java $JVM_OPTS -jar "$JAR") >"$OUT/$name.$run.$spread.log" 2>&1 &
    local pid=$!; PIDS+=("$pid"); eval "pid_$name=$pid"
    wait_port "$port" "$pid" "$name" "$OUT/$name.$run.$spread.log"
  done
  echo "== run $run/$RUNS, FLOCK_SHUTDOWN_SPREAD_MS=$spread: redis $redis_pid, instances $pid_a (to stop) $pid_b"
  (ulimit -n 20000; exec java -cp "$BENCH_JAR" dev.flock.bench.LoadGen restart \
    --url "ws://127.0.0.1:$PORT_A/,ws://127.0.0.1:$PORT_B/" --conns "$CONNS" --stop-pid "$pid_a" \
    --label "spread$spread/run$run") | tee "$OUT/gen.$run.$spread.log"
  grep '^RESULT ' "$OUT/gen.$run.$spread.log" | cut -c8- | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["spreadMs"]=int(sys.argv[1]); r["run"]=int(sys.argv[2]); print(json.dumps(r))' "$spread" "$run" >>"$OUT/restart.jsonl" || echo "no RESULT" >&2
  stop_all
}

for run in $(seq "$RUNS"); do
  phase "$run" "$SPREAD"
  phase "$run" 0
done

python3 - "$OUT" "$SPREAD" <<'PY'
import json, statistics, sys
out, spread = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(f"{out}/restart.jsonl")]
for s in (spread, 0):
    rs = [r for r in rows if r["spreadMs"] == s]
    print(f"\nFLOCK_SHUTDOWN_SPREAD_MS={s}: medians of {len(rs)} runs [per run]")
    for k in ["onStoppedInstance", "rejoined", "allBackS", "peakRejoinsPerS", "peakRejoinsInOneSecond",
              "presenceEventsAfterStop", "failedConnectTries"]:
        vals = [r[k] for r in rs if r.get(k) is not None]
        print(f"  {k:26s} {statistics.median(vals) if vals else '-':>10}   {vals}")
per_run = {}
for r in rows:
    per_run.setdefault(r["run"], {})[r["spreadMs"]] = r
ratios = [v[spread]["peakRejoinsPerS"] / v[0]["peakRejoinsPerS"] for v in per_run.values()
          if spread in v and 0 in v and v[0]["peakRejoinsPerS"]]
if ratios:
    print(f"\npeak re-join rate, spread / all at once: median {statistics.median(ratios):.3f}, per run {[round(x, 3) for x in ratios]}"
          f"   (target < 0.333; every client back within {spread / 1000 + 3:.1f} s; 0 presence events)")
print(f"\nlogs and RESULT lines: {out}")
PY
