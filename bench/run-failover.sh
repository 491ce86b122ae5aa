#!/usr/bin/env bash
# Sentinel failover (issue 23): a primary, a replica and three sentinels (quorum 2, down-after-milliseconds DOWN_MS)
# from redis-server processes on free loopback ports, two flock-server instances on redis-sentinel://, and
# LoadGen failover: --rooms rooms, each with a sender on instance a and a receiver on b, a move every 20 ms; after 3 s
# it kill -9s the primary and reports when every room's fan-out was back, when the sentinels promoted the replica,
# and Flock's own part (back minus promoted). Fresh topology and instances each run; medians at the end.
#
#   bench/run-failover.sh [-n runs] [-r rooms] [-d down-after-ms] [-j "server jvm opts"] [-c]
#   -c: Redis Cluster: 3 masters with a replica each (start_cluster, cluster-node-timeout = -d), the instances on
#       redis-cluster://; LoadGen kill -9s the master that owns the most of the rooms (by the slot of
#       flock:{failover-r<i>}:members) and polls ROLE on that master's replica for the promotion; the rooms of the
#       killed master and the others are also reported apart (the others should not stall)
#   e.g. bench/run-failover.sh -n 3 -r 100; bench/run-failover.sh -n 3 -r 100 -c
#   env: JAR (target/flock-server.jar), BENCH_JAR (bench/target/flock-bench.jar); FAILOVER_PORT_A/B (the instances'
#        ports; free loopback ports each run when unset)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
ROOMS=100
DOWN_MS=1000
JVM_OPTS="-Xmx256m"
JAR=${JAR:-target/flock-server.jar}
CLUSTER=0
while getopts "n:r:d:j:ch" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    r) ROOMS=$OPTARG ;;
    d) DOWN_MS=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    c) CLUSTER=1 ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
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
  # free ports unless given: a fixed port may be taken on a shared machine
  local port_a=${FAILOVER_PORT_A:-$(free_port)} port_b=${FAILOVER_PORT_B:-}
  for _ in 1 2 3 4 5; do [ -n "$port_b" ] && [ "$port_b" != "$port_a" ] && break; port_b=$(free_port); done
  [ "$port_b" != "$port_a" ] || { echo "FAILOVER_PORT_A and FAILOVER_PORT_B are the same port" >&2; exit 2; }
  refuse_busy "$port_a" "$port_b"
  local dir="$OUT/run$run"; mkdir -p "$dir"
  local url kill_pid probe killed_rooms=""
  if [ "$CLUSTER" = 1 ]; then
    start_cluster "$dir" 1 "$DOWN_MS"
    url=$CLUSTER_URL
    # the victim: the master owning the most rooms (FailoverRun's room ids are failover-r<i>), so the most rooms stop
    local rooms=() r owners=() i best=0 count
    for ((r = 0; r < ROOMS; r++)); do rooms+=("failover-r$r"); done
    mapfile -t owners < <(room_owners "${MASTER_PORTS[0]}" "${rooms[@]}")
    local counts=()
    for i in 0 1 2; do
      count=0
      for ((r = 0; r < ROOMS; r++)); do [ "${owners[r]}" = "${MASTER_PORTS[i]}" ] && count=$((count + 1)); done
      counts+=("$count")
      [ "$count" -gt "${counts[best]}" ] && best=$i
    done
    kill_pid=${MASTER_PIDS[best]}; probe=(--replica "127.0.0.1:${REPLICA_PORTS[best]}")
    for ((r = 0; r < ROOMS; r++)); do
      [ "${owners[r]}" = "${MASTER_PORTS[best]}" ] && killed_rooms="$killed_rooms${killed_rooms:+,}$r"
    done
    echo "== run $run/$RUNS: masters ${MASTER_PORTS[*]} (rooms ${counts[*]}), replicas ${REPLICA_PORTS[*]};" \
      "killing master ${MASTER_PORTS[best]} (pid $kill_pid, ${counts[best]} rooms), watching replica ${REPLICA_PORTS[best]}"
  else
    local primary; primary=$(free_port)
    redis-server --port "$primary" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >"$dir/primary.log" 2>&1 &
    kill_pid=$!; PIDS+=("$kill_pid")
    wait_port "$primary" "$kill_pid" primary "$dir/primary.log"
    start_sentinels "$primary" "$dir" "$DOWN_MS"
    url=$SENTINEL_URL; probe=(--sentinel "127.0.0.1:${SENTINEL_PORTS[0]}")
    echo "== run $run/$RUNS: primary $primary (pid $kill_pid), sentinels ${SENTINEL_PORTS[*]}"
  fi
  for name in a b; do
    local port=$port_a; [ "$name" = b ] && port=$port_b
    # shellcheck disable=SC2086
    (ulimit -n 20000; FLOCK_PORT=$port FLOCK_HOST=127.0.0.1 FLOCK_REDIS_URL="$url" \
      FLOCK_MAX_CONNECTIONS_PER_IP=0 FLOCK_LOG_LEVEL=info exec java $JVM_OPTS -jar "$JAR") >"$dir/$name.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$port" "$!" "$name" "$dir/$name.log"
  done
  java -cp "$BENCH_JAR" dev.flock.bench.LoadGen failover --url "ws://127.0.0.1:$port_a/,ws://127.0.0.1:$port_b/" \
    --rooms "$ROOMS" --kill-pid "$kill_pid" "${probe[@]}" --label "run$run" | tee "$dir/gen.log" \
    || echo "LoadGen failover exited non-zero: not every room came back, or it gave up (above)" >&2  # still a result
  local result; result=$(grep '^RESULT ' "$dir/gen.log" | cut -c8-) || { echo "no RESULT" >&2; stop_all; return 0; }
  # the killed master's rooms (cluster): their slowest is the failover; the other rooms' slowest should be ~0
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["killedRooms"]=[int(x) for x in sys.argv[2].split(",") if x]; print(json.dumps(r))' \
    "$result" "$killed_rooms" >>"$OUT/failover.jsonl"
  stop_all
}

