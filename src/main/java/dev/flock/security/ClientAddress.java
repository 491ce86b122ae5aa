package dev.flock.security;

import io.vertx.core.http.HttpServerRequest;

/** The address a request came from, as the login throttles key it. */
public final class ClientAddress {

    private ClientAddress() {
    }

    /** With {@code trustProxy}, the last X-Forwarded-For entry (what the proxy saw); else the peer's address. */
    public static String of(HttpServerRequest request, boolean trustProxy) {
        if (trustProxy) {
            String forwarded = request.getHeader("X-Forwarded-For");
            if (forwarded != null && !forwarded.isBlank()) {
                return forwarded.substring(forwarded.lastIndexOf(',') + 1).trim();
            }
        }
        return request.remoteAddress() == null ? "unknown" : request.remoteAddress().host();
    }
}
