package ai.autoglm.core.memory;

import java.util.Locale;

/**
 * The resident memory a model needs at run time, by part.
 *
 * @param weightBytes   the weight tensors in their storage types, plus the heap copies of 1-D tensors
 * @param kvCacheBytes  keys and values of every slot for its whole context
 * @param workingBytes  scratch activations, attention scores and logits of every slot, and the batch buffers
 * @param overheadBytes the JVM itself (heap bookkeeping, young generation, JIT code, metaspace, the tokenizer, the HTTP server): {@link ProcessKind#overheadBytes()} of the process
 */
public record MemoryEstimate(long weightBytes, long kvCacheBytes, long workingBytes, long overheadBytes) {
    public long totalBytes() {
        return weightBytes + kvCacheBytes + workingBytes + overheadBytes;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.1f MiB (weights %.1f + KV cache %.1f + buffers %.1f + JVM %.1f)",
                mib(totalBytes()), mib(weightBytes), mib(kvCacheBytes), mib(workingBytes), mib(overheadBytes));
    }

    static double mib(long bytes) {
        return bytes / 1048576.0;
    }
}
