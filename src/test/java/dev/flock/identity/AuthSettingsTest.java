package dev.flock.identity;

import dev.flock.config.AuthSettings;
import dev.flock.config.ConfigException;
import dev.flock.config.FlockConfig;
import dev.flock.protocol.Limits;
import dev.flock.protocol.ProtocolCodec;
import dev.flock.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The auth settings and keys: every unusable one stops start-up with a line that names it; the usable forms work. */
@ExtendWith(VertxExtension.class)
class AuthSettingsTest {

    private static final ProtocolCodec CODEC = new ProtocolCodec(Limits.DEFAULT);
    private static final long NOW = 1_800_000_000_000L;

    private static FlockConfig env(String... pairs) {
        Map<String, String> env = new java.util.HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return FlockConfig.fromEnv(env);
    }

    private static TokenVerifier verifier(Vertx vertx, String pem) {
        return new TokenVerifier(vertx, env("FLOCK_AUTH", "required", "FLOCK_JWT_PUBLIC_KEYS", pem).auth(), CODEC);
    }

    @Test
    void defaults_areOff_withA30sLeeway() {
        AuthSettings auth = FlockConfig.defaults().auth();
        assertThat(auth.mode()).isEqualTo(AuthSettings.Mode.OFF);
        assertThat(auth.leewaySeconds()).isEqualTo(30);
        assertThat(auth.issuer()).isNull();
        assertThat(auth.audience()).isNull();
    }

