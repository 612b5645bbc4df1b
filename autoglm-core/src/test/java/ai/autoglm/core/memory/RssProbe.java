package ai.autoglm.core.memory;

import ai.autoglm.core.model.InferenceState;
import ai.autoglm.core.model.KvCache;
import ai.autoglm.core.model.KvCacheTypes;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;

import java.nio.file.Path;

/**
 * Child-JVM entry point of {@link MemoryModelRssTest}: prints VmRSS when the JVM has started, then after loading the
 * model given as args[0], allocating one sequence of args[1] positions and running one token, then the memory
 * model's estimate for the same (its KV cache holding the one chunk a token allocates), one "key value" per line.
 */
public final class RssProbe {
    public static void main(String[] args) {
        long start = ProcessMemory.residentBytes();
        int context = Integer.parseInt(args[1]);
        try (LanguageModel m = ModelLoader.load(Path.of(args[0]))) {
            InferenceState s = m.newState(context);
            m.forward(s, new int[]{1}, 0, 1, false);
            long after = ProcessMemory.residentBytes();
            MemoryEstimate e = MemoryModel.forSingleSequence(ProcessKind.ENGINE, m.config(), TensorSpec.of(((TransformerModel) m).weights()), context);
            // The KV cache is allocated in chunks as positions are written: one token holds its first chunk only.
            long estimate = e.totalBytes() - e.kvCacheBytes() + KvCache.bytesFor(m.config(), KvCacheTypes.DEFAULT, 1, context);
            System.out.println("start " + start);
            System.out.println("after " + after);
            System.out.println("estimate " + estimate);
            System.out.println("overhead " + e.overheadBytes());
            System.out.println("model " + (estimate - e.overheadBytes()));
            System.out.println("hwm " + ProcessMemory.peakResidentBytes());
            if (s.position() != 1) throw new AssertionError();
        }
    }
}
