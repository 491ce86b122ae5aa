package dev.flock.redis;

import dev.flock.support.ClusterExtension;
import dev.flock.support.ClusterSet;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@link FleetBehaviourTest} on a Redis Cluster (issue 23): the rooms' keys and channels spread over three masters. */
class MultiInstanceClusterTest extends FleetBehaviourTest {

    @RegisterExtension
    static final ClusterExtension CLUSTER = new ClusterExtension();
    /** What every node must hear: a cluster's FLUSHALL and CONFIG act on the node they run on. */
    private static final Set<String> EVERY_NODE = Set.of("FLUSHALL", "CONFIG");

    @Override
    protected String url() {
        return CLUSTER.set().url();
    }

    @Override
    protected KeyLayout layout() {
        return KeyLayout.CLUSTER;
    }

    /** Keyed commands go to the key's master; FLUSHALL and CONFIG to every master, which must all answer alike. */
    @Override
    protected Object command(String... args) {
        ClusterSet cluster = CLUSTER.set();
        if (!EVERY_NODE.contains(args[0].toUpperCase(Locale.ROOT))) {
            return cluster.commandFor(args[1], args);
        }
        List<Object> answers = new ArrayList<>();
        for (int port : cluster.masterPorts()) {
            answers.add(cluster.command(port, args));
        }
        if (answers.stream().distinct().count() != 1) {
            throw new AssertionError("the masters answer " + String.join(" ", args) + " differently: " + answers);
        }
        return answers.get(0);
    }
}
