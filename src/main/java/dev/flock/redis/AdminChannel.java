package dev.flock.redis;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

/**
 * The operators' control channel {@code flock:admin}: what an operator does on one instance (close a room, close all)
 * is published here and carried out by every other instance of ours (and the server API's kicks). Original Node instances never see it.
 */
final class AdminChannel {

    private static final Logger LOG = LoggerFactory.getLogger(AdminChannel.class);

    private final RedisLink link;
    private final String instanceId;
    private volatile Consumer<AdminCommand> handler = command -> { };

    AdminChannel(RedisLink link, RedisBroker broker, String instanceId) {
        this.link = link;
        this.instanceId = instanceId;
        broker.listen(Keys.ADMIN_CHANNEL, this::onMessage);
    }

    /** Runs {@code handler} (on the bridge's loop) for every operator command another instance publishes. */
    void onCommand(Consumer<AdminCommand> handler) {
        this.handler = handler;
    }

    /** Publishes an operator command to every other instance of ours. */
    Future<Void> publish(String action, String roomId, String userId) {
        // a cluster: sharded, like the rooms' channels (a plain PUBLISH would go to every node of the cluster)
        return link.send(Request.cmd(link.layout().publish()).arg(Keys.ADMIN_CHANNEL)
                .arg(Buffer.buffer(new AdminCommand(instanceId, action, roomId, userId).toJson()))).mapEmpty();
    }

    private void onMessage(Buffer payload) {
        AdminCommand command = AdminCommand.parse(payload.getBytes());
        if (command == null || instanceId.equals(command.instanceId())) {
            return; // our own echo, or not a command of ours
        }
        LOG.info("operator command from another instance {} roomId={} from={}", command.action(), command.roomId(),
                command.instanceId());
        handler.accept(command);
    }
}
