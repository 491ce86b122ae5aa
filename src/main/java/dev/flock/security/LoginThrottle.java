package dev.flock.security;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
  * Slows password and key guessing (the admin login, the admin and server API keys) per client address: a few free failures, then a lockout that doubles
  * with every further failure. Locked-out clients are refused at once (429), so nothing waits on
  * the event loop. Thread-safe.
  */
public final class LoginThrottle {

    public static final int FREE_FAILURES = 3;
    static final long FIRST_LOCK_MILLIS = 2_000;
    public static final long MAX_LOCK_MILLIS = 5 * 60_000;
    /** A client that stops failing for this long starts over. */
    static final long FORGET_AFTER_MILLIS = 15 * 60_000;
    static final int MAX_TRACKED = 10_000;

    private record Failures(int count, long lockedUntil, long lastFailureAt) {
    }

    private final Map<String, Failures> byAddress = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private final int freeFailures;

    public LoginThrottle(LongSupplier clock) {
        this(clock, FREE_FAILURES);
    }

    /** {@code freeFailures}: how many failures an address has before its first lockout. */
    public LoginThrottle(LongSupplier clock, int freeFailures) {
        this.clock = clock;
        this.freeFailures = freeFailures;
    }

    /** Milliseconds until this address may try again; 0 when it may try now. */
    public long retryAfterMillis(String address) {
        Failures failures = byAddress.get(address);
        return failures == null ? 0 : Math.max(0, failures.lockedUntil() - clock.getAsLong());
    }

    /** {@link #retryAfterMillis} rounded up to whole seconds, as a Retry-After header says it; 0 when it may try now. */
    public long retryAfterSeconds(String address) {
        long millis = retryAfterMillis(address);
        return millis <= 0 ? 0 : Math.max(1, (millis + 999) / 1000);
    }

    public void failed(String address) {
        long now = clock.getAsLong();
        byAddress.compute(address, (key, previous) -> {
            int count = previous == null || now - previous.lastFailureAt() > FORGET_AFTER_MILLIS ? 1 : previous.count() + 1;
            return new Failures(count, now + lockMillis(count, freeFailures), now);
        });
        if (byAddress.size() > MAX_TRACKED) {
            forgetHarmless(now);
        }
    }

    public void succeeded(String address) {
        byAddress.remove(address);
    }

    static long lockMillis(int failures, int freeFailures) {
        if (failures <= freeFailures) {
            return 0;
        }
        int doublings = Math.min(failures - freeFailures - 1, 20);
        return Math.min(MAX_LOCK_MILLIS, FIRST_LOCK_MILLIS << doublings);
    }

    /** Keeps the map bounded: forgets stale entries first, then any entry that is not locked. */
    private void forgetHarmless(long now) {
        byAddress.values().removeIf(f -> now - f.lastFailureAt() > FORGET_AFTER_MILLIS);
        if (byAddress.size() > MAX_TRACKED) {
            byAddress.values().removeIf(f -> f.lockedUntil() <= now);
        }
    }
}
