package dev.flock.transport;

import dev.flock.FlockServer;
import dev.flock.support.TestServers;
import dev.flock.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.is;
import static dev.flock.support.WsClient.type;
import static org.assertj.core.api.Assertions.assertThat;

/** Bad input gets INVALID_MESSAGE with a clear message, never reaches others, and closes only when it must. */
@ExtendWith(VertxExtension.class)
class BadInputTest {

    private final List<WsClient> clients = new ArrayList<>();
    private FlockServer server;
    private Vertx vertx;
    private WsClient watcher;

    @BeforeEach
    void start(Vertx vertx) {
        this.vertx = vertx;
        server = TestServers.start(vertx);
        watcher = client();
        watcher.joinAndAck("r", "watcher", new JsonObject());
    }

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
    }

    private WsClient client() {
        WsClient c = WsClient.connect(vertx, server.port());
        clients.add(c);
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "not json                 | {nope                                                                  | malformed JSON",
            "array                    | [1,2]                                                                  | JSON object",
            "string                   | \"join\"                                                               | JSON object",
            "missing type             | {\"roomId\":\"r\"}                                                     | type",
            "numeric type             | {\"type\":5,\"roomId\":\"r\"}                                          | type",
            "unknown type             | {\"type\":\"explode\",\"roomId\":\"r\"}                                | unknown type",
            "missing roomId           | {\"type\":\"heartbeat\"}                                               | roomId",
            "numeric roomId           | {\"type\":\"join\",\"roomId\":7,\"userId\":\"u\",\"metadata\":{}}      | roomId",
            "empty roomId             | {\"type\":\"join\",\"roomId\":\"\",\"userId\":\"u\",\"metadata\":{}}   | roomId",
            "missing userId           | {\"type\":\"join\",\"roomId\":\"r\",\"metadata\":{}}                   | userId",
            "control char in userId   | {\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"a\\u0007b\",\"metadata\":{}} | control character",
            "metadata not an object   | {\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"u\",\"metadata\":[1]} | metadata",
            "missing metadata         | {\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"u\"}                  | metadata",
            "string position          | {\"type\":\"cursor:move\",\"roomId\":\"r\",\"position\":{\"x\":\"1\",\"y\":0}} | position",
            "missing position         | {\"type\":\"cursor:move\",\"roomId\":\"r\"}                            | position",
            "infinite position        | {\"type\":\"cursor:move\",\"roomId\":\"r\",\"position\":{\"x\":1e999,\"y\":0}} | finite",
            "trailing garbage         | {\"type\":\"heartbeat\",\"roomId\":\"r\"} x                            | malformed",
            "patch not an object      | {\"type\":\"presence:update\",\"roomId\":\"r\",\"metadata\":3}          | metadata",
    })
    void badMessage_getsInvalidMessage_andTheSocketStaysOpen(String name, String frame, String mentions) {
        WsClient bad = client();
        bad.send(frame);
        JsonObject error = bad.await(m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(error.getString("message")).containsIgnoringCase(mentions);
        // still usable afterwards
        bad.joinAndAck("r", "bad", new JsonObject());
        watcher.await(is("user:joined", "r", "bad"));
        assertThat(bad.isClosed()).isFalse();
    }

    @Test
    void overLongIds_areRefused_butAnIdOf128CharactersIsFine() {
        WsClient c = client();
        String ok = "u".repeat(128);
        c.joinAndAck("r", ok, new JsonObject());
        c.send(new JsonObject().put("type", "join").put("roomId", "r").put("userId", "u".repeat(129)).put("metadata", new JsonObject()));
        JsonObject error = c.await(m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(error.getString("message")).contains("128");
        assertThat(error.getString("roomId")).isEqualTo("r");
    }

    @Test
    void idsWithPunctuation_areAccepted_andCompareExactly() {
        WsClient a = client();
        WsClient b = client();
        a.joinAndAck("doc:123", "auth0|42", new JsonObject());
        JsonObject ack = b.joinAndAck("doc:123", "Auth0|42", new JsonObject());
        assertThat(ack.getJsonArray("users").getJsonObject(0).getString("userId")).isEqualTo("auth0|42");
    }

    @Test
    void metadataOver4KiB_isRefused_alsoWhenOnlyTheMergedWholeIsTooLarge() {
        WsClient c = client();
        c.send(new JsonObject().put("type", "join").put("roomId", "r").put("userId", "big")
                .put("metadata", new JsonObject().put("blob", "x".repeat(5000))));
        JsonObject error = c.await(m -> type(m, "error"));
        assertThat(error.getString("message")).contains("4096");

        c.joinAndAck("r", "big", new JsonObject().put("a", "x".repeat(3000)));
        int from = c.size();
        c.send(new JsonObject().put("type", "presence:update").put("roomId", "r")
                .put("metadata", new JsonObject().put("b", "y".repeat(3000))));
        JsonObject mergedError = c.awaitFrom(from, m -> type(m, "error"));
        assertThat(mergedError.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(mergedError.getString("roomId")).isEqualTo("r");
        c.move("r", 0.5, 0.5); // barrier: the watcher sees this, and no presence:updated before it
        watcher.await(is("cursor:updated", "r", "big"));
        assertThat(watcher.count(is("presence:updated", "r", "big"))).isZero();
    }

    @Test
    void oversizeFrame_getsInvalidMessage_andClose1009() {
        WsClient c = client();
        c.joinAndAck("r", "big", new JsonObject());
        c.send("{\"type\":\"heartbeat\",\"roomId\":\"r\",\"pad\":\"" + "x".repeat(70_000) + "\"}");
        JsonObject error = c.await(m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(c.awaitClose()).isEqualTo(1009);
        watcher.await(is("user:left", "r", "big"));
    }

    @Test
    void binaryFrame_getsInvalidMessage_andClose1003() {
        WsClient c = client();
        c.sendBinary(new byte[]{1, 2, 3});
        JsonObject error = c.await(m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(c.awaitClose()).isEqualTo(1003);
    }

    @Test
    void nestingBomb_isRefusedCheaply() {
        WsClient c = client();
        c.send("{\"type\":\"join\",\"roomId\":\"r\",\"userId\":\"u\",\"metadata\":" + "{\"a\":".repeat(1000) + "1" + "}".repeat(1001));
        JsonObject error = c.await(m -> type(m, "error"));
        assertThat(error.getString("code")).isEqualTo("INVALID_MESSAGE");
        assertThat(c.isClosed()).isFalse();
    }
}
