package dev.flock.identity;

import dev.flock.config.AuthSettings;
import dev.flock.metrics.FlockMetrics;
import dev.flock.security.LoginThrottle;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Decides, at the upgrade, what a WebSocket may claim: API keys and signed tokens together. With {@code FLOCK_AUTH}
 * off tokens are not read at all. Otherwise a token, when present, must verify (else 401: a present but invalid
 * credential is never ignored); {@code required} also refuses an upgrade without one. A verified token stands in
 * for an API key; without one the socket is anonymous and the API-key rules apply as before.
 */
public final class UpgradeAuth {

    public static final String TOKEN_PARAM = "token";
    private static final String BEARER = "bearer ";

    private final AuthSettings settings;
    private final ApiKeys apiKeys;
    private final TokenVerifier verifier;
    /**
     * How many tokens with a bad signature one address may send before its tokens are refused unchecked: a backend
     * signing with a wrong key fails every time and gets its 401s, while a flood of forged tokens stops costing a
     * signature check each (~0.7 ms with EC keys) after these (issue 22). Generous, for users behind one NAT.
     */
    static final int FREE_BAD_SIGNATURES = 20;

    private final FlockMetrics metrics;
    private final LoginThrottle badSignatures;

    /** {@code verifier} is null when {@code FLOCK_AUTH=off}; {@code clock}: epoch ms, for the bad-signature lockouts. */
    public UpgradeAuth(AuthSettings settings, ApiKeys apiKeys, TokenVerifier verifier, FlockMetrics metrics,
                       LongSupplier clock) {
        this.settings = settings;
        this.apiKeys = apiKeys;
        this.verifier = verifier;
        this.metrics = metrics;
        this.badSignatures = new LoginThrottle(clock, FREE_BAD_SIGNATURES);
        if (settings.enabled()) {
            List<String> results = new java.util.ArrayList<>(List.of("accepted"));
            for (TokenRefusal r : TokenRefusal.values()) {
                results.add(r.reason);
            }
            metrics.authResults(results); // every label from the start: a rate of 0 is a fact, not a gap
        }
    }

    /** The API keys, which a join on an anonymous socket is checked against. */
    public ApiKeys apiKeys() {
        return apiKeys;
    }

    /** What an upgrade's credentials allow: a socket (with its identity, or anonymous), or a 401. */
    public sealed interface Decision {
    }

    /** {@code identity} null = anonymous; {@code keyValid}: the upgrade carried a valid API key. */
    public record Admitted(Identity identity, boolean keyValid) implements Decision {
    }

    /**
     * {@code status}: 401, or 400 for a query string that does not decode; {@code error}: {@code UNAUTHORIZED} (token),
     * {@code INVALID_API_KEY} or {@code BAD_REQUEST}; {@code reason}: a token refusal's name, or null.
     */
    public record Refused(int status, String error, String reason, String message, long retryAfterSeconds)
            implements Decision {
        public Refused(int status, String error, String reason, String message) {
            this(status, error, reason, message, 0);
        }

        /** The 401's body: one line of JSON. */
        public String json() {
            JsonObject body = new JsonObject().put("error", error);
            if (reason != null) {
                body.put("reason", reason);
            }
            return body.put("message", message).encode() + "\n";
        }
    }

    /**
     * {@code address}: the client's, as {@link dev.flock.security.ClientAddress} reads it (bad-signature lockouts); asked
     * for only when the upgrade carries a token.
     */
    public Decision decide(MultiMap headers, String query, long nowMillis, Supplier<String> address) {
        Map<String, List<String>> params;
        try {
            params = query == null || query.isEmpty() ? Map.of() : new QueryStringDecoder(query, false).parameters();
        } catch (IllegalArgumentException e) {
            // a stray '%': never echoed (the query may hold a token or a key), never a 500
            return new Refused(400, "BAD_REQUEST", null, "the upgrade URL's query string is not valid percent-encoding");
        }
        String token = settings.enabled() ? token(headers, params) : null;
        if (token != null) {
            String from = address.get();
            long retryAfter = badSignatures.retryAfterSeconds(from);
            // a token whose signature verified before costs nothing to check: a lockout of a shared address (a NAT, a
            // proxy without FLOCK_TRUST_PROXY) does not shut out the users already connected through it
            if (retryAfter > 0 && !verifier.verifiedBefore(token)) {
                metrics.authResult(TokenRefusal.THROTTLED.reason);
                return new Refused(429, "UNAUTHORIZED", TokenRefusal.THROTTLED.reason, "too many tokens with a bad "
                        + "signature came from this address; none is checked for " + retryAfter + " s", retryAfter);
            }
            try {
                Identity identity = verifier.verify(token, nowMillis);
                metrics.authResult("accepted");
                return new Admitted(identity, false); // the token is the credential: API keys do not apply
            } catch (InvalidToken e) {
                if (e.refusal() == TokenRefusal.BAD_SIGNATURE) {
                    badSignatures.failed(from);
                }
                metrics.authResult(e.refusal().reason);
                return new Refused(401, "UNAUTHORIZED", e.refusal().reason, e.getMessage());
            }
        }
        if (settings.mode() == AuthSettings.Mode.REQUIRED) {
            metrics.authResult(TokenRefusal.MISSING.reason);
            return new Refused(401, "UNAUTHORIZED", TokenRefusal.MISSING.reason,
                    "a token is required: ?token=<JWT> in the URL or Authorization: Bearer <JWT>");
        }
        String key = ApiKeys.upgradeKey(headers, params);
        if (apiKeys.refusesUpgrade(key)) {
            return new Refused(401, "INVALID_API_KEY", null, "invalid API key");
        }
        return new Admitted(null, apiKeys.admitsUpgrade(key));
    }

    /** {@code Authorization: Bearer <token>}, else {@code ?token=}; null when neither (an empty one counts as none). */
    static String token(MultiMap headers, Map<String, List<String>> query) {
        String authorization = headers.get("Authorization");
        if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            String t = authorization.substring(BEARER.length()).trim();
            if (!t.isEmpty()) {
                return t;
            }
        }
        List<String> values = query.get(TOKEN_PARAM);
        return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
    }
}
