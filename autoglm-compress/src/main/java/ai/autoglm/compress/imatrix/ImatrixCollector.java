package ai.autoglm.compress.imatrix;

import ai.autoglm.compress.calib.ActivationStatistics;
import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.quant.ImportanceMatrix;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Computes an importance matrix the way llama.cpp's {@code llama-imatrix} does (tools/imatrix/imatrix.cpp
 * {@code compute_imatrix}): the calibration text is tokenized once and cut into chunks of {@code context} tokens;
 * each chunk runs through the model from position 0 with a fresh KV cache; every matrix multiplication of the
 * transformer blocks adds each input column's squared activation to its sums ({@link ActivationStatistics}).
 * Like llama.cpp, only {@code blk.*} weights are kept unless the output head is asked for
 * ({@code --process-output}); llama.cpp replaces each chunk's first token by BOS when the vocabulary adds one, we
 * put the tokenizer's prefix tokens there ({@code [gMASK]<sop>} for GLM, BOS for Llama, nothing for Qwen).
 */
public final class ImatrixCollector {

    /**
     * @param context       tokens per chunk (llama-imatrix {@code -c}, its default 512)
     * @param firstChunk    chunks to skip at the start ({@code --chunk})
     * @param maxChunks     chunks to process at most, or -1 for all ({@code --chunks})
     * @param processOutput also collect {@code output.weight} ({@code --process-output})
     */
    public record Settings(int context, int firstChunk, int maxChunks, boolean processOutput) {
        public Settings {
            if (context < 2) throw new IllegalArgumentException("-c/--ctx (tokens per chunk) must be at least 2, got " + context);
            if (firstChunk < 0) throw new IllegalArgumentException("--chunk must be >= 0, got " + firstChunk);
            if (maxChunks == 0 || maxChunks < -1) throw new IllegalArgumentException("--chunks must be positive (or -1 for all), got " + maxChunks);
        }
    }

    /** Told after each chunk. */
    @FunctionalInterface
    public interface Progress {
        void chunkDone(int done, int total, long nanos);
    }

    private ImatrixCollector() {
    }

    /** Loads {@code model} with statistics hooks and runs {@code text} through it. */
    public static ImportanceMatrix collect(Path model, String text, String datasetName, Settings settings, Progress progress) {
        ActivationStatistics stats = new ActivationStatistics();
        try (LanguageModel m = ModelLoader.load(model, LoadOptions.defaults().withDecorator(stats))) {
            int context = Math.min(settings.context(), m.config().contextLength());
            int[] prefix = m.tokenizer().prefixTokens();
            if (prefix.length >= context) throw new IllegalArgumentException("-c/--ctx " + context + " leaves no room after the prefix tokens");
            int[] tokens = m.tokenizer().encode(text, false);
            int perChunk = context - prefix.length;
            int available = tokens.length / perChunk - settings.firstChunk();
            if (available < 1) {
                throw new IllegalArgumentException("--text has " + tokens.length + " tokens: not enough for " + (settings.firstChunk() + 1)
                        + " chunk(s) of " + context + " tokens (use a longer text or a smaller -c)");
            }
            int chunks = settings.maxChunks() < 0 ? available : Math.min(available, settings.maxChunks());
            int[] chunk = new int[context];
            System.arraycopy(prefix, 0, chunk, 0, prefix.length);
            for (int c = 0; c < chunks; c++) {
                long t0 = System.nanoTime();
                System.arraycopy(tokens, (settings.firstChunk() + c) * perChunk, chunk, prefix.length, perChunk);
                InferenceState state = m.newState(context);
                // All logits only when the output head is collected: otherwise it runs for the last token alone.
                m.forward(state, chunk, 0, context, settings.processOutput());
                if (progress != null) progress.chunkDone(c + 1, chunks, System.nanoTime() - t0);
            }
            return fromStatistics(stats,
                    name -> name.startsWith("blk.") || (settings.processOutput() && name.equals("output.weight")),
                    List.of(datasetName), chunks, context);
        }
    }

    /**
     * From collected statistics: the projections whose names pass {@code include}, sums and token counts as floats
     * (imatrix.cpp stores them as F32).
     */
    public static ImportanceMatrix fromStatistics(ActivationStatistics stats, Predicate<String> include, List<String> datasets,
                                                  int chunkCount, int chunkSize) {
        Map<String, ImportanceMatrix.Entry> entries = new TreeMap<>();
        for (String name : stats.names()) {
            if (!include.test(name)) continue;
            double[] s = stats.sumOfSquares(name);
            float[] sums = new float[s.length];
            for (int i = 0; i < s.length; i++) sums[i] = (float) s[i];
            entries.put(name, new ImportanceMatrix.Entry(sums, new float[]{stats.rows(name)}));
        }
        return new ImportanceMatrix(datasets, chunkCount, chunkSize, entries, false);
    }
}
