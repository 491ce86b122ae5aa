package dev.flock.support;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throw-away Sentinel deployment per test class (a primary, a replica, three sentinels):
 * {@code @RegisterExtension static final SentinelExtension SENTINEL = new SentinelExtension();}.
 */
public final class SentinelExtension implements BeforeAllCallback, AfterAllCallback {

    private SentinelSet set;

    @Override
    public void beforeAll(ExtensionContext context) {
        set = SentinelSet.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (set != null) {
            set.close();
            set = null;
        }
    }

    public SentinelSet set() {
        return set;
    }
}
