package dev.flock.redis;

import dev.flock.support.SentinelExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link FleetBehaviourTest} through Sentinel (issue 23): the instances write to the primary three sentinels name. */
class MultiInstanceSentinelTest extends FleetBehaviourTest {

    @RegisterExtension
    static final SentinelExtension SENTINEL = new SentinelExtension();

    @Override
    protected String url() {
        return SENTINEL.set().url();
    }

    @Override
    protected Object command(String... args) {
        return SENTINEL.set().primary(args);
    }
}
