package dev.flock.redis;

/**
 * The Redis key and channel layout of PROTOCOL.md, byte-compatible with the original server for ids without
 * {@code :} or {@code %}. Ids holding either are percent-encoded inside keys (never in channel names), so no two
 * (room, user) pairs share a key.
 */
public final class Keys {

    public static final String PRESENCE = "flock:presence:";
    public static final String CURSOR = "flock:cursor:";
    public static final String ROOM = "flock:room:";
    public static final String MEMBERS_SUFFIX = ":members";
    /** Ours: sorted set of the user's connections in the room, scored by expiry (epoch ms, Redis clock). */
    public static final String CONNECTIONS = "flock:conns:";
    public static final String CHANNEL = "flock:broadcast:";
    /**
     * Ours: the operators' control channel ({@code {"instanceId","action","roomId"}}). Original Node instances
     * neither listen to it nor publish on it, and it is outside {@code flock:broadcast:*}.
     */
    public static final String ADMIN_CHANNEL = "flock:admin";
    /**
     * Ours: the room index, a sorted set of room ids (as encoded for keys) scored by the latest expiry (epoch ms,
     * Redis clock) of a connection written in the room; a room leaves it with its members set (see prelude.lua).
     */
    public static final String ROOM_INDEX = "flock:rooms";
    /** Ours: {@code flock:instance:<instanceId>}, refreshed by each live instance with a short TTL. */
    public static final String INSTANCE = "flock:instance:";

    /**
     * Ours (issue 19): the webhook outbox, a stream the scripts append each decision's event to (see prelude.lua),
     * read through one consumer group per webhook URL; {@code :seq} numbers its events, {@code :leader} is the lease of
     * the one instance that delivers, {@code :last-failure} the latest delivery failure (for the dashboard).
     */
    public static final String WEBHOOKS = "flock:webhooks";
    public static final String WEBHOOKS_LEADER = "flock:webhooks:leader";
    public static final String WEBHOOKS_LAST_FAILURE = "flock:webhooks:last-failure";

    private Keys() {
    }

    /** An id as it appears inside a key: as is, unless it holds {@code :} or {@code %}. */
    public static String encode(String id) {
        if (id.indexOf(':') < 0 && id.indexOf('%') < 0) {
            return id;
        }
        return id.replace("%", "%25").replace(":", "%3A");
    }

    public static String decode(String encoded) {
        if (encoded.indexOf('%') < 0) {
            return encoded;
        }
        return encoded.replace("%3A", ":").replace("%3a", ":").replace("%25", "%");
    }

    public static String presence(String roomId, String userId) {
        return PRESENCE + encode(roomId) + ":" + encode(userId);
    }

    public static String cursor(String roomId, String userId) {
        return CURSOR + encode(roomId) + ":" + encode(userId);
    }

    public static String connections(String roomId, String userId) {
        return CONNECTIONS + encode(roomId) + ":" + encode(userId);
    }

    public static String members(String roomId) {
        return ROOM + encode(roomId) + MEMBERS_SUFFIX;
    }

    public static String instance(String instanceId) {
        return INSTANCE + instanceId;
    }

    /**
     * The room id of a members key {@code flock:room:<roomId>:members}; null for any other key, and for a room id
     * holding a raw {@code :} (written by the original server, which we cannot address by our encoded keys).
     */
    public static String roomOfMembersKey(String key) {
        if (!key.startsWith(ROOM) || !key.endsWith(MEMBERS_SUFFIX) || key.length() <= ROOM.length() + MEMBERS_SUFFIX.length()) {
            return null;
        }
        String encoded = key.substring(ROOM.length(), key.length() - MEMBERS_SUFFIX.length());
        return encoded.indexOf(':') >= 0 ? null : decode(encoded);
    }

    public static String channel(String roomId) {
        return CHANNEL + roomId;
    }

    /** (roomId, userId) of an expired presence or connections key of ours, or null for any other key. */
    public static String[] roomAndUser(String key) {
        String rest;
        if (key.startsWith(PRESENCE)) {
            rest = key.substring(PRESENCE.length());
        } else if (key.startsWith(CONNECTIONS)) {
            rest = key.substring(CONNECTIONS.length());
        } else {
            return null;
        }
        int colon = rest.indexOf(':');
        if (colon <= 0 || colon == rest.length() - 1 || rest.indexOf(':', colon + 1) >= 0) {
            return null; // not a key of ours (e.g. an id with ':' written raw by the original server)
        }
        return new String[]{decode(rest.substring(0, colon)), decode(rest.substring(colon + 1))};
    }
}
