package dev.flock.support;

import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The built jar run as an operator runs it: {@code java -jar target/flock-server.jar}, configured by FLOCK_* only. */
public final class JarProcess implements AutoCloseable {

    private final Process process;
    private final Path log;
    public final int port;

    private JarProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    public static Path jar() {
        String path = System.getProperty("flock.jar", "target/flock-server.jar");
        Path jar = Path.of(path);
        if (!Files.exists(jar)) {
            throw new IllegalStateException("built jar not found at " + jar + "; run mvn package first");
        }
        return jar;
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts the jar on a free port and waits until /health answers. */
    public static JarProcess start(Map<String, String> env, String... args) throws IOException {
        int port = freePort();
        Process p = launch(env, port, args);
        Path log = logFile(p);
        JarProcess jp = new JarProcess(p, log, port);
        jp.awaitHealthy();
        return jp;
    }

    public static Process launch(Map<String, String> env, int port, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx128m", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("FLOCK_"));
        pb.environment().put("FLOCK_PORT", String.valueOf(port));
        pb.environment().put("FLOCK_HOST", "127.0.0.1");
        // the start-up warm-up costs seconds of CPU per start: off unless a test asks for it (JarProcessIT does)
        pb.environment().put("FLOCK_WARMUP_CONNECTIONS", "0");
        pb.environment().putAll(env);
        Path out = Files.createTempFile("flock-jar", ".log");
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        Process p = pb.start();
        LOGS.put(p.pid(), out);
        return p;
    }

    private static final Map<Long, Path> LOGS = new java.util.concurrent.ConcurrentHashMap<>();

    public static Path logFile(Process p) {
        return LOGS.get(p.pid());
    }

    private static String javaBin() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

    private void awaitHealthy() throws IOException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("flock exited early: " + Files.readString(log));
            }
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/health").toURL().openConnection();
                c.setConnectTimeout(500);
                c.setReadTimeout(500);
                if (c.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // poll again
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("flock did not become healthy: " + Files.readString(log));
    }

    public Process process() {
        return process;
    }

    public String output() throws IOException {
        return Files.readString(log);
    }

    /** SIGTERM, as docker stop and Fly send it. */
    public boolean terminate(long timeoutMs) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** kill -9. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
