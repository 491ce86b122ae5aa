package dev.flock.bench;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * Signs one connection token per generated user (FLOCK_AUTH=required runs), as an app's backend would: {@code sub}
 * is the user, {@code exp} an hour ahead. HS256 takes a secret file; RS256 and ES256 a PKCS#8 PEM private key
 * ({@code openssl genpkey}). JDK primitives only: the harness must not share a JWT library with the server.
 */
final class TokenMinter {

    private final String alg;
    private final byte[] secret;
    private final PrivateKey key;
    private final String header;

    private TokenMinter(String alg, byte[] secret, PrivateKey key) {
        this.alg = alg;
        this.secret = secret;
        this.key = key;
        this.header = b64(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8));
    }

    /** Null when {@code alg} is empty (no tokens). */
    static TokenMinter of(String alg, String keyFile) {
        if (alg.isEmpty()) {
            return null;
        }
        try {
            String text = Files.readString(Path.of(keyFile));
            return switch (alg) {
                case "HS256" -> new TokenMinter(alg, text.trim().getBytes(StandardCharsets.UTF_8), null);
                case "RS256", "ES256" -> new TokenMinter(alg, null, KeyFactory.getInstance(alg.startsWith("RS") ? "RSA" : "EC")
                        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(
                                text.replaceAll("-----[A-Z ]+-----", "")))));
                default -> throw Args.fail("--token-alg: HS256, RS256 or ES256");
            };
        } catch (java.io.IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw Args.fail("--token-key " + keyFile + ": " + e.getMessage());
        }
    }

    private String[] minted = new String[0];
    private int mintedFrom;

    /**
     * Signs the tokens of users {@code u<first>}..{@code u<first+count-1>} now, before the clock starts: an RS256
     * signature costs the generator ~1.5 ms, which would otherwise compete with the server under test.
     */
    void prepare(int first, int count) {
        String[] out = new String[count];
        java.util.stream.IntStream.range(0, count).parallel().forEach(i -> out[i] = mint("u" + (first + i)));
        minted = out;
        mintedFrom = first;
    }

    /** The token of generated user {@code u<index>}: prepared, or signed now. */
    String tokenOf(int index) {
        int i = index - mintedFrom;
        return i >= 0 && i < minted.length ? minted[i] : mint("u" + index);
    }

    String mint(String userId) {
        long exp = System.currentTimeMillis() / 1000 + 3600;
        String input = header + "." + b64(("{\"sub\":\"" + userId + "\",\"exp\":" + exp + "}").getBytes(StandardCharsets.UTF_8));
        byte[] data = input.getBytes(StandardCharsets.US_ASCII);
        try {
            byte[] sig;
            if (secret != null) {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                sig = mac.doFinal(data);
            } else {
                Signature s = Signature.getInstance(alg.equals("RS256") ? "SHA256withRSA" : "SHA256withECDSAinP1363Format");
                s.initSign(key);
                s.update(data);
                sig = s.sign();
            }
            return input + "." + b64(sig);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
