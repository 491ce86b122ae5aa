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

# start_cluster dir replicas [node-timeout-ms]: a Redis Cluster of 3 masters, each with `replicas` (0 or 1) replicas,
# from redis-server processes on free loopback ports (client and cluster-bus port per node: --cluster-port, since a
# free ephemeral port may have no room for port + 10000), created by redis-cli --cluster create as
# src/test/java/dev/flock/support/ClusterSet.java does. node-timeout: 15000 (Redis' default, what an operator runs)
# unless given; the failover benchmark gives 1000 so the replica takes over within seconds. Waits (30 s at most)
# until every node reports cluster_state:ok with all slots and all nodes known and, with replicas, every master has
# its replica online. Sets CLUSTER_URL (redis-cluster://<the masters>), MASTER_PORTS and MASTER_PIDS (aligned),
# REPLICA_PORTS and REPLICA_PIDS (aligned with the masters: REPLICA_PORTS[i] replicates MASTER_PORTS[i]); every pid
# is added to PIDS.
start_cluster() {
  local dir=$1 replicas=$2 timeout_ms=${3:-15000}
  [[ "$replicas" == 0 || "$replicas" == 1 ]] || { echo "start_cluster: replicas must be 0 or 1" >&2; exit 2; }
  local nodes=$((3 * (1 + replicas))) ports=() used=" " port bus
  # two ports per node, all distinct: free_port may hand out a port twice once the probe socket is closed
  for _ in $(seq 200); do
    [ ${#ports[@]} -eq $((2 * nodes)) ] && break
    port=$(free_port)
    [[ "$used" == *" $port "* ]] && continue
    used="$used$port "; ports+=("$port")
  done
  [ ${#ports[@]} -eq $((2 * nodes)) ] || { echo "start_cluster: cannot find $((2 * nodes)) distinct free ports" >&2; exit 1; }
  local node_ports=() node_pids=() i
  for ((i = 0; i < nodes; i++)); do
    port=${ports[2 * i]}; bus=${ports[2 * i + 1]}
    # repl-diskless-sync-delay 0: a replica's full sync starts at once, not 5 s later waiting for more replicas
    redis-server --port "$port" --cluster-port "$bus" --bind 127.0.0.1 --protected-mode no \
      --save '' --appendonly no --notify-keyspace-events Ex --dir "$dir" --dbfilename "dump-$port.rdb" \
      --repl-diskless-sync-delay 0 --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
      --cluster-node-timeout "$timeout_ms" >"$dir/node-$port.log" 2>&1 &
    node_pids+=("$!"); PIDS+=("$!"); node_ports+=("$port")
  done
  for ((i = 0; i < nodes; i++)); do
    wait_port "${node_ports[i]}" "${node_pids[i]}" "cluster node ${node_ports[i]}" "$dir/node-${node_ports[i]}.log"
  done
  local hosts=() p
  for p in "${node_ports[@]}"; do hosts+=("127.0.0.1:$p"); done
  if ! timeout 60 redis-cli --cluster create "${hosts[@]}" --cluster-replicas "$replicas" --cluster-yes \
      </dev/null >"$dir/cluster-create.log" 2>&1 || ! grep -q 'All 16384 slots covered' "$dir/cluster-create.log"; then
    echo "redis-cli --cluster create failed:" >&2; cat "$dir/cluster-create.log" >&2; exit 1
  fi
  local ok info repl
  for _ in $(seq 300); do
    ok=1
    for p in "${node_ports[@]}"; do
      info=$(redis-cli -p "$p" CLUSTER INFO 2>/dev/null | tr -d '\r')
      [[ "$info" == *"cluster_state:ok"* && "$info" == *"cluster_slots_assigned:16384"* \
        && "$info" == *"cluster_known_nodes:$nodes"* ]] || { ok=0; break; }
      repl=$(redis-cli -p "$p" INFO replication 2>/dev/null | tr -d '\r')
      if [[ "$repl" == *"role:master"* ]]; then
        [ "$replicas" = 0 ] || [[ "$repl" == *"connected_slaves:1"* && "$repl" == *"state=online"* ]] || { ok=0; break; }
      else
        [[ "$repl" == *"master_link_status:up"* ]] || { ok=0; break; }
      fi
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  [ $ok = 1 ] || { echo "the cluster did not get ready within 30 s (logs in $dir)" >&2; exit 1; }
  # which node became what: by each node's own ROLE-like view, not by redis-cli's choice of order
  MASTER_PORTS=(); MASTER_PIDS=(); REPLICA_PORTS=(); REPLICA_PIDS=()
  local rports=() rpids=() rof=() mport
  for ((i = 0; i < nodes; i++)); do
    repl=$(redis-cli -p "${node_ports[i]}" INFO replication | tr -d '\r')
    if [[ "$repl" == *"role:master"* ]]; then
      MASTER_PORTS+=("${node_ports[i]}"); MASTER_PIDS+=("${node_pids[i]}")
    else
      mport=$(sed -n 's/^master_port://p' <<<"$repl")
      rports+=("${node_ports[i]}"); rpids+=("${node_pids[i]}"); rof+=("$mport")
    fi
  done
  [ ${#MASTER_PORTS[@]} -eq 3 ] || { echo "start_cluster: expected 3 masters, found ${MASTER_PORTS[*]}" >&2; exit 1; }
  for mport in "${MASTER_PORTS[@]}"; do
    for ((i = 0; i < ${#rports[@]}; i++)); do
      [ "${rof[i]}" = "$mport" ] && { REPLICA_PORTS+=("${rports[i]}"); REPLICA_PIDS+=("${rpids[i]}"); }
    done
  done
  [ ${#REPLICA_PORTS[@]} -eq $((3 * replicas)) ] || { echo "start_cluster: replicas not one per master" >&2; exit 1; }
  CLUSTER_URL="redis-cluster://127.0.0.1:${MASTER_PORTS[0]},127.0.0.1:${MASTER_PORTS[1]},127.0.0.1:${MASTER_PORTS[2]}"
  export CLUSTER_URL
  return 0
}

# room_owners node-port room-id...: for each room, one line with the client port of the master that owns the slot
# of flock:{<room>}:members (Flock's cluster layout keeps every key and the channel of a room in that one slot),
# from CLUSTER NODES of the node on node-port. Room ids with ':', '%', '{' or '}' (which Flock escapes in the tag)
# are not handled: the benchmarks' room ids have none.
room_owners() {
  local nodes; nodes=$(redis-cli -p "$1" CLUSTER NODES | tr -d '\r'); shift
  python3 - "$nodes" "$@" <<'PY'
import sys

def crc16(data):  # CRC16-XMODEM, Redis Cluster's key hash (as bench/cluster-pubsub.py)
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc

ranges = []  # (lo, hi, port) of the live masters
for line in sys.argv[1].splitlines():
    f = line.split()
    if len(f) < 8 or 'master' not in f[2].split(',') or 'fail' in f[2].split(','):
        continue
    port = int(f[1].split('@')[0].rsplit(':', 1)[1])
    for s in f[8:]:
        if s.startswith('['):  # a slot being migrated or imported
            continue
        lo, _, hi = s.partition('-')
        ranges.append((int(lo), int(hi or lo), port))
for room in sys.argv[2:]:
    slot = crc16(room.encode()) % 16384  # the hash tag {<room>} is hashed alone
    print(next(p for lo, hi, p in ranges if lo <= slot <= hi))
PY
}
