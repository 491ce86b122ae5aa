package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Applies {@code FLOCK_LOG_LEVEL}, with pino's names: {@code fatal} maps to error, {@code silent} to off. */
public final class LogLevels {

    private LogLevels() {
    }

    public static void apply(String level) {
        Level l = switch (level) {
            case "trace" -> Level.TRACE;
            case "debug" -> Level.DEBUG;
            case "warn" -> Level.WARN;
            case "error", "fatal" -> Level.ERROR;
            case "silent" -> Level.OFF;
            default -> Level.INFO;
        };
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(l);
            if (l == Level.OFF) {
                // loggers with a level of their own (JsonStdoutLogging: io.vertx, io.netty, …) would still speak
                for (Logger logger : root.getLoggerContext().getLoggerList()) {
                    logger.setLevel(Level.OFF);
                }
            }
        }
    }
}
