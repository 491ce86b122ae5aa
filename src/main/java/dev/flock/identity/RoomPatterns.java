package dev.flock.identity;

import java.util.ArrayList;
import java.util.List;

/**
 * Room ids a token names: each entry is an exact id ({@code doc:42}) or, with a trailing {@code *}, every id that
 * starts with what comes before it ({@code team:7:*}; {@code *} alone is every room). A {@code *} anywhere else is
 * an ordinary character, as room ids may contain one.
 */
public final class RoomPatterns {

    private final List<String> exact;
    private final List<String> prefixes;

    private RoomPatterns(List<String> exact, List<String> prefixes) {
        this.exact = exact;
        this.prefixes = prefixes;
    }

    public static RoomPatterns of(List<String> patterns) {
        List<String> exact = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        for (String p : patterns) {
            if (p.endsWith("*")) {
                prefixes.add(p.substring(0, p.length() - 1));
            } else {
                exact.add(p);
            }
        }
        return new RoomPatterns(List.copyOf(exact), List.copyOf(prefixes));
    }

    public boolean matches(String roomId) {
        for (String e : exact) {
            if (e.equals(roomId)) {
                return true;
            }
        }
        for (String p : prefixes) {
            if (roomId.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    public boolean isEmpty() {
        return exact.isEmpty() && prefixes.isEmpty();
    }
}
