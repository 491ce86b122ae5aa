package dev.flock.webhook;

import dev.flock.support.SentinelExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link WebhooksFleetTest} on the primary three sentinels name (issue 23). */
class WebhooksSentinelTest extends WebhooksFleetTest {

    @RegisterExtension
    static final SentinelExtension SENTINEL = new SentinelExtension();

    @Override
    protected String freshRedisUrl() {
        SENTINEL.set().primary("FLUSHALL");
        return SENTINEL.set().url();
    }
}
