package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGML_TYPE_Q5_K (block_q5_K, 176 bytes per 256 elements):
 * {@code ggml_half d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]}. Like Q4_K plus a fifth bit:
 * element l of sub-block s takes bit s of qh[l] (ggml-quants.c dequantize_row_q5_K, masks u1/u2 shifted by 2
 * per 64-element chunk). value = (d * sc) * q - (dmin * m).
 */
public final class Q5_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 176;

    Q5_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int c = e >>> 6, within = e & 63, l = within & 31;
        boolean high = within >= 32;
        int sub = 2 * c + (high ? 1 : 0);
        int sm = Q4_KTensor.scaleMin(data, base + 4, sub);
        float d = half(base) * (sm & 0xFF);
        float m = half(base + 2) * (sm >>> 8);
        int ql = u8(base + 48 + 32 * c + l);
        int q = (high ? ql >>> 4 : ql & 0x0F) + (((u8(base + 16 + l) >>> sub) & 1) << 4);
        return d * q - m;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base), min = half(base + 2);
        int o = outOffset;
        for (int c = 0; c < 4; c++) {
            int sm1 = Q4_KTensor.scaleMin(data, base + 4, 2 * c), sm2 = Q4_KTensor.scaleMin(data, base + 4, 2 * c + 1);
            float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >>> 8);
            float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >>> 8);
            long qs = base + 48 + 32 * c;
            for (int l = 0; l < 32; l++) {
                int qh = u8(base + 16 + l);
                int ql = u8(qs + l);
                out[o + l] = d1 * ((ql & 0x0F) + (((qh >>> (2 * c)) & 1) << 4)) - m1;
                out[o + 32 + l] = d2 * ((ql >>> 4) + (((qh >>> (2 * c + 1)) & 1) << 4)) - m2;
            }
            o += 64;
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ5_K(data, firstBlock, nBlocks, x, xOffset);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorDequantizers.q5_K(data, firstBlock, nBlocks, out, outOffset);
    }

    /** The block scales as the decode kernel reads them ({@link KQuantScales}), built by the first {@link #prepare}. */
    private final KQuantScales.Lazy scalesMins = new KQuantScales.Lazy(() -> KQuantScales.q4or5(data, size / 256, BLOCK_BYTES));

    /** x for {@link VectorKernels#dotQ5_KPrepared} (see {@link KQuantPrepare}); on the Vector API path only. */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || !KQuantPrepare.prepare(x, xOff, n, into, false)) return false;
        scalesMins.get(); // built once, here rather than in the first dot
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return VectorKernels.dotQ5_KPrepared(data, scalesMins.get(), offset / 256, v.n / 256, v.values, 4L * v.n);
    }
}
