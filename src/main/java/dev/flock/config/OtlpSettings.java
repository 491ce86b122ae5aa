package dev.flock.config;

import java.net.URI;
import java.util.Locale;

/**
 * Pushing the meters to an OpenTelemetry collector over OTLP/HTTP, beside the Prometheus scrape.
 *
 * @param endpoint    the collector's base URL ({@code http://collector:4318}); null = off
 * @param serviceName the {@code service.name} resource attribute
 * @param stepSeconds how often the meters are pushed
 * @throws ConfigException for an endpoint that is not an http(s) base URL with a host, so start-up and
 *                         {@code --check-config} refuse it alike
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

    /** Where the pushes go: the endpoint with {@code /v1/metrics} after any path it has (no doubled slash). */
    public String metricsUrl() {
        return metricsUrl(endpoint);
    }

    private static String metricsUrl(String endpoint) {
        String base = endpoint.trim();
        URI uri;
        try {
            uri = URI.create(base);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT is not a URL (" + e.getMessage() + "): expected e.g. http://collector:4318");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT must start with http:// or https:// (OTLP over HTTP), got \""
                    + endpoint + "\"");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT has no host: \"" + endpoint + "\" (expected e.g. http://collector:4318)");
        }
        if (uri.getQuery() != null || uri.getFragment() != null) {
            throw new ConfigException("FLOCK_OTLP_ENDPOINT is a base URL without query or fragment: \"" + endpoint + "\"");
        }
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + METRICS_PATH;
    }
}
