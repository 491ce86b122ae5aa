package dev.flock.support;

import java.util.function.UnaryOperator;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throw-away Redis per test class: {@code @RegisterExtension static final RedisExtension REDIS = new RedisExtension();}.
 * Started before the class's first test, removed after its last.
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {

    private final UnaryOperator<RedisServer.Builder> customize;
    private RedisServer redis;

    public RedisExtension() {
        this(b -> b);
    }

    /** A Redis built with extra settings, e.g. {@code b -> b.args("--requirepass", "pw").auth(null, "pw")}. */
    public RedisExtension(UnaryOperator<RedisServer.Builder> customize) {
        this.customize = customize;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        redis = customize.apply(RedisServer.builder()).build();
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
