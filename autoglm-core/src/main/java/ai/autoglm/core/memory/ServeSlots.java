package ai.autoglm.core.memory;

import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.model.ModelConfig;

import java.util.List;
import java.util.Locale;

/**
 * How many sequences {@code autoglm serve} runs at once (slots), and the KV positions of each, when the user did not
 * say: as many slots as cores, at least 2 and at most {@link #MAX_AUTO_SLOTS}, cut to what the memory budget holds
 * with the {@link MemoryModel#forServing serving memory model} (weights + a KV cache per slot + working buffers +
 * the JVM). A decode step over several slots costs little more than over one (the weights are read once per step,
 * and the step is memory-bound), so a second user need not wait for the first; beyond one slot per core each step
 * gets slower for everyone, and every slot's KV cache may grow to its whole context (it is allocated in chunks as the
 * sequence grows, counted here at its largest, in its {@link ai.autoglm.core.model.KvCacheTypes}).
 *
 * <p>When even one slot at the default context does not fit, the default context is halved (down to
 * {@link #MIN_AUTO_CONTEXT}); a context given by the user is kept.
 */
public final class ServeSlots {
    public static final int MIN_AUTO_SLOTS = 2;
    public static final int MAX_AUTO_SLOTS = 8;
    public static final int MIN_AUTO_CONTEXT = 512;

    /**
     * The choice.
     *
     * @param slots   sequences at once
     * @param context KV positions per slot
     * @param reason  one line with the numbers, for the start-up log
     */
    public record Choice(int slots, int context, String reason) {
    }

    private ServeSlots() {
    }

    /**
     * @param requestedSlots  the user's slot count, or 0 for automatic
     * @param requestedContext the user's context per slot, or null for min(4096, the model's)
     * @param cores           the processors the engine may use
     */
    public static Choice decide(ModelConfig config, List<TensorSpec> tensors, int requestedSlots, Integer requestedContext,
                                int cores, MemoryBudget budget) {
        return decide(config, tensors, requestedSlots, requestedContext, cores, budget, KvCacheTypes.DEFAULT);
    }

    /** As above, for KV caches of {@code kvTypes} (--cache-type-k/--cache-type-v). */
    public static Choice decide(ModelConfig config, List<TensorSpec> tensors, int requestedSlots, Integer requestedContext,
                                int cores, MemoryBudget budget, KvCacheTypes kvTypes) {
        int context = requestedContext != null ? requestedContext : Math.min(4096, config.contextLength());
        long kvPerSlot = MemoryModel.kvCacheBytes(config, kvTypes, context);
        if (requestedSlots > 0) {
            return new Choice(requestedSlots, context, String.format(Locale.ROOT, "%d slot(s) x %d positions as configured (KV cache %.1f MiB per slot)",
                    requestedSlots, context, MemoryEstimate.mib(kvPerSlot)));
        }
        int byCores = Math.clamp(cores, MIN_AUTO_SLOTS, MAX_AUTO_SLOTS);
        while (true) {
            for (int n = byCores; n >= 1; n--) {
                MemoryEstimate e = MemoryModel.forServing(ProcessKind.SERVER, config, tensors, context, n, kvTypes);
                if (e.totalBytes() <= budget.bytes()) {
                    String why = n == byCores ? "one per core, at most " + MAX_AUTO_SLOTS : "as many as the memory budget holds";
                    return new Choice(n, context, String.format(Locale.ROOT,
                            "%d slot(s) x %d positions chosen automatically (%d core(s) -> up to %d slots; %s): KV cache %.1f MiB per slot, "
                                    + "serving memory %s within the budget of %s", n, context, cores, byCores, why,
                            MemoryEstimate.mib(MemoryModel.kvCacheBytes(config, kvTypes, context)), e, budget));
                }
            }
            if (requestedContext != null || context / 2 < MIN_AUTO_CONTEXT) break;
            context /= 2;
        }
        MemoryEstimate one = MemoryModel.forServing(ProcessKind.SERVER, config, tensors, context, 1, kvTypes);
        return new Choice(1, context, String.format(Locale.ROOT,
                "1 slot x %d positions: even one slot (%s) exceeds the memory budget of %s; lower --ctx, quantize (--quantize auto) "
                        + "or raise --memory-budget-mb", context, one, budget));
    }
}
