#!/usr/bin/env bash
# Where the heap goes per connection: starts the floor or flock-server exactly as bench/run-capacity.sh does
# (the Dockerfile's JAVA_OPTS, -XX:MaxRAM=256m = a 128 MB heap, MALLOC_ARENA_MAX=2, flock with --conf conf/flock.json)
# plus -XX:NativeMemoryTracking=summary, takes a class histogram of the live heap (jmap -histo:live, a full GC) while
# idle, opens N browser-like connections with LoadGen capacity (rooms of 10, heartbeats every 10 s), and while they are
# held takes the histogram again, the native memory summary (jcmd VM.native_memory) and the heap summary
# (jcmd GC.heap_info). Prints the classes by bytes per held connection ((held - idle) / connections alive) and keeps
# the raw outputs. Compare two targets with -t floor,flock: the per-class difference flock - floor is printed too.
#
#   targets: floor, flock, floor-release (the floor with --release-upgrade), floor-lean (--release-upgrade --shrink-queue):
#            see UpgradeRelease.java
#   bench/run-heap-histo.sh [-t floor,flock] [-c connections (5000)] [-k top classes (30)] [-j "extra server jvm opts"]
#   env: JAR (target/flock-server.jar), BENCH_JAR (bench/target/flock-bench.jar); ports as bench/run-capacity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

TARGETS=floor,flock
CONNECTIONS=5000
TOP=30
EXTRA=""
HOLD=40
FLOOR_PORT=${FLOOR_CAPACITY_PORT:-8781}
FLOCK_PORT_=${FLOCK_CAPACITY_PORT:-8786}
PER_IP=${FLOCK_MAX_CONNECTIONS_PER_IP:-500}
JAR=${JAR:-target/flock-server.jar}
FD_LIMIT=20000
while getopts "t:c:k:j:h" opt; do
  case $opt in
    t) TARGETS=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    k) TOP=$OPTARG ;;
    j) EXTRA=$OPTARG ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
  esac
done
[[ $CONNECTIONS =~ ^[0-9]+$ ]] && [ "$CONNECTIONS" -ge 10 ] && [ "$CONNECTIONS" -le 19000 ] || {
  echo "-c: 10 .. 19000" >&2; exit 2; }
require_jar
require_bench_jar
JAVA_OPTS=$(sed -n '/^ENV JAVA_OPTS="/,/"/p' Dockerfile | tr -d '\\\n' | sed 's/^ENV JAVA_OPTS="\([^"]*\)".*/\1/')
[ -n "$JAVA_OPTS" ] || { echo "no JAVA_OPTS in the Dockerfile" >&2; exit 2; }
SERVER_OPTS="$JAVA_OPTS -XX:MaxRAM=256m -XX:NativeMemoryTracking=summary $EXTRA"
echo "server JVM: $SERVER_OPTS; MALLOC_ARENA_MAX=2"

OUT=$(mktemp -d /tmp/flock-heap.XXXXXX)
PID=
GEN=
cleanup() {
  [ -n "$GEN" ] && kill "$GEN" 2>/dev/null || true
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
  fi
}
trap cleanup EXIT

IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for target in "${TARGET_LIST[@]}"; do
  log="$OUT/$target.server.log"
  case $target in
    floor|floor-release|floor-lean) PORT=$FLOOR_PORT; refuse_busy "$PORT"
           release=; [ "$target" = floor-release ] && release=--release-upgrade
           [ "$target" = floor-lean ] && release="--release-upgrade --shrink-queue"
           # shellcheck disable=SC2086
           (ulimit -n "$FD_LIMIT"; MALLOC_ARENA_MAX=2 exec java $SERVER_OPTS -cp "$BENCH_JAR" dev.flock.bench.FloorServer \
             --port "$PORT" --native $release) >"$log" 2>&1 & ;;
    flock) PORT=$FLOCK_PORT_; refuse_busy "$PORT"
           # shellcheck disable=SC2086
           (ulimit -n "$FD_LIMIT"; MALLOC_ARENA_MAX=2 FLOCK_PORT=$PORT FLOCK_HOST=127.0.0.1 \
             FLOCK_MAX_CONNECTIONS_PER_IP=$PER_IP exec java $SERVER_OPTS -jar "$JAR" --conf conf/flock.json) >"$log" 2>&1 & ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  PID=$!
  wait_port "$PORT" "$PID" "$target" "$log"
  sleep 3
  echo "== $target (pid $PID): idle histogram, then $CONNECTIONS connections"
  jmap -histo:live "$PID" >"$OUT/$target.idle.histo"
  jcmd "$PID" VM.native_memory summary >"$OUT/$target.idle.nmt" 2>&1 || true
  grep -E "VmRSS|VmHWM" "/proc/$PID/status" >"$OUT/$target.idle.status"
  (ulimit -n "$FD_LIMIT"; exec java -Xmx1g -cp "$BENCH_JAR" dev.flock.bench.LoadGen capacity --url "ws://127.0.0.1:$PORT/" \
    --conns "$CONNECTIONS" --connect-rate 500 --hold "$HOLD" --server-pid "$PID" --label "$target") >"$OUT/$target.gen.log" 2>&1 &
  GEN=$!
  # bounded: the generator announces the hold once every connection settled (or its own timeout passed)
  for _ in $(seq $(( 120 + CONNECTIONS / 100 ))); do
    grep -q "holding for" "$OUT/$target.gen.log" && break
    kill -0 "$GEN" 2>/dev/null || break
    sleep 1
  done
  sleep 5 # heartbeats flowing, the join burst's garbage collectable
  if kill -0 "$PID" 2>/dev/null; then
    jmap -histo:live "$PID" >"$OUT/$target.held.histo"
    jcmd "$PID" VM.native_memory summary >"$OUT/$target.held.nmt" 2>&1 || true
    jcmd "$PID" GC.heap_info >"$OUT/$target.held.heap" 2>&1 || true
    grep -E "VmRSS|VmHWM" "/proc/$PID/status" >"$OUT/$target.held.status"
  else
    echo "$target died before the held histogram: $(grep -m1 OutOfMemoryError "$log" || tail -1 "$log")" >&2
  fi
  wait "$GEN" || true
  GEN=
  grep -v '^RESULT ' "$OUT/$target.gen.log" | grep -v ConnectionBase | tail -4
  grep '^RESULT ' "$OUT/$target.gen.log" | cut -c8- >"$OUT/$target.result.json" || true
  cleanup
