#!/usr/bin/env bash
# Redis-mode fan-out benchmark (docs/BENCHMARKS.md): a fresh Redis on free loopback ports, two flock-server
# instances on it, LoadGen spreading every room over both (--url a,b), N runs, medians at the end.
# LoadGen sums CPU over both instances and Redis (--server-pid i1,i2,redis...) and reports each pid's part of the
# window (serverCpuSByPid); this script prints the instances' and Redis' CPU per 1M deliveries apart, so the reader
# sees where the CPU went.
#
#   bench/run-redis.sh [-n runs] [-f flush-ms] [-j "jvm opts"] [-s | -c | -m "modes"] [-- LoadGen options]
#   -s: through Sentinel (issue 23): the Redis gets a replica and three sentinels, the instances redis-sentinel://;
#       the replica's and the sentinels' CPU is reported apart (not in serverCpuSPerMillionDeliveries)
#   -c: Redis Cluster: 3 masters (no replicas, node-timeout 15 s) from start_cluster, the instances on
#       redis-cluster://; serverCpuSPerMillionDeliveries covers the instances and all three masters; per run, each
#       master's share of the Redis CPU and the rooms it owns
#   -m "single cluster": these modes (of single, sentinel, cluster) one after the other in every run, alternating
#       so the machine's drift hits them alike; medians per mode and each mode's ratio to the first (cluster/single
#       checked against the cluster targets). One RESULT line per mode and run: not for run-ab.sh
#   e.g. bench/run-redis.sh -n 3 -j "-Xmx256m -XX:ActiveProcessorCount=1" -- --rooms 40 --users 10 --hz 20 --warmup 45 --duration 20
#        bench/run-redis.sh -n 5 -m "single cluster" -- --rooms 300 --users 10 --movers 2 --hz 13.3333 --warmup 45 --duration 20
#   Each run keeps every Redis' (every master's) INFO stats and commandstats in redis-stats-<port>.txt.
#   env: JAR, the server (target/flock-server.jar); BENCH_JAR, LoadGen (bench/target/flock-bench.jar, built when
#        missing); PORT_A/PORT_B, the instances' ports (free loopback ports each run when unset)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
FLUSH=16
JVM_OPTS="-Xmx256m"
JAR=${JAR:-target/flock-server.jar}
MODES=single
while getopts "n:f:j:scm:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    f) FLUSH=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    s) MODES=sentinel ;;
    c) MODES=cluster ;;
    m) MODES=$OPTARG ;;
    *) sed -n '2,21p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
for mode in $MODES; do
  case $mode in single|sentinel|cluster) ;; *) echo "unknown mode $mode (single, sentinel, cluster)" >&2; exit 2 ;; esac
done
loadgen_options "$@"
require_jar
require_bench_jar
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "redis-cli is not installed" >&2; exit 2; }

# The rooms and their ids, so a cluster run can say which master owns which room (LoadGen's default prefix is
# random and not printed): LoadGen's fan-out default is 40 rooms; a --room-prefix given is kept as it is.
ROOMS=40
PREFIX=""
for ((i = 0; i < ${#LOADGEN_OPTS[@]} - 1; i++)); do
  [ "${LOADGEN_OPTS[i]}" = --rooms ] && ROOMS=${LOADGEN_OPTS[i + 1]}
  [ "${LOADGEN_OPTS[i]}" = --room-prefix ] && PREFIX=${LOADGEN_OPTS[i + 1]}
done

OUT=$(mktemp -d /tmp/flock-redis-bench.XXXXXX)
PIDS=()

# utime+stime of a pid in clock ticks
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sum_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(ticks "$p"))); done; echo "$t"; }

trap stop_all EXIT

