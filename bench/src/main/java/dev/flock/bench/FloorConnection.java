package dev.flock.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One socket of the floor server: parse with Jackson, encode each cursor fan-out once, frame it once,
 * and write retained duplicates of that frame straight into every other member's Netty pipeline.
 * All methods run on this connection's event loop.
 */
final class FloorConnection {
    private static final JsonFactory JSON = new JsonFactory();
    private static final ThreadLocal<ByteArrayBuilder> SCRATCH = ThreadLocal.withInitial(() -> new ByteArrayBuilder(256));
    /** Shared, never released: every heartbeat ack is a duplicate of these bytes. */
    private static final ByteBuf HEARTBEAT_ACK = Unpooled.unreleasableBuffer(frameOf("{\"type\":\"heartbeat:ack\"}"));

    private final ServerWebSocket ws;
    private final ChannelHandlerContext ctx;
    private final FloorFlusher flusher;
    private final FloorRooms rooms;
    private final boolean plain;
    /** Announce joins and leaves to the room (FloorServer --presence). */
    private final boolean presence;
    private final List<String> joinedRooms = new ArrayList<>(1);
    private String userId = "";
    /** Owned by {@link FloorFlusher}: true while this connection waits in its dirty list. */
    boolean dirty;

    FloorConnection(ServerWebSocket ws, FloorFlusher flusher, FloorRooms rooms, boolean plain, boolean presence) {
        this.ws = ws;
        this.ctx = ((WebSocketInternal) ws).channelHandlerContext();
        this.flusher = flusher;
        this.rooms = rooms;
        this.plain = plain;
        this.presence = presence;
        ws.handler(this::onFrame);
        ws.exceptionHandler(err -> { });
        ws.closeHandler(v -> leaveAll());
    }

