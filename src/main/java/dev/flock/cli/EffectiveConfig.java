package dev.flock.cli;

import dev.flock.config.RedisUrl;
import dev.flock.config.ShownUrl;
import dev.flock.config.Setting;
import dev.flock.config.Settings;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code --check-config} prints: every setting's effective value and where it came from, with every secret
 * masked. The output is meant to be pasted into a ticket, so nothing in it may be a credential: SECRET settings,
 * API keys, the Redis password and any password in a URL show as {@code ***}.
 */
final class EffectiveConfig {

    static final String MASK = "***";
    /** LIST settings whose entries are credentials, though the table types them as lists. */
    private static final Set<Setting> CREDENTIAL_LISTS = Set.of(Settings.API_KEYS, Settings.SERVER_API_KEY);
    private static final java.util.Set<Setting> URL_SETTINGS = java.util.Set.of(Settings.WEBHOOK_URL, Settings.OTLP_ENDPOINT);

    private EffectiveConfig() {
    }

    static String text(Path conf, JsonObject file, Map<String, String> env, Map<Setting, Object> values) {
        StringBuilder b = new StringBuilder();
        b.append("flock: configuration is valid (defaults < ")
                .append(conf == null ? "no --conf file" : "--conf " + conf).append(" < environment)\n");
        int width = Settings.ALL.stream().mapToInt(s -> s.env().length()).max().orElse(0);
        for (Setting s : Settings.ALL) {
            b.append(String.format("%-" + width + "s  %s = %s  (%s)%n", s.env(), s.key(), shown(s, values.get(s)),
                    source(s, file, env)));
        }
        return b.toString();
    }

    static String source(Setting s, JsonObject file, Map<String, String> env) {
        String raw = env.get(s.env());
        if (raw != null && !raw.isBlank()) {
            return "environment";
        }
        return file.getValue(s.key()) != null ? "conf file" : "default";
    }

    static String shown(Setting s, Object value) {
        if (value == null) {
            return "unset";
        }
        if (s == Settings.REDIS_URL) {
            return RedisUrl.parse((String) value).masked();
        }
        if (s.kind() == Setting.Kind.SECRET) {
            return MASK;
        }
        if (value instanceof List<?> list) {
            if (list.isEmpty()) {
                return "[]";
            }
            if (CREDENTIAL_LISTS.contains(s)) {
                return MASK + " (" + list.size() + (list.size() == 1 ? " key)" : " keys)");
            }
            return "[" + String.join(", ", list.stream().map(v -> shownText(s, String.valueOf(v))).toList()) + "]";
        }
        return shownText(s, String.valueOf(value));
    }

    /** URL-valued settings (webhook URLs, the OTLP endpoint) may hold credentials anywhere but in scheme, host and port. */
    private static String shownText(Setting s, String text) {
        return URL_SETTINGS.contains(s) ? ShownUrl.of(text) : text;
    }

}
