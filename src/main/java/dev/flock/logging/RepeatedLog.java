package dev.flock.logging;

import dev.flock.time.Clock;
import org.slf4j.Logger;
import org.slf4j.event.Level;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lines a client can cause again and again (errors, refusals), logged so that the log grows with time, not with the
 * traffic: the first of a kind is logged at once (with its stack trace), the repeats are counted, and at the end of each
 * window in which it happened again one line says how often. A window in which it did not happen again ends the
 * series (and forgets the kind); the next occurrence is logged at once again. Windows run on the {@link Clock}, so a
 * test moves them.
 */
public final class RepeatedLog {

    /** Kinds come from code (exception classes, status codes), so few; the bound keeps a mistake from growing the map. */
    static final int MAX_KINDS = 256;
    static final String OTHER_KINDS = "(other kinds)";

    private final Logger log;
    private final Clock clock;
    private final int windowSeconds;
    private final int maxKinds;
    private final Map<String, Series> series = new ConcurrentHashMap<>();

    /** One kind's state; its fields are guarded by the object itself (lines come from every event loop). */
    private static final class Series {
        final String kind;
        boolean open;
        long repeats;

        Series(String kind) {
            this.kind = kind;
        }
    }

    public RepeatedLog(Logger log, Clock clock, int windowSeconds) {
        this(log, clock, windowSeconds, MAX_KINDS);
    }

    /**
     * {@code maxKinds}: how many kinds have a series of their own at once; beyond it they share one, so at most about
     * {@code 2 * (maxKinds + 1)} lines are written per window, whatever the traffic.
     */
    public RepeatedLog(Logger log, Clock clock, int windowSeconds, int maxKinds) {
        this.log = log;
        this.clock = clock;
        this.windowSeconds = windowSeconds;
        this.maxKinds = maxKinds;
    }

    /**
     * Logs {@code message} at error level now if no error of this {@code kind} was logged in the current window,
     * else counts it for the window's summary line (which repeats the message that opened the series).
     */
    public void error(String kind, String message, Throwable cause) {
        log(Level.ERROR, kind, cause, message);
    }

    /**
     * As {@link #error}, at {@code level}, with an SLF4J {@code format} and its {@code arguments} (structured ones,
     * {@code kv(...)}, become JSON fields); the summary repeats both.
     */
    public void log(Level level, String kind, Throwable cause, String format, Object... arguments) {
        logIn(series(kind), level, cause, format, arguments);
    }

    /** True when {@code kind} has (or would get) a series of its own, false when it would share the overflow. */
    public boolean tracks(String kind) {
        return series.containsKey(kind) || series.size() < maxKinds;
    }

    /**
     * As {@link #log}, into the overflow series {@code group}: for callers that keep kinds per (event, address) and, once
     * {@link #tracks} says no, share one series per event rather than one for everything (so a flood of one event from
     * many addresses cannot hide another event). Groups come from code, so few; they exist beyond {@code maxKinds}.
     */
    public void logOverflow(Level level, String group, Throwable cause, String format, Object... arguments) {
        logIn(series.computeIfAbsent(group, Series::new), level, cause, format, arguments);
    }

    private void logIn(Series s, Level level, Throwable cause, String format, Object... arguments) {
        synchronized (s) {
            if (s.open) {
                s.repeats++;
                return;
            }
            s.open = true;
        }
        var line = log.atLevel(level).setCause(cause);
        for (Object a : arguments) {
            line = line.addArgument(a);
        }
        if (arguments.length == 0) {
            line.log("{}", format); // as in the summary: a plain message is never parsed as a format
        } else {
            line.log(format);
        }
        clock.setTimer(windowSeconds * 1000L, id -> endWindow(s, level, format, arguments));
    }

    private void endWindow(Series s, Level level, String format, Object[] arguments) {
        long repeats;
        synchronized (s) {
            repeats = s.repeats;
            s.repeats = 0;
            if (repeats == 0) {
                s.open = false;
                series.remove(s.kind, s); // its room goes to the next kind; a late occurrence on s only logs once more
                return;
            }
        }
        String more = s.kind.equals(OTHER_KINDS) ? " (and {} more of other kinds in the last {} s)"
                : " (and {} more like it in the last {} s)";
        String summary;
        Object[] all;
        if (arguments.length == 0) { // a plain message (it may hold a client's path): never parsed as a format
            summary = "{}" + more;
            all = new Object[] {format, repeats, windowSeconds};
        } else {
            summary = format + more;
            all = Arrays.copyOf(arguments, arguments.length + 2);
            all[arguments.length] = repeats;
            all[arguments.length + 1] = windowSeconds;
        }
        log.atLevel(level).log(summary, all);
        clock.setTimer(windowSeconds * 1000L, id -> endWindow(s, level, format, arguments));
    }

    private Series series(String kind) {
        Series s = series.get(kind);
        if (s != null) {
            return s;
        }
        String key = series.size() < maxKinds ? kind : OTHER_KINDS;
        return series.computeIfAbsent(key, Series::new);
    }
}
