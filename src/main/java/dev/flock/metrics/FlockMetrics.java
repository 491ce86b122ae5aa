package dev.flock.metrics;

import dev.flock.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Flock's own meters, all named {@code flock_*} in Prometheus, none labelled by room or user (unbounded
 * cardinality). Counters are looked up once and cached: the hot path only increments. Every counter whose label
 * values are known is registered at 0 for each of them from the start: a series that appears with its first
 * increment has no earlier sample, so {@code rate()} and {@code increase()} miss that first increment.
 */
public final class FlockMetrics {

    /** {@code flock_connections_closed_total{reason}}: every reason a connection's end is counted under. */
    public static final List<String> CLOSE_REASONS = List.of("client", "rate_limit", "invalid_key", "too_big",
            "protocol_error", "invalid_utf8", "stalled_frame", "binary", "idle", "slow_consumer", "superseded", "shutdown",
            "upgrade_refused");
    /** {@code flock_messages_received_total{type}}: the six client message types, malformed and binary. */
    public static final List<String> MESSAGE_TYPES = List.of("join", "heartbeat", "cursor:move", "cursor:leave",
            "presence:update", "leave", "invalid", "binary");
    /** {@code flock_evictions_total{cause}}. */
    public static final List<String> EVICTION_CAUSES = List.of("ttl", "duplicate", "sweep");
    /** {@code flock_upgrades_refused_total{reason}} (transport's admission refusals). */
    public static final List<String> UPGRADE_REFUSALS = List.of("capacity", "per_ip", "memory");
    /** {@code flock_api_auth_failures_total{reason}}. */
    public static final List<String> API_AUTH_FAILURES = List.of("missing", "wrong", "locked_out");
    /** {@code flock_redis_errors_total{kind}}. */
    public static final List<String> REDIS_ERRORS = List.of("command", "connection_lost", "connect_failed");

    /** Why a client message was dropped without an answer ({@code flock_messages_dropped_total{reason}}). */
    public enum Drop {
        /** A cursor:leave, presence:update or leave for a room the connection holds no seat in (never joined, left, or refused). */
        NOT_JOINED("not_joined"),
        /** A cursor move sent before its join and never relayed: beyond the 3 held, older than 500 ms at the join, or no join came. */
        BEFORE_JOIN("before_join"),
        /** The message reached the room after its sender's member was removed (an eviction or expiry raced it). */
        EVICTED("evicted"),
        /** A cursor or presence message to a room the connection's token makes read-only (FORBIDDEN). */
        READ_ONLY("read_only"),
        /** A presence:update that only touched keys the connection's token asserts. */
        LOCKED_METADATA("locked_metadata"),
        /** A cursor move a room could not queue (4,096 commands waiting, e.g. behind a stalled Redis). */
        OVERLOAD("overload");

        public final String label;

        Drop(String label) {
            this.label = label;
        }
    }

    private final MeterRegistry registry;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger roomMembers = new AtomicInteger();
    private final Map<String, Counter> received = new ConcurrentHashMap<>();
    private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
    private final Map<String, Counter> closes = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    private final Map<String, Counter> evictions = new ConcurrentHashMap<>();
    private final Map<String, Counter> auth = new ConcurrentHashMap<>();
    private final Map<String, Counter> graces = new ConcurrentHashMap<>();
    private final Counter delivered;
    private final Counter[] dropped = new Counter[Drop.values().length];
    private final Counter coalesced;
    private final Counter opened;
    private final Timer cursorDelivery;
    private final Timer presenceDelivery;
    /**
     * Redis meters are registered by {@link #redisMode()} (the Redis bridge, at start), so a single instance does not
     * show a Redis that is "down"; the methods below tolerate being called before it.
     */
    private final AtomicInteger redisConnected = new AtomicInteger();
    private final Map<String, Counter> redisErrors = new ConcurrentHashMap<>();
    private volatile Counter redisPublished;
    private volatile Counter redisReceived;
    private volatile Counter redisDropped;
    private volatile Counter redisReconnects;
    private volatile Timer redisCommands;

