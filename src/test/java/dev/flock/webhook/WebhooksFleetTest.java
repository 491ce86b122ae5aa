package dev.flock.webhook;

import dev.flock.FlockServer;
import dev.flock.support.WebhookReceiver;
import dev.flock.support.Fleet;
import dev.flock.support.WsClient;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.flock.support.Fleet.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Webhooks of a fleet: two Flock instances (each its own Vert.x) on one real Redis, users joining and leaving on both,
 * one real HTTP receiver. Each event reaches it exactly once, delivered by one instance, with room.occupied and
 * room.vacated once per fleet-wide transition and the order per room kept. Runs on one Redis
 * ({@link WebhooksRedisTest}) and through Sentinel ({@link WebhooksSentinelTest}).
 */
abstract class WebhooksFleetTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static final String SECRET = "a-webhook-secret-of-32-bytes-ok!";
    private WebhookReceiver receiver;
    private Fleet fleet;

    /** The URL of an emptied Redis for this test's fleet. */
    protected abstract String freshRedisUrl();

    @BeforeEach
    void setUp() {
        receiver = WebhookReceiver.start(SECRET);
        fleet = new Fleet(freshRedisUrl());
    }

    @AfterEach
    void tearDown() {
        fleet.close();
        receiver.close();
    }

    private FlockServer instance() {
        return fleet.instance("FLOCK_WEBHOOK_URL", receiver.url(), "FLOCK_WEBHOOK_SECRET", SECRET,
                "FLOCK_WEBHOOK_LEADER_LEASE_MS", "3000", "FLOCK_WEBHOOK_BATCH_MS", "50",
                "FLOCK_WEBHOOK_EVENTS", "room.occupied,room.vacated,user.joined,user.left,presence.updated");
    }

    private static JsonObject meta(String name) {
        return new JsonObject().put("name", name);
    }

    /** "type room user reason" of an event, for comparing sequences. */
    private static String line(JsonObject e) {
        StringBuilder b = new StringBuilder(e.getString("type")).append(' ').append(e.getString("roomId"));
        if (e.getString("userId") != null) {
            b.append(' ').append(e.getString("userId"));
        }
        if (e.getString("reason") != null) {
            b.append(' ').append(e.getString("reason"));
        }
        return b.toString();
    }

    private List<String> lines(String roomId) {
        return receiver.acceptedEvents().stream().filter(e -> roomId.equals(e.getString("roomId")))
                .map(WebhooksFleetTest::line).toList();
    }

    /** Waits until the receiver accepted an event reading {@code expected} (see {@link #line}). */
    private void awaitEvent(String expected) {
        awaitTrue("the receiver got " + expected + "; got " + receiver.acceptedEvents().stream().map(WebhooksFleetTest::line)
                .toList(), WAIT, () -> receiver.acceptedEvents().stream().anyMatch(e -> line(e).equals(expected)));
    }

    private static double delivered(FlockServer s) {
        Counter c = s.metrics().registry().find("flock.webhook.deliveries").tag("result", "delivered").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void usersJoiningAndLeavingOnBothInstances_eachEventIsReceivedOnce_fromOneInstance_inOrderPerRoom() {
        FlockServer a = instance();
        awaitTrue("the first instance takes the lease", WAIT, () -> a.webhooks().leading());
        FlockServer b = instance();

        WsClient aliceA = fleet.client(a);
        WsClient aliceB = fleet.client(b);
        WsClient bobB = fleet.client(b);
        WsClient carolB = fleet.client(b);
        WsClient daveA = fleet.client(a);
        WsClient erinA = fleet.client(a);

        // r1: users on both instances; alice connected to both
        aliceA.joinAndAck("r1", "alice", meta("Alice"));
        awaitEvent("user.joined r1 alice");
        bobB.joinAndAck("r1", "bob", meta("Bob"));
        awaitEvent("user.joined r1 bob");
        aliceB.joinAndAck("r1", "alice", meta("Alice on B"));
        aliceA.leave("r1"); // alice stays, on B
        // r2 meanwhile, first on B
        carolB.joinAndAck("r2", "carol", meta("Carol"));
        awaitEvent("user.joined r2 carol");
        daveA.joinAndAck("r2", "dave", meta("Dave"));
        awaitEvent("user.joined r2 dave");
        aliceB.leave("r1");
        awaitEvent("user.left r1 alice left");
        bobB.leave("r1");
        awaitEvent("room.vacated r1");
        carolB.leave("r2");
        awaitEvent("user.left r2 carol left");
        // r1 again, from the other instance; a socket closing
        erinA.joinAndAck("r1", "erin", meta("Erin"));
        awaitEvent("user.joined r1 erin");
        erinA.close();
        daveA.close();
        awaitEvent("room.vacated r1");
        awaitTrue("r1 vacated twice, r2 once", WAIT, () -> lines("r1").stream().filter(l -> l.equals("room.vacated r1")).count() == 2
                && lines("r2").contains("room.vacated r2"));
        // a last event: delivery is in outbox order, so once it is in, every earlier one has been sent
        WsClient marker = fleet.client(b);
        marker.joinAndAck("zz-marker", "marker", meta("M"));
        awaitEvent("user.joined zz-marker marker");

        assertThat(lines("r1")).as("requests: %s", receiver.requests()).containsExactly(
                "room.occupied r1", "user.joined r1 alice", "user.joined r1 bob",
                "presence.updated r1 alice", // the second tab's other metadata, merged in (share mode)
                "user.left r1 alice left",
                "user.left r1 bob left", "room.vacated r1",
                "room.occupied r1", "user.joined r1 erin", "user.left r1 erin closed", "room.vacated r1");
        assertThat(lines("r2")).containsExactly(
                "room.occupied r2", "user.joined r2 carol", "user.joined r2 dave", "user.left r2 carol left",
                "user.left r2 dave closed", "room.vacated r2");
        List<JsonObject> events = receiver.acceptedEvents();
        JsonObject aliceJoined = events.stream().filter(e -> line(e).equals("user.joined r1 alice")).findFirst().orElseThrow();
        assertThat(aliceJoined.getJsonObject("metadata")).isEqualTo(meta("Alice"));
        JsonObject aliceLeft = events.stream().filter(e -> line(e).equals("user.left r1 alice left")).findFirst().orElseThrow();
        assertThat(aliceLeft.getJsonObject("metadata")).isEqualTo(meta("Alice on B"));

        // each event id once; each request once (nothing was refused, so nothing was re-sent)
        Set<String> ids = new HashSet<>();
        for (JsonObject e : events) {
            assertThat(ids.add(e.getString("id"))).as("event %s received once", e.encode()).isTrue();
            assertThat(e.getString("id")).startsWith("evt_");
        }
        assertThat(ids).hasSize(19);
        List<String> deliveries = new ArrayList<>();
        for (WebhookReceiver.Request r : receiver.requests()) {
            assertThat(r.header("X-Flock-Delivery")).isEqualTo(r.deliveryId());
            deliveries.add(r.header("X-Flock-Delivery"));
        }
        assertThat(deliveries).doesNotHaveDuplicates();
        assertThat(receiver.requests()).allMatch(r -> r.status() == 200);
        assertThat(receiver.requests()).as("every request signed with the secret").allMatch(receiver::verifies);
        // exactly one instance delivered: the lease holder
        assertThat(a.webhooks().leading()).isTrue();
        assertThat(b.webhooks().leading()).isFalse();
        // the receiver records a request before its answer reaches the deliverer, which counts it then
        awaitTrue("a counted every request it sent", WAIT, () -> delivered(a) == receiver.requests().size());
        assertThat(delivered(b)).isZero();
    }

    @Test
    void theLeaseHolderStopping_theOtherInstanceDeliversTheRest_withoutLosingOrRepeatingAnEvent() {
        FlockServer a = instance();
        awaitTrue("the first instance takes the lease", WAIT, () -> a.webhooks().leading());
        FlockServer b = instance();
        WsClient annA = fleet.client(a);
        WsClient benB = fleet.client(b);
        annA.joinAndAck("r3", "ann", meta("Ann"));
        benB.joinAndAck("r3", "ben", meta("Ben"));
        awaitEvent("user.joined r3 ben");
        awaitTrue("a counted a delivery", WAIT, () -> delivered(a) > 0); // counted when the answer is back

        WsClient.await(a.stop(true)); // ann leaves with it
        awaitTrue("the second instance takes the lease", WAIT, () -> b.webhooks().leading());
        benB.leave("r3");
        awaitEvent("room.vacated r3");

        assertThat(lines("r3")).as("requests: %s", receiver.requests()).containsExactly("room.occupied r3", "user.joined r3 ann", "user.joined r3 ben",
                "user.left r3 ann closed", "user.left r3 ben left", "room.vacated r3");
        assertThat(receiver.acceptedEvents().stream().map(e -> e.getString("id"))).doesNotHaveDuplicates();
        awaitTrue("b counted a delivery", WAIT, () -> delivered(b) > 0);
    }
}
