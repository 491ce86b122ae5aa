package dev.flock.identity;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens whose signature already verified here, by the SHA-256 of the whole token (issue 22). A reconnect storm
 * brings back the tokens clients connected with moments ago; each signature is then checked once per process, not
 * once per upgrade: an ES256 verification costs ~0.7 ms of CPU on JDK 17, the digest ~1 µs.
 *
 * <p>Only the signature check is skipped: a hit means these exact bytes were signed by a configured key, and the keys
 * do not change while the process runs. Every claim ({@code exp}, {@code nbf}, {@code iss}, {@code aud}, {@code sub},
 * rooms, meta) is still checked on every upgrade, on the clock of that moment. A token that failed is never stored, so a
 * flood of bogus tokens gains nothing here. Bounded ({@link #MAX_ENTRIES}, ~100 bytes each); thread-safe.
 */
final class VerifiedSignatures {

    /** Room for a storm of this many distinct tokens (~1.6 MB at most). */
    static final int MAX_ENTRIES = 16_384;

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    });

    /** A SHA-256 digest as four longs: compact, with value equality. */
    private record Digest(long a, long b, long c, long d) {
        static Digest of(String token) {
            ByteBuffer h = ByteBuffer.wrap(SHA256.get().digest(token.getBytes(StandardCharsets.UTF_8)));
            return new Digest(h.getLong(), h.getLong(), h.getLong(), h.getLong());
        }
    }

    private final Set<Digest> verified = ConcurrentHashMap.newKeySet();
    private final int maxEntries;

    VerifiedSignatures() {
        this(MAX_ENTRIES);
    }

    VerifiedSignatures(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    /** A signature check: true when the token's signature verifies with a configured key. */
    interface Check {
        boolean verifies(String token);
    }

    /**
     * True when this token's signature verified here before, or {@code check} says it verifies now (then it is
     * remembered); the token is hashed once either way.
     */
    boolean verifiedOnce(String token, Check check) {
        Digest d = Digest.of(token);
        if (verified.contains(d)) {
            return true;
        }
        if (!check.verifies(token)) {
            return false;
        }
        makeRoom();
        verified.add(d);
        return true;
    }

    /** True when exactly this token's signature verified here before. */
    boolean contains(String token) {
        return verified.contains(Digest.of(token));
    }

    /** When full, some older entries make room (they only cost a verification again). */
    private void makeRoom() {
        if (verified.size() >= maxEntries) {
            Iterator<Digest> it = verified.iterator();
            for (int i = 0; i < maxEntries / 16 + 1 && it.hasNext(); i++) {
                it.next();
                it.remove();
            }
        }
    }

    int size() {
        return verified.size();
    }
}
