package dev.flock.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Defaults &lt; --conf JSON &lt; FLOCK_* environment, and a clear failure for every bad value. */
class ConfigLoaderTest {

    @Test
    void defaults_matchTheProtocolTable() {
        FlockConfig c = FlockConfig.defaults();
        assertThat(c.port()).isEqualTo(8787);
        assertThat(c.redisEnabled()).isFalse();
        assertThat(c.apiKeysRequired()).isFalse();
        assertThat(c.presenceTtlSeconds()).isEqualTo(30);
        assertThat(c.heartbeatIntervalMs()).isEqualTo(10000);
        assertThat(c.maxMessagesPerSecond()).isEqualTo(100);
        assertThat(c.maxRoomSize()).isEqualTo(10);
        assertThat(c.logLevel()).isEqualTo("info");
        assertThat(c.duplicateJoin()).isEqualTo(FlockConfig.DuplicateJoin.SHARE);
        assertThat(c.flushIntervalMs()).isEqualTo(16);
        assertThat(c.maxFrameBytes()).isEqualTo(65536);
        assertThat(c.maxMetadataBytes()).isEqualTo(4096);
        assertThat(c.maxIdLength()).isEqualTo(128);
        assertThat(c.joinTimeoutSeconds()).isEqualTo(30);
        assertThat(c.websocketCompression()).isFalse();
    }

    @Test
    void fileOverridesDefaults_andEnvironmentOverridesFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("flock.json");
        Files.writeString(file, "{\"port\": 9000, \"presenceTtlSeconds\": 45, \"apiKeys\": [\"a\", \"b\"], \"_comment\": \"ignored\"}");
        FlockConfig c = ConfigLoader.load(new String[]{"--conf", file.toString()},
                Map.of("FLOCK_PORT", "9100", "FLOCK_LOG_LEVEL", "fatal"));
        assertThat(c.port()).isEqualTo(9100);
        assertThat(c.presenceTtlSeconds()).isEqualTo(45);
        assertThat(c.apiKeys()).containsExactly("a", "b");
        assertThat(c.logLevel()).isEqualTo("fatal");
    }

    @Test
    void emptyEnvironmentVariable_countsAsUnset() {
        FlockConfig c = ConfigLoader.load(new JsonObject().put("port", 9000), Map.of("FLOCK_PORT", "", "FLOCK_API_KEYS", " "));
        assertThat(c.port()).isEqualTo(9000);
        assertThat(c.apiKeysRequired()).isFalse();
    }

    @Test
    void listsAndChoices_areParsedFromTheEnvironment() {
        FlockConfig c = FlockConfig.fromEnv(Map.of("FLOCK_API_KEYS", "k1, k2,,k3", "FLOCK_DUPLICATE_JOIN", "EVICT",
                "FLOCK_MAX_ROOM_SIZE", "0", "FLOCK_LOG_LEVEL", "silent", "FLOCK_WEBSOCKET_COMPRESSION", "true"));
        assertThat(c.apiKeys()).isEqualTo(List.of("k1", "k2", "k3"));
        assertThat(c.duplicateJoin()).isEqualTo(FlockConfig.DuplicateJoin.EVICT);
        assertThat(c.maxRoomSize()).isZero();
        assertThat(c.websocketCompression()).isTrue();
    }

    @Test
    void badValues_stopStartUp_withOneLineNamingTheSetting(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_PORT", "abc")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_PORT").hasMessageContaining("abc");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_PRESENCE_TTL_SECONDS", "-1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("FLOCK_PRESENCE_TTL_SECONDS");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_PORT", "70000")))
                .hasMessageContaining("out of range");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_LOG_LEVEL", "loud")))
                .hasMessageContaining("FLOCK_LOG_LEVEL").hasMessageContaining("silent");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_DUPLICATE_JOIN", "maybe")))
                .hasMessageContaining("FLOCK_DUPLICATE_JOIN");
        assertThatThrownBy(() -> ConfigLoader.load(new JsonObject().put("port", "abc"), Map.of()))
                .hasMessageContaining("\"port\"");
        assertThatThrownBy(() -> ConfigLoader.load(new JsonObject().put("prot", 1), Map.of()))
                .hasMessageContaining("\"prot\" is unknown");
        assertThatThrownBy(() -> ConfigLoader.load(new String[]{"--conf", dir.resolve("missing.json").toString()}, Map.of()))
                .hasMessageContaining("cannot be read");
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"port\": ");
        assertThatThrownBy(() -> ConfigLoader.load(new String[]{"--conf", broken.toString()}, Map.of()))
                .hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", "http://secret@host:6379")))
                .hasMessageContaining("redis://").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", "redis://:pw@host:6379/abc")))
                .hasMessageContaining("database").hasMessageNotContaining("pw");
        assertThat(FlockConfig.fromEnv(Map.of("FLOCK_REDIS_URL", "rediss://alice:pw@redis.example.com:6380/3")).redisEnabled()).isTrue();
        assertThatThrownBy(() -> ConfigLoader.load(new String[]{"--conf"}, Map.of()))
                .hasMessageContaining("--conf needs a file path");
    }

    @Test
    void badValues_neverEchoASecret(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(new JsonObject().put("adminPassword", 123456789), Map.of()))
                .hasMessageContaining("\"adminPassword\" must be a string, got a number").hasMessageNotContaining("123456789");
        assertThatThrownBy(() -> ConfigLoader.load(new JsonObject().put("jwtSecret", new JsonObject().put("x", "tok3n")), Map.of()))
                .hasMessageContaining("got an object").hasMessageNotContaining("tok3n");
        Path unquoted = dir.resolve("unquoted.json");
        Files.writeString(unquoted, "{\n  \"adminPassword\": hunter2secret\n}");
        assertThatThrownBy(() -> ConfigLoader.load(new String[]{"--conf", unquoted.toString()}, Map.of()))
                .hasMessageContaining("invalid JSON at line 2").hasMessageNotContaining("hunter2secret");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_WEBHOOK_URL", "ftp://u:hook-pw@x.example/h/tok",
                "FLOCK_WEBHOOK_SECRET", "0123456789abcdef0123")))
                .hasMessageContaining("ftp://***@x.example/***").hasMessageNotContaining("hook-pw").hasMessageNotContaining("tok");
        assertThatThrownBy(() -> FlockConfig.fromEnv(Map.of("FLOCK_WEBHOOK_URL", "https://u:p w@x.example/h",
                "FLOCK_WEBHOOK_SECRET", "0123456789abcdef0123")))
                .hasMessageContaining("is not a URL").hasMessageNotContaining("p w");
    }

    @Test
    void readme_listsEverySettingWithItsVariableAndJsonKey() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (Setting s : Settings.ALL) {
            assertThat(readme).as("README row for " + s.env()).contains("| `" + s.env() + "` | `" + s.key() + "` |");
        }
    }
}
