#!/usr/bin/env bash
# Capacity at the small box's heap ("Never fall over"): how many browser-like connections a server holds with the
# Dockerfile's JVM flags (its ENV JAVA_OPTS line, MALLOC_ARENA_MAX=2) and -XX:MaxRAM=256m, which makes its
# MaxRAMPercentage=50 a 128 MB heap; flock-server runs with --conf conf/flock.json. Each run starts the bare floor
# (FloorServer, the same flags) and then flock-server, each fresh, and drives each with LoadGen capacity: --connections
# sockets that offer permessage-deflate as a browser does, 1 room per 10 users, one heartbeat every 10 s, opened at
# a bounded rate from 40 loopback source addresses (127.0.0.2 .. 127.0.0.41, at most 500 sockets each); waits until
# all joined or failed, holds, probes every socket with one more heartbeat, and classifies each connection: alive
# (joined, open, every heartbeat acked), refused with 503, closed with 1013, or another failure by kind. Reports
# server RSS idle / at hold / VmHWM, RSS per held connection, and whether the server survived. With --push N it
# then attempts N connections (two generator processes when one process's fd limit is too small) against a fresh
# server of each target: the server must survive and every connection be alive or refused cleanly.
# One RESULT line per phase, medians at the end; flock's RSS per held connection is compared with the floor's.
#
#   bench/run-capacity.sh [-n runs] [--connections N] [--push N] [-t floor,flock] [--rate conn/s] [--hold s]
#                         [-j "extra server jvm opts"] [-g "generator jvm opts"]
#   e.g. bench/run-capacity.sh -n 3 --connections 10000 --push 20000
#   targets: floor, flock; experiments (see UpgradeRelease.java): floor-release (the floor with --release-upgrade),
#            floor-lean (--release-upgrade --shrink-queue); signed identity: flock-hs256, flock-rs256, flock-es256 (flock
#            with FLOCK_AUTH=required and keys made by openssl for the run; each generated user upgrades with its own
#            token), compared with flock of the same run: server CPU per joined connection and RSS per held one
#   e.g. bench/run-capacity.sh -n 3 --connections 5000 --rate 1000 -t flock,flock-hs256,flock-rs256,flock-es256
#            webhooks (issue 19): flock-webhooks (flock with FLOCK_WEBHOOK_URL at bench/webhook-receiver.py on
#            loopback, every event type; the receiver's totals are printed at the end), compared with flock the same way
#   --redis: flock targets run in Redis mode on a fresh redis-server (REDIS_CAPACITY_PORT, 6391; flushed before each
#            phase); each RESULT also gets redisCpuPerJoinMs (the redis-server's CPU over the phase per joined connection)
#   e.g. bench/run-capacity.sh -n 3 --connections 5000 --rate 1000 --redis -t flock,flock-webhooks
#   env: JAR, the server (target/flock-server.jar); BENCH_JAR (bench/target/flock-bench.jar, built when missing);
#        FLOOR_CAPACITY_PORT (8781), FLOCK_CAPACITY_PORT (8786); FLOCK_MAX_CONNECTIONS_PER_IP (500) is passed to flock
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=3
REDIS=0
CONNECTIONS=10000
PUSH=0
TARGETS=floor,flock
RATE=500
HOLD=30
EXTRA=""
GEN_OPTS="-Xmx1g"
FLOOR_PORT=${FLOOR_CAPACITY_PORT:-8781}
FLOCK_PORT_=${FLOCK_CAPACITY_PORT:-8786}
PER_IP=${FLOCK_MAX_CONNECTIONS_PER_IP:-500}
JAR=${JAR:-target/flock-server.jar}
FD_LIMIT=20000
# sockets per generator process before the phase is split over two (CAPACITY_GEN_MAX, for testing the split)
GEN_MAX=${CAPACITY_GEN_MAX:-$((FD_LIMIT - 300))}
usage() { sed -n '2,31p' "$0"; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    -n) RUNS=$2; shift 2 ;;
    --connections|-c) CONNECTIONS=$2; shift 2 ;;
    --push|-p) PUSH=$2; shift 2 ;;
    -t|--targets) TARGETS=$2; shift 2 ;;
    --rate|-r) RATE=$2; shift 2 ;;
    --hold|-H) HOLD=$2; shift 2 ;;
    -j) EXTRA=$2; shift 2 ;;
    -g) GEN_OPTS=$2; shift 2 ;;
    --redis) REDIS=1; shift ;;
    *) usage ;;
  esac