done

python3 - "$OUT" "$TOP" "${TARGET_LIST[@]}" <<'PY'
import json, os, re, sys
out, top, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def histo(path):
    h = {}
    for line in open(path):
        m = re.match(r"\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)", line)
        if m:
            n, b, cls = int(m.group(1)), int(m.group(2)), m.group(3)
            c = h.setdefault(cls, [0, 0]); c[0] += n; c[1] += b
    return h
def nmt(path):
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        m = re.match(r"-\s+(.+?) \(reserved=\d+KB, committed=(\d+)KB\)", line.strip())
        if m:
            d[m.group(1).strip()] = int(m.group(2))
    return d
per = {}
for t in targets:
    held = f"{out}/{t}.held.histo"
    if not os.path.exists(held):
        print(f"\n{t}: no held histogram (died?)"); continue
    r = json.load(open(f"{out}/{t}.result.json")) if os.path.exists(f"{out}/{t}.result.json") else {}
    alive = r.get("aliveAtEnd") or r.get("heldAtRssSample") or 1
    idle, hh = histo(f"{out}/{t}.idle.histo"), histo(held)
    diff = {c: (hh.get(c, [0, 0])[0] - idle.get(c, [0, 0])[0], hh.get(c, [0, 0])[1] - idle.get(c, [0, 0])[1])
            for c in set(idle) | set(hh)}
    per[t] = {c: (n / alive, b / alive) for c, (n, b) in diff.items()}
    total = sum(b for _, b in diff.values())
    print(f"\n{t}: {alive} connections alive; live heap {sum(v[1] for v in idle.values())/1048576:.1f} MB idle -> "
          f"{sum(v[1] for v in hh.values())/1048576:.1f} MB held = {total/alive:.0f} bytes per connection")
    print(f"  {'bytes/conn':>10} {'inst/conn':>9}  class")
    for c, (n, b) in sorted(per[t].items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"  {b:10.0f} {n:9.2f}  {c}")
    ni, nh = nmt(f"{out}/{t}.idle.nmt"), nmt(f"{out}/{t}.held.nmt")
    if nh:
        print(f"  native memory committed, idle -> held (KB): " + ", ".join(
            f"{k} {ni.get(k, 0)} -> {nh[k]}" for k in sorted(nh, key=lambda k: -nh[k]) if nh[k] >= 1024 or k == "Other"))
    for f in ["idle.status", "held.status"]:
        p = f"{out}/{t}.{f}"
        if os.path.exists(p):
            print(f"  {f}: " + " ".join(open(p).read().split()))
if "floor" in per and "flock" in per:
    f, o = per["floor"], per["flock"]
    d = {c: (o.get(c, (0, 0))[0] - f.get(c, (0, 0))[0], o.get(c, (0, 0))[1] - f.get(c, (0, 0))[1]) for c in set(f) | set(o)}
    print(f"\nflock - floor, bytes per connection: total {sum(b for _, b in d.values()):.0f}")
    print(f"  {'bytes/conn':>10} {'inst/conn':>9}  class")
    for c, (n, b) in sorted(d.items(), key=lambda kv: -abs(kv[1][1]))[:top]:
        print(f"  {b:10.0f} {n:9.2f}  {c}")
print(f"\nraw histograms, NMT and logs: {out}")
PY
