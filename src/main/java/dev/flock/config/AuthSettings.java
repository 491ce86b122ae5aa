package dev.flock.config;

import java.nio.charset.StandardCharsets;

/**
 * How connections prove who they are (issue 18): the mode and the material that verifies signed tokens. The keys
 * are only checked for presence and size here; {@code dev.flock.identity.TokenVerifier} parses them at start-up.
 *
 * @param publicKeysPem PEM text (a file named by {@code FLOCK_JWT_PUBLIC_KEYS} has been read by then), or null
 */
public record AuthSettings(Mode mode, String secret, String publicKeysPem, String issuer, String audience,
                           int leewaySeconds) {

    /** RFC 7518 §3.2: an HMAC key at least as long as the hash: 32 bytes for HS256 (48 for HS384, 64 for HS512). */
    public static final int MIN_SECRET_BYTES = 32;

    public enum Mode { OFF, OPTIONAL, REQUIRED }

    public AuthSettings {
        if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
            throw new ConfigException("FLOCK_JWT_SECRET must be at least " + MIN_SECRET_BYTES
                    + " bytes (RFC 7518: an HMAC key as long as its hash); generate one with: openssl rand -base64 48");
        }
        if (mode != Mode.OFF && secret == null && publicKeysPem == null) {
            throw new ConfigException("FLOCK_AUTH=" + mode.name().toLowerCase(java.util.Locale.ROOT)
                    + " needs FLOCK_JWT_SECRET or FLOCK_JWT_PUBLIC_KEYS to verify tokens with");
        }
    }

    public boolean enabled() {
        return mode != Mode.OFF;
    }

    /** Off, as if nothing were configured. */
    public static AuthSettings off() {
        return new AuthSettings(Mode.OFF, null, null, null, null, 30);
    }
}
