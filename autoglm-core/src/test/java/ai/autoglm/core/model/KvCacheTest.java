package ai.autoglm.core.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The off-heap KV cache of each K/V type against a scalar reference written here from the GGML block definitions
 * (ggml-common.h block_q8_0 / block_q4_0, ggml-quants.c quantize_row_*_ref and dequantize_row_*): each stored row
 * read back equals the reference's quantize-then-dequantize, and one head's attention ({@link CacheAttention}, the
 * Vector API kernels) equals a double-precision attention over the reference's values.
 */
class KvCacheTest {
    static final int LAYERS = 2, HEAD_DIM = 32, KV_HEADS = 2, KV_DIM = HEAD_DIM * KV_HEADS;

    static List<KvCacheTypes> typePairs() {
        List<KvCacheTypes> out = new ArrayList<>();
        for (KvCacheType k : KvCacheType.values()) for (KvCacheType v : KvCacheType.values()) out.add(new KvCacheTypes(k, v));
        return out;
    }

    // ---- the reference: one row quantized and dequantized, as the GGML definitions say, in plain scalar code

    static float[] reference(KvCacheType type, float[] x) {
        float[] out = new float[x.length];
        switch (type) {
            case F32 -> System.arraycopy(x, 0, out, 0, x.length);
            case F16 -> { for (int i = 0; i < x.length; i++) out[i] = Float.float16ToFloat(Float.floatToFloat16(x[i])); }
            case Q8_0 -> {
                for (int b = 0; b < x.length; b += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]));
                    float d = amax / 127f;
                    float id = d == 0 ? 0 : 1f / d;
                    float dh = Float.float16ToFloat(Float.floatToFloat16(d)); // the block scale is stored as a half
                    for (int j = 0; j < 32; j++) {
                        float v = x[b + j] * id;
                        int q = (int) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5)); // C roundf
                        out[b + j] = q * dh;
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < x.length; b += 32) {
                    float amax = 0, max = 0;
                    for (int j = 0; j < 32; j++) {
                        if (Math.abs(x[b + j]) > amax) {
                            amax = Math.abs(x[b + j]);
                            max = x[b + j];
                        }
                    }
                    float d = max / -8f;
                    float id = d == 0 ? 0 : 1f / d;
                    float dh = Float.float16ToFloat(Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) {
                        int q = Math.min(15, (byte) (int) (x[b + j] * id + 8.5f)); // nibble, stored with offset 8
                        out[b + j] = (q - 8) * dh;
                    }
                }
            }
        }
        return out;
    }

    static float[] random(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    @ParameterizedTest
    @MethodSource("typePairs")
    void rowsReadBackAsTheReferenceAndAttentionMatchesAScalarDoubleAttention(KvCacheTypes types) {
        int positions = 600; // three chunks, the last partial
        Random r = new Random(types.hashCode());
        KvCache cache = new KvCache(LAYERS, 700, KV_DIM, HEAD_DIM, types);
        float[][][] refK = new float[LAYERS][positions][], refV = new float[LAYERS][positions][];
        for (int p = 0; p < positions; p++) {
            for (int l = 0; l < LAYERS; l++) {
                float[] k = random(r, KV_DIM, 1.5f), v = random(r, KV_DIM, 0.7f);
                cache.store(l, p, k, 0, v, 0);
                refK[l][p] = reference(types.keys(), k);
                refV[l][p] = reference(types.values(), v);
            }
        }
        // rows read back through the tensor views (the dequantizers)
        float[] row = new float[KV_DIM];
        for (int l = 0; l < LAYERS; l++) {
            for (int p = 0; p < positions; p += 37) {
                int c = p / cache.chunkPositions(), j = p % cache.chunkPositions();
                cache.keys(l, c).copyTo((long) j * KV_DIM, row, 0, KV_DIM);
                assertThat(row).as("key row %d of layer %d, %s", p, l, types).containsExactly(refK[l][p]);
                cache.values(l, c).copyTo((long) j * KV_DIM, row, 0, KV_DIM);
                assertThat(row).as("value row %d of layer %d, %s", p, l, types).containsExactly(refV[l][p]);
            }
        }
        // one head's attention over 1, 255, 256, 257 and 600 positions against double precision over the reference rows
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        for (int len : new int[]{1, 255, 256, 257, 600}) {
            for (int kvHead = 0; kvHead < KV_HEADS; kvHead++) {
                int layer = len % LAYERS, kvOff = kvHead * HEAD_DIM;
                float[] q = random(r, HEAD_DIM, 1f);
                float[] out = new float[HEAD_DIM + 3];
                CacheAttention.attendHead(cache, layer, len, kvOff, q, 0, HEAD_DIM, scale, new float[len + 5], 5,
                        new float[HEAD_DIM + 1], 1, out, 3);
                double[] s = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < len; p++) {
                    double dot = 0;
                    for (int i = 0; i < HEAD_DIM; i++) dot += (double) q[i] * refK[layer][p][kvOff + i];
                    s[p] = dot * scale;
                    max = Math.max(max, s[p]);
                }
                double sum = 0;
                for (int p = 0; p < len; p++) sum += s[p] = Math.exp(s[p] - max);
                for (int i = 0; i < HEAD_DIM; i++) {
                    double expected = 0;
                    for (int p = 0; p < len; p++) expected += s[p] / sum * refV[layer][p][kvOff + i];
                    assertThat((double) out[3 + i]).as("%s len %d kv head %d dim %d", types, len, kvHead, i)
                            .isCloseTo(expected, org.assertj.core.data.Offset.offset(2e-5 + 2e-5 * Math.abs(expected)));
                }
            }
        }
        cache.close();
    }

    @Test
    void storageGrowsInChunksAndIsFreedOnClose() {
        KvCacheTypes q8 = new KvCacheTypes(KvCacheType.Q8_0, KvCacheType.F16);
        KvCache cache = new KvCache(LAYERS, 1000, KV_DIM, HEAD_DIM, q8);
        assertThat(cache.bytes()).isZero();
        float[] row = new float[KV_DIM];
        cache.store(0, 0, row, 0, row, 0);
        long perChunk = 256L * LAYERS * (2 * 34 + KV_DIM * 2); // q8_0: 2 blocks of 34 bytes; f16: 2 bytes an element
        assertThat(cache.bytes()).isEqualTo(perChunk);
        cache.store(1, 255, row, 0, row, 0);
        assertThat(cache.bytes()).isEqualTo(perChunk);
        cache.store(0, 256, row, 0, row, 0);
        assertThat(cache.bytes()).isEqualTo(2 * perChunk);
        cache.store(0, 999, row, 0, row, 0); // chunks are independent: the last one alone
        assertThat(cache.bytes()).isEqualTo(3 * perChunk);
        ModelConfig c = ModelConfig.fromHfConfig(ai.autoglm.core.testing.ModelFixtures.hfConfig(
                ai.autoglm.core.testing.ModelFixtures.llama().withDims(128, 4, KV_HEADS, 256)));
        assertThat(c.kvDim()).isEqualTo(KV_DIM);
        assertThat(KvCache.bytesFor(c, q8, 1000, 1000)).isEqualTo(4 * perChunk);
        assertThat(KvCache.bytesFor(c, q8, 257, 1000)).isEqualTo(2 * perChunk);
        assertThatThrownBy(() -> cache.store(0, 1000, row, 0, row, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        cache.close();
        assertThat(cache.bytes()).isZero();
        assertThatThrownBy(() -> cache.keys(0, 0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> cache.store(0, 1, row, 0, row, 0)).isInstanceOf(IllegalStateException.class);
        cache.close(); // idempotent
    }

    @Test
    void typesAreParsedByTheirLlamaCppNamesWithOneClearError() {
        assertThat(KvCacheType.parse("q8_0")).isEqualTo(KvCacheType.Q8_0);
        assertThat(KvCacheType.parse("F16")).isEqualTo(KvCacheType.F16);
        assertThatThrownBy(() -> KvCacheType.parse("q5_1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown KV cache type 'q5_1', expected one of f32, f16, q8_0, q4_0");
        assertThatThrownBy(() -> new KvCache(1, 10, 48, 16, new KvCacheTypes(KvCacheType.F16, KvCacheType.Q4_0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--cache-type-v q4_0 needs a head dimension that is a multiple of 32, this model's is 16");
    }
}
