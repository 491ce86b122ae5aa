package dev.flock.config;

/**
 * Pushing the meters to an OpenTelemetry collector over OTLP/HTTP, beside the Prometheus scrape.
 *
 * @param endpoint    the collector's base URL ({@code http://collector:4318}); null = off
 * @param serviceName the {@code service.name} resource attribute
 * @param stepSeconds how often the meters are pushed
 */
public record OtlpSettings(String endpoint, String serviceName, int stepSeconds) {

    public boolean enabled() {
        return endpoint != null && !endpoint.isBlank();
    }
}
