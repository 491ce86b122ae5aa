package dev.flock.admin;

import java.util.Map;
import java.util.Objects;

/**
  * One user in a room.
  *
  * @param userId       the user's id
  * @param metadata     the merged presence metadata; values must be JSON-compatible (String, Number,
  *                     Boolean, null, Map, List, Vert.x JsonObject/JsonArray). Never trusted: it is
  *                     user input and is escaped wherever it is shown.
  * @param lastCursorAt epoch ms of the user's last cursor move, or null when the user has no cursor
  * @param identity     how this instance's connections of the user identified it
  * @param reconnecting present by a reconnect grace only: the connection ended without a goodbye, not back yet
  */
public record MemberView(String userId, Map<String, Object> metadata, Long lastCursorAt, Identity identity,
                         boolean reconnecting) {

    /** How a member's connections on this instance identified the user (issue 18). */
    public enum Identity {
        /** Every local connection carried a verified token. */
        VERIFIED("verified"),
        /** No local connection carried a token. */
        ANONYMOUS("anonymous"),
        /** Some did, some did not ({@code FLOCK_AUTH=optional}). */
        MIXED("mixed"),
        /** No connection on this instance: the user is held by another one, which alone knows. */
        ELSEWHERE("elsewhere");

        public final String label;

        Identity(String label) {
            this.label = label;
        }

        public static Identity of(int connections, int verified) {
            if (connections == 0) {
                return ELSEWHERE;
            }
            return verified == connections ? VERIFIED : verified == 0 ? ANONYMOUS : MIXED;
        }
    }

    public MemberView {
        Objects.requireNonNull(userId, "userId");
        metadata = metadata == null ? Map.of() : metadata;
        identity = identity == null ? Identity.ELSEWHERE : identity;
    }

    public MemberView(String userId, Map<String, Object> metadata, Long lastCursorAt) {
        this(userId, metadata, lastCursorAt, Identity.ANONYMOUS, false);
    }

    /** The {@code name} metadata field when it is a string, else null. */
    public String name() {
        return metadata.get("name") instanceof String s ? s : null;
    }

    /** The {@code color} metadata field when it is a valid {@code #rrggbb} colour, else null. */
    public String color() {
        return Html.validColor(metadata.get("color"));
    }
}
