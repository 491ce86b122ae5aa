package dev.flock.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with openssl, and a PKCS12 trust store holding it
 * (password {@code changeit}), for TLS tests against real redis-server processes.
 *
 * @param cert  the PEM certificate (also its own CA)
 * @param key   the PEM private key
 * @param trust the trust store, for {@code javax.net.ssl.trustStore}
 */
public record TestCertificates(Path cert, Path key, Path trust) {

    public static final String TRUST_PASSWORD = "changeit";
    private static final String OPENSSL = "/usr/bin/openssl";

    /** Makes them in {@code dir}; fails (never skips) without openssl, which .ci/run installs. */
    public static TestCertificates make(Path dir) {
        if (!Files.isExecutable(Path.of(OPENSSL))) {
            throw new IllegalStateException("openssl is needed to make a test certificate (apt-get install openssl)");
        }
        Path cert = dir.resolve("redis.crt");
        Path key = dir.resolve("redis.key");
        Path trust = dir.resolve("trust.p12");
        run(OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key.toString(), "-out", cert.toString());
        run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt", "-alias", "redis",
                "-file", cert.toString(), "-keystore", trust.toString(), "-storetype", "PKCS12", "-storepass", TRUST_PASSWORD);
        return new TestCertificates(cert, key, trust);
    }

    /** redis-server's TLS settings for this certificate (no client certificates), as arguments. */
    public String[] serverArgs() {
        return new String[]{"--tls-cert-file", cert.toString(), "--tls-key-file", key.toString(),
                "--tls-ca-cert-file", cert.toString(), "--tls-auth-clients", "no"};
    }

    /**
     * Runs {@code body} with the JVM's default trust store set to {@link #trust} (what an operator does with
     * {@code -Djavax.net.ssl.trustStore}), restoring the previous settings afterwards.
     */
    public void trusted(Runnable body) {
        String[] props = {"javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword", "javax.net.ssl.trustStoreType"};
        String[] values = {trust.toString(), TRUST_PASSWORD, "PKCS12"};
        String[] saved = new String[props.length];
        for (int i = 0; i < props.length; i++) {
            saved[i] = System.getProperty(props[i]);
            System.setProperty(props[i], values[i]);
        }
        try {
            body.run();
        } finally {
            for (int i = 0; i < props.length; i++) {
                if (saved[i] == null) {
                    System.clearProperty(props[i]);
                } else {
                    System.setProperty(props[i], saved[i]);
                }
            }
        }
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed");
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
