#!/usr/bin/env bash
# Start-up time (issue 22): each run starts the server jar fresh (java $JVM_OPTS -jar JAR) and polls /health every
# 5 ms until the first 200; the time is from just before the exec to that 200, so it includes the JVM's own start.
# The poller is bash's builtins only (/dev/tcp, read -t, $EPOCHREALTIME): no curl, sleep or date process per poll,
# whose forks would take CPU from the server on a 2-core machine. Then the server gets SIGTERM and the next run
# starts. With several variants, the runs alternate (run 1 of each, run 2 of each, ...) so all see the same machine;
# medians, min/max and, from the second variant on, the ratio of its median to the first variant's: of the time, of
# the server's CPU time by the 200, and of its RSS then.
#
#   bench/run-startup.sh [-n runs] [-j "jvm opts"] [-d] [-c conf] [-a dir] [variant...]
#     -n runs      runs per variant (5)
#     -j opts      JVM options of every variant ("" = the JVM's defaults)
#     -d           the image's flags: the Dockerfile's JAVA_OPTS (read from it), -XX:MaxRAM=256m (the 256 MB box),
#                  MALLOC_ARENA_MAX=2, and conf/docker.json; -j opts are added after them
#     -c conf      --conf file (default: none, the built-in defaults; with -d conf/docker.json)
#     -a dir       class-data sharing: for each variant, first train an archive dir/<label>.jsa for its jar with the
#                  Dockerfile's own RUN step (kept when it exists), then measure a variant <label>+cds beside it, the
#                  same with -XX:SharedArchiveFile=dir/<label>.jsa -Xshare:auto (as the image's ENTRYPOINT)
#     variant      label=jar or label=jar=extra-jvm-opts (e.g. cds=target/flock-server.jar=-XX:SharedArchiveFile=x.jsa);
#                  default: one variant, $JAR (target/flock-server.jar)
#   env: STARTUP_PORT (8870; the server's port), STARTUP_METRICS_PORT (8871; used when the conf puts /metrics on a
#        port of its own)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=5
JVM_OPTS=""
IMAGE=false
CONF=""
PORT=${STARTUP_PORT:-8870}
METRICS_PORT=${STARTUP_METRICS_PORT:-8871}
CDS_DIR=""
while getopts "n:j:dc:a:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    j) JVM_OPTS=$OPTARG ;;
    d) IMAGE=true ;;
    c) CONF=$OPTARG ;;
    a) CDS_DIR=$OPTARG ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${BASH_VERSINFO[0]}" -ge 5 ] || { echo "needs bash 5 (EPOCHREALTIME)" >&2; exit 2; }
