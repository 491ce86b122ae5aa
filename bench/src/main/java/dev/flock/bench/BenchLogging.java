package dev.flock.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Bench processes log only warnings: without a logback.xml, logback's default is DEBUG, which would cost CPU in the runs. */
final class BenchLogging {
    private BenchLogging() {
    }

    static void quiet() {
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(Level.WARN);
        }
        // Closing thousands of client sockets at exit logs one "Connection evicted" warning each.
        if (LoggerFactory.getLogger("io.vertx.core.http.impl.HttpClientConnection") instanceof Logger evictions) {
            evictions.setLevel(Level.ERROR);
        }
    }
}
