package dev.flock.browser;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
  * Real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core from
  * src/test/browser) against the try-it page and the admin dashboard.
  *
  * <p>Without chromium or node the tests are skipped, except with {@code CI=true}, where they fail:
  * CI must run them ({@code .ci/install-browser.sh} installs what is missing).
  *
  * <p>Server under test: the shaded jar ({@code -Dflock.jar}, set by the failsafe config), started as an
  * operator would, with FLOCK_PORT and FLOCK_ADMIN_PASSWORD (and FLOCK_API_KEYS for the key scenario).
  */
class BrowserIT {

    private static final Duration NPM_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration SCENARIO_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration SERVER_START_TIMEOUT = Duration.ofSeconds(30);
    private static final String ADMIN_PASSWORD = "browser-it-" + UUID.randomUUID();

    private static Path projectDir;
    private static Path scriptDir;
    private static String chromium;
    private static Vertx vertx;
    private static Target openServer;
    /** Why the tests are skipped (a tool is missing and CI is not set), or null. */
    private static String skipReason;

    /** A running server under test. */
    private interface Target extends AutoCloseable {
        String baseUrl();
    }

    @BeforeAll
    static void setUp() throws Exception {
        projectDir = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        scriptDir = projectDir.resolve("src/test/browser");
        chromium = System.getenv().getOrDefault("FLOCK_CHROMIUM", "/usr/bin/chromium");
        if (!requireTool(Files.isExecutable(Path.of(chromium)), "chromium not found at " + chromium + " (run .ci/install-browser.sh)")
                || !requireTool(run(List.of("node", "--version"), projectDir, Duration.ofSeconds(30), null).exitCode == 0,
                "node is not on the PATH")
                || !installNodeModules()) {
            return;
        }
        vertx = Vertx.vertx();
        openServer = startServer(null);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (openServer != null) {
            openServer.close();
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @BeforeEach
    void skipWithoutTools() {
        // Aborting here rather than in @BeforeAll makes the report show each test as skipped, with why.
        Assumptions.assumeTrue(skipReason == null, skipReason);
    }

    @Test
    void twoTabsOnThePlainUrlShareTheDefaultRoom_andAPrivateLinkGivesItsOwn() throws Exception {
        runScenario("tryit", openServer, List.of());
    }

    @Test
    void adminRefusesWrongPasswordEscapesRoomIdsAndClosesRooms() throws Exception {
        runScenario("admin", openServer, List.of());
    }

    @Test
    void adminAtPhoneWidthReachesAndClosesARoomWithoutSidewaysScrolling() throws Exception {
        runScenario("phone", openServer, List.of());
    }

    @Test
    void pageAsksForTheApiKeyWhenTheServerNeedsOne() throws Exception {
        String key = "key-" + UUID.randomUUID();
        try (Target keyed = startServer(key)) {
            runScenario("apikey", keyed, List.of("--api-key", key));
        }
    }

    private static Target startServer(String apiKey) throws Exception {
        return startJar(apiKey);
    }

    private static void runScenario(String scenario, Target target, List<String> extraArgs) throws Exception {
        Path log = projectDir.resolve("target/browser-" + scenario + ".log");
        List<String> command = new ArrayList<>(List.of("node", "run.mjs", "--base", target.baseUrl(), "--scenario", scenario,
                "--admin-password", ADMIN_PASSWORD, "--chromium", chromium,
                "--screenshots", projectDir.resolve("target/browser-screenshots").toString()));
        command.addAll(extraArgs);
        Result result = run(command, scriptDir, SCENARIO_TIMEOUT, log);
        System.out.println("--- browser scenario " + scenario + " ---\n" + result.output);
        assertThat(result.output).as("browser checks output").contains("PASS").doesNotContain("FAIL");
        assertThat(result.exitCode).as("node run.mjs exit code").isZero();
    }

    private static boolean installNodeModules() throws Exception {
        if (Files.isDirectory(scriptDir.resolve("node_modules/playwright-core"))) {
            return true;
        }
        Result npm = run(List.of("npm", "ci", "--no-audit", "--no-fund"), scriptDir, NPM_TIMEOUT,
                projectDir.resolve("target/browser-npm-ci.log"));
        return requireTool(npm.exitCode == 0, "npm ci failed in src/test/browser:\n" + npm.output);
    }

    /** A missing tool skips the tests, but fails them under CI=true: there the browser tests must run. */
    private static boolean requireTool(boolean present, String message) {
        if (present) {
            return true;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(message + " (CI=true: browser tests may not be skipped)");
        }
        skipReason = message;
        return false;
    }

    private static Target startJar(String apiKey) throws Exception {
        String jar = System.getProperty("flock.jar");
        assertThat(jar).as("-Dflock.jar").isNotBlank();
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar)
                .redirectErrorStream(true)
                .redirectOutput(projectDir.resolve("target/browser-server-" + port + ".log").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("FLOCK_"));
        // no start-up warm-up: its seconds of CPU would compete with the browser on a 2-core CI box
        builder.environment().putAll(Map.of("FLOCK_PORT", Integer.toString(port), "FLOCK_HOST", "127.0.0.1",
                "FLOCK_ADMIN_PASSWORD", ADMIN_PASSWORD, "FLOCK_WARMUP_CONNECTIONS", "0"));
        if (apiKey != null) {
            builder.environment().put("FLOCK_API_KEYS", apiKey);
        }
        Process process = builder.start();
        Target target = new Target() {
            @Override
            public String baseUrl() {
                return "http://127.0.0.1:" + port;
            }

            @Override
            public void close() throws Exception {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        };
        try {
            awaitHealthy(process, target.baseUrl());
        } catch (Throwable e) {
            target.close();
            throw e;
        }
        return target;
    }

    /** Polls /health until it answers 200, the process dies, or the deadline passes. */
    private static void awaitHealthy(Process process, String baseUrl) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create(baseUrl + "/health")).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + SERVER_START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(process.isAlive()).as("server process (see target/browser-server-*.log)").isTrue();
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            process.waitFor(100, TimeUnit.MILLISECONDS); // returns early if the process exits
        }
        fail("server did not answer /health within " + SERVER_START_TIMEOUT);
    }

    private record Result(int exitCode, String output) {
    }

    /** Runs a command with its output in a file (so a chatty process cannot block on a full pipe). */
    private static Result run(List<String> command, Path dir, Duration timeout, Path logFile) throws Exception {
        Path log = logFile != null ? logFile : Files.createTempFile("flock-browser", ".log");
        Files.createDirectories(log.getParent());
        Process process;
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
        } catch (IOException notInstalled) {
            return new Result(127, notInstalled.getMessage());
        }
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            return new Result(124, Files.readString(log, StandardCharsets.UTF_8) + "\n(timed out after " + timeout + ")");
        }
        return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
