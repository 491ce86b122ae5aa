package dev.flock.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;

/** What the process topologies ({@link SentinelSet}, {@link ClusterSet}) do alike to their redis-server processes. */
final class Processes {

    private Processes() {
    }

    /** {@code kill -9} (no goodbye to anyone), then waits up to 10 s for the process to be gone. */
    static void kill(Process p) {
        p.destroyForcibly();
        waitFor(p);
    }

    static void waitFor(Process p) {
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (10 s at most) until {@code ping} (a PING to the process on {@code port}) answers PONG. */
    static void awaitPing(int port, java.util.function.Supplier<Object> ping) {
        Fleet.awaitTrue("redis-server on port " + port + " answers", java.time.Duration.ofSeconds(10), () -> {
            try {
                return "PONG".equals(ping.get());
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    /** Deletes a temporary directory and everything in it, best effort. */
    static void deleteTree(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory: best effort
        }
    }
}