done
for v in "$RUNS" "$CONNECTIONS" "$PUSH" "$RATE" "$HOLD"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "not a whole number: $v" >&2; exit 2; }
done
[ "$CONNECTIONS" -ge 10 ] && [ "$RUNS" -ge 1 ] && [ "$RATE" -ge 1 ] || usage
require_jar
require_bench_jar
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$FD_LIMIT" ] || {
  echo "hard fd limit $(ulimit -Hn) is below $FD_LIMIT" >&2; exit 2; }
# the ENV JAVA_OPTS="..." value of the Dockerfile, continuation lines joined (as bench/run-smallbox.sh reads it)
JAVA_OPTS=$(sed -n '/^ENV JAVA_OPTS="/,/"/p' Dockerfile | tr -d '\\\n' | sed 's/^ENV JAVA_OPTS="\([^"]*\)".*/\1/')
[ -n "$JAVA_OPTS" ] || { echo "no JAVA_OPTS in the Dockerfile" >&2; exit 2; }
SERVER_OPTS="$JAVA_OPTS -XX:MaxRAM=256m $EXTRA"
echo "server JVM (Dockerfile JAVA_OPTS + small box): $SERVER_OPTS; MALLOC_ARENA_MAX=2; ulimit -n $FD_LIMIT"
echo "flock: $JAR --conf conf/flock.json, FLOCK_MAX_CONNECTIONS_PER_IP=$PER_IP; floor: FloorServer --native (epoll, as flock)"

OUT=$(mktemp -d /tmp/flock-capacity.XXXXXX)
# keys for the flock-<alg> targets, made once per invocation (loopback only, deleted with $OUT by nobody: /tmp)
REDIS_PID=
REDIS_ENV=
if [ "$REDIS" = 1 ]; then
  REDIS_PORT=${REDIS_CAPACITY_PORT:-6391}
  refuse_busy "$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$OUT/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_ENV="FLOCK_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "Redis mode: redis-server pid $REDIS_PID on 127.0.0.1:$REDIS_PORT"
fi
# the redis-server's CPU seconds so far (utime + stime), 0 without one
redis_cpu() {
  [ -n "$REDIS_PID" ] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$REDIS_PID/stat"
}
HOOK_PID=
if [[ $TARGETS == *flock-webhooks* ]]; then
  HOOK_PORT=${WEBHOOK_RECEIVER_PORT:-8789}
  refuse_busy "$HOOK_PORT"
  HOOK_SECRET=$(openssl rand -hex 32)
  python3 bench/webhook-receiver.py "$HOOK_PORT" "$HOOK_SECRET" "$OUT/webhooks.totals" --max-seconds 7200 &
  HOOK_PID=$!
fi
if [[ $TARGETS == *flock-* ]]; then
  openssl rand -base64 48 | tr -d '\n' >"$OUT/hs256.secret"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/rs256.key" 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/es256.key" 2>/dev/null
  for k in rs256 es256; do openssl pkey -in "$OUT/$k.key" -pubout -out "$OUT/$k.pub" 2>/dev/null; done
