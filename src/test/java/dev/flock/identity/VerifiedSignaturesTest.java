package dev.flock.identity;

import dev.flock.config.FlockConfig;
import dev.flock.protocol.Limits;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.security.KeyPair;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 22: a reconnect storm brings back tokens that verified moments ago; their signatures are checked once, their
 * claims every time.
 */
@ExtendWith(VertxExtension.class)
class VerifiedSignaturesTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final KeyPair EC = Tokens.ec("secp256r1");

    private static TokenVerifier es256(Vertx vertx) {
        return new TokenVerifier(vertx, FlockConfig.fromEnv(Map.of("FLOCK_AUTH", "required", "FLOCK_JWT_PUBLIC_KEYS",
                Tokens.pem(EC.getPublic()))).auth(), new ProtocolCodec(Limits.DEFAULT));
    }

    private static TokenRefusal refusal(TokenVerifier v, String token, long now) {
        try {
            v.verify(token, now);
        } catch (InvalidToken e) {
            return e.refusal();
        }
        throw new AssertionError("the token was accepted");
    }

    @Test
    void aTokenPresentedAgain_isRemembered_andStillAccepted(Vertx vertx) throws Exception {
        TokenVerifier v = es256(vertx);
        String token = Tokens.es256(EC.getPrivate(), Tokens.claims("alice", NOW));

        assertThat(v.verify(token, NOW).userId()).isEqualTo("alice");
        assertThat(v.rememberedSignatures()).isEqualTo(1);
        assertThat(v.verify(token, NOW + 1000).userId()).isEqualTo("alice");
        assertThat(v.rememberedSignatures()).isEqualTo(1);
    }

    @Test
    void aRememberedToken_isStillRefusedOnceItExpires_onTheClockOfThatUpgrade(Vertx vertx) throws Exception {
        TokenVerifier v = es256(vertx);
        String token = Tokens.es256(EC.getPrivate(), Tokens.claims("alice", NOW)); // exp: NOW + 1 h
        v.verify(token, NOW);

        assertThat(refusal(v, token, NOW + 3_700_000)).isEqualTo(TokenRefusal.EXPIRED);
    }

    @Test
    void aTamperedOrReSignedToken_isNotTakenForARememberedOne(Vertx vertx) throws Exception {
        TokenVerifier v = es256(vertx);
        String token = Tokens.es256(EC.getPrivate(), Tokens.claims("alice", NOW));
        v.verify(token, NOW);

        String otherClaims = Tokens.tampered(token, Tokens.claims("mallory", NOW));
        assertThat(refusal(v, otherClaims, NOW)).isEqualTo(TokenRefusal.BAD_SIGNATURE);
        String otherKey = Tokens.es256(Tokens.ec("secp256r1").getPrivate(), Tokens.claims("alice", NOW));
        assertThat(refusal(v, otherKey, NOW)).isEqualTo(TokenRefusal.BAD_SIGNATURE);
        assertThat(v.rememberedSignatures()).as("refused tokens are never remembered").isEqualTo(1);
    }

    @Test
    void aRememberedToken_isNotCheckedAgain_andARefusedOneIsCheckedEachTime() {
        VerifiedSignatures cache = new VerifiedSignatures(32);
        java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();

        assertThat(cache.verifiedOnce("good", t -> checks.incrementAndGet() > 0)).isTrue();
        assertThat(cache.verifiedOnce("good", t -> checks.incrementAndGet() > 0)).isTrue();
        assertThat(checks).as("one signature check for two presentations").hasValue(1);

        assertThat(cache.verifiedOnce("forged", t -> checks.incrementAndGet() < 0)).isFalse();
        assertThat(cache.verifiedOnce("forged", t -> checks.incrementAndGet() < 0)).isFalse();
        assertThat(checks).as("a refused token is checked every time").hasValue(3);
        assertThat(cache.contains("forged")).isFalse();
    }

    @Test
    void theCacheIsBounded_andKeepsTheNewest() {
        VerifiedSignatures cache = new VerifiedSignatures(32);
        for (int i = 0; i < 1000; i++) {
            cache.verifiedOnce("token-" + i, t -> true);
        }
        assertThat(cache.size()).isLessThanOrEqualTo(32);
        assertThat(cache.contains("token-999")).isTrue();
        assertThat(cache.contains("never-added")).isFalse();
    }

    @Test
    void theDefaultBound_holdsAStormOfTenThousandTokens() {
        VerifiedSignatures cache = new VerifiedSignatures();
        for (int i = 0; i < 10_000; i++) {
            cache.verifiedOnce("token-" + i, t -> true);
        }
        assertThat(cache.size()).isEqualTo(10_000);
        assertThat(cache.contains("token-0")).as("the storm's first token is still remembered at its end").isTrue();
    }
}
