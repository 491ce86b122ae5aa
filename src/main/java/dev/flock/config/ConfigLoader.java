package dev.flock.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Layers the configuration: built-in defaults &lt; the {@code --conf} JSON file &lt; {@code FLOCK_*}
 * environment variables. Any bad value stops start-up with a {@link ConfigException} naming the setting:
 * never a silent fallback to a default.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /** Reads {@code --conf <file>} (or {@code --conf=<file>}) from the command line, then layers. */
    public static FlockConfig load(String[] args, Map<String, String> env) {
        JsonObject file = new JsonObject();
        String path = confPath(args);
        if (path != null) {
            file = readConfFile(Path.of(path));
        }
        return load(file, env);
    }

    /** Layers a JSON object (as if read from a file) and environment variables over the defaults. */
    public static FlockConfig load(JsonObject file, Map<String, String> env) {
        return build(values(file, env));
    }

    /** The configuration of {@link #values}, with the cross-setting checks: layering once serves both. */
    public static FlockConfig build(Map<Setting, Object> values) {
        return FlockConfig.from(values);
    }

    /**
     * Every setting's layered, checked value (what {@link FlockConfig} is built from), for {@code --check-config}.
     * The cross-setting checks are not run here: {@link #build(Map)} runs them ({@link #load(JsonObject, Map)} does both).
     */
    public static Map<Setting, Object> values(JsonObject file, Map<String, String> env) {
        rejectUnknownKeys(file);
        Map<Setting, Object> values = new HashMap<>();
        for (Setting s : Settings.ALL) {
            Object value = s.defaultValue();
            if (file.containsKey(s.key()) && file.getValue(s.key()) != null) {
                value = fromJson(s, file.getValue(s.key()));
            }
            String raw = env.get(s.env());
            if (raw != null && !raw.isBlank()) {
                value = fromText(s, raw.trim(), s.env());
            }
            values.put(s, value);
        }
        checkRedisUrl((String) values.get(Settings.REDIS_URL));
        values.put(Settings.JWT_PUBLIC_KEYS, publicKeysPem((String) values.get(Settings.JWT_PUBLIC_KEYS)));
        return values;
    }

    /**
     * {@code FLOCK_*} variables that are no setting (a typo such as {@code FLOCK_MAX_ROOMSIZE}): one warning each,
     * naming the closest setting. They do not stop start-up: the environment is shared with other tools.
     */
    public static List<String> unknownVariables(Map<String, String> env) {
        List<String> warnings = new ArrayList<>();
        env.keySet().stream().filter(k -> k.startsWith("FLOCK_")).sorted().forEach(k -> {
            if (Settings.ALL.stream().noneMatch(s -> s.env().equals(k)) && !NOT_SETTINGS.contains(k)) {
                String closest = closest(k, Settings.ALL.stream().map(Setting::env).toList());
                warnings.add("environment variable " + k + " is not a Flock setting and is ignored"
                        + (closest == null ? " (flock --help lists them)" : "; did you mean " + closest + "?"));
            }
        });
        return warnings;
    }

    /**
     * FLOCK_* variables of our own tools, not of the server, that an operator's shell may export: the bench
     * scripts' ports ({@code bench/run-fanout.sh}, {@code run-capacity.sh}, {@code run-heap-histo.sh}) and the
     * browser tests' Chromium path ({@code BrowserIT}).
     */
    static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("FLOCK_BENCH_PORT", "FLOCK_CAPACITY_PORT", "FLOCK_CHROMIUM");

    /** The candidate nearest by edit distance, when near enough to be a plausible typo (a third of its length). */
    public static String closest(String name, List<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = editDistance(name, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(2, best.length() / 3) ? best : null;
    }

    /** Levenshtein distance, two rows. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static String confPath(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--conf") || a.equals("-conf")) {
                if (i + 1 >= args.length) {
                    throw new ConfigException("--conf needs a file path");
                }
                return args[i + 1];
            }
            if (a.startsWith("--conf=")) {
                return a.substring("--conf=".length());
            }
        }
        return null;
    }

    /** The {@code --conf} file as a JSON object, or a {@link ConfigException} naming the file and the problem. */
    public static JsonObject readConfFile(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException | SecurityException e) {
            throw new ConfigException("config file " + path + " cannot be read: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
        try {
            return new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            throw new ConfigException("config file " + path + " is not a JSON object: " + where(e));
        }
    }

    private static void rejectUnknownKeys(JsonObject file) {
        for (String key : file.fieldNames()) {
            if (key.startsWith("$") || key.startsWith("_")) {
                continue; // room for "$schema" and "_comment" in documented files
            }
            if (Settings.ALL.stream().noneMatch(s -> s.key().equals(key))) {
                throw new ConfigException("config key \"" + key + "\" is unknown (known keys: "
                        + String.join(", ", Settings.ALL.stream().map(Setting::key).toList()) + ")");
            }
        }
    }

    private static Object fromJson(Setting s, Object v) {
        String name = "config key \"" + s.key() + "\"";
        switch (s.kind()) {
            case INT -> {
                if (v instanceof Number n && (n instanceof Integer || n instanceof Long
                        || n.doubleValue() == Math.rint(n.doubleValue()))) {
                    return checkRange(s, n.longValue(), name);
                }
                throw new ConfigException(name + " must be an integer " + range(s) + ", got " + v);
            }
            case BOOL -> {
                if (v instanceof Boolean b) {
                    return b;
                }
                throw new ConfigException(name + " must be true or false, got " + v);
            }
            case LIST -> {
                if (v instanceof JsonArray a) {
                    List<String> out = new ArrayList<>();
                    for (Object o : a) {
                        if (!(o instanceof String str)) {
                            throw new ConfigException(name + " must be an array of strings");
                        }
                        if (!str.isBlank()) {
                            out.add(str.trim());
                        }
                    }
                    return List.copyOf(out);
                }
                if (v instanceof String str) {
                    return fromText(s, str, name);
                }
                throw new ConfigException(name + " must be an array of strings");
            }
            default -> {
                if (v instanceof String str) {
                    return str.isBlank() ? s.defaultValue() : fromText(s, str.trim(), name);
                }
                // never the value, only its JSON type: a mistyped secret or URL (webhook, collector) may hold a key
                throw new ConfigException(name + " must be a string, got " + jsonType(v));
            }
        }
    }

    private static Object fromText(Setting s, String raw, String name) {
        return switch (s.kind()) {
            case INT -> {
                long n;
                try {
                    n = Long.parseLong(raw);
                } catch (NumberFormatException e) {
                    throw new ConfigException(name + "=\"" + raw + "\" is not an integer " + range(s));
                }
                yield checkRange(s, n, name);
            }
            case BOOL -> switch (raw.toLowerCase(Locale.ROOT)) {
                case "true", "1", "yes", "on" -> true;
                case "false", "0", "no", "off" -> false;
                default -> throw new ConfigException(name + "=\"" + raw + "\" must be true or false");
            };
            case CHOICE -> {
                String lower = raw.toLowerCase(Locale.ROOT);
                if (!s.choices().contains(lower)) {
                    throw new ConfigException(name + "=\"" + raw + "\" must be one of " + String.join(", ", s.choices()));
                }
                yield lower;
            }
            case LIST -> List.copyOf(Arrays.stream(raw.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList());
            case STRING, SECRET -> raw;
        };
    }

    /**
     * {@code FLOCK_JWT_PUBLIC_KEYS} holds PEM text, or (since PEM in an environment variable is awkward in some
     * deploy tools) the path of a file that does. Literal {@code \n} sequences count as newlines.
     */
    private static String publicKeysPem(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String pem = value.replace("\\n", "\n");
        if (pem.contains("-----BEGIN")) {
            return pem;
        }
        try {
            String text = Files.readString(Path.of(value.trim()));
            if (!text.contains("-----BEGIN")) {
                throw new ConfigException("FLOCK_JWT_PUBLIC_KEYS names the file " + value.trim() + ", which holds no PEM block");
            }
            return text;
        } catch (IOException | SecurityException | java.nio.file.InvalidPathException e) {
            throw new ConfigException("FLOCK_JWT_PUBLIC_KEYS is neither PEM text (-----BEGIN PUBLIC KEY-----) nor a readable file: "
                    + e.getClass().getSimpleName());
        }
    }

    /** A Redis URL that can never connect is a configuration error, not a degraded start. Never echoes it (secrets). */
    private static void checkRedisUrl(String url) {
        if (url != null && !url.isBlank()) {
            RedisUrl.parse(url);
        }
    }

    private static long checkRange(Setting s, long n, String name) {
        if (n < s.min() || n > s.max()) {
            throw new ConfigException(name + "=" + n + " is out of range " + range(s));
        }
        return n;
    }

    private static String range(Setting s) {
        return "(" + s.min() + ".." + s.max() + ")";
    }

    /**
     * Where the JSON is broken, not what is there: the parser's message quotes the offending token, which may be a
     * password written without its quotes.
     */
    private static String where(RuntimeException e) {
        if (e.getCause() instanceof com.fasterxml.jackson.core.JsonProcessingException jpe && jpe.getLocation() != null) {
            return "invalid JSON at line " + jpe.getLocation().getLineNr() + ", column " + jpe.getLocation().getColumnNr();
        }
        return e instanceof ClassCastException ? "the top level is not an object" : "invalid JSON";
    }

    private static String jsonType(Object v) {
        if (v instanceof Number) {
            return "a number";
        }
        if (v instanceof Boolean) {
            return "a boolean";
        }
        return v instanceof JsonArray ? "an array" : "an object";
    }
}
