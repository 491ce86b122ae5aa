package dev.flock.config;

import java.net.URI;
import java.util.Locale;

/**
 * Pushing the meters to an OpenTelemetry collector over OTLP/HTTP, beside the Prometheus scrape.
 *
 * @param endpoint    the collector's base URL ({@code http://collector:4318}); null = off
 * @param serviceName the {@code service.name} resource attribute
 * @param stepSeconds how often the meters are pushed
 * @throws ConfigException for an endpoint that is not an http(s) URL with a host, or carries credentials (user info,
 *                         a query) or a fragment, so start-up and
 *                         {@code --check-config} refuse it alike; the message never repeats the URL beyond scheme,
 *                         host and port (a collector's token may sit in its path or user info)
 */
public record OtlpSettings(String endpoint, String serviceName, int stepSeconds) {

    /** Appended to the endpoint, as the OTel SDKs do with {@code OTEL_EXPORTER_OTLP_ENDPOINT}. */
    public static final String METRICS_PATH = "/v1/metrics";

    public OtlpSettings {
        if (endpoint != null && !endpoint.isBlank()) {
            metricsUrl(endpoint);
        }
    }

    public boolean enabled() {
        return endpoint != null && !endpoint.isBlank();
    }

    /** Where the pushes go, for log lines: scheme, host and port only (credentials may sit in the rest). */
    public String shownUrl() {
        return ShownUrl.of(endpoint) + METRICS_PATH;
    }

    /**
     * Where the pushes go: the endpoint with {@code /v1/metrics} after any path it has (no doubled slash).
     */
    public String metricsUrl() {
        return metricsUrl(endpoint);
    }

    private static String metricsUrl(String endpoint) {
        String base = endpoint.trim();
        URI uri;
        try {
            uri = URI.create(base);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT is not a URL: expected e.g. http://collector:4318");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            // the "scheme" of "user:secret@host" is the user: never echoed
            throw new ConfigException("FLOCK_OTLP_ENDPOINT must start with http:// or https:// (OTLP over HTTP),"
                    + " e.g. http://collector:4318");
        }
        // java.net.URI gives no host for a name with '_' (a Compose service such as otel_collector), which
        // HttpURLConnection reaches fine: the authority decides, as for the Redis URL
        String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
        if (authority.isEmpty() || authority.startsWith(":")) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT has no host (expected e.g. http://collector:4318)");
        }
        // Micrometer logs the whole URL with every failed push, and HttpURLConnection would not use user info anyway:
        // credentials belong in a header, never in the URL
        if (authority.indexOf('@') >= 0 || (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty())) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT must not carry credentials (user info or a ?query): give a"
                    + " collector's key as a header, OTEL_EXPORTER_OTLP_HEADERS=\"api-key=...\"");
        }
        int colon = authority.lastIndexOf(':');
        if (colon > authority.lastIndexOf(']') && !authority.substring(colon + 1).matches("\\d{1,5}")) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT has a bad port (expected e.g. http://collector:4318)");
        }
        if (uri.getRawFragment() != null) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT is a base URL without a #fragment: " + ShownUrl.of(endpoint));
        }
        // the path gets /v1/metrics
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return uri.getScheme() + "://" + authority + path + METRICS_PATH;
    }
}
