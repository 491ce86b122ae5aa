package dev.flock.room;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flock.protocol.ServerMessage;

import java.util.ArrayList;
import java.util.List;

/** A user present in the room, with their local connections (none: present on another instance only). */
final class Member {

    final String userId;
    final long joinedAt;
    final List<Peer> peers = new ArrayList<>(1);
    ObjectNode metadata;
    ServerMessage.Cursor cursor;

    Member(String userId, ObjectNode metadata, long joinedAt) {
        this.userId = userId;
        this.metadata = metadata;
        this.joinedAt = joinedAt;
    }

    boolean local() {
        return !peers.isEmpty();
    }
}
