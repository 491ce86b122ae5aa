package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import net.logstash.logback.encoder.LogstashEncoder;

import java.util.Map;

/**
 * The runnable jar's logging: one JSON object per line on stdout (logstash's fields, {@code time} for the timestamp),
 * set up in code. Logback finds it through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}, which
 * only the runnable jar carries (and the tests: {@code src/dist/}); the plain jar for embedding has none, so an
 * application's own logging configuration applies there.
 * <p>
 * Why not a {@code logback.xml}: reading one is logback's XML parser and its configuration model, about 600 classes
 * and 130-160 ms of a ~0.8 s start (docs/BENCHMARKS.md, sixteenth session). The level comes from
 * {@code FLOCK_LOG_LEVEL} ({@link LogLevels}); {@code FLOCK_LOG_FORMAT=pino} swaps this appender's encoder
 * ({@link LogFormats}). An operator's own file still wins: with {@code -Dlogback.configurationFile=...} this steps
 * aside and logback reads that file as usual.
 */
public final class JsonStdoutLogging extends ContextAwareBase implements Configurator {

    /** The appender's name, which {@link LogFormats} looks up. */
    static final String APPENDER = "STDOUT";

    /** Loggers that would otherwise speak at the root's level. */
    static final Map<String, Level> LEVELS = Map.of(
            "io.netty", Level.WARN,
            "io.vertx", Level.WARN,
            // Vert.x registers its HTTP gauges once per server instance; the repeats are harmless.
            "io.micrometer.core.instrument.MeterRegistry", Level.ERROR,
            // A command still in flight to a room verticle that has just retired (its last member left, so nobody is
            // there to tell) is dropped by Vert.x with one WARN each; when a whole room empties at once that is dozens
            // of lines about nothing. Room consumers are never paused, so this logger's other warning (a full paused
            // consumer) cannot occur.
            "io.vertx.core.eventbus.impl.MessageConsumerImpl", Level.ERROR);

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.getFieldNames().setTimestamp("time");
        encoder.getFieldNames().setVersion("[ignore]");
        encoder.getFieldNames().setLevelValue("[ignore]");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
        stdout.setContext(context);
        stdout.setName(APPENDER);
        stdout.setEncoder(encoder);
        stdout.start();
        LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stdout);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