fi
# token_env target -> the server's FLOCK_AUTH settings; token_args target -> the generator's token options
token_env() {
  case $1 in
    flock-hs256) echo "FLOCK_AUTH=required FLOCK_JWT_SECRET=$(cat "$OUT/hs256.secret")" ;;
    flock-rs256|flock-es256) echo "FLOCK_AUTH=required FLOCK_JWT_PUBLIC_KEYS=$OUT/${1#flock-}.pub" ;;
    flock-webhooks) echo "FLOCK_WEBHOOK_URL=http://127.0.0.1:$HOOK_PORT/hooks FLOCK_WEBHOOK_SECRET=$HOOK_SECRET" \
                         "FLOCK_WEBHOOK_EVENTS=room.occupied,room.vacated,user.joined,user.left,presence.updated" ;;
  esac
}
token_args() {
  case $1 in
    flock-hs256) echo "--token-alg HS256 --token-key $OUT/hs256.secret" ;;
    flock-rs256) echo "--token-alg RS256 --token-key $OUT/rs256.key" ;;
    flock-es256) echo "--token-alg ES256 --token-key $OUT/es256.key" ;;
  esac
}
PID=
stop_server() {
  [ -n "$PID" ] || return 0
  kill "$PID" 2>/dev/null || true
  # flock's graceful shutdown takes up to FLOCK_SHUTDOWN_TIMEOUT_MS (5 s): wait up to 20 s, then SIGKILL
  for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}
GEN_PIDS=()
stop_all() {
  for g in "${GEN_PIDS[@]}"; do kill "$g" 2>/dev/null || true; done
  stop_server
  [ -z "$HOOK_PID" ] || kill "$HOOK_PID" 2>/dev/null || true
  [ -z "$REDIS_PID" ] || kill "$REDIS_PID" 2>/dev/null || true
}
trap stop_all EXIT

# start_server target log -> PID, PORT: a fresh server, waited for (bounded), then 3 s idle before the RSS baseline
start_server() {
  local target=$1 log=$2
  case $target in
    floor|floor-release|floor-lean) PORT=$FLOOR_PORT
           refuse_busy "$PORT"
           local release=; [ "$target" = floor-release ] && release=--release-upgrade
           [ "$target" = floor-lean ] && release="--release-upgrade --shrink-queue"
           # shellcheck disable=SC2086
           (ulimit -n "$FD_LIMIT"; MALLOC_ARENA_MAX=2 exec java $SERVER_OPTS -cp "$BENCH_JAR" dev.flock.bench.FloorServer \
             --port "$PORT" --native $release) >"$log" 2>&1 &
           ;;
    flock|flock-hs256|flock-rs256|flock-es256|flock-webhooks) PORT=$FLOCK_PORT_
           refuse_busy "$PORT"
           # shellcheck disable=SC2086,SC2046
           [ -z "$REDIS_PID" ] || redis-cli -p "$REDIS_PORT" flushall >/dev/null
           (ulimit -n "$FD_LIMIT"; export $(token_env "$target") $REDIS_ENV; MALLOC_ARENA_MAX=2 FLOCK_PORT=$PORT FLOCK_HOST=127.0.0.1 \
             FLOCK_MAX_CONNECTIONS_PER_IP=$PER_IP exec java $SERVER_OPTS -jar "$JAR" --conf conf/flock.json) >"$log" 2>&1 &
           ;;
    *) echo "unknown target $target (floor, floor-release, floor-lean, flock, flock-hs256, flock-rs256, flock-es256, flock-webhooks)" >&2; exit 2 ;;
  esac
  PID=$!
  wait_port "$PORT" "$PID" "$target" "$log"
  sleep 3
}

# server_state log -> one JSON object: alive (not exited, not a zombie), exit status if it exited, OOM line if any
server_state() {
  local log=$1 alive=true status=null
  if ! kill -0 "$PID" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" = Z ]; then
    alive=false
    set +e; wait "$PID" 2>/dev/null; status=$?; set -e
    PID=
  fi
  python3 - "$log" "$alive" "$status" <<'PY'
import json, sys
log, alive, status = sys.argv[1], sys.argv[2] == "true", sys.argv[3]
oom = next((l.strip()[:200] for l in open(log, errors="replace") if "OutOfMemoryError" in l), None)
print(json.dumps({"serverAliveAfter": alive, "serverExitStatus": None if status == "null" else int(status),
                  "oomInLog": oom}))
PY
}

