package dev.flock.identity;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.config.AuthSettings;
import dev.flock.protocol.InvalidMessage;
import dev.flock.protocol.ProtocolCodec;
import io.vertx.core.Vertx;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Verifies a connection token: a compact JWS whose signature vertx-auth-jwt checks against the configured keys,
 * and whose claims are checked here on the server's clock (so a test can move it), with the configured leeway.
 *
 * <p>Checks, in order: shape (three base64url segments of JSON objects, no duplicate keys, no {@code crit}), the
 * algorithm (never {@code none}; only one a configured key verifies), the signature, {@code exp} and {@code nbf},
 * {@code iss} and {@code aud} when configured, then the claims Flock reads: {@code sub} (a valid userId),
 * {@code rooms} and {@code readonly} (lists of room patterns), {@code meta} (an object within the metadata limit).
 * A signature is checked once per process ({@link VerifiedSignatures}); the claims on every call.
 */
public final class TokenVerifier {

    /** Longer than any token a URL or header of Vert.x's default limits can carry. */
    static final int MAX_TOKEN_CHARS = 8192;
    /** Enough for any real grant; bounds what one token makes every join scan. */
    static final int MAX_PATTERNS = 256;
    private static final ObjectReader STRICT_JSON = ProtocolCodec.MAPPER.reader()
            .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION).with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Shared by every token without {@code meta} (~100 bytes per socket otherwise); never mutated, as no meta is. */
    private static final ObjectNode NO_META = ProtocolCodec.MAPPER.createObjectNode();

    private final AuthSettings settings;
    private final ProtocolCodec codec;
    private final JWTAuth signatures;
    private final java.util.Set<String> algorithms;
    private final VerifiedSignatures verified = new VerifiedSignatures();

    public TokenVerifier(Vertx vertx, AuthSettings settings, ProtocolCodec codec) {
        this.settings = settings;
        this.codec = codec;
        VerificationKeys keys = new VerificationKeys(settings);
        this.algorithms = keys.algorithms();
        JWTAuthOptions options = new JWTAuthOptions()
                // the claims are checked below on Flock's clock; the library checks the signature only
                .setJWTOptions(new JWTOptions().setIgnoreExpiration(true));
        keys.keys().forEach(options::addPubSecKey);
        this.signatures = JWTAuth.create(vertx, options);
    }

    /** The identity {@code token} proves at {@code nowMillis} (epoch ms), or why it proves none. Thread-safe. */
    public Identity verify(String token, long nowMillis) throws InvalidToken {
        String[] parts = segments(token);
        ObjectNode header = json(parts[0], "header");
        JsonNode alg = header.get("alg");
        if (alg == null || !alg.isTextual()) {
            throw new InvalidToken(TokenRefusal.MALFORMED, "the token's header has no \"alg\"");
        }
        if (header.has("crit")) {
            throw new InvalidToken(TokenRefusal.MALFORMED, "the token's header has \"crit\" extensions, which Flock does not understand");
        }
        if (!algorithms.contains(alg.asText())) {
            throw new InvalidToken(TokenRefusal.UNSUPPORTED_ALGORITHM, "the token's alg \"" + printable(alg.asText())
                    + "\" is not accepted here (accepted: " + String.join(", ", algorithms) + ")");
        }
        if (parts[2].isEmpty()) {
            throw new InvalidToken(TokenRefusal.MALFORMED, "the token has no signature");
        }
        ObjectNode claims = json(parts[1], "payload");
        for (String date : List.of("exp", "nbf", "iat")) {
            if (claims.has(date)) {
                numericDate(claims, date); // vertx-auth reads them too, and throws on a non-number
            }
        }
        verifySignature(token);
        long leewayMs = settings.leewaySeconds() * 1000L;
        long expiresAt = Long.MAX_VALUE;
        if (claims.has("exp")) {
            expiresAt = numericDate(claims, "exp") + leewayMs;
            if (nowMillis >= expiresAt) {
                throw new InvalidToken(TokenRefusal.EXPIRED, "the token expired " + (nowMillis - expiresAt + leewayMs) / 1000 + " s ago");
            }
        }
        if (claims.has("nbf") && nowMillis < numericDate(claims, "nbf") - leewayMs) {
            throw new InvalidToken(TokenRefusal.NOT_YET_VALID, "the token is not valid yet (nbf is in the future)");
        }
        if (settings.issuer() != null && !settings.issuer().equals(text(claims.get("iss")))) {
            throw new InvalidToken(TokenRefusal.WRONG_ISSUER, "the token's iss is not the one this server accepts");
        }
        if (settings.audience() != null && !audienceMatches(claims.get("aud"))) {
            throw new InvalidToken(TokenRefusal.WRONG_AUDIENCE, "the token's aud does not name this server");
        }
        String userId;
        try {
            JsonNode sub = claims.get("sub");
            userId = codec.validId(sub == null ? null : sub.isTextual() ? sub.asText() : sub, "sub");
        } catch (InvalidMessage e) {
            throw new InvalidToken(TokenRefusal.INVALID_CLAIMS, "the token's sub is not a valid userId: " + e.getMessage());
        }
        return new Identity(userId, claims.has("rooms") ? patterns(claims, "rooms") : null, meta(claims),
                claims.has("readonly") ? patterns(claims, "readonly") : RoomPatterns.of(List.of()), expiresAt);
    }

    /** True when exactly this token's signature verified here before (it costs no check: see {@link UpgradeAuth}). */
    boolean verifiedBefore(String token) {
        return verified.contains(token);
    }

    /** How many verified signatures are remembered (for tests). */
    int rememberedSignatures() {
        return verified.size();
    }

    /**
     * vertx-auth-jwt checks the signature with the keys bound to the header's alg; it answers synchronously. A token
     * whose signature verified before is not checked again ({@link VerifiedSignatures}: reconnect storms).
     */
    private void verifySignature(String token) throws InvalidToken {
        if (!verified.verifiedOnce(token, this::signatureVerifies)) {
            throw new InvalidToken(TokenRefusal.BAD_SIGNATURE, "the token's signature does not verify with any configured key");
        }
    }

    private boolean signatureVerifies(String token) {
        try {
            return signatures.authenticate(new TokenCredentials(token)).succeeded();
        } catch (RuntimeException e) {
            return false; // whatever the library trips over is a refusal, never a 500
        }
    }

    private static String[] segments(String token) throws InvalidToken {
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new InvalidToken(TokenRefusal.MALFORMED, "the token is longer than " + MAX_TOKEN_CHARS + " characters");
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new InvalidToken(TokenRefusal.MALFORMED, "a token is three base64url segments separated by dots (a signed JWT)");
        }
        for (int i = 0; i < parts.length; i++) {
            // an empty signature is refused once the header is read, so that alg "none" is named as such
            if ((parts[i].isEmpty() && i < 2) || !base64url(parts[i])) {
                throw new InvalidToken(TokenRefusal.MALFORMED, "a token's segments must be base64url, the header and payload non-empty");
            }
        }
        return parts;
    }

    private static boolean base64url(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static ObjectNode json(String segment, String what) throws InvalidToken {
        try {
            JsonNode node = STRICT_JSON.readTree(Base64.getUrlDecoder().decode(segment));
            if (node instanceof ObjectNode obj) {
                return obj;
            }
        } catch (IllegalArgumentException | java.io.IOException e) {
            // below
        }
        throw new InvalidToken(TokenRefusal.MALFORMED, "the token's " + what + " is not a JSON object");
    }

    /** A NumericDate (seconds since the epoch, fractions allowed) in epoch ms. */
    private static long numericDate(ObjectNode claims, String name) throws InvalidToken {
        JsonNode v = claims.get(name);
        if (!v.isNumber() || !Double.isFinite(v.asDouble()) || Math.abs(v.asDouble()) > 1e13) {
            throw new InvalidToken(TokenRefusal.INVALID_CLAIMS, "the token's " + name + " must be a number of seconds since 1970");
        }
        return (long) (v.asDouble() * 1000);
    }

    private boolean audienceMatches(JsonNode aud) {
        if (aud == null) {
            return false;
        }
        if (aud.isTextual()) {
            return settings.audience().equals(aud.asText());
        }
        if (aud.isArray()) {
            for (JsonNode a : aud) {
                if (a.isTextual() && settings.audience().equals(a.asText())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static RoomPatterns patterns(ObjectNode claims, String name) throws InvalidToken {
        JsonNode v = claims.get(name);
        if (!v.isArray() || v.size() > MAX_PATTERNS) {
            throw new InvalidToken(TokenRefusal.INVALID_CLAIMS, "the token's " + name + " must be a list of at most "
                    + MAX_PATTERNS + " room ids or patterns");
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode p : v) {
            if (!p.isTextual() || p.asText().isEmpty()) {
                throw new InvalidToken(TokenRefusal.INVALID_CLAIMS, "the token's " + name + " must hold non-empty strings");
            }
            out.add(p.asText());
        }
        return RoomPatterns.of(out);
    }

    private ObjectNode meta(ObjectNode claims) throws InvalidToken {
        JsonNode v = claims.get("meta");
        if (v == null) {
            return NO_META;
        }
        if (!(v instanceof ObjectNode obj)) {
            throw new InvalidToken(TokenRefusal.INVALID_CLAIMS, "the token's meta must be an object");
        }
        if (ProtocolCodec.serializedSize(obj) > codec.limits().maxMetadataBytes()) {
            throw new InvalidToken(TokenRefusal.INVALID_CLAIMS, "the token's meta is larger than "
                    + codec.limits().maxMetadataBytes() + " bytes (FLOCK_MAX_METADATA_BYTES)");
        }
        return obj;
    }

    private static String text(JsonNode v) {
        return v != null && v.isTextual() ? v.asText() : null;
    }

    private static String printable(String s) {
        String cut = s.length() > 16 ? s.substring(0, 16) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
