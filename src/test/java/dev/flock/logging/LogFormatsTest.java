package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.vertx.core.json.JsonObject;
import net.logstash.logback.encoder.LoggingEventCompositeJsonEncoder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static net.logstash.logback.argument.StructuredArguments.kv;
import static org.assertj.core.api.Assertions.assertThat;

/** The pino encoder on single events (the jar as a process writes them: JarProcessIT), for what a run rarely logs. */
class LogFormatsTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger("dev.flock.test.Pino");
    private final LoggingEventCompositeJsonEncoder encoder = LogFormats.pinoEncoder(logger.getLoggerContext());

    private JsonObject encode(Level level, String format, Throwable thrown, Object... arguments) {
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, level, format, thrown, arguments);
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
        assertThat(line).endsWith("\n").doesNotContain("\n\t").hasLineCount(1);
        return new JsonObject(line);
    }

    @Test
    void anException_isErrWithTypeMessageAndStack_likePinosErrorSerializer() {
        JsonObject line = encode(Level.ERROR, "store failed {}", new IOException("disk full"), kv("roomId", "r1"));
        assertThat(line.getInteger("level")).isEqualTo(50);
        assertThat(line.getString("msg")).isEqualTo("store failed roomId=r1");
        assertThat(line.getString("roomId")).isEqualTo("r1");
        JsonObject err = line.getJsonObject("err");
        assertThat(err.getString("type")).isEqualTo("java.io.IOException");
        assertThat(err.getString("message")).isEqualTo("disk full");
        assertThat(err.getString("stack")).startsWith("java.io.IOException: disk full").contains("\tat dev.flock.logging.LogFormatsTest");
    }

    @Test
    void everyLogbackLevel_hasPinosNumber_andTheFieldsComeInPinosOrder() {
        assertThat(encode(Level.TRACE, "t", null).getInteger("level")).isEqualTo(10);
        assertThat(encode(Level.DEBUG, "d", null).getInteger("level")).isEqualTo(20);
        assertThat(encode(Level.INFO, "i", null).getInteger("level")).isEqualTo(30);
        assertThat(encode(Level.WARN, "w", null).getInteger("level")).isEqualTo(40);
        assertThat(encode(Level.ERROR, "e", null).getInteger("level")).isEqualTo(50);
        JsonObject line = encode(Level.INFO, "user joined {} {}", null, kv("roomId", "r"), kv("count", 3));
        assertThat(line.fieldNames()).containsExactly("level", "time", "pid", "hostname", "roomId", "count", "msg");
        assertThat(line.getValue("count")).isEqualTo(3);
        assertThat(line.getValue("pid")).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(line.getLong("time")).isBetween(System.currentTimeMillis() - 60_000, System.currentTimeMillis());
    }

    @Test
    void hostname_isTheKernels_withoutAnyLookup() throws Exception {
        LoggerContext context = new LoggerContext();
        String kernel = LogFormats.kernelHostname();
        if (kernel != null) { // Linux: the name uname -n prints, read from /proc rather than resolved
            assertThat(LogFormats.hostname(context)).isEqualTo(kernel)
                    .isEqualTo(new String(new ProcessBuilder("uname", "-n").start().getInputStream().readAllBytes()).strip());
        } else {
            assertThat(LogFormats.hostname(context)).isNotBlank();
        }
    }
}
