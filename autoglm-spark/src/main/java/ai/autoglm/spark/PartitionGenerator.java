package ai.autoglm.spark;

import ai.autoglm.core.schedule.GenerationJob;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Streams a partition's rows through the executor's scheduler: keeps up to {@code window} rows in flight (twice the
 * slots, so a slot freed by a finished row finds the next one already queued) and hands the answers back in input
 * order. Memory stays bounded by the window, whatever the partition's size.
 *
 * @param <I> the input row; {@code prompt} turns it into the prompt tokens, or null for a null answer (null input)
 */
final class PartitionGenerator<I> implements Iterator<PartitionGenerator.Result<I>> {
    /** An input with its answer (null when the input had no prompt). */
    record Result<I>(I input, Generated generated) {
    }

    /** A row in flight: its job, or the answer already known without the model (null input, bad prompt). */
    private record Pending<I>(I input, GenerationJob job, Generated known) {
    }

    /** The prompt of a row: its tokens, null for a null input; throws IllegalArgumentException for bad input. */
    interface PromptOf<I> {
        int[] prompt(I input);
    }

    private final Iterator<I> rows;
    private final LoadedGenerator generator;
    private final GenerationSettings settings;
    private final PromptOf<I> promptOf;
    private final int window;
    private final ArrayDeque<Pending<I>> inFlight = new ArrayDeque<>();

    PartitionGenerator(Iterator<I> rows, LoadedGenerator generator, GenerationSettings settings, PromptOf<I> promptOf) {
        this.rows = rows;
        this.generator = generator;
        this.settings = settings;
        this.promptOf = promptOf;
        this.window = 2 * generator.slots();
    }

    @Override
    public boolean hasNext() {
        fill();
        return !inFlight.isEmpty();
    }

    @Override
    public Result<I> next() {
        if (!hasNext()) throw new NoSuchElementException();
        Pending<I> p = inFlight.removeFirst();
        Generated g = p.known();
        if (p.job() != null) {
            try {
                g = LoadedGenerator.await(p.job());
            } catch (InterruptedException e) {
                // Spark interrupts a task it kills: stop this row's and the queued rows' work in the scheduler.
                p.job().cancel();
                inFlight.forEach(q -> {
                    if (q.job() != null) q.job().cancel();
                });
                Thread.currentThread().interrupt();
                throw new IllegalStateException("task interrupted while generating", e);
            }
        }
        return new Result<>(p.input(), g);
    }

    private void fill() {
        while (inFlight.size() < window && rows.hasNext()) {
            I row = rows.next();
            int[] prompt;
            try {
                prompt = promptOf.prompt(row);
                if (prompt == null) {
                    inFlight.addLast(new Pending<>(row, null, null));
                    continue;
                }
                GenerationJob job = generator.submit(generator.request(prompt, settings));
                inFlight.addLast(new Pending<>(row, job, null));
            } catch (IllegalArgumentException e) {
                inFlight.addLast(new Pending<>(row, null, Generated.failed(e.getMessage())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("task interrupted while queueing rows", e);
            }
        }
    }

    /** The answers of {@code rows} through {@code generator}, mapped by {@code out}. */
    static <I, O> Iterator<O> map(Iterator<I> rows, LoadedGenerator generator, GenerationSettings settings, PromptOf<I> promptOf,
                                  Function<Result<I>, O> out) {
        PartitionGenerator<I> g = new PartitionGenerator<>(rows, generator, settings, promptOf);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return g.hasNext();
            }

            @Override
            public O next() {
                return out.apply(g.next());
            }
        };
    }
}
