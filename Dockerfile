# syntax=docker/dockerfile:1
# Flock server image: a Maven build stage, then a JRE-only runtime that runs as a non-root user.
#   docker build -t flock-server .
#   docker run --rm -p 8787:8787 --memory=256m --ulimit nofile=65536:65536 flock-server

# ---- build ---------------------------------------------------------------------------------------------
FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first, in their own layer: a source change does not download them again.
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -DskipTests package

# ---- runtime -------------------------------------------------------------------------------------------
FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 flock \
    && useradd --system --uid 10001 --gid flock --home-dir /app --no-create-home --shell /usr/sbin/nologin flock
WORKDIR /app
COPY --from=build /src/target/flock-server.jar /app/flock-server.jar
COPY conf /app/conf
# The image's configuration is conf/docker.json (the production defaults that differ from the built-in ones:
# /metrics on port 9091, no try-it page), in the place the docs mount an operator's own file over it.
COPY conf/docker.json /app/conf/flock.json

# Sized for the small box (256 MB, 1 shared vCPU: 2,000 users in rooms of 10, 200 of them moving at 20 Hz;
# measured peak RSS in docs/DEPLOY.md). Every size follows the container's memory limit except the fixed
# caps; override the whole line with -e JAVA_OPTS=... on bigger machines (docs/OPERATIONS.md).
#   SerialGC            one GC thread and the least GC memory; pauses stay short on a heap this small
#   MaxRAMPercentage=50 heap = half the container limit; the rest is metaspace, code, direct buffers, stacks
#   MaxDirectMemorySize Netty's pooled socket buffers; caps what slow consumers can make it hold
#   MetaspaceSize=40m   no full GC at start-up for metaspace growth (~25 MB used)
#   ExitOnOutOfMemoryError  die at once and let the orchestrator restart it, instead of limping on
ENV JAVA_OPTS="-XX:+UseSerialGC -XX:MaxRAMPercentage=50 -XX:InitialRAMPercentage=12.5 -Xss512k \
-XX:MaxDirectMemorySize=48m -XX:ReservedCodeCacheSize=40m -XX:MetaspaceSize=40m -XX:MaxMetaspaceSize=96m \
-XX:+ExitOnOutOfMemoryError" \
    MALLOC_ARENA_MAX=2
# No FLOCK_* here: an environment variable beats the --conf file, so a setting set by the image could never be
# changed by a mounted /app/conf/flock.json. Port and host are the built-in defaults (8787, 0.0.0.0).

# Class-data sharing (issue 22): a training run of the server writes /app/flock.jsa, a dynamic AppCDS archive of the
# ~4,200 classes a start, a scrape and two WebSocket joins load, so the container's start maps them instead of
# loading and verifying them from the jar (start to /health about half: docs/BENCHMARKS.md, tenth session). It runs
# with the image's own java, jar path and JAVA_OPTS (SerialGC) and -XX:MaxRAM=256m, so compressed oops are on as in
# any container below 64 GB whatever the build machine's memory (the archive is ignored when they differ). The run
# starts the server as the image would, waits up to 30 s for the port, asks for /health, /ready and /metrics over
# bash's /dev/tcp, joins a room with two WebSockets (frames masked with a zero key) and moves a cursor, then SIGTERM:
# the JVM writes the archive as it exits. The build fails if the server never answered or no archive was written.
# -Xlog:cds=error: picocli's Java 5 classes cannot be archived, a warning each (they load from the jar as before).
SHELL ["/bin/bash", "-c"]
RUN java $JAVA_OPTS -XX:MaxRAM=256m -XX:ArchiveClassesAtExit=/app/flock.jsa -Xlog:cds=error \
      -jar /app/flock-server.jar --conf /app/conf/flock.json & pid=$!; \
    p=${FLOCK_PORT:-8787}; m=${FLOCK_METRICS_PORT:-9091}; up=; \
    for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && up=1 && break; sleep 0.1; done; \
    get() { exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3 && timeout 5 cat <&3 >/dev/null; exec 3<&-; }; \
    ws() { printf "\x81\x$(printf %02x $((128 + ${#2})))\x00\x00\x00\x00%s" "$2" >&$1; }; \
    if [ -n "$up" ]; then \
      get $p /health; get $p /ready; get $m /metrics; \
      for fd in 4 5; do \
        eval "exec $fd<>/dev/tcp/127.0.0.1/$p"; \
        printf 'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' >&$fd; \
        ws $fd "{\"type\":\"join\",\"roomId\":\"warm-up\",\"userId\":\"u$fd\",\"metadata\":{\"name\":\"cds\"}}"; \
      done; \
      for _ in 1 2 3; do ws 4 '{"type":"cursor:move","roomId":"warm-up","position":{"x":0.5,"y":0.5}}'; ws 5 '{"type":"heartbeat","roomId":"warm-up"}'; done; \
      ws 5 '{"type":"presence:update","roomId":"warm-up","metadata":{"idle":true}}'; ws 5 '{"type":"leave","roomId":"warm-up"}'; \
      sleep 1; timeout 1 cat <&4 >/dev/null; exec 4<&- 5<&-; \
    fi; \
    kill -TERM $pid; wait $pid; \
    [ -n "$up" ] && [ -s /app/flock.jsa ] || { echo "CDS training run failed: no server on port $p or no archive" >&2; exit 1; }

USER flock:flock
# 9091: /metrics (conf/docker.json), for a private scrape only; publish it to your Prometheus, never publicly.
EXPOSE 8787 9091

# The JRE image has no curl or wget, and a JVM per probe would cost ~40 MB every 30 s on a 256 MB box;
# bash is always there, so the probe is a raw HTTP/1.0 request over bash's /dev/tcp. Its port follows the
# server's own precedence: FLOCK_PORT, else "port" of /app/conf/flock.json (a mounted file may change it), else 8787.
# A --conf elsewhere than /app/conf/flock.json needs FLOCK_PORT or its own --health-cmd (docs/OPERATIONS.md).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "p=$(sed -n 's/.*\"port\"[[:space:]]*:[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p' /app/conf/flock.json 2>/dev/null | head -n 1); exec 3<>/dev/tcp/127.0.0.1/${FLOCK_PORT:-${p:-8787}} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]

# exec: java replaces the shell as PID 1, so `docker stop` (SIGTERM) reaches the JVM's shutdown hook:
# /ready turns 503, sockets close with 4001 "server restarting" (spread over FLOCK_SHUTDOWN_SPREAD_MS), the process exits within FLOCK_SHUTDOWN_TIMEOUT_MS.
# The archive comes before $JAVA_OPTS, so it stays on when an operator replaces JAVA_OPTS (-Xshare:off there turns it
# off). -Xshare:auto: an archive that does not match (another jar mounted over /app/flock-server.jar, a heap of 32 GB
# or more) costs one warning at most and the classes load from the jar; it never stops the start.
ENTRYPOINT ["sh", "-c", "exec java -XX:SharedArchiveFile=/app/flock.jsa -Xshare:auto $JAVA_OPTS -jar /app/flock-server.jar \"$@\"", "flock"]
CMD ["--conf", "/app/conf/flock.json"]
