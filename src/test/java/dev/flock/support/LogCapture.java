package dev.flock.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Records what reaches a logger (and, for the root, every logger) while open, as the server really logs it: the
 * logback configuration the tests run with stays in place, this appender only listens beside it.
 */
public final class LogCapture implements AutoCloseable {

    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(Logger logger) {
        this.logger = logger;
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    /** Everything logged anywhere (the root logger). */
    public static LogCapture all() {
        return of(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    public static LogCapture of(String loggerName) {
        return new LogCapture((Logger) LoggerFactory.getLogger(loggerName));
    }

    /** The events so far at {@code level} or above. */
    public List<ILoggingEvent> atLeast(Level level) {
        // AppenderBase.doAppend, which adds to the list, holds the appender's lock (not the list's)
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(level)).toList();
        }
    }

    /** The formatted messages so far at {@code level} or above. */
    public List<String> messages(Level level) {
        return atLeast(level).stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
