package dev.flock.identity;

/** A token that does not verify: its refusal reason and a one-line explanation for the client. */
public final class InvalidToken extends Exception {

    private final TokenRefusal refusal;

    public InvalidToken(TokenRefusal refusal, String message) {
        super(message, null, false, false); // an expected outcome: no stack trace to fill
        this.refusal = refusal;
    }

    public TokenRefusal refusal() {
        return refusal;
    }
}
