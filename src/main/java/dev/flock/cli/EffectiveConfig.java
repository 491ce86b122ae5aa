package dev.flock.cli;

import dev.flock.config.RedisUrl;
import dev.flock.config.Setting;
import dev.flock.config.Settings;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@code --check-config} prints: every setting's effective value and where it came from, with every secret
 * masked. The output is meant to be pasted into a ticket, so nothing in it may be a credential: SECRET settings,
 * API keys, the Redis password and any password in a URL show as {@code ***}.
 */
final class EffectiveConfig {

    static final String MASK = "***";
    /** LIST settings whose entries are credentials, though the table types them as lists. */
    private static final Set<Setting> CREDENTIAL_LISTS = Set.of(Settings.API_KEYS, Settings.SERVER_API_KEY);
    private static final Pattern URL_PASSWORD = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@?#]*)@");

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
            return "[" + String.join(", ", list.stream().map(v -> maskUrlPassword(String.valueOf(v))).toList()) + "]";
        }
        return maskUrlPassword(String.valueOf(value));
    }

    /** {@code https://user:pw@host/...} (a webhook or collector URL may carry basic-auth) shows {@code user:***@}. */
    static String maskUrlPassword(String text) {
        var m = URL_PASSWORD.matcher(text);
        if (!m.find()) {
            return text;
        }
        String userInfo = m.group(2);
        int colon = userInfo.indexOf(':');
        String user = colon < 0 ? MASK : userInfo.substring(0, colon) + ":" + MASK;
        return m.group(1) + user + "@" + text.substring(m.end());
    }
}
