package dev.flock.redis;

import dev.flock.config.RedisUrl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Redis Cluster (issue 23): the masters and which slots each owns, and per master two connections of Flock's own,
 * besides the Vert.x cluster client that routes every keyed command: a subscriber (sharded subscriptions go to the
 * owner of the channel's slot, which the client does not route, and expired-key events are per node) and a command
 * connection (what must reach every master: CONFIG SET, SCRIPT LOAD, SCAN; and the batched publishes, one pipelined
 * write per master). Made anew on every (re)connect of the link from {@code CLUSTER SLOTS}; a slot found moved
 * ({@code MOVED} to a known master) is corrected in place, anything else that changes the masters counts as a lost link,
 * whose reconnect discovers the cluster again.
 */
final class ClusterNodes {

    /**
     * One master: where it is, Flock's two connections to it, and how often it was heard from (pushes, on the bridge's
     * loop), so that the ping can tell a hung master from a busy fleet.
     */
    static final class Node {
        private final String address;
        private final RedisConnection commands;
        private final RedisConnection subscriber;
        private long heard;

        Node(String address, RedisConnection commands, RedisConnection subscriber) {
            this.address = address;
            this.commands = commands;
            this.subscriber = subscriber;
        }

        String address() {
            return address;
        }

        RedisConnection commands() {
            return commands;
        }

        RedisConnection subscriber() {
            return subscriber;
        }

        long heard() {
            return heard;
        }
    }

    /** What a {@code MOVED} tells: the slot's owner changed, was already known, or is a master Flock does not know. */
    enum Moved { CHANGED, KNOWN, UNKNOWN }

    /** What a connection of a node reports to the link (it runs on the bridge's loop). */
    interface Listener {
        void push(Response push);

        void lost(String why);
    }

    private final List<Node> nodes;
    /** slot → index in {@link #nodes}; corrected by MOVED replies. */
    private final int[] owner;
    private final List<Redis> clients;

    private ClusterNodes(List<Node> nodes, int[] owner, List<Redis> clients) {
        this.nodes = nodes;
        this.owner = owner;
        this.clients = clients;
    }

    /**
     * Asks the cluster (through the routed connection) for its slots, and opens two connections to every master.
     * {@code nodeOptions} are the link's options; each node's copy gets its own endpoint.
     */
    static Future<ClusterNodes> open(Vertx vertx, RedisConnection routed, RedisOptions nodeOptions, RedisUrl url,
                                     Listener listener) {
        return RedisLink.within(routed.send(Request.cmd(Command.CLUSTER).arg("SLOTS"))).compose(r -> {
            Map<String, List<int[]>> ranges = masters(r, url.host());
            if (ranges.isEmpty()) {
                return Future.failedFuture(new IllegalStateException("the cluster reports no slots (is it created?)"));
            }
            List<Redis> clients = new ArrayList<>();
            List<String> addresses = new ArrayList<>(ranges.keySet());
            List<Future<Node>> opening = new ArrayList<>();
            for (String address : addresses) {
                int colon = address.lastIndexOf(':');
                String host = address.substring(0, colon);
                RedisOptions own = new RedisOptions(nodeOptions).setType(RedisClientType.STANDALONE)
                        .setEndpoints(List.of(url.clientUrl(host, Integer.parseInt(address.substring(colon + 1)))));
                Redis commandClient = Redis.createClient(vertx, own);
                Redis subscriberClient = Redis.createClient(vertx, own);
                clients.add(commandClient);
                clients.add(subscriberClient);
                opening.add(RedisLink.within(commandClient.connect()).compose(cmd -> RedisLink.within(subscriberClient.connect())
                        .map(sub -> {
                            Node node = new Node(address, cmd, sub);
                            cmd.exceptionHandler(e -> listener.lost("connection to " + address + " failed: " + e.getMessage()));
                            cmd.endHandler(v -> listener.lost("connection to " + address + " closed"));
                            sub.handler(push -> {
                                node.heard++;
                                listener.push(push);
                            });
                            sub.exceptionHandler(e -> listener.lost("subscriber of " + address + " failed: " + e.getMessage()));
                            sub.endHandler(v -> listener.lost("subscriber of " + address + " closed"));
                            return node;
                        })));
            }
            return Future.all(opening).transform(ar -> {
                if (ar.failed()) {
                    clients.forEach(Redis::close);
                    return Future.failedFuture(ar.cause());
                }
                List<Node> nodes = opening.stream().map(Future::result).toList();
                int[] owner = new int[HashSlot.SLOTS];
                java.util.Arrays.fill(owner, -1);
                for (int i = 0; i < addresses.size(); i++) {
                    for (int[] range : ranges.get(addresses.get(i))) {
                        java.util.Arrays.fill(owner, range[0], range[1] + 1, i);
                    }
                }
                return Future.succeededFuture(new ClusterNodes(nodes, owner, clients));
            });
        });
    }

    /**
     * {@code CLUSTER SLOTS}: each entry is {@code [start, end, [host, port, id, ...], replicas...]}; an empty host means
     * the node that answered, which is reached at the seed's host.
     */
    static Map<String, List<int[]>> masters(Response slots, String seedHost) {
        Map<String, List<int[]>> out = new LinkedHashMap<>();
        if (slots == null) {
            return out;
        }
        for (Response entry : slots) {
            if (entry.size() < 3) {
                continue;
            }
            Response master = entry.get(2);
            String host = master.get(0) == null ? "" : master.get(0).toString();
            if (host.isEmpty() || "?".equals(host)) {
                host = seedHost;
            }
            String address = host + ":" + master.get(1).toInteger();
            out.computeIfAbsent(address, a -> new ArrayList<>()).add(new int[]{entry.get(0).toInteger(), entry.get(1).toInteger()});
        }
        return out;
    }

    List<Node> nodes() {
        return nodes;
    }

    /** The master that owns {@code key}'s (or a sharded channel's) slot; null while a slot is unowned. */
    Node ownerOf(String key) {
        int i = owner[HashSlot.of(key)];
        return i < 0 ? null : nodes.get(i);
    }

    /**
     * A {@code MOVED <slot> <host:port>} reply: the slot now belongs to that master. {@link Moved#CHANGED} or
     * {@link Moved#KNOWN} when it is one of the known masters (the map is corrected); {@link Moved#UNKNOWN} when the
     * cluster's masters changed (or the reply is not one Flock can read), which a rediscovery must follow. A reply
     * naming only {@code :port} (a node that does not know its own address) must match exactly one master.
     */
    Moved moved(String error) {
        String[] parts = error.trim().split(" ");
        if (parts.length < 3 || !"MOVED".equals(parts[0])) {
            return Moved.UNKNOWN;
        }
        int slot;
        try {
            slot = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return Moved.UNKNOWN;
        }
        if (slot < 0 || slot >= HashSlot.SLOTS) {
            return Moved.UNKNOWN;
        }
        int match = -1;
        for (int i = 0; i < nodes.size(); i++) {
            String a = nodes.get(i).address();
            if (a.equals(parts[2]) || parts[2].startsWith(":") && a.endsWith(parts[2])) {
                if (match >= 0) {
                    return Moved.UNKNOWN; // two masters on that port: cannot tell which
                }
                match = i;
            }
        }
        if (match < 0) {
            return Moved.UNKNOWN;
        }
        if (owner[slot] == match) {
            return Moved.KNOWN;
        }
        owner[slot] = match;
        return Moved.CHANGED;
    }

    /** The indexes of {@code keys} grouped by the master owning each key's slot, in order; unowned slots under null. */
    Map<Node, List<Integer>> byOwner(List<String> keys) {
        Map<Node, List<Integer>> out = new HashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            out.computeIfAbsent(ownerOf(keys.get(i)), n -> new ArrayList<>()).add(i);
        }
        return out;
    }

    /** Runs {@code step} on every master's command connection, all at once. */
    Future<Void> onEveryMaster(java.util.function.Function<RedisConnection, Future<Void>> step) {
        return Future.all(nodes.stream().map(n -> step.apply(n.commands())).toList()).mapEmpty();
    }

    Future<Void> close() {
        return Future.join(clients.stream().map(Redis::close).toList()).<Void>mapEmpty().recover(err -> Future.succeededFuture());
    }

    /** {@code host:port} of every master, as {@code CLUSTER SLOTS} names them (the logs, the periodic masters check). */
    List<String> addresses() {
        return nodes.stream().map(Node::address).toList();
    }
}