    private void onFrame(Buffer data) {
        String type = null;
        String roomId = null;
        String user = null;
        String x = null;
        String y = null;
        try (JsonParser p = JSON.createParser(data.getBytes())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "type" -> type = p.getText();
                    case "roomId" -> roomId = p.getText();
                    case "userId" -> user = p.getText();
                    case "position" -> {
                        if (value == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String axis = p.currentName();
                                p.nextToken();
                                if ("x".equals(axis)) {
                                    x = p.getText();
                                } else if ("y".equals(axis)) {
                                    y = p.getText();
                                } else {
                                    p.skipChildren();
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (IOException malformed) {
            return; // the floor has no validation: drop it
        }
        if (type == null || roomId == null) {
            return;
        }
        switch (type) {
            case "cursor:move" -> {
                if (!plain && x != null && y != null && joinedRooms.contains(roomId)) {
                    fanOut(roomId, x, y);
                }
            }
            case "heartbeat" -> writeAndFlush(HEARTBEAT_ACK.duplicate());
            case "join" -> join(roomId, user);
            case "leave" -> {
                if (joinedRooms.remove(roomId)) {
                    left(roomId);
                }
            }
            default -> { }
        }
    }

    private void join(String roomId, String user) {
        userId = user == null ? "" : user;
        if (plain || joinedRooms.contains(roomId)) {
            ws.writeTextMessage("{\"type\":\"join:ack\",\"roomId\":\"" + quote(roomId) + "\",\"users\":[]}");
            return;
        }
        joinedRooms.add(roomId);
        rooms.join(roomId, this);
        if (!presence) {
            ws.writeTextMessage("{\"type\":\"join:ack\",\"roomId\":\"" + quote(roomId) + "\",\"users\":[]}");
            return;
        }
        // --presence: the least a presence server does on a join: the ack lists the others, and they hear of the newcomer
        Set<FloorConnection> members = rooms.members(roomId);
        StringBuilder ack = new StringBuilder(64).append("{\"type\":\"join:ack\",\"roomId\":\"").append(quote(roomId))
            .append("\",\"users\":[");
        boolean first = true;
        for (FloorConnection m : members) {
            if (m != this) {
                ack.append(first ? "" : ",").append("{\"userId\":\"").append(quote(m.userId)).append("\",\"metadata\":{}}");
                first = false;
            }
        }
        ws.writeTextMessage(ack.append("]}").toString());
        announce(roomId, "{\"type\":\"user:joined\",\"roomId\":\"" + quote(roomId) + "\",\"userId\":\"" + quote(userId)
            + "\",\"metadata\":{}}");
    }

    /** --presence: a leave (or a close) is announced to the room's other members. */
    private void left(String roomId) {
        rooms.leave(roomId, this);
        if (presence) {
            announce(roomId, "{\"type\":\"user:left\",\"roomId\":\"" + quote(roomId) + "\",\"userId\":\"" + quote(userId) + "\"}");
        }
    }

    private void announce(String roomId, String json) {
        Set<FloorConnection> members = rooms.members(roomId);
        if (members != null && !(members.size() == 1 && members.contains(this))) {
            toOthers(members, frameOf(json));
        }
    }

    private void fanOut(String roomId, String x, String y) {
        Set<FloorConnection> members = rooms.members(roomId);
        if (members == null || members.size() < 2) {
            return;
        }
        toOthers(members, encodeCursorUpdated(roomId, x, y));
    }

    /** Writes {@code frame} (released here) to every member but this one, on each member's own loop. */
    private void toOthers(Set<FloorConnection> members, ByteBuf frame) {
        try {
            EventExecutor here = ctx.executor();
            List<FloorConnection> remote = null;
            for (FloorConnection member : members) {
                if (member == this) {
                    continue;
                }
                if (member.ctx.executor() == here) {
                    member.write(frame.retainedDuplicate());
                } else {
                    if (remote == null) {
                        remote = new ArrayList<>();
                    }
                    remote.add(member);
                }
            }
            if (remote != null) {
                handOver(remote, frame);
            }
        } finally {
            frame.release();
        }
    }

    /** One task per other event loop per fan-out (not one per recipient), so cross-loop wake-ups stay few. */
    private static void handOver(List<FloorConnection> remote, ByteBuf frame) {
        while (!remote.isEmpty()) {
            EventExecutor loop = remote.get(remote.size() - 1).ctx.executor();
            List<FloorConnection> batch = new ArrayList<>();
            for (int i = remote.size() - 1; i >= 0; i--) {
                if (remote.get(i).ctx.executor() == loop) {
                    batch.add(remote.remove(i));
                }
            }
            ByteBuf shared = frame.retain();
            loop.execute(() -> {
                try {
                    for (FloorConnection member : batch) {
                        member.write(shared.retainedDuplicate());
                    }
                } finally {
                    shared.release();
                }
            });
        }
    }

    private ByteBuf encodeCursorUpdated(String roomId, String x, String y) {
        ByteArrayBuilder out = SCRATCH.get();
        out.reset();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("type", "cursor:updated");
            g.writeStringField("roomId", roomId);
            g.writeStringField("userId", userId);
            g.writeObjectFieldStart("position");
            g.writeFieldName("x");
            g.writeNumber(x); // relayed as received text: no double round trip
            g.writeFieldName("y");
            g.writeNumber(y);
            g.writeEndObject();
            g.writeNumberField("timestamp", System.currentTimeMillis());
            g.writeEndObject();
        } catch (IOException impossible) {
            throw new IllegalStateException(impossible);
        }
        if (out.size() == out.getCurrentSegmentLength()) {
            return WsFrames.text(ctx.alloc(), out.getCurrentSegment(), out.size());
        }
        byte[] spilled = out.toByteArray(); // longer than one scratch segment (very long ids)
        return WsFrames.text(ctx.alloc(), spilled, spilled.length);
    }

    private void write(ByteBuf frame) {
        if (!ctx.channel().isActive()) {
            frame.release();
            return;
        }
        ctx.write(frame, ctx.voidPromise());
        if (flusher == null) {
            ctx.flush();
        } else {
            flusher.markDirty(this);
        }
    }

    private void writeAndFlush(ByteBuf frame) {
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(frame, ctx.voidPromise());
        } else {
            frame.release();
        }
    }

    void flush() {
        ctx.flush();
    }

    private void leaveAll() {
        for (String roomId : joinedRooms) {
            left(roomId);
        }
        joinedRooms.clear();
    }

    private static String quote(String s) {
        return new String(JsonStringEncoder.getInstance().quoteAsString(s));
    }

    private static ByteBuf frameOf(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return WsFrames.text(UnpooledByteBufAllocator.DEFAULT, bytes, bytes.length);
    }
}
