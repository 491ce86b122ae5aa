package dev.flock.metrics;

import dev.flock.FlockServer;
import dev.flock.config.AuthSettings;
import dev.flock.config.FlockConfig;
import dev.flock.config.FlockConfigBuilder;
import dev.flock.support.HttpCalls;
import dev.flock.support.RedisExtension;
import io.micrometer.core.instrument.Clock;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.flock.support.WsClient.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/METRICS.md is exact: a scrape of {@code /metrics} of a real server, set up as {@code Main} sets it up
 * ({@link MeterRegistries}), shows every documented {@code flock_*} meter with the documented label keys, and
 * nothing undocumented, from the start (before any traffic: every known series is registered at 0). Memory mode
 * shows everything but the Redis section; Redis mode shows all of it. The optional parts (webhooks, signed identity,
 * server API) are switched on so that their meters appear.
 */
class MetricsDocsTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    private static final Path DOC = Path.of("docs/METRICS.md");
    private static final String REDIS_SECTION = "### Redis (multi-instance mode)";

    @Test
    void memoryMode_scrapeMatchesTheDocs_butTheRedisSection() throws Exception {
        Map<String, Set<String>> documented = documented(false);
        Map<String, Set<String>> scraped = scrape(builder());
        assertThat(scraped).containsExactlyInAnyOrderEntriesOf(documented);
    }

    @Test
    void redisMode_scrapeMatchesAllTheDocs() throws Exception {
        Map<String, Set<String>> documented = documented(true);
        Map<String, Set<String>> scraped = scrape(builder().redisUrl(REDIS.server().url()));
        assertThat(scraped).containsExactlyInAnyOrderEntriesOf(documented);
    }

    @Test
    void buildInfo_isOne_withVersionAndCommit_andTheDocumentedJvmAndProcessMetersAreScraped() throws Exception {
        String text = scrapeText(builder());
        assertThat(text).containsPattern("(?m)^flock_build_info\\{commit=\"abc1234\",version=\"1\\.2\\.3\"} 1(\\.0)?$");
        String doc = Files.readString(DOC);
        String binders = doc.substring(doc.indexOf("From Micrometer's JVM binders:"), doc.indexOf("## Delivery time"));
        Matcher names = Pattern.compile("`((?:jvm|process|system)_\\w+)").matcher(binders);
        int checked = 0;
        while (names.find()) {
            String name = names.group(1);
            if (name.equals("jvm_gc_pause_seconds")) {
                continue; // registered at the first GC notification, which a short test may not see
            }
            assertThat(text).as(name).containsPattern("(?m)^" + name + "[{ ]");
            checked++;
        }
        assertThat(checked).isGreaterThan(15);
    }

    /** The reason tables under the meter table list exactly the label values a scrape shows. */
    @Test
    void reasonTables_listExactlyTheScrapedLabelValues() throws Exception {
        String text = scrapeText(builder());
        for (String meter : List.of("flock_connections_closed_total", "flock_messages_dropped_total")) {
            assertThat(labelValues(text, meter, "reason")).as(meter).isEqualTo(reasonTable(meter));
        }
    }

    private static Set<String> labelValues(String text, String sample, String key) {
        Set<String> values = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^" + sample + "\\{[^}]*\\b" + key + "=\"([^\"]*)\"").matcher(text);
        while (m.find()) {
            values.add(m.group(1));
        }
        return values;
    }

    /** The first column of the table introduced by a line "`meter{reason=...}`:". */
    private static Set<String> reasonTable(String meter) throws Exception {
        List<String> lines = Files.readAllLines(DOC);
        int at = lines.indexOf("`" + meter + "{reason=...}`:");
        assertThat(at).as("a reason table for " + meter).isNotNegative();
        Set<String> values = new TreeSet<>();
        Pattern row = Pattern.compile("^\\| `([a-z0-9_]+)` \\|.*");
        for (int i = at + 1; i < lines.size() && (lines.get(i).isBlank() || lines.get(i).startsWith("|")); i++) {
            Matcher m = row.matcher(lines.get(i));
            if (m.matches()) {
                values.add(m.group(1));
            }
            if (lines.get(i).isBlank() && !values.isEmpty()) {
                break;
            }
        }
        return values;
    }

    private static FlockConfigBuilder builder() {
        return FlockConfig.builder().port(0).host("127.0.0.1")
                .webhooks("webhook-secret-0123456789", "http://127.0.0.1:9/hook")
                .auth(AuthSettings.Mode.OPTIONAL).jwtSecret("jwt-secret-0123456789-0123456789-01")
                .serverApiKeys("server-api-key-0123456789");
    }

    private static Map<String, Set<String>> scrape(FlockConfigBuilder config) throws Exception {
        return parseScrape(scrapeText(config));
    }

    /** Starts a server as Main does (Vert.x meters, JVM binders, build info into one registry) and scrapes it once. */
    private static String scrapeText(FlockConfigBuilder builder) throws Exception {
        FlockConfig config = builder.build();
        MeterRegistries meters = new MeterRegistries(config, "1.2.3", "abc1234", Clock.SYSTEM);
        Vertx vertx = Vertx.builder()
                .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(false)))
                .withMetrics(meters.vertxMeters()).build();
        MetricsEndpoint endpoint = new MetricsEndpoint(config, meters.prometheus());
        FlockServer server = await(FlockServer.start(vertx, config, new FlockMetrics(meters.registry()), endpoint::mount));
        try {
            HttpCalls.Response r = HttpCalls.get(vertx, server.port(), "/metrics");
            assertThat(r.status()).isEqualTo(200);
            return r.body();
        } finally {
            await(server.stop());
            await(vertx.close());
            meters.close();
        }
    }

    private static final Pattern TYPE = Pattern.compile("^# TYPE (flock_\\w+) (\\w+)$");
    private static final Pattern SAMPLE = Pattern.compile("^(flock_\\w+)(?:\\{([^}]*)})? \\S+$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"(?:[^\"\\\\]|\\\\.)*\"");

    /**
     * Meter name (as METRICS.md writes it: counters with {@code _total}, histograms by their base name) → label keys
     * ({@code le} aside). A histogram's {@code _max} gauge belongs to its histogram.
     */
    static Map<String, Set<String>> parseScrape(String text) {
        Map<String, String> types = new TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher m = TYPE.matcher(line);
            if (m.matches()) {
                types.put(m.group(1), m.group(2));
            }
        }
        Map<String, Set<String>> meters = new TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String meter = meterOf(m.group(1), types);
            Set<String> keys = meters.computeIfAbsent(meter, k -> new TreeSet<>());
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    if (!l.group(1).equals("le")) {
                        keys.add(l.group(1));
                    }
                }
            }
        }
        return meters;
    }

    private static String meterOf(String sample, Map<String, String> types) {
        for (String suffix : new String[]{"_bucket", "_count", "_sum", "_max"}) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                if ("histogram".equals(types.get(base))) {
                    return base;
                }
            }
        }
        if (sample.endsWith("_total") && "counter".equals(types.get(sample.substring(0, sample.length() - 6)))) {
            return sample;
        }
        return sample;
    }

    private static final Pattern ROW = Pattern.compile("^\\| `(flock_\\w+)` \\| ([^|]+) \\| ([^|]+) \\|.*$");
    private static final Pattern KEY = Pattern.compile("`(\\w+)`");

    /** The meters METRICS.md's tables document, with their label keys; the Redis section only with {@code redis}. */
    static Map<String, Set<String>> documented(boolean redis) throws Exception {
        Map<String, Set<String>> meters = new TreeMap<>();
        boolean inRedis = false;
        for (String line : Files.readAllLines(DOC)) {
            if (line.startsWith("#")) {
                inRedis = line.equals(REDIS_SECTION);
            }
            Matcher m = ROW.matcher(line);
            if (!m.matches() || (inRedis && !redis)) {
                continue;
            }
            Set<String> keys = new TreeSet<>();
            String labels = m.group(3).trim();
            if (!labels.equals("—")) {
                Matcher k = KEY.matcher(labels);
                while (k.find()) {
                    keys.add(k.group(1));
                }
            }
            assertThat(meters.put(m.group(1), keys)).as("documented twice: " + m.group(1)).isNull();
        }
        assertThat(meters).isNotEmpty();
        return meters;
    }
}
