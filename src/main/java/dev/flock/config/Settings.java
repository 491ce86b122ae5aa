package dev.flock.config;

import java.util.List;

import static dev.flock.config.Setting.bool;
import static dev.flock.config.Setting.choice;
import static dev.flock.config.Setting.integer;
import static dev.flock.config.Setting.list;
import static dev.flock.config.Setting.secret;
import static dev.flock.config.Setting.string;

/** Every setting Flock reads, with its JSON key, environment variable, default and range. */
public final class Settings {

    public static final Setting PORT = integer("port", "FLOCK_PORT", 8787, 0, 65535, "listen port (HTTP and WebSocket)");
    public static final Setting HOST = string("host", "FLOCK_HOST", "0.0.0.0", "listen address");
    public static final Setting REDIS_URL = secret("redisUrl", "FLOCK_REDIS_URL",
            "Redis URL (redis:// or rediss://, user/password, /db; redis-sentinel://s1,s2/mastername for Sentinel);"
                    + " unset = single instance in memory");
    public static final Setting API_KEYS = list("apiKeys", "FLOCK_API_KEYS", "accepted API keys; empty = open mode");
    public static final Setting PRESENCE_TTL_SECONDS = integer("presenceTtlSeconds", "FLOCK_PRESENCE_TTL_SECONDS", 30, 1, 86400,
            "a (connection, room) with no message for this long is evicted");
    public static final Setting HEARTBEAT_INTERVAL_MS = integer("heartbeatIntervalMs", "FLOCK_HEARTBEAT_INTERVAL_MS", 10000, 100, 3_600_000,
            "heartbeat interval clients are expected to use (start-up warning only)");
    public static final Setting MAX_MESSAGES_PER_SECOND = integer("maxMessagesPerSecond", "FLOCK_MAX_MESSAGES_PER_SECOND", 100, 1, 100_000,
            "per-connection limit; above it RATE_LIMITED and close");
    public static final Setting MAX_ROOM_SIZE = integer("maxRoomSize", "FLOCK_MAX_ROOM_SIZE", 10, 0, 1_000_000,
            "distinct users per room; 0 = no limit");
    public static final Setting ADMIN_PASSWORD = secret("adminPassword", "FLOCK_ADMIN_PASSWORD", "enables the admin dashboard at /admin");
    public static final Setting ADMIN_TOKEN = secret("adminToken", "FLOCK_ADMIN_TOKEN", "Bearer token for /api/admin/*");
    public static final Setting LOG_LEVEL = choice("logLevel", "FLOCK_LOG_LEVEL", "info",
            List.of("trace", "debug", "info", "warn", "error", "fatal", "silent"), "log level");
    public static final Setting DUPLICATE_JOIN = choice("duplicateJoin", "FLOCK_DUPLICATE_JOIN", "share",
            List.of("share", "evict"), "share: a user may hold several connections; evict: the original's behaviour");
    public static final Setting FLUSH_INTERVAL_MS = integer("flushIntervalMs", "FLOCK_FLUSH_INTERVAL_MS", 16, 0, 1000,
            "fan-out frames to one connection leave together at most this often (a lone frame to a quiet connection leaves at once);"
                    + " cursor publishes to Redis are batched over half of it; 0 = at once");
    public static final Setting MAX_FRAME_BYTES = integer("maxFrameBytes", "FLOCK_MAX_FRAME_BYTES", 65536, 1024, 16 * 1024 * 1024,
            "largest inbound message; above it INVALID_MESSAGE and close 1009");
    public static final Setting MAX_METADATA_BYTES = integer("maxMetadataBytes", "FLOCK_MAX_METADATA_BYTES", 4096, 2, 1024 * 1024,
            "largest merged metadata, serialized");
    public static final Setting MAX_ID_LENGTH = integer("maxIdLength", "FLOCK_MAX_ID_LENGTH", 128, 1, 4096,
            "longest room or user id, in characters");
    public static final Setting JOIN_TIMEOUT_SECONDS = integer("joinTimeoutSeconds", "FLOCK_JOIN_TIMEOUT_SECONDS", 30, 1, 3600,
            "a socket that sends no join within this is closed with 1008");
    public static final Setting WEBSOCKET_COMPRESSION = bool("websocketCompression", "FLOCK_WEBSOCKET_COMPRESSION", false,
            "accept permessage-deflate (costs ~100 KB per connection)");
    public static final Setting SLOW_CONSUMER_MAX_BYTES = integer("slowConsumerMaxBytes", "FLOCK_SLOW_CONSUMER_MAX_BYTES", 1024 * 1024, 65536, 1L << 30,
            "bytes queued to one connection above which it counts as a slow consumer");
    public static final Setting SLOW_CONSUMER_GRACE_MS = integer("slowConsumerGraceMs", "FLOCK_SLOW_CONSUMER_GRACE_MS", 5000, 100, 600_000,
            "a slow consumer above the limit this long is closed with 1013");
    public static final Setting METRICS_ENABLED = bool("metricsEnabled", "FLOCK_METRICS_ENABLED", true, "serve Prometheus metrics at /metrics");
    public static final Setting METRICS_PORT = integer("metricsPort", "FLOCK_METRICS_PORT", 0, 0, 65535,
            "serve /metrics on this port instead; 0 = the main port");
    public static final Setting DEMO = bool("demo", "FLOCK_DEMO", true, "serve the try-it page at /");
    public static final Setting TRUST_PROXY = bool("trustProxy", "FLOCK_TRUST_PROXY", false,
            "trust a reverse proxy's X-Forwarded-Proto and X-Forwarded-For (last entry = client address for the per-IP limit)");
    public static final Setting SHUTDOWN_TIMEOUT_MS = integer("shutdownTimeoutMs", "FLOCK_SHUTDOWN_TIMEOUT_MS", 5000, 0, 120_000,
            "longest graceful shutdown");