# merge_results file.jsonl... -> one RESULT object for the generator processes of one phase (counts summed)
merge_results() {
  python3 - "$@" <<'PY'
import json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
if len(rows) == 1:
    print(json.dumps(rows[0])); sys.exit()
out = dict(rows[0])
out["label"] = rows[0]["label"].rsplit("/g", 1)[0]
# maxHeld and the *At*/*When* counts are each generator's own, at its own moment: their sums are approximate
for k in ["connections", "established", "joined", "maxHeld", "heldAtRssSample", "aliveAtEnd", "refused503",
          "closed1013", "otherFailures", "heartbeatsSent", "heartbeatsAcked", "heartbeatsUnanswered",
          "heldAtFirstRefusal", "joinedAtFirstRefusal", "joinedWhenServerDied", "heldWhenServerDied"]:
    vals = [r.get(k) for r in rows if r.get(k) is not None]
    out[k] = sum(vals) if vals else None
for k in ["otherFailureKinds", "outcomes", "errors"]:
    m = {}
    for r in rows:
        for kind, n in (r.get(k) or {}).items():
            m[kind] = m.get(kind, 0) + n
    out[k] = m
for k in ["serverRssAtHoldMb", "serverHwmAtHoldMb", "serverHwmMb", "connectSeconds", "elapsedS", "serverOpenFilesAtHold",
          "serverCpuConnectS"]:
    out[k] = max((r[k] for r in rows if r.get(k) is not None), default=None)
out["serverRssIdleMb"] = min(r["serverRssIdleMb"] for r in rows)
died = [r["serverDiedAtS"] for r in rows if r.get("serverDiedAtS") is not None]
out["serverDiedAtS"] = min(died) if died else None
out["serverAlive"] = all(r.get("serverAlive") for r in rows)
out["probeComplete"] = all(r.get("probeComplete") for r in rows)
out["generatorCpuS"] = sum(r.get("generatorCpuS") or 0 for r in rows)
out["generators"] = len(rows)
held = out["aliveAtEnd"]
out["serverCpuPerJoinMs"] = out["serverCpuConnectS"] * 1000 / out["joined"] if out.get("joined") else None
out["serverRssPerHeldKb"] = round((out["serverRssAtHoldMb"] - out["serverRssIdleMb"]) * 1024 / held, 3) if held else None
for k in [k for k in out if k.startswith("heartbeatAck")]:
    out.pop(k)  # latency percentiles do not add up; see the per-generator logs
print(json.dumps(out))
PY
}

