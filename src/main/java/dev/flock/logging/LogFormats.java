package dev.flock.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.flock.config.FlockConfig;
import io.vertx.core.json.JsonObject;
import net.logstash.logback.composite.AbstractJsonProvider;
import net.logstash.logback.composite.AbstractFormattedTimestampJsonProvider;
import net.logstash.logback.composite.GlobalCustomFieldsJsonProvider;
import net.logstash.logback.composite.loggingevent.ArgumentsJsonProvider;
import net.logstash.logback.composite.loggingevent.KeyValuePairsJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggingEventFormattedTimestampJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggingEventJsonProviders;
import net.logstash.logback.composite.loggingevent.LogstashMarkersJsonProvider;
import net.logstash.logback.composite.loggingevent.MessageJsonProvider;
import net.logstash.logback.encoder.LoggingEventCompositeJsonEncoder;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Applies {@code FLOCK_LOG_FORMAT}. {@code json} is what {@link JsonStdoutLogging} sets up (logstash's fields);
 * {@code pino} swaps that appender's encoder for lines shaped as the original server's pino wrote them, so log
 * queries written for it keep working:
 * <pre>{"level":30,"time":1764615600000,"pid":7,"hostname":"web-1","port":8787,"msg":"flock started ..."}</pre>
 * pino's numeric levels (trace 10, debug 20, info 30, warn 40, error 50; logback has no fatal, so 60 never occurs),
 * epoch-ms {@code time}, {@code pid} and {@code hostname} (pino's default base; the original set no {@code name}), the
 * {@code kv(...)} arguments as top-level fields, {@code msg}, and an exception as {@code err: {type, message, stack}}
 * (pino's error serializer). Only the runnable jar's {@code STDOUT} appender is touched: an application that embeds
 * Flock configures its own logging, and this does nothing there.
 */
public final class LogFormats {

    /** Where Linux keeps the host name {@code gethostname} returns. */
    private static final Path KERNEL_HOSTNAME = Path.of("/proc/sys/kernel/hostname");

    private LogFormats() {
    }

    /** Call once, after the configuration is loaded and before anything else is logged (as {@link LogLevels#apply}). */
    public static void apply(FlockConfig.LogFormat format) {
        if (format != FlockConfig.LogFormat.PINO
                || !(LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root)) {
            return;
        }
        Appender<ILoggingEvent> appender = root.getAppender(JsonStdoutLogging.APPENDER);
        if (appender instanceof OutputStreamAppender<ILoggingEvent> out) {
            LoggingEventCompositeJsonEncoder encoder = pinoEncoder(root.getLoggerContext());
            out.stop();
            out.setEncoder(encoder);
            out.start();
        } else { // another logback configuration (-Dlogback.configurationFile): its format stands, said once
            LoggerFactory.getLogger(LogFormats.class).warn("FLOCK_LOG_FORMAT=pino ignored: the logging configuration has no"
                    + " '{}' output appender to set it on", JsonStdoutLogging.APPENDER);
        }
    }

    static LoggingEventCompositeJsonEncoder pinoEncoder(LoggerContext context) {
        LoggingEventJsonProviders providers = new LoggingEventJsonProviders();
        providers.addProvider(new PinoLevel());
        LoggingEventFormattedTimestampJsonProvider time = new LoggingEventFormattedTimestampJsonProvider();
        time.setFieldName("time");
        time.setPattern(AbstractFormattedTimestampJsonProvider.UNIX_TIMESTAMP_AS_NUMBER);
        providers.addTimestamp(time);
        GlobalCustomFieldsJsonProvider<ILoggingEvent> base = new GlobalCustomFieldsJsonProvider<>();
        base.setCustomFields(new JsonObject().put("pid", ProcessHandle.current().pid())
                .put("hostname", hostname(context)).encode());
        providers.addProvider(base);
        providers.addArguments(new ArgumentsJsonProvider()); // kv(...) at the top level, as pino merges its object
        providers.addKeyValuePairs(new KeyValuePairsJsonProvider());
        providers.addLogstashMarkers(new LogstashMarkersJsonProvider());
        MessageJsonProvider msg = new MessageJsonProvider();
        msg.setFieldName("msg");
        providers.addMessage(msg);
        providers.addProvider(new PinoErr());
        LoggingEventCompositeJsonEncoder encoder = new LoggingEventCompositeJsonEncoder();
        encoder.setContext(context);
        encoder.setProviders(providers);
        encoder.start();
        return encoder;
    }

    /**
     * pino's {@code os.hostname()}: the kernel's host name, as {@code gethostname} gives it, without DNS; else the
     * container's HOSTNAME; else logback's own lookup. That lookup ({@code InetAddress.getLocalHost}) resolves the name,
     * which can hold the start up for seconds on a machine whose name is in neither DNS nor /etc/hosts.
     */
    static String hostname(LoggerContext context) {
        String name = kernelHostname();
        if (name == null || name.isBlank()) {
            name = System.getenv("HOSTNAME");
        }
        if (name == null || name.isBlank()) {
            name = context.getProperty(CoreConstants.HOSTNAME_KEY);
        }
        return name == null || name.isBlank() ? "unknown" : name;
    }

    /** Linux's host name (what {@code uname -n} prints), or null elsewhere. */
    static String kernelHostname() {
        try {
            return Files.readString(KERNEL_HOSTNAME).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** pino's numbers for the levels logback has. */
    static int pinoLevel(Level level) {
        return switch (level.toInt()) {
            case Level.TRACE_INT -> 10;
            case Level.DEBUG_INT -> 20;
            case Level.INFO_INT -> 30;
            case Level.WARN_INT -> 40;
            default -> 50;
        };
    }

    /** {@code "level": 30}. */
    static final class PinoLevel extends AbstractJsonProvider<ILoggingEvent> {
        @Override
        public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
            generator.writeNumberField("level", pinoLevel(event.getLevel()));
        }
    }

    /** {@code "err": {"type": "java.io.IOException", "message": "...", "stack": "java.io.IOException: ...\n\tat ..."}}. */
    static final class PinoErr extends AbstractJsonProvider<ILoggingEvent> {
        @Override
        public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown == null) {
                return;
            }
            generator.writeObjectFieldStart("err");
            generator.writeStringField("type", thrown.getClassName());
            generator.writeStringField("message", thrown.getMessage() == null ? "" : thrown.getMessage());
            generator.writeStringField("stack", ThrowableProxyUtil.asString(thrown));
            generator.writeEndObject();
        }
    }
}
