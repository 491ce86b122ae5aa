package dev.flock.config;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * A URL as it may be shown in {@code --check-config} output and error messages: scheme, host and port only. Webhook and
 * collector URLs keep their credentials in the user info, the path (Slack's {@code /services/T0/B0/<token>}) or the
 * query ({@code ?token=}), so all three are replaced by {@code ***}.
 */
public final class ShownUrl {

    private static final String MASK = "***";

    private ShownUrl() {
    }

    public static String of(String raw) {
        URI uri;
        try {
            uri = new URI(raw.trim());
        } catch (URISyntaxException e) {
            return MASK + " (not a URL)";
        }
        String authority = uri.getRawAuthority();
        if (uri.getScheme() == null || authority == null) {
            return MASK + " (not an absolute URL)";
        }
        StringBuilder out = new StringBuilder(uri.getScheme()).append("://");
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            out.append(MASK).append('@');
        }
        // the raw authority, not getHost(): java.net.URI gives no host for a name with '_' (a Compose service)
        out.append(authority.substring(at + 1));
        boolean more = (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null || uri.getRawFragment() != null;
        return more ? out.append('/').append(MASK).toString() : out.toString();
    }
}