# phase target run name connections: one fresh server, 1 or 2 generator processes, one RESULT line in $OUT/<name>.jsonl
phase() {
  local target=$1 run=$2 name=$3 conns=$4
  local log="$OUT/$target.$name.$run.server.log"
  local prefix="cap$run$name-"
  local rooms=$(( (conns + 9) / 10 ))
  # one generator holds at most FD_LIMIT - ~300 sockets (its JVM's own files); split the rest over a second one
  local gens=1
  [ "$conns" -gt "$GEN_MAX" ] && gens=2
  start_server "$target" "$log"
  local redis_before; redis_before=$(redis_cpu)
  echo "== run $run/$RUNS, $name: $target (pid $PID), $conns connections from $gens generator(s) at $RATE/s, hold $HOLD s"
  GEN_PIDS=()
  local first=0 files=()
  for g in $(seq "$gens"); do : >"$OUT/$target.$name.$run.g$g.log"; done # before tail looks for them
  for g in $(seq "$gens"); do
    local n=$(( conns / gens )); [ "$g" -eq "$gens" ] && n=$(( conns - first ))
    # shellcheck disable=SC2086
    (ulimit -n "$FD_LIMIT"; exec java $GEN_OPTS -cp "$BENCH_JAR" dev.flock.bench.LoadGen capacity \
      --url "ws://127.0.0.1:$PORT/" --conns "$n" --first-conn "$first" --rooms "$rooms" --room-prefix "$prefix" \
      --connect-rate "$(( RATE / gens ))" --hold "$HOLD" --server-pid "$PID" --label "$target/$name/g$g" \
      $(token_args "$target")) \
      >"$OUT/$target.$name.$run.g$g.log" 2>&1 &
    GEN_PIDS+=($!)
    files+=("$OUT/$target.$name.$run.g$g.jsonl")
    first=$(( first + n ))
  done
  # the generators bound every wait themselves; tail their progress meanwhile
  tail -q -n +1 -f "$OUT/$target.$name.$run".g*.log > >(grep --line-buffered -v '^RESULT ') &
  local tailer=$!
  for g in "${GEN_PIDS[@]}"; do wait "$g" || echo "generator $g exited with $?" >&2; done
  GEN_PIDS=()
  sleep 0.5; kill "$tailer" 2>/dev/null || true; wait "$tailer" 2>/dev/null || true
  for g in $(seq "$gens"); do
    grep '^RESULT ' "$OUT/$target.$name.$run.g$g.log" | cut -c8- >"${files[$((g - 1))]}" || true
    [ -s "${files[$((g - 1))]}" ] || { echo "generator $g of $target/$name printed no RESULT (log $OUT/$target.$name.$run.g$g.log)" >&2; }
  done
  local state merged redis_s
  redis_s=$(python3 -c "print(round($(redis_cpu) - $redis_before, 3))")
  state=$(server_state "$log")
  merged=$(merge_results "${files[@]}")
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(json.loads(sys.argv[2])); r.update(target=sys.argv[3], phase=sys.argv[4], run=int(sys.argv[5]))
if sys.argv[6] != "0" and r.get("joined"): r.update(redisCpuS=float(sys.argv[6]), redisCpuPerJoinMs=float(sys.argv[6]) * 1000 / r["joined"])
print("RESULT " + json.dumps(r))' \
    "$merged" "$state" "$target" "$name" "$run" "$redis_s" >>"$OUT/results.log"
  tail -n 1 "$OUT/results.log"
  tail -n 1 "$OUT/results.log" | cut -c8- >>"$OUT/$name.jsonl"
  if [[ $target == flock* ]] && kill -0 "$PID" 2>/dev/null; then
    # why flock refused: its limit and its refusals by reason, from its own /metrics
    curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" \
      | grep -E '^flock_(connections_limit|upgrades_refused_total|memory_high_water|connections_open|auth_total)[ {]' \
      | grep -v ' 0.0$' \
      | sed "s/^/   [$target\/$name\/run $run] /" || true
  fi
  stop_server
}

IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for run in $(seq "$RUNS"); do
  for target in "${TARGET_LIST[@]}"; do
    phase "$target" "$run" hold "$CONNECTIONS"
  done
  if [ "$PUSH" -gt 0 ]; then
    for target in "${TARGET_LIST[@]}"; do
      phase "$target" "$run" push "$PUSH"
    done
  fi
done

python3 - "$OUT" "$CONNECTIONS" "$PUSH" "${TARGET_LIST[@]}" <<'PY'
import json, os, statistics, sys
out, conns, push, targets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
keys = ["joined", "aliveAtEnd", "refused503", "closed1013", "otherFailures", "serverRssIdleMb", "serverRssAtHoldMb",
        "serverHwmMb", "serverRssPerHeldKb", "heartbeatsUnanswered", "connectSeconds", "serverCpuConnectS",
        "serverCpuPerJoinMs", "redisCpuPerJoinMs"]
