package dev.flock.cli;

import dev.flock.config.ConfigLoader;
import dev.flock.config.Setting;
import dev.flock.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line (issue 21 item 2) in-process; {@code JarProcessIT} runs the same through the built jar. */
class FlockCliTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private FlockCli.Launch run(Map<String, String> env, String... args) {
        return FlockCli.parse(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void help_listsEveryOption_andEverySettingWithItsKeyDefaultAndMeaning() {
        for (String flag : new String[]{"--help", "-h"}) {
            out.reset();
            FlockCli.Launch l = run(Map.of(), flag);
            assertThat(l.start()).isFalse();
            assertThat(l.exitCode()).isZero();
            String help = out();
            assertThat(help).contains("--conf=<file>", "--check-config", "-h, --help", "-V, --version");
            for (Setting s : Settings.ALL) {
                String line = help.lines().filter(x -> x.startsWith("  " + s.env() + " (")).findFirst().orElse("");
                assertThat(line).as(s.env()).contains("(" + s.key() + ")").contains("default " + SettingsHelp.defaultText(s));
                assertThat(help.replaceAll("\\s+", " ")).as(s.env()).contains(s.meaning());
            }
        }
        assertThat(err()).isEmpty();
    }

    @Test
    void version_printsVersionAndCommit() {
        FlockCli.Launch l = run(Map.of(), "-V");
        assertThat(l.exitCode()).isZero();
        assertThat(out()).startsWith("flock-server ").contains("(commit ");
    }

    @Test
    void unknownArguments_exit2_withOneLine_andANearOptionSuggested() {
        FlockCli.Launch l = run(Map.of(), "--config", "f.json");
        assertThat(l.start()).isFalse();
        assertThat(l.exitCode()).isEqualTo(2);
        assertThat(err().strip()).isEqualTo("flock: unknown option '--config' (see --help); did you mean --conf?");
        err.reset();
        assertThat(run(Map.of(), "--port=9000").exitCode()).isEqualTo(2);
        assertThat(err().strip()).isEqualTo("flock: unknown option '--port' (see --help)");
        err.reset();
        assertThat(run(Map.of(), "serve").exitCode()).isEqualTo(2);
        assertThat(err().strip()).isEqualTo("flock: unexpected argument 'serve' (see --help)");
        err.reset();
        assertThat(run(Map.of(), "--conf").exitCode()).isEqualTo(2);
        assertThat(err().strip()).isEqualTo("flock: --conf needs a file path (see --help)");
        assertThat(out()).isEmpty();
    }

    @Test
    void confInEveryForm_loadsTheFile(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("f.json");
        Files.writeString(conf, "{\"port\": 9100}");
        for (String[] args : new String[][]{{"--conf", conf.toString()}, {"--conf=" + conf}, {"-conf", conf.toString()}}) {
            FlockCli.Launch l = run(Map.of(), args);
            assertThat(l.start()).as(String.join(" ", args)).isTrue();
            assertThat(l.config().port()).isEqualTo(9100);
        }
        assertThat(run(Map.of("FLOCK_PORT", "9200"), "--conf", conf.toString()).config().port()).isEqualTo(9200);
        assertThat(run(Map.of()).config().port()).isEqualTo(8787);
    }

    @Test
    void plainStarts_needNoPicocli_everythingElseGoesToIt() {
        assertThat(FlockCli.plainStart(new String[0])).isNotNull().extracting(o -> o.conf).isNull();
        for (String[] args : new String[][]{{"--conf", "f.json"}, {"--conf=f.json"}, {"-conf", "f.json"}}) {
            assertThat(FlockCli.plainStart(args)).as(String.join(" ", args)).isNotNull()
                    .extracting(o -> o.conf).isEqualTo(Path.of("f.json"));
        }
        for (String[] args : new String[][]{{"--conf"}, {"--conf="}, {"--conf", ""}, {"--conf", "--help"}, {"--help"},
                {"--conf", "f.json", "--check-config"}, {"--config", "f.json"}, {"-conf=f.json"}, {"serve"}, {"--conf", "a\0b"}}) {
            assertThat(FlockCli.plainStart(args)).as(String.join(" ", args)).isNull();
        }
    }

    @Test
    void checkConfig_printsEffectiveValuesAndSources_withEverySecretMasked(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("f.json");
        Files.writeString(conf, "{\"port\": 9100, \"adminPassword\": \"file-admin-pw\"}");
        Map<String, String> env = Map.of("FLOCK_REDIS_URL", "redis://:redis-pw-123@my_redis:6379/2",
                "FLOCK_API_KEYS", "api-key-1,api-key-2", "FLOCK_JWT_SECRET", "jwt-secret-that-is-at-least-32-bytes-long",
                "FLOCK_WEBHOOK_URL", "https://hook:hook-pw@hooks.example.com/flock,https://hooks.slack.com/services/T0/B0/slack-tok"
                        + ",https://h.example.com:8443/in?token=query-tok", "FLOCK_OTLP_ENDPOINT", "http://c:4318/otlp-tok",
                "FLOCK_WEBHOOK_SECRET", "webhook-secret-16b+",
                "FLOCK_MAX_ROOM_SIZE", "50");
        FlockCli.Launch l = run(env, "--check-config", "--conf", conf.toString());
        assertThat(l.start()).isFalse();
        assertThat(l.exitCode()).isZero();
        String text = out();
        assertThat(text).startsWith("flock: configuration is valid");
        assertThat(text).containsPattern("FLOCK_PORT +port = 9100  \\(conf file\\)")
                .containsPattern("FLOCK_MAX_ROOM_SIZE +maxRoomSize = 50  \\(environment\\)")
                .containsPattern("FLOCK_HOST +host = 0.0.0.0  \\(default\\)")
                .containsPattern("FLOCK_REDIS_URL +redisUrl = redis://:\\*\\*\\*@my_redis:6379/2  \\(environment\\)")
                .containsPattern("FLOCK_ADMIN_PASSWORD +adminPassword = \\*\\*\\*  \\(conf file\\)")
                .containsPattern("FLOCK_API_KEYS +apiKeys = \\*\\*\\* \\(2 keys\\)")
                .contains("webhookUrl = [https://***@hooks.example.com/***, https://hooks.slack.com/***,"
                        + " https://h.example.com:8443/***]")
                .contains("otlpEndpoint = http://c:4318/***")
                .containsPattern("FLOCK_ADMIN_TOKEN +adminToken = unset  \\(default\\)");
        for (String secret : new String[]{"file-admin-pw", "redis-pw-123", "api-key-1", "api-key-2", "jwt-secret", "hook-pw", "webhook-secret", "slack-tok", "query-tok",
                "otlp-tok"}) {
            assertThat(text + err()).doesNotContain(secret);
        }
        assertThat(text.lines().count()).isEqualTo(Settings.ALL.size() + 1);
    }

    @Test
    void checkConfig_invalid_exit2_withTheOneLineError() {
        FlockCli.Launch l = run(Map.of("FLOCK_REDIS_URL", "redis://:redis-pw-123@host:99999"), "--check-config");
        assertThat(l.exitCode()).isEqualTo(2);
        assertThat(out()).isEmpty();
        assertThat(err().lines().toList()).hasSize(1);
        assertThat(err()).startsWith("flock: invalid configuration: FLOCK_REDIS_URL").contains("port must be 1..65535")
                .doesNotContain("redis-pw-123");
        err.reset();
        // a PEM key that parses as no key is found by --check-config too, not only by a start
        assertThat(run(Map.of("FLOCK_AUTH", "required", "FLOCK_JWT_PUBLIC_KEYS",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), "--check-config").exitCode()).isEqualTo(2);
        assertThat(err()).startsWith("flock: invalid configuration: FLOCK_JWT_PUBLIC_KEYS");
    }

    @Test
    void unknownFlockVariable_oneWarningNamingTheClosestSetting_notForOurToolsVariables() {
        FlockCli.Launch l = run(Map.of("FLOCK_MAX_ROOMSIZE", "5", "FLOCK_BENCH_PORT", "8797", "FLOCK_CHROMIUM", "/usr/bin/chromium",
                "FLOCK_PORT", "9000", "PATH", "/bin"));
        assertThat(l.start()).isTrue();
        assertThat(l.warnings()).containsExactly(
                "environment variable FLOCK_MAX_ROOMSIZE is not a Flock setting and is ignored; did you mean FLOCK_MAX_ROOM_SIZE?");
        assertThat(ConfigLoader.unknownVariables(Map.of("FLOCK_ZZZZZZZZZZZZZZZZ", "1")))
                .containsExactly("environment variable FLOCK_ZZZZZZZZZZZZZZZZ is not a Flock setting and is ignored (flock --help lists them)");
        run(Map.of("FLOCK_MAX_ROOMSIZE", "5"), "--check-config");
        assertThat(err()).contains("flock: warning: environment variable FLOCK_MAX_ROOMSIZE");
    }
}
