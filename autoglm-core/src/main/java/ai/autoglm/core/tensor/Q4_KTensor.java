package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q4_K (ggml-common.h block_q4_K, 144 bytes per 256 elements):
 * {@code ggml_half d, dmin; uint8_t scales[12]; uint8_t qs[128]}. Eight sub-blocks of 32 elements, each with
 * a 6-bit scale and 6-bit min packed in {@code scales} (get_scale_min_k4). Each 64-element chunk c uses 32
 * bytes of qs: its first 32 elements are the low nibbles (sub-block 2c), the next 32 the high nibbles
 * (sub-block 2c+1). value = (d * sc) * q - (dmin * m) (ggml-quants.c dequantize_row_q4_K).
 */
public final class Q4_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 144;

    Q4_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /** get_scale_min_k4: 6-bit scale (low byte of the result) and min (next byte) of sub-block j. */
    static int scaleMin(MemorySegment data, long scalesAt, int j) {
        return scaleMin(data.get(LONG_LE, scalesAt), data.get(INT_LE, scalesAt + 8), j);
    }

    /**
     * get_scale_min_k4 over the 12 scale bytes loaded as {@code lo} (bytes 0-7) and {@code hi} (bytes 8-11):
     * two loads instead of up to four byte loads per sub-block. The vector kernels depend on this: every
     * MemorySegment access adds many C2 nodes before optimisation, and byte-wise scale reads pushed the K-quant
     * kernels past C2's inlining node budget, so their vector helpers were not inlined and boxed every vector.
     */
    static int scaleMin(long lo, int hi, int j) {
        int sc, m;
        if (j < 4) {
            sc = (int) (lo >>> (8 * j)) & 63;
            m = (int) (lo >>> (8 * j + 32)) & 63;
        } else {
            int b = (hi >>> (8 * (j - 4))) & 0xFF;
            sc = (b & 0x0F) | (((int) (lo >>> (8 * (j - 4) + 6)) & 3) << 4);
            m = (b >>> 4) | (((int) (lo >>> (8 * j + 6)) & 3) << 4);
        }
        return sc | (m << 8);
    }

    static int u8(MemorySegment data, long at) {
        return data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int c = e >>> 6, within = e & 63, l = within & 31;
        boolean high = within >= 32;
        int sm = scaleMin(data, base + 4, 2 * c + (high ? 1 : 0));
        float d = half(base) * (sm & 0xFF);
        float m = half(base + 2) * (sm >>> 8);
        int q = u8(base + 16 + 32 * c + l);
        return d * (high ? q >>> 4 : q & 0x0F) - m;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base), min = half(base + 2);
        int o = outOffset;
        for (int c = 0; c < 4; c++) {
            int sm1 = scaleMin(data, base + 4, 2 * c), sm2 = scaleMin(data, base + 4, 2 * c + 1);
            float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >>> 8);
            float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >>> 8);
            long qs = base + 16 + 32 * c;
            for (int l = 0; l < 32; l++) out[o + l] = d1 * (u8(qs + l) & 0x0F) - m1;
            for (int l = 0; l < 32; l++) out[o + 32 + l] = d2 * (u8(qs + l) >>> 4) - m2;
            o += 64;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ4_K(data, firstBlock, nBlocks, x, xOffset);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorDequantizers.q4_K(data, firstBlock, nBlocks, out, outOffset);
    }

    /** The block scales as the decode kernel reads them ({@link KQuantScales}), built by the first {@link #prepare}. */
    private final KQuantScales.Lazy scalesMins = new KQuantScales.Lazy(() -> KQuantScales.q4or5(data, size / 256, BLOCK_BYTES));

    /** x for {@link VectorKernels#dotQ4_KPrepared} (see {@link KQuantPrepare}); on the Vector API path only. */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || !KQuantPrepare.prepare(x, xOff, n, into, false)) return false;
        scalesMins.get(); // built once, here rather than in the first dot
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return VectorKernels.dotQ4_KPrepared(data, scalesMins.get(), offset / 256, v.n / 256, v.values, 4L * v.n);
    }
}
