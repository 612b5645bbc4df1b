package ai.autoglm.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static ai.autoglm.core.tensor.VectorKernels.F;
import static ai.autoglm.core.tensor.VectorKernels.FLOAT_LANES;
import static ai.autoglm.core.tensor.VectorKernels.I;
import static ai.autoglm.core.tensor.VectorKernels.S;
import static ai.autoglm.core.tensor.VectorKernels.LE;
import static ai.autoglm.core.tensor.VectorKernels.sum4;
import static ai.autoglm.core.tensor.VectorKernels.f16;

/** GGML_TYPE_F16: little-endian IEEE 754 binary16 (ggml_half), one per element. */
public final class F16Tensor extends SegmentTensor {
    F16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float getFloat(long index) {
        return half(index * 2);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = getFloat(block);
    }

    @Override
    float dotScalar(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += half((offset + i) * 2) * x[xOffset + i];
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        if (vectorPath()) {
            Kernels.copyF16(data, offset, n, out, outOffset);
            return;
        }
        for (int i = 0; i < n; i++) out[outOffset + i] = half((offset + i) * 2);
    }

    /** Whether no element is Inf or NaN: 0 not known yet, 1 yes, 2 no. Found once, by the first {@link #prepare}. */
    private volatile int finite;

    /**
     * x copied to an aligned segment for {@link Kernels#dotFiniteF16}, whose short half conversion is only
     * right for finite halves: the first call scans the whole tensor once (memory speed), and a tensor holding an
     * Inf or NaN keeps the exact conversion of {@link #dot}.
     */
    @Override
    public boolean prepare(float[] x, int xOff, int n, PreparedVector into) {
        if (!vectorPath()) return false;
        if (finite == 0) finite = Kernels.allFiniteF16(data, size) ? 1 : 2;
        if (finite != 1) return false;
        into.copy(x, xOff, n);
        return true;
    }

    @Override
    public float dotPrepared(long offset, PreparedVector v) {
        return Kernels.dotFiniteF16(data, offset, v.n, v.values);
    }

    @Override
    float vectorDot(long firstBlock, int nBlocks, float[] x, int xOffset) {
        return Kernels.dotF16(data, firstBlock, nBlocks, x, xOffset);
    }

    @Override
    void vectorDot4(long firstBlock, int nBlocks, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride) {
        VectorKernels.dot4Plain(this, GgmlType.F16, firstBlock, nBlocks, x, xOffset, xStride, out, outOffset, outStride);
    }

    /**
     * This type's Vector API kernels: the decode dot(s) and the dequantizer of the GEMM panels, beside the block
     * layout and scalar decode above. A nested class so that loading this tensor class never loads a Vector API
     * class (a JVM without jdk.incubator.vector runs the scalar paths: {@link VectorSupport}); only called when
     * {@link VectorSupport#ENABLED}. Shared helpers and the design notes: {@link VectorKernels}.
     */
    static final class Kernels {
        private Kernels() {
        }

        /**
         * binary16 to binary32 without a lookup table: shifting exponent+mantissa left by 13 gives a float whose
         * value is the half's times 2^-112 (subnormals included), so one multiply by 2^112 rescales it; Inf/NaN
         * (exponent 31) instead get the all-ones float exponent; the sign bit is OR-ed back last. (JDK 25's
         * VectorOperators has no half-to-float conversion, so there is no way to reach vcvtph2ps.)
         */
        static float dotF16(MemorySegment seg, long first, int n, float[] x, int xo) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int upper = F.loopBound(n), i = 0;
            for (; i < upper; i += FLOAT_LANES) {
                FloatVector a = f16(seg, first + i).fma(FloatVector.fromArray(F, x, xo + i), a0);
                a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
            }
            float sum = sum4(a0, a1, a2, a3);
            for (; i < n; i++) sum += VectorKernels.half(seg, (first + i) * 2) * x[xo + i];
            return sum;
        }

        /**
         * F16 rows of finite halves only (see {@link F16Tensor#prepare}) against x from an aligned {@link PreparedVector}
         * segment: without Inf/NaN the conversion is four operations (see {@link #finiteHalfToFloat}) instead of eight.
         */
        static float dotFiniteF16(MemorySegment seg, long first, int n, MemorySegment xs) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int upper = F.loopBound(n), i = 0;
            for (; i < upper; i += FLOAT_LANES) {
                FloatVector w = finiteHalfToFloat(ShortVector.fromMemorySegment(S, seg, (first + i) * 2, LE));
                FloatVector a = w.fma(FloatVector.fromMemorySegment(F, xs, 4L * i, LE), a0);
                a0 = a1; a1 = a2; a2 = a3; a3 = a; // rotate: consecutive FMAs go to different chains
            }
            float sum = sum4(a0, a1, a2, a3);
            for (; i < n; i++) sum += VectorKernels.half(seg, (first + i) * 2) * xs.get(SegmentTensor.FLOAT_LE, 4L * i);
            return sum;
        }

        /**
         * binary16 to binary32 for finite halves: the sign-extended half shifted left by 13 has the sign in bit 31
         * (and copies of it in bits 28-30, cleared by the mask) and exponent+mantissa in bits 13-27, a float whose
         * value is the half's times 2^-112 (subnormals included); one multiply by 2^112 rescales it, sign and all.
         * An Inf/NaN half would come out as a finite float of magnitude 2^16 or more.
         */
        private static FloatVector finiteHalfToFloat(ShortVector h) {
            return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats().mul(0x1p112f);
        }

        /** Whether no half in {@code [0, n)} has the exponent 31 (Inf or NaN). */
        static boolean allFiniteF16(MemorySegment seg, long n) {
            VectorSpecies<Short> s = ShortVector.SPECIES_PREFERRED;
            long upper = n - n % s.length(), i = 0;
            for (; i < upper; i += s.length()) {
                if (ShortVector.fromMemorySegment(s, seg, i * 2, LE).and((short) 0x7C00).eq((short) 0x7C00).anyTrue()) return false;
            }
            for (; i < n; i++) if ((seg.get(SegmentTensor.SHORT_LE, i * 2) & 0x7C00) == 0x7C00) return false;
            return true;
        }

        /** Halves {@code [first, first + n)} to floats in {@code out[oo ..]}. */
        static void copyF16(MemorySegment seg, long first, int n, float[] out, int oo) {
            int upper = F.loopBound(n), i = 0;
            for (; i < upper; i += FLOAT_LANES) f16(seg, first + i).intoArray(out, oo + i);
            for (; i < n; i++) out[oo + i] = VectorKernels.half(seg, (first + i) * 2);
        }
    }
}
