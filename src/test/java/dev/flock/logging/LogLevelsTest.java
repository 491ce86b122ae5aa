package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LogLevelsTest {

    private final Map<Logger, Level> saved = new HashMap<>();

    @BeforeEach
    void save() {
        for (Logger logger : root().getLoggerContext().getLoggerList()) {
            saved.put(logger, logger.getLevel());
        }
    }

    @AfterEach
    void restore() {
        for (Logger logger : root().getLoggerContext().getLoggerList()) {
            logger.setLevel(saved.get(logger)); // loggers made by the test go back to inheriting
        }
    }

    @Test
    void silent_silencesLoggersWithALevelOfTheirOwn() {
        org.slf4j.Logger vertx = LoggerFactory.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");
        org.slf4j.Logger netty = LoggerFactory.getLogger("io.netty.channel.DefaultChannelPipeline");
        org.slf4j.Logger ours = LoggerFactory.getLogger("dev.flock.Main");
        assertThat(netty.isWarnEnabled()).as("JsonStdoutLogging gives io.netty WARN").isTrue();

        LogLevels.apply("silent");

        assertThat(vertx.isErrorEnabled()).isFalse();
        assertThat(netty.isErrorEnabled()).isFalse();
        assertThat(ours.isErrorEnabled()).isFalse();
        assertThat(LoggerFactory.getLogger("made.after.apply").isErrorEnabled()).isFalse();
    }

    @Test
    void warn_keepsWarningsAndDropsInfo() {
        LogLevels.apply("warn");
        org.slf4j.Logger ours = LoggerFactory.getLogger("dev.flock.Main");
        assertThat(ours.isWarnEnabled()).isTrue();
        assertThat(ours.isInfoEnabled()).isFalse();
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
