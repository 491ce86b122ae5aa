package dev.flock.metrics;

import dev.flock.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Flock's own meters, all named {@code flock_*} in Prometheus, none labelled by room or user (unbounded
 * cardinality). Counters are looked up once and cached: the hot path only increments.
 */
public final class FlockMetrics {

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
    private final Counter dropped;
    private final Counter coalesced;
    private final Counter opened;
    private final Timer fanout;
    /** Redis meters appear on first use, so a single instance does not show a Redis that is "down". */
    private final AtomicInteger redisConnected = new AtomicInteger();
    private volatile Counter redisPublished;
    private volatile Counter redisReceived;
    private volatile Counter redisDropped;
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
        dropped = Counter.builder("flock.messages.dropped")
                .description("client messages dropped silently (room not joined)").register(registry);
        coalesced = Counter.builder("flock.cursor.coalesced")
                .description("cursor updates replaced by a newer one for a slow consumer").register(registry);
        fanout = Timer.builder("flock.fanout.duration")
                .description("from receipt of a client message to its last local write")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(2)).register(registry);
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
    public void authResults(java.util.List<String> results) {
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

    public void dropped() {
        dropped.increment();
    }

    public void coalesced() {
        coalesced.increment();
    }

    public void eviction(String cause) {
        counter(evictions, "flock.evictions", "cause", cause, "room members evicted, by cause").increment();
    }

    public void fanoutNanos(long nanos) {
        fanout.record(nanos, TimeUnit.NANOSECONDS);
    }

    // ---- Redis (multi-instance mode) ----------------------------------------------------------------------

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
        Counter c = redisReceived;
        if (c == null) {
            c = redisReceived = Counter.builder("flock.redis.received")
                    .description("messages received from Redis room channels (other instances)").register(registry);
        }
        c.increment();
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
        Timer t = redisCommands;
        if (t == null) {
            t = redisCommands = Timer.builder("flock.redis.command.duration")
                    .description("Redis command round trip, send to reply")
                    .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
                    .maximumExpectedValue(Duration.ofSeconds(5)).register(registry);
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
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
        for (String r : java.util.List.of("delivered", "http_error", "timeout", "network_error")) {
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
        counter(apiAuthFailures, "flock.api.auth.failures", "reason", reason,
                "server API requests refused for their key, by reason").increment();
    }

    public int openConnections() {
        return connections.get();
    }

    private Counter counter(Map<String, Counter> cache, String name, String tag, String value, String description) {
        return cache.computeIfAbsent(value, v -> Counter.builder(name).description(description).tag(tag, v).register(registry));
    }

}
