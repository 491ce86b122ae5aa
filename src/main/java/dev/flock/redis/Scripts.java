package dev.flock.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts behind every shared-presence decision. Each runs atomically in Redis, so a decision ("admit
 * the last free seat", "this was the user's last connection") is taken once for the whole cluster. They compute
 * key names from the ids (ARGV[1] is the room id as encoded for keys) and use Redis' own clock, so instances
 * with skewed clocks agree on expiry. Standalone Redis (or a primary with replicas); not Redis Cluster.
 *
 * <p>A user is alive while their connections set holds an unexpired entry, or while their presence hash exists
 * (an original Node instance writes no connections set).
 *
 * <p>The scripts live in {@code src/main/resources/dev/flock/redis/<name>.lua}, each opening with a comment
 * header that documents its ARGV and return value; {@code prelude.lua} holds the helpers every script starts
 * with. They are read once, at class initialisation: a script's text is the prelude followed by its body, each
 * without its header (so the text sent to Redis, and its SHA1, carry no documentation).
 */
final class Scripts {

    /** A script's text and its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
    record Script(String name, String text, String sha) {
    }

    private static final String PRELUDE = body("prelude");

    /** See admit.lua: join, share or replace a user's presence, within the room limit. */
    static final Script ADMIT = script("admit");

    /** See remove.lua: remove one connection; 1 when the user is present nowhere any more. */
    static final Script REMOVE = script("remove");

    /** See sweep.lua: remove the members (or the one given) that are no longer alive. */
    static final Script SWEEP = script("sweep");

    /** See due.lua: claim rooms of the room index whose every connection expired. */
    static final Script DUE = script("due");

    /** See refresh.lua: extend active connections (or re-create them on rewrite) and write cursors. */
    static final Script REFRESH = script("refresh");

    /** See snapshot.lua: the live members with metadata and cursor. */
    static final Script SNAPSHOT = script("snapshot");

    /** See merge.lua: compare-and-set of a user's metadata. */
    static final Script MERGE = script("merge");

    /** See grace.lua: keep a connection that ended without a goodbye for the reconnect grace only. */
    static final Script GRACE = script("grace");

    /** See takeover.lua: evict mode, whether our connections are still held and whether a publisher is ours. */
    static final Script TAKEOVER = script("takeover");

    private Scripts() {
    }

    private static Script script(String name) {
        String text = PRELUDE + body(name);
        try {
            byte[] sha = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            return new Script(name, text, HexFormat.of().formatHex(sha));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The script file {@code <name>.lua} next to this class, without its header (leading comment and blank lines). */
    static String body(String name) {
        String file = read(name + ".lua");
        int start = 0;
        while (start < file.length()) {
            int end = file.indexOf('\n', start);
            String line = end < 0 ? file.substring(start) : file.substring(start, end);
            if (!line.startsWith("--") && !line.isBlank()) {
                break;
            }
            start = end < 0 ? file.length() : end + 1;
        }
        return file.substring(start);
    }

    /** A resource of this package as UTF-8 text; an IllegalStateException naming it when absent or unreadable. */
    static String read(String file) {
        String resource = "/dev/flock/redis/" + file;
        try (InputStream in = Scripts.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Lua script resource " + resource + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read Lua script resource " + resource, e);
        }
    }
}