    public static final Setting REDIS_KEYSPACE_EVENTS = bool("redisKeyspaceEvents", "FLOCK_REDIS_KEYSPACE_EVENTS", true,
            "Redis mode: enable (CONFIG SET) and use expired-key events for fast eviction; false = the sweep alone");
    public static final Setting REDIS_SWEEP_INTERVAL_MS = integer("redisSweepIntervalMs", "FLOCK_REDIS_SWEEP_INTERVAL_MS", 2000, 100, 60_000,
            "Redis mode: how often the rooms of this instance are swept for members whose presence expired");

    public static final Setting FRAME_TIMEOUT_MS = integer("frameTimeoutMs", "FLOCK_FRAME_TIMEOUT_MS", 10_000, 100, 600_000,
            "a WebSocket message must be complete this long after its first byte, or the socket is closed with 1008");
    public static final Setting HTTP_REQUEST_TIMEOUT_MS = integer("httpRequestTimeoutMs", "FLOCK_HTTP_REQUEST_TIMEOUT_MS", 10_000, 100, 600_000,
            "an HTTP request or upgrade must be complete this long after the connection opened (or its previous response ended),"
                    + " else 408 and close; idle connections that never upgrade are closed after it");
    public static final Setting MAX_CONNECTIONS = integer("maxConnections", "FLOCK_MAX_CONNECTIONS", 0, 0, 10_000_000,
            "WebSockets this process accepts; beyond it upgrades get 503 with Retry-After; 0 = derived from the heap and the fd limit");
    public static final Setting MAX_CONNECTIONS_PER_IP = integer("maxConnectionsPerIp", "FLOCK_MAX_CONNECTIONS_PER_IP", 500, 0, 10_000_000,
            "WebSockets from one client address (X-Forwarded-For's last entry with FLOCK_TRUST_PROXY); beyond it 503; 0 = no limit");
    public static final Setting MEMORY_HIGH_WATER_PERCENT = integer("memoryHighWaterPercent", "FLOCK_MEMORY_HIGH_WATER_PERCENT", 90, 1, 100,
            "upgrades get 503 (and /ready 503) while heap used after GC or direct memory is above this percent of its maximum");

