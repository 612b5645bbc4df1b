package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_0 (block_q4_0, 18 bytes per 32 elements): {@code ggml_half d; uint8_t qs[16]}. Element j < 16
 * is the low nibble of qs[j], element j + 16 the high nibble; value = (nibble - 8) * d
 * (ggml-quants.c dequantize_row_q4_0).
 */
public final class Q4_0Tensor extends SegmentTensor {
    static final int BLOCK_BYTES = 18;

    Q4_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 5) * BLOCK_BYTES;
        int j = (int) (index & 31);
        int q = u8(base + 2 + (j & 15));
        int nibble = j < 16 ? q & 0x0F : q >>> 4;
        return (nibble - 8) * half(base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base);
        for (int j = 0; j < 16; j++) {
            int q = u8(base + 2 + j);
            out[outOffset + j] = ((q & 0x0F) - 8) * d;
            out[outOffset + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorKernels.dequantizeQ4_0(data, firstBlock, nBlocks, out, outOffset);
    }

    /**
     * The decode kernel's form of x, per 32-element block: {@code y[j] = x[j] - x[j+16]/16} and
     * {@code z[j] = x[j+16]/16} for j < 16, and {@code -8 S / FLOAT_LANES} for the block's sum S of x. With the
     * block's bytes {@code q[j] = lo[j] + 16 hi[j]} (element j is {@code lo[j] - 8}, element j + 16 is
     * {@code hi[j] - 8}), its dot with x is {@code d * (sum lo[j] y[j] + q[j] z[j] - 8 S)}: the kernel converts the
     * whole byte and its low nibble to floats, with no shift, no high-nibble conversion and no {@code - 8} per
     * weight (-8 S, spread over the lanes, is the start value of the block's sum). Only on the Vector API path
     * and for rows of whole blocks.
     */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || n % 32 != 0) return false;
        int blocks = n / 32;
        float[] v = into.stage(n, blocks);
        for (int b = 0; b < blocks; b++) {
            int o = b * 32, xo = xOff + o;
            float sum = 0f;
            for (int j = 0; j < 16; j++) {
                float a = x[xo + j], high = x[xo + 16 + j];
                v[o + j] = a - high / 16;
                v[o + 16 + j] = high / 16;
                sum += a + high;
            }
            v[n + b] = -8 * sum / VectorKernels.FLOAT_LANES; // the kernel's start value, in every lane
        }
        into.publish();
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return VectorKernels.dotQ4_0Prepared(data, offset / 32, v.n / 32, v.values, 4L * v.n);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ4_0(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Q4_0(data, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }
}
