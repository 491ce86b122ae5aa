package dev.flock.room;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * One command at a time, in arrival order, even across asynchronous store calls: while a call is in flight
 * ({@link #await}), commands wait here and run after its continuation. Bounded: beyond {@link #MAX_PENDING} waiting
 * commands, those the room may lose (cursor moves: latest-value, the next one follows) are dropped, so a stalled
 * Redis cannot grow memory; joins and leaves are never dropped.
 */
final class CommandQueue<C> {

    private static final Logger LOG = LoggerFactory.getLogger(CommandQueue.class);
    static final int MAX_PENDING = 4096;

    private final ArrayDeque<C> pending = new ArrayDeque<>();
    private final Context context;
    /** The room's event-loop thread: an event-loop context runs on one thread for ever. */
    private final Thread loopThread;
    private final Consumer<C> processor;
    private final Predicate<C> droppable;
    private final Runnable onIdle;
    private final Runnable onDrop;
    private int inFlight;
    private boolean draining;

    /**
     * Built on the room's context.
     *
     * @param processor runs one command
     * @param droppable the commands that may be dropped when the queue is full
     * @param onIdle    runs whenever the queue has nothing in flight and nothing waiting
     * @param onDrop    counts a dropped command
     */
    CommandQueue(Context context, Consumer<C> processor, Predicate<C> droppable, Runnable onIdle, Runnable onDrop) {
        this.context = context;
        this.loopThread = Thread.currentThread();
        this.processor = processor;
        this.droppable = droppable;
        this.onIdle = onIdle;
        this.onDrop = onDrop;
    }

    /** A new command, on the room's loop. */
    void offer(C command) {
        if (pending.size() >= MAX_PENDING && droppable.test(command)) {
            onDrop.run();
            return;
        }
        pending.add(command);
        drain();
    }

    /**
     * Runs {@code then} on the room's loop when {@code f} completes; commands arriving meanwhile wait. A future that
     * is already complete (the memory store's) continues at once, without a hop through the loop's task queue.
     */
    <T> void await(Future<T> f, Handler<AsyncResult<T>> then) {
        inFlight++;
        f.onComplete(ar -> {
            // not Vertx.currentContext() == context: event-bus handlers run on duplicates of the room's context
            if (Thread.currentThread() == loopThread) {
                resume(then, ar);
            } else {
                context.runOnContext(v -> resume(then, ar));
            }
        });
    }

    private <T> void resume(Handler<AsyncResult<T>> then, AsyncResult<T> ar) {
        inFlight--;
        try {
            then.handle(ar);
        } catch (RuntimeException e) {
            LOG.error("room continuation failed", e);
        }
        drain();
    }

    /**
     * Processes waiting commands while nothing is in flight. A continuation that completes inside a command (a
     * complete future) finds a drain already running and returns to it, so the stack never grows with the queue.
     */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            C next;
            while (inFlight == 0 && (next = pending.poll()) != null) {
                try {
                    processor.accept(next);
                } catch (RuntimeException e) {
                    LOG.error("room command failed", e);
                }
            }
        } finally {
            draining = false;
        }
        if (inFlight == 0) {
            onIdle.run();
        }
    }

    /** Nothing waits and nothing is in flight. */
    boolean idle() {
        return inFlight == 0 && pending.isEmpty();
    }

    int waiting() {
        return pending.size();
    }

    boolean busy() {
        return inFlight > 0;
    }
}