    public static final Setting AUTH = choice("auth", "FLOCK_AUTH", "off", List.of("off", "optional", "required"),
            "signed connection tokens (JWT): off = API keys only; optional = a token, when present, is verified and enforced;"
                    + " required = no valid token, no socket");
    public static final Setting JWT_SECRET = secret("jwtSecret", "FLOCK_JWT_SECRET",
            "HMAC secret (at least 32 bytes) that verifies HS256, HS384 and HS512 tokens");
    public static final Setting JWT_PUBLIC_KEYS = secret("jwtPublicKeys", "FLOCK_JWT_PUBLIC_KEYS",
            "PEM public keys or certificates (RSA or EC; several for rotation), or the path of a file holding them;"
                    + " verify RS*, PS* and ES* tokens");
    public static final Setting JWT_ISSUER = string("jwtIssuer", "FLOCK_JWT_ISSUER", null, "when set, a token's iss must equal it");
    public static final Setting JWT_AUDIENCE = string("jwtAudience", "FLOCK_JWT_AUDIENCE", null,
            "when set, a token's aud must be or contain it");
    public static final Setting JWT_LEEWAY_SECONDS = integer("jwtLeewaySeconds", "FLOCK_JWT_LEEWAY_SECONDS", 30, 0, 3600,
            "clock skew allowed when checking a token's exp and nbf");

    public static final Setting RECONNECT_GRACE_MS = integer("reconnectGraceMs", "FLOCK_RECONNECT_GRACE_MS", 5000, 0, 600_000,
            "a connection that ends without a clean goodbye keeps its user present this long, so a blip shows nothing; 0 = off");
    public static final Setting SHUTDOWN_SPREAD_MS = integer("shutdownSpreadMs", "FLOCK_SHUTDOWN_SPREAD_MS", 2000, 0, 120_000,
            "on shutdown, sockets are closed (4001 \"server restarting\") spread evenly over this long, so clients come back spread out");

    public static final Setting SERVER_API_KEY = list("serverApiKey", "FLOCK_SERVER_API_KEY",
            "Bearer keys of the server API at /api/v1 (several for rotation); unset = the API is off (404)");
    public static final Setting WEBHOOK_URL = list("webhookUrl", "FLOCK_WEBHOOK_URL",
            "http(s) URLs that receive the presence webhooks (each gets every event); unset = no webhooks");
    public static final Setting WEBHOOK_SECRET = secret("webhookSecret", "FLOCK_WEBHOOK_SECRET",
            "signs each webhook request (X-Flock-Signature, HMAC-SHA256); required with FLOCK_WEBHOOK_URL");
    public static final Setting WEBHOOK_EVENTS = string("webhookEvents", "FLOCK_WEBHOOK_EVENTS",
            "room.occupied,room.vacated,user.joined,user.left", "the webhook events sent (also: presence.updated)");
    public static final Setting WEBHOOK_BATCH_MS = integer("webhookBatchMs", "FLOCK_WEBHOOK_BATCH_MS", 200, 0, 60_000,
            "events of this window leave in one webhook request");
    public static final Setting WEBHOOK_MAX_AGE_SECONDS = integer("webhookMaxAgeSeconds", "FLOCK_WEBHOOK_MAX_AGE_SECONDS",
            3600, 1, 7 * 86400, "a webhook event not delivered this long after it happened is dropped (and counted)");
    public static final Setting WEBHOOK_MAX_PENDING = integer("webhookMaxPending", "FLOCK_WEBHOOK_MAX_PENDING", 100_000, 1,
            10_000_000, "webhook events waiting for delivery; beyond it the oldest are dropped (and counted)");
    public static final Setting WEBHOOK_LEADER_LEASE_MS = integer("webhookLeaderLeaseMs", "FLOCK_WEBHOOK_LEADER_LEASE_MS",
            10_000, 1000, 600_000, "Redis mode: one instance delivers the fleet's webhooks; after its death another takes"
                    + " over within this long");

