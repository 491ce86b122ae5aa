package dev.flock.support;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throw-away Redis Cluster per test class (three masters, a replica each):
 * {@code @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension();}.
 */
public final class ClusterExtension implements BeforeAllCallback, AfterAllCallback {

    private ClusterSet set;

    @Override
    public void beforeAll(ExtensionContext context) {
        set = ClusterSet.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (set != null) {
            set.close();
            set = null;
        }
    }

    public ClusterSet set() {
        return set;
    }
}
