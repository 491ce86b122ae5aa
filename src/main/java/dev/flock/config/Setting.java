package dev.flock.config;

import java.util.List;

/**
 * One configuration setting: its JSON key, its environment variable, its type and range, its default.
 * The single table of settings lives in {@link Settings}; the README's table mirrors it.
 */
public record Setting(String key, String env, Kind kind, Object defaultValue, long min, long max,
                      List<String> choices, String meaning) {

    /** How a raw value is read and checked. */
    public enum Kind { INT, BOOL, STRING, SECRET, CHOICE, LIST }

    static Setting integer(String key, String env, long def, long min, long max, String meaning) {
        return new Setting(key, env, Kind.INT, def, min, max, List.of(), meaning);
    }

    static Setting bool(String key, String env, boolean def, String meaning) {
        return new Setting(key, env, Kind.BOOL, def, 0, 0, List.of(), meaning);
    }

    static Setting string(String key, String env, String def, String meaning) {
        return new Setting(key, env, Kind.STRING, def, 0, 0, List.of(), meaning);
    }

    /** A string that must never be logged. */
    static Setting secret(String key, String env, String meaning) {
        return new Setting(key, env, Kind.SECRET, null, 0, 0, List.of(), meaning);
    }

    static Setting choice(String key, String env, String def, List<String> choices, String meaning) {
        return new Setting(key, env, Kind.CHOICE, def, 0, 0, choices, meaning);
    }

    /** Comma-separated in the environment, a JSON array (or comma-separated string) in the file. */
    static Setting list(String key, String env, String meaning) {
        return new Setting(key, env, Kind.LIST, List.of(), 0, 0, List.of(), meaning);
    }
}