for run in $(seq "$RUNS"); do
  phase "$run"
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/failover.jsonl")]
def med(k):
    vals = [r[k] for r in rows if r.get(k) is not None]
    return statistics.median(vals) if vals else float("nan")
by = "the replica (ROLE)" if rows and rows[0].get("promotedBy") == "replica ROLE" else "sentinels"
print(f"medians of {len(rows)} runs: every room back {med('backSlowestS'):.2f} s after the kill (median room"
      f" {med('backMedianS'):.2f} s); {by} promoted at {med('promotedS'):.2f} s; Flock's part {med('flockPartS'):.2f} s")
print("per run (slowest room, promoted):", ", ".join(f"{r['backSlowestS']:.2f}/{r['promotedS']:.2f}" for r in rows))
for r in rows:  # cluster: the killed master's rooms against the others
    killed = set(r.get("killedRooms") or [])
    times = r.get("backByRoomS") or []
    if killed and times:
        k = [t for i, t in enumerate(times) if i in killed and t is not None]
        o = [t for i, t in enumerate(times) if i not in killed and t is not None]
        r["killedSlowestS"], r["othersSlowestS"] = (max(k) if k else None), (max(o) if o else None)
        r["killedBack"], r["othersBack"] = f"{len(k)}/{len(killed)}", f"{len(o)}/{len(times) - len(killed)}"
if any("killedSlowestS" in r for r in rows):
    print(f"killed master's rooms: slowest back {med('killedSlowestS'):.2f} s (median of runs); the other masters' rooms:"
          f" slowest back {med('othersSlowestS'):.2f} s")
    print("per run (killed master's rooms back, slowest / other rooms back, slowest):", ", ".join(
        f"{r['killedBack']} {r['killedSlowestS'] or float('nan'):.2f} / {r['othersBack']} {r['othersSlowestS'] or float('nan'):.2f}"
        for r in rows if "killedSlowestS" in r))
PY
echo "logs: $OUT"
