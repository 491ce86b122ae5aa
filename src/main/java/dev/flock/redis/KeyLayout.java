package dev.flock.redis;

import io.vertx.redis.client.Command;

/**
 * Where a room's keys and channel live. Two layouts (issue 23), chosen by the URL's kind:
 * <ul>
 *   <li>{@link #ORIGINAL}: the original server's ({@link Keys}), for one Redis and for Sentinel; byte-compatible with
 *   original Node instances sharing the Redis;</li>
 *   <li>{@link #CLUSTER}: every key of a room behind the hash tag {@code {<roomId>}} ({@code flock:{<roomId>}:members},
 *   {@code :presence:<userId>}, {@code :cursor:<userId>}, {@code :conns:<userId>}), so a room's keys share one hash
 *   slot and each script stays one atomic step on one node, and the room's channel {@code flock:{<roomId>}:broadcast}
 *   in that slot too, for sharded pub/sub ({@code SPUBLISH}/{@code SSUBSCRIBE}). Inside the tag the room id is
 *   escaped as in keys today ({@code :} and {@code %}), and also {@code {} and {@code }}, so the tag always ends
 *   where the room id does.</li>
 * </ul>
 * The scripts compute the same names from the room as this class gives for keys ({@link #roomArg}); the header line
 * of {@link Scripts} tells them which layout to use.
 */
public abstract sealed class KeyLayout {

    public static final KeyLayout ORIGINAL = new Original();
    public static final KeyLayout CLUSTER = new Cluster();

    private KeyLayout() {
    }

    /** The room id as it appears inside keys (ARGV[1] of every script). */
    public abstract String roomArg(String roomId);

    /** The room id of {@link #roomArg}'s form. */
    public abstract String decodeRoom(String encoded);

    public abstract String members(String roomId);

    public abstract String presence(String roomId, String userId);

    public abstract String cursor(String roomId, String userId);

    public abstract String connections(String roomId, String userId);

    /** The room's pub/sub channel. */
    public abstract String channel(String roomId);

    /** The room of a room channel; null for any other channel. */
    public abstract String roomOfChannel(String channel);

    /** The SCAN pattern matching every members key. */
    public abstract String membersPattern();

    /** The room of a members key; null for any other key (and for keys of the original's we cannot address). */
    public abstract String roomOfMembersKey(String key);

    /** (roomId, userId) of an expired presence or connections key of ours, or null for any other key. */
    public abstract String[] roomAndUser(String key);

    /** Whether {@code key} is a presence hash (every user's, the original's too) rather than our connections set. */
    public abstract boolean isPresence(String key);

    /** The fleet's webhook outbox stream (the cluster's: {@code flock:{webhooks}}, its other keys in its slot). */
    public abstract String webhooks();

    public abstract String webhooksLeader();

    public abstract String webhooksLastFailure();

    /**
     * Cluster: the room's own stream {@code flock:{<roomId>}:webhooks}, where its scripts record their events (the
     * outbox is in another slot) until {@link WebhookRelay} moves them to the outbox; null in the original layout,
     * where the scripts append to the outbox itself.
     */
    public abstract String roomWebhooks(String roomId);

    /** PUBLISH, or SPUBLISH for sharded pub/sub. */
    public abstract Command publish();

    /** The first line of every script's text: which layout the prelude computes key names in. */
    abstract String scriptHeader();

    /**
     * Whether the scripts keep the room index {@code flock:rooms} (the original layout), which the crash-leftover sweep
     * claims rooms from; a cluster has none (it would be one key in one slot that every room's scripts write).
     */
    public abstract boolean hasRoomIndex();

    /** The layout of a URL's kind. */
    static KeyLayout of(dev.flock.config.RedisUrl.Kind kind) {
        return kind == dev.flock.config.RedisUrl.Kind.CLUSTER ? CLUSTER : ORIGINAL;
    }

    private static final class Original extends KeyLayout {

        @Override
        public String roomArg(String roomId) {
            return Keys.encode(roomId);
        }

        @Override
        public String decodeRoom(String encoded) {
            return Keys.decode(encoded);
        }

        @Override
        public String members(String roomId) {
            return Keys.members(roomId);
        }

        @Override
        public String presence(String roomId, String userId) {
            return Keys.presence(roomId, userId);
        }

        @Override
        public String cursor(String roomId, String userId) {
            return Keys.cursor(roomId, userId);
        }

        @Override
        public String connections(String roomId, String userId) {
            return Keys.connections(roomId, userId);
        }

        @Override
        public String channel(String roomId) {
            return Keys.channel(roomId);
        }

        @Override
        public String roomOfChannel(String channel) {
            return channel.startsWith(Keys.CHANNEL) ? channel.substring(Keys.CHANNEL.length()) : null;
        }

        @Override
        public String membersPattern() {
            return Keys.ROOM + "*" + Keys.MEMBERS_SUFFIX;
        }

        @Override
        public String roomOfMembersKey(String key) {
            return Keys.roomOfMembersKey(key);
        }

        @Override
        public String[] roomAndUser(String key) {
            return Keys.roomAndUser(key);
        }

