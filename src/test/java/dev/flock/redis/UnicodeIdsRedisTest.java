package dev.flock.redis;

import dev.flock.support.Fleet;
import dev.flock.support.RedisExtension;
import dev.flock.support.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static dev.flock.support.WsClient.type;

/**
 * A room id with a lone surrogate was written into Redis keys as {@code ?} (UTF-8 cannot encode it), so its members
 * sat in room {@code "team?"} of the whole fleet: they took its seats and showed up in its join:ack.
 */
class UnicodeIdsRedisTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private Fleet fleet;

    @BeforeEach
    void start() {
        REDIS.server().command("FLUSHALL");
        fleet = new Fleet(REDIS.server().url());
    }

    @AfterEach
    void stop() {
        fleet.close();
    }

    @Test
    void roomWithALoneSurrogate_isRefused_andTheQuestionMarkRoomSeesNobodyFromIt() {
        WsClient mallory = fleet.client(fleet.instance());
        WsClient bob = fleet.client(fleet.instance());

        // the JSON escape, as a client sends it (the frame itself is valid UTF-8)
        mallory.send("{\"type\":\"join\",\"roomId\":\"team\\ud800\",\"userId\":\"mallory\",\"metadata\":{}}");
        JsonObject answer = mallory.await(m -> type(m, "error") || type(m, "join:ack"));
        JsonArray users = bob.joinAndAck("team?", "bob", new JsonObject()).getJsonArray("users");

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(answer.getString("type")).isEqualTo("error");
        soft.assertThat(answer.getString("code")).isEqualTo("INVALID_MESSAGE");
        soft.assertThat(answer.getString("message")).contains("roomId", "lone surrogate");
        soft.assertThat(userIds(users)).as("the others bob finds in room team?").isEmpty();
        soft.assertAll();
    }

    private static List<String> userIds(JsonArray users) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            ids.add(users.getJsonObject(i).getString("userId"));
        }
        return ids;
    }
}
