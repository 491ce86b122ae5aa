package dev.flock.bench;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/** Parses --url lists and refuses anything that is not loopback: the generator must never load a real host. */
final class LoopbackUrls {
    private LoopbackUrls() {
    }

    static List<URI> parse(String commaSeparated) {
        List<URI> urls = new ArrayList<>();
        for (String raw : commaSeparated.split(",")) {
            String s = raw.trim();
            if (s.isEmpty()) {
                continue;
            }
            URI uri;
            try {
                uri = new URI(s);
            } catch (URISyntaxException e) {
                throw Args.fail("bad --url " + s + ": " + e.getMessage());
            }
            if (!"ws".equals(uri.getScheme())) {
                throw Args.fail("--url must be ws://host:port/path (loopback, no TLS): " + s);
            }
            if (uri.getHost() == null || !isLoopback(uri.getHost())) {
                throw Args.fail("refusing non-loopback --url " + s + " (only 127.0.0.0/8, ::1 and localhost)");
            }
            urls.add(uri);
        }
        if (urls.isEmpty()) {
            throw Args.fail("--url is empty");
        }
        return urls;
    }

    /** Literal check only, no DNS lookup: a name other than localhost could resolve anywhere. */
    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")) {
            return true;
        }
        String[] parts = h.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    static int port(URI uri) {
        return uri.getPort() > 0 ? uri.getPort() : 80;
    }

    static String path(URI uri) {
        String p = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? p : p + "?" + uri.getRawQuery();
    }

    static String host(URI uri) {
        String h = uri.getHost();
        return h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
    }
}
