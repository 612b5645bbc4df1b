package ai.autoglm.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GGML_TYPE_Q6_K (block_q6_K, 210 bytes per 256 elements):
 * {@code uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d}. Each 128-element half h uses
 * ql[64h ..], qh[32h ..] and scales[8h ..]; within it, group g (0..3) of 32 elements takes the low (g < 2) or
 * high nibble of ql[l + 32 * (g & 1)] and bits 2g..2g+1 of qh[l]; 16 elements share one int8 scale.
 * value = (d * scale) * (q - 32) (ggml-quants.c dequantize_row_q6_K).
 */
public final class Q6_KTensor extends SegmentTensor {
    static final int BLOCK_BYTES = 210;

    Q6_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public float getFloat(long index) {
        long base = (index >>> 8) * BLOCK_BYTES;
        int e = (int) (index & 255);
        int h = e >>> 7, r = e & 127, g = r >>> 5, l = r & 31;
        int ql = u8(base + 64 * h + l + 32 * (g & 1));
        int low = g < 2 ? ql & 0x0F : ql >>> 4;
        int high = (u8(base + 128 + 32 * h + l) >>> (2 * g)) & 3;
        int q = (low | (high << 4)) - 32;
        int sc = data.get(ValueLayout.JAVA_BYTE, base + 192 + 8 * h + (l >>> 4) + 2 * g);
        return half(base + 208) * sc * q;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BLOCK_BYTES;
        float d = half(base + 208);
        for (int h = 0; h < 2; h++) {
            long ql = base + 64 * h, qh = base + 128 + 32 * h, sc = base + 192 + 8 * h;
            int o = outOffset + 128 * h;
            for (int l = 0; l < 32; l++) {
                int is = l >>> 4;
                int a = u8(ql + l), b = u8(ql + l + 32), hb = u8(qh + l);
                int q1 = ((a & 0x0F) | ((hb & 3) << 4)) - 32;
                int q2 = ((b & 0x0F) | (((hb >>> 2) & 3) << 4)) - 32;
                int q3 = ((a >>> 4) | (((hb >>> 4) & 3) << 4)) - 32;
                int q4 = ((b >>> 4) | (((hb >>> 6) & 3) << 4)) - 32;
                out[o + l] = d * data.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                out[o + l + 32] = d * data.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                out[o + l + 64] = d * data.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                out[o + l + 96] = d * data.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return VectorKernels.dotQ6_K(data, firstBlock, nBlocks, x, xOffset);
    }

    /** Whole blocks by the Vector API (the small-batch and prefill GEMMs' panels), bit-identical to {@link #dequantizeBlock}. */
    @Override
    void vectorDequantize(long firstBlock, int nBlocks, float[] out, int outOffset) {
        VectorDequantizers.q6_K(data, firstBlock, nBlocks, out, outOffset);
    }

    /** The block scales as the decode kernel reads them ({@link KQuantScales}), built by the first {@link #prepare}. */
    private final KQuantScales.Lazy scales = new KQuantScales.Lazy(() -> KQuantScales.q6(data, size / 256));

    /** x for {@link VectorKernels#dotQ6_KPrepared} (see {@link KQuantPrepare}); on the Vector API path only. */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath() || !KQuantPrepare.prepare(x, xOff, n, into, true)) return false;
        scales.get(); // built once, here rather than in the first dot
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return VectorKernels.dotQ6_KPrepared(data, scales.get(), offset / 256, v.n / 256, v.values, 4L * v.n);
    }
}
