package dev.flock.admin;

import java.util.List;
import java.util.Objects;

/** One room as the dashboard shows it. */
public record RoomView(String roomId, List<MemberView> members) {

    public RoomView {
        Objects.requireNonNull(roomId, "roomId");
        members = List.copyOf(members);
    }
}
