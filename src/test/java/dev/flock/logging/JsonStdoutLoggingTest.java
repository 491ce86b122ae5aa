package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.vertx.core.json.JsonObject;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The runnable jar's logging set-up, on a context of the test's own (JarProcessIT checks the jar's real lines). */
class JsonStdoutLoggingTest {

    private static LoggerContext configured() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter()); // what logback's provider gives its own
        JsonStdoutLogging configurator = new JsonStdoutLogging();
        configurator.setContext(context);
        assertThat(configurator.configure(context)).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        return context;
    }

    @Test
    void oneJsonLinePerEvent_withLogstashFields_timeForTheTimestamp_noVersionOrLevelValue() {
        LoggerContext context = configured();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        ConsoleAppender<?> stdout = (ConsoleAppender<?>) root.getAppender(JsonStdoutLogging.APPENDER);
        assertThat(stdout.isStarted()).isTrue();
        LogstashEncoder encoder = (LogstashEncoder) stdout.getEncoder();
        Logger logger = context.getLogger("dev.flock.test.Json");
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, "room {} full", null,
                new Object[] {"r1"});
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
        assertThat(line).endsWith("\n").hasLineCount(1);
        JsonObject json = new JsonObject(line);
        assertThat(json.getString("time")).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(json.getString("message")).isEqualTo("room r1 full");
        assertThat(json.getString("level")).isEqualTo("WARN");
        assertThat(json.getString("logger_name")).isEqualTo("dev.flock.test.Json");
        assertThat(json.fieldNames()).doesNotContain("@version", "level_value", "@timestamp");
    }

    @Test
    void chattyLibraries_speakOnlyAtTheirOwnLevel() {
        LoggerContext context = configured();
        assertThat(context.getLogger("io.netty.channel.DefaultChannelPipeline").isInfoEnabled()).isFalse();
        assertThat(context.getLogger("io.netty.channel.DefaultChannelPipeline").isWarnEnabled()).isTrue();
        assertThat(context.getLogger("io.vertx.core.impl.VertxImpl").isInfoEnabled()).isFalse();
        assertThat(context.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl").isWarnEnabled()).isFalse();
        assertThat(context.getLogger("io.micrometer.core.instrument.MeterRegistry").isWarnEnabled()).isFalse();
        assertThat(context.getLogger("io.micrometer.core.instrument.MeterRegistry").isErrorEnabled()).isTrue();
        assertThat(context.getLogger("dev.flock.Main").isInfoEnabled()).isTrue();
    }

    @Test
    void anOperatorsOwnFile_wins_theConfiguratorStepsAside() {
        String before = System.getProperty("logback.configurationFile");
        System.setProperty("logback.configurationFile", "/etc/flock/logback.xml");
        try {
            LoggerContext context = new LoggerContext();
            JsonStdoutLogging configurator = new JsonStdoutLogging();
            configurator.setContext(context);
            assertThat(configurator.configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
            assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
        } finally {
            if (before == null) {
                System.clearProperty("logback.configurationFile");
            } else {
                System.setProperty("logback.configurationFile", before);
            }
        }
    }

    @Test
    void theTests_logAsTheJarDoes_throughTheRegisteredConfigurator() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getAppender(JsonStdoutLogging.APPENDER)).isInstanceOf(ConsoleAppender.class);
    }
}
