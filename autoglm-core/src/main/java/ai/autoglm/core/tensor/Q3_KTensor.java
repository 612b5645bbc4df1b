package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q3_K (ggml-common.h block_q3_K, 110 bytes per 256 elements):
 * {@code uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; ggml_half d}. Sixteen groups of 16 elements with a
 * 6-bit scale each, stored offset by 32: the low 4 bits of scale s in scales[s] (s < 8, low nibble) or scales[s - 8]
 * (high nibble), the top 2 bits at bits 2(s / 4) of scales[8 + s % 4] (the aux[] shuffle of dequantize_row_q3_K).
 * Element e: half n = e / 128, r = e % 128, j = r / 32: low 2 bits are bits 2j.. of qs[32n + r % 32], the third bit
 * is bit 4n + j of hmask[r % 32], and when it is clear the value is 4 lower. value = d * (scale - 32) * (q - (h ? 0 : 4))
 * (ggml-quants.c dequantize_row_q3_K).
 *
 * <p>Read so that Q3_K_M files load; the dot is the block decoder plus a float dot, correct but not tuned.
 */
public final class Q3_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 110;

    Q3_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q3_K;
    }

    /** The 6-bit scale s (0..15) of the block at {@code base}, minus 32. */
    private int scale(long base, int s) {
        int low = s < 8 ? u8(base + 96 + s) & 15 : u8(base + 96 + s - 8) >>> 4;
        int high = (u8(base + 104 + (s & 3)) >>> (2 * (s >>> 2))) & 3;
        return (low | (high << 4)) - 32;
    }

    private float element(long base, float d, int e) {
        int n = e >>> 7, r = e & 127, j = r >>> 5, l = r & 31;
        int q = (u8(base + 32 + 32 * n + l) >>> (2 * j)) & 3;
        boolean h = (u8(base + l) & (1 << (4 * n + j))) != 0;
        return d * scale(base, 8 * n + (r >>> 4)) * (q - (h ? 0 : 4));
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        return element(base, half(base + 108), (int) (index & 255));
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base + 108);
        for (int e = 0; e < 256; e++) out[outOffset + e] = element(base, d, e);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return KQuantBlocks.dotByBlocks(this, firstBlock, nBlocks, x, xOffset);
    }
}
