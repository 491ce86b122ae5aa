package dev.flock.admin;

import dev.flock.security.Secrets;

import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
  * Server-side admin sessions: a random id (the cookie value), a per-session CSRF token and an
  * expiry. Thread-safe, so one store can serve the routers of every event loop.
  */
final class SessionStore {

    record Session(String id, String csrfToken, long expiresAtMillis) {
    }

    /** Bounds memory if someone logs in over and over; the oldest session goes first. */
    static final int MAX_SESSIONS = 1_000;

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final LongSupplier clock;

    SessionStore(Duration ttl, LongSupplier clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    Session create() {
        if (sessions.size() >= MAX_SESSIONS) {
            dropExpiredAndOldest();
        }
        Session session = new Session(Secrets.newToken(), Secrets.newToken(), clock.getAsLong() + ttl.toMillis());
        sessions.put(session.id(), session);
        return session;
    }

    Optional<Session> find(String id) {
        if (id == null) {
            return Optional.empty();
        }
        Session session = sessions.get(id);
        if (session == null) {
            return Optional.empty();
        }
        if (session.expiresAtMillis() <= clock.getAsLong()) {
            sessions.remove(id, session);
            return Optional.empty();
        }
        return Optional.of(session);
    }

    void remove(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    Duration ttl() {
        return ttl;
    }

    private void dropExpiredAndOldest() {
        long now = clock.getAsLong();
        sessions.values().removeIf(s -> s.expiresAtMillis() <= now);
        while (sessions.size() >= MAX_SESSIONS) {
            sessions.values().stream()
                    .min(Comparator.comparingLong(Session::expiresAtMillis))
                    .ifPresent(oldest -> sessions.remove(oldest.id(), oldest));
        }
    }
}
