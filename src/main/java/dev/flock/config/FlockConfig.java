package dev.flock.config;

import java.util.List;
import java.util.Map;

/** The resolved, validated configuration of one Flock server. */
public record FlockConfig(
        int port,
        String host,
        String redisUrl,
        List<String> apiKeys,
        int presenceTtlSeconds,
        int heartbeatIntervalMs,
        int maxMessagesPerSecond,
        int maxRoomSize,
        String adminPassword,
        String adminToken,
        String logLevel,
        DuplicateJoin duplicateJoin,
        int flushIntervalMs,
        int maxFrameBytes,
        int maxMetadataBytes,
        int maxIdLength,
        int joinTimeoutSeconds,
        boolean websocketCompression,
        long slowConsumerMaxBytes,
        int slowConsumerGraceMs,
        boolean metricsEnabled,
        int metricsPort,
        boolean demo,
        boolean trustProxy,
        int shutdownTimeoutMs,
        boolean redisKeyspaceEvents,
        int redisSweepIntervalMs,
        int frameTimeoutMs,
        int httpRequestTimeoutMs,
        int maxConnections,
        int maxConnectionsPerIp,
        int memoryHighWaterPercent,
        AuthSettings auth,
        int reconnectGraceMs,
        int shutdownSpreadMs,
        List<String> serverApiKeys,
        WebhookSettings webhooks,
        boolean nativeTransport,
        LogFormat logFormat,
        OtlpSettings otlp,
        int warmupConnections) {

    /** How log lines are written: Flock's JSON, or the original server's pino shape. */
    public enum LogFormat { JSON, PINO }

    /** What a second connection of a user already in a room does. */
    public enum DuplicateJoin { SHARE, EVICT }

    public FlockConfig {
        apiKeys = List.copyOf(apiKeys);
        serverApiKeys = List.copyOf(serverApiKeys);
    }

    /** {@code FLOCK_SERVER_API_KEY} is set: the server API at /api/v1 answers. */
    public boolean serverApiEnabled() {
        return !serverApiKeys.isEmpty();
    }

    /** Defaults only, as if no file and no environment were given. */
    public static FlockConfig defaults() {
        return ConfigLoader.load(new io.vertx.core.json.JsonObject(), Map.of());
    }

    /** A builder that starts from the defaults, for applications that embed Flock. */
    public static FlockConfigBuilder builder() {
        return new FlockConfigBuilder();
    }

    /** Defaults overridden by the given {@code FLOCK_*} variables; handy for tests and embedding. */
    public static FlockConfig fromEnv(Map<String, String> env) {
        return ConfigLoader.load(new io.vertx.core.json.JsonObject(), env);
    }

    public boolean redisEnabled() {
        return redisUrl != null && !redisUrl.isBlank();
    }

    public boolean apiKeysRequired() {
        return !apiKeys.isEmpty();
    }

    public boolean adminEnabled() {
        return adminPassword != null && !adminPassword.isEmpty();
    }

    public long presenceTtlMs() {
        return presenceTtlSeconds * 1000L;
    }

    @SuppressWarnings("unchecked")
    static FlockConfig from(Map<Setting, Object> v) {
        return new FlockConfig(
                i(v, Settings.PORT), (String) v.get(Settings.HOST), (String) v.get(Settings.REDIS_URL),
                (List<String>) v.get(Settings.API_KEYS),
                i(v, Settings.PRESENCE_TTL_SECONDS), i(v, Settings.HEARTBEAT_INTERVAL_MS), i(v, Settings.MAX_MESSAGES_PER_SECOND),
                i(v, Settings.MAX_ROOM_SIZE), (String) v.get(Settings.ADMIN_PASSWORD), (String) v.get(Settings.ADMIN_TOKEN),
                (String) v.get(Settings.LOG_LEVEL),
                DuplicateJoin.valueOf(((String) v.get(Settings.DUPLICATE_JOIN)).toUpperCase(java.util.Locale.ROOT)),
                i(v, Settings.FLUSH_INTERVAL_MS), i(v, Settings.MAX_FRAME_BYTES), i(v, Settings.MAX_METADATA_BYTES),
                i(v, Settings.MAX_ID_LENGTH), i(v, Settings.JOIN_TIMEOUT_SECONDS), (Boolean) v.get(Settings.WEBSOCKET_COMPRESSION),
                ((Number) v.get(Settings.SLOW_CONSUMER_MAX_BYTES)).longValue(), i(v, Settings.SLOW_CONSUMER_GRACE_MS),
                (Boolean) v.get(Settings.METRICS_ENABLED), i(v, Settings.METRICS_PORT), (Boolean) v.get(Settings.DEMO),
                (Boolean) v.get(Settings.TRUST_PROXY), i(v, Settings.SHUTDOWN_TIMEOUT_MS),
                (Boolean) v.get(Settings.REDIS_KEYSPACE_EVENTS), i(v, Settings.REDIS_SWEEP_INTERVAL_MS),
                i(v, Settings.FRAME_TIMEOUT_MS), i(v, Settings.HTTP_REQUEST_TIMEOUT_MS), i(v, Settings.MAX_CONNECTIONS),
                i(v, Settings.MAX_CONNECTIONS_PER_IP), i(v, Settings.MEMORY_HIGH_WATER_PERCENT),
                new AuthSettings(AuthSettings.Mode.valueOf(((String) v.get(Settings.AUTH)).toUpperCase(java.util.Locale.ROOT)),
                        (String) v.get(Settings.JWT_SECRET), (String) v.get(Settings.JWT_PUBLIC_KEYS),
                        (String) v.get(Settings.JWT_ISSUER), (String) v.get(Settings.JWT_AUDIENCE),
                        i(v, Settings.JWT_LEEWAY_SECONDS)),
                i(v, Settings.RECONNECT_GRACE_MS), i(v, Settings.SHUTDOWN_SPREAD_MS),
                (List<String>) v.get(Settings.SERVER_API_KEY),
                WebhookSettings.of((List<String>) v.get(Settings.WEBHOOK_URL), (String) v.get(Settings.WEBHOOK_SECRET),
                        (String) v.get(Settings.WEBHOOK_EVENTS), i(v, Settings.WEBHOOK_BATCH_MS),
                        i(v, Settings.WEBHOOK_MAX_AGE_SECONDS), i(v, Settings.WEBHOOK_MAX_PENDING),
                        i(v, Settings.WEBHOOK_LEADER_LEASE_MS)),
                (Boolean) v.get(Settings.NATIVE_TRANSPORT),
                LogFormat.valueOf(((String) v.get(Settings.LOG_FORMAT)).toUpperCase(java.util.Locale.ROOT)),
                new OtlpSettings((String) v.get(Settings.OTLP_ENDPOINT), (String) v.get(Settings.OTLP_SERVICE_NAME),
                        i(v, Settings.OTLP_STEP_SECONDS)),
                i(v, Settings.WARMUP_CONNECTIONS));
    }

    private static int i(Map<Setting, Object> v, Setting s) {
        return ((Number) v.get(s)).intValue();
    }

    /** Secrets masked, for the start-up log line. */
    @Override
    public String toString() {
        return "FlockConfig[port=" + port + ", host=" + host + ", redis=" + (redisEnabled() ? "on" : "off")
                + ", apiKeys=" + apiKeys.size() + ", ttl=" + presenceTtlSeconds + "s, maxRoomSize=" + maxRoomSize
                + ", duplicateJoin=" + duplicateJoin + ", flushIntervalMs=" + flushIntervalMs
                + ", auth=" + auth.mode().name().toLowerCase(java.util.Locale.ROOT)
                + ", serverApi=" + (serverApiEnabled() ? "on" : "off") + ", webhooks=" + webhooks.urls().size() + "]";
    }
}
