package dev.flock.webhook;

import dev.flock.support.RedisExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link WebhooksFleetTest} on one Redis. */
class WebhooksRedisTest extends WebhooksFleetTest {

    @RegisterExtension
    static final RedisExtension REDIS = new RedisExtension();

    @Override
    protected String freshRedisUrl() {
        REDIS.server().command("FLUSHALL");
        return REDIS.server().url();
    }
}
