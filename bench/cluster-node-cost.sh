#!/usr/bin/env bash
# Redis alone (issue 23): does Redis in cluster mode cost more per command than a standalone Redis? The same commands
# (a room-sized script, an HSET, a PUBLISH / SPUBLISH) from redis-benchmark against a standalone redis-server and a
# one-node cluster (--cluster-enabled yes, every slot on it), alternating, each process's CPU (utime+stime) counted.
# One process each, so what differs is only cluster mode's per-command work (slot checks, per-slot key accounting).
# Loopback only; each measurement is a bounded number of calls.
#
#   bench/cluster-node-cost.sh [-n rounds] [-c calls]      (defaults: 3 rounds of 200,000 calls per command)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROUNDS=3
CALLS=200000
while getopts "n:c:h" opt; do
  case $opt in
    n) ROUNDS=$OPTARG ;;
    c) CALLS=$OPTARG ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
  esac
done
for tool in redis-server redis-cli redis-benchmark; do
  command -v $tool >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done

# a refresh-like script: every key behind the room's hash tag, so it is one slot in a cluster too
SCRIPT="local k=KEYS[1]; redis.call('ZADD', k..':c', 'CH', 1, 'c'); redis.call('PEXPIRE', k..':c', 30000);
redis.call('PEXPIREAT', k..':p', 9999999999999); redis.call('SISMEMBER', k, 'u');
redis.call('HSET', k..':k', 'x', 1, 'y', 2); redis.call('PEXPIRE', k..':k', 30000); return 1"
PAYLOAD=$(printf '%0120d' 0)
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

DIR=$(mktemp -d /tmp/flock-node-cost.XXXXXX)
PIDS=()
trap stop_all EXIT
mkdir -p "$DIR/standalone" "$DIR/cluster"
SPORT=$(free_port)
redis-server --port "$SPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR/standalone" >"$DIR/standalone.log" 2>&1 &
SPID=$!; PIDS+=("$SPID")
CPORT=$(free_port)
[ "$CPORT" != "$SPORT" ] || CPORT=$(free_port)
redis-server --port "$CPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR/cluster" --cluster-enabled yes \
  --cluster-config-file "$DIR/cluster/nodes.conf" >"$DIR/cluster.log" 2>&1 &
CPID=$!; PIDS+=("$CPID")
wait_port "$SPORT" "$SPID" standalone "$DIR/standalone.log"
wait_port "$CPORT" "$CPID" cluster "$DIR/cluster.log"
redis-cli -p "$CPORT" CLUSTER ADDSLOTSRANGE 0 16383 >/dev/null
for _ in $(seq 100); do
  redis-cli -p "$CPORT" CLUSTER INFO | grep -q 'cluster_state:ok' && break
  sleep 0.1
done
redis-cli -p "$CPORT" CLUSTER INFO | grep -q 'cluster_state:ok' || { echo "the one-node cluster is not ok" >&2; exit 1; }

# measure name pid port command...: CPU ms of pid while redis-benchmark sends CALLS of the command
measure() {
  local name=$1 pid=$2 port=$3; shift 3
  local t0 t1; t0=$(ticks "$pid")
  redis-benchmark -p "$port" -n "$CALLS" -c 8 -P 1 -r 300 -q "$@" >/dev/null
  t1=$(ticks "$pid")
  echo "$name $(( (t1 - t0) * 1000 / HZ ))"
}

for round in $(seq "$ROUNDS"); do
  for what in script hset publish; do
    case $what in
      script) cmd=(EVAL "$SCRIPT" 1 'flock:{r__rand_int__}:members') ;;
      hset) cmd=(HSET 'flock:{r__rand_int__}:cursor:u' x 1 y 2) ;;
      publish) cmd=(PUBLISH 'flock:{r__rand_int__}:broadcast' "$PAYLOAD") ;;
    esac
    measure "$what standalone" "$SPID" "$SPORT" "${cmd[@]}"
    [ "$what" = publish ] && cmd[0]=SPUBLISH
    measure "$what cluster" "$CPID" "$CPORT" "${cmd[@]}"
  done
done | tee "$DIR/results.txt"

python3 - "$DIR/results.txt" "$CALLS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    what, mode, ms = line.split()
    rows.setdefault((what, mode), []).append(int(ms))
print(f"\nCPU ms per {sys.argv[2]} calls, medians (runs); one-node cluster / standalone:")
for what in ("script", "hset", "publish"):
    s, c = rows[(what, "standalone")], rows[(what, "cluster")]
    print(f"  {what:8s} standalone {statistics.median(s):6.0f} {s}   cluster {statistics.median(c):6.0f} {c}"
          f"   ratio {statistics.median(c) / statistics.median(s):.2f}")
PY
