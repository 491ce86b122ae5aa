package dev.flock.support;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * Mints JWTs for tests with the JDK's own primitives (never the library under test), including the ones an attacker
 * would send: {@code alg: none}, an HS token keyed with an RSA public key, a tampered payload.
 */
public final class Tokens {

    public static final String SECRET = "a-test-secret-of-at-least-thirty-two-bytes!";

    private Tokens() {
    }

    public static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code curve}: secp256r1, secp384r1 or secp521r1. */
    public static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(PublicKey key) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    /** Claims for {@code sub} expiring an hour after {@code nowMillis}. */
    public static JsonObject claims(String sub, long nowMillis) {
        return new JsonObject().put("sub", sub).put("iat", nowMillis / 1000).put("exp", nowMillis / 1000 + 3600);
    }

    public static String hs(String alg, String secret, JsonObject claims) {
        return hmac(alg, secret.getBytes(StandardCharsets.UTF_8), claims);
    }

    public static String hs256(JsonObject claims) {
        return hs("HS256", SECRET, claims);
    }

    /** An HS token whose HMAC key is {@code key}'s bytes: the algorithm-confusion attack on RSA-only servers. */
    public static String hmac(String alg, byte[] key, JsonObject claims) {
        String input = input(alg, claims);
        try {
            Mac mac = Mac.getInstance("Hmac" + "SHA" + alg.substring(2));
            mac.init(new SecretKeySpec(key, mac.getAlgorithm()));
            return input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String rs256(PrivateKey key, JsonObject claims) {
        return signed("RS256", "SHA256withRSA", null, key, claims);
    }

    public static String ps256(PrivateKey key, JsonObject claims) {
        return signed("PS256", "RSASSA-PSS", new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                java.security.spec.MGF1ParameterSpec.SHA256, 32, 1), key, claims);
    }

    /** ES256 with the signature as JWS wants it: R and S concatenated (IEEE P1363), not DER. */
    public static String es256(PrivateKey key, JsonObject claims) {
        return signed("ES256", "SHA256withECDSAinP1363Format", null, key, claims);
    }

    /** The unsecured JWT of RFC 7519 §6: {@code alg: none} and an empty signature. */
    public static String none(JsonObject claims) {
        return input("none", claims) + ".";
    }

    /** {@code token} with its payload replaced by {@code claims} and its signature kept. */
    public static String tampered(String token, JsonObject claims) {
        String[] p = token.split("\\.");
        return p[0] + "." + b64(claims.encode().getBytes(StandardCharsets.UTF_8)) + "." + p[2];
    }

    private static String signed(String alg, String jca, java.security.spec.AlgorithmParameterSpec params, PrivateKey key,
                                 JsonObject claims) {
        String input = input(alg, claims);
        try {
            Signature s = Signature.getInstance(jca);
            if (params != null) {
                s.setParameter(params);
            }
            s.initSign(key);
            s.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + b64(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String input(String alg, JsonObject claims) {
        JsonObject header = new JsonObject().put("alg", alg).put("typ", "JWT");
        return b64(header.encode().getBytes(StandardCharsets.UTF_8)) + "." + b64(claims.encode().getBytes(StandardCharsets.UTF_8));
    }

    public static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
