package dev.flock.ops;

import dev.flock.support.Fleet;
import dev.flock.support.WsClient;

import java.util.function.BooleanSupplier;

/** Polls a condition until it holds (no fixed sleeps in tests), within the tests' usual timeout. */
public final class Await {

    private Await() {
    }

    public static void until(String what, BooleanSupplier condition) {
        Fleet.awaitTrue(what, WsClient.TIMEOUT, condition);
    }
}
