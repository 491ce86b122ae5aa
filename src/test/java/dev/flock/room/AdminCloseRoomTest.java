package dev.flock.room;

import dev.flock.admin.RoomView;
import dev.flock.support.TestCluster;
import dev.flock.admin.AdminRooms;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** An operator closing a room: members get ROOM_CLOSED and leave it, sockets and other rooms stay. */
@ExtendWith(VertxExtension.class)
class AdminCloseRoomTest {

    /** The server(s) under test: one in memory here; {@link AdminCloseRoomRedisTest} runs two on one Redis. */
    protected TestCluster startCluster(Vertx vertx) {
        return TestCluster.memory(vertx);
    }

    @Test
    void closeRoom_sendsRoomClosed_keepsSockets_andOnlyANewJoinReadmits(Vertx vertx) {
        try (TestCluster cluster = startCluster(vertx);
             WsClient alice = WsClient.connect(vertx, cluster.port(0)); WsClient bob = WsClient.connect(vertx, cluster.port(1))) {
            AdminRooms admin = cluster.first().admin(); // over LocalRoomDirectory in memory mode, FleetRoomDirectory in Redis mode
            alice.joinAndAck("doomed", "alice", new JsonObject().put("name", "Alice"));
            alice.joinAndAck("kept", "alice", new JsonObject());
            bob.joinAndAck("doomed", "bob", new JsonObject());
            bob.joinAndAck("kept", "bob", new JsonObject());

            List<RoomView> rooms = WsClient.await(admin.rooms());
            assertThat(rooms).extracting(RoomView::roomId).containsExactlyInAnyOrder("doomed", "kept");
            RoomView doomed = rooms.stream().filter(r -> r.roomId().equals("doomed")).findFirst().orElseThrow();
            assertThat(doomed.members()).hasSize(2);

            WsClient.await(admin.closeRoom("doomed"));
            for (WsClient c : List.of(alice, bob)) {
                JsonObject error = c.await(m -> type(m, "error"));
                assertThat(error.getString("code")).isEqualTo("ROOM_CLOSED");
                assertThat(error.getString("roomId")).isEqualTo("doomed");
                assertThat(c.isClosed()).isFalse();
            }
            // whoever was closed first is seen leaving by those still in the room at that moment
            assertThat(alice.count(is("user:left", "doomed", "bob")) + bob.count(is("user:left", "doomed", "alice"))).isEqualTo(1);
            // a heartbeat does not re-admit; the other room is untouched
            alice.heartbeat("doomed");
            alice.move("kept", 0.5, 0.5);
            bob.await(is("cursor:updated", "kept", "alice"));
            alice.move("doomed", 0.1, 0.1);
            assertThat(bob.count(is("user:left", "kept", null))).isZero();

            alice.joinAndAck("doomed", "alice", new JsonObject());
            JsonObject ack = bob.joinAndAck("doomed", "bob", new JsonObject());
            assertThat(ack.getJsonArray("users")).hasSize(1);
            assertThat(WsClient.await(admin.closeAll())).isEqualTo(2);
            assertThat(WsClient.await(admin.closeRoom("never-existed"))).isNull();
        }
    }
}
