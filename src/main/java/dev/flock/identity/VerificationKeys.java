package dev.flock.identity;

import dev.flock.config.AuthSettings;
import dev.flock.config.ConfigException;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.auth.PubSecKeyOptions;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns {@code FLOCK_JWT_SECRET} and {@code FLOCK_JWT_PUBLIC_KEYS} into verification keys, each bound to the
 * algorithms its type allows: the secret to HS*, an RSA key to RS* and PS*, an EC key to the one ES* of its curve.
 * The secret serves only the HS algorithms it is long enough for (RFC 7518 §3.2). That binding is what refuses
 * algorithm confusion (an HS token "signed" with an RSA public key as its secret
 * finds no HS key). Keys are parsed by the JDK; anything unusable stops start-up with a line naming it.
 */
public final class VerificationKeys {

    private static final Pattern PEM_BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    private static final int MIN_RSA_BITS = 2048;
    /** The order of each NIST curve JWS names (RFC 7518 §3.4), which tells them apart from other curves of a size. */
    private static final Map<BigInteger, String> ES_BY_CURVE_ORDER = Map.of(
            new BigInteger("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16), "ES256",
            new BigInteger("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16), "ES384",
            new BigInteger("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409", 16), "ES512");

    private final List<PubSecKeyOptions> keys = new ArrayList<>();
    private final Set<String> algorithms = new LinkedHashSet<>();

    /** Reads the keys only to check them (--check-config): a {@link dev.flock.config.ConfigException} names the bad one. */
    public static void check(AuthSettings auth) {
        new VerificationKeys(auth);
    }

    VerificationKeys(AuthSettings auth) {
        if (auth.secret() != null) {
            byte[] secret = auth.secret().getBytes(StandardCharsets.UTF_8);
            // RFC 7518 §3.2: a key at least as long as the hash (32, 48, 64 bytes); a shorter one does not serve it
            for (String alg : List.of("HS256", "HS384", "HS512")) {
                if (secret.length >= Integer.parseInt(alg.substring(2)) / 8) {
                    add(alg, Buffer.buffer(secret));
                }
            }
        }
        if (auth.publicKeysPem() != null) {
            int n = 0;
            Matcher m = PEM_BLOCK.matcher(auth.publicKeysPem());
            while (m.find()) {
                n++;
                addPublicKey(publicKey(m.group(1), m.group(2), n), n);
            }
            if (n == 0) {
                throw new ConfigException("FLOCK_JWT_PUBLIC_KEYS holds no complete PEM block (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)");
            }
        }
    }

    List<PubSecKeyOptions> keys() {
        return keys;
    }

    /** Every {@code alg} some key verifies. */
    Set<String> algorithms() {
        return algorithms;
    }

    private static PublicKey publicKey(String kind, String base64, int n) {
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw bad(n, "its base64 does not decode");
        }
        switch (kind) {
            case "PUBLIC KEY" -> {
                for (String type : List.of("RSA", "EC")) {
                    try {
                        return KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
                    } catch (java.security.GeneralSecurityException ignored) {
                        // not of this type: try the next
                    }
                }
                throw bad(n, "it is neither an RSA nor an EC public key");
            }
            case "CERTIFICATE" -> {
                try {
                    return CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der)).getPublicKey();
                } catch (CertificateException e) {
                    throw bad(n, "the certificate does not parse");
                }
            }
            default -> {
                if (kind.contains("PRIVATE")) {
                    throw bad(n, "it is a private key; give Flock the public key only (openssl pkey -in key.pem -pubout)");
                }
                throw bad(n, "-----BEGIN " + kind + "----- is not supported; use PUBLIC KEY (SPKI) or CERTIFICATE"
                        + " (convert with: openssl pkey -pubin -in key.pem -pubout)");
            }
        }
    }

    private void addPublicKey(PublicKey key, int n) {
        // vertx-auth reads SPKI PEM; re-encoding every key so also makes certificates and odd line breaks work
        Buffer pem = Buffer.buffer("-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(key.getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
                throw bad(n, "its RSA modulus has " + rsa.getModulus().bitLength() + " bits; at least " + MIN_RSA_BITS + " are required");
            }
            for (String alg : List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")) {
                add(alg, pem);
            }
        } else if (key instanceof ECPublicKey ec) {
            String alg = ES_BY_CURVE_ORDER.get(ec.getParams().getOrder());
            if (alg == null) {
                throw bad(n, "its EC curve is not P-256, P-384 or P-521 (the curves of ES256, ES384, ES512)");
            }
            add(alg, pem);
        } else {
            throw bad(n, "its key type " + key.getAlgorithm() + " is not supported");
        }
    }

    private void add(String alg, Buffer material) {
        keys.add(new PubSecKeyOptions().setAlgorithm(alg).setBuffer(material));
        algorithms.add(alg);
    }

    private static ConfigException bad(int n, String why) {
        return new ConfigException("FLOCK_JWT_PUBLIC_KEYS: PEM block " + n + " cannot be used: " + why);
    }
}
