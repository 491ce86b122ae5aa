#!/usr/bin/env bash
# Connection-storm benchmark (issue 22, docs/BENCHMARKS.md "Storm"): N runs; in each run every target gets fresh
# server process(es) and one `LoadGen storm` (all its --rounds: round 1 fresh, later rounds warm), the targets
# alternating within the run so their ratios come from the same machine state. Medians per target and round at the
# end, with ratios to the floor (memory mode) and to the original Node server (where it is a target).
#
#   bench/run-storm.sh [-n runs] [-t floor,flock,original] [-m memory|redis] [-j "jvm opts"] [-- LoadGen storm options]
#   e.g. bench/run-storm.sh -n 3 -t floor,flock,original -m memory -- --conns 10000 --connect-rate 2000 --rounds 2
#   -m redis: a fresh redis-server (free port in 6390-6399) and two instances of the target per run (floor skipped)
#   targets: floor (FloorServer --plain), floor-presence (FloorServer --presence: the ack lists the others, joins and
#   leaves are announced), flock (JAR), flock-base (BASE_JAR: an A/B against another build), original
#   env: JAR (target/flock-server.jar); BASE_JAR (for flock-base); BENCH_JAR (bench/target/flock-bench.jar, built when missing);
#        ORIGINAL_DIR, where bench/original.sh built the original (/tmp/flock-original); STORM_PORT_BASE (8860)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
TARGETS=floor,flock
MODE=memory
JVM_OPTS="-Xmx256m"
JAR=${JAR:-target/flock-server.jar}
ORIGINAL_DIR=${ORIGINAL_DIR:-/tmp/flock-original}
BASE=${STORM_PORT_BASE:-8860}
while getopts "n:t:m:j:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    t) TARGETS=$OPTARG ;;
    m) MODE=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
LOADGEN_OPTS=("$@")
[ "${LOADGEN_OPTS[0]:-}" = "--" ] && LOADGEN_OPTS=("${LOADGEN_OPTS[@]:1}")
case $MODE in memory|redis) ;; *) echo "-m memory or redis" >&2; exit 2 ;; esac
ORIGINAL_CLI="$ORIGINAL_DIR/packages/server/dist/cli.js"
IFS=, read -r -a ALL_TARGETS <<<"$TARGETS"
TARGET_LIST=()
for t in "${ALL_TARGETS[@]}"; do
  case $t in
    floor|floor-presence) [ "$MODE" = redis ] && { echo "$t has no Redis mode: skipped" >&2; continue; } ;;
    flock) require_jar ;;
    flock-base) [ -f "${BASE_JAR:-}" ] || { echo "flock-base needs BASE_JAR, a server jar" >&2; exit 2; } ;;
    original) [ -f "$ORIGINAL_CLI" ] || { echo "no $ORIGINAL_CLI: run bench/original.sh first" >&2; exit 2; } ;;
    *) echo "unknown target $t (floor, floor-presence, flock, flock-base or original)" >&2; exit 2 ;;
  esac
  TARGET_LIST+=("$t")
done
[ ${#TARGET_LIST[@]} -gt 0 ] || { echo "no target left" >&2; exit 2; }
require_bench_jar
[ "$MODE" = memory ] || command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }
# each client is a socket in the generator; the servers are started from this shell and inherit the limit too
ulimit -n "$(ulimit -Hn)"

OUT=$(mktemp -d /tmp/flock-storm.XXXXXX)
PIDS=()
trap stop_all EXIT

# a free loopback port in 6390-6399 for this run's redis-server (never the shared one on 6379)
redis_port() {
  for p in $(seq 6390 6399); do port_open "$p" || { echo "$p"; return 0; }; done
  echo "no free port in 6390-6399 for redis-server" >&2; exit 1
}

# start_instance target port log [redis-url] -> appends its pid to PIDS, waits (bounded) for the port
start_instance() {
  local target=$1 port=$2 log=$3 redis=${4:-}
  refuse_busy "$port"
  case $target in
    floor)
      # shellcheck disable=SC2086
      java $JVM_OPTS -cp "$BENCH_JAR" dev.flock.bench.FloorServer --port "$port" --plain >"$log" 2>&1 & ;;
    floor-presence)
      # shellcheck disable=SC2086
      java $JVM_OPTS -cp "$BENCH_JAR" dev.flock.bench.FloorServer --port "$port" --presence >"$log" 2>&1 & ;;
    flock|flock-base)
      local jar=$JAR
      [ "$target" = flock-base ] && jar=$BASE_JAR
      # shellcheck disable=SC2086
      FLOCK_PORT=$port FLOCK_REDIS_URL=$redis FLOCK_LOG_LEVEL=warn java $JVM_OPTS -jar "$jar" >"$log" 2>&1 & ;;
    original)
      FLOCK_PORT=$port FLOCK_REDIS_URL=$redis FLOCK_LOG_LEVEL=warn node "$ORIGINAL_CLI" >"$log" 2>&1 & ;;
  esac
  local pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" "$target" "$log"
}

