package ai.autoglm.core.tensor;

/**
 * The kernels attention needs besides {@link FloatTensor#dot} (q·k over the cache's key rows in their GGML layout):
 * the weighted sum of value rows, {@code out += a * v}, and for F32 rows (the default cache) q·k and the weighted sum
 * read straight from the segment by static, self-contained kernels, which keep their vector temporaries in registers
 * even where other classes have made the {@code FloatTensor} call sites megamorphic (DecodeAllocationTest). Vector API when {@link VectorSupport#ENABLED},
 * otherwise the scalar loop, so {@link VectorKernels} is never loaded on a JVM without the incubator module.
 */
public final class AttentionKernels {
    private AttentionKernels() {
    }

    /** {@code y[yo + i] += a * x[xo + i]} for {@code i < n}. */
    public static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        if (VectorSupport.ENABLED) {
            VectorKernels.axpy(a, x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    /** Dot of {@code n} F32 values at byte {@code byteOff} of {@code seg} (native) with {@code q[qo ..]}. */
    public static float dotF32(java.lang.foreign.MemorySegment seg, long byteOff, float[] q, int qo, int n) {
        if (VectorSupport.ENABLED) return VectorKernels.dotF32Rows(seg, byteOff, q, qo, n);
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += seg.get(SegmentTensor.FLOAT_LE, byteOff + 4L * i) * q[qo + i];
        return sum;
    }

    /** {@code y[yo + i] += a * row[i]} for the {@code n} F32 values at byte {@code byteOff} of {@code seg}. */
    public static void axpyF32(float a, java.lang.foreign.MemorySegment seg, long byteOff, float[] y, int yo, int n) {
        if (VectorSupport.ENABLED) {
            VectorKernels.axpyF32Row(a, seg, byteOff, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) y[yo + i] += a * seg.get(SegmentTensor.FLOAT_LE, byteOff + 4L * i);
    }
}
