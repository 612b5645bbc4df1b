package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q2_K (ggml-common.h block_q2_K, 84 bytes per 256 elements):
 * {@code uint8_t scales[16]; uint8_t qs[64]; ggml_half d, dmin}. Sixteen groups of 16 elements, each with a 4-bit
 * scale (low nibble of scales[i]) and 4-bit min (high nibble). Element e of a block: half n = e / 128 uses
 * qs[32n ..]; within it, r = e % 128 takes bits 2j..2j+1 (j = r / 32) of qs[32n + r % 32], and group
 * 8n + r / 16. value = d * (sc & 15) * q - dmin * (sc >> 4) (ggml-quants.c dequantize_row_q2_K).
 *
 * <p>Read so that Q2_K and Q3_K_M files load (llama-quantize mixes Q2_K into both); the dot is the block decoder
 * plus a float dot ({@link #vectorDot}), correct but not tuned.
 */
public final class Q2_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 84;

    Q2_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q2_K;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int n = e >>> 7, r = e & 127, j = r >>> 5;
        int sc = u8(base + 8 * n + (r >>> 4));
        int q = (u8(base + 16 + 32 * n + (r & 31)) >>> (2 * j)) & 3;
        return half(base + 80) * (sc & 15) * q - half(base + 82) * (sc >>> 4);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base + 80), min = half(base + 82);
        for (int e = 0; e < 256; e++) {
            int n = e >>> 7, r = e & 127;
            int sc = u8(base + 8 * n + (r >>> 4));
            int q = (u8(base + 16 + 32 * n + (r & 31)) >>> (2 * (r >>> 5))) & 3;
            out[outOffset + e] = d * (sc & 15) * q - min * (sc >>> 4);
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return KQuantBlocks.dotByBlocks(this, firstBlock, nBlocks, x, xOffset);
    }
}