offset() { case $1 in floor) echo 0 ;; flock) echo 2 ;; original) echo 4 ;; floor-presence) echo 6 ;; flock-base) echo 8 ;; esac; }

echo "storm: mode $MODE, targets ${TARGET_LIST[*]}, $RUNS run(s), jvm opts '$JVM_OPTS', LoadGen ${LOADGEN_OPTS[*]:-(defaults)}"
for run in $(seq "$RUNS"); do
  for target in "${TARGET_LIST[@]}"; do
    port_a=$((BASE + $(offset "$target"))); port_b=$((port_a + 1))
    if [ "$MODE" = memory ]; then
      start_instance "$target" "$port_a" "$OUT/$target.$run.server.log"
      urls="ws://127.0.0.1:$port_a/"; pids="${PIDS[0]}"
    else
      rport=$(redis_port)
      redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --notify-keyspace-events Ex \
        >"$OUT/$target.$run.redis.log" 2>&1 &
      PIDS+=("$!")
      wait_port "$rport" "${PIDS[0]}" redis "$OUT/$target.$run.redis.log"
      start_instance "$target" "$port_a" "$OUT/$target.$run.a.log" "redis://127.0.0.1:$rport"
      start_instance "$target" "$port_b" "$OUT/$target.$run.b.log" "redis://127.0.0.1:$rport"
      urls="ws://127.0.0.1:$port_a/,ws://127.0.0.1:$port_b/"; pids="${PIDS[1]},${PIDS[2]},${PIDS[0]}"
    fi
    echo "== run $run/$RUNS: $target ($MODE, pids $pids)"
    java -cp "$BENCH_JAR" dev.flock.bench.LoadGen storm --url "$urls" --server-pid "$pids" --label "$target" \
      "${LOADGEN_OPTS[@]}" | tee "$OUT/$target.$run.log" || echo "   (LoadGen exit status $?: not every client joined, or a server exited)"
    grep '^RESULT ' "$OUT/$target.$run.log" | cut -c8- >>"$OUT/$target.jsonl" || true
    stop_all
  done
done

python3 - "$OUT" "$MODE" "${TARGET_LIST[@]}" <<'PY'
import json, os, statistics, sys
out, mode, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
keys = ["joined", "refused", "failed", "connectP50Ms", "connectP99Ms", "joinAckP50Ms", "joinAckP90Ms", "joinAckP99Ms",
        "joinAckMaxMs", "lastAckS", "serverCpuStormS", "serverCpuMsPerJoin", "serverCpuMsPerLifecycle",
        "generatorMaxOpenLagMs", "otherProcessesCores"]
med = {}
for t in targets:
    path = f"{out}/{t}.jsonl"
    rows = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
    for rnd in sorted({r["round"] for r in rows}):
        rr = [r for r in rows if r["round"] == rnd]
        m = {k: statistics.median(r[k] for r in rr if r.get(k) is not None) for k in keys
             if any(r.get(k) is not None for r in rr)}
        med[(t, rnd)] = m
        print(f"\nmedians of {len(rr)} runs, {t}, round {rnd} ({'fresh' if rnd == 1 else 'warm'}, {mode}):")
        for k in keys:
            if k in m:
                print(f"  {k:26s} {m[k]:12.3f}")
ratio_keys = ["serverCpuMsPerLifecycle", "serverCpuMsPerJoin", "connectP50Ms", "joinAckP50Ms", "joinAckP99Ms", "lastAckS"]
for ref in ("floor", "floor-presence", "flock-base", "original"):
    for t in targets:
        if t == ref or ref == "original" and t.startswith("floor") or ref.startswith("floor") and t.startswith("floor") \
                or ref == "flock-base" and t != "flock":  # the inverses of the ratios printed
            continue
        for (tt, rnd), m in sorted(med.items()):
            base = med.get((ref, rnd))
            if tt != t or base is None:
                continue
            parts = [f"{k} {m[k] / base[k]:.2f}x" for k in ratio_keys if m.get(k) and base.get(k)]
            print(f"\n{t} / {ref}, round {rnd} (medians, same runs): " + ", ".join(parts))
print(f"\nlogs and RESULT lines: {out}")
PY
