package dev.flock.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Warms the generator's own client path (connect, upgrade, join, ack, close) before the first storm, against a
 * WebSocket server inside this process that acks every message: a cold generator JVM otherwise opens its first
 * clients seconds late, and a "fresh server" round would measure the generator's JIT. The server under test sees
 * none of it, so its round 1 stays fresh.
 */
final class GeneratorWarmup {
    private static final int ROUNDS = 2;
    private static final long ROUND_BOUND_MS = 30_000;
    private static final String ACK = "{\"type\":\"join:ack\",\"roomId\":\"warmup\",\"users\":[]}";

    private GeneratorWarmup() {
    }

    static void run(Vertx vertx, StormConfig cfg, int clients) throws InterruptedException {
        if (clients <= 0) {
            return;
        }
        long t0 = System.nanoTime();
        HttpServer server = vertx.createHttpServer()
            .webSocketHandler(ws -> ws.textMessageHandler(text -> ws.writeTextMessage(ACK)))
            .listen(0, "127.0.0.1").await();
        StormConfig warm = cfg.toWarmup(URI.create("ws://127.0.0.1:" + server.actualPort() + "/"), clients);
        List<StormWorker> workers = new ArrayList<>();
        List<String> deployments = new ArrayList<>();
        for (int w = 0; w < warm.loops(); w++) {
            StormWorker worker = new StormWorker(warm, w);
            workers.add(worker);
            deployments.add(vertx.deployVerticle(worker).await());
        }
        for (int round = 0; round < ROUNDS; round++) {
            long start = System.nanoTime();
            Future.all(workers.stream().map(w -> w.startRound(start)).toList()).await();
            long end = start + ROUND_BOUND_MS * 1_000_000L;
            while (workers.stream().anyMatch(w -> w.settled() < w.assigned()) && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            Future.all(workers.stream().map(StormWorker::expire).toList()).await();
            try {
                Future.all(workers.stream().map(StormWorker::closeAll).toList())
                    .await(ROUND_BOUND_MS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                break; // a warm-up only: go on with what is warm
            }
        }
        for (String id : deployments) {
            vertx.undeploy(id).await();
        }
        server.close().await();
        System.out.printf("generator warmed up with %d x %d clients against itself in %.1f s%n", ROUNDS, clients,
            (System.nanoTime() - t0) / 1e9);
    }
}
