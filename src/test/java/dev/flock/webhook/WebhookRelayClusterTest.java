package dev.flock.webhook;

import dev.flock.FlockServer;
import dev.flock.support.ClusterExtension;
import dev.flock.support.ClusterSet;
import dev.flock.support.Fleet;
import dev.flock.support.WebhookReceiver;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static dev.flock.support.Fleet.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cluster mode's webhook relay (issue 23): what an instance recorded in a room's stream and did not move to the outbox
 * (it crashed between the script and the move) is found by a sweep and delivered, exactly once; an entry already moved
 * (at or before the room stream's last moved id, kept in the outbox's slot) is not delivered again.
 */
class WebhookRelayClusterTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();
    private static final String SECRET = "a-webhook-secret-of-32-bytes-ok!";
    private static final Duration WAIT = Duration.ofSeconds(10);
    private WebhookReceiver receiver;
    private Fleet fleet;

    @BeforeEach
    void setUp() {
        CLUSTER.set().flushAll();
        receiver = WebhookReceiver.start(SECRET);
        fleet = new Fleet(CLUSTER.set().url());
    }

    @AfterEach
    void tearDown() {
        fleet.close();
        receiver.close();
    }

    @Test
    void eventsLeftInARoomStream_areSweptToTheOutbox_andDeliveredOnce_movedOnesNotAgain() {
        ClusterSet cluster = CLUSTER.set();
        String stream = "flock:{left}:webhooks";
        // what a crashed instance left: two events its scripts recorded, the first of which it had moved already
        // (recent ones: the dispatcher drops events older than FLOCK_WEBHOOK_MAX_AGE_SECONDS)
        String now = Long.toString(System.currentTimeMillis());
        cluster.commandFor(stream, "XADD", stream, "1-1", "type", "user.joined", "room", "left", "t", now, "user", "early");
        cluster.commandFor(stream, "XADD", stream, "1-2", "type", "user.joined", "room", "left", "t", now, "user", "late",
                "meta", "{\"name\":\"Late\"}");
        String marker = "flock:{webhooks}:moved:" + stream; // the room stream's last moved id
        cluster.commandFor(marker, "SET", marker, "1-1", "PX", "600000");
        assertThat(cluster.slotOf(marker)).isEqualTo(cluster.slotOf("flock:{webhooks}"));

        FlockServer a = fleet.instance("FLOCK_WEBHOOK_URL", receiver.url(), "FLOCK_WEBHOOK_SECRET", SECRET,
                "FLOCK_WEBHOOK_BATCH_MS", "50", "FLOCK_REDIS_SWEEP_INTERVAL_MS", "200",
                "FLOCK_WEBHOOK_EVENTS", "user.joined");
        awaitTrue("the instance leads", WAIT, () -> a.webhooks().leading());
        awaitTrue("the left-over event is delivered", WAIT,
                () -> receiver.acceptedEvents().stream().anyMatch(e -> "late".equals(e.getString("userId"))));
        awaitTrue("the emptied room stream is deleted", WAIT, () -> (Long) cluster.commandFor(stream, "EXISTS", stream) == 0L);
        assertThat(cluster.commandFor(marker, "GET", marker)).as("the last moved id").isEqualTo("1-2");
        // a live join afterwards: delivery is in outbox order, so once it is in, nothing else is still on its way
        fleet.client(a).joinAndAck("later", "marker", new JsonObject().put("name", "M"));
        awaitTrue("the marker's event is delivered", WAIT,
                () -> receiver.acceptedEvents().stream().anyMatch(e -> "marker".equals(e.getString("userId"))));
        List<JsonObject> left = receiver.acceptedEvents().stream().filter(e -> "left".equals(e.getString("roomId"))).toList();
        assertThat(left).extracting(e -> e.getString("userId")).containsExactly("late");
        assertThat(left.get(0).getJsonObject("metadata")).isEqualTo(new JsonObject().put("name", "Late"));
    }
}
