package dev.flock.room;

import dev.flock.protocol.ProtocolCodec;
import dev.flock.protocol.ServerMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The memory broker carries events between the servers of one hub, as Redis pub/sub does between instances. */
class MemoryBrokerTest {

    /** Records what a node's registry would turn into room commands. */
    private static final class Recorder implements BrokerEventHandler {
        final List<String> publications = new ArrayList<>();

        @Override
        public void onPublication(String roomId, ServerMessage message, byte[] encoded, String publisher) {
            publications.add(roomId + " " + new String(encoded, java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public boolean onPresenceExpired(String roomId, String userId) {
            return false;
        }

        @Override
        public void onSweepDue() {
        }

        @Override
        public void onReconnected() {
        }
    }

    private static void publish(MemoryBroker broker, String roomId) {
        ServerMessage.UserLeft m = new ServerMessage.UserLeft(roomId, "u");
        broker.publish(roomId, m, ProtocolCodec.encode(m));
    }

    @Test
    void publish_reachesOtherSubscribedNodesOfTheHub_neverThePublisherOrAnotherHub() {
        MemoryBroker.Hub hub = new MemoryBroker.Hub();
        MemoryBroker a = new MemoryBroker(hub);
        MemoryBroker b = new MemoryBroker(hub);
        MemoryBroker c = new MemoryBroker(hub);
        MemoryBroker elsewhere = new MemoryBroker();
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        Recorder rc = new Recorder();
        Recorder re = new Recorder();
        a.register(ra);
        b.register(rb);
        c.register(rc);
        elsewhere.register(re);
        for (MemoryBroker m : List.of(a, b, elsewhere)) {
            assertThat(m.subscribe("r").isComplete()).isTrue();
        }

        publish(a, "r");

        assertThat(ra.publications).isEmpty(); // no echo
        assertThat(rb.publications).containsExactly("r {\"type\":\"user:left\",\"roomId\":\"r\",\"userId\":\"u\"}");
        assertThat(rc.publications).isEmpty(); // not subscribed to r
        assertThat(re.publications).isEmpty(); // another hub
    }

    @Test
    void unsubscribe_isCounted_soAnOverlappingVerticleKeepsTheRoom_andAClosedBrokerHearsNothing() {
        MemoryBroker.Hub hub = new MemoryBroker.Hub();
        MemoryBroker a = new MemoryBroker(hub);
        MemoryBroker b = new MemoryBroker(hub);
        Recorder rb = new Recorder();
        b.register(rb);
        b.subscribe("r");
        b.subscribe("r"); // a retiring and a new verticle of the same room
        b.unsubscribe("r");
        publish(a, "r");
        assertThat(rb.publications).hasSize(1);

        b.unsubscribe("r");
        publish(a, "r");
        assertThat(rb.publications).hasSize(1);

        b.subscribe("r");
        b.close();
        publish(a, "r");
        assertThat(rb.publications).hasSize(1);
    }
}
