package dev.flock.admin;

import java.time.Duration;

/**
  * Admin settings.
  *
  * @param adminPassword {@code FLOCK_ADMIN_PASSWORD}; null or empty disables the admin routes (404)
  * @param adminToken    {@code FLOCK_ADMIN_TOKEN}; null or empty disables Bearer access to /api/admin
  * @param sessionTtl    how long a login session lives (fixed from login)
  * @param trustProxy    honour X-Forwarded-Proto (Secure cookie) and X-Forwarded-For (login throttle)
  */
public record AdminConfig(String adminPassword, String adminToken, Duration sessionTtl, boolean trustProxy) {

    public static final Duration DEFAULT_SESSION_TTL = Duration.ofHours(8);

    public AdminConfig {
        adminPassword = emptyToNull(adminPassword);
        adminToken = emptyToNull(adminToken);
        sessionTtl = sessionTtl == null ? DEFAULT_SESSION_TTL : sessionTtl;
        if (sessionTtl.isNegative() || sessionTtl.isZero()) {
            throw new IllegalArgumentException("sessionTtl must be positive");
        }
    }

    public static AdminConfig of(String adminPassword, String adminToken) {
        return new AdminConfig(adminPassword, adminToken, DEFAULT_SESSION_TTL, false);
    }

    public boolean enabled() {
        return adminPassword != null;
    }

    private static String emptyToNull(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
