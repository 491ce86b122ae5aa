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
        if (uri.getScheme() == null || uri.getHost() == null) {
            return MASK + " (not an absolute URL)";
        }
        StringBuilder out = new StringBuilder(uri.getScheme()).append("://");
        if (uri.getRawUserInfo() != null) {
            out.append(MASK).append('@');
        }
        out.append(uri.getHost());
        if (uri.getPort() >= 0) {
            out.append(':').append(uri.getPort());
        }
        boolean more = (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null || uri.getRawFragment() != null;
        return more ? out.append('/').append(MASK).toString() : out.toString();
    }
}
