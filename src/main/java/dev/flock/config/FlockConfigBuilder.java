package dev.flock.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds a {@link FlockConfig} in code, for applications that embed Flock. Starts from the defaults; every
 * value goes through the same checks as the config file, so {@link #build()} throws a
 * {@link ConfigException} naming the setting, exactly as start-up would.
 *
 * <pre>{@code
 * FlockConfig config = FlockConfig.builder().port(0).maxRoomSize(50).presenceTtlSeconds(60).build();
 * }</pre>
 */
public final class FlockConfigBuilder {

    private final JsonObject values = new JsonObject();

    FlockConfigBuilder() {
    }

    /** Sets a setting by its JSON key (see {@link Settings}); an unknown key fails in {@link #build()}. */
    public FlockConfigBuilder set(String key, Object value) {
        values.put(key, value instanceof List<?> l ? new JsonArray(List.copyOf(l)) : value);
        return this;
    }

    public FlockConfigBuilder port(int port) {
        return set(Settings.PORT.key(), port);
    }

    public FlockConfigBuilder host(String host) {
        return set(Settings.HOST.key(), host);
    }

    public FlockConfigBuilder redisUrl(String redisUrl) {
        return set(Settings.REDIS_URL.key(), redisUrl);
    }

    public FlockConfigBuilder apiKeys(String... keys) {
        return set(Settings.API_KEYS.key(), List.of(keys));
    }

    public FlockConfigBuilder presenceTtlSeconds(int seconds) {
        return set(Settings.PRESENCE_TTL_SECONDS.key(), seconds);
    }

    public FlockConfigBuilder heartbeatIntervalMs(int ms) {
        return set(Settings.HEARTBEAT_INTERVAL_MS.key(), ms);
    }

    public FlockConfigBuilder maxMessagesPerSecond(int n) {
        return set(Settings.MAX_MESSAGES_PER_SECOND.key(), n);
    }

    /** Distinct users per room; 0 = no limit. */
    public FlockConfigBuilder maxRoomSize(int n) {
        return set(Settings.MAX_ROOM_SIZE.key(), n);
    }

    public FlockConfigBuilder adminPassword(String password) {
        return set(Settings.ADMIN_PASSWORD.key(), password);
    }

    public FlockConfigBuilder adminToken(String token) {
        return set(Settings.ADMIN_TOKEN.key(), token);
    }

    public FlockConfigBuilder logLevel(String level) {
        return set(Settings.LOG_LEVEL.key(), level);
    }

    public FlockConfigBuilder duplicateJoin(FlockConfig.DuplicateJoin mode) {
        return set(Settings.DUPLICATE_JOIN.key(), mode.name().toLowerCase(Locale.ROOT));
    }

    /** 0 = write each fan-out frame at once (lowest latency, more CPU). */
    public FlockConfigBuilder flushIntervalMs(int ms) {
        return set(Settings.FLUSH_INTERVAL_MS.key(), ms);
    }

    public FlockConfigBuilder maxFrameBytes(int bytes) {
        return set(Settings.MAX_FRAME_BYTES.key(), bytes);
    }

    public FlockConfigBuilder maxMetadataBytes(int bytes) {
        return set(Settings.MAX_METADATA_BYTES.key(), bytes);
    }

    public FlockConfigBuilder maxIdLength(int chars) {
        return set(Settings.MAX_ID_LENGTH.key(), chars);
    }

    public FlockConfigBuilder joinTimeoutSeconds(int seconds) {
        return set(Settings.JOIN_TIMEOUT_SECONDS.key(), seconds);
    }

    public FlockConfigBuilder websocketCompression(boolean on) {
        return set(Settings.WEBSOCKET_COMPRESSION.key(), on);
    }

    public FlockConfigBuilder slowConsumerMaxBytes(long bytes) {
        return set(Settings.SLOW_CONSUMER_MAX_BYTES.key(), bytes);
    }

    public FlockConfigBuilder slowConsumerGraceMs(int ms) {
        return set(Settings.SLOW_CONSUMER_GRACE_MS.key(), ms);
    }

    public FlockConfigBuilder metricsEnabled(boolean on) {
        return set(Settings.METRICS_ENABLED.key(), on);
    }

    public FlockConfigBuilder metricsPort(int port) {
        return set(Settings.METRICS_PORT.key(), port);
    }

    public FlockConfigBuilder demo(boolean on) {
        return set(Settings.DEMO.key(), on);
    }

    public FlockConfigBuilder frameTimeoutMs(int ms) {
        return set(Settings.FRAME_TIMEOUT_MS.key(), ms);
    }

    public FlockConfigBuilder httpRequestTimeoutMs(int ms) {
        return set(Settings.HTTP_REQUEST_TIMEOUT_MS.key(), ms);
    }

    /** 0 = derived from the heap and the fd limit. */
    public FlockConfigBuilder maxConnections(int n) {
        return set(Settings.MAX_CONNECTIONS.key(), n);
    }

    /** 0 = no limit. */
    public FlockConfigBuilder maxConnectionsPerIp(int n) {
        return set(Settings.MAX_CONNECTIONS_PER_IP.key(), n);
    }

    public FlockConfigBuilder memoryHighWaterPercent(int percent) {
        return set(Settings.MEMORY_HIGH_WATER_PERCENT.key(), percent);
    }

    public FlockConfigBuilder trustProxy(boolean on) {
        return set(Settings.TRUST_PROXY.key(), on);
    }

    public FlockConfigBuilder shutdownTimeoutMs(int ms) {
        return set(Settings.SHUTDOWN_TIMEOUT_MS.key(), ms);
    }

    public FlockConfigBuilder auth(AuthSettings.Mode mode) {
        return set(Settings.AUTH.key(), mode.name().toLowerCase(Locale.ROOT));
    }

    public FlockConfigBuilder jwtSecret(String secret) {
        return set(Settings.JWT_SECRET.key(), secret);
    }

    /** PEM text of one or more public keys or certificates, or the path of a file holding them. */
    public FlockConfigBuilder jwtPublicKeys(String pem) {
        return set(Settings.JWT_PUBLIC_KEYS.key(), pem);
    }

    public FlockConfigBuilder jwtIssuer(String issuer) {
        return set(Settings.JWT_ISSUER.key(), issuer);
    }

    public FlockConfigBuilder jwtAudience(String audience) {
        return set(Settings.JWT_AUDIENCE.key(), audience);
    }

    public FlockConfigBuilder jwtLeewaySeconds(int seconds) {
        return set(Settings.JWT_LEEWAY_SECONDS.key(), seconds);
    }

    /** 0 = off: a connection's rooms see its user leave at once, however it ended. */
    public FlockConfigBuilder reconnectGraceMs(int ms) {
        return set(Settings.RECONNECT_GRACE_MS.key(), ms);
    }

    public FlockConfigBuilder shutdownSpreadMs(int ms) {
        return set(Settings.SHUTDOWN_SPREAD_MS.key(), ms);
    }

    /** Bearer keys of the server API (several for rotation); none = the API is off. */
    public FlockConfigBuilder serverApiKeys(String... keys) {
        return set(Settings.SERVER_API_KEY.key(), new io.vertx.core.json.JsonArray(List.of(keys)));
    }

    /** URLs that receive the webhooks, signed with {@code secret}. */
    public FlockConfigBuilder webhooks(String secret, String... urls) {
        set(Settings.WEBHOOK_SECRET.key(), secret);
        return set(Settings.WEBHOOK_URL.key(), new io.vertx.core.json.JsonArray(List.of(urls)));
    }

    /** Comma-separated event types, e.g. {@code "user.joined,user.left,presence.updated"}. */
    public FlockConfigBuilder webhookEvents(String types) {
        return set(Settings.WEBHOOK_EVENTS.key(), types);
    }

    public FlockConfigBuilder webhookBatchMs(int ms) {
        return set(Settings.WEBHOOK_BATCH_MS.key(), ms);
    }

    public FlockConfigBuilder webhookMaxAgeSeconds(int seconds) {
        return set(Settings.WEBHOOK_MAX_AGE_SECONDS.key(), seconds);
    }

    public FlockConfigBuilder webhookMaxPending(int events) {
        return set(Settings.WEBHOOK_MAX_PENDING.key(), events);
    }

    /** Checks every value as the config file's would be checked; environment variables are not read. */
    public FlockConfig build() {
        return ConfigLoader.load(values.copy(), Map.of());
    }
}
