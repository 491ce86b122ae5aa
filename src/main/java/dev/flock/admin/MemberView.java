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
  */
public record MemberView(String userId, Map<String, Object> metadata, Long lastCursorAt) {

    public MemberView {
        Objects.requireNonNull(userId, "userId");
        metadata = metadata == null ? Map.of() : metadata;
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
