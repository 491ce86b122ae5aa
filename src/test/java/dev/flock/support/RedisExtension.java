package dev.flock.support;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throw-away Redis per test class: {@code @RegisterExtension static final RedisExtension REDIS = new RedisExtension();}.
 * Started before the class's first test, removed after its last.
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {

    private RedisServer redis;

    @Override
    public void beforeAll(ExtensionContext context) {
        redis = RedisServer.builder().build();
        redis.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (redis != null) {
            redis.close();
            redis = null;
        }
    }

    public RedisServer server() {
        return redis;
    }
}
