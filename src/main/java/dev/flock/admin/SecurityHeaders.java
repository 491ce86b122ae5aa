package dev.flock.admin;

import io.vertx.core.MultiMap;

/** Response headers for every admin and page response. */
public final class SecurityHeaders {

    /** The admin pages talk only to their own origin over HTTP. */
    public static final String ADMIN_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /** The try-it page also opens a WebSocket to its own host. */
    public static final String PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";

    private SecurityHeaders() {
    }

    public static void apply(MultiMap headers, String csp) {
        headers.set("Content-Security-Policy", csp);
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Referrer-Policy", "no-referrer");
        headers.set("X-Frame-Options", "DENY");
    }
}
