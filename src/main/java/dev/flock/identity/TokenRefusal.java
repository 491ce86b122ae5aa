package dev.flock.identity;

/**
 * Why a token was refused: the fixed set of reasons of {@code flock_auth_total{result}} and of the 401 (429 for
 * {@link #THROTTLED}) body's {@code reason}. Each is decided before any socket exists.
 */
public enum TokenRefusal {
    /** {@code FLOCK_AUTH=required} and the upgrade carried no token. */
    MISSING("missing"),
    /** Not three base64url segments of JSON objects, or a header without {@code alg}. */
    MALFORMED("malformed"),
    /** {@code alg} is {@code none}, or one no configured key verifies (an HS token when only RSA keys are set). */
    UNSUPPORTED_ALGORITHM("unsupported_algorithm"),
    BAD_SIGNATURE("bad_signature"),
    EXPIRED("expired"),
    NOT_YET_VALID("not_yet_valid"),
    WRONG_ISSUER("wrong_issuer"),
    WRONG_AUDIENCE("wrong_audience"),
    /** Signed, but a claim Flock reads is missing or has the wrong shape ({@code sub}, {@code rooms}, {@code meta}...). */
    INVALID_CLAIMS("invalid_claims"),
    /**
     * The client address sent too many tokens whose signature did not verify (issue 22: with EC keys each costs ~0.7 ms of
     * CPU); its tokens are refused unchecked, with 429 and {@code Retry-After}, until its lockout ends.
     */
    THROTTLED("throttled");

    /** The label value and the 401 body's {@code reason}. */
    public final String reason;

    TokenRefusal(String reason) {
        this.reason = reason;
    }
}
