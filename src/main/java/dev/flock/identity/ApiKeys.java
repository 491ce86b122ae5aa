package dev.flock.identity;

import dev.flock.security.Secrets;
import io.vertx.core.MultiMap;

import java.security.MessageDigest;
import java.util.List;
import java.util.Map;

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
    public boolean refusesUpgrade(String upgradeKey) {
        return required() && upgradeKey != null && !accepts(upgradeKey);
    }

    /** A valid key at the upgrade admits every join on that socket, whatever the join's own field says. */
    public boolean admitsUpgrade(String upgradeKey) {
        return required() && accepts(upgradeKey);
    }

    /** The upgrade's key: the {@code X-Flock-Api-Key} header, else the {@code apiKey} query parameter; null if none. */
    static String upgradeKey(MultiMap headers, Map<String, List<String>> query) {
        String header = headers.get(HEADER);
        if (header != null && !header.isEmpty()) {
            return header;
        }
        List<String> values = query.get(PARAM);
        return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
    }

}
