package dev.flock.bench;

import io.vertx.core.Future;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A worker's counters are copied on its own event loop; a loop starved past the bound ends the generator. */
final class Snapshots {
    private static final long TIMEOUT_SECONDS = 60;

    private Snapshots() {
    }

    static <T> T await(Future<T> snapshot) {
        try {
            return snapshot.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            System.err.printf("generator event loop unresponsive for %d s: giving up%n", TIMEOUT_SECONDS);
            System.exit(3);
            return null;
        }
    }
}
