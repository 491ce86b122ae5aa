package dev.flock.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The JSON shape of {@code GET /api/admin/rooms}; admin.js renders the same data. */
final class RoomsJson {

    /** A cursor that moved within this window counts as active. */
    static final long ACTIVE_CURSOR_MILLIS = 10_000;

    private RoomsJson() {
    }

    static JsonObject of(List<RoomView> rooms, int instances, long nowMillis) {
        return of(rooms, instances, null, nowMillis);
    }

    /** With {@code webhooks} (null without them): {@code "webhooks": {"pending": n, "lastFailure": text|null}}. */
    static JsonObject of(List<RoomView> rooms, int instances, WebhookStatus webhooks, long nowMillis) {
        JsonArray roomsJson = new JsonArray();
        int members = 0;
        int activeCursors = 0;
        for (RoomView room : rooms) {
            JsonArray membersJson = new JsonArray();
            for (MemberView member : room.members()) {
                membersJson.add(member(member));
                members++;
                if (isCursorActive(member, nowMillis)) {
                    activeCursors++;
                }
            }
            roomsJson.add(new JsonObject()
                    .put("roomId", room.roomId())
                    .put("memberCount", room.members().size())
                    .put("members", membersJson));
        }
        return new JsonObject()
                .put("rooms", roomsJson)
                .put("totals", new JsonObject()
                        .put("rooms", rooms.size())
                        .put("members", members)
                        .put("activeCursors", activeCursors)
                        .put("instances", instances))
                .put("webhooks", webhooks == null ? null
                        : new JsonObject().put("pending", webhooks.pending()).put("lastFailure", webhooks.lastFailure()))
                .put("now", nowMillis);
    }

    static boolean isCursorActive(MemberView member, long nowMillis) {
        return member.lastCursorAt() != null && nowMillis - member.lastCursorAt() <= ACTIVE_CURSOR_MILLIS;
    }

    /** Metadata as compact JSON text, or a placeholder when a value is not JSON-compatible. */
    static String metadataText(MemberView member) {
        try {
            return new JsonObject(member.metadata()).encode();
        } catch (RuntimeException e) {
            return "(metadata not printable)";
        }
    }

    private static JsonObject member(MemberView member) {
        JsonObject metadata;
        try {
            metadata = new JsonObject(new JsonObject(member.metadata()).encode());
        } catch (RuntimeException e) {
            metadata = new JsonObject();
        }
        return new JsonObject()
                .put("userId", member.userId())
                .put("name", member.name())
                .put("color", member.color())
                .put("metadata", metadata)
                .put("lastCursorAt", member.lastCursorAt())
                .put("identity", member.identity().label)
                .put("reconnecting", member.reconnecting());
    }
}
