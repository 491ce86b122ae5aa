package dev.flock.logging;

import dev.flock.time.Clock;
import org.slf4j.Logger;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Errors a client can cause again and again, logged so that the log grows with time, not with the traffic: the
 * first of a kind is logged at once (with its stack trace), the repeats are counted, and at the end of each window in
 * which it happened again one line says how often. A window in which it did not happen again ends the series; the
 * next occurrence is logged at once again. Windows run on the {@link Clock}, so a test moves them.
 */
public final class RepeatedLog {

    /** Kinds come from code (exception classes, status codes), so few; the bound keeps a mistake from growing the map. */
    static final int MAX_KINDS = 256;
    static final String OTHER_KINDS = "(other kinds)";

    private final Logger log;
    private final Clock clock;
    private final int windowSeconds;
    private final Map<String, Series> series = new ConcurrentHashMap<>();

    /** One kind's state; its fields are guarded by the object itself (errors come from every event loop). */
    private static final class Series {
        boolean open;
        long repeats;
    }

    public RepeatedLog(Logger log, Clock clock, int windowSeconds) {
        this.log = log;
        this.clock = clock;
        this.windowSeconds = windowSeconds;
    }

    /**
     * Logs {@code message} at error level now if no error of this {@code kind} was logged in the current window,
     * else counts it for the window's summary line (which repeats the message that opened the series).
     */
    public void error(String kind, String message, Throwable cause) {
        Series s = series(kind);
        synchronized (s) {
            if (s.open) {
                s.repeats++;
                return;
            }
            s.open = true;
        }
        log.error(message, cause);
        clock.setTimer(windowSeconds * 1000L, id -> endWindow(s, message));
    }

    private void endWindow(Series s, String message) {
        long repeats;
        synchronized (s) {
            repeats = s.repeats;
            s.repeats = 0;
            if (repeats == 0) {
                s.open = false;
                return;
            }
        }
        log.error("{} (and {} more like it in the last {} s)", message, repeats, windowSeconds);
        clock.setTimer(windowSeconds * 1000L, id -> endWindow(s, message));
    }

    private Series series(String kind) {
        Series s = series.get(kind);
        if (s != null) {
            return s;
        }
        return series.computeIfAbsent(series.size() < MAX_KINDS ? kind : OTHER_KINDS, k -> new Series());
    }
}
