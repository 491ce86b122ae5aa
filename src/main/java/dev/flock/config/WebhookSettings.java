package dev.flock.config;

import dev.flock.protocol.WebhookEventType;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where and how presence webhooks go (issue 19). Unusable settings stop start-up with one line
 * ({@link ConfigException}): a URL that is not absolute http(s), a URL without {@code FLOCK_WEBHOOK_SECRET}, an
 * unknown event type.
 *
 * @param urls          {@code FLOCK_WEBHOOK_URL}; empty = no webhooks
 * @param secret        {@code FLOCK_WEBHOOK_SECRET}, the HMAC-SHA256 key of {@code X-Flock-Signature}
 * @param events        {@code FLOCK_WEBHOOK_EVENTS}
 * @param leaderLeaseMs Redis mode: how long the delivering instance's lease lasts without a renewal
 */
public record WebhookSettings(List<URI> urls, String secret, Set<WebhookEventType> events, int batchMs, int maxAgeSeconds,
                              int maxPending, int leaderLeaseMs) {

    /** Shorter secrets are refused: the signature is only as strong as its key. */
    public static final int MIN_SECRET_BYTES = 16;

    public WebhookSettings {
        urls = List.copyOf(urls);
        events = Set.copyOf(events);
    }

    public boolean enabled() {
        return !urls.isEmpty();
    }

    /** The events the store records: none without a URL. */
    public Set<WebhookEventType> recorded() {
        return enabled() ? events : Set.of();
    }

    static WebhookSettings of(List<String> rawUrls, String secret, String rawEvents, int batchMs, int maxAgeSeconds,
                              int maxPending, int leaderLeaseMs) {
        List<URI> urls = rawUrls.stream().map(WebhookSettings::url).toList();
        if (!urls.isEmpty() && (secret == null || secret.isEmpty())) {
            throw new ConfigException("FLOCK_WEBHOOK_URL needs FLOCK_WEBHOOK_SECRET to sign the requests with;"
                    + " generate one with: openssl rand -hex 32");
        }
        if (secret != null && !secret.isEmpty()
                && secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
            throw new ConfigException("FLOCK_WEBHOOK_SECRET must be at least " + MIN_SECRET_BYTES
                    + " bytes; generate one with: openssl rand -hex 32");
        }
        return new WebhookSettings(urls, secret, events(rawEvents), batchMs, maxAgeSeconds, maxPending, leaderLeaseMs);
    }

    private static URI url(String raw) {
        try {
            URI uri = new URI(raw.trim());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getHost().isEmpty()) {
                throw new ConfigException("FLOCK_WEBHOOK_URL: " + ShownUrl.of(raw) + " is not an absolute http:// or https:// URL");
            }
            return uri;
        } catch (URISyntaxException e) {
            // never the text itself: a webhook URL holds its credentials (user info, path token, query)
            throw new ConfigException("FLOCK_WEBHOOK_URL: an entry is not a URL (" + e.getReason() + ", at index " + e.getIndex() + ")");
        }
    }

    private static Set<WebhookEventType> events(String raw) {
        Set<WebhookEventType> out = EnumSet.noneOf(WebhookEventType.class);
        for (String name : raw.split(",")) {
            String n = name.trim();
            if (n.isEmpty()) {
                continue;
            }
            WebhookEventType t = WebhookEventType.of(n);
            if (t == null) {
                throw new ConfigException("FLOCK_WEBHOOK_EVENTS: unknown event \"" + n + "\"; known: room.occupied,"
                        + " room.vacated, user.joined, user.left, presence.updated");
            }
            out.add(t);
        }
        if (out.isEmpty()) {
            throw new ConfigException("FLOCK_WEBHOOK_EVENTS lists no event; leave it unset for the default");
        }
        return out;
    }
}
