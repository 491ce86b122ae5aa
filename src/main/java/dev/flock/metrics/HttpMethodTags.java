package dev.flock.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;

/**
 * Vert.x labels its HTTP meters with the request's method exactly as the client sent it, and HTTP lets a client
 * make methods up: each new one would be a new series of every {@code vertx_http_*} meter, kept for the life of
 * the process (1,000 requests made {@code /metrics} 60 times larger). The registered methods keep their name;
 * anything else is {@code other}.
 */
public final class HttpMethodTags implements MeterFilter {

    static final String TAG = "method";
    static final String OTHER = "other";
    /** RFC 9110's methods plus PATCH (RFC 5789); method names are case-sensitive, so "get" is {@code other}. */
    private static final String[] KNOWN = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    private static final String VERTX_HTTP = "vertx.http.";

    private final MeterFilter replace = MeterFilter.replaceTagValues(TAG, method -> OTHER, KNOWN);

    @Override
    public Meter.Id map(Meter.Id id) {
        // only Vert.x's HTTP meters: a "method" tag elsewhere (an embedder's own meters) is not ours to change
        return id.getName().startsWith(VERTX_HTTP) ? replace.map(id) : id;
    }
}
