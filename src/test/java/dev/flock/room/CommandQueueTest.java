package dev.flock.room;

import dev.flock.support.Fleet;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The room's command queue, directly on a Vert.x event-loop context: one command at a time across asynchronous
 * continuations, bounded for droppable commands only, and no recursion when continuations complete at once.
 */
@ExtendWith(VertxExtension.class)
class CommandQueueTest {

    /** A command; {@code droppable} ones play cursor moves, the others joins and leaves. */
    record Cmd(int n, boolean droppable) {
    }

    private Context context;
    /** Touched on the context's thread only. */
    private final List<Object> processed = new ArrayList<>();
    private final AtomicInteger drops = new AtomicInteger();
    private final AtomicInteger idles = new AtomicInteger();
    private CommandQueue<Object> queue;
    /** What a command does beyond being recorded (set by a test before offering). */
    private Consumer<Object> action = c -> { };

    @BeforeEach
    void newQueue(Vertx vertx) {
        context = vertx.getOrCreateContext();
        queue = on(() -> new CommandQueue<>(context, c -> {
            processed.add(c);
            action.accept(c);
        }, c -> c instanceof Cmd cmd && cmd.droppable(), idles::incrementAndGet, drops::incrementAndGet));
    }

    /** Runs {@code task} on the queue's context and waits for its result. */
    private <T> T on(Supplier<T> task) {
        CompletableFuture<T> done = new CompletableFuture<>();
        context.runOnContext(v -> {
            try {
                done.complete(task.get());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        try {
            return done.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private void run(Runnable task) {
        on(() -> {
            task.run();
            return null;
        });
    }

    /** A store call in flight that completes only when the test says so. */
    private Promise<String> busy() {
        Promise<String> inFlight = Promise.promise();
        run(() -> queue.await(inFlight.future(), ar -> processed.add("continuation:" + ar.result())));
        assertThat(on(queue::busy)).isTrue();
        return inFlight;
    }

    private List<Object> processed() {
        return on(() -> List.copyOf(processed));
    }

    @Test
    void whileACallIsInFlight_commandsWait_andRunAfterItsContinuation_inArrivalOrder() {
        Promise<String> inFlight = busy();
        run(() -> {
            queue.offer(new Cmd(1, false));
            queue.offer(new Cmd(2, true));
            queue.offer(new Cmd(3, false));
        });
        assertThat(processed()).isEmpty();
        assertThat(on(queue::waiting)).isEqualTo(3);

        run(() -> inFlight.complete("done"));

        assertThat(processed()).containsExactly("continuation:done", new Cmd(1, false), new Cmd(2, true), new Cmd(3, false));
        assertThat(on(queue::waiting)).isZero();
        assertThat(on(queue::busy)).isFalse();
    }

    @Test
    void beyondMaxPending_droppableCommandsAreDropped_exactlyTheExcess_andNonDroppableOnesAreStillQueued_inOrder() {
        int excess = 25;
        Promise<String> inFlight = busy();
        run(() -> {
            for (int i = 0; i < CommandQueue.MAX_PENDING + excess; i++) {
                queue.offer(new Cmd(i, true));
            }
            for (int i = 0; i < 100; i++) {
                queue.offer(new Cmd(1_000_000 + i, false)); // joins and leaves beyond the bound
            }
        });

        assertThat(drops.get()).isEqualTo(excess);
        assertThat(on(queue::waiting)).isEqualTo(CommandQueue.MAX_PENDING + 100);

        run(() -> inFlight.complete("done"));

        List<Object> expected = new ArrayList<>();
        expected.add("continuation:done");
        for (int i = 0; i < CommandQueue.MAX_PENDING; i++) {
            expected.add(new Cmd(i, true));
        }
        for (int i = 0; i < 100; i++) {
            expected.add(new Cmd(1_000_000 + i, false));
        }
        assertThat(processed()).containsExactlyElementsOf(expected);
        assertThat(drops.get()).isEqualTo(excess);
    }

    @Test
    void belowTheBound_nothingIsDropped() {
        Promise<String> inFlight = busy();
        run(() -> {
            for (int i = 0; i < CommandQueue.MAX_PENDING; i++) {
                queue.offer(new Cmd(i, true));
            }
        });
        run(() -> inFlight.complete("x"));

        assertThat(drops.get()).isZero();
        assertThat(processed()).hasSize(CommandQueue.MAX_PENDING + 1);
    }

    @Test
    void whenIdle_aCommandRunsAtOnce_andOnIdleRunsAfterIt() {
        int before = idles.get();
        run(() -> queue.offer(new Cmd(1, false)));

        assertThat(processed()).containsExactly(new Cmd(1, false));
        assertThat(idles.get()).isGreaterThan(before);
        assertThat(on(queue::busy)).isFalse();
    }

    @Test
    void onIdle_doesNotRunWhileACallIsInFlight() {
        int before = idles.get();
        Promise<String> inFlight = busy();
        run(() -> queue.offer(new Cmd(1, false)));
        assertThat(idles.get()).isEqualTo(before);

        run(() -> inFlight.complete("x"));

        assertThat(idles.get()).isEqualTo(before + 1);
    }

    @Test
    void aCompleteFutureContinuesAtOnce_withoutRecursion_evenForTenThousandQueuedCommands() {
        int n = 10_000;
        action = c -> {
            if (c instanceof Cmd cmd) {
                queue.await(Future.succeededFuture(cmd.n()), ar -> processed.add("after:" + ar.result()));
            }
        };
        Promise<String> inFlight = busy();
        run(() -> {
            for (int i = 0; i < n; i++) {
                queue.offer(new Cmd(i, false));
            }
        });

        run(() -> inFlight.complete("first")); // one drain runs all 10,000; a recursive one would overflow the stack

        List<Object> expected = new ArrayList<>();
        expected.add("continuation:first");
        for (int i = 0; i < n; i++) {
            expected.add(new Cmd(i, false));
            expected.add("after:" + i);
        }
        assertThat(processed()).containsExactlyElementsOf(expected);
        assertThat(on(queue::busy)).isFalse();
    }

    @Test
    void aFutureCompletedOnAnotherThread_continuesOnTheQueuesThread_andTheNextCommandWaitsForIt() {
        List<String> threads = new ArrayList<>();
        String loopThread = on(() -> Thread.currentThread().getName());
        Promise<String> inFlight = Promise.promise();
        run(() -> {
            queue.await(inFlight.future(), ar -> {
                threads.add(Thread.currentThread().getName());
                processed.add("continuation");
            });
            queue.offer(new Cmd(1, false));
        });

        inFlight.complete("from the test thread");

        Fleet.awaitTrue("the continuation ran", Duration.ofSeconds(5), () -> processed().size() == 2);
        assertThat(processed()).containsExactly("continuation", new Cmd(1, false));
        assertThat(on(() -> List.copyOf(threads))).containsExactly(loopThread);
    }

    @Test
    void aCommandThatThrows_doesNotStopTheQueue() {
        action = c -> {
            if (c instanceof Cmd cmd && cmd.n() == 1) {
                throw new IllegalStateException("boom (expected by the test)");
            }
        };
        run(() -> {
            queue.offer(new Cmd(1, false));
            queue.offer(new Cmd(2, false));
        });

        assertThat(processed()).containsExactly(new Cmd(1, false), new Cmd(2, false));
    }
}
