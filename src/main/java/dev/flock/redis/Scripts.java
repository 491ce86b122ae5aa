package dev.flock.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Collectors;

import dev.flock.protocol.WebhookEventType;

/**
 * The Lua scripts behind every shared-presence decision. Each runs atomically in Redis, so a decision ("admit
 * the last free seat", "this was the user's last connection") is taken once for the whole cluster. They compute
 * key names from the ids (ARGV[1] is the room id as encoded for keys; KEYS[1], the room's members key, is what a
 * Redis Cluster routes them by) and use Redis' own clock, so instances with skewed clocks agree on expiry. One text
 * for every layout: its first line says which ({@link KeyLayout#scriptHeader}).
 *
 * <p>A user is alive while their connections set holds an unexpired entry, or while their presence hash exists
 * (an original Node instance writes no connections set).
 *
 * <p>The scripts live in {@code src/main/resources/dev/flock/redis/<name>.lua}, each opening with a comment
 * header that documents its ARGV and return value; {@code prelude.lua} holds the helpers every script starts
 * with. They are read once, at class initialisation: a script's text is the prelude followed by its body, each
 * without its header (so the text sent to Redis, and its SHA1, carry no documentation), after two generated lines that
 * say which key layout the scripts use (prelude.lua's CLUSTER) and which webhook events they record and how long the
 * outbox may grow (HOOKS and HOOK_MAX): a server with other settings sends other texts, with other SHA1s.
 */
record Scripts(KeyLayout layout, Script admit, Script admitFirst, Script remove, Script sweep, Script due, Script refresh, Script snapshot,
               Script merge, Script grace, Script takeover, Script roomsOf) {

    /** A script's text and its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
    record Script(String name, String text, String sha) {
    }

    private static final String PRELUDE = body("prelude");

    /** The scripts of the original layout recording no webhook event (webhooks off). */
    static final Scripts WITHOUT_EVENTS = recording(Set.of(), 1);

    /**
     * The scripts, recording the events of {@code events} in the outbox stream, which keeps at most {@code maxPending}
     * entries. See admit.lua, admit-first.lua, remove.lua, sweep.lua, due.lua, refresh.lua, snapshot.lua, merge.lua, grace.lua,
     * takeover.lua and rooms-of.lua for what each does.
     */
    static Scripts recording(Set<WebhookEventType> events, int maxPending) {
        return of(KeyLayout.ORIGINAL, events, maxPending);
    }

    /** As {@link #recording}, in {@code layout} (a cluster's scripts record each event in the room's own stream). */
    static Scripts of(KeyLayout layout, Set<WebhookEventType> events, int maxPending) {
        String hooks = events.stream().map(t -> "['" + t.wire() + "']=true").sorted().collect(Collectors.joining(", "));
        String header = layout.scriptHeader() + "local HOOKS, HOOK_MAX = {" + hooks + "}, " + Math.max(1, maxPending) + "\n";
        return new Scripts(layout, script(header, "admit"), admitFirst(header), script(header, "remove"), script(header, "sweep"), script(header, "due"),
                script(header, "refresh"), script(header, "snapshot"), script(header, "merge"), script(header, "grace"),
                script(header, "takeover"), script(header, "rooms-of"));
    }

    java.util.List<Script> all() {
        return java.util.List.of(admit, admitFirst, remove, sweep, due, refresh, snapshot, merge, grace, takeover, roomsOf);
    }

    private static Script script(String header, String name) {
        return named(name, header + PRELUDE + body(name));
    }

    /**
     * admit-first.lua: the snapshot and the admission, each script's own body wrapped in a function (their
     * {@code return}s then end the function, not the script), so the two decisions stay written once.
     */
    private static Script admitFirst(String header) {
        return named("admit-first", header + PRELUDE + "local function view()\n" + body("snapshot") + "\nend\n"
                + "local function decide()\n" + body("admit") + "\nend\n" + body("admit-first"));
    }

    private static Script named(String name, String text) {
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