    public static final Setting NATIVE_TRANSPORT = bool("nativeTransport", "FLOCK_NATIVE_TRANSPORT", true,
            "use Netty's native epoll transport when available (falls back to NIO with one log line)");

    public static final Setting LOG_FORMAT = choice("logFormat", "FLOCK_LOG_FORMAT", "json", List.of("json", "pino"),
            "json: one JSON object per line (logstash fields: @timestamp, level name, message); pino: the original server's"
                    + " pino lines (numeric level, epoch-ms time, msg), so log queries written for it keep working");

    public static final Setting OTLP_ENDPOINT = string("otlpEndpoint", "FLOCK_OTLP_ENDPOINT", null,
            "OpenTelemetry collector base URL (http://collector:4318); metrics are pushed to <it>/v1/metrics over OTLP/HTTP;"
                    + " unset = no OTLP");
    public static final Setting OTLP_SERVICE_NAME = string("otlpServiceName", "FLOCK_OTLP_SERVICE_NAME", "flock",
            "service.name resource attribute of what is pushed over OTLP");
    public static final Setting OTLP_STEP_SECONDS = integer("otlpStepSeconds", "FLOCK_OTLP_STEP_SECONDS", 10, 1, 3600,
            "how often the meters are pushed over OTLP");

    public static final Setting WARMUP_CONNECTIONS = integer("warmupConnections", "FLOCK_WARMUP_CONNECTIONS", 3000, 0, 20_000,
            "after start, this many synthetic connections join, move and leave on a private loopback server in the same JVM (never "
            + "seen by rooms, metrics, webhooks or Redis), so the connection path is compiled before a reconnect storm; /ready "
            + "answers 503 until done; 0 = off");

    public static final List<Setting> ALL = List.of(PORT, HOST, REDIS_URL, API_KEYS, PRESENCE_TTL_SECONDS, HEARTBEAT_INTERVAL_MS,
            MAX_MESSAGES_PER_SECOND, MAX_ROOM_SIZE, ADMIN_PASSWORD, ADMIN_TOKEN, LOG_LEVEL, DUPLICATE_JOIN, FLUSH_INTERVAL_MS,
            MAX_FRAME_BYTES, MAX_METADATA_BYTES, MAX_ID_LENGTH, JOIN_TIMEOUT_SECONDS, WEBSOCKET_COMPRESSION,
            SLOW_CONSUMER_MAX_BYTES, SLOW_CONSUMER_GRACE_MS, METRICS_ENABLED, METRICS_PORT, DEMO, TRUST_PROXY, SHUTDOWN_TIMEOUT_MS,
            REDIS_KEYSPACE_EVENTS, REDIS_SWEEP_INTERVAL_MS, FRAME_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, MAX_CONNECTIONS,
            MAX_CONNECTIONS_PER_IP, MEMORY_HIGH_WATER_PERCENT, AUTH, JWT_SECRET, JWT_PUBLIC_KEYS, JWT_ISSUER, JWT_AUDIENCE,
            JWT_LEEWAY_SECONDS, RECONNECT_GRACE_MS, SHUTDOWN_SPREAD_MS, SERVER_API_KEY, WEBHOOK_URL, WEBHOOK_SECRET,
            WEBHOOK_EVENTS, WEBHOOK_BATCH_MS, WEBHOOK_MAX_AGE_SECONDS, WEBHOOK_MAX_PENDING, WEBHOOK_LEADER_LEASE_MS,
            NATIVE_TRANSPORT, LOG_FORMAT, OTLP_ENDPOINT, OTLP_SERVICE_NAME, OTLP_STEP_SECONDS, WARMUP_CONNECTIONS);

    private Settings() {
    }
}