VARIANTS=("$@")
[ ${#VARIANTS[@]} -eq 0 ] && VARIANTS=("jar=${JAR:-target/flock-server.jar}")
for v in "${VARIANTS[@]}"; do
  IFS='=' read -r label jar _ <<<"$v"
  [ -n "$label" ] && [ -f "$jar" ] || { echo "bad variant '$v' (label=jar[=jvm opts]; is the jar built?)" >&2; exit 2; }
done

ENV_EXTRA=()
if $IMAGE; then
  # the ENV JAVA_OPTS="..." value of the Dockerfile, continuation lines joined (as bench/run-smallbox.sh)
  IMAGE_OPTS=$(sed -n '/^ENV JAVA_OPTS="/,/"/p' Dockerfile | tr -d '\\\n' | sed 's/^ENV JAVA_OPTS="\([^"]*\)".*/\1/')
  [ -n "$IMAGE_OPTS" ] || { echo "no JAVA_OPTS in the Dockerfile" >&2; exit 2; }
  JVM_OPTS="$IMAGE_OPTS -XX:MaxRAM=256m $JVM_OPTS"
  ENV_EXTRA=(MALLOC_ARENA_MAX=2)
  CONF=${CONF:-conf/docker.json}
fi
CONF_ARGS=()
[ -n "$CONF" ] && CONF_ARGS=(--conf "$CONF")

OUT=$(mktemp -d /tmp/flock-startup.XXXXXX)
PID=
stop_server() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; fi
}
trap stop_server EXIT

# train_archive jar archive: the Dockerfile's training RUN (continuation lines joined), its /app paths replaced by
# the jar's, conf/docker.json's and the archive's, run by bash as the build runs it, with the image's JAVA_OPTS and
# on our ports. The archive checks the jar's path, size and time: it fits only that jar at that path.
train_archive() {
  local jar archive run opts
  jar=$(realpath "$1") archive=$(realpath -m "$2")
  run=$(awk '/^RUN java .*ArchiveClassesAtExit/ { on = 1 } on { if (sub(/\\$/, "")) printf "%s", $0; else { print; exit } }' Dockerfile)
  [ -n "$run" ] || { echo "no CDS training RUN in the Dockerfile" >&2; exit 2; }
  run=${run#RUN }
  run=${run//\/app\/flock-server.jar/$jar}
  run=${run//\/app\/conf\/flock.json/$(realpath conf/docker.json)}
  run=${run//\/app\/flock.jsa/$archive}
  opts=$(sed -n '/^ENV JAVA_OPTS="/,/"/p' Dockerfile | tr -d '\\\n' | sed 's/^ENV JAVA_OPTS="\([^"]*\)".*/\1/')
  refuse_busy "$PORT" "$METRICS_PORT"
  echo "training $archive for $jar (the Dockerfile's RUN step)"
  JAVA_OPTS=$opts FLOCK_PORT=$PORT FLOCK_METRICS_PORT=$METRICS_PORT FLOCK_HOST=127.0.0.1 \
    bash -c "$run" >"$OUT/train.$(basename "$archive").log" 2>&1 \
    || { echo "training failed:" >&2; tail -5 "$OUT/train.$(basename "$archive").log" >&2; exit 1; }
}

if [ -n "$CDS_DIR" ]; then
  mkdir -p "$CDS_DIR"
  for v in "${VARIANTS[@]}"; do
    IFS='=' read -r label jar extra <<<"$v"
    [ -f "$CDS_DIR/$label.jsa" ] || train_archive "$jar" "$CDS_DIR/$label.jsa"
    VARIANTS+=("$label+cds=$jar=${extra:-} -XX:SharedArchiveFile=$(realpath "$CDS_DIR/$label.jsa") -Xshare:auto")
  done
fi
echo "JVM options: ${JVM_OPTS:-(defaults)}; conf: ${CONF:-(built-in defaults)}; $RUNS runs per variant: ${VARIANTS[*]}"

# a pipe nobody writes to: read -t on it is a sleep without a process
mkfifo "$OUT/idle"
exec 9<>"$OUT/idle"

# health_ok: one GET /health over bash's /dev/tcp; true on a 200
health_ok() {
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
  printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  local status=
  read -r -t 2 status <&3 || true
  exec 3<&-
  [[ $status == "HTTP/1."?" 200"* ]]
}

# one_run label jar extra-opts run: sets MS, the milliseconds from exec to the first /health 200, CPU_MS, the
# server's CPU milliseconds by then, and RSS_MB, its RSS then (no subshell, so the EXIT trap stops a server left by a
# failure)
one_run() {
  local label=$1 jar=$2 extra=$3 run=$4 log="$OUT/$1.$4.log"
  refuse_busy "$PORT" "$METRICS_PORT"
  local t0 t1=
  t0=${EPOCHREALTIME/[.,]/} # microseconds, without a process
  # shellcheck disable=SC2086
  env "${ENV_EXTRA[@]}" FLOCK_PORT="$PORT" FLOCK_METRICS_PORT="$METRICS_PORT" FLOCK_HOST=127.0.0.1 \
    java $JVM_OPTS $extra -jar "$jar" "${CONF_ARGS[@]}" >"$log" 2>&1 &
  PID=$!
  for ((i = 0; i < 6000; i++)); do # 30 s at most
    if health_ok; then
      t1=${EPOCHREALTIME/[.,]/}
      # the server's CPU time (user + system, clock ticks) so far: less hostage to a busy machine than the wall time
      CPU_MS=$(awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$PID/stat")
      RSS_MB=$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$PID/status") # and its resident memory then
      # how busy the machine was: the share of the last 10 s in which some runnable task waited for a CPU (%)
      PRESSURE=$(awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || echo -)
      break
    fi
    kill -0 "$PID" 2>/dev/null || { echo "$label exited at start:" >&2; cat "$log" >&2; exit 1; }
    read -r -t 0.005 -u 9 || true
  done
  [ -n "$t1" ] || { echo "$label: no /health 200 within 30 s" >&2; exit 1; }
  stop_server
  MS=$(((t1 - t0) / 1000))
}

for run in $(seq "$RUNS"); do
  for v in "${VARIANTS[@]}"; do
    IFS='=' read -r label jar extra <<<"$v"
    one_run "$label" "$jar" "${extra:-}" "$run"
    echo "run $run/$RUNS $label: ${MS} ms (server CPU ${CPU_MS} ms, RSS ${RSS_MB} MB; CPU pressure ${PRESSURE} %)"
    echo "$label $MS $CPU_MS $RSS_MB $PRESSURE" >>"$OUT/startup.txt"
  done
done

python3 - "$OUT" "${VARIANTS[@]}" <<'PY'
import statistics, sys
out, variants = sys.argv[1], [v.split("=", 1)[0] for v in sys.argv[2:]]
rows = [line.split() for line in open(f"{out}/startup.txt")]
for col, title in ((1, "start to first /health 200, ms"), (2, "server CPU (user + system) by then, ms"),
                   (3, "server RSS then, MB")):
    ms = {v: [int(r[col]) for r in rows if r[0] == v] for v in variants}
    ref = statistics.median(ms[variants[0]])
    print(f"\n{title}: median [min-max] (per run)")
    for v in variants:
        med = statistics.median(ms[v])
        ratio = f"  {med / ref:.2f}x {variants[0]}" if v != variants[0] else ""
        print(f"  {v:14s} {med:7.0f} [{min(ms[v])}-{max(ms[v])}]  {ms[v]}{ratio}")
pressure = [float(r[4]) for r in rows if len(r) > 4 and r[4] != "-"]
if pressure:
    print(f"\nCPU pressure (/proc/pressure/cpu some avg10) at the 200s: median {statistics.median(pressure):.0f} %,"
          f" {min(pressure):.0f}-{max(pressure):.0f} % (the starting JVM's own threads count too: compare sessions by it)")
print(f"\nlogs: {out}")
PY