    public FlockMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("flock.connections.open", connections, AtomicInteger::get)
                .description("WebSocket connections open on this instance").register(registry);
        Gauge.builder("flock.room.members", roomMembers, AtomicInteger::get)
                .description("(connection, room) memberships admitted on this instance").register(registry);
        opened = Counter.builder("flock.connections.opened").description("WebSocket connections accepted")
                .register(registry);
        for (ErrorCode code : ErrorCode.values()) {
            errors.put(code, Counter.builder("flock.errors.sent").description("error messages sent, by code")
                    .tag("code", code.name()).register(registry));
        }
        delivered = Counter.builder("flock.messages.delivered").description("frames written to local connections")
                .register(registry);
        graceCounter("returned"); // both outcomes from the start, at 0
        graceCounter("left");
        for (Drop d : Drop.values()) {
            dropped[d.ordinal()] = Counter.builder("flock.messages.dropped")
                    .description("client messages dropped without an answer, by reason").tag("reason", d.label)
                    .register(registry);
        }
        coalesced = Counter.builder("flock.cursor.coalesced")
                .description("cursor updates replaced by a newer one for a slow consumer").register(registry);
        cursorDelivery = deliveryTimer("cursor");
        presenceDelivery = deliveryTimer("presence");
        CLOSE_REASONS.forEach(r -> counter(closes, "flock.connections.closed", "reason", r, "connections closed, by reason"));
        MESSAGE_TYPES.forEach(t -> counter(received, "flock.messages.received", "type", t, "client messages received, by type"));
        EVICTION_CAUSES.forEach(c -> counter(evictions, "flock.evictions", "cause", c, "room members evicted, by cause"));
        UPGRADE_REFUSALS.forEach(r -> counter(refusals, "flock.upgrades.refused", "reason", r,
                "WebSocket upgrades refused with 503, by reason"));
    }

    /**
     * Frame received to written to its last local recipient, one sample per fan-out. Fixed SLO buckets (13 from
     * 0.1 ms to 1 s) rather than Micrometer's ~70 percentile buckets: a shorter search per record, a smaller scrape,
     * and bounds an OTLP backend and a dashboard read as they are.
     */
    private Timer deliveryTimer(String kind) {
        return Timer.builder("flock.delivery.duration")
                .description("frame received to written to its last local recipient, per fan-out, by kind")
                .tag("kind", kind)
                .serviceLevelObjectives(DELIVERY_BUCKETS)
                .register(registry);
    }

    private static final Duration[] DELIVERY_BUCKETS = {Duration.ofNanos(100_000), Duration.ofNanos(250_000),
            Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1)};

    /**
     * {@code flock_build_info{version,commit}} = 1: which build each instance runs, joinable onto any other meter
     * ({@code * on(instance) group_left(version) flock_build_info}).
     */
    public static void buildInfo(MeterRegistry registry, String version, String commit) {
        Gauge.builder("flock.build.info", () -> 1).description("the running build: always 1, labelled with its version")
                .tag("version", version).tag("commit", commit).strongReference(true).register(registry);
    }

    /** Every series of the server API's key refusals at 0 (called when the API is on). */
    public void apiAuthFailures() {
        API_AUTH_FAILURES.forEach(this::apiAuthCounter);
    }

    /** Meters kept in memory only: for tests and embedders that do not scrape. */
    public static FlockMetrics inMemory() {
        return new FlockMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).strongReference(true).register(registry);
    }

    public void connectionOpened() {
        connections.incrementAndGet();
        opened.increment();
    }

    public void connectionClosed(String reason) {
        connections.decrementAndGet();
        counter(closes, "flock.connections.closed", "reason", reason, "connections closed, by reason").increment();
    }

    public void upgradeRefused() {
        counter(closes, "flock.connections.closed", "reason", "upgrade_refused", "connections closed, by reason").increment();
    }

    /** An upgrade refused by admission control (capacity, per_ip, memory): no socket was opened. */
    public void upgradeRefused(String reason) {
        counter(refusals, "flock.upgrades.refused", "reason", reason, "WebSocket upgrades refused with 503, by reason").increment();
    }

    /** A reconnect grace ended: {@code returned} (the user came back within it) or {@code left} (nobody did). */
    public void graceEnded(String outcome) {
        graceCounter(outcome).increment();
    }

    private Counter graceCounter(String outcome) {
        return counter(graces, "flock.reconnect.graces", "outcome", outcome,
                "reconnect graces (a connection that ended without a goodbye), by how they ended");
    }

    /** A connection token at an upgrade: {@code accepted}, or the reason it was refused. */
    public void authResult(String result) {
        authCounter(result).increment();
    }

    /** Registers the fixed set of results at 0, so a dashboard sees every series from the start. */
    public void authResults(List<String> results) {
        results.forEach(this::authCounter);
    }

    private Counter authCounter(String result) {
        return counter(auth, "flock.auth", "result", result, "connection tokens at the upgrade: accepted, or refused by reason");
    }

    public void memberAdded() {
        roomMembers.incrementAndGet();
    }

    public void memberRemoved() {
        roomMembers.decrementAndGet();
    }

    public void received(String type) {
        counter(received, "flock.messages.received", "type", type, "client messages received, by type").increment();
    }

    public void errorSent(ErrorCode code) {
        errors.get(code).increment();
    }

    public void delivered(long frames) {
        if (frames > 0) {
            delivered.increment(frames);
        }
    }

    public void dropped(Drop reason) {
        dropped[reason.ordinal()].increment();
    }

    public void dropped(Drop reason, int messages) {
        if (messages > 0) {
            dropped[reason.ordinal()].increment(messages);
        }
    }

    /** The room's queue dropped a cursor move (full). */
    public void droppedOverload() {
        dropped(Drop.OVERLOAD);
    }

    public void coalesced() {
        coalesced.increment();
    }

    public void eviction(String cause) {
        counter(evictions, "flock.evictions", "cause", cause, "room members evicted, by cause").increment();
    }

    /** One cursor fan-out: its frame's arrival to the write to its last local recipient. */
    public void cursorDeliveryNanos(long nanos) {
        cursorDelivery.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** One presence:update fan-out (the store's merge included): its frame's arrival to the last local write. */
    public void presenceDeliveryNanos(long nanos) {
        presenceDelivery.record(nanos, TimeUnit.NANOSECONDS);
    }

    // ---- Redis (multi-instance mode) ----------------------------------------------------------------------

    /** Redis mode: every Redis meter from the start, at 0 (the connection gauge at 0 until connected). */
    public void redisMode() {
        redisPublished(0);
        redisReceived(0);
        redisDropped(0);
        redisReconnected(0);
        REDIS_ERRORS.forEach(this::redisErrorCounter);
        redisCommandTimer();
        redisConnected(false);
    }

    /**
     * A Redis error: {@code command} (a command or pipelined batch failed or timed out while connected),
     * {@code connection_lost} (a connection failed, closed or stopped answering PING) or {@code connect_failed} (a
     * connection attempt failed).
     */
    public void redisError(String kind) {
        redisErrorCounter(kind).increment();
    }

    private Counter redisErrorCounter(String kind) {
        return counter(redisErrors, "flock.redis.errors", "kind", kind, "Redis errors, by kind");
    }

    /** The Redis connections are back after a loss or a failed first attempt. */
    public void redisReconnected() {
        redisReconnected(1);
    }

    private void redisReconnected(int n) {
        Counter c = redisReconnects;
        if (c == null) {
            c = redisReconnects = Counter.builder("flock.redis.reconnects")
                    .description("Redis connections re-established after a loss or a failed attempt").register(registry);
        }
        c.increment(n);
    }

    /** One message published on a room channel (a fan-out leaving this instance). */
    public void redisPublished() {
        redisPublished(1);
    }

    /** {@code events} published in one pipelined batch. */
    public void redisPublished(int events) {
        Counter c = redisPublished;
        if (c == null) {
            c = redisPublished = Counter.builder("flock.redis.published")
                    .description("messages published to Redis room channels").register(registry);
        }
        c.increment(events);
    }

    /** One message received from a room channel that came from another instance. */
    public void redisReceived() {
        redisReceived(1);
    }

    private void redisReceived(int n) {
        Counter c = redisReceived;
        if (c == null) {
            c = redisReceived = Counter.builder("flock.redis.received")
                    .description("messages received from Redis room channels (other instances)").register(registry);
        }
        c.increment(n);
    }

    /** A cross-instance event dropped because Redis was unreachable (memory stays bounded). */
    public void redisDropped() {
        redisDropped(1);
    }

    /** {@code events} dropped at once. */
    public void redisDropped(int events) {
        Counter c = redisDropped;
        if (c == null) {
            c = redisDropped = Counter.builder("flock.redis.dropped")
                    .description("cross-instance events dropped while Redis was unreachable").register(registry);
        }
        c.increment(events);
    }

    /** The round trip of one Redis command (or pipelined batch), from send to reply. */
    public void redisCommand(long nanos) {
        redisCommandTimer().record(nanos, TimeUnit.NANOSECONDS);
    }

    private Timer redisCommandTimer() {
        Timer t = redisCommands;
        if (t == null) {
            t = redisCommands = Timer.builder("flock.redis.command.duration")
                    .description("Redis command round trip, send to reply")
                    .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
                    .maximumExpectedValue(Duration.ofSeconds(5)).register(registry);
        }
        return t;
    }

    /** The Redis connection state: 1 connected, 0 not (the gauge appears on the first call). */
    public void redisConnected(boolean connected) {
        redisConnected.set(connected ? 1 : 0);
        Gauge.builder("flock.redis.connected", redisConnected, AtomicInteger::get)
                .description("1 while the Redis connections are up, 0 otherwise").register(registry); // idempotent
    }

    /** The number of Redis pub/sub channels this instance holds, read at each scrape. */
    public void redisChannels(Supplier<Number> channels) {
        Gauge.builder("flock.redis.channels", channels).description("Redis pub/sub channels subscribed by this instance")
                .strongReference(true).register(registry);
    }

    // ---- webhooks and the server API (issue 19); registered by the parts that use them --------------------------

    private final Map<String, Counter> webhookDeliveries = new ConcurrentHashMap<>();
    private final Map<String, Counter> webhookDrops = new ConcurrentHashMap<>();
    private final Map<String, Counter> apiAuthFailures = new ConcurrentHashMap<>();
    private volatile Timer webhookLatency;

    /** Every series of the webhook meters at 0, and the pending gauge read from {@code pending}. */
    public void webhooks(Supplier<Number> pending) {
        for (String r : List.of("delivered", "http_error", "timeout", "network_error")) {
            webhookCounter(r);
        }
        webhookDropCounter("max_age");
        webhookDropCounter("overflow");
        Gauge.builder("flock.webhook.pending", pending)
                .description("webhook events waiting for delivery, summed over the URLs (fleet-wide in Redis mode)")
                .strongReference(true).register(registry);
        webhookLatency = Timer.builder("flock.webhook.delivery.duration")
                .description("one webhook request, sent to answered (or timed out)")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
    }

    /** One webhook request: {@code delivered} (2xx), {@code http_error}, {@code timeout} or {@code network_error}. */
    public void webhookDelivery(String result, long nanos) {
        webhookCounter(result).increment();
        Timer t = webhookLatency;
        if (t != null) {
            t.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Webhook events given up: {@code max_age} (undelivered past FLOCK_WEBHOOK_MAX_AGE_SECONDS) or {@code overflow}. */
    public void webhookDropped(String reason, long events) {
        webhookDropCounter(reason).increment(events);
    }

    private Counter webhookCounter(String result) {
        return counter(webhookDeliveries, "flock.webhook.deliveries", "result", result,
                "webhook requests, by result (a retry counts again)");
    }

    private Counter webhookDropCounter(String reason) {
        return counter(webhookDrops, "flock.webhook.events.dropped", "reason", reason,
                "webhook events given up, by reason");
    }

    /** A server API request with a missing or wrong key ({@code missing}, {@code wrong}) or refused while locked out. */
    public void apiAuthFailed(String reason) {
        apiAuthCounter(reason).increment();
    }

    private Counter apiAuthCounter(String reason) {
        return counter(apiAuthFailures, "flock.api.auth.failures", "reason", reason,
                "server API requests refused for their key, by reason");
    }

    public int openConnections() {
        return connections.get();
    }

    private Counter counter(Map<String, Counter> cache, String name, String tag, String value, String description) {
        return cache.computeIfAbsent(value, v -> Counter.builder(name).description(description).tag(tag, v).register(registry));
    }

}
