package ai.autoglm.core.quant;

import ai.autoglm.core.memory.MemoryBudget;
import ai.autoglm.core.memory.MemoryEstimate;
import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.ProcessKind;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.model.ModelConfig;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * What {@code serve --quantize} does to a model: the {@code f16|q8_0|q4_0|q4_k} it was asked for, or for
 * {@code auto} the best of {@link WeightTypeRule#SERVE_TARGETS} (f16 > q8_0 > q4_k > q4_0) whose
 * {@link MemoryModel#forServing serving memory} fits the budget. A checkpoint that already holds quantized
 * matrices is served as stored: quantizing already-rounded weights again only adds error.
 */
public final class ServeQuantization {
    private ServeQuantization() {
    }

    /**
     * The outcome.
     *
     * @param type       the target type to quantize to at load time, or null to serve the weights as stored
     * @param reason     one line saying why, for the log
     * @param candidates what each considered type would need (empty unless {@code auto})
     */
    public record Decision(GgmlType type, String reason, List<Candidate> candidates) {
    }

    /** One type {@code auto} considered and its serving memory. */
    public record Candidate(GgmlType type, MemoryEstimate estimate, boolean fits) {
        @Override
        public String toString() {
            return name(type) + " " + estimate + (fits ? " fits" : " too large");
        }
    }

    /** The values {@code --quantize} and the config's {@code quantize:} accept. */
    public static final List<String> OPTIONS = List.of("f16", "q8_0", "q4_0", "q4_k", "auto");

    /** Parses an option (case-insensitive), naming {@code what} (the flag or config key) when it is not one of {@link #OPTIONS}. */
    public static String parseOption(String value, String what) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        // the project description's words: int4 (the K-quant mix llama.cpp recommends), int8, fp16
        v = switch (v) {
            case "int4" -> "q4_k";
            case "int8" -> "q8_0";
            case "fp16" -> "f16";
            default -> v;
        };
        if (!OPTIONS.contains(v)) throw new IllegalArgumentException(what + " must be one of int4, int8, fp16, " + String.join(", ", OPTIONS) + ", got '" + value + "'");
        return v;
    }

    /**
     * Decides for the model at {@code path}: opens it (memory-mapped; no weight page is read) to get its configuration
     * and tensor types, then {@link #decide(String, ModelConfig, List, int, int, Supplier)}.
     *
     * @param context positions per slot, or null for min(4096, the model's) as the server allocates
     */
    public static Decision decide(String option, Path path, Integer context, int slots, Supplier<MemoryBudget> budget) {
        return decide(option, path, context, slots, budget, KvCacheTypes.DEFAULT);
    }

    /** As above, with KV caches of {@code kvTypes}. */
    public static Decision decide(String option, Path path, Integer context, int slots, Supplier<MemoryBudget> budget, KvCacheTypes kvTypes) {
        return decide(option, path, context, slots, budget, kvTypes, ProcessKind.SERVER);
    }

    /** As above, for a process of {@code kind} ({@code eval --quantize auto}: {@link ProcessKind#CLI}). */
    public static Decision decide(String option, Path path, Integer context, int slots, Supplier<MemoryBudget> budget, KvCacheTypes kvTypes,
                                  ProcessKind kind) {
        try (LanguageModel m = ModelLoader.load(path)) {
            if (!(m instanceof TransformerModel tm)) throw new IllegalStateException("not a transformer model: " + path);
            int ctx = context != null ? context : Math.min(4096, m.config().contextLength());
            return decide(option, m.config(), TensorSpec.of(tm.weights()), ctx, slots, budget, kvTypes, kind);
        }
    }

    /** The decision for a model with this configuration and stored tensors, serving {@code slots} × {@code context}. */
    public static Decision decide(String option, ModelConfig config, List<TensorSpec> stored, int context, int slots,
                                  Supplier<MemoryBudget> budget) {
        return decide(option, config, stored, context, slots, budget, KvCacheTypes.DEFAULT);
    }

    /** As above, with KV caches of {@code kvTypes} counted by their type, in a server ({@link ProcessKind#SERVER}). */
    public static Decision decide(String option, ModelConfig config, List<TensorSpec> stored, int context, int slots,
                                  Supplier<MemoryBudget> budget, KvCacheTypes kvTypes) {
        return decide(option, config, stored, context, slots, budget, kvTypes, ProcessKind.SERVER);
    }

    /** As above, with the JVM's part of a process of {@code kind}. */
    public static Decision decide(String option, ModelConfig config, List<TensorSpec> stored, int context, int slots,
                                  Supplier<MemoryBudget> budget, KvCacheTypes kvTypes, ProcessKind kind) {
        String opt = parseOption(option, "quantize");
        List<String> quantized = stored.stream().filter(t -> t.dims() >= 2 && t.type().blockSize > 1)
                .map(t -> t.type().name()).distinct().toList();
        if (!quantized.isEmpty()) {
            return new Decision(null, "weights are already quantized (" + String.join(", ", quantized)
                    + "): served as stored, since quantizing rounded weights again only loses quality", List.of());
        }
        if (!opt.equals("auto")) {
            GgmlType t = type(opt);
            return asStoredWhenUnchanged(new Decision(t, "quantize " + opt + " as requested: "
                    + MemoryModel.forServing(kind, config, WeightTypeRule.apply(config, stored, t), context, slots, kvTypes), List.of()), config, stored);
        }
        MemoryBudget b = budget.get();
        List<Candidate> candidates = new ArrayList<>();
        for (GgmlType t : WeightTypeRule.SERVE_TARGETS) {
            MemoryEstimate e = MemoryModel.forServing(kind, config, WeightTypeRule.apply(config, stored, t), context, slots, kvTypes);
            candidates.add(new Candidate(t, e, e.totalBytes() <= b.bytes()));
        }
        String all = candidates.stream().map(Candidate::toString).collect(Collectors.joining("; "));
        for (Candidate c : candidates) {
            if (c.fits()) {
                return asStoredWhenUnchanged(new Decision(c.type(), String.format(Locale.ROOT,
                        "auto chose %s, the best type whose %d slot(s) x %d positions fit the budget of %s: %s",
                        name(c.type()), slots, context, b, all), candidates), config, stored);
            }
        }
        throw new IllegalArgumentException(String.format(Locale.ROOT,
                "no quantization fits the memory budget of %s for %d slot(s) x %d positions: %s. Lower the context or slots, "
                        + "or raise the budget (--memory-budget-mb)", b, slots, context, all));
    }

    /** {@code d} with no conversion when its type would leave every matrix as stored (an F16 model served as f16). */
    private static Decision asStoredWhenUnchanged(Decision d, ModelConfig config, List<TensorSpec> stored) {
        List<TensorSpec> planned = WeightTypeRule.apply(config, stored, d.type());
        for (int i = 0; i < stored.size(); i++) {
            if (stored.get(i).dims() >= 2 && stored.get(i).type() != planned.get(i).type()) return d;
        }
        return new Decision(null, d.reason() + "; the weights are already " + name(d.type()) + ": served as stored", d.candidates());
    }

    /** The GGML type of an option other than auto. */
    public static GgmlType type(String option) {
        return switch (parseOption(option, "quantize")) {
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            case "q4_k" -> GgmlType.Q4_K;
            default -> throw new IllegalArgumentException("auto is not a type");
        };
    }

    static String name(GgmlType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }
}
