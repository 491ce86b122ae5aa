package dev.flock.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shipped {@code conf/} files load, and {@code conf/flock.json} is exactly the defaults, so it never drifts. */
class ConfFilesTest {

    private static final Path FLOCK_JSON = Path.of("conf/flock.json");
    private static final Path FLOCK_REDIS_JSON = Path.of("conf/flock-redis.json");
    private static final Path DOCKER_JSON = Path.of("conf/docker.json");

    @Test
    void flockJson_loadsToTheDefaults() {
        FlockConfig fromFile = ConfigLoader.load(new String[]{"--conf", FLOCK_JSON.toString()}, Map.of());
        assertThat(fromFile).isEqualTo(FlockConfig.defaults());
    }

    @Test
    void flockJson_listsEverySettingWithAComment() throws Exception {
        JsonObject file = new JsonObject(Files.readString(FLOCK_JSON));
        for (Setting s : Settings.ALL) {
            assertThat(file.containsKey(s.key())).as("conf/flock.json has \"%s\"", s.key()).isTrue();
            assertThat(file.getString("_comment_" + s.key())).as("comment for %s", s.key()).contains(s.env());
            Object value = file.getValue(s.key());
            Object expected = s.defaultValue() instanceof java.util.List<?> l ? new io.vertx.core.json.JsonArray(l) : s.defaultValue();
            if (value instanceof Number n && expected instanceof Number e) {
                assertThat(n.longValue()).as(s.key()).isEqualTo(e.longValue());
            } else {
                assertThat(value).as(s.key()).isEqualTo(expected);
            }
        }
    }

    @Test
    void flockRedisJson_loadsInRedisMode_andTheEnvironmentWins() {
        FlockConfig config = ConfigLoader.load(new String[]{"--conf=" + FLOCK_REDIS_JSON}, Map.of());
        assertThat(config.redisEnabled()).isTrue();
        assertThat(config.metricsPort()).isEqualTo(9091);
        FlockConfig withEnv = ConfigLoader.load(new String[]{"--conf", FLOCK_REDIS_JSON.toString()},
                Map.of("FLOCK_REDIS_URL", "redis://:secret@redis:6379/1"));
        assertThat(withEnv.redisUrl()).isEqualTo("redis://:secret@redis:6379/1");
    }

    @Test
    void builder_startsFromDefaults_andChecksLikeTheFile() {
        assertThat(FlockConfig.builder().build()).isEqualTo(FlockConfig.defaults());
        FlockConfig c = FlockConfig.builder().port(0).maxRoomSize(50).apiKeys("a", "b")
                .duplicateJoin(FlockConfig.DuplicateJoin.EVICT).flushIntervalMs(0).build();
        assertThat(c.port()).isZero();
        assertThat(c.maxRoomSize()).isEqualTo(50);
        assertThat(c.apiKeys()).containsExactly("a", "b");
        assertThat(c.duplicateJoin()).isEqualTo(FlockConfig.DuplicateJoin.EVICT);
        assertThat(c.flushIntervalMs()).isZero();
        assertThatThrownBy(() -> FlockConfig.builder().presenceTtlSeconds(0).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("presenceTtlSeconds");
        assertThatThrownBy(() -> FlockConfig.builder().set("nope", 1).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope");
    }

    /**
     * conf/docker.json, which the image runs as /app/conf/flock.json (issue 21 item 7): exactly the defaults but
     * /metrics on 9091 (Fly's [metrics] scrapes it) and no try-it page; every key it sets has its comment.
     */
    @Test
    void dockerJson_isTheDefaults_butMetricsOnItsOwnPort_andNoTryItPage() throws Exception {
        FlockConfig image = ConfigLoader.load(new String[]{"--conf", DOCKER_JSON.toString()}, Map.of());
        FlockConfig expected = FlockConfig.builder().metricsPort(9091).demo(false).build();
        assertThat(image).isEqualTo(expected);
        JsonObject file = new JsonObject(Files.readString(DOCKER_JSON));
        for (String key : file.fieldNames()) {
            if (!key.startsWith("_") && !key.startsWith("$")) {
                Setting s = Settings.ALL.stream().filter(x -> x.key().equals(key)).findFirst().orElseThrow();
                assertThat(file.getString("_comment_" + key)).as("comment for %s", key).contains(s.env());
            }
        }
        String flyToml = Files.readString(Path.of("fly.toml"));
        assertThat(flyToml).contains("[metrics]\n  port = 9091\n");
    }
}