# one_run run mode: a fresh Redis of the mode, two fresh instances, one LoadGen fan-out; a line to redis.jsonl
one_run() {
  local run=$1 mode=$2 dir="$OUT/$mode$run" url redis_pids=() ha_pids=() port_a port_b redis_port=""
  mkdir -p "$dir"
  # free ports unless given: a fixed port may be taken on a shared machine
  port_a=${PORT_A:-$(free_port)}
  port_b=${PORT_B:-}
  for _ in 1 2 3 4 5; do [ -n "$port_b" ] && [ "$port_b" != "$port_a" ] && break; port_b=$(free_port); done
  [ "$port_b" != "$port_a" ] || { echo "PORT_A and PORT_B are the same port" >&2; exit 2; }
  refuse_busy "$port_a" "$port_b"
  if [ "$mode" = cluster ]; then
    start_cluster "$dir" 0
    url=$CLUSTER_URL; redis_pids=("${MASTER_PIDS[@]}")
  else
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --notify-keyspace-events Ex >"$dir/redis.log" 2>&1 &
    redis_pids=("$!"); PIDS+=("$!")
    wait_port "$redis_port" "$!" redis "$dir/redis.log"
    url="redis://127.0.0.1:$redis_port"
    if [ "$mode" = sentinel ]; then
      start_sentinels "$redis_port" "$dir" 5000
      url=$SENTINEL_URL
      ha_pids=("$REPLICA_PID" "${PIDS[@]: -3}")
    fi
  fi
  local name port pid inst_pids=()
  for name in a b; do
    port=$port_a; [ "$name" = b ] && port=$port_b
    # shellcheck disable=SC2086
    FLOCK_PORT=$port FLOCK_HOST=127.0.0.1 FLOCK_REDIS_URL="$url" FLOCK_FLUSH_INTERVAL_MS=$FLUSH \
      FLOCK_LOG_LEVEL=warn java $JVM_OPTS -jar "$JAR" >"$dir/$name.log" 2>&1 &
    pid=$!; PIDS+=("$pid"); inst_pids+=("$pid")
    wait_port "$port" "$pid" "$name" "$dir/$name.log"
  done
  local prefix=${PREFIX:-bench-$(printf '%06x' $((RANDOM * 32768 + RANDOM)))-} owners="" r rooms=()
  if [ "$mode" = cluster ]; then
    for ((r = 0; r < ROOMS; r++)); do rooms+=("${prefix}r$r"); done
    # rooms per master, in MASTER_PORTS order: the share of the Redis CPU each master should carry
    owners=$(room_owners "${MASTER_PORTS[0]}" "${rooms[@]}" | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')
    echo "== run $run/$RUNS $mode: masters ${MASTER_PORTS[*]} (pids ${MASTER_PIDS[*]}), instances ${inst_pids[*]} (flush ${FLUSH} ms); rooms per master port: $owners"
  else
    echo "== run $run/$RUNS $mode: redis ${redis_pids[*]}, instances ${inst_pids[*]} (flush ${FLUSH} ms)"
  fi
  local all_pids; all_pids=$(IFS=,; echo "${inst_pids[*]},${redis_pids[*]}")
  local before=("$(ticks "${inst_pids[0]}")" "$(ticks "${inst_pids[1]}")" "$(sum_ticks "${redis_pids[@]}")" "0")
  [ ${#ha_pids[@]} -gt 0 ] && before[3]=$(sum_ticks "${ha_pids[@]}")
  local extra=(); [ -z "$PREFIX" ] && extra=(--room-prefix "$prefix")
  java -cp "$BENCH_JAR" dev.flock.bench.LoadGen fanout --url "ws://127.0.0.1:$port_a/,ws://127.0.0.1:$port_b/" \
    --server-pid "$all_pids" "${LOADGEN_OPTS[@]}" "${extra[@]}" | tee "$dir/run.log"
  local after=("$(ticks "${inst_pids[0]}")" "$(ticks "${inst_pids[1]}")" "$(sum_ticks "${redis_pids[@]}")" "0")
  # where each Redis (each master) spent the run: calls and usec per command, and read and write events (wake-ups)
  local stat_port stat_ports=("${redis_port:-}"); [ "$mode" = cluster ] && stat_ports=("${MASTER_PORTS[@]}")
  for stat_port in "${stat_ports[@]}"; do
    { redis-cli -p "$stat_port" INFO stats; redis-cli -p "$stat_port" INFO commandstats; } \
      >"$dir/redis-stats-$stat_port.txt" 2>&1 || true
  done
  [ ${#ha_pids[@]} -gt 0 ] && after[3]=$(sum_ticks "${ha_pids[@]}")
  local owner_ports=""; [ "$mode" = cluster ] && owner_ports=$(IFS=,; echo "${MASTER_PORTS[*]}")
  # The window's figures come from LoadGen (serverCpuSByPid: instances first, then the Redis pids); the whole-run
  # CPU (connect and warm-up included) is kept as before for comparison with earlier sessions.
  python3 - "$OUT/redis.jsonl" "$(grep '^RESULT ' "$dir/run.log" | cut -c8-)" "$mode" "$(getconf CLK_TCK)" \
    "$owner_ports" "$owners" \
    "$((after[0] - before[0]))" "$((after[1] - before[1]))" "$((after[2] - before[2]))" "$((after[3] - before[3]))" \
    <<'PY' | tee -a "$dir/run.log"
import json, sys
jsonl = sys.argv.pop(1)
r = json.loads(sys.argv[1]); mode = sys.argv[2]; hz = float(sys.argv[3])
r["redisMode"] = mode
r["instanceACpuS"], r["instanceBCpuS"], r["redisCpuS"], r["replicaAndSentinelsCpuS"] = [float(x) / hz for x in sys.argv[6:10]]
by_pid = r.get("serverCpuSByPid") or []
deliveries = r["actualDeliveriesPerSec"] * r["durationS"]
note = ""
if len(by_pid) >= 3 and deliveries > 0:
    inst, redis = sum(by_pid[:2]), sum(by_pid[2:])
    r["instancesCpuSPerMillionDeliveries"] = round(inst / deliveries * 1e6, 3)
    r["redisCpuSPerMillionDeliveries"] = round(redis / deliveries * 1e6, 3)
    if mode == "cluster" and redis > 0:
        r["masterCpuSharesPct"] = [round(c / redis * 100, 1) for c in by_pid[2:]]
        ports = sys.argv[4].split(",")
        counts = dict(kv.split(":") for kv in sys.argv[5].split())
        r["roomsPerMaster"] = [int(counts.get(p, 0)) for p in ports]
        note = "; masters' shares of the Redis CPU " + " / ".join(f"{s:.0f}%" for s in r["masterCpuSharesPct"]) \
            + " (rooms " + " / ".join(str(n) for n in r["roomsPerMaster"]) + ")"
    print(f"   window: instances {r['instancesCpuSPerMillionDeliveries']:.2f} + Redis {r['redisCpuSPerMillionDeliveries']:.2f}"
          f" CPU-s per 1M deliveries{note}")
print(f"   CPU seconds over the whole run: instance a {r['instanceACpuS']:.2f}, instance b {r['instanceBCpuS']:.2f},"
      f" redis {r['redisCpuS']:.2f}" + (f", replica + sentinels {r['replicaAndSentinelsCpuS']:.2f}" if mode == "sentinel" else ""),
      )
with open(jsonl, "a") as f:
    print(json.dumps(r), file=f)
PY
  stop_all
}

for run in $(seq "$RUNS"); do
  for mode in $MODES; do
    one_run "$run" "$mode"
  done
done

python3 - "$OUT" $MODES <<'PY'
import json, statistics, sys
out, modes = sys.argv[1], sys.argv[2:]
keys = ["actualDeliveriesPerSec", "deliveryRatio", "deliveryP50Ms", "deliveryP99Ms", "deliveryMaxMs",
        "serverCpuSPerMillionDeliveries", "instancesCpuSPerMillionDeliveries", "redisCpuSPerMillionDeliveries",
        "serverCores", "generatorCores", "otherProcessesCores",
        "instanceACpuS", "instanceBCpuS", "redisCpuS", "replicaAndSentinelsCpuS"]
rows = [json.loads(l) for l in open(f"{out}/redis.jsonl")]
by_mode = {m: [r for r in rows if r.get("redisMode") == m] for m in dict.fromkeys(modes)}
def med(m, k):
    vals = [r[k] for r in by_mode[m] if r.get(k) is not None]
    return statistics.median(vals) if vals else None
for m, rs in by_mode.items():
    print(f"\n{m}: medians of {len(rs)} runs (window figures; the *CpuS per process: whole run, connect and warm-up included):")
    for k in keys:
        v = med(m, k)
        if v is not None and not (m != "sentinel" and k == "replicaAndSentinelsCpuS"):
            print(f"  {k:34s} {v:12.3f}   runs {[r.get(k) for r in rs]}")
    shares = [r["masterCpuSharesPct"] for r in rs if r.get("masterCpuSharesPct")]
    if shares:
        lo, hi = min(min(s) for s in shares), max(max(s) for s in shares)
        print(f"  per-master share of the Redis CPU: runs {['/'.join(f'{x:.0f}' for x in s) for s in shares]} %;"
              f" lowest {lo:.1f} %, highest {hi:.1f} % (target 25-45 % each)"
              f"; rooms per master {[r.get('roomsPerMaster') for r in rs]}")
first = modes[0]
for m in list(by_mode)[1:]:
    print(f"\n{m} / {first} (ratio of the medians):")
    for k, name in [("instancesCpuSPerMillionDeliveries", "(a) instances' CPU per 1M deliveries"),
                    ("redisCpuSPerMillionDeliveries", "(b) Redis CPU per 1M deliveries"),
                    ("serverCpuSPerMillionDeliveries", "(c) total CPU per 1M deliveries"),
                    ("deliveryP50Ms", "delivery p50"), ("deliveryP99Ms", "delivery p99")]:
        a, b = med(first, k), med(m, k)
        if a and b is not None:
            print(f"  {name:40s} {first} {a:8.3f}   {m} {b:8.3f}   ratio {b / a:6.3f}")
    if m == "cluster" and first == "single":
        inst = (med(m, "instancesCpuSPerMillionDeliveries") or 0) / (med(first, "instancesCpuSPerMillionDeliveries") or float("nan"))
        red = (med(m, "redisCpuSPerMillionDeliveries") or 0) / (med(first, "redisCpuSPerMillionDeliveries") or float("nan"))
        shares = [x for r in by_mode[m] for x in r.get("masterCpuSharesPct", [])]
        print(f"  targets: instances <= 1.15x: {'yes' if inst <= 1.15 else 'NO'} ({inst:.3f});"
              f" Redis <= 1.00x: {'yes' if red <= 1.0 else 'NO'} ({red:.3f});"
              f" every master 25-45 %: {'yes' if shares and all(25 <= x <= 45 for x in shares) else 'NO'}"
              f" ({min(shares, default=float('nan')):.1f}-{max(shares, default=float('nan')):.1f} %)")
print(f"\nlogs and RESULT lines: {out}")
PY
