package dev.flock.metrics;

import dev.flock.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
    private final Map<String, Counter> evictions = new ConcurrentHashMap<>();
    private final Counter delivered;
    private final Counter dropped;
    private final Counter coalesced;
    private final Timer fanout;
    private final Counter redisPublished;
    private final Counter redisReceived;
    private final Counter redisDropped;
    private final Timer redisCommands;
    private final AtomicInteger redisUp = new AtomicInteger();

    public FlockMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("flock.connections.open", connections);
        registry.gauge("flock.room.members", roomMembers);
        for (ErrorCode code : ErrorCode.values()) {
            errors.put(code, Counter.builder("flock.errors.sent").description("error messages sent, by code")
                    .tag("code", code.name()).register(registry));
        }
        delivered = Counter.builder("flock.messages.delivered").description("frames written to local connections")
                .register(registry);
        dropped = Counter.builder("flock.messages.dropped")
                .description("client messages dropped silently (room not joined)").register(registry);
        coalesced = Counter.builder("flock.cursor.coalesced")
                .description("cursor updates replaced by a newer one for a slow consumer").register(registry);
        fanout = Timer.builder("flock.fanout.duration")
                .description("from receipt of a client message to its last local write")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(2)).register(registry);
        redisPublished = Counter.builder("flock.redis.published").description("room events published to Redis")
                .register(registry);
        redisReceived = Counter.builder("flock.redis.received")
                .description("room events received from other instances through Redis").register(registry);
        redisDropped = Counter.builder("flock.redis.dropped")
                .description("room events not published because Redis was unavailable or overloaded").register(registry);
        redisCommands = Timer.builder("flock.redis.command.duration").description("Redis script and command round trips")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
                .maximumExpectedValue(Duration.ofSeconds(5)).register(registry);
        registry.gauge("flock.redis.connected", redisUp);
    }

    /** Meters kept in memory only: for tests and embedders that do not scrape. */
    public static FlockMetrics inMemory() {
        return new FlockMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
    }

    public void connectionOpened() {
        connections.incrementAndGet();
    }

    public void connectionClosed(String reason) {
        connections.decrementAndGet();
        counter(closes, "flock.connections.closed", "reason", reason, "connections closed, by reason").increment();
    }

    public void upgradeRefused() {
        counter(closes, "flock.connections.closed", "reason", "upgrade_refused", "connections closed, by reason").increment();
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
        fanout.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void redisPublished() {
        redisPublished.increment();
    }

    public void redisPublished(int events) {
        redisPublished.increment(events);
    }

    public void redisReceived() {
        redisReceived.increment();
    }

    public void redisDropped(int events) {
        redisDropped.increment(events);
    }

    public void redisCommand(long nanos) {
        redisCommands.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void redisConnected(boolean connected) {
        redisUp.set(connected ? 1 : 0);
    }

    public void redisChannels(Supplier<Number> channels) {
        gauge("flock.redis.channels", "Redis channels this instance subscribes to", channels);
    }

    public int openConnections() {
        return connections.get();
    }

    private Counter counter(Map<String, Counter> cache, String name, String tag, String value, String description) {
        return cache.computeIfAbsent(value, v -> Counter.builder(name).description(description).tag(tag, v).register(registry));
    }

}