    @Test
    void badSettings_stopStartUp_namingTheSetting() {
        assertThatThrownBy(() -> env("FLOCK_AUTH", "required")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("FLOCK_JWT_SECRET or FLOCK_JWT_PUBLIC_KEYS");
        assertThatThrownBy(() -> env("FLOCK_AUTH", "maybe")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("FLOCK_AUTH").hasMessageContaining("off, optional, required");
        assertThatThrownBy(() -> env("FLOCK_AUTH", "optional", "FLOCK_JWT_SECRET", "short")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("at least 32 bytes");
        assertThatThrownBy(() -> env("FLOCK_JWT_LEEWAY_SECONDS", "-1")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("FLOCK_JWT_LEEWAY_SECONDS");
        assertThatThrownBy(() -> env("FLOCK_AUTH", "required", "FLOCK_JWT_PUBLIC_KEYS", "/no/such/file.pem"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_JWT_PUBLIC_KEYS");
        assertThatThrownBy(() -> FlockConfig.builder().set("jwtSecrets", "x").build()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("jwtSecret"); // the known keys are listed
    }

    @Test
    void jsonKeysAndTheBuilder_setTheSameThing() {
        FlockConfig built = FlockConfig.builder().auth(AuthSettings.Mode.OPTIONAL).jwtSecret(Tokens.SECRET)
                .jwtIssuer("iss").jwtAudience("aud").jwtLeewaySeconds(5).build();
        assertThat(built.auth()).isEqualTo(new AuthSettings(AuthSettings.Mode.OPTIONAL, Tokens.SECRET, null, "iss", "aud", 5));
        FlockConfig fromFile = dev.flock.config.ConfigLoader.load(new JsonObject().put("auth", "optional")
                .put("jwtSecret", Tokens.SECRET).put("jwtIssuer", "iss").put("jwtAudience", "aud").put("jwtLeewaySeconds", 5), Map.of());
        assertThat(fromFile.auth()).isEqualTo(built.auth());
        assertThat(fromFile.toString()).doesNotContain(Tokens.SECRET).contains("auth=optional");
    }

    @Test
    void publicKeys_asPemWithEscapedNewlines_orAsAFile(Vertx vertx, @TempDir Path dir) throws Exception {
        KeyPair rsa = Tokens.rsa();
        String pem = Tokens.pem(rsa.getPublic());
        String token = Tokens.rs256(rsa.getPrivate(), Tokens.claims("u", NOW));
        assertThat(verifier(vertx, pem.replace("\n", "\\n")).verify(token, NOW).userId()).isEqualTo("u");
        Path file = dir.resolve("keys.pem");
        Files.writeString(file, "# rotation: old key first\n" + Tokens.pem(Tokens.rsa().getPublic()) + "\n" + pem);
        assertThat(verifier(vertx, file.toString()).verify(token, NOW).userId()).isEqualTo("u");
    }

    @Test
    void aCertificate_givesItsPublicKey(Vertx vertx, @TempDir Path dir) throws Exception {
        Path store = dir.resolve("k.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "k", "-dname", "CN=flock-test",
                "-keystore", store.toString(), "-storepass", "changeit", "-storetype", "PKCS12", "-validity", "2");
        String cert = run(keytool, "-exportcert", "-rfc", "-alias", "k", "-keystore", store.toString(), "-storepass", "changeit");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(store.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey("k", "changeit".toCharArray());
        assertThat(cert).contains("-----BEGIN CERTIFICATE-----");
        assertThat(verifier(vertx, cert).verify(Tokens.es256(key, Tokens.claims("u", NOW)), NOW).userId()).isEqualTo("u");
    }

    @Test
    void unusableKeys_stopStartUp_sayingWhy(Vertx vertx) {
        String privatePem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(Tokens.rsa().getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
        assertThatThrownBy(() -> verifier(vertx, privatePem)).isInstanceOf(ConfigException.class).hasMessageContaining("private key");
        assertThatThrownBy(() -> verifier(vertx, Tokens.pem(ed25519()))) // EdDSA is not among the algorithms offered
                .isInstanceOf(ConfigException.class).hasMessageContaining("neither an RSA nor an EC");
        assertThatThrownBy(() -> verifier(vertx, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("neither an RSA nor an EC");
        assertThatThrownBy(() -> verifier(vertx, "-----BEGIN PUBLIC KEY-----\nMIIB")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("no complete PEM block");
        assertThatThrownBy(() -> verifier(vertx, "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("openssl");
        assertThatThrownBy(() -> verifier(vertx, weakRsaPem())).isInstanceOf(ConfigException.class).hasMessageContaining("2048");
        // and a server that cannot use its keys does not start
        assertThatThrownBy(() -> dev.flock.FlockServer.attach(vertx, env("FLOCK_AUTH", "required", "FLOCK_JWT_PUBLIC_KEYS", privatePem),
                dev.flock.metrics.FlockMetrics.inMemory())).isInstanceOf(ConfigException.class);
    }

    @Test
    void eachCurveVerifiesOnlyItsOwnAlgorithm(Vertx vertx) {
        KeyPair p384 = Tokens.ec("secp384r1");
        TokenVerifier v = verifier(vertx, Tokens.pem(p384.getPublic()));
        // an ES256 token (P-256 signature size) where only an ES384 key exists
        assertThatThrownBy(() -> v.verify(Tokens.es256(Tokens.ec("secp256r1").getPrivate(), Tokens.claims("u", NOW)), NOW))
                .isInstanceOf(InvalidToken.class).extracting(e -> ((InvalidToken) e).refusal()).isEqualTo(TokenRefusal.UNSUPPORTED_ALGORITHM);
    }

    @Test
    void claimsAreReadAsDocumented(Vertx vertx) throws Exception {
        TokenVerifier v = new TokenVerifier(vertx, env("FLOCK_AUTH", "required", "FLOCK_JWT_SECRET", Tokens.SECRET).auth(), CODEC);
        JsonObject claims = Tokens.claims("u", NOW).put("rooms", new io.vertx.core.json.JsonArray().add("doc:1").add("team:*"))
                .put("readonly", new io.vertx.core.json.JsonArray().add("*")).put("meta", new JsonObject().put("name", "U"));
        Identity id = v.verify(Tokens.hs256(claims), NOW);
        assertThat(id.rooms().matches("doc:1")).isTrue();
        assertThat(id.rooms().matches("team:")).isTrue();
        assertThat(id.rooms().matches("doc:10")).isFalse();
        assertThat(id.readOnlyIn("anything")).isTrue();
        assertThat(id.meta().get("name").asText()).isEqualTo("U");
        assertThat(id.expiresAtMillis()).isEqualTo((NOW / 1000 + 3600) * 1000 + 30_000);
        Identity noExp = v.verify(Tokens.hs256(new JsonObject().put("sub", "u")), NOW);
        assertThat(noExp.expiresAtMillis()).isEqualTo(Long.MAX_VALUE);
        assertThat(noExp.rooms()).isNull();
        assertThat(noExp.readOnlyIn("x")).isFalse();
        String tooMany = Tokens.hs256(new JsonObject().put("sub", "u").put("rooms", new io.vertx.core.json.JsonArray(
                java.util.Collections.nCopies(TokenVerifier.MAX_PATTERNS + 1, "r"))));
        assertThatThrownBy(() -> v.verify(tooMany, NOW)).isInstanceOf(InvalidToken.class).hasMessageContaining("at most");
        String dup = Tokens.b64("{\"alg\":\"HS256\"}".getBytes()) + "." + Tokens.b64("{\"sub\":\"a\",\"sub\":\"b\"}".getBytes()) + ".c2ln";
        assertThatThrownBy(() -> v.verify(dup, NOW)).isInstanceOf(InvalidToken.class)
                .extracting(e -> ((InvalidToken) e).refusal()).isEqualTo(TokenRefusal.MALFORMED);
        String crit = Tokens.b64("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}".getBytes()) + "." + Tokens.b64("{}".getBytes()) + ".c2ln";
        assertThatThrownBy(() -> v.verify(crit, NOW)).isInstanceOf(InvalidToken.class).hasMessageContaining("crit");
        assertThatThrownBy(() -> v.verify("x".repeat(TokenVerifier.MAX_TOKEN_CHARS + 1), NOW)).isInstanceOf(InvalidToken.class)
                .hasMessageContaining("longer");
    }

    private static java.security.PublicKey ed25519() {
        try {
            return java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String weakRsaPem() {
        try {
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
            g.initialize(1024);
            return Tokens.pem(g.generateKeyPair().getPublic());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
