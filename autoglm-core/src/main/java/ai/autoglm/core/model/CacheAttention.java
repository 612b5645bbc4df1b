package ai.autoglm.core.model;

import ai.autoglm.core.tensor.AttentionKernels;
import ai.autoglm.core.tensor.FloatTensor;
import ai.autoglm.core.tensor.SegmentTensor;

import java.lang.foreign.MemorySegment;

/**
 * One query head's causal attention over a {@link KvCache}: softmax of {@code q·k / sqrt(d)} over positions
 * {@code [0, len)}, then the probability-weighted sum of the value rows. Keys and values are read chunk by chunk in
 * their stored types: q·k is {@link FloatTensor#dot} (the Vector API kernels of the weights, on whole GGML blocks
 * since a head's slice of a row starts on a block), a value row is dequantized ({@link FloatTensor#copyTo}, vector
 * dequantizers) into a head-sized scratch and added with a vector fma ({@link AttentionKernels#axpy}). F32 rows (the
 * default) go straight from the segment through {@link AttentionKernels#dotF32} / {@link AttentionKernels#axpyF32}.
 */
final class CacheAttention {
    private CacheAttention() {
    }

    /**
     * @param kvOff  the KV head's offset within a row ({@code kvHead * headDim})
     * @param scores {@code len} floats from {@code sc}: scratch for the scores, left holding the unnormalised exps
     * @param vrow   {@code hd} floats from {@code vrowOff}: scratch for one dequantized value row
     * @param out    receives the {@code hd} outputs at {@code outOff}
     */
    static void attendHead(KvCache cache, int layer, int len, int kvOff, float[] q, int qOff, int hd, float scale,
                           float[] scores, int sc, float[] vrow, int vrowOff, float[] out, int outOff) {
        int chunk = cache.chunkPositions(), kvDim = cache.kvDim();
        boolean f32Keys = cache.types().keys() == KvCacheType.F32, f32Values = cache.types().values() == KvCacheType.F32;
        float max = Float.NEGATIVE_INFINITY;
        for (int c0 = 0, ci = 0; c0 < len; c0 += chunk, ci++) {
            FloatTensor keys = cache.keys(layer, ci);
            int end = Math.min(chunk, len - c0);
            if (f32Keys) {
                MemorySegment seg = ((SegmentTensor) keys).segment();
                for (int j = 0; j < end; j++) {
                    float score = AttentionKernels.dotF32(seg, 4L * ((long) j * kvDim + kvOff), q, qOff, hd) * scale;
                    scores[sc + c0 + j] = score;
                    if (score > max) max = score;
                }
                continue;
            }
            for (int j = 0; j < end; j++) {
                float score = keys.dot((long) j * kvDim + kvOff, q, qOff, hd) * scale;
                scores[sc + c0 + j] = score;
                if (score > max) max = score;
            }
        }
        float sum = 0f;
        for (int p = 0; p < len; p++) {
            float e = (float) Math.exp(scores[sc + p] - max);
            scores[sc + p] = e;
            sum += e;
        }
        float inv = 1f / sum;
        java.util.Arrays.fill(out, outOff, outOff + hd, 0f);
        for (int c0 = 0, ci = 0; c0 < len; c0 += chunk, ci++) {
            FloatTensor values = cache.values(layer, ci);
            int end = Math.min(chunk, len - c0);
            if (f32Values) {
                MemorySegment seg = ((SegmentTensor) values).segment();
                for (int j = 0; j < end; j++) {
                    AttentionKernels.axpyF32(scores[sc + c0 + j] * inv, seg, 4L * ((long) j * kvDim + kvOff), out, outOff, hd);
                }
                continue;
            }
            for (int j = 0; j < end; j++) {
                values.copyTo((long) j * kvDim + kvOff, vrow, vrowOff, hd);
                AttentionKernels.axpy(scores[sc + c0 + j] * inv, vrow, vrowOff, out, outOff, hd);
            }
        }
    }
}
