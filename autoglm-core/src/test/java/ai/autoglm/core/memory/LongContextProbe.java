package ai.autoglm.core.memory;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.LoadOptions;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.ModelFixtures;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Child-JVM entry point for long-context runs ({@link LongContextRssTest}, bench/long-context.sh):
 * <ul>
 *   <li>{@code write <file.gguf> <context>}: the long-context fixture ({@link #spec}), F32 weights;</li>
 *   <li>{@code run <file.gguf> <positions> <k type> <v type>}: loads it with those KV cache types, prefills
 *       {@code positions - 1} tokens in one forward call (the engine runs them in chunks of MAX_BATCH rows), then
 *       decodes the last one, and prints "key value" lines: the prefill seconds and tokens/s, VmHWM (peak resident), VmRSS
 *       before the sequence was made (after a warm-up forward on a freed sequence) and after its last token, the KV
 *       bytes allocated, and the memory model's single-sequence estimate for a context of {@code positions} (its
 *       total, and its sequence part: KV cache + working buffers).</li>
 * </ul>
 */
public final class LongContextProbe {
    /**
     * dim 128, 4 heads = 4 KV heads of 32 (whole q8_0/q4_0 blocks), 2 layers, ffn 256: the KV cache (2 KiB a position
     * at F32) outweighs the weights, so peak RSS at 32k positions is mostly the cache the memory model must predict.
     */
    public static ModelFixtures.Spec spec(int context) {
        return ModelFixtures.llama().withDims(128, 4, 4, 256).withContext(context).withSeed(7);
    }

    public static void main(String[] args) {
        if (args[0].equals("write")) {
            ModelFixtures.writeGguf(spec(Integer.parseInt(args[2])), Path.of(args[1]), GgmlType.F32);
            return;
        }
        Path file = Path.of(args[1]);
        int positions = Integer.parseInt(args[2]);
        KvCacheTypes types = KvCacheTypes.parse(args[3], args[4]);
        try (LanguageModel m = ModelLoader.load(file, LoadOptions.defaults().withKvCache(types))) {
            int[] tokens = new int[positions];
            for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7919 + 13) % 256;
            // Warm-up on a throwaway sequence, freed at once: the JIT compiles the kernels (before C2, Vector API
            // temporaries are garbage that sizes the young generation), so the growth measured next is the sequence's.
            for (int round = 0; round < 4; round++) {
                try (InferenceState warm = m.newState(Math.min(positions, 512))) {
                    m.forward(warm, tokens, 0, Math.min(positions, 512), false);
                }
            }
            System.gc();
            long before = ProcessMemory.residentBytes();
            InferenceState s = m.newState(positions);
            long t0 = System.nanoTime();
            m.forward(s, tokens, 0, positions - 1, false);
            double seconds = (System.nanoTime() - t0) / 1e9;
            m.forward(s, tokens, positions - 1, 1, false);
            long after = ProcessMemory.residentBytes();
            MemoryEstimate e = MemoryModel.forSingleSequence(ProcessKind.ENGINE, m.config(), TensorSpec.of(((TransformerModel) m).weights()), positions, types);
            System.out.println("rss_before " + before);
            System.out.println("rss_after " + after);
            System.out.println("sequence_estimate " + (e.kvCacheBytes() + e.workingBytes()));
            System.out.println("positions " + positions);
            System.out.println("kv_types " + types.keys().llamaName() + "/" + types.values().llamaName());
            System.out.println(String.format(Locale.ROOT, "prefill_seconds %.3f", seconds));
            System.out.println(String.format(Locale.ROOT, "prefill_tps %.1f", (positions - 1) / seconds));
            System.out.println("hwm " + ProcessMemory.peakResidentBytes());
            System.out.println("kv_allocated " + s.kvCache().bytes());
            System.out.println("kv_estimate " + e.kvCacheBytes());
            System.out.println("estimate " + e.totalBytes());
            System.out.println("estimate_text " + e);
        }
    }
}
