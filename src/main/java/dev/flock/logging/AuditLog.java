package dev.flock.logging;

import dev.flock.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.util.ArrayList;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The operator's audit trail, on its own logger ({@value #LOGGER}) so it can be routed or kept apart: who was refused
 * (a wrong admin password or token, a wrong server-API key, a WebSocket upgrade with a bad key or token, a socket
 * closed for its rate) and what an operator did (admin logins, closing rooms). Every line has {@code event} (a
 * stable name to query on) and {@code remote} (the client's address, {@code FLOCK_TRUST_PROXY} included) as fields.
 *
 * <p>Refusals are what an attacker can cause at will, so they go through a {@link RepeatedLog} keyed by event and
 * address: the first at once, then one line per {@value #WINDOW_SECONDS} s window with the count, and at most
 * {@value #MAX_SERIES} (event, address) pairs with a series of their own (beyond them, one series per event with
 * {@code remote="(various)"}, so a flood of one event cannot hide another). A flood writes a few lines a
 * minute, not one per request. Actions need the admin secret and are logged every time. No secret (password, token,
 * key, session id) is ever an argument here.
 */
public final class AuditLog {

    public static final String LOGGER = "dev.flock.audit";
    static final int WINDOW_SECONDS = 60;
    static final int MAX_SERIES = 100;
    /** The {@code remote} of a line that stands for the refusals of addresses beyond {@link #MAX_SERIES}. */
    static final String VARIOUS = "(various)";

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private final RepeatedLog refusals;

    public AuditLog(Clock clock) {
        this.refusals = new RepeatedLog(LOG, clock, WINDOW_SECONDS, MAX_SERIES);
    }

    /**
     * A refusal at warn, rate-limited per {@code event} and {@code address}: {@code message} (constant text) then
     * {@code event=... remote=...} and the {@code fields} ({@code kv(...)}).
     */
    public void refused(String event, String address, String message, Object... fields) {
        String kind = event + " " + address;
        if (refusals.tracks(kind)) {
            refusals.log(Level.WARN, kind, null, format(message, fields.length), arguments(event, address, fields));
        } else { // every address slot taken (a flood from many addresses): one series per event, so none hides another
            refusals.logOverflow(Level.WARN, event + " " + VARIOUS, null, format(message, fields.length),
                    arguments(event, VARIOUS, fields));
        }
    }

    /** An authorised action at info, every time; the same shape as {@link #refused}. */
    public void action(String event, String address, String message, Object... fields) {
        LOG.info(format(message, fields.length), arguments(event, address, fields));
    }

    private static String format(String message, int fields) {
        return message + " {} {}" + " {}".repeat(fields);
    }

    private static Object[] arguments(String event, String address, Object[] fields) {
        List<Object> all = new ArrayList<>(2 + fields.length);
        all.add(kv("event", event));
        all.add(kv("remote", address));
        all.addAll(List.of(fields));
        return all.toArray();
    }
}
