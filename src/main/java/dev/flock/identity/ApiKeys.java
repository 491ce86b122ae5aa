package dev.flock.identity;

import dev.flock.security.Secrets;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;

import java.security.MessageDigest;
import java.util.List;

/** The accepted API keys, compared in constant time (over SHA-256 digests, so lengths leak nothing). */
public final class ApiKeys {

    public static final String HEADER = "X-Flock-Api-Key";
    public static final String PARAM = "apiKey";

    private final List<byte[]> digests;

    public ApiKeys(List<String> keys) {
        this.digests = keys.stream().map(Secrets::sha256).toList();
    }

    public boolean required() {
        return !digests.isEmpty();
    }

    public boolean accepts(String candidate) {
        if (candidate == null) {
            return false;
        }
        byte[] d = Secrets.sha256(candidate);
        boolean ok = false;
        for (byte[] known : digests) {
            ok |= MessageDigest.isEqual(known, d); // no early exit: every key is compared
        }
        return ok;
    }

    /** A wrong key at the upgrade: refused with 401 before any socket exists (the SDK then backs off). */
    public boolean refusesUpgrade(MultiMap headers, String query) {
        String key = upgradeKey(headers, query);
        return required() && key != null && !accepts(key);
    }

    /** A valid key at the upgrade admits every join on that socket, whatever the join's own field says. */
    public boolean admitsUpgrade(MultiMap headers, String query) {
        return required() && accepts(upgradeKey(headers, query));
    }

    /** The upgrade's key: the {@code X-Flock-Api-Key} header, else the {@code apiKey} query parameter. */
    static String upgradeKey(MultiMap headers, String query) {
        String header = headers.get(HEADER);
        if (header != null && !header.isEmpty()) {
            return header;
        }
        if (query == null || query.isEmpty()) {
            return null;
        }
        List<String> values = new QueryStringDecoder(query, false).parameters().get(PARAM);
        return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
    }

}