        @Override
        public boolean isPresence(String key) {
            return key.startsWith(Keys.PRESENCE);
        }

        @Override
        public String webhooks() {
            return Keys.WEBHOOKS;
        }

        @Override
        public String webhooksLeader() {
            return Keys.WEBHOOKS_LEADER;
        }

        @Override
        public String webhooksLastFailure() {
            return Keys.WEBHOOKS_LAST_FAILURE;
        }

        @Override
        public String roomWebhooks(String roomId) {
            return null;
        }

        @Override
        public Command publish() {
            return Command.PUBLISH;
        }

        @Override
        String scriptHeader() {
            return "local CLUSTER = false\n";
        }

        @Override
        public boolean hasRoomIndex() {
            return true;
        }
    }

    /** {@code flock:{<room>}:…}; see the class comment. */
    private static final class Cluster extends KeyLayout {

        private static final String PREFIX = "flock:{";
        private static final String MEMBERS = "}:members";
        private static final String PRESENCE = "}:presence:";
        private static final String CONNECTIONS = "}:conns:";
        private static final String BROADCAST = "}:broadcast";
        private static final String ROOM_WEBHOOKS = "}:webhooks";
        /** The outbox and its keys share one hash tag, so the relay script and the lease script each touch one slot. */
        static final String OUTBOX = "flock:{webhooks}";

        @Override
        public String roomArg(String roomId) {
            if (roomId.indexOf(':') < 0 && roomId.indexOf('%') < 0 && roomId.indexOf('{') < 0 && roomId.indexOf('}') < 0) {
                return roomId;
            }
            return roomId.replace("%", "%25").replace(":", "%3A").replace("{", "%7B").replace("}", "%7D");
        }

        @Override
        public String decodeRoom(String encoded) {
            if (encoded.indexOf('%') < 0) {
                return encoded;
            }
            return encoded.replace("%3A", ":").replace("%3a", ":").replace("%7B", "{").replace("%7b", "{")
                    .replace("%7D", "}").replace("%7d", "}").replace("%25", "%");
        }

        private String tag(String roomId) {
            return PREFIX + roomArg(roomId);
        }

        @Override
        public String members(String roomId) {
            return tag(roomId) + MEMBERS;
        }

        @Override
        public String presence(String roomId, String userId) {
            return tag(roomId) + PRESENCE + Keys.encode(userId);
        }

        @Override
        public String cursor(String roomId, String userId) {
            return tag(roomId) + "}:cursor:" + Keys.encode(userId);
        }

        @Override
        public String connections(String roomId, String userId) {
            return tag(roomId) + CONNECTIONS + Keys.encode(userId);
        }

        @Override
        public String channel(String roomId) {
            return tag(roomId) + BROADCAST;
        }

        @Override
        public String roomOfChannel(String channel) {
            return between(channel, BROADCAST);
        }

        @Override
        public String membersPattern() {
            return "flock:{*}:members";
        }

        @Override
        public String roomOfMembersKey(String key) {
            return between(key, MEMBERS);
        }

        /** The room of {@code flock:{<room>}<suffix>}, or null. */
        private String between(String s, String suffix) {
            if (!s.startsWith(PREFIX) || !s.endsWith(suffix) || s.length() <= PREFIX.length() + suffix.length()) {
                return null;
            }
            String encoded = s.substring(PREFIX.length(), s.length() - suffix.length());
            return encoded.indexOf('}') >= 0 || encoded.indexOf('{') >= 0 ? null : decodeRoom(encoded);
        }

        @Override
        public String[] roomAndUser(String key) {
            if (!key.startsWith(PREFIX)) {
                return null;
            }
            int close = key.indexOf('}', PREFIX.length());
            if (close <= PREFIX.length()) {
                return null;
            }
            String rest = key.substring(close);
            String user;
            if (rest.startsWith(PRESENCE)) {
                user = rest.substring(PRESENCE.length());
            } else if (rest.startsWith(CONNECTIONS)) {
                user = rest.substring(CONNECTIONS.length());
            } else {
                return null;
            }
            if (user.isEmpty() || user.indexOf(':') >= 0) {
                return null;
            }
            return new String[]{decodeRoom(key.substring(PREFIX.length(), close)), Keys.decode(user)};
        }

        @Override
        public boolean isPresence(String key) {
            int close = key.indexOf('}');
            return key.startsWith(PREFIX) && close > 0 && key.startsWith(PRESENCE, close);
        }

        @Override
        public String webhooks() {
            return OUTBOX;
        }

        @Override
        public String webhooksLeader() {
            return OUTBOX + ":leader";
        }

        @Override
        public String webhooksLastFailure() {
            return OUTBOX + ":last-failure";
        }

        @Override
        public String roomWebhooks(String roomId) {
            return tag(roomId) + ROOM_WEBHOOKS;
        }

        @Override
        public Command publish() {
            return Command.SPUBLISH;
        }

        @Override
        String scriptHeader() {
            return "local CLUSTER = true\n";
        }

        @Override
        public boolean hasRoomIndex() {
            return false;
        }
    }
}