def med(rows, k):
    vals = [r[k] for r in rows if r.get(k) is not None]
    return statistics.median(vals) if vals else None
def fmt(v):
    return "       -" if v is None else f"{v:12.2f}" if isinstance(v, float) else f"{v:12d}"
for phase, n in [("hold", conns), ("push", push)]:
    path = f"{out}/{phase}.jsonl"
    if not os.path.exists(path):
        continue
    rows = [json.loads(l) for l in open(path)]
    print(f"\n{phase}: {n} connections attempted per run; medians over runs (per-run values in brackets)")
    meds = {}
    for t in targets:
        tr = [r for r in rows if r["target"] == t]
        if not tr:
            continue
        meds[t] = {k: med(tr, k) for k in keys}
        print(f"  {t}:")
        for k in keys:
            print(f"    {k:22s} {fmt(meds[t][k])}   {[r.get(k) for r in tr]}")
        alive = [r["serverAliveAfter"] for r in tr]
        print(f"    {'server survived':22s} {sum(alive)}/{len(alive)} runs")
        ooms = [r["oomInLog"] for r in tr if r.get("oomInLog")]
        if ooms:
            print(f"    {'OOM in log':22s} {len(ooms)} runs: {ooms[0]}")
        died = [(r.get("serverDiedAtS"), r.get("joinedWhenServerDied")) for r in tr if r.get("serverDiedAtS") is not None]
        if died:
            print(f"    {'died at (s, joins)':22s} {died}")
        kinds = {}
        for r in tr:
            for kind, c in (r.get("otherFailureKinds") or {}).items():
                kinds[kind] = kinds.get(kind, 0) + c
        if kinds:
            print(f"    {'other failures (sum)':22s} {kinds}")
        if phase == "push":
            print(f"    {'refusal point':22s} held at first refusal {[r.get('heldAtFirstRefusal') for r in tr]}, "
                  f"largest held {[r.get('maxHeld') for r in tr]}")
            clean = [r["serverAliveAfter"] and r["otherFailures"] == 0 for r in tr]
            print(f"    {'clean (alive + every conn alive/503/1013)':22s} {sum(clean)}/{len(clean)} runs")
    if "floor" in meds and "flock" in meds:
        f, o = meds["floor"], meds["flock"]
        if f["serverRssPerHeldKb"] and o["serverRssPerHeldKb"]:
            print(f"  flock / floor RSS per held connection: {o['serverRssPerHeldKb'] / f['serverRssPerHeldKb']:.3f}"
                  + ("   (target <= 1.2, all joined and alive)" if phase == "hold" else ""))
        rr = [r for r in rows]
        per_run = {}
        for r in rr:
            per_run.setdefault(r["run"], {})[r["target"]] = r.get("serverRssPerHeldKb")
        ratios = [v["flock"] / v["floor"] for v in per_run.values() if v.get("flock") and v.get("floor")]
        if ratios:
            print(f"  per-run ratios (same run): {[round(x, 3) for x in ratios]}")
    # signed identity: each flock-<alg> against flock of the same run
    for t in [t for t in targets if t.startswith("flock-")]:
        per_run = {}
        for r in rows:
            per_run.setdefault(r["run"], {})[r["target"]] = r
        for k in ["serverCpuPerJoinMs", "serverRssPerHeldKb", "redisCpuPerJoinMs"]:
            ratios = [v[t][k] / v["flock"][k] for v in per_run.values()
                      if t in v and "flock" in v and v[t].get(k) and v["flock"].get(k)]
            if ratios:
                print(f"  {t} / flock {k}: median {statistics.median(ratios):.3f}, per run {[round(x, 3) for x in ratios]}")
import os
if os.path.exists(os.path.join(out, "webhooks.totals")):
    print(f"  webhook receiver totals (all flock-webhooks runs): {open(os.path.join(out, 'webhooks.totals')).read()}")
print(f"\nlogs and RESULT lines: {out}")
PY
