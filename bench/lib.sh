# Helpers shared by the bench scripts (sourced, not run).

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# refuse_busy port...: a server already listening would be measured instead of ours
refuse_busy() {
  for p in "$@"; do ! port_open "$p" || { echo "port $p is already in use" >&2; exit 1; }; done
}

# wait_port port pid name log: up to 30 s for the port to accept connections; fails when the process exits first
wait_port() {
  for _ in $(seq 150); do
    port_open "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited at start:" >&2; cat "$4" >&2; exit 1; }
    sleep 0.2
  done
  echo "$3 did not open port $1 within 30 s" >&2
  exit 1
}

# BENCH_JAR: the harness (LoadGen, FloorServer), a Maven project of its own (bench/pom.xml); JAR, set by each script,
# is the server under test
BENCH_JAR=${BENCH_JAR:-bench/target/flock-bench.jar}

require_jar() {
  [ -f "$JAR" ] || { echo "build first: mvn -B -q -DskipTests package" >&2; exit 2; }
}

# require_bench_jar: builds the harness when it is missing (not when it is stale: rebuild after editing bench/src)
require_bench_jar() {
  [ -f "$BENCH_JAR" ] && return 0
  echo "building $BENCH_JAR: mvn -B -q -f bench/pom.xml -DskipTests package" >&2
  mvn -B -q -f bench/pom.xml -DskipTests package >&2
  [ -f "$BENCH_JAR" ] || { echo "no $BENCH_JAR after the build (BENCH_JAR set to another path?)" >&2; exit 2; }
}

# loadgen_options [-- options...]: sets LOADGEN_OPTS to the LoadGen options after "--", by default the 72k/s load
# of issue 9 (rooms of 10 at 20 Hz) with a warm-up long enough for the JIT (docs/BENCHMARKS.md)
loadgen_options() {
  [ "${1:-}" = "--" ] && shift
  LOADGEN_OPTS=("$@")
  [ ${#LOADGEN_OPTS[@]} -eq 0 ] && LOADGEN_OPTS=(--rooms 40 --users 10 --hz 20 --warmup 20 --duration 20)
  return 0
}

# free_port: a free loopback TCP port (for a redis-server or sentinel of the run)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# stop_all: stops the processes in PIDS, last started first (instances before the Redis they use, so they log no
# lost connection), and empties PIDS. Scripts set PIDS=() and `trap stop_all EXIT`.
stop_all() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; wait "${PIDS[i]}" 2>/dev/null || true; done
  PIDS=()
}

# start_sentinels primary-port dir down-after-ms: a replica of the primary and three sentinels (quorum 2) watching
# it as master set "mymaster", on free loopback ports, their pids added to PIDS; waits (30 s at most) until every
# sentinel knows the replica and the two others. Sets SENTINEL_URL (redis-sentinel://…/mymaster), SENTINEL_PORTS
# and REPLICA_PID.
start_sentinels() {
  local primary=$1 dir=$2 down_ms=$3 replica; replica=$(free_port)
  redis-server --port "$replica" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --replicaof 127.0.0.1 "$primary" >"$dir/replica.log" 2>&1 &
  REPLICA_PID=$!; PIDS+=("$REPLICA_PID")
  SENTINEL_PORTS=()
  local hosts=""
  for i in 1 2 3; do
    local s; s=$(free_port)
    printf 'port %s\nbind 127.0.0.1\nprotected-mode no\ndir %s\nsentinel monitor mymaster 127.0.0.1 %s 2\nsentinel down-after-milliseconds mymaster %s\nsentinel failover-timeout mymaster 10000\n' \
      "$s" "$dir" "$primary" "$down_ms" >"$dir/sentinel$i.conf"
    redis-server "$dir/sentinel$i.conf" --sentinel >"$dir/sentinel$i.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$s" "$!" "sentinel$i" "$dir/sentinel$i.log"
    SENTINEL_PORTS+=("$s"); hosts="$hosts${hosts:+,}127.0.0.1:$s"
  done
  SENTINEL_URL="redis-sentinel://$hosts/mymaster"
  for _ in $(seq 300); do
    local ok=1
    for s in "${SENTINEL_PORTS[@]}"; do
      local info; info=$(redis-cli -p "$s" SENTINEL MASTER mymaster 2>/dev/null | tr '\n' ' ')
      [[ "$info" == *"num-other-sentinels 2 "* && "$info" == *"num-slaves 1 "* ]] || ok=0
    done
    [ $ok = 1 ] && return 0
    sleep 0.1
  done
  echo "the sentinels did not get ready within 30 s" >&2
  exit 1
}
