package dev.flock.security;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

/** The address a request came from, as the login throttles key it and the audit log names it. */
public final class ClientAddress {

    /** A forwarded entry is the client's to write: no more than an IPv6 address with a zone needs is kept. */
    static final int MAX_LENGTH = 64;

    private ClientAddress() {
    }

    /** With {@code trustProxy}, the last X-Forwarded-For entry (what the proxy saw); else the peer's address. */
    public static String of(HttpServerRequest request, boolean trustProxy) {
        return of(request.headers(), request.remoteAddress(), trustProxy);
    }

    /** As {@link #of(HttpServerRequest, boolean)}, from an upgrade's headers and peer (a WebSocket's, say). */
    public static String of(MultiMap headers, SocketAddress remote, boolean trustProxy) {
        if (trustProxy && headers != null) {
            String forwarded = headers.get("X-Forwarded-For");
            if (forwarded != null && !forwarded.isBlank()) {
                String last = forwarded.substring(forwarded.lastIndexOf(',') + 1).trim();
                if (!last.isEmpty()) {
                    return last.length() > MAX_LENGTH ? last.substring(0, MAX_LENGTH) : last;
                }
            }
        }
        return remote == null || remote.host() == null ? "unknown" : remote.host();
    }
}
